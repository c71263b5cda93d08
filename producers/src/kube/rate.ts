/**
 * A token bucket for API requests (SPEC §1: client QPS 50, burst 100): `burst` tokens at most,
 * refilled at `qps` per second; each request takes one, waiting for it when the bucket is empty.
 */
export interface TokenBucketOptions {
  readonly qps: number;
  readonly burst: number;
  /** Milliseconds clock; default `Date.now`. */
  readonly now?: () => number;
}

export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  /** Waiters in arrival order, so a burst is served first come first served. */
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: TokenBucketOptions) {
    if (!(opts.qps > 0) || !Number.isFinite(opts.qps))
      throw new RangeError(`qps must be > 0, got ${opts.qps}.`);
    if (!Number.isInteger(opts.burst) || opts.burst < 1)
      throw new RangeError(`burst must be a positive integer, got ${opts.burst}.`);
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.now = opts.now ?? Date.now;
    this.tokens = opts.burst;
    this.last = this.now();
  }

  /** Tokens available now (refilled up to the instant of the call). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes a token if one is available now; false otherwise. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.qps);
  }

  /** Resolves when a token was taken; rejects with `signal.reason` when aborted first. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeNow(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.tryTake()) return;
      await delay(this.waitMs(), signal);
    }
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
      this.last = t;
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
