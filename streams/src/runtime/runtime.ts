import type { EventTimeGate, Log, Subscription, TopicSpec } from '../port.ts';
import { EVENT_TIME_SLOT_MS } from '../merge.ts';
import { HetuError, isTransient } from '../errors.ts';
import { crashPoint } from '../crash-points.ts';
import { retryTransient } from '../backoff.ts';
import { bundleRecords } from '../bundle.ts';
import {
  POSITION_KEY,
  TaskState,
  asStateful,
  changelogRecords,
  foldBatch,
  isFactRecord,
  type AnyProcessor,
  type DeadLetter,
  type FactRecord,
  type StatefulProcessor,
} from './processor.ts';
import type { AppendRecord } from '../port.ts';

export const DLQ_TOPIC = 'hetu.dlq';

/** What a committed batch did, for metrics (docs/metrics.md). */
export interface BatchCommittedInfo {
  /** The task (partition number). */
  partition: number;
  records: number;
  deadLetters: number;
  skipped: number;
  /** Records consumed, per input topic. */
  inputs: Readonly<Record<string, number>>;
  /** Records appended, per output topic (facts and raw outputs; not the changelog or the DLQ). */
  outputs: Readonly<Record<string, number>>;
  /** Dead letters by source topic and reason code. */
  deadLetterReasons: readonly { topic: string; reasonCode: string }[];
  /** Wall-clock milliseconds from the batch's delivery to its commit (fold, encoding and commit). */
  durationMs: number;
  /** The task's event-time watermark after the batch (ms), or null before any record. */
  watermark: number | null;
}

export interface RuntimeEvents {
  /** After each committed batch. */
  batchCommitted?(info: BatchCommittedInfo): void;
  /** After a task restored its state from the changelog. */
  restored?(info: { partition: number; keys: number; records: number }): void;
  /** The tasks this instance owns, after each (re)assignment (`SubscribeOptions.onAssigned`). */
  assigned?(tasks: readonly number[]): void;
  /** A batch failed and will be retried (transient) — the runtime never dead-letters these. */
  retrying?(info: { partition: number; attempt: number; error: unknown }): void;
}

export interface ProcessorRuntimeOptions<In, V> {
  readonly log: Log;
  /** A keyed-table processor or a stateful one. */
  readonly processor: AnyProcessor<In, V>;
  /**
   * Encodes the value of a fact a processor emitted (`FactRecord`) for its topic, e.g. Avro through
   * the registry. Default: JSON. Never called for tombstones.
   */
  readonly encodeFact?: (topic: string, value: unknown) => Promise<Buffer> | Buffer;
  /** Encodes a dead letter as a record of the DLQ topic. Default: JSON. */
  readonly encodeDeadLetter?: (
    dl: DeadLetter,
    deadLetteredAt: number,
  ) => Promise<AppendRecord> | AppendRecord;
  /**
   * Clock for the time a record was dead-lettered (the DLQ record's timestamp, so the DLQ's
   * retention counts from then, not from the input's event time, which may be years old in a
   * replay). Facts never use it. Default Date.now.
   */
  readonly now?: () => number;
  readonly dlqTopic?: string;
  readonly maxBatchRecords?: number;
  /**
   * Event-time slot of its batches (`SubscribeOptions.slotMs`). Default `EVENT_TIME_SLOT_MS`, the
   * same for every stage and command, so the same input is cut into the same batches.
   */
  readonly slotMs?: number;
  /** Holds input back until it is complete up to an event time (`SubscribeOptions.gate`). */
  readonly gate?: EventTimeGate;
  /** Inputs the gate does not hold back. */
  readonly ungatedTopics?: readonly string[];
  /** Only these tasks (`SubscribeOptions.tasks`; the embedded log only). */
  readonly tasks?: readonly number[];
  readonly events?: RuntimeEvents;
  /** Retries of a failing batch before a non-transient, non-input error stops the processor. Default 0. */
  readonly maxProgrammerErrorRetries?: number;
  /**
   * `false`: write no changelog (neither state snapshots nor position markers) and restore nothing,
   * for a log nobody will run a stage on again (`hetu analyze` without a kept data directory:
   * docs/analyze-output.md). A batch that would need the state rebuilt (a retry after a failed
   * commit, a task another member may have run) then stops the processor with
   * HETU_RUNTIME_NO_CHANGELOG instead. Default true.
   */
  readonly changelog?: boolean;
  /** How long `start()` retries transient failures (the broker away). Default START_RETRY_MS. */
  readonly startRetryMs?: number;
}

