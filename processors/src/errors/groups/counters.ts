/**
 * Exact rate counters on a minute grid.
 *
 * Occurrence time `ts` falls in minute bucket `k = ceil(ts / 60 000)`, which covers
 * ((k − 1) min, k min]. Counters are evaluated at the instant E = `evaluationInstant(watermark)`
 * (the watermark rounded up to a whole minute, i.e. bucket `ek = ceil(watermark / 60 000)`):
 * a window of W minutes counts the buckets k with ek − W < k ≤ ek, which is exactly the
 * occurrences with E − W < ts ≤ E. No applied occurrence is later than the watermark, so when the
 * watermark is on a whole minute this is exactly (watermark − W, watermark].
 */

export const MINUTE_MS = 60_000;
/** Buckets older than this many minutes before E are dropped (the 24 h window). */
export const BUCKET_HORIZON_MINUTES = 24 * 60;
export const SPARKLINE_SLOTS = 12;
export const SPARKLINE_SLOT_MINUTES = 5;

/** The minute bucket an event time falls in. */
export function minuteBucketOf(ts: number): number {
  return Math.ceil(ts / MINUTE_MS);
}

/** The instant rate counters are evaluated at for a watermark. */
export function evaluationInstant(watermark: number): number {
  return minuteBucketOf(watermark) * MINUTE_MS;
}

/** Counters of one group at one evaluation instant. */
export interface RateCounters {
  readonly count1m: number;
  readonly count5m: number;
  readonly count1h: number;
  readonly count24h: number;
  /** 12 × 5 min, oldest first; the last slot equals count5m and the sum equals count1h. */
  readonly sparkline: readonly number[];
}

export const ZERO_COUNTERS: RateCounters = Object.freeze({
  count1m: 0,
  count5m: 0,
  count1h: 0,
  count24h: 0,
  sparkline: Object.freeze(new Array<number>(SPARKLINE_SLOTS).fill(0)),
});

/** Spike (SPEC §4): count5m ≥ 3 and count5m × 12 > 2 × count1h. */
export function isSpike(count5m: number, count1h: number): boolean {
  return count5m >= 3 && count5m * 12 > 2 * count1h;
}

/**
 * Sparse minute buckets of one group: ascending bucket numbers `keys` with their `counts`, and
 * `total`, the sum of `counts`. At most BUCKET_HORIZON_MINUTES entries once pruned.
 */
export interface MinuteBuckets {
  keys: number[];
  counts: number[];
  total: number;
}

export function emptyBuckets(): MinuteBuckets {
  return { keys: [], counts: [], total: 0 };
}

/** Adds `n` occurrences to bucket `k` (keeps the keys ascending). */
export function addToBucket(b: MinuteBuckets, k: number, n: number): void {
  let i = b.keys.length - 1;
  while (i >= 0 && (b.keys[i] as number) > k) i--;
  if (i >= 0 && b.keys[i] === k) {
    b.counts[i] = (b.counts[i] as number) + n;
  } else {
    b.keys.splice(i + 1, 0, k);
    b.counts.splice(i + 1, 0, n);
  }
  b.total += n;
}

/** Drops the buckets outside the 24 h window ending at bucket `ek`. */
export function pruneBuckets(b: MinuteBuckets, ek: number): void {
  const oldestKept = ek - BUCKET_HORIZON_MINUTES + 1;
  let n = 0;
  while (n < b.keys.length && (b.keys[n] as number) < oldestKept) {
    b.total -= b.counts[n] as number;
    n++;
  }
  if (n > 0) {
    b.keys.splice(0, n);
    b.counts.splice(0, n);
  }
}

/** True when bucket `k` is inside the 24 h window ending at bucket `ek`. */
export function bucketInWindow(k: number, ek: number): boolean {
  return k > ek - BUCKET_HORIZON_MINUTES && k <= ek;
}

/** Counters at bucket `ek`; `b` must be pruned to `ek`. */
export function countersAt(b: MinuteBuckets, ek: number): RateCounters {
  if (b.total === 0) return ZERO_COUNTERS;
  let count1m = 0;
  let count5m = 0;
  let count1h = 0;
  const sparkline = new Array<number>(SPARKLINE_SLOTS).fill(0);
  for (let i = b.keys.length - 1; i >= 0; i--) {
    const age = ek - (b.keys[i] as number);
    if (age >= 60) break;
    const c = b.counts[i] as number;
    if (age < 1) count1m += c;
    if (age < 5) count5m += c;
    count1h += c;
    const slot = SPARKLINE_SLOTS - 1 - Math.floor(age / SPARKLINE_SLOT_MINUTES);
    sparkline[slot] = (sparkline[slot] as number) + c;
  }
  return { count1m, count5m, count1h, count24h: b.total, sparkline };
}

/** Element-wise sum of counters taken at the same instant. */
export function sumCounters(all: readonly RateCounters[]): RateCounters {
  if (all.length === 1) return all[0] as RateCounters;
  let count1m = 0;
  let count5m = 0;
  let count1h = 0;
  let count24h = 0;
  const sparkline = new Array<number>(SPARKLINE_SLOTS).fill(0);
  for (const c of all) {
    count1m += c.count1m;
    count5m += c.count5m;
    count1h += c.count1h;
    count24h += c.count24h;
    for (let s = 0; s < SPARKLINE_SLOTS; s++)
      sparkline[s] = (sparkline[s] as number) + (c.sparkline[s] as number);
  }
  return { count1m, count5m, count1h, count24h, sparkline };
}

export function sameCounters(a: RateCounters, b: RateCounters): boolean {
  if (a === b) return true;
  if (a.count1m !== b.count1m || a.count5m !== b.count5m || a.count1h !== b.count1h) return false;
  if (a.count24h !== b.count24h) return false;
  for (let s = 0; s < SPARKLINE_SLOTS; s++) if (a.sparkline[s] !== b.sparkline[s]) return false;
  return true;
}
