import { describe, expect, it } from 'vitest';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
} from '@hetu/schemas';
import { EmbeddedLog } from '../embedded/embedded-log.ts';
import { ProcessorRuntime } from './runtime.ts';
import { DEAD_LETTER_MAX_BYTES, avroDeadLetterEncoder } from './avro-dead-letter.ts';
import { sumProcessor } from '../contract/sum-processor.ts';

describe('Avro dead letters', () => {
  it('writes bad input to hetu.dlq as DeadLetter records with the original bytes, position, reason and headers', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    try {
      await log.ensureTopics([{ name: 'in', partitions: 1, cleanupPolicy: 'delete' }]);
      const [, bad] = await log.append('in', [
        { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 5_000 },
        {
          key: Buffer.from('a'),
          value: Buffer.from([0xff, 0x00, 0x41]),
          timestamp: 6_000,
          headers: { trace: Buffer.from('t-1') },
        },
      ]);
      const rt = new ProcessorRuntime({
        log,
        processor: sumProcessor({ name: 'sum', input: 'in', changelog: 'hetu.state.sum' }),
        encodeDeadLetter: avroDeadLetterEncoder(serde),
        now: () => 1_795_680_000_000,
      });
      await (await rt.start()).whenCaughtUp();
      const [rec] = await log.read('hetu.dlq', 0);
      expect(rec!.key!.toString()).toBe('in/0/1');
      expect(rec!.timestamp).toBe(1_795_680_000_000);
      expect(rec!.value![0]).toBe(0); // Confluent wire format: magic byte
      const dl = await serde.decode(rec!.value!, 'DeadLetter');
      expect({ ...dl }).toEqual({
        ts: 1_795_680_000_000,
        processor: 'sum',
        reasonCode: 'HETU_INPUT_INVALID',
        message: 'Value "\uFFFD\\u0000A" is not an integer.',
        sourceTopic: 'in',
        sourcePartition: 0,
        sourceOffset: bad!.offset,
        sourceTimestamp: 6_000,
        sourceFile: null,
        sourceLine: null,
        key: Buffer.from('a'),
        value: Buffer.from([0xff, 0x00, 0x41]),
        headers: { trace: Buffer.from('t-1') },
      });
      await rt.close();
    } finally {
      await log.close();
      await registry.close();
    }
  });

  it('keeps at most 256 KiB of an oversize input in its dead letter and says so', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    try {
      const value = Buffer.alloc(2 * 1024 * 1024, 0x61);
      const rec = await avroDeadLetterEncoder(serde)(
        {
          processor: 'errors',
          source: { topic: 'hetu.raw.logs', partition: 2, offset: 7n },
          key: Buffer.from('k'),
          value,
          headers: {},
          timestamp: 1,
          reasonCode: 'HETU_SERDE_OVERSIZE',
          message: 'The value is too big.',
        },
        5,
      );
      const dl = await serde.decode(rec.value!, 'DeadLetter');
      expect(dl.value).toEqual(value.subarray(0, DEAD_LETTER_MAX_BYTES));
      expect(dl.key).toEqual(Buffer.from('k'));
      expect(dl.message).toBe(
        `The value is too big. (The input's value cut to its first ${DEAD_LETTER_MAX_BYTES} of ${value.length} bytes in this dead letter.)`,
      );
    } finally {
      await registry.close();
    }
  });
});