/** How long a processor's start retries transient failures by default: two minutes. */
export const START_RETRY_MS = 120_000;

/** Default DLQ encoding: JSON with the original bytes in base64. */
export function jsonDeadLetter(dl: DeadLetter, deadLetteredAt: number): AppendRecord {
  return {
    key: Buffer.from(`${dl.source.topic}/${dl.source.partition}/${dl.source.offset}`),
    value: Buffer.from(
      JSON.stringify({
        processor: dl.processor,
        source: {
          topic: dl.source.topic,
          partition: dl.source.partition,
          offset: dl.source.offset.toString(),
        },
        reasonCode: dl.reasonCode,
        message: dl.message,
        timestamp: dl.timestamp,
        key: dl.key?.toString('base64') ?? null,
        value: dl.value?.toString('base64') ?? null,
      }),
    ),
    timestamp: deadLetteredAt,
  };
}

/**
 * Runs a processor on a log: restores each task's state from its changelog partition on first
 * use, folds batches, and commits changelog, outputs, dead letters and input positions together.
 * Error policy: bad input → DLQ and go on; transient failures → retry with capped back-off;
 * anything else → stop (the caller crashes loudly and its supervisor restarts it).
 */
export class ProcessorRuntime<In, V> {
  private readonly opts: ProcessorRuntimeOptions<In, V>;
  private readonly def: StatefulProcessor<In, unknown>;
  private readonly tasks = new Map<number, Promise<TaskState<unknown>>>();
  /** The `Batch.epoch` of each task's last batch: a new one means another member may have run it. */
  private readonly epochs = new Map<number, number | undefined>();
  private subscription: Subscription | undefined;

  constructor(options: ProcessorRuntimeOptions<In, V>) {
    this.opts = options;
    this.def = asStateful(options.processor as AnyProcessor<In, unknown>);
  }

  get dlqTopic(): string {
    return this.opts.dlqTopic ?? DLQ_TOPIC;
  }

  /** Creates the changelog (compacted, co-partitioned with the inputs) and the DLQ if missing. */
  async ensureTopics(): Promise<void> {
    const { log } = this.opts;
    const processor = this.def;
    const infos = await log.describeTopics(processor.inputs);
    const counts = new Set(infos.map((i) => i.partitions.length));
    if (infos.length !== processor.inputs.length) {
      const missing = processor.inputs.filter((t) => !infos.some((i) => i.name === t));
      throw new HetuError(
        'HETU_LOG_UNKNOWN_TOPIC',
        `Processor ${processor.name} reads ${missing.join(', ')}, which does not exist: create the topics first ('hetu topics --create').`,
      );
    }
    if (processor.singleTask) {
      await log.ensureTopics([
        { name: processor.changelogTopic, partitions: 1, cleanupPolicy: 'compact' },
        { name: this.dlqTopic, partitions: 1, cleanupPolicy: 'delete', retentionMs: 30 * 86_400_000 },
      ]);
      return;
    }
    if (counts.size !== 1)
      throw new HetuError(
        'HETU_RUNTIME_NOT_COPARTITIONED',
        `Processor ${processor.name} reads topics with different partition counts (${infos.map((i) => `${i.name}: ${i.partitions.length}`).join(', ')}): give them the same count.`,
      );
    const partitions = [...counts][0]!;
    const specs: TopicSpec[] = [
      { name: processor.changelogTopic, partitions, cleanupPolicy: 'compact' },
      { name: this.dlqTopic, partitions: 1, cleanupPolicy: 'delete', retentionMs: 30 * 86_400_000 },
    ];
    await log.ensureTopics(specs);
  }

