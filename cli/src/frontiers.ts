/**
 * Stage frontiers through the log: event-time gates for stages in processes of their own (`hetu
 * run`; docs/roles.md, "Event-time gates across processes").
 *
 * In one process (`hetu start`) a stage's subscription tells the gates of the stages after it how
 * far it got (cli/src/gates.ts). Across processes the same news goes through a compacted topic:
 * each process running a stage publishes, per task it owns, the event time below which that task
 * has processed every input and committed its outputs (`EventTimeGate.reachedTask`); every process
 * follows the topic, and a stage's frontier is the lowest of its tasks'. A task nobody reported
 * yet holds the stages after it back, so instances of one stage may come and go: whoever owns a
 * task reports it, and what was reported stays true (the next owner goes on from the commits it
 * was reported after).
 */
import { randomUUID } from 'node:crypto';
import type { Log, Subscription } from '@hetu/streams';
import type { SharedFrontiers } from './gates.ts';
import { latestValues } from './generations.ts';

/** The frontiers topic: compacted, one partition, JSON values `{"below": <ms>|"Infinity"}`. */
export const FRONTIERS_TOPIC = 'hetu.meta.frontiers';

/** Creates the frontiers topic if it is missing. */
export async function ensureFrontiersTopic(log: Log): Promise<void> {
  await log.ensureTopics([{ name: FRONTIERS_TOPIC, partitions: 1, cleanupPolicy: 'compact' }]);
}

/**
 * The key of a task's frontier: the generation (docs/replay.md; a replay's stages start again from
 * the beginning), the stage's consumer group and the task.
 */
export function frontierKey(generation: number, group: string, task: number): string {
  return `g${generation}/${group}/${task}`;
}

export function encodeFrontier(below: number): Buffer {
  return Buffer.from(JSON.stringify({ below: below === Infinity ? 'Infinity' : below }), 'utf8');
}

