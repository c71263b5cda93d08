/**
 * Proves that kafkajs 2.2.4 works against the project's Kafka 4.x broker for everything hetu uses,
 * and that the schema registry round trip works in Confluent wire format.
 * Services come from test/global-setup.ts.
 */
import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ConfigResourceTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixRequestQueue } from './request-queue-fix.ts';

// kafkajs as hetu runs it: with the adapter's fix of its request queue (request-queue-fix.ts).
fixRequestQueue();

const brokers = inject('kafkaBrokers');
const registryUrl = inject('schemaRegistryUrl');
const kafka = new Kafka({ clientId: 'hetu-compat-test', brokers, logLevel: logLevel.WARN });

const uid = () => randomUUID().slice(0, 8);
let admin: Admin;
const toClose: Array<{ disconnect(): Promise<void> }> = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  for (const c of toClose.reverse()) await c.disconnect().catch(() => undefined);
  await admin.disconnect();
});

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
}

async function producer(opts: Parameters<Kafka['producer']>[0] = {}): Promise<Producer> {
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...opts });
  await p.connect();
  toClose.push(p);
  return p;
}

/** Reads `n` records of `topic` from the beginning with a fresh group; rejects after `timeoutMs`. */
async function readN(
  topic: string,
  n: number,
  opts: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<KafkaMessage[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: `read-${uid()}`,
    readUncommitted: opts.readUncommitted ?? false,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  toClose.push(consumer);
  const got: KafkaMessage[] = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${got.length} of ${n} records of ${topic}`)),
        opts.timeoutMs ?? 30_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            got.push(message);
            if (got.length >= n) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

/**
 * Polls `read` until `done(value)` holds, with a deadline, and returns the last value. Needed after a
 * transaction commits: EndTxn returns once the commit is decided, and the broker writes the markers
 * (which move the last stable offset and publish transactional offset commits) right after.
 */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const started = performance.now();
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('kafkajs 2.2.4 against the broker', () => {
  it('creates topics with configs (compact, retention.ms) and describes them back', async () => {
    const topic = `compat-configs-${uid()}`;
    const created = await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: '3600000' },
          ],
        },
      ],
      waitForLeaders: true,
    });
    expect(created).toBe(true);

    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics).toHaveLength(1);
    expect(meta.topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] },
      ],
    });
    const entries = Object.fromEntries(
      (described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '3600000' });

    expect(await admin.listTopics()).toContain(topic);
    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('produces with an idempotent producer, in order, and reads the records back', async () => {
    const topic = `compat-idempotent-${uid()}`;
    await createTopic(topic);
    const p = await producer({ idempotent: true, maxInFlightRequests: 1 });
    for (let batch = 0; batch < 3; batch++) {
      await p.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: `v${batch * 4 + i}` })),
      });
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets).toEqual([{ partition: 0, offset: '12', high: '12', low: '0' }]);
    const got = await readN(topic, 12);
    expect(got.map((m) => text(m.value))).toEqual(Array.from({ length: 12 }, (_, i) => `v${i}`));
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('consumes, transforms and produces in a transaction with sendOffsets and commit', async () => {
    const input = `compat-ctp-in-${uid()}`;
    const output = `compat-ctp-out-${uid()}`;
    const groupId = `compat-ctp-${uid()}`;
    await createTopic(input);
    await createTopic(output);
    const plain = await producer();
    await plain.send({
      topic: input,
      messages: ['a', 'b', 'c', 'd', 'e'].map((v) => ({ key: v, value: v })),
    });

    const tx = await producer({
      transactionalId: `compat-ctp-${uid()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    toClose.push(consumer);
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    let processed = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`processed ${processed} of 5`)), 60_000);
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const txn = await tx.transaction();
            try {
              await txn.send({
                topic: output,
                messages: batch.messages.map((m) => ({
                  key: m.key,
                  value: (text(m.value) ?? '').toUpperCase(),
                })),
              });
              const last = batch.messages[batch.messages.length - 1];
              if (!last) throw new Error('empty batch');
              await txn.sendOffsets({
                consumerGroupId: groupId,
                topics: [
                  {
                    topic: batch.topic,
                    partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }],
                  },
                ],
              });
              await txn.commit();
            } catch (err) {
              await txn.abort();
              throw err;
            }
            for (const m of batch.messages) resolveOffset(m.offset);
            processed += batch.messages.length;
            if (processed >= 5) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const committed = await until(
      'committed offset of the group',
      () => admin.fetchOffsets({ groupId, topics: [input] }),
      (o) => o[0]?.partitions[0]?.offset !== '-1',
    );
    expect(committed).toEqual([
      { topic: input, partitions: [{ partition: 0, offset: '5', metadata: null }] },
    ]);
    const out = await readN(output, 5);
    expect(out.map((m) => [text(m.key), text(m.value)])).toEqual([
      ['a', 'A'],
      ['b', 'B'],
      ['c', 'C'],
      ['d', 'D'],
      ['e', 'E'],
    ]);
  });

  it('hides the records of an aborted transaction from a read_committed consumer', async () => {
    const topic = `compat-abort-${uid()}`;
    await createTopic(topic);
    const tx = await producer({
      transactionalId: `compat-abort-${uid()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });

    const aborted = await tx.transaction();
    await aborted.send({ topic, messages: [0, 1, 2].map((i) => ({ value: `aborted-${i}` })) });
    await aborted.abort();
    const committed = await tx.transaction();
    await committed.send({ topic, messages: [0, 1].map((i) => ({ value: `committed-${i}` })) });
    await committed.commit();

    // 3 aborted records + abort marker + 2 committed records + commit marker
    // (fetchTopicOffsets reads at read_committed isolation: the last stable offset, once the marker is in)
    const end = await until(
      'last stable offset',
      () => admin.fetchTopicOffsets(topic),
      (o) => o[0]?.high !== '4',
    );
    expect(end).toEqual([{ partition: 0, offset: '7', high: '7', low: '0' }]);
    const readCommitted = await readN(topic, 2);
    expect(readCommitted.map((m) => [m.offset, text(m.value)])).toEqual([
      ['4', 'committed-0'],
      ['5', 'committed-1'],
    ]);
    // the aborted records are really in the log: a read_uncommitted consumer sees them first
    const readUncommitted = await readN(topic, 5, { readUncommitted: true });
    expect(readUncommitted.map((m) => text(m.value))).toEqual([
      'aborted-0',
      'aborted-1',
      'aborted-2',
      'committed-0',
      'committed-1',
    ]);
  });
});

describe('schema registry round trip (@kafkajs/confluent-schema-registry 4.1.0)', () => {
  it('registers an Avro schema, encodes in Confluent wire format, decodes, and gets the schema by id', async () => {
    const registry = new SchemaRegistry({ host: registryUrl });
    const subject = `compat-probe-${uid()}-value`;
    const schema = {
      type: 'record',
      name: 'Probe',
      namespace: 'dev.hetu.test',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'count', type: 'long' },
        { name: 'note', type: ['null', 'string'], default: null },
      ],
    };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(Number.isInteger(id)).toBe(true);
    expect(id).toBeGreaterThan(0);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    // registering the same schema again returns the same id
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(again.id).toBe(id);

    const value = { id: 'pod-1', count: 42, note: 'hello' };
    const encoded = await registry.encode(id, value);
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    // Avro body: "pod-1" (zigzag length 10, bytes), 42 as zigzag long 84, union branch 1, "hello"
    expect([...encoded.subarray(5)]).toEqual([
      10,
      ...Buffer.from('pod-1'),
      84,
      2,
      10,
      ...Buffer.from('hello'),
    ]);

    // through the broker and back
    const topic = `compat-registry-${uid()}`;
    await createTopic(topic);
    const p = await producer();
    await p.send({ topic, messages: [{ key: 'pod-1', value: encoded }] });
    const [msg] = await readN(topic, 1);
    expect(msg?.value?.equals(encoded)).toBe(true);
    expect(await registry.decode(msg?.value as Buffer)).toEqual({ id: 'pod-1', count: 42, note: 'hello' });

    // a fresh client (empty cache) fetches the schema by id from the registry
    const fresh = new SchemaRegistry({ host: registryUrl });
    const fetched = (await fresh.getSchema(id)) as unknown as { name?: string; toString(): string };
    expect(fetched.name).toBe('dev.hetu.test.Probe');
    expect(await fresh.decode(encoded)).toEqual({ id: 'pod-1', count: 42, note: 'hello' });
  });
});
