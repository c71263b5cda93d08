import { errorCode, isTransient } from '../errors.ts';
import { isBundle, unbundle } from '../bundle.ts';
import type { AppendRecord, LogRecord } from '../port.ts';

/** Where an input record came from. */
export interface Source {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A keyed table: the state of a keyed processor, kept in a compacted changelog topic. */
export interface Store<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  put(key: string, value: V): void;
  delete(key: string): void;
  keys(): string[];
  readonly size: number;
}

/**
 * A fact to publish: a keyed value the runtime encodes (Avro, through the registry) before the
 * commit, so the fold itself stays synchronous. `value: null` publishes a tombstone.
 */
export interface FactRecord {
  readonly key: string;
  readonly value: unknown;
  /** Event time of the fact. */
  readonly timestamp: number;
  /**
   * Explicit partition; default: the partition of the task that emitted it, so every partition
   * of a fact topic has one writer and its order is that task's order (a key always belongs to
   * one task, so compaction by key still works).
   */
  readonly partition?: number;
}

/** Emits an output: raw bytes (`AppendRecord`) or a fact to encode (`FactRecord`). */
export type Emit = (topic: string, record: AppendRecord | FactRecord) => void;

export function isFactRecord(r: AppendRecord | FactRecord): r is FactRecord {
  return typeof r.key === 'string';
}

export interface ProcessorContext {
  /** This record's event time (ms). */
  readonly timestamp: number;
  /** The task's event-time watermark: the largest input timestamp seen so far, this record included. */
  readonly watermark: number;
  readonly source: Source;
  /** Emits an output record; it is committed atomically with the input position. */
  readonly emit: Emit;
}

export interface TickContext {
  readonly watermark: number;
  readonly emit: Emit;
}

/** Context of a stateful processor: also says which state keys it changed. */
export interface StatefulContext extends ProcessorContext {
  /** Marks a state key as changed: its `snapshot` is written to the changelog after the batch. */
  changed(key: string): void;
}

export interface StatefulTickContext extends TickContext {
  changed(key: string): void;
}

/**
 * A processor whose state is any in-memory structure it mutates, persisted as keyed changelog
 * records: after each batch the runtime writes `snapshot(state, key)` for every key the fold
 * marked `changed` (null = tombstone), and a restart rebuilds the state with `restore`. The fold
 * is pure: the same records in the same order give the same state and outputs. If a batch is
 * not committed, the runtime throws the state away and restores it from the changelog.
 */
export interface StatefulProcessor<In, S> {
  /** Also the consumer group. */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly changelogTopic: string;
  /**
   * One task reads every partition of every input, merged by event time (`SubscribeOptions.
   * singleTask`): for stateless fan-in stages. Default: one task per partition number.
   */
  readonly singleTask?: boolean;
  /**
   * Output topics whose runs of records with one key, partition and time are written as bundles
   * (streams/src/bundle.ts): internal feeds a stage copies many records to. Default: none.
   */
  readonly bundled?: readonly string[];
  /** Decodes an input record. Throw an error whose code marks bad input (see `isBadInput`) to dead-letter it. */
  decodeInput(record: LogRecord): Promise<In> | In;
  init(): S;
  /** Applies one changelog record (in offset order) while restoring. */
  restore(state: S, key: string, value: Buffer | null): void;
  process(state: S, input: In, ctx: StatefulContext): void;
  /** Called after a record that moved the watermark forward (event-time ticks for windows and TTLs). */
  onWatermark?(state: S, ctx: StatefulTickContext): void;
  /** The changelog value of a changed key; null deletes it. */
  snapshot(state: S, key: string): Buffer | null;
}

/**
 * A processor over a keyed table (`Store`): the simple case of `StatefulProcessor`, where each
 * state key holds one value and the runtime tracks what changed.
 */
export interface ProcessorDefinition<In, V> {
  /** Also the consumer group. */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly changelogTopic: string;
  /**
   * One task reads every partition of every input, merged by event time (`SubscribeOptions.
   * singleTask`): for stateless fan-in stages. Default: one task per partition number.
   */
  readonly singleTask?: boolean;
  /**
   * Output topics whose runs of records with one key, partition and time are written as bundles
   * (streams/src/bundle.ts): internal feeds a stage copies many records to. Default: none.
   */
  readonly bundled?: readonly string[];
  encodeState(value: V): Buffer;
  decodeState(bytes: Buffer): V;
  /** Decodes an input record. Throw an error whose code marks bad input (see `isBadInput`) to dead-letter it. */
  decodeInput(record: LogRecord): Promise<In> | In;
  process(store: Store<V>, input: In, ctx: ProcessorContext): void;
  /** Called after a record that moved the watermark forward (event-time ticks for windows and TTLs). */
  onWatermark?(store: Store<V>, ctx: TickContext): void;
}

