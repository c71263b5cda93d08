/**
 * The log port: what hetu needs from a log, and nothing shaped like a particular client.
 * Two adapters implement it: `embedded` (one process, SQLite in a data directory) and `kafka`.
 */

/** One immutable record as stored in a topic partition. `value === null` is a tombstone. */
export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  /** int64, exact. */
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch, as given by the writer (event time where the writer knows it). */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, Buffer>>;
}

/** A record to append. Without `partition`, the partition is murmur2(key) like Kafka's default. */
export interface AppendRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, Buffer>>;
  readonly partition?: number;
}

/** Where an appended record landed. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** -1 or undefined: keep forever. */
  readonly retentionMs?: number;
  /** How long tombstones stay readable in a compacted topic (Kafka's delete.retention.ms). */
  readonly deleteRetentionMs?: number;
  /** Kafka only: roll segments after this long, so compaction may run sooner (segment.ms). */
  readonly segmentMs?: number;
  /** Kafka only: compact once this share of the log is dirty (min.cleanable.dirty.ratio). */
  readonly minCleanableDirtyRatio?: number;
}

export interface PartitionInfo {
  readonly partition: number;
  /** First readable offset. */
  readonly low: bigint;
  /** Next offset to be written (the end). */
  readonly high: bigint;
}

export interface TopicInfo {
  readonly name: string;
  readonly partitions: readonly PartitionInfo[];
  readonly cleanupPolicy: CleanupPolicy | 'unknown';
  readonly retentionMs: number | undefined;
}

/** Outputs written inside a batch; committed atomically with the batch's input position. */
export interface BatchTransaction {
  append(topic: string, records: readonly AppendRecord[]): void;
  /** Runs after the batch's outputs and input position were committed (not if the commit failed). */
  onCommitted(callback: () => void): void;
}

export interface Batch {
  /** The task: partition number p of every subscribed topic (0 for a single-task group). */
  readonly task: number;
  /**
   * Records of one or more partitions of the task, merged by event time (`planBatch` in
   * merge.ts): per partition in offset order. The position after each partition's last record is
   * committed with the batch.
   */
  readonly records: readonly LogRecord[];
  /**
   * The task's ownership period in this subscription: it changes after a rebalance, when another
   * member may have processed the task since this member's previous batch of it, so a handler
   * that caches per-task state must rebuild it (the runtime restores it from the changelog).
   * Undefined: the adapter does not say (state cached across batches is then trusted).
   */
  readonly epoch?: number;
}

/**
 * Handles one batch of one task. Outputs appended through `tx` and the input positions after
 * the batch are committed atomically when the handler resolves. When it rejects, nothing of
 * the batch is committed and the batch is delivered again after a capped back-off; the
 * subscription reports the error through `onError`, which decides whether to retry or stop.
 */
export type BatchHandler = (batch: Batch, tx: BatchTransaction) => Promise<void>;

export type ErrorDecision = 'retry' | 'stop';

