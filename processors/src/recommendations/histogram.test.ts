import { describe, expect, it } from 'vitest';
import {
  HOUR_MS,
  MAX_BUCKET,
  MIN_BUCKET,
  ZERO_BUCKET,
  addSample,
  bucketOf,
  pruneBefore,
  quantile,
  windowFromJSON,
  windowToJSON,
} from './histogram.ts';
import type { WindowHistogram } from './histogram.ts';

const T0 = Date.UTC(2026, 10, 26, 0, 0, 0);
const H0 = T0 / HOUR_MS;

/** Exact nearest-rank quantile. */
function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length)) - 1]!;
}

describe('log-scale histogram', () => {
  it('buckets', () => {
    expect(bucketOf(0)).toBe(ZERO_BUCKET);
    expect(bucketOf(-1)).toBe(ZERO_BUCKET);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.005)).toBe(0);
    expect(bucketOf(0.95)).toBe(-6); // [1.01^-6, 1.01^-5) = [0.94205, 0.95147)
    expect(bucketOf(1e-20)).toBe(MIN_BUCKET);
    expect(bucketOf(1e20)).toBe(MAX_BUCKET);
  });

  it('p95 is exact when the rank value is its bucket’s largest', () => {
    const w: WindowHistogram = new Map();
    for (let i = 1; i <= 100; i++) addSample(w, T0 + i * 1000, i / 100);
    expect(quantile(w, 0.95, H0)).toEqual({
      value: 0.95,
      samples: 100,
      firstTs: T0 + 1000,
      lastTs: T0 + 100_000,
      hours: 1,
    });
  });

  it('otherwise it returns the bucket’s largest value: ≥ exact, < 1.01 × exact', () => {
    const w: WindowHistogram = new Map();
    const values: number[] = [];
    for (let i = 0; i < 100; i++) {
      const v = 1 + i / 10_000; // all in bucket 0 = [1, 1.01)
      values.push(v);
      addSample(w, T0 + i, v);
    }
    expect(exact(values, 0.95)).toBe(1.0094);
    expect(quantile(w, 0.95, H0)?.value).toBe(1.0099);
  });

  it('error bound holds on a spread of values (deterministic LCG)', () => {
    const w: WindowHistogram = new Map();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = 0.001 * Math.exp((x / 2 ** 31) * 10); // 0.001 … 22
      values.push(v);
      addSample(w, T0 + i * 1000, v);
    }
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const e = exact(values, q);
      const got = quantile(w, q, H0)!.value;
      expect(got).toBeGreaterThanOrEqual(e);
      expect(got).toBeLessThan(e * 1.01);
    }
  });

  it('zero values and the window start hour', () => {
    const w: WindowHistogram = new Map();
    for (let i = 0; i < 10; i++) addSample(w, T0 + i, 5); // hour H0
    for (let i = 0; i < 10; i++) addSample(w, T0 + HOUR_MS + i, 0); // hour H0 + 1
    expect(quantile(w, 0.95, H0)?.value).toBe(5);
    expect(quantile(w, 0.5, H0)?.value).toBe(0);
    expect(quantile(w, 0.95, H0 + 1)).toEqual({
      value: 0,
      samples: 10,
      firstTs: T0 + HOUR_MS,
      lastTs: T0 + HOUR_MS + 9,
      hours: 1,
    });
    expect(quantile(w, 0.95, H0 + 2)).toBe(null);
    pruneBefore(w, H0 + 1);
    expect([...w.keys()]).toEqual([H0 + 1]);
  });

  it('JSON round trip', () => {
    const w: WindowHistogram = new Map();
    addSample(w, T0 + HOUR_MS, 2);
    addSample(w, T0, 0.5);
    addSample(w, T0 + 1, 0.501);
    const json = windowToJSON(w);
    expect(json).toEqual([
      [H0, 2, T0, T0 + 1, [[bucketOf(0.5), 2, 0.501]]],
      [H0 + 1, 1, T0 + HOUR_MS, T0 + HOUR_MS, [[bucketOf(2), 1, 2]]],
    ]);
    const back = windowFromJSON(JSON.parse(JSON.stringify(json)))!;
    expect(windowToJSON(back)).toEqual(json);
    expect(quantile(back, 0.95, H0)).toEqual(quantile(w, 0.95, H0));
    expect(windowFromJSON([[1, 2]])).toBe(null);
  });
});
