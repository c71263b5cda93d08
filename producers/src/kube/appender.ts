import type { AppendRecord, Log } from '@hetu/streams';
import { delay } from './rate.ts';

const msg = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export interface BufferedAppenderOptions<P> {
  readonly log: Log;
  readonly topic: string;
  /** The record of a pending item (encoding happens in the writer, not in the caller). */
  toRecord(p: P): Promise<AppendRecord>;
  /** Pause the sources at this many waiting items; resume at `resumeAt` or fewer. */
  readonly pauseAt: number;
  readonly resumeAt: number;
  /** Told when the sources should pause (true) or may resume (false). */
  onPause(paused: boolean): void;
  /**
   * How long the first item of a batch may wait for others before the writer starts (Kafka's
   * `linger.ms`); default 0. A full batch (500 items) and `flushed()` do not wait.
   */
  readonly lingerMs?: number;
}

/** Items per append. */
const BATCH = 500;

/**
 * A collector's one queue to the log: items wait in memory, one writer appends them in batches
 * of 500 (retrying a failed append with back-off from 1 s to 30 s), and the sources are paused
 * above a high mark and resumed under a low one. Shared by the Kubernetes and pod-log collectors.
 */
export class BufferedAppender<P> {
  private readonly opts: BufferedAppenderOptions<P>;
  private readonly queue: P[] = [];
  private pumping: Promise<void> | null = null;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  /** Records appended to the log so far. */
  appended = 0;
  /** The last append's error while it is being retried; null after a success. */
  writeError: string | null = null;
  /** True while the sources are paused for back-pressure. */
  paused = false;

  constructor(opts: BufferedAppenderOptions<P>) {
    this.opts = opts;
  }

  /** Items waiting for the log. */
  get length(): number {
    return this.queue.length;
  }

  push(p: P): void {
    this.queue.push(p);
    if (this.queue.length >= this.opts.pauseAt) this.setPaused(true);
    this.kick();
  }

  /** Wakes everything waiting in `changed()`. */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next change of the queue (an append, a failure, a stop, or `notify`). */
  changed(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when every item queued so far has been appended (or the writer stopped). */
  async flushed(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      this.kick(true);
      await this.changed();
    }
    await this.pumping;
  }

  /** `flushed()`, but the writer stops after `deadlineMs` whatever is left. */
  async drain(deadlineMs: number): Promise<void> {
    const timer = setTimeout(() => this.stop(), deadlineMs);
    try {
      await this.flushed();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the writer: nothing more is appended. */
  stop(): void {
    this.stopped = true;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.notify();
  }

  private setPaused(p: boolean): void {
    if (this.paused === p) return;
    this.paused = p;
    this.opts.onPause(p);
  }

  /** Starts the writer, after `lingerMs` unless `now` or a batch is full. */
  private kick(now = false): void {
    if (this.pumping !== null || this.stopped) return;
    const linger = this.opts.lingerMs ?? 0;
    if (!now && linger > 0 && this.queue.length < BATCH) {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = null;
        this.kick(true);
      }, linger);
      return;
    }
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  private async pump(): Promise<void> {
    let backoff = 1000;
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, BATCH);
      try {
        const records: AppendRecord[] = [];
        for (const p of batch) records.push(await this.opts.toRecord(p));
        await this.opts.log.append(this.opts.topic, records);
        this.queue.splice(0, batch.length);
        this.appended += batch.length;
        this.writeError = null;
        backoff = 1000;
        if (this.queue.length <= this.opts.resumeAt) this.setPaused(false);
        this.notify();
      } catch (err) {
        this.writeError = msg(err);
        this.notify();
        if (this.stopped) return;
        await delay(backoff).catch(() => undefined);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    this.notify();
  }
}
