/**
 * Following a generation switch while running (docs/replay.md, "Following a switch"). `hetu start`
 * and the stage and API roles of `hetu run` resolve their topics and consumer groups through the
 * `active` record of `hetu.meta.generations` when they start; a follower then polls the control
 * topic (its end offset every `intervalMs`, the records only when that end moved) and, when
 * `active` names another generation or mapping, hands the new one to `onSwitch`, which moves the
 * process to it (stages stopped and started again on the generation's groups, read models of the
 * generation) without a restart.
 */
import type { Log } from '@hetu/streams';
import { HetuError } from '@hetu/streams';
import {
  GENERATIONS_TOPIC,
  generationLog,
  readGenerations,
  sameMapping,
  type ResolvedGeneration,
} from './generations.ts';

/** How often a running process looks at the control topic by default (ms). */
export const DEFAULT_FOLLOW_INTERVAL_MS = 5_000;

/** The environment variable that sets it (`0` turns following off: a switch then needs a restart). */
export const FOLLOW_INTERVAL_ENV = 'HETU_GENERATION_POLL_MS';

/** The poll interval from the environment: a whole number of milliseconds, 0 for off. */
export function followIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FOLLOW_INTERVAL_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_FOLLOW_INTERVAL_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `${FOLLOW_INTERVAL_ENV} must be a whole number of milliseconds (0 turns following a generation switch off), not ${raw}.`,
    );
  return n;
}

export interface FollowOptions {
  /** The log as generation 1 sees it (unmapped; with a topic prefix when the process has one). */
  readonly log: Log;
  /** The generation the process runs on now. */
  readonly current: ResolvedGeneration;
  /** How often to look at the control topic (ms). */
  readonly intervalMs: number;
  /**
   * Moves the process to `next`. `signal` aborts when the follower is closed (the process stops):
   * the switch should then end early. A rejection ends the follower: `failed` rejects with it.
   */
  onSwitch(next: ResolvedGeneration, previous: ResolvedGeneration, signal: AbortSignal): Promise<void>;
  /** Told when the control topic cannot be read (once per run of failures); the follower keeps trying. */
  onPollError?(err: unknown): void;
}

export interface SwitchFollower {
  /** The generation the process runs on now. */
  current(): ResolvedGeneration;
  /** Rejects with the error of a switch that failed (the process should stop with it); never resolves. */
  readonly failed: Promise<never>;
  /** Looks at the control topic now and switches if needed (the timer calls it; tests too). */
  check(): Promise<void>;
  /** Stops polling; aborts a switch in progress and waits for it to end. */
  close(): Promise<void>;
}

/** Starts following the `active` record of the control topic. */
export function followSwitches(opts: FollowOptions): SwitchFollower {
  let current = opts.current;
  let lastEnd: bigint | undefined;
  let closed = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  const abort = new AbortController();
  let reject!: (err: unknown) => void;
  const failed = new Promise<never>((_, r) => (reject = r));
  // Nobody may be listening yet: the rejection must not count as unhandled.
  failed.catch(() => undefined);

  const look = async (): Promise<void> => {
    let next: ResolvedGeneration;
    try {
      const [info] = await opts.log.describeTopics([GENERATIONS_TOPIC]);
      const end = (info?.partitions ?? []).reduce((s, p) => s + p.high, 0n);
      if (end === lastEnd) return;
      const { active } = await readGenerations(opts.log);
      lastEnd = end;
      failing = false;
      if (active.generation === current.generation && sameMapping(active.mapping, current.mapping)) return;
      next = generationLog(opts.log, active.generation, active.mapping);
    } catch (err) {
      if (!failing) opts.onPollError?.(err);
      failing = true;
      return;
    }
    if (closed) return;
    const previous = current;
    await opts.onSwitch(next, previous, abort.signal);
    if (!abort.signal.aborted) current = next;
  };

  const check = (): Promise<void> => {
    // One look at a time: a switch in progress finishes before the next look.
    inFlight ??= look().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const schedule = () => {
    if (closed || opts.intervalMs <= 0) return;
    timer = setTimeout(() => {
      check().then(schedule, (err: unknown) => {
        closed = true;
        reject(err);
      });
    }, opts.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    current: () => current,
    failed,
    check,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await inFlight?.catch(() => undefined);
    },
  };
}

/** The line a process writes when it cannot read the control topic (`onPollError`). */
export function pollErrorLine(
  out: { write(s: string): unknown },
  intervalMs: number,
): (err: unknown) => void {
  return (err) =>
    void out.write(
      `cannot read ${GENERATIONS_TOPIC} to follow a generation switch (${(err as Error).message}): trying again every ${intervalMs / 1000} s\n`,
    );
}

/** Resolves when `signal` aborts (never when it is undefined). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
