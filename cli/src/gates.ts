import type { EventTimeGate } from '@hetu/streams';

/**
 * Event-time gates for the stages of one process (`hetu start`; docs/design-deterministic-live.md):
 * each stage takes a record only once every input older than it is complete, so the stages running
 * at once see their inputs in the order `hetu analyze` gives them, and derive the same facts,
 * whatever the timing, and after a restart.
 *
 * A topic is complete below an event time when
 * - it is raw input (`hetu.raw.*`): whoever feeds it says so (`RawFrontier`);
 * - a stage writes it: that stage has processed every input older than that time (the runtime
 *   stamps no output earlier than the input that caused it), which its subscription reports.
 * Inputs neither raw nor written by a stage (commands a person gives, the LLM's analyses) are not
 * held back: they are taken as they come.
 */

/** Where raw input is complete: below `value()`, nothing more will be appended. Only moves forward. */
export class RawFrontier {
  private at = Number.NEGATIVE_INFINITY;
  private readonly listeners = new Set<() => void>();

  value(): number {
    return this.at;
  }

  /** Raw input is complete below `t` (Infinity: nothing more will come). Earlier times are ignored. */
  complete(t: number): void {
    if (!(t > this.at)) return;
    this.at = t;
    for (const l of [...this.listeners]) l();
  }

  onMove(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** How far behind the wall clock live raw input counts as complete. */
export const LIVE_INPUT_SLACK_MS = 1000;

/**
 * Moves `raw` with the wall clock, `LIVE_INPUT_SLACK_MS` behind it, every 250 ms: collectors stamp
 * what they see with the time they see it (what arrives later still goes through, in its
 * partition's order). Returns the function that stops it.
 */
export function startLiveClock(raw: RawFrontier, now: () => number = Date.now): () => void {
  const tick = () => raw.complete(now() - LIVE_INPUT_SLACK_MS);
  tick();
  const clock = setInterval(tick, 250);
  // never what keeps a process alive (one whose start failed after the clock began)
  clock.unref();
  return () => clearInterval(clock);
}

/** A stage as the gates see it: what it reads and what it writes. */
export interface GatedStage {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Raw input: what collectors and feeds append, no stage writes. */
export const isRaw = (topic: string): boolean => topic.startsWith('hetu.raw.');

/** For each topic some stage writes, the stages writing it, in the given order. */
export function writersByTopic(
  stages: readonly { readonly name: string; readonly outputs: readonly string[] }[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of stages)
    for (const t of s.outputs) {
      let w = out.get(t);
      if (!w) out.set(t, (w = []));
      w.push(s.name);
    }
  return out;
}

/**
 * Where the stages' frontiers come from when the stages run in several processes (`hetu run`;
 * cli/src/frontiers.ts): each process publishes how far the tasks it owns got, and reads the others'.
 */
export interface SharedFrontiers {
  /** Every input of `stage` older than this is processed, by every task (-Infinity: not known). */
  frontier(stage: string): number;
  /** A task of `stage` owned here processed every input older than `bound`. */
  reachedTask(stage: string, task: number, bound: number): void;
  /** Calls `listener` when a frontier may have moved; returns the function that stops it. */
  onMove(listener: () => void): () => void;
}

/** The gates of one set of stages over one raw frontier. */
export class StageGates {
  private readonly raw: RawFrontier;
  private readonly shared: SharedFrontiers | undefined;
  private readonly inputsOf = new Map<string, readonly string[]>();
  private readonly writersOf: ReadonlyMap<string, string[]>;
  /** Per stage: every input older than it is processed, and the outputs are committed. */
  private readonly reached = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  /**
   * `shared`: the stages' frontiers come from there (stages in several processes) instead of
   * from the subscriptions of this process.
   */
  constructor(stages: readonly GatedStage[], raw: RawFrontier, shared?: SharedFrontiers) {
    this.raw = raw;
    this.shared = shared;
    for (const s of stages) this.inputsOf.set(s.name, s.inputs);
    this.writersOf = writersByTopic(stages);
    for (const s of stages)
      for (const t of s.inputs)
        if (this.writersOf.get(t)?.includes(s.name))
          throw new Error(`Stage ${s.name} reads ${t}, which it writes: a gate cannot order that.`);
  }

  /** The inputs of `stage` its gate does not hold back. */
  ungated(stage: string): string[] {
    return this.inputs(stage).filter((t) => !isRaw(t) && !this.writersOf.has(t));
  }

  /** The time below which every gated input of `stage` is complete. */
  bound(stage: string): number {
    let b = Number.POSITIVE_INFINITY;
    for (const t of this.inputs(stage)) {
      if (isRaw(t)) b = Math.min(b, this.raw.value());
      else for (const w of this.writersOf.get(t) ?? []) b = Math.min(b, this.frontier(w));
    }
    return b;
  }

  /** The stages `stage` waits for that have reported no frontier yet (for a line saying so). */
  waitingFor(stage: string): string[] {
    const out = new Set<string>();
    for (const t of this.inputs(stage))
      if (!isRaw(t))
        for (const w of this.writersOf.get(t) ?? []) if (this.frontier(w) === -Infinity) out.add(w);
    return [...out];
  }

  /** Every input of `stage` older than `t` is processed (kept only when it moves forward). */
  reach(stage: string, t: number): void {
    if (!(t > (this.reached.get(stage) ?? -Infinity))) return;
    this.reached.set(stage, t);
    this.notify();
  }

  /** How far `stage` is known to have processed its input (-Infinity: nothing known yet). */
  frontier(stage: string): number {
    if (this.shared) return this.shared.frontier(stage);
    return this.reached.get(stage) ?? Number.NEGATIVE_INFINITY;
  }

  /** Every stage's frontier, by name (for the metrics). */
  frontiers(): Map<string, number> {
    return new Map([...this.inputsOf.keys()].map((s) => [s, this.frontier(s)]));
  }

  /** The gate to give `stage`'s subscription. */
  gate(stage: string): EventTimeGate {
    this.inputs(stage);
    const shared = this.shared;
    return {
      bound: () => this.bound(stage),
      onMove: (listener) => {
        this.listeners.add(listener);
        const stopRaw = this.raw.onMove(listener);
        const stopShared = shared?.onMove(listener);
        return () => {
          this.listeners.delete(listener);
          stopRaw();
          stopShared?.();
        };
      },
      reached: (t) => this.reach(stage, t),
      ...(shared ? { reachedTask: (task: number, t: number) => shared.reachedTask(stage, task, t) } : {}),
    };
  }

  private inputs(stage: string): readonly string[] {
    const inputs = this.inputsOf.get(stage);
    if (!inputs) throw new Error(`No stage ${stage} among the gated stages.`);
    return inputs;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
