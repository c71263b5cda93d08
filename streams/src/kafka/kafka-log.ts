import { randomUUID } from 'node:crypto';
import {
  Kafka,
  Partitioners,
  logLevel as KafkaJsLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { partitionForKey } from '../murmur2.ts';
import { coPartitionedAssigner, singleTaskAssigner } from './co-partitioned-assigner.ts';
import { gateBound, planBatch } from '../merge.ts';
import { HetuError } from '../errors.ts';
import { MAX_REQUEST_BYTES, sizedSlices } from '../sized-slices.ts';
import { crashPoint } from '../crash-points.ts';
import { Backoff } from '../backoff.ts';
import { collectingTransaction } from '../batch-transaction.ts';
import { fixRequestQueue } from './request-queue-fix.ts';

// kafkajs polls every connection's empty request queue every millisecond otherwise (request-queue-fix.ts).
fixRequestQueue();
import type {
  AppendRecord,
  Batch,
  CleanupPolicy,
  EventTimeGate,
  Log,
  LogRecord,
  ReadOptions,
  RecordPosition,
  SubscribeOptions,
  Subscription,
  TopicInfo,
  TopicSpec,
} from '../port.ts';

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Prefix of transactional ids; one id per (group, input topic, input partition). */
  readonly transactionalIdPrefix?: string;
  /** Replication factor for created topics. Default: min(3, brokers in the cluster). */
  readonly replicationFactor?: number;
  readonly connectionTimeoutMs?: number;
  /** Consumer group session timeout; a crashed member's partitions move after this. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Receives the client's own log lines at `logLevel` and above. Default: none. */
  readonly logger?: (level: KafkaLogLevel, message: string, extra: Record<string, unknown>) => void;
  readonly logLevel?: KafkaLogLevel;
}

const LEVELS: Record<KafkaLogLevel, KafkaJsLevel> = {
  error: KafkaJsLevel.ERROR,
  warn: KafkaJsLevel.WARN,
  info: KafkaJsLevel.INFO,
  debug: KafkaJsLevel.DEBUG,
};

function toHeaders(h: Readonly<Record<string, Buffer>> | undefined): IHeaders | undefined {
  if (!h) return undefined;
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(h)) out[k] = v;
  return out;
}

function fromHeaders(h: IHeaders | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one === undefined) continue;
    out[k] = Buffer.isBuffer(one) ? one : Buffer.from(one);
  }
  return out;
}

/** The error, or one of its causes, has one of these kafkajs types. */
function hasType(err: unknown, types: readonly string[]): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.type === 'string' && types.includes(e.type)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Another instance initialised this transactional id: it owns the task now. */
const FENCED = ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING'];
/** The group is rebalancing or moved on without this member. */
const REBALANCING = [
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
];

/** How long deleteTopics() waits for the cluster's metadata to stop listing a deleted topic. */
const DELETE_WAIT_MS = 60_000;

/** How long close() waits for a last report to the gate. */
const CLOSE_GATE_MS = 2_000;
/** How long close() waits for the batch in hand to commit before it disconnects anyway. */
const CLOSE_DRAIN_MS = 20_000;

/** Thrown inside a drain when its batch belongs to an assignment that is over: dropped, not failed. */
class StaleAssignment extends Error {}

/**
 * The broker went away after a transaction's commit was sent: it may have committed or not. The
 * transactional producer is dropped; the next attempt first initialises a new one (which settles
 * the transaction either way) and reads the group's offsets to learn which it was.
 */
class UncertainCommit extends HetuError {
  readonly written: readonly { topic: string; partition: number; end: bigint }[];
  constructor(
    message: string,
    cause: unknown,
    written: readonly { topic: string; partition: number; end: bigint }[],
  ) {
    super('HETU_KAFKA_UNREACHABLE', message, { cause, transient: true });
    this.written = written;
  }
}

/** How long a settled transaction's group offsets may take to become readable. */
const SETTLE_VISIBLE_MS = 5_000;

/** How long a batch handled again waits for the transactions committed before it to be readable. */
const SETTLE_COMMITTED_MS = 60_000;

/** How long it waits before it seals what is still not readable (`KafkaSubscription.seal`). */
const SEAL_AFTER_MS = 5_000;

/**
 * The header of a seal record: a record with no value that only closes a transaction whose commit
 * markers the broker never wrote (`KafkaSubscription.seal`). hetu's readers skip it; its key is
 * SEAL_KEY (a compacted topic takes no record without a key), its value null.
 */
export const SEAL_HEADER = 'hetu-seal';
const SEAL_KEY = Buffer.from('\u0000hetu-seal');

function isSeal(m: KafkaMessage): boolean {
  return m.headers?.[SEAL_HEADER] !== undefined;
}

function toRecord(topic: string, partition: number, m: KafkaMessage): LogRecord {
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: Number(m.timestamp),
    headers: fromHeaders(m.headers),
  };
}

/** Maps a kafkajs failure to a HetuError with one sentence naming the problem and the fix. */
export function kafkaError(err: unknown, brokers: readonly string[], what: string): HetuError {
  if (err instanceof HetuError) return err;
  const e = err as { name?: string; message?: string; type?: string };
  const name = e?.name ?? '';
  if (
    /Connection|NumberOfRetriesExceeded|BrokerNotFound|Timeout|GroupCoordinatorNotFound/.test(name) ||
    /ECONNREFUSED|ETIMEDOUT|ENOTFOUND/.test(e?.message ?? '')
  )
    return new HetuError(
      'HETU_KAFKA_UNREACHABLE',
      `Cannot reach the Kafka broker at ${brokers.join(',')} while trying to ${what} (${e?.message ?? name}): check that it runs and that --kafka names its address.`,
      { cause: err, transient: true },
    );
  return new HetuError('HETU_KAFKA_FAILED', `Kafka failed to ${what}: ${e?.message ?? String(err)}`, {
    cause: err,
    transient:
      (err as { retriable?: boolean })?.retriable === true ||
      e?.type === 'REQUEST_TIMED_OUT' ||
      e?.type === 'NOT_LEADER_FOR_PARTITION',
  });
}

/**
 * The Kafka adapter of the log port, on kafkajs. Appends use one idempotent producer; a
 * subscription commits each batch's outputs and input offsets in one transaction, with one
 * transactional id per input partition (kafkajs lacks KIP-447 fencing, so the id carries it).
 */
