import type { AppendRecord, LogRecord } from '../port.ts';
import {
  TaskState,
  asStateful,
  changelogRecords,
  foldBatch,
  type AnyProcessor,
  type DeadLetter,
  type FactRecord,
  type StatefulProcessor,
} from './processor.ts';

export interface PipedRecord {
  readonly key?: string | Buffer | null;
  readonly value: Buffer | string | null;
  readonly timestamp: number;
  readonly partition?: number;
  readonly headers?: Record<string, Buffer>;
}

/**
 * Drives a processor without a log (the idea of Kafka Streams' TopologyTestDriver): pipe records
 * in, read outputs, dead letters and state out. It runs the same fold as the runtime, one record
 * per batch, and keeps the changelog it would have written so restores can be tested too.
 */
export class ProcessorTestDriver<In, S> {
  private readonly def: StatefulProcessor<In, unknown>;
  private readonly tasks = new Map<number, TaskState<unknown>>();
  private readonly offsets = new Map<string, bigint>();
  private readonly outputs = new Map<string, (AppendRecord | FactRecord)[]>();
  readonly deadLetters: DeadLetter[] = [];
  readonly changelog: AppendRecord[] = [];

  constructor(def: AnyProcessor<In, S>) {
    this.def = asStateful(def as AnyProcessor<In, unknown>);
  }

  private task(partition: number): TaskState<unknown> {
    let t = this.tasks.get(partition);
    if (!t) this.tasks.set(partition, (t = new TaskState<unknown>(this.def.init())));
    return t;
  }

  /** Pipes one record into an input topic, at the next offset of its partition. */
  async pipe(topic: string, rec: PipedRecord): Promise<void> {
    await this.pipeAt(topic, rec, undefined);
  }

  /** Pipes a record at an explicit offset (to test re-delivery of an already applied position). */
  async pipeAt(topic: string, rec: PipedRecord, offset: bigint | undefined): Promise<void> {
    const partition = rec.partition ?? 0;
    const k = `${topic}\u0000${partition}`;
    const o = offset ?? this.offsets.get(k) ?? 0n;
    if (offset === undefined) this.offsets.set(k, o + 1n);
    const buf = (v: string | Buffer | null | undefined) =>
      v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : v;
    const record: LogRecord = {
      topic,
      partition,
      offset: o,
      key: buf(rec.key),
      value: buf(rec.value),
      timestamp: rec.timestamp,
      headers: rec.headers ?? {},
    };
    const task = this.task(partition);
    const result = await foldBatch(this.def, task, [record]);
    for (const out of result.outputs) {
      let list = this.outputs.get(out.topic);
      if (!list) this.outputs.set(out.topic, (list = []));
      list.push(out.record);
    }
    this.deadLetters.push(...result.deadLetters);
    this.changelog.push(...changelogRecords(this.def, task, result, partition));
    task.uncommitted = false;
  }

  /** Outputs emitted to a topic so far, in order (facts as emitted, not encoded). */
  output(topic: string): readonly (AppendRecord | FactRecord)[] {
    return this.outputs.get(topic) ?? [];
  }

  /** The table a compacted fact topic would hold: newest value per key, tombstones removed. */
  facts(topic: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const r of this.output(topic)) {
      if (typeof r.key !== 'string') continue;
      if (r.value === null) out.delete(r.key);
      else out.set(r.key, r.value);
    }
    return out;
  }

  /** The state object of a task (default partition 0); for a keyed processor use `state`. */
  rawState(partition = 0): S {
    return this.task(partition).state as S;
  }

  /** The table of a keyed processor's task (default partition 0). */
  state<V = unknown>(partition = 0): ReadonlyMap<string, V> {
    return (this.task(partition).state as { table: ReadonlyMap<string, V> }).table;
  }

  watermark(partition = 0): number {
    return this.task(partition).watermark;
  }

  /** Rebuilds a task's state from the changelog written so far, as a restarted runtime would. */
  restoredTask(partition = 0): TaskState<unknown> {
    const t = new TaskState<unknown>(this.def.init());
    for (const r of this.changelog) {
      if ((r.partition ?? 0) !== partition || r.key === null) continue;
      t.restore(this.def, r.key.toString('utf8'), r.value);
    }
    return t;
  }

  /**
   * A driver for the same processor as a restarted runtime would be: every task rebuilt from the
   * changelog written so far, offsets carried on, outputs empty. Piping the rest of the input into
   * it must give the outputs an uninterrupted run would have given.
   */
  restart(): ProcessorTestDriver<In, S> {
    const next = new ProcessorTestDriver<In, S>(this.def as unknown as AnyProcessor<In, S>);
    const partitions = new Set([...this.tasks.keys(), ...this.changelog.map((r) => r.partition ?? 0)]);
    for (const p of partitions) next.tasks.set(p, this.restoredTask(p));
    for (const [k, o] of this.offsets) next.offsets.set(k, o);
    next.changelog.push(...this.changelog);
    return next;
  }

  /** The table of a keyed processor as a restarted runtime would rebuild it. */
  restoredState<V = unknown>(partition = 0): ReadonlyMap<string, V> {
    return (this.restoredTask(partition).state as { table: ReadonlyMap<string, V> }).table;
  }
}