/** The time a frontier record holds, or undefined when it holds none (then it is ignored). */
export function decodeFrontier(value: Buffer | null): number | undefined {
  if (value === null) return undefined;
  try {
    const below = (JSON.parse(value.toString('utf8')) as { below?: unknown }).below;
    if (below === 'Infinity') return Infinity;
    return typeof below === 'number' && Number.isFinite(below) ? below : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes generation `n`'s frontiers (tombstones for its keys; compaction drops them), as
 * `hetu replay --prune <n>` removes its topics and groups. Returns how many keys it removed.
 */
export async function forgetGeneration(log: Log, n: number): Promise<number> {
  const prefix = `g${n}/`;
  const live = new Set(
    [...(await latestValues(log, FRONTIERS_TOPIC)).keys()].filter((k) => k.startsWith(prefix)),
  );
  if (live.size > 0)
    await log.append(
      FRONTIERS_TOPIC,
      [...live].sort().map((key) => ({ key: Buffer.from(key, 'utf8'), value: null })),
    );
  return live.size;
}

/**
 * Publishes tasks' frontiers: only forward, the newest of each key, one append at a time (a
 * frontier reported while an append is on its way goes in the next). An append that fails is
 * tried again a second later, with whatever is newest by then.
 */
export class FrontierPublisher {
  private readonly log: Log;
  private readonly onError: (err: unknown) => void;
  private readonly pending = new Map<string, number>();
  private readonly published = new Map<string, number>();
  /** The append on its way. */
  private readonly sending = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(log: Log, onError: (err: unknown) => void = () => undefined) {
    this.log = log;
    this.onError = onError;
  }

  report(key: string, below: number): void {
    if (this.closed) return;
    const known = Math.max(
      this.published.get(key) ?? -Infinity,
      this.sending.get(key) ?? -Infinity,
      this.pending.get(key) ?? -Infinity,
    );
    if (!(below > known)) return;
    this.pending.set(key, below);
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  /** What was published last per key (what a reader will see, once it read that far). */
  publishedFrontier(key: string): number | undefined {
    return this.published.get(key);
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending];
      this.pending.clear();
      for (const [key, below] of batch) this.sending.set(key, below);
      try {
        await this.log.append(
          FRONTIERS_TOPIC,
          batch.map(([key, below]) => ({ key: Buffer.from(key, 'utf8'), value: encodeFrontier(below) })),
        );
        for (const [key, below] of batch)
          if (below > (this.published.get(key) ?? -Infinity)) this.published.set(key, below);
      } catch (err) {
        this.onError(err);
        for (const [key, below] of batch)
          if (!(below < (this.pending.get(key) ?? -Infinity))) this.pending.set(key, below);
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (this.closed) return;
      } finally {
        this.sending.clear();
      }
    }
  }

  /** Waits for the append on its way (not for a retry of one that failed), then publishes no more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
  }
}

/** Follows the frontiers topic: the highest frontier seen per key. */
export class FrontierTable {
  private readonly frontiers = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private subscription: Subscription | undefined;
  private group: string | undefined;
  private log: Log | undefined;

  get(key: string): number | undefined {
    return this.frontiers.get(key);
  }

  /** Takes a frontier record (what the topic's follower does with each). */
  apply(key: string, below: number): void {
    if (!(below > (this.frontiers.get(key) ?? -Infinity))) return;
    this.frontiers.set(key, below);
    for (const l of [...this.listeners]) l();
  }

  onMove(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Follows `log`'s frontiers topic from its beginning, in a consumer group of its own (deleted by
   * `close()`). Resolves once following; what the topic held comes in as it is read.
   */
  async follow(log: Log): Promise<void> {
    await ensureFrontiersTopic(log);
    this.log = log;
    this.group = `hetu-frontiers-${randomUUID()}`;
    this.subscription = await log.subscribe({
      group: this.group,
      topics: [FRONTIERS_TOPIC],
      fromBeginning: true,
      maxBatchRecords: 10_000,
      handler: async (batch) => {
        for (const r of batch.records) {
          const key = r.key?.toString('utf8');
          const below = decodeFrontier(r.value);
          if (key !== undefined && below !== undefined) this.apply(key, below);
        }
      },
    });
  }

  /** Resolves when following stopped with an error (rejects with it); never after `close()`. */
  get done(): Promise<void> | undefined {
    return this.subscription?.done;
  }

  async close(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    if (sub === undefined) return;
    await sub.close();
    await this.log!.deleteGroups([this.group!]).catch(() => undefined);
  }
}

/** A stage as its frontier is keyed: consumer group, and how many tasks it has. */
export interface FrontierStage {
  readonly name: string;
  readonly group: string;
  readonly tasks: number;
}

/**
 * The stages' frontiers of one generation from a `FrontierTable`, reports going to a
 * `FrontierPublisher` (what `StageGates` takes for stages in several processes).
 */
export class LogFrontiers implements SharedFrontiers {
  private readonly byName = new Map<string, FrontierStage>();
  private readonly table: FrontierTable;
  private readonly publisher: FrontierPublisher;
  private readonly generation: number;

  constructor(
    table: FrontierTable,
    publisher: FrontierPublisher,
    generation: number,
    stages: readonly FrontierStage[],
  ) {
    this.table = table;
    this.publisher = publisher;
    this.generation = generation;
    for (const s of stages) this.byName.set(s.name, s);
  }

  private stage(name: string): FrontierStage {
    const s = this.byName.get(name);
    if (!s) throw new Error(`No stage ${name} among the stages with frontiers.`);
    return s;
  }

  frontier(name: string): number {
    const s = this.stage(name);
    let f = Infinity;
    for (let task = 0; task < s.tasks; task++)
      f = Math.min(f, this.table.get(frontierKey(this.generation, s.group, task)) ?? -Infinity);
    return f;
  }

  reachedTask(name: string, task: number, bound: number): void {
    this.publisher.report(frontierKey(this.generation, this.stage(name).group, task), bound);
  }

  onMove(listener: () => void): () => void {
    return this.table.onMove(listener);
  }
}

/** The tasks of a stage: one for a single-task stage, else the most partitions among its inputs. */
export async function stageTasks(
  log: Log,
  processor: { readonly inputs: readonly string[]; readonly singleTask?: boolean },
): Promise<number> {
  if (processor.singleTask === true) return 1;
  let n = 0;
  for (const t of await log.describeTopics(processor.inputs)) n = Math.max(n, t.partitions.length);
  return n;
}
