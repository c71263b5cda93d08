import { Kafka, logLevel } from 'kafkajs';
import { fixRequestQueue } from './request-queue-fix.ts';

// kafkajs polls every connection's empty request queue every millisecond otherwise (request-queue-fix.ts).
fixRequestQueue();

/**
 * Plain kafkajs produce and consume, for the benchmark's baseline: what the client does without
 * hetu's port (no transactions, auto-commit), on the same broker and the same records — with the
 * request-queue fix hetu applies to kafkajs (request-queue-fix.ts), so both use the same client.
 */
export async function rawKafkajsProduceConsume(opts: {
  brokers: string[];
  topic: string;
  records: { key: Buffer; value: Buffer }[];
  batchSize: number;
}): Promise<{ produceMs: number; consumeMs: number }> {
  const kafka = new Kafka({ clientId: 'raw-bench', brokers: opts.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: opts.topic, numPartitions: 3, replicationFactor: 1 }],
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let t0 = performance.now();
  for (let i = 0; i < opts.records.length; i += opts.batchSize) {
    await producer.send({ topic: opts.topic, acks: -1, messages: opts.records.slice(i, i + opts.batchSize) });
  }
  const produceMs = performance.now() - t0;
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `raw-bench-${opts.topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  t0 = performance.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= opts.records.length) done();
    },
  });
  await finished;
  const consumeMs = performance.now() - t0;
  await consumer.disconnect();
  return { produceMs, consumeMs };
}

/**
 * Plain kafkajs consume→produce, the end-to-end baseline (issue I): a consumer reads `input` and
 * writes one output record per input record to `output`, in batches of at most `batchSize`.
 * `exactlyOnce`: each batch's outputs and input offsets in one transaction (the guarantee hetu
 * gives); otherwise an idempotent producer and the consumer's auto-commit (at least once).
 * Resolves with the time from start until `total` records were consumed and written.
 */
export async function rawKafkajsConsumeProduce(opts: {
  brokers: string[];
  input: string;
  output: string;
  total: number;
  batchSize: number;
  exactlyOnce: boolean;
}): Promise<{ ms: number }> {
  const kafka = new Kafka({ clientId: 'raw-bench-e2e', brokers: opts.brokers, logLevel: logLevel.NOTHING });
  const group = `raw-bench-e2e-${opts.output}`;
  const producer = opts.exactlyOnce
    ? kafka.producer({
        transactionalId: `${group}-tx`,
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { initialRetryTime: 5, maxRetryTime: 1000, retries: 20 },
      })
    : kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.input, fromBeginning: true });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  await consumer.run({
    autoCommit: !opts.exactlyOnce,
    eachBatchAutoResolve: !opts.exactlyOnce,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (let i = 0; i < batch.messages.length; i += opts.batchSize) {
        const part = batch.messages.slice(i, i + opts.batchSize);
        const messages = part.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp }));
        const last = part[part.length - 1]!.offset;
        if (opts.exactlyOnce) {
          // kafkajs does not retry CONCURRENT_TRANSACTIONS (a transaction begun while the
          // coordinator still completes the previous one): retry it fast, as the adapter does.
          for (let attempt = 1; ; attempt++) {
            const txn = await producer.transaction();
            try {
              await txn.send({ topic: opts.output, acks: -1, messages });
              await txn.sendOffsets({
                consumerGroupId: group,
                topics: [
                  {
                    topic: batch.topic,
                    partitions: [{ partition: batch.partition, offset: String(Number(last) + 1) }],
                  },
                ],
              });
              await txn.commit();
              break;
            } catch (err) {
              await txn.abort().catch(() => undefined);
              if ((err as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 50) throw err;
              await new Promise((r) => setTimeout(r, 5));
            }
          }
          resolveOffset(last);
        } else {
          await producer.send({ topic: opts.output, acks: -1, messages });
        }
        await heartbeat();
        done += part.length;
        if (done >= opts.total) finish();
      }
    },
  });
  await finished;
  const ms = performance.now() - t0;
  await consumer.disconnect();
  await producer.disconnect();
  return { ms };
}