export interface SubscribeOptions {
  /** Consumer group; committed positions are per group. */
  readonly group: string;
  readonly topics: readonly string[];
  /** Where to start when the group has no committed position. Default: earliest. */
  readonly fromBeginning?: boolean;
  readonly handler: BatchHandler;
  /** Called when a handler rejects. Default: retry. `stop` closes the subscription with the error. */
  readonly onError?: (err: unknown, batch: Batch, attempt: number) => ErrorDecision;
  /** Upper bound on records per batch. Default 500. */
  readonly maxBatchRecords?: number;
  /**
   * One task reads every partition of every subscribed topic, merged by event time (ties: topic,
   * then partition), and one member of the group owns it. For stateless fan-in stages (a re-key)
   * whose output must come out in one deterministic order. Default: one task per partition number.
   */
  readonly singleTask?: boolean;
  /**
   * Event-time slot in ms (`PlanOptions.slotMs` in merge.ts): a batch never holds records of two
   * slots, so where batches end, and with them the batch markers' offsets, depends on the records
   * alone. Default: no slots (a batch is what is there, up to `maxBatchRecords`).
   */
  readonly slotMs?: number;
  /**
   * Holds back records at or after an event time until every input older than it is complete
   * (docs/design-deterministic-live.md).
   */
  readonly gate?: EventTimeGate;
  /** Subscribed topics the gate does not hold back (commands a person gives). */
  readonly ungatedTopics?: readonly string[];
  /**
   * Only these tasks (partition numbers; not with `singleTask`), whatever the group's assignment:
   * for one process that splits a stage's tasks over its threads, each thread with a connection of
   * its own (`hetu analyze`), so no two write the same partition. The embedded log only: the Kafka
   * adapter refuses it (there the group assigns the partitions).
   */
  readonly tasks?: readonly number[];
  /**
   * Called with the tasks this member owns (ascending) when it first gets them and after every
   * change: a rebalance on Kafka, a member joining or leaving on the embedded log. An empty list
   * when the group gave it none (more members than tasks).
   */
  readonly onAssigned?: (tasks: readonly number[]) => void;
}

/**
 * The event-time gate of a subscription: the time below which its inputs are complete (every
 * record older than it that will ever be in them is there), moved by whoever knows (the stages
 * before it, the feeders of raw input).
 */
export interface EventTimeGate {
  /** Exclusive: records at or after it wait. -Infinity holds everything back; Infinity nothing. */
  bound(): number;
  /** Calls `listener` when the bound may have moved; returns the function that stops it. */
  onMove(listener: () => void): () => void;
  /**
   * Called by the subscription once every record of its inputs older than `bound` (a bound it got
   * from `bound()`) is processed and its outputs committed and visible.
   */
  reached(bound: number): void;
  /**
   * Optional, per task (a partition number of the inputs; 0 in a single-task subscription) this
   * subscription owns: every record of that task's gated inputs older than `bound` is processed
   * and the outputs are committed and visible. Instances of one stage in several processes each
   * own some tasks; their reports together say how far the stage got (cli/src/frontiers.ts).
   */
  reachedTask?(task: number, bound: number): void;
}

export interface Subscription {
  /**
   * Resolves once every partition of the subscribed topics has been processed and committed up
   * to the end offset it had when this was called, and the outputs committed so far are visible
   * to readers. Rejects if the subscription stopped.
   */
  whenCaughtUp(timeoutMs?: number): Promise<void>;
  /** Resolves when the subscription stopped: with undefined after close(), or rejects with the error that stopped it. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export interface ReadOptions {
  readonly fromOffset?: bigint;
  /** Exclusive upper bound; default the end at the time of the call. */
  readonly toOffset?: bigint;
  readonly maxRecords?: number;
}

export interface Log {
  /** Which adapter this is, for status output. */
  readonly kind: 'embedded' | 'kafka';
  /** Creates missing topics with their configs; existing topics are left as they are. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Describes the named topics (all when omitted). Unknown names are left out. */
  describeTopics(names?: readonly string[]): Promise<TopicInfo[]>;
  /** Appends records to one topic; resolves with their positions, in order. */
  append(topic: string, records: readonly AppendRecord[]): Promise<RecordPosition[]>;
  /** Reads one partition without a consumer group (tail, dump, restore). */
  read(topic: string, partition: number, options?: ReadOptions): Promise<LogRecord[]>;
  /** Committed positions (next offset to read) of a group, per topic and partition. */
  committed(group: string, topic: string): Promise<Map<number, bigint>>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Deletes topics: their records, partitions, settings and the positions groups committed in
   * them. Resolves once the log no longer lists them; the names can then be created again, empty.
   * Names that do not exist are skipped. Records are gone for good: never give it raw input.
   */
  deleteTopics(names: readonly string[]): Promise<void>;
  /**
   * Deletes consumer groups (their committed positions). Unknown groups are skipped; a group with
   * a live member is refused (`HETU_LOG_GROUP_IN_USE`).
   */
  deleteGroups(groups: readonly string[]): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}
