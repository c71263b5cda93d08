import { errorCode, isTransient } from '../errors.ts';
import type { AppendRecord, LogRecord } from '../port.ts';

/** Where an input record came from. */
export interface Source {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A keyed table: the processor's state, kept in a compacted changelog topic. */
export interface Store<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  put(key: string, value: V): void;
  delete(key: string): void;
  keys(): string[];
  readonly size: number;
}

export interface ProcessorContext {
  /** This record's event time (ms). */
  readonly timestamp: number;
  /** The task's event-time watermark: the largest input timestamp seen so far, this record included. */
  readonly watermark: number;
  readonly source: Source;
  /** Emits an output record; it is committed atomically with the input position. */
  emit(topic: string, record: AppendRecord): void;
}

export interface TickContext {
  readonly watermark: number;
  emit(topic: string, record: AppendRecord): void;
}

/**
 * A processor: a pure fold `(state, record) → (state', outputs)`. The runtime owns all I/O:
 * decoding, restoring state from the changelog, committing outputs with input positions,
 * dead-lettering bad input. Inputs are co-partitioned: task p owns partition p of every input and
 * of the changelog.
 */
export interface ProcessorDefinition<In, V> {
  /** Also the consumer group. */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly changelogTopic: string;
  encodeState(value: V): Buffer;
  decodeState(bytes: Buffer): V;
  /** Decodes an input record. Throw an error whose code marks bad input (see `isBadInput`) to dead-letter it. */
  decodeInput(record: LogRecord): Promise<In> | In;
  process(store: Store<V>, input: In, ctx: ProcessorContext): void;
  /** Called after a record that moved the watermark forward (event-time ticks for windows and TTLs). */
  onWatermark?(store: Store<V>, ctx: TickContext): void;
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

/** The changelog key that holds a task's applied input positions and watermark. */
export const POSITION_KEY = '\u0000positions';

interface PositionMarker {
  applied: Record<string, string>;
  /** null before the first record (JSON has no -Infinity). */
  watermark: number | null;
}

/** The state of one task (one partition number) of a processor. */
export class TaskState<V> {
  readonly table = new Map<string, V>();
  /** Last applied offset per input topic of this partition. */
  readonly applied = new Map<string, bigint>();
  watermark = Number.NEGATIVE_INFINITY;

  /** Applies one changelog record while restoring. */
  restore(key: string, value: Buffer | null, decode: (b: Buffer) => V): void {
    if (key === POSITION_KEY) {
      if (value === null) return;
      const m = JSON.parse(value.toString('utf8')) as PositionMarker;
      this.applied.clear();
      for (const [t, o] of Object.entries(m.applied)) this.applied.set(t, BigInt(o));
      this.watermark = typeof m.watermark === 'number' ? m.watermark : Number.NEGATIVE_INFINITY;
    } else if (value === null) this.table.delete(key);
    else this.table.set(key, decode(value));
  }
}

/** What one batch changed; applied to the task only after the commit succeeded. */
export interface BatchResult<V> {
  readonly changes: Map<string, V | undefined>;
  readonly outputs: { topic: string; record: AppendRecord }[];
  readonly deadLetters: DeadLetter[];
  readonly applied: Map<string, bigint>;
  readonly watermark: number;
  /** Records skipped because their position was already applied (re-delivery after a crash). */
  readonly skipped: number;
}

class OverlayStore<V> implements Store<V> {
  readonly changes = new Map<string, V | undefined>();
  private readonly base: Map<string, V>;

  constructor(base: Map<string, V>) {
    this.base = base;
  }

  get(key: string): V | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.base.get(key);
  }
  has(key: string): boolean {
    return this.changes.has(key) ? this.changes.get(key) !== undefined : this.base.has(key);
  }
  put(key: string, value: V): void {
    if (key === POSITION_KEY) throw new Error('The positions key is reserved.');
    this.changes.set(key, value);
  }
  delete(key: string): void {
    this.changes.set(key, undefined);
  }
  keys(): string[] {
    const out = new Set(this.base.keys());
    for (const [k, v] of this.changes) {
      if (v === undefined) out.delete(k);
      else out.add(k);
    }
    return [...out];
  }
  get size(): number {
    return this.keys().length;
  }
}

/**
 * Folds one batch of one input partition over a task's state, without touching it: the result
 * holds the changes, outputs and dead letters. Records at or before the task's applied position
 * for their topic are skipped, so a re-delivered record is harmless.
 */
export async function foldBatch<In, V>(
  def: ProcessorDefinition<In, V>,
  task: TaskState<V>,
  records: readonly LogRecord[],
): Promise<BatchResult<V>> {
  const store = new OverlayStore<V>(task.table);
  const outputs: { topic: string; record: AppendRecord }[] = [];
  const deadLetters: DeadLetter[] = [];
  const applied = new Map(task.applied);
  let watermark = task.watermark;
  let skipped = 0;
  const emit = (topic: string, record: AppendRecord) => {
    outputs.push({ topic, record });
  };
  for (const r of records) {
    const last = applied.get(r.topic);
    if (last !== undefined && r.offset <= last) {
      skipped++;
      continue;
    }
    const source: Source = { topic: r.topic, partition: r.partition, offset: r.offset };
    let input: In;
    try {
      input = await def.decodeInput(r);
    } catch (err) {
      if (!isBadInput(err)) throw err;
      deadLetters.push({
        processor: def.name,
        source,
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: r.timestamp,
        reasonCode: errorCode(err) ?? 'HETU_INPUT_INVALID',
        message: (err as Error).message,
      });
      applied.set(r.topic, r.offset);
      continue;
    }
    const advanced = r.timestamp > watermark;
    if (advanced) watermark = r.timestamp;
    def.process(store, input, { timestamp: r.timestamp, watermark, source, emit });
    if (advanced && def.onWatermark) def.onWatermark(store, { watermark, emit });
    applied.set(r.topic, r.offset);
  }
  return { changes: store.changes, outputs, deadLetters, applied, watermark, skipped };
}

/** Applies a committed batch result to the task. */
export function applyResult<V>(task: TaskState<V>, result: BatchResult<V>): void {
  for (const [k, v] of result.changes) {
    if (v === undefined) task.table.delete(k);
    else task.table.set(k, v);
  }
  for (const [t, o] of result.applied) task.applied.set(t, o);
  task.watermark = result.watermark;
}

/** The changelog records of a batch result for partition `partition`, positions marker last. */
export function changelogRecords<V>(
  def: ProcessorDefinition<unknown, V>,
  result: BatchResult<V>,
  partition: number,
): AppendRecord[] {
  const out: AppendRecord[] = [];
  const ts = Number.isFinite(result.watermark) ? result.watermark : 0;
  for (const [k, v] of result.changes) {
    out.push({
      key: Buffer.from(k),
      value: v === undefined ? null : def.encodeState(v),
      partition,
      timestamp: ts,
    });
  }
  const marker: PositionMarker = {
    applied: Object.fromEntries([...result.applied].map(([t, o]) => [t, o.toString()])),
    watermark: Number.isFinite(result.watermark) ? result.watermark : null,
  };
  out.push({
    key: Buffer.from(POSITION_KEY),
    value: Buffer.from(JSON.stringify(marker)),
    partition,
    timestamp: ts,
  });
  return out;
}