class TrackingStore<V> implements Store<V> {
  readonly table: Map<string, V>;
  changed: (key: string) => void = () => undefined;

  constructor(table: Map<string, V>) {
    this.table = table;
  }
  get(key: string): V | undefined {
    return this.table.get(key);
  }
  has(key: string): boolean {
    return this.table.has(key);
  }
  put(key: string, value: V): void {
    if (key === POSITION_KEY) throw new Error('The positions key is reserved.');
    this.table.set(key, value);
    this.changed(key);
  }
  delete(key: string): void {
    this.table.delete(key);
    this.changed(key);
  }
  keys(): string[] {
    return [...this.table.keys()];
  }
  get size(): number {
    return this.table.size;
  }
}

/** Runs a keyed-table processor as a stateful one (its state is the table). */
export function keyedProcessor<In, V>(
  def: ProcessorDefinition<In, V>,
): StatefulProcessor<In, TrackingStore<V>> {
  return {
    name: def.name,
    inputs: def.inputs,
    changelogTopic: def.changelogTopic,
    ...(def.singleTask ? { singleTask: true } : {}),
    ...(def.bundled ? { bundled: def.bundled } : {}),
    decodeInput: (r) => def.decodeInput(r),
    init: () => new TrackingStore<V>(new Map()),
    restore: (s, key, value) => {
      if (value === null) s.table.delete(key);
      else s.table.set(key, def.decodeState(value));
    },
    process: (s, input, ctx) => {
      s.changed = ctx.changed;
      def.process(s, input, ctx);
    },
    ...(def.onWatermark
      ? {
          onWatermark: (s: TrackingStore<V>, ctx: StatefulTickContext) => {
            s.changed = ctx.changed;
            def.onWatermark!(s, ctx);
          },
        }
      : {}),
    snapshot: (s, key) => {
      const v = s.table.get(key);
      return v === undefined ? null : def.encodeState(v);
    },
  };
}

/** Either kind of processor. */
export type AnyProcessor<In, S> = StatefulProcessor<In, S> | ProcessorDefinition<In, S>;

export function isKeyed<In, S>(p: AnyProcessor<In, S>): p is ProcessorDefinition<In, S> {
  return 'encodeState' in p;
}

/** The stateful form of any processor. */
export function asStateful<In>(p: AnyProcessor<In, unknown>): StatefulProcessor<In, unknown> {
  return isKeyed(p) ? (keyedProcessor(p) as StatefulProcessor<In, unknown>) : p;
}

/** Bad input goes to the dead-letter topic; everything else is retried (transient) or fatal. */
export function isBadInput(err: unknown): boolean {
  const code = errorCode(err) ?? '';
  if (isTransient(err)) return false;
  return code.startsWith('HETU_SERDE_') || code.startsWith('HETU_INPUT_');
}

export interface DeadLetter {
  readonly processor: string;
  readonly source: Source;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly timestamp: number;
  readonly reasonCode: string;
  readonly message: string;
}

/** The dead letter of record `r` that `processor` could not take (bad input `err`). */
export function deadLetterOf(
  processor: string,
  r: LogRecord,
  err: unknown,
  source: Source = { topic: r.topic, partition: r.partition, offset: r.offset },
): DeadLetter {
  return {
    processor,
    source,
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    reasonCode: errorCode(err) ?? 'HETU_INPUT_INVALID',
    message: (err as Error).message,
  };
}

/** The changelog key that holds a task's applied input positions and watermark. */
export const POSITION_KEY = '\u0000positions';

interface PositionMarker {
  applied: Record<string, string>;
  /** null before the first record (JSON has no -Infinity). */
  watermark: number | null;
}

/** The state of one task (one partition number) of a processor. */
export class TaskState<S> {
  readonly state: S;
  /** Last applied offset per input topic of this partition (per topic#partition for a single task). */
  readonly applied = new Map<string, bigint>();
  watermark = Number.NEGATIVE_INFINITY;
  /** True while a folded batch is not committed yet: the state is then ahead of the changelog. */
  uncommitted = false;

  constructor(state: S) {
    this.state = state;
  }

  /** Applies one changelog record while restoring. */
  restore(def: StatefulProcessor<unknown, S>, key: string, value: Buffer | null): void {
    if (key === POSITION_KEY) {
      if (value === null) return;
      const m = JSON.parse(value.toString('utf8')) as PositionMarker;
      this.applied.clear();
      for (const [t, o] of Object.entries(m.applied)) this.applied.set(t, BigInt(o));
      this.watermark = typeof m.watermark === 'number' ? m.watermark : Number.NEGATIVE_INFINITY;
    } else def.restore(this.state, key, value);
  }
}

/** What one batch did. The task's state is already folded; the rest is to be committed. */
export interface BatchResult {
  readonly changedKeys: ReadonlySet<string>;
  readonly outputs: { topic: string; record: AppendRecord | FactRecord }[];
  readonly deadLetters: DeadLetter[];
  /** Records skipped because their position was already applied (re-delivery after a crash). */
  readonly skipped: number;
}

