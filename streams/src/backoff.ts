import { isTransient } from './errors.ts';

/** Capped exponential back-off without jitter (deterministic; used for infrastructure retries). */
export class Backoff {
  private current: number;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(initialMs: number, maxMs: number) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.current = initialMs;
  }

  next(): number {
    const v = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return v;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}

/**
 * Runs `fn` until it succeeds, retrying transient failures (`isTransient`: the broker or registry
 * restarting) with capped back-off for `forMs`; anything else, or a transient failure after that,
 * is thrown.
 */
export async function retryTransient<T>(fn: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = Date.now() + forMs;
  const backoff = new Backoff(200, 5000);
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(backoff.next(), Math.max(0, deadline - Date.now()))));
    }
  }
}