export class KafkaLog implements Log {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly opts: KafkaLogOptions;
  private adminP: Promise<Admin> | undefined;
  private producerP: Promise<Producer> | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private readonly rr = new Map<string, number>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: KafkaLogOptions) {
    this.opts = options;
    const level = LEVELS[options.logLevel ?? 'error'];
    const logger = options.logger;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'hetu',
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30000,
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
      logLevel: logger ? level : KafkaJsLevel.NOTHING,
      logCreator: () => (entry) => {
        if (!logger) return;
        const { message, ...extra } = entry.log;
        const lvl: KafkaLogLevel =
          entry.level <= KafkaJsLevel.ERROR
            ? 'error'
            : entry.level === KafkaJsLevel.WARN
              ? 'warn'
              : entry.level === KafkaJsLevel.INFO
                ? 'info'
                : 'debug';
        logger(lvl, `${entry.namespace}: ${message}`, extra);
      },
    });
  }

  get brokers(): readonly string[] {
    return this.opts.brokers;
  }

  private assertOpen(): void {
    if (this.closed) throw new HetuError('HETU_LOG_CLOSED', 'The Kafka log is closed.');
  }

  admin(): Promise<Admin> {
    this.adminP ??= (async () => {
      const a = this.kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        this.adminP = undefined;
        throw kafkaError(err, this.opts.brokers, 'connect');
      }
      return a;
    })();
    return this.adminP;
  }

  private producer(): Promise<Producer> {
    this.producerP ??= (async () => {
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      try {
        await p.connect();
      } catch (err) {
        this.producerP = undefined;
        throw kafkaError(err, this.opts.brokers, 'connect the producer');
      }
      return p;
    })();
    return this.producerP;
  }

  /** A transactional producer, connected and initialised (which fences older incarnations). */
  async transactionalProducer(transactionalId: string): Promise<Producer> {
    const p = this.kafka.producer({
      transactionalId,
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: 60_000,
      // A transaction begun right after the previous commit meets CONCURRENT_TRANSACTIONS until
      // the coordinator has written its markers (a few ms): retry fast, as the Java client does.
      retry: { initialRetryTime: 5, maxRetryTime: 1000, retries: 20 },
    });
    try {
      await p.connect();
    } catch (err) {
      throw kafkaError(err, this.opts.brokers, `connect the transactional producer ${transactionalId}`);
    }
    return p;
  }

  get transactionalIdPrefix(): string {
    return this.opts.transactionalIdPrefix ?? 'hetu';
  }

  newConsumer(groupId: string, singleTask = false) {
    return this.kafka.consumer({
      groupId,
      partitionAssigners: [singleTask ? singleTaskAssigner : coPartitionedAssigner],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    });
  }

  async partitionCount(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const admin = await this.admin();
    let meta;
    try {
      meta = await admin.fetchTopicMetadata({ topics: [topic] });
    } catch (err) {
      if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION')
        throw new HetuError(
          'HETU_LOG_UNKNOWN_TOPIC',
          `Topic ${topic} does not exist on ${this.opts.brokers.join(',')}: create it with 'hetu topics --create' or check the name.`,
        );
      throw kafkaError(err, this.opts.brokers, `describe topic ${topic}`);
    }
    const n = meta.topics[0]?.partitions.length ?? 0;
    if (n === 0)
      throw new HetuError(
        'HETU_LOG_UNKNOWN_TOPIC',
        `Topic ${topic} does not exist: create it with 'hetu topics --create'.`,
      );
    this.partitionCounts.set(topic, n);
    return n;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    const admin = await this.admin();
    let rf = this.opts.replicationFactor;
    try {
      if (rf === undefined) rf = Math.min(3, (await admin.describeCluster()).brokers.length);
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: rf,
          configEntries: [
            { name: 'cleanup.policy', value: s.cleanupPolicy },
            { name: 'retention.ms', value: String(s.retentionMs ?? -1) },
            ...(s.deleteRetentionMs !== undefined
              ? [{ name: 'delete.retention.ms', value: String(s.deleteRetentionMs) }]
              : []),
            ...(s.segmentMs !== undefined ? [{ name: 'segment.ms', value: String(s.segmentMs) }] : []),
            ...(s.minCleanableDirtyRatio !== undefined
              ? [{ name: 'min.cleanable.dirty.ratio', value: String(s.minCleanableDirtyRatio) }]
              : []),
          ],
        })),
      });
    } catch (err) {
      if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return;
      // kafkajs' wait for leaders gives up on a retriable metadata error while a loaded broker is
      // still electing them: the topics exist; wait for their leaders ourselves.
      if ((err as { retriable?: boolean }).retriable) {
        await this.waitForLeaders(specs.map((s) => s.name));
        return;
      }
      throw kafkaError(err, this.opts.brokers, 'create topics');
    }
  }

  private async waitForLeaders(topics: string[]): Promise<void> {
    const admin = await this.admin();
    const backoff = new Backoff(100, 2000);
    for (let attempt = 1; ; attempt++) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics });
        if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
          return;
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || attempt >= 30)
          throw kafkaError(err, this.opts.brokers, `wait for the leaders of ${topics.join(', ')}`);
      }
      if (attempt >= 30)
        throw new HetuError(
          'HETU_KAFKA_FAILED',
          `Kafka elected no leaders for ${topics.join(', ')} in time: check the broker's log.`,
          {
            transient: true,
          },
        );
      await new Promise((r) => setTimeout(r, backoff.next()));
    }
  }

  async endOffsets(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    const admin = await this.admin();
    await this.partitionCount(topic);
    const backoff = new Backoff(50, 1000);
    for (let attempt = 1; ; attempt++) {
      try {
        const offs = await admin.fetchTopicOffsets(topic);
        return new Map(offs.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
      } catch (err) {
        // Leadership of a just-created topic settles within moments: kafkajs then answers
        // NOT_LEADER_OR_FOLLOWER, or fails inside fetchTopicOffsets with a TypeError while its
        // metadata lists the topic without leaders. Both pass; retry a few times.
        if (((err as { retriable?: boolean }).retriable || err instanceof TypeError) && attempt < 10) {
          await new Promise((r) => setTimeout(r, backoff.next()));
          continue;
        }
        throw kafkaError(err, this.opts.brokers, `read the offsets of ${topic}`);
      }
    }
  }

  async describeTopics(names?: readonly string[]): Promise<TopicInfo[]> {
    this.assertOpen();
    const admin = await this.admin();
    let topics: string[];
    try {
      const all = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
      topics = names ? all.filter((t) => names.includes(t)) : all;
    } catch (err) {
      throw kafkaError(err, this.opts.brokers, 'list topics');
    }
    if (topics.length === 0) return [];
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({
        type: 2 /* TOPIC */,
        name,
        configNames: ['cleanup.policy', 'retention.ms'],
      })),
    });
    const out: TopicInfo[] = [];
    for (const name of topics) {
      const offs = await this.endOffsets(name);
      const res = configs.resources.find((r) => r.resourceName === name);
      const cfg = new Map(res?.configEntries.map((c) => [c.configName, c.configValue]) ?? []);
      const retention = Number(cfg.get('retention.ms') ?? '-1');
      out.push({
        name,
        partitions: [...offs.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([partition, o]) => ({ partition, low: o.low, high: o.high })),
        cleanupPolicy: ((cfg.get('cleanup.policy') as CleanupPolicy | undefined) ?? 'unknown') as
          | CleanupPolicy
          | 'unknown',
        retentionMs: retention >= 0 ? retention : undefined,
      });
    }
    return out;
  }

  /** Partitions records like the embedded log: murmur2 of the key, round robin without one. */
  async assignPartitions(topic: string, records: readonly AppendRecord[]): Promise<number[]> {
    const n = await this.partitionCount(topic);
    return records.map((r) => {
      if (r.partition !== undefined) return r.partition;
      if (r.key) return partitionForKey(r.key, n);
      const c = this.rr.get(topic) ?? 0;
      this.rr.set(topic, c + 1);
      return c % n;
    });
  }

  /**
   * Appends in requests of at most MAX_REQUEST_BYTES: one request becomes one record batch per
   * partition, which the broker refuses above its message.max.bytes (1 MiB by default) — 2 000 Pod
   * objects of a recording in one append were refused. When a later request fails, the records of
   * the earlier ones stay written and the error says how many (a caller that must not write twice
   * appends at most MAX_REQUEST_BYTES at a time, as the log collector does).
   */
  async append(topic: string, records: readonly AppendRecord[]): Promise<RecordPosition[]> {
    this.assertOpen();
    if (records.length === 0) return [];
    const partitions = await this.assignPartitions(topic, records);
    const producer = await this.producer();
    const out: RecordPosition[] = [];
    for (const slice of sizedSlices(records, MAX_REQUEST_BYTES)) {
      let meta;
      try {
        meta = await producer.send({
          topic,
          acks: -1,
          messages: records.slice(slice.from, slice.to).map((r, j) => ({
            key: r.key,
            value: r.value,
            partition: partitions[slice.from + j]!,
            timestamp: r.timestamp !== undefined ? String(r.timestamp) : undefined,
            headers: toHeaders(r.headers),
          })),
        });
      } catch (err) {
        const e = kafkaError(err, this.opts.brokers, `append to ${topic}`);
        if (slice.from === 0) throw e;
        throw new HetuError(
          e.code,
          `${e.message} The first ${slice.from} of the ${records.length} records were written; append the rest again.`,
          { cause: err, transient: e.transient },
        );
      }
      // Records of one partition are written in order, one after another, from the base offset.
      const base = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? m.offset ?? '0')]));
      const seen = new Map<number, bigint>();
      for (let i = slice.from; i < slice.to; i++) {
        const p = partitions[i]!;
        const k = seen.get(p) ?? 0n;
        seen.set(p, k + 1n);
        out.push({ topic, partition: p, offset: base.get(p)! + k });
      }
    }
    return out;
  }

  async read(topic: string, partition: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.assertOpen();
    const offs = (await this.endOffsets(topic)).get(partition);
    if (!offs)
      throw new HetuError(
        'HETU_LOG_BAD_PARTITION',
        `Partition ${partition} does not exist in topic ${topic}.`,
      );
    const from =
      options.fromOffset !== undefined && options.fromOffset > offs.low ? options.fromOffset : offs.low;
    const to = options.toOffset !== undefined && options.toOffset < offs.high ? options.toOffset : offs.high;
    const max = options.maxRecords ?? Number.MAX_SAFE_INTEGER;
    if (from >= to || max <= 0) return [];
    const groupId = `hetu-reader-${randomUUID()}`;
    const consumer = this.newConsumer(groupId);
    const out: LogRecord[] = [];
    let finish!: () => void;
    let fail!: (e: unknown) => void;
    const finished = new Promise<void>((res, rej) => {
      finish = res;
      fail = rej;
    });
    const advance = (topicName: string, p: number, lastOffset: string) => {
      if (topicName === topic && p === partition && BigInt(lastOffset) + 1n >= to) finish();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      advance(e.payload.topic, e.payload.partition, e.payload.lastOffset),
    );
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
    const timer = setTimeout(
      () =>
        fail(
          new HetuError(
            'HETU_KAFKA_READ_TIMEOUT',
            `Reading ${topic}/${partition} from ${from} to ${to} did not finish within 60 s (an open transaction may hold it).`,
            { transient: true },
          ),
        ),
      60_000,
    );
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let seeked = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        if (!seeked) {
          seeked = true;
          consumer.seek({ topic, partition, offset: String(from) });
        }
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          if (batch.partition !== partition || !seeked) return;
          for (const m of batch.messages) {
            const o = BigInt(m.offset);
            if (o >= from && o < to && out.length < max && !isSeal(m))
              out.push(toRecord(topic, partition, m));
          }
          if (batch.messages.length > 0) resolveOffset(batch.lastOffset());
          if (out.length >= max) finish();
        },
      });
      await finished;
    } catch (err) {
      throw kafkaError(err, this.opts.brokers, `read ${topic}/${partition}`);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      const admin = await this.admin();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return out;
  }

  async committed(group: string, topic: string): Promise<Map<number, bigint>> {
    this.assertOpen();
    const admin = await this.admin();
    try {
      const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const out = new Map<number, bigint>();
      for (const p of res[0]?.partitions ?? [])
        if (Number(p.offset) >= 0) out.set(p.partition, BigInt(p.offset));
      return out;
    } catch (err) {
      throw kafkaError(err, this.opts.brokers, `read the committed offsets of group ${group}`);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    if (options.tasks !== undefined)
      throw new HetuError(
        'HETU_LOG_BAD_OPTION',
        `Group ${options.group}: a subscription to chosen tasks (SubscribeOptions.tasks) is for the embedded log; on Kafka the group assigns partitions: start more members instead.`,
      );
    for (const t of options.topics) await this.partitionCount(t);
    const sub = new KafkaSubscription(this, options);
    this.subscriptions.add(sub);
    try {
      await sub.start();
    } catch (err) {
      this.subscriptions.delete(sub);
      // Its consumer may have connected before the failure: disconnect it, or it stays in the group.
      await sub.discard();
      throw kafkaError(err, this.opts.brokers, `subscribe group ${options.group}`);
    }
    void sub.done.catch(() => undefined).finally(() => this.subscriptions.delete(sub));
    return sub;
  }

  /**
   * Deletes the topics that exist (the broker also drops the positions groups committed in them),
   * then waits until the cluster's metadata no longer lists them, at most `DELETE_WAIT_MS`.
   */
  async deleteTopics(names: readonly string[]): Promise<void> {
    this.assertOpen();
    if (names.length === 0) return;
    const admin = await this.admin();
    const listed = async (): Promise<string[]> => {
      try {
        const all = new Set(await admin.listTopics());
        return names.filter((n) => all.has(n));
      } catch (err) {
        throw kafkaError(err, this.opts.brokers, 'list topics');
      }
    };
    const existing = await listed();
    if (existing.length > 0) {
      try {
        await admin.deleteTopics({ topics: existing, timeout: 30_000 });
      } catch (err) {
        if (!hasType(err, ['UNKNOWN_TOPIC_OR_PARTITION']))
          throw kafkaError(
            err,
            this.opts.brokers,
            `delete topics ${existing.join(', ')} (the broker needs delete.topic.enable=true)`,
          );
      }
    }
    for (const n of names) {
      this.partitionCounts.delete(n);
      this.rr.delete(n);
    }
    const deadline = Date.now() + DELETE_WAIT_MS;
    const backoff = new Backoff(100, 2000);
    for (let left = await listed(); left.length > 0; left = await listed()) {
      if (Date.now() > deadline)
        throw new HetuError(
          'HETU_KAFKA_FAILED',
          `Kafka still lists ${left.join(', ')} ${DELETE_WAIT_MS / 1000} s after deleting it: check the broker's log, then run the command again.`,
          { transient: true },
        );
      await new Promise((r) => setTimeout(r, backoff.next()));
    }
  }

  /** Deletes consumer groups; unknown ones are skipped, one with members is refused. */
  async deleteGroups(groups: readonly string[]): Promise<void> {
    this.assertOpen();
    if (groups.length === 0) return;
    const admin = await this.admin();
    try {
      await admin.deleteGroups([...groups]);
    } catch (err) {
      const results = (err as { groups?: { groupId: string; error?: { type?: string } }[] }).groups;
      if (results === undefined)
        throw kafkaError(err, this.opts.brokers, `delete groups ${groups.join(', ')}`);
      const failed = results.filter((g) => g.error?.type !== 'GROUP_ID_NOT_FOUND');
      const busy = failed.find((g) => g.error?.type === 'NON_EMPTY_GROUP');
      if (busy)
        throw new HetuError(
          'HETU_LOG_GROUP_IN_USE',
          `Consumer group ${busy.groupId} still has members: stop the processes that consume with it, then delete it again.`,
        );
      if (failed.length > 0)
        throw kafkaError(failed[0]!.error ?? err, this.opts.brokers, `delete group ${failed[0]!.groupId}`);
    }
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      this.closed = true;
      const [admin, producer] = [this.adminP, this.producerP];
      await (await admin?.catch(() => undefined))?.disconnect().catch(() => undefined);
      await (await producer?.catch(() => undefined))?.disconnect().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** One assigned partition: fetched records waiting for the event-time merge. */
interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Fetched, not yet processed, in offset order. */
  readonly records: LogRecord[];
  /** Next offset to process; undefined until known. */
  pos: bigint | undefined;
  /** The offset after the last fetched batch (past control records). */
  fetchedTo: bigint | undefined;
  /** The partition's end offset as last seen. */
  end: bigint | undefined;
  paused: boolean;
}

class KafkaSubscription implements Subscription {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  private readonly log: KafkaLog;
  private readonly options: SubscribeOptions;
  /** Subscribed topics the gate does not hold back. */
  private readonly ungated: ReadonlySet<string>;
  private readonly consumer: Consumer;
  private readonly producers = new Map<string, Promise<Producer>>();
  /** Next offset per `topic\0partition`, past control records too. */
  private readonly positions = new Map<string, bigint>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  private stopError: unknown;
  private closing: Promise<void> | undefined;
  /**
   * Per task, what its committed transactions make readable once their markers are written: per
   * output `topic\0partition` the offset of the marker after its last write there, and per input
   * `topic\0partition` the offset its last commit sent for the group.
   */
  private readonly byTask = new Map<
    number,
    { outputs: Map<string, bigint>; positions: Map<string, bigint> }
  >();
  /** Seal transactions written (`seal`). */
  sealedTransactions = 0;
  /** Per task: the assignment (`Batch.epoch`) of the last batch handed to the handler. */
  private readonly handledIn = new Map<number, number | undefined>();
  /** Transactions retried because the coordinator was still completing the previous one. */
  concurrentTransactionRetries = 0;
  /** The assigned partitions, with what was fetched and not yet processed. */
  private queues = new Map<string, PartitionQueue>();
  /** Bumped by every rebalance; a merge of an older generation stops. */
  private generation = 0;
  /** Positions loaded and producers initialised for the current assignment. */
  private ready: Promise<void> = Promise.resolve();
  private draining: Promise<void> = Promise.resolve();
  private heartbeat: (() => Promise<void>) | undefined;
  /** The generation in which a commit found the task fenced: nothing is delivered until the next. */
  private fencedIn: number | undefined;
  /** close() was called: no new batch starts. */
  private closingNow = false;
  private fenceWatchdog: NodeJS.Timeout | undefined;

  constructor(log: KafkaLog, options: SubscribeOptions) {
    this.log = log;
    this.options = options;
    this.ungated = new Set(options.ungatedTopics ?? []);
    this.consumer = log.newConsumer(options.group, options.singleTask === true);
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
  }

  async start(): Promise<void> {
    const c = this.consumer;
    c.on(c.events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, lastOffset, batchSize, highWatermark } = e.payload;
      const q = this.queues.get(`${topic}\u0000${partition}`);
      if (q && batchSize === 0) {
        // Only control records or aborted messages: the partition moved on without records.
        const to = BigInt(lastOffset) + 1n;
        if (q.fetchedTo === undefined || to > q.fetchedTo) q.fetchedTo = to;
        q.end = BigInt(highWatermark);
        if (q.records.length === 0 && (q.pos === undefined || to > q.pos)) {
          q.pos = to;
          this.advance(topic, partition, to);
        }
        void this.drain().catch((err) => this.fail(err));
      }
    });
    c.on(c.events.GROUP_JOIN, (e) => this.assigned(e.payload.memberAssignment));
    c.on(c.events.CRASH, (e) => {
      if (!e.payload.restart) void this.fail(e.payload.error);
    });
    await c.connect();
    await c.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning !== false,
    });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
    const gate = this.options.gate;
    if (gate !== undefined) {
      const stopWatching = gate.onMove(() => {
        this.gateMoved?.();
        void this.drain().catch((err) => this.fail(err));
      });
      void this.gateLoop(gate).finally(stopWatching);
    }
  }

  /** The gate bound the partitions' ends were last read from the broker for. */
  private endsFreshBelow = Number.NEGATIVE_INFINITY;

  /**
   * When the gate's bound moved, reads the gated partitions' ends from the broker: the stages
   * before this one wrote every record older than the bound before it moved, but this consumer
   * may not have fetched them yet, and a partition last seen at its end would otherwise take no
   * part in the merge (records of the other partitions would go first).
   */
  private async refreshEnds(bound: number): Promise<void> {
    if (!(bound > this.endsFreshBelow)) return;
    for (const topic of this.options.topics) {
      if (this.ungated.has(topic)) continue;
      for (const [partition, end] of await this.log.endOffsets(topic)) {
        const q = this.queues.get(`${topic}\u0000${partition}`);
        if (q !== undefined && (q.end === undefined || end.high > q.end)) q.end = end.high;
      }
    }
    this.endsFreshBelow = bound;
  }

  /** Ends the gate loop's wait (the bound moved). */
  private gateMoved: (() => void) | undefined;

  /**
   * Reports to the gate each bound below which every record of the inputs is processed and the
   * outputs are visible (`EventTimeGate.reached`), checking the partitions' ends on the broker:
   * a record appended before the bound moved may not be fetched yet.
   */
  private async gateLoop(gate: EventTimeGate): Promise<void> {
    while (!this.stopped && !this.closingNow) {
      await this.checkGate(gate);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          if (this.gateMoved === done) this.gateMoved = undefined;
          resolve();
        };
        const timer = setTimeout(done, 200);
        this.gateMoved = done;
        void this.done.then(done, done);
      });
    }
  }

  /** The bound last reported to the gate, for the whole subscription and per task. */
  private readonly gateReported = { all: Number.NEGATIVE_INFINITY, tasks: new Map<number, number>() };

  /** Reports to the gate what is processed below its bound now, if that moved on. */
  private async checkGate(gate: EventTimeGate): Promise<void> {
    const reported = this.gateReported;
    // Floored to a slot start as the planner floors it, so `reached` says what was processed.
    const bound = gateBound(gate.bound(), this.options.slotMs);
    const tasks =
      gate.reachedTask === undefined
        ? []
        : [...new Set([...this.queues.values()].map((q) => this.taskOf(q)))].filter(
            (t) => bound > (reported.tasks.get(t) ?? Number.NEGATIVE_INFINITY),
          );
    if (!(bound > reported.all) && tasks.length === 0) return;
    const ends = await this.gatedEnds().catch(() => undefined);
    if (ends === undefined || this.stopped) return;
    // What was processed, then that its outputs are visible (a batch committing in between is
    // covered: its outputs are checked too).
    const all = bound > reported.all && this.processedBelow(bound, ends);
    const done = tasks.filter((task) => this.processedBelow(bound, ends, task));
    if (!all && done.length === 0) return;
    if (!(await this.outputsVisible().catch(() => false)) || this.stopped) return;
    if (all) {
      reported.all = bound;
      gate.reached(bound);
    }
    for (const task of done) {
      reported.tasks.set(task, bound);
      gate.reachedTask!(task, bound);
    }
  }

  /** The gated input partitions' offsets on the broker, by topic. */
  private async gatedEnds(): Promise<Map<string, Map<number, { low: bigint; high: bigint }>>> {
    const out = new Map<string, Map<number, { low: bigint; high: bigint }>>();
    for (const topic of this.options.topics)
      if (!this.ungated.has(topic)) out.set(topic, await this.log.endOffsets(topic));
    return out;
  }

  /**
   * True when every gated input record older than `bound` (of `task` only, when given) is
   * processed, by the offsets `ends` read from the broker after the bound was taken. The caller
   * checks that the outputs are visible.
   */
  private processedBelow(
    bound: number,
    ends: Map<string, Map<number, { low: bigint; high: bigint }>>,
    task?: number,
  ): boolean {
    for (const [topic, partitions] of ends) {
      for (const [partition, end] of partitions) {
        if (end.high <= end.low) continue;
        if (task !== undefined && this.taskOf({ partition }) !== task) continue;
        const k = `${topic}\u0000${partition}`;
        const q = this.queues.get(k);
        if (q === undefined) return false;
        const pos = q.pos ?? this.positions.get(k);
        if (pos !== undefined && pos >= end.high) continue;
        const head = q.records[0];
        if (head !== undefined) {
          if (head.timestamp >= bound) continue;
          return false;
        }
        // Nothing fetched past the position: only batch markers left, or records not fetched yet.
        if (q.fetchedTo !== undefined && q.fetchedTo >= end.high) continue;
        return false;
      }
    }
    return true;
  }

  /**
   * A new assignment: fetched-but-unprocessed records are dropped (kafkajs fetches again from the
   * group's committed offsets after every rebalance), positions are loaded, and every assigned
   * partition's transactional producer is initialised first — that fences an older owner and
   * aborts its open transaction, so a task restoring state reads a settled changelog.
   */
  private assigned(assignment: Record<string, number[]>): void {
    const generation = ++this.generation;
    this.fencedIn = undefined;
    clearTimeout(this.fenceWatchdog);
    const queues = new Map<string, PartitionQueue>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const k = `${topic}\u0000${partition}`;
        queues.set(k, {
          topic,
          partition,
          records: [],
          pos: this.queues.get(k)?.pos,
          fetchedTo: undefined,
          end: undefined,
          paused: false,
        });
      }
    }
    const wasPaused = [...this.queues.values()].filter((q) => q.paused);
    const owned = new Set([...queues.values()].map((q) => this.taskOf(q)));
    for (const task of new Set([...this.queues.values()].map((q) => this.taskOf(q))))
      if (!owned.has(task)) this.dropProducer(task);
    this.queues = queues;
    this.options.onAssigned?.([...owned].sort((x, y) => x - y));
    if (wasPaused.length > 0)
      this.consumer.resume(wasPaused.map((q) => ({ topic: q.topic, partitions: [q.partition] })));
    this.ready = this.retryingWhileAssigned(generation, async () => {
      for (const task of new Set([...queues.values()].map((q) => this.taskOf(q))))
        await this.producerFor(task);
      for (const topic of new Set([...queues.values()].map((q) => q.topic))) {
        const committed = await this.log.committed(this.options.group, topic);
        const ends = await this.log.endOffsets(topic);
        for (const q of queues.values()) {
          if (q.topic !== topic || generation !== this.generation) continue;
          const end = ends.get(q.partition) ?? { low: 0n, high: 0n };
          const c = committed.get(q.partition);
          const start = c ?? (this.options.fromBeginning === false ? end.high : end.low);
          if (q.pos === undefined || start > q.pos) q.pos = start;
          if (q.pos >= end.high) {
            // Nothing to fetch: known to be at its end until a batch says otherwise.
            q.fetchedTo = q.pos;
            q.end = end.high;
          }
        }
      }
    });
    this.ready.catch(() => undefined);
    void this.drain().catch((err) => this.fail(err));
  }

  /**
   * Runs `fn` until it succeeds, retrying transient failures (the broker restarting: producers
   * cannot connect, offsets cannot be read) with capped back-off, as long as this assignment is
   * current and the subscription runs. Anything else fails at once.
   */
  private async retryingWhileAssigned(generation: number, fn: () => Promise<void>): Promise<void> {
    const backoff = new Backoff(100, 5000);
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        // A newer assignment replaced this one: its own preparation runs; this one just ends.
        if (generation !== this.generation) return;
        const transient =
          err instanceof HetuError ? err.transient : (err as { retriable?: boolean })?.retriable;
        if (!transient || this.stopped) throw err;
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
  }

  private advance(topic: string, partition: number, next: bigint): void {
    const k = `${topic}\u0000${partition}`;
    const cur = this.positions.get(k);
    if (cur === undefined || next > cur) this.positions.set(k, next);
    for (const w of [...this.waiters]) w();
  }

  /** The task a partition belongs to: its partition number, or 0 in a single-task group. */
  private taskOf(q: { partition: number }): number {
    return this.options.singleTask === true ? 0 : q.partition;
  }

  /** One transactional producer per task: a new owner of the task fences the old one. */
  private producerId(task: number): string {
    return `${this.log.transactionalIdPrefix}-${this.options.group}-task-${task}`;
  }

  /**
   * Drops the producer of a task this member no longer owns: another member fences it, so when
   * the task comes back a new producer must be initialised (which fences that other member).
   */
  private dropProducer(task: number): void {
    const id = this.producerId(task);
    const p = this.producers.get(id);
    this.producers.delete(id);
    void p?.then((x) => x.disconnect()).catch(() => undefined);
  }

  private producerFor(task: number): Promise<Producer> {
    const id = this.producerId(task);
    let p = this.producers.get(id);
    if (!p) {
      p = this.log.transactionalProducer(id);
      p.catch(() => this.producers.delete(id));
      this.producers.set(id, p);
    }
    return p;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isStale, resolveOffset } = payload;
    this.heartbeat = heartbeat;
    if (isStale() || this.stopped) return;
    const q = this.queues.get(`${batch.topic}\u0000${batch.partition}`);
    if (!q) return;
    await this.ready;
    const from = q.fetchedTo ?? q.pos ?? 0n;
    for (const m of batch.messages) {
      const o = BigInt(m.offset);
      if (o >= from && (q.pos === undefined || o >= q.pos) && !isSeal(m))
        q.records.push(toRecord(batch.topic, batch.partition, m));
    }
    const to = BigInt(batch.lastOffset()) + 1n;
    if (q.fetchedTo === undefined || to > q.fetchedTo) q.fetchedTo = to;
    q.end = BigInt(batch.highWatermark);
    if (q.records.length === 0 && (q.pos === undefined || to > q.pos)) {
      // Only seal records: the partition moved on without records (as past control records).
      q.pos = to;
      this.advance(batch.topic, batch.partition, to);
    }
    // kafkajs fetches on from here; the records wait in the queue until the merge takes them.
    resolveOffset(batch.lastOffset());
    const max = this.options.maxBatchRecords ?? 500;
    if (!q.paused && q.records.length >= 8 * max) {
      q.paused = true;
      this.consumer.pause([{ topic: q.topic, partitions: [q.partition] }]);
    }
    await this.drain();
  }

  /** Runs the merge; one at a time. */
  private drain(): Promise<void> {
    return this.exclusive(() => this.drainNow());
  }

  /** Runs `fn` when no merge runs (no transaction of ours is open meanwhile). */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.draining.then(fn);
    this.draining = run.catch(() => undefined);
    return run;
  }

  /**
   * Delivers batches while some task can go on: each task (partition number p of every topic, or
   * every partition for a single task) merges its partitions by event time exactly as the
   * embedded log does (`../merge.ts`). A partition with nothing fetched that is not known to be at
   * its end holds its task back until kafkajs fetches it.
   */
  private async drainNow(): Promise<void> {
    const generation = this.generation;
    await this.ready;
    if (generation !== this.generation) return;
    const max = this.options.maxBatchRecords ?? 500;
    const ungated = this.ungated;
    for (let progressed = true; progressed; ) {
      const bound = gateBound(this.options.gate?.bound() ?? Infinity, this.options.slotMs);
      if (this.options.gate !== undefined) {
        await this.refreshEnds(bound);
        if (generation !== this.generation) return;
      }
      const planning = {
        bound,
        ...(this.options.slotMs !== undefined ? { slotMs: this.options.slotMs } : {}),
      };
      progressed = false;
      const tasks = new Map<number, PartitionQueue[]>();
      for (const q of this.queues.values()) {
        const id = this.taskOf(q);
        let list = tasks.get(id);
        if (!list) tasks.set(id, (list = []));
        list.push(q);
      }
      for (const [task, all] of tasks) {
        if (this.stopped || this.closingNow || generation !== this.generation || this.fencedIn === generation)
          return;
        // Partitions with nothing pending and known to be at their end take no part.
        const queues = all
          .filter(
            (q) =>
              q.records.length > 0 || q.fetchedTo === undefined || q.end === undefined || q.fetchedTo < q.end,
          )
          .map((q) => ({
            topic: q.topic,
            partition: q.partition,
            records: q.records,
            complete: q.fetchedTo !== undefined && q.end !== undefined && q.fetchedTo >= q.end,
            ...(ungated.has(q.topic) ? { ungated: true } : {}),
            q,
          }));
        const plan = planBatch(queues, max, planning);
        if (plan === 'wait' || plan.length === 0) continue;
        const records: LogRecord[] = [];
        const positions: { q: PartitionQueue; n: number; next: bigint }[] = [];
        for (const run of plan) {
          const { q } = queues[run.queue]!;
          records.push(...q.records.slice(run.from, run.from + run.count));
          const n = run.from + run.count;
          const next = n === q.records.length ? q.fetchedTo! : q.records[n - 1]!.offset + 1n;
          const known = positions.find((p) => p.q === q);
          if (known) Object.assign(known, { n, next });
          else positions.push({ q, n, next });
        }
        try {
          await this.deliver(
            { task, records, epoch: generation },
            positions.map((p) => ({ topic: p.q.topic, partition: p.q.partition, next: p.next })),
            () => generation === this.generation,
          );
        } catch (err) {
          // The assignment ended under the batch: nothing of it was committed; the new owner (this
          // member again, or another) starts from the committed positions.
          if (err instanceof StaleAssignment) return;
          throw err;
        }
        for (const { q, n, next } of positions) {
          q.records.splice(0, n);
          q.pos = next;
          this.advance(q.topic, q.partition, next);
          if (q.paused && q.records.length < 2 * max) {
            q.paused = false;
            this.consumer.resume([{ topic: q.topic, partitions: [q.partition] }]);
          }
        }
        try {
          await this.heartbeat?.();
        } catch (err) {
          // The group rebalances: let kafkajs rejoin now (it waits for this drain) instead of
          // working on through a backlog the group may be handing to another member.
          if (hasType(err, REBALANCING)) return;
        }
        progressed = true;
      }
    }
  }

  private async deliver(
    batch: Batch,
    positions: readonly { topic: string; partition: number; next: bigint }[],
    isRunning: () => boolean,
  ): Promise<void> {
    const backoff = new Backoff(100, 5000);
    /** The attempt whose commit may have landed before the broker went away. */
    let uncertain: { committed: () => void; written: UncertainCommit['written'] } | undefined;
    for (let attempt = 1; ; attempt++) {
      const { tx, outputs, committed } = collectingTransaction();
      try {
        if (uncertain) {
          if (await this.commitLanded(batch.task, positions)) {
            this.noteCommitted(batch.task, uncertain.written, positions);
            uncertain.committed();
            return;
          }
          // It was aborted: nothing of it is visible; the batch is handled again from the start.
          uncertain = undefined;
        }
        // Handled again, or the first batch of the task in this assignment: the handler may
        // rebuild the task's state from its changelog, which must then hold every committed batch.
        if (attempt > 1 || this.handledIn.get(batch.task) !== batch.epoch) await this.settle(batch.task);
        this.handledIn.set(batch.task, batch.epoch);
        await this.options.handler(batch, tx);
        await this.commit(batch.task, positions, outputs);
        committed();
        return;
      } catch (err) {
        if (err instanceof UncertainCommit) uncertain = { committed, written: err.written };
        if (!isRunning() || this.closingNow)
          throw new StaleAssignment('the assignment changed or the subscription closes', { cause: err });
        if (hasType(err, FENCED)) {
          this.fenced(batch.task);
          throw new StaleAssignment('fenced by a newer owner of the task', { cause: err });
        }
        const decision = this.options.onError?.(err, batch, attempt) ?? 'retry';
        if (decision === 'stop' || this.stopped) {
          void this.fail(err);
          throw err;
        }
        const wait = backoff.next();
        const until = Date.now() + wait;
        while (Date.now() < until) {
          await this.heartbeat?.().catch(() => undefined);
          await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, until - Date.now()))));
        }
      }
    }
  }

  /**
   * Commits outputs and the input position in one transaction. A transaction begun while the
   * coordinator still completes the previous one fails with CONCURRENT_TRANSACTIONS (the Java
   * client retries these internally; kafkajs does not): abort and retry the same outputs.
   */
  private async commit(
    task: number,
    positions: readonly { topic: string; partition: number; next: bigint }[],
    outputs: { topic: string; records: AppendRecord[] }[],
  ): Promise<void> {
    const producer = await this.producerFor(task);
    const backoff = new Backoff(2, 500);
    for (let attempt = 1; ; attempt++) {
      let txn: Awaited<ReturnType<Producer['transaction']>>;
      try {
        txn = await producer.transaction();
      } catch (err) {
        // The producer's transaction state is stuck where a lost broker left it: start over with a
        // new producer (initialising its transactional id settles what the old one left open).
        this.dropProducer(task);
        throw new HetuError(
          'HETU_KAFKA_UNREACHABLE',
          `Could not begin a transaction for task ${task} of group ${this.options.group} (${(err as Error).message}); retrying with a new producer.`,
          { cause: err, transient: true },
        );
      }
      const written: { topic: string; partition: number; end: bigint }[] = [];
      let committing = false;
      try {
        for (const o of outputs) {
          if (o.records.length === 0) continue;
          const partitions = await this.log.assignPartitions(o.topic, o.records);
          const messages = o.records.map((r, i) => ({
            key: r.key,
            value: r.value,
            partition: partitions[i]!,
            timestamp: r.timestamp !== undefined ? String(r.timestamp) : undefined,
            headers: toHeaders(r.headers),
          }));
          // One send becomes one record batch per partition, which the broker refuses above its
          // message.max.bytes (1 MiB by default): send in slices well under it.
          for (const slice of sizedSlices(o.records, MAX_REQUEST_BYTES)) {
            const part = messages.slice(slice.from, slice.to);
            const sliceCounts = new Map<number, bigint>();
            for (const m of part) sliceCounts.set(m.partition, (sliceCounts.get(m.partition) ?? 0n) + 1n);
            const meta = await txn.send({ topic: o.topic, acks: -1, messages: part });
            for (const m of meta) {
              const base = m.baseOffset ?? m.offset;
              if (base !== undefined && Number(base) >= 0)
                written.push({
                  topic: o.topic,
                  partition: m.partition,
                  end: BigInt(base) + (sliceCounts.get(m.partition) ?? 0n),
                });
            }
          }
        }
        await txn.sendOffsets({
          consumerGroupId: this.options.group,
          topics: [...new Set(positions.map((p) => p.topic))].map((topic) => ({
            topic,
            partitions: positions
              .filter((p) => p.topic === topic)
              .map((p) => ({ partition: p.partition, offset: String(p.next) })),
          })),
        });
        crashPoint('between-produce-and-commit');
        committing = true;
        await txn.commit();
        this.noteCommitted(task, written, positions);
        return;
      } catch (err) {
        if (committing && !hasType(err, FENCED)) {
          this.dropProducer(task);
          throw new UncertainCommit(
            `The commit of a batch of task ${task} of group ${this.options.group} was cut off (${(err as Error).message}): checking whether it landed.`,
            err,
            written,
          );
        }
        let aborted = true;
        await txn.abort().catch(() => (aborted = false));
        // An abort that could not reach the broker leaves the producer mid-transaction: replace it.
        if (!aborted) this.dropProducer(task);
        const type = (err as { type?: string }).type;
        if (type === 'CONCURRENT_TRANSACTIONS' && attempt < 50) {
          this.concurrentTransactionRetries++;
          await new Promise((r) => setTimeout(r, backoff.next()));
          continue;
        }
        throw kafkaError(
          err,
          this.log.brokers,
          `commit a batch of task ${task} of group ${this.options.group}`,
        );
      }
    }
  }

  /** Records what a committed transaction of `task` makes visible once its markers are written. */
  private noteCommitted(
    task: number,
    written: readonly { topic: string; partition: number; end: bigint }[],
    positions: readonly { topic: string; partition: number; next: bigint }[],
  ): void {
    let mine = this.byTask.get(task);
    if (!mine) this.byTask.set(task, (mine = { outputs: new Map(), positions: new Map() }));
    const raise = (m: Map<string, bigint>, k: string, v: bigint) => {
      const cur = m.get(k);
      if (cur === undefined || v > cur) m.set(k, v);
    };
    // The commit marker follows the batch's last record of each partition; readers see the
    // records once the coordinator has written it (shortly after commit() resolves).
    for (const w of written) raise(mine.outputs, `${w.topic}\u0000${w.partition}`, w.end);
    // Likewise the group's offset becomes readable once the markers are written.
    for (const p of positions) raise(mine.positions, `${p.topic}\u0000${p.partition}`, p.next);
  }

  /**
   * What of a task's commits is not readable yet: the output partitions whose end is not past the
   * marker of its last transaction there, and whether the group's committed offsets are behind
   * what it sent. `seen` caches the ends and offsets read, per topic, across calls.
   */
  private async unreadable(
    mine: { outputs: Map<string, bigint>; positions: Map<string, bigint> },
    seen: { ends: Map<string, Map<number, { high: bigint }>>; committed: Map<string, Map<number, bigint>> },
  ): Promise<{ partitions: { topic: string; partition: number }[]; offsetsBehind: boolean }> {
    const partitions: { topic: string; partition: number }[] = [];
    for (const [k, marker] of mine.outputs) {
      const [topic, p] = k.split('\u0000') as [string, string];
      let ends = seen.ends.get(topic);
      if (!ends) seen.ends.set(topic, (ends = await this.log.endOffsets(topic)));
      if ((ends.get(Number(p))?.high ?? 0n) <= marker) partitions.push({ topic, partition: Number(p) });
    }
    let offsetsBehind = false;
    for (const [k, sent] of mine.positions) {
      const [topic, p] = k.split('\u0000') as [string, string];
      let committed = seen.committed.get(topic);
      if (!committed)
        seen.committed.set(topic, (committed = await this.log.committed(this.options.group, topic)));
      if ((committed.get(Number(p)) ?? -1n) < sent) offsetsBehind = true;
    }
    return { partitions, offsetsBehind };
  }

  /**
   * Closes transactions the coordinator committed but whose markers never reached a partition. A
   * broker restarted while it completes a commit can finish it without writing the markers of some
   * partitions (seen on the test broker after a SIGKILL: the transaction log says CompleteCommit,
   * the partition still holds the records as an open transaction); those partitions then stay
   * unreadable past the records, for every read-committed reader, until the same producer ends
   * another transaction there. For each task this member owns whose committed output (or group
   * offset) is still not readable, its producer commits one seal record (SEAL_HEADER, no value) to
   * each such partition and sends the task's committed positions again: the marker then closes the
   * open transaction as committed — which the coordinator had decided — and the records become
   * readable. hetu's readers skip seal records.
   */
  private async seal(): Promise<void> {
    const owned = new Set([...this.queues.values()].map((q) => this.taskOf(q)));
    const seen = { ends: new Map(), committed: new Map() };
    for (const [task, mine] of this.byTask) {
      if (!owned.has(task)) continue;
      const { partitions, offsetsBehind } = await this.unreadable(mine, seen);
      if (partitions.length === 0 && !offsetsBehind) continue;
      const stuck: { topic: string; records: AppendRecord[] }[] = [];
      for (const { topic, partition } of partitions) {
        let o = stuck.find((x) => x.topic === topic);
        if (!o) stuck.push((o = { topic, records: [] }));
        o.records.push({
          key: SEAL_KEY,
          value: null,
          partition,
          headers: { [SEAL_HEADER]: Buffer.from('1') },
        });
      }
      const positions = [...mine.positions].map(([k, next]) => {
        const [topic, p] = k.split('\u0000') as [string, string];
        return { topic, partition: Number(p), next };
      });
      try {
        await this.commit(task, positions, stuck);
      } catch (err) {
        // Not the batch's own commit: whatever happened to it, the wait for readable outputs goes on.
        throw new HetuError(
          'HETU_KAFKA_UNSETTLED',
          `Could not seal the open transactions of task ${task} of group ${this.options.group} (${(err as Error).message}); retrying.`,
          { cause: err, transient: true },
        );
      }
      this.sealedTransactions++;
    }
  }

  /**
   * Before a batch is handled again after a failed attempt, and before the first batch of a task
   * in an assignment (the handler may rebuild the task's state from the changelog): the task's
   * producer is initialised — a new one after a drop, which makes the coordinator finish the id's
   * earlier transactions — and every transaction this subscription committed is visible. A
   * read-committed read ends at the last stable offset, which stops before a transaction whose
   * commit markers are not written yet; right after a broker restart the coordinator writes those
   * of a commit it had acknowledged a moment later (or never: after SEAL_AFTER_MS it seals them,
   * `seal`), and a rebuild then would miss the last committed batch and fold the next onto an older
   * state.
   */
  private async settle(task: number): Promise<void> {
    await this.producerFor(task);
    const deadline = Date.now() + SETTLE_COMMITTED_MS;
    const sealAfter = Date.now() + SEAL_AFTER_MS;
    let sealed = false;
    while (!(await this.outputsVisible())) {
      if (!sealed && Date.now() > sealAfter) {
        sealed = true;
        await this.seal();
        continue;
      }
      if (Date.now() > deadline)
        throw new HetuError(
          'HETU_KAFKA_UNSETTLED',
          `The transactions group ${this.options.group} committed are not readable after ${SETTLE_COMMITTED_MS / 1000} s (their commit markers are not written, or another transaction is open on an output partition); retrying.`,
          { transient: true },
        );
      // This runs inside kafkajs' eachBatch: keep the membership alive while waiting.
      await this.heartbeat?.().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * After an UncertainCommit: initialises the task's new producer, which makes the coordinator
   * finish the old transaction (commit if its commit was logged, abort otherwise), then reads
   * whether the group's offsets reached the batch's positions. Only this task's producer commits
   * them, so reaching them means the batch landed.
   */
  private async commitLanded(
    task: number,
    positions: readonly { topic: string; partition: number; next: bigint }[],
  ): Promise<boolean> {
    await this.producerFor(task);
    const deadline = Date.now() + SETTLE_VISIBLE_MS;
    for (;;) {
      let landed = true;
      for (const topic of new Set(positions.map((p) => p.topic))) {
        const committed = await this.log.committed(this.options.group, topic);
        if (positions.some((p) => p.topic === topic && (committed.get(p.partition) ?? -1n) < p.next)) {
          landed = false;
          break;
        }
      }
      if (landed) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * A commit of `task` was fenced: another member initialised its transactional id, so the group
   * gave the task away in a rebalance this member has not joined yet. Drop the dead producer and
   * deliver nothing until the new assignment arrives (kafkajs rejoins); if none comes within the
   * session and rebalance timeouts, stop with the reason.
   */
  private fenced(task: number): void {
    this.dropProducer(task);
    if (this.fencedIn === this.generation) return;
    const generation = (this.fencedIn = this.generation);
    clearTimeout(this.fenceWatchdog);
    this.fenceWatchdog = setTimeout(() => {
      if (this.fencedIn === generation && this.generation === generation)
        void this.fail(
          new HetuError(
            'HETU_KAFKA_FAILED',
            `Group ${this.options.group}: another instance took over task ${task} and no new assignment came for this one; restart it to rejoin.`,
          ),
        );
    }, 120_000);
    this.fenceWatchdog.unref();
  }

  private async fail(err: unknown): Promise<void> {
    if (this.stopError !== undefined || this.stopped) return;
    this.stopError = err;
    await this.shutdown();
    this.rejectDone(err);
    for (const w of [...this.waiters]) w();
  }

  /** After a failed start: disconnects what it connected. */
  discard(): Promise<void> {
    return this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect().catch(() => undefined);
    for (const p of this.producers.values())
      await (await p.catch(() => undefined))?.disconnect().catch(() => undefined);
    this.producers.clear();
  }

  async whenCaughtUp(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // The broker may be away for a while (a restart): transient failures are retried until the deadline.
    const backoff = new Backoff(100, 2000);
    for (;;) {
      try {
        return await this.caughtUpBy(deadline, timeoutMs);
      } catch (err) {
        if (!(err instanceof HetuError && err.transient) || Date.now() > deadline || this.stopped) throw err;
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
  }

  private async caughtUpBy(deadline: number, timeoutMs: number): Promise<void> {
    let unreadableSince: number | undefined;
    let sealed = false;
    const target = new Map<string, bigint>();
    for (const t of this.options.topics) {
      for (const [p, o] of await this.log.endOffsets(t)) target.set(`${t}\u0000${p}`, o.high);
    }
    for (;;) {
      if (this.stopError !== undefined) throw this.stopError;
      if (this.stopped)
        throw new HetuError('HETU_LOG_SUBSCRIPTION_CLOSED', 'The subscription closed before it caught up.');
      let behind: string | undefined;
      const committedByTopic = new Map<string, Map<number, bigint>>();
      for (const [tp, end] of target) {
        if (end === 0n) continue;
        const [topic, p] = tp.split('\u0000') as [string, string];
        const pos = this.positions.get(tp);
        if (pos !== undefined && pos >= end) continue;
        let committed = committedByTopic.get(topic);
        if (!committed)
          committedByTopic.set(topic, (committed = await this.log.committed(this.options.group, topic)));
        const c = committed.get(Number(p));
        if (c !== undefined && c >= end) continue;
        // Said when the deadline passes: where the group stood.
        behind =
          `${topic} partition ${p} is at offset ${c ?? 'none'} committed` +
          `${pos === undefined ? '' : `, ${pos} read`} of ${end}` +
          `${this.queues.has(tp) ? (this.queues.get(tp)!.paused ? ' (paused)' : '') : ' (not assigned to this member)'}`;
        break;
      }
      if (behind === undefined) {
        if (await this.outputsVisible()) return;
        // Caught up, but what we committed is still not readable: markers a restarted broker
        // never wrote (`seal`), when no later batch of ours will close their transactions.
        unreadableSince ??= Date.now();
        if (!sealed && Date.now() - unreadableSince > SEAL_AFTER_MS) {
          sealed = true;
          await this.exclusive(() => this.seal());
        }
      } else unreadableSince = undefined;
      if (Date.now() > deadline)
        throw new HetuError(
          'HETU_LOG_CATCH_UP_TIMEOUT',
          `Group ${this.options.group} did not catch up with ${this.options.topics.join(', ')} within ${timeoutMs} ms: ` +
            (behind ?? "every input was read, but this member's last transactions are not yet readable") +
            '.',
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 200);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
        // then(done, done), not finally(done): a derived promise of a failed `done` must not reject unhandled.
        void this.done.then(done, done);
      }).finally(() => this.waiters.clear());
    }
  }

  /**
   * True once our committed transactions are visible: every output partition's end is past the
   * marker of our last transaction there, and the group's committed offsets have reached what
   * those transactions sent.
   */
  private async outputsVisible(): Promise<boolean> {
    const seen = { ends: new Map(), committed: new Map() };
    for (const mine of this.byTask.values()) {
      const { partitions, offsetsBehind } = await this.unreadable(mine, seen);
      if (partitions.length > 0 || offsetsBehind) return false;
    }
    return true;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.fenceWatchdog);
      if (!this.stopped) {
        // Finish the batch in hand (it commits, or aborts and is redone by the next owner); the
        // drain starts no other once closing is set. Bounded: a drain waiting for a broker that is
        // away would otherwise hold close() until it returns.
        this.closingNow = true;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.draining,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_DRAIN_MS))),
        ]);
        clearTimeout(timer);
        // What the last batches reached goes to the gate before the tasks are handed back: a
        // stage that stops (a backfill that caught up) leaves its frontier for the stages after it.
        const gate = this.options.gate;
        if (gate !== undefined) {
          let t2: NodeJS.Timeout | undefined;
          await Promise.race([
            this.checkGate(gate).catch(() => undefined),
            new Promise<void>((resolve) => (t2 = setTimeout(resolve, CLOSE_GATE_MS))),
          ]);
          clearTimeout(t2);
        }
        await this.shutdown();
        this.resolveDone();
      }
      await this.done.catch(() => undefined);
      for (const w of [...this.waiters]) w();
    })();
    return this.closing;
  }
}
