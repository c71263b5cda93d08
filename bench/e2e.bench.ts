// End-to-end consume→produce throughput (issue I: "end-to-end throughput on Kafka vs raw kafkajs
// consume→produce on the same broker (target ratio ≥ 0.5), and in embedded mode"). The same
// records go through:
// - hetu's processor runtime (a pass-through processor: one output record per input record, its
//   position in the changelog, outputs + changelog + input offsets committed together per batch)
//   on the Kafka adapter and on the embedded log;
// - plain kafkajs on the same broker in the same run: exactly once (a transaction per batch, the
//   guarantee hetu gives — the like-for-like baseline) and at least once (idempotent producer,
//   auto-commit; for scale).
// Batches of 500 everywhere. Size: HETU_BENCH_E2E_RECORDS (default 100 000) of 200 bytes, 3
// partitions. Run alone: `node bench/e2e.bench.ts` (starts its own broker unless KAFKA_BROKERS is
// set). Figures only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EmbeddedLog, KafkaLog, ProcessorRuntime, type Log, type StatefulProcessor } from '@hetu/streams';
import { rawKafkajsConsumeProduce } from '../streams/src/kafka/raw-bench.ts';
import { benchBroker, loads } from './util.ts';

const N = Number(process.env.HETU_BENCH_E2E_RECORDS ?? 100_000);
const BATCH = 500;
const T0 = Date.parse('2026-11-26T08:00:00Z');

async function fill(log: Log, topic: string): Promise<void> {
  await log.ensureTopics([{ name: topic, partitions: 3, cleanupPolicy: 'delete' }]);
  const value = Buffer.alloc(200, 'x');
  for (let i = 0; i < N; i += 1000) {
    const recs = [];
    for (let j = i; j < Math.min(N, i + 1000); j++)
      recs.push({ key: Buffer.from(`key-${j % 5000}`), value, timestamp: T0 + j });
    await log.append(topic, recs);
  }
}

/** hetu's runtime with a pass-through processor: ms from start until every record was written. */
async function throughRuntime(log: Log, input: string): Promise<number> {
  const output = `${input}-out`;
  const name = `${input}-pass`;
  await log.ensureTopics([
    { name: output, partitions: 3, cleanupPolicy: 'delete' },
    { name: `${name}.changelog`, partitions: 3, cleanupPolicy: 'compact' },
  ]);
  const processor: StatefulProcessor<{ key: Buffer; value: Buffer; ts: number }, null> = {
    name,
    inputs: [input],
    changelogTopic: `${name}.changelog`,
    decodeInput: (r) => ({ key: r.key!, value: r.value!, ts: r.timestamp }),
    init: () => null,
    restore: () => undefined,
    process: (_s, input, ctx) =>
      ctx.emit(output, { key: input.key, value: input.value, timestamp: input.ts }),
    snapshot: () => null,
  };
  const rt = new ProcessorRuntime({ log, processor, maxBatchRecords: BATCH });
  const t = performance.now();
  const sub = await rt.start();
  await sub.whenCaughtUp(1_800_000);
  const ms = performance.now() - t;
  await rt.close();
  // Offsets written (Kafka and the embedded log both take one more per committed batch for its
  // commit marker): at least one per input record.
  const [info] = await log.describeTopics([output]);
  const written = (info?.partitions ?? []).reduce((a, p) => a + Number(p.high - p.low), 0);
  if (written < N) throw new Error(`the runtime wrote ${written} of ${N} records`);
  return ms;
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const rate = (ms: number) => Math.round((N / ms) * 1000);
  const result: Record<string, number> = {};
  print(
    `e2e: ${N} records of 200 B, 3 partitions, consume→produce in batches of ${BATCH}; load average before ${loads()}`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-e2e-'));
  try {
    const emb = new EmbeddedLog({ dataDir: dir });
    await fill(emb, 'e2e-in');
    result.embeddedPerS = rate(await throughRuntime(emb, 'e2e-in'));
    await emb.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const { brokers, stop } = await benchBroker();
  try {
    const run = randomUUID().slice(0, 8);
    const kl = new KafkaLog({ brokers, clientId: 'bench-e2e' });
    const inputs = [`e2e-${run}-hetu`, `e2e-${run}-eos`, `e2e-${run}-alo`];
    for (const t of inputs) await fill(kl, t);
    await kl.ensureTopics(
      inputs.slice(1).map((t) => ({ name: `${t}-out`, partitions: 3, cleanupPolicy: 'delete' })),
    );
    result.kafkaPerS = rate(await throughRuntime(kl, inputs[0]!));
    await kl.close();
    const eos = await rawKafkajsConsumeProduce({
      brokers,
      input: inputs[1]!,
      output: `${inputs[1]}-out`,
      total: N,
      batchSize: BATCH,
      exactlyOnce: true,
    });
    const alo = await rawKafkajsConsumeProduce({
      brokers,
      input: inputs[2]!,
      output: `${inputs[2]}-out`,
      total: N,
      batchSize: BATCH,
      exactlyOnce: false,
    });
    result.rawExactlyOncePerS = rate(eos.ms);
    result.rawAtLeastOncePerS = rate(alo.ms);
    result.ratioVsExactlyOnce = Number((result.kafkaPerS / result.rawExactlyOncePerS).toFixed(2));
    result.ratioVsAtLeastOnce = Number((result.kafkaPerS / result.rawAtLeastOncePerS).toFixed(2));
  } finally {
    await stop();
  }
  print('| path | records/s |');
  print('|---|---:|');
  print(`| hetu runtime, embedded log | ${result.embeddedPerS} |`);
  print(`| hetu runtime, Kafka (transaction per batch) | ${result.kafkaPerS} |`);
  print(`| raw kafkajs, exactly once (transaction per batch) | ${result.rawExactlyOncePerS} |`);
  print(`| raw kafkajs, at least once (auto-commit) | ${result.rawAtLeastOncePerS} |`);
  print(
    `ratio hetu on Kafka ÷ raw kafkajs: ${result.ratioVsExactlyOnce} against exactly once (target ≥ 0.5), ${result.ratioVsAtLeastOnce} against at least once`,
  );
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench((l) => console.log(l));
}