  private task(partition: number): Promise<TaskState<unknown>> {
    let t = this.tasks.get(partition);
    if (!t) {
      t = this.restore(partition);
      t.catch(() => this.tasks.delete(partition));
      this.tasks.set(partition, t);
    }
    return t;
  }

  private async restore(partition: number): Promise<TaskState<unknown>> {
    const { log } = this.opts;
    const processor = this.def;
    const task = new TaskState<unknown>(processor.init());
    if (this.opts.changelog === false) return task;
    const keys = new Set<string>();
    let from = 0n;
    let count = 0;
    for (;;) {
      const chunk = await log.read(processor.changelogTopic, partition, {
        fromOffset: from,
        maxRecords: 20_000,
      });
      if (chunk.length === 0) break;
      for (const r of chunk) {
        if (r.key === null) continue;
        crashPoint('restore');
        const key = r.key.toString('utf8');
        task.restore(processor, key, r.value);
        if (r.value === null) keys.delete(key);
        else if (key !== POSITION_KEY) keys.add(key);
      }
      count += chunk.length;
      from = chunk[chunk.length - 1]!.offset + 1n;
    }
    this.opts.events?.restored?.({ partition, keys: keys.size, records: count });
    return task;
  }

  /**
   * Starts consuming. Resolves once subscribed. A transient failure while setting up (the broker
   * restarting) is retried for `startRetryMs`.
   */
  start(): Promise<Subscription> {
    return retryTransient(() => this.startOnce(), this.opts.startRetryMs ?? START_RETRY_MS);
  }

