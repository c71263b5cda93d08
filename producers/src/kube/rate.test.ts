import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate.ts';

describe('TokenBucket', () => {
  it('serves a burst, then refills at qps tokens per second up to the burst', () => {
    let t = 1_000_000;
    const b = new TokenBucket({ qps: 50, burst: 100, now: () => t });
    let taken = 0;
    while (b.tryTake()) taken++;
    expect(taken).toBe(100);
    expect(b.waitMs()).toBe(20);
    t += 100; // 0.1 s → 5 tokens
    expect(b.available()).toBe(5);
    t += 60_000;
    expect(b.available()).toBe(100);
  });

  it('refuses a non-positive qps or burst', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow('qps must be > 0, got 0.');
    expect(() => new TokenBucket({ qps: 1, burst: 0 })).toThrow('burst must be a positive integer, got 0.');
  });
});
