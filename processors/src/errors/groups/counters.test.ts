import { describe, expect, it } from 'vitest';
import {
  addToBucket,
  countersAt,
  emptyBuckets,
  evaluationInstant,
  isSpike,
  minuteBucketOf,
  pruneBuckets,
  sumCounters,
} from './counters.ts';
import { MIN, T0 } from './test-fixtures.ts';

const K0 = T0 / MIN; // T0 is on a whole minute

describe('minute grid', () => {
  it('puts a time on a whole minute in the bucket that ends at it, and the next millisecond in the next', () => {
    expect(minuteBucketOf(T0)).toBe(K0);
    expect(minuteBucketOf(T0 + 1)).toBe(K0 + 1);
    expect(minuteBucketOf(T0 + MIN - 1)).toBe(K0 + 1);
    expect(minuteBucketOf(T0 + MIN)).toBe(K0 + 1);
  });

  it('evaluates at the watermark rounded up to a whole minute', () => {
    expect(evaluationInstant(T0)).toBe(T0);
    expect(evaluationInstant(T0 + 1)).toBe(T0 + MIN);
    expect(evaluationInstant(T0 + 30_000)).toBe(T0 + MIN);
  });
});

describe('isSpike', () => {
  it.each([
    [2, 2, false], // fewer than 3 in 5 min
    [3, 3, true],
    [3, 17, true], // 36 > 34
    [3, 18, false], // 36 > 36 is false
    [10, 59, true], // 120 > 118
    [10, 60, false], // 120 > 120 is false
  ])('count5m %i, count1h %i → %s', (c5, c60, spike) => {
    expect(isSpike(c5, c60)).toBe(spike);
  });
});

describe('countersAt', () => {
  it('given buckets at ages 0, 1, 4, 5, 59, 60 and 1439 minutes, counts each window exactly', () => {
    const b = emptyBuckets();
    for (const [age, n] of [
      [1439, 7],
      [60, 6],
      [59, 5],
      [5, 4],
      [4, 3],
      [1, 2],
      [0, 1],
    ] as const) {
      addToBucket(b, K0 - age, n);
    }
    const c = countersAt(b, K0);
    expect(c).toEqual({
      count1m: 1,
      count5m: 1 + 2 + 3,
      count1h: 1 + 2 + 3 + 4 + 5,
      count24h: 1 + 2 + 3 + 4 + 5 + 6 + 7,
      sparkline: [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6],
    });
  });

  it('when the evaluation minute moves one on, the bucket at age 1439 leaves the 24 h window', () => {
    const b = emptyBuckets();
    addToBucket(b, K0 - 1439, 7);
    addToBucket(b, K0, 1);
    pruneBuckets(b, K0 + 1);
    expect(b).toEqual({ keys: [K0], counts: [1], total: 1 });
    expect(countersAt(b, K0 + 1)).toEqual({
      count1m: 0,
      count5m: 1,
      count1h: 1,
      count24h: 1,
      sparkline: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    });
  });

  it('keeps bucket keys ascending when a late occurrence lands between them', () => {
    const b = emptyBuckets();
    addToBucket(b, K0 - 10, 1);
    addToBucket(b, K0, 1);
    addToBucket(b, K0 - 3, 2);
    addToBucket(b, K0 - 3, 1);
    expect(b).toEqual({ keys: [K0 - 10, K0 - 3, K0], counts: [1, 3, 1], total: 5 });
  });

  it('sums counters element-wise', () => {
    const a = {
      count1m: 1,
      count5m: 2,
      count1h: 3,
      count24h: 4,
      sparkline: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    };
    const b = {
      count1m: 10,
      count5m: 20,
      count1h: 30,
      count24h: 40,
      sparkline: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 3],
    };
    expect(sumCounters([a, b])).toEqual({
      count1m: 11,
      count5m: 22,
      count1h: 33,
      count24h: 44,
      sparkline: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5],
    });
  });
});