/**
 * Folds one batch of one input partition into a task, in place, and marks it uncommitted.
 * Records at or before the task's applied position for their topic are skipped, so a
 * re-delivered record is harmless. If the batch is then not committed, the caller must drop the
 * task and restore it.
 */
export async function foldBatch<In, S>(
  def: StatefulProcessor<In, S>,
  task: TaskState<S>,
  records: readonly LogRecord[],
  /** false: the changed keys are not collected (no changelog is written). */
  trackChanges = true,
): Promise<BatchResult> {
  const changedKeys = new Set<string>();
  const outputs: { topic: string; record: AppendRecord | FactRecord }[] = [];
  const deadLetters: DeadLetter[] = [];
  let skipped = 0;
  // An output is stamped no earlier than the task's watermark (docs/design-deterministic-live.md,
  // "output time = trigger time"): once a stage has processed every input older than t, it has
  // written every output older than t, so a stage after it can tell when its input is complete.
  // Times that belong to the fact (when an episode closed) stay in its value.
  const emit: Emit = (topic, record) => {
    const w = task.watermark;
    const ts = record.timestamp;
    outputs.push({
      topic,
      record: Number.isFinite(w) && (ts === undefined || ts < w) ? { ...record, timestamp: w } : record,
    });
  };
  const changed = trackChanges
    ? (key: string) => {
        if (key === POSITION_KEY) throw new Error('The positions key is reserved.');
        changedKeys.add(key);
      }
    : () => undefined;
  task.uncommitted = true;
  // A task of one partition number tracks one position per topic; a single task, per partition
  // (its key text kept while the records come from one partition: no string built per record).
  let lastTopic: string | undefined;
  let lastPartition = -1;
  let lastKey = '';
  const appliedKey = def.singleTask
    ? (r: LogRecord) => {
        if (r.topic !== lastTopic || r.partition !== lastPartition) {
          lastTopic = r.topic;
          lastPartition = r.partition;
          lastKey = `${r.topic}#${r.partition}`;
        }
        return lastKey;
      }
    : (r: LogRecord) => r.topic;
  const deadLetter = (r: LogRecord, source: Source, err: unknown) => {
    if (!isBadInput(err)) throw err;
    deadLetters.push(deadLetterOf(def.name, r, err, source));
  };
  // No array per record: this one holds the record being folded (a bundle's come in their own).
  const single: LogRecord[] = [];
  for (const r of records) {
    const last = task.applied.get(appliedKey(r));
    if (last !== undefined && r.offset <= last) {
      skipped++;
      continue;
    }
    const source: Source = { topic: r.topic, partition: r.partition, offset: r.offset };
    // A bundle is folded as the records it holds, one after another (streams/src/bundle.ts).
    single[0] = r;
    let unpacked: readonly LogRecord[] = single;
    if (isBundle(r)) {
      try {
        unpacked = unbundle(r);
      } catch (err) {
        deadLetter(r, source, err);
        task.applied.set(appliedKey(r), r.offset);
        continue;
      }
    }
    for (const u of unpacked) {
      let input: In;
      try {
        // A decoder that answers at once is not awaited (a microtask per record less).
        const decoded = def.decodeInput(u);
        input = decoded instanceof Promise ? await decoded : decoded;
      } catch (err) {
        deadLetter(u, source, err);
        continue;
      }
      const advanced = u.timestamp > task.watermark;
      if (advanced) task.watermark = u.timestamp;
      const watermark = task.watermark;
      def.process(task.state, input, { timestamp: u.timestamp, watermark, source, emit, changed });
      if (advanced && def.onWatermark) def.onWatermark(task.state, { watermark, emit, changed });
    }
    task.applied.set(appliedKey(r), r.offset);
  }
  return { changedKeys, outputs, deadLetters, skipped };
}

/** The changelog records of a folded batch for partition `partition`, positions marker last. */
export function changelogRecords<S>(
  def: StatefulProcessor<unknown, S>,
  task: TaskState<S>,
  result: BatchResult,
  partition: number,
): AppendRecord[] {
  const out: AppendRecord[] = [];
  const ts = Number.isFinite(task.watermark) ? task.watermark : 0;
  for (const k of result.changedKeys) {
    out.push({ key: Buffer.from(k), value: def.snapshot(task.state, k), partition, timestamp: ts });
  }
  const marker: PositionMarker = {
    applied: Object.fromEntries([...task.applied].map(([t, o]) => [t, o.toString()])),
    watermark: Number.isFinite(task.watermark) ? task.watermark : null,
  };
  out.push({
    key: Buffer.from(POSITION_KEY),
    value: Buffer.from(JSON.stringify(marker)),
    partition,
    timestamp: ts,
  });
  return out;
}
