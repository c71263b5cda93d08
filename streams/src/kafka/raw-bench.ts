import { Kafka, logLevel } from 'kafkajs';

/**
 * Plain kafkajs produce and consume, for the benchmark's baseline: what the client does without
 * hetu's port (no transactions, auto-commit), on the same broker and the same records.
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
