// One append larger than the broker's message.max.bytes (1 MiB by default): the adapter writes it
// in requests under the limit (found by bench/roles.bench.ts: 2 000 Pod objects of a recording in
// one append were refused with "message larger than the max message size").
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { KafkaLog } from './kafka-log.ts';

const brokers = inject('kafkaBrokers');

describe('KafkaLog.append of more than the broker takes in one request', () => {
  it('writes 4 MiB in one call, every record once, at the positions it returns', async () => {
    const log = new KafkaLog({ brokers, clientId: 'append-size' });
    const topic = `append-size-${randomUUID().slice(0, 8)}`;
    try {
      await log.ensureTopics([
        { name: topic, partitions: 3, cleanupPolicy: 'delete', retentionMs: 3_600_000 },
      ]);
      const records = Array.from({ length: 4_000 }, (_, i) => ({
        key: Buffer.from(`k${i % 7}`),
        value: Buffer.alloc(1_024, i % 251),
        headers: { n: Buffer.from(String(i)) },
      }));
      const positions = await log.append(topic, records);
      expect(positions).toHaveLength(records.length);
      const byPosition = new Map<string, number>();
      for (const p of [0, 1, 2])
        for (const r of await log.read(topic, p))
          byPosition.set(`${p}/${r.offset}`, Number(r.headers['n']!.toString()));
      expect(byPosition.size).toBe(records.length);
      positions.forEach((pos, i) => expect(byPosition.get(`${pos.partition}/${pos.offset}`)).toBe(i));
    } finally {
      await log.close();
    }
  }, 120_000);
});