  private async startOnce(): Promise<Subscription> {
    const { log } = this.opts;
    const processor = this.def;
    await this.ensureTopics();
    const maxRetries = this.opts.maxProgrammerErrorRetries ?? 0;
    const keepsChangelog = this.opts.changelog !== false;
    this.subscription = await log.subscribe({
      group: processor.name,
      topics: processor.inputs,
      fromBeginning: true,
      maxBatchRecords: this.opts.maxBatchRecords ?? 500,
      slotMs: this.opts.slotMs ?? EVENT_TIME_SLOT_MS,
      ...(this.opts.gate ? { gate: this.opts.gate } : {}),
      ...(this.opts.ungatedTopics ? { ungatedTopics: this.opts.ungatedTopics } : {}),
      ...(this.opts.tasks ? { tasks: this.opts.tasks } : {}),
      ...(processor.singleTask ? { singleTask: true } : {}),
      ...(this.opts.events?.assigned ? { onAssigned: this.opts.events.assigned } : {}),
      onError: (err, batch, attempt) => {
        if (isTransient(err) || attempt <= maxRetries) {
          this.opts.events?.retrying?.({ partition: batch.task, attempt, error: err });
          return 'retry';
        }
        return 'stop';
      },
      handler: async (batch, tx) => {
        const started = performance.now();
        const taskId = batch.task;
        let task = await this.task(taskId);
        const moved = this.epochs.has(taskId) && this.epochs.get(taskId) !== batch.epoch;
        if (task.uncommitted || moved) {
          if (!keepsChangelog)
            throw new HetuError(
              'HETU_RUNTIME_NO_CHANGELOG',
              `Stage ${processor.name} runs without a changelog and its task ${taskId} ${task.uncommitted ? 'failed to commit a batch' : 'was reassigned'}: its state cannot be rebuilt, so it stops; run it again on a fresh log, or with its changelog.`,
            );
          // The last attempt folded into the state but did not commit, or the task was reassigned
          // (another member may have advanced it meanwhile): rebuild from the changelog.
          this.tasks.delete(taskId);
          task = await this.task(taskId);
        }
        this.epochs.set(taskId, batch.epoch);
        const result = await foldBatch(processor, task, batch.records, keepsChangelog);
        crashPoint('before-produce');
        const byTopic = new Map<string, AppendRecord[]>();
        const chosen = this.opts.tasks;
        for (const o of result.outputs) {
          let list = byTopic.get(o.topic);
          if (!list) byTopic.set(o.topic, (list = []));
          const record = isFactRecord(o.record) ? await this.encodeFact(o.topic, o.record, taskId) : o.record;
          // With its tasks split over connections, a stage must write only its tasks' partitions:
          // two writers of one partition would interleave by timing, and the offsets with them.
          if (chosen !== undefined && (record.partition === undefined || !chosen.includes(record.partition)))
            throw new HetuError(
              'HETU_RUNTIME_TASK_SPLIT',
              `Stage ${processor.name} wrote to ${o.topic} partition ${record.partition ?? '(by key)'} from task ${taskId}, outside its tasks ${chosen.join(', ')}: it cannot run split by tasks; run it whole.`,
            );
          list.push(record);
        }
        // Records of the log: a bundle counts as one, as it does for the stage reading it.
        const bundled = processor.bundled;
        if (bundled !== undefined)
          for (const [topic, records] of byTopic)
            if (bundled.includes(topic)) byTopic.set(topic, bundleRecords(records));
        for (const [topic, records] of byTopic) tx.append(topic, records);
        if (result.deadLetters.length > 0) {
          const encode = this.opts.encodeDeadLetter ?? jsonDeadLetter;
          const at = (this.opts.now ?? Date.now)();
          tx.append(this.dlqTopic, await Promise.all(result.deadLetters.map((d) => encode(d, at))));
          crashPoint('dlq-write');
        }
        if (keepsChangelog)
          tx.append(processor.changelogTopic, changelogRecords(processor, task, result, taskId));
        const events = this.opts.events;
        tx.onCommitted(() => {
          task.uncommitted = false;
          if (!events?.batchCommitted) return;
          const inputs: Record<string, number> = {};
          for (const r of batch.records) inputs[r.topic] = (inputs[r.topic] ?? 0) + 1;
          const outputs: Record<string, number> = {};
          for (const [topic, records] of byTopic) outputs[topic] = records.length;
          events.batchCommitted({
            partition: batch.task,
            records: batch.records.length,
            deadLetters: result.deadLetters.length,
            skipped: result.skipped,
            inputs,
            outputs,
            deadLetterReasons: result.deadLetters.map((d) => ({
              topic: d.source.topic,
              reasonCode: d.reasonCode,
            })),
            durationMs: performance.now() - started,
            watermark: Number.isFinite(task.watermark) ? task.watermark : null,
          });
        });
      },
    });
    return this.subscription;
  }

  private async encodeFact(topic: string, f: FactRecord, taskId: number): Promise<AppendRecord> {
    const encode = this.opts.encodeFact ?? ((_t: string, v: unknown) => Buffer.from(JSON.stringify(v)));
    return {
      key: Buffer.from(f.key),
      value: f.value === null ? null : await encode(topic, f.value),
      timestamp: f.timestamp,
      // A fact goes to its task's partition (one writer per partition), unless it names one.
      partition: f.partition ?? taskId,
    };
  }

  /** The in-memory state of a task (for tests and status): for a keyed processor, its table. */
  async state(partition: number): Promise<ReadonlyMap<string, V>> {
    const s = (await this.task(partition)).state as { table: ReadonlyMap<string, V> };
    return s.table;
  }

  /** The in-memory state object of a stateful processor's task. */
  async rawState(partition: number): Promise<unknown> {
    return (await this.task(partition)).state;
  }

  async close(): Promise<void> {
    await this.subscription?.close();
  }
}
