// Records/s for append and consume on the embedded log and on Kafka, next to plain kafkajs on the
// same broker in the same run. Run alone: `node bench/log.bench.ts` (starts its own broker unless
// KAFKA_BROKERS is set).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EmbeddedLog, KafkaLog, type Log } from '@hetu/streams';
import { rawKafkajsProduceConsume } from '../streams/src/kafka/raw-bench.ts';
import { benchBroker } from './util.ts';

const N = Number(process.env.HETU_BENCH_LOG_RECORDS ?? 100_000);
const BATCH = 1000;

function records(): { key: Buffer; value: Buffer }[] {
  const value = Buffer.alloc(200, 'x');
  return Array.from({ length: N }, (_, i) => ({ key: Buffer.from(`key-${i % 5000}`), value }));
}

async function measure(
  log: Log,
  recs: { key: Buffer; value: Buffer }[],
): Promise<{ appendMs: number; consumeMs: number }> {
  const topic = `bench-${randomUUID().slice(0, 8)}`;
  const out = `${topic}-out`;
  await log.ensureTopics([
    { name: topic, partitions: 3, cleanupPolicy: 'delete' },
    { name: out, partitions: 3, cleanupPolicy: 'delete' },
  ]);
  let t0 = performance.now();
  for (let i = 0; i < recs.length; i += BATCH) await log.append(topic, recs.slice(i, i + BATCH));
  const appendMs = performance.now() - t0;
  // Consume: a group that commits each batch's position (a transaction on Kafka) with one output
  // record per batch, as a processor would.
  t0 = performance.now();
  const sub = await log.subscribe({
    group: `bench-${topic}`,
    topics: [topic],
    maxBatchRecords: 500,
    handler: async (batch, tx) => {
      tx.append(out, [{ key: Buffer.from('n'), value: Buffer.from(String(batch.records.length)) }]);
    },
  });
  await sub.whenCaughtUp(600_000);
  const consumeMs = performance.now() - t0;
  await sub.close();
  return { appendMs, consumeMs };
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const recs = records();
  const rate = (ms: number) => Math.round((N / ms) * 1000);
  const result: Record<string, number> = {};

  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-'));
  const emb = new EmbeddedLog({ dataDir: dir });
  const e = await measure(emb, recs);
  await emb.close();
  rmSync(dir, { recursive: true, force: true });
  result.embeddedAppendPerS = rate(e.appendMs);
  result.embeddedConsumePerS = rate(e.consumeMs);

  const { brokers, stop } = await benchBroker();
  try {
    const kl = new KafkaLog({ brokers, clientId: 'bench' });
    const k = await measure(kl, recs);
    await kl.close();
    const raw = await rawKafkajsProduceConsume({
      brokers,
      topic: `bench-raw-${randomUUID().slice(0, 8)}`,
      records: recs,
      batchSize: BATCH,
    });
    result.kafkaAppendPerS = rate(k.appendMs);
    result.kafkaConsumePerS = rate(k.consumeMs);
    result.rawKafkajsProducePerS = rate(raw.produceMs);
    result.rawKafkajsConsumePerS = rate(raw.consumeMs);
    result.appendRatio = Number((raw.produceMs / k.appendMs).toFixed(2));
    result.consumeRatio = Number((raw.consumeMs / k.consumeMs).toFixed(2));
  } finally {
    await stop();
  }
  print(
    `log: ${N} records of 200 B, 3 partitions, appends of ${BATCH}, consume batches of 500 committed one by one`,
  );
  print('| path | append rec/s | consume rec/s |');
  print('|---|---:|---:|');
  print(`| embedded (node:sqlite) | ${result.embeddedAppendPerS} | ${result.embeddedConsumePerS} |`);
  print(
    `| kafka adapter (idempotent producer; consume = transaction per batch) | ${result.kafkaAppendPerS} | ${result.kafkaConsumePerS} |`,
  );
  print(
    `| raw kafkajs (idempotent producer; consume = auto-commit) | ${result.rawKafkajsProducePerS} | ${result.rawKafkajsConsumePerS} |`,
  );
  print(`| ratio kafka adapter ÷ raw kafkajs | ${result.appendRatio} | ${result.consumeRatio} |`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench((l) => console.log(l));
}
