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
