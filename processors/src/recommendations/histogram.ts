/**
 * Usage statistics for rightsizing (SPEC §8): one sparse log-scale histogram per event-time hour,
 * kept for a sliding window of whole hours (336 = 14 days by default).
 *
 * Buckets: a value v > 0 falls in bucket b = ⌊ln v ÷ ln γ⌋ (γ = 1.01), i.e. [γ^b, γ^(b+1));
 * v ≤ 0 has its own bucket. Each bucket keeps its count and the largest value seen in it, both
 * mergeable across hours (sum, max). The p-quantile is the nearest-rank one (rank ⌈p·n⌉); it is
 * answered with the largest observed value of the bucket holding that rank, so the answer x̂
 * satisfies x ≤ x̂ < γ·x for the exact nearest-rank quantile x (one-sided relative error below
 * 1 %, never an underestimate), and x̂ = x whenever x is the largest value in its bucket — in
 * particular when samples repeat one value. Values outside [γ^MIN_BUCKET, γ^(MAX_BUCKET+1))
 * (about 7.7e-13 … 1.4e15) are clamped into the end buckets, where the bound does not hold.
 * Memory: per hour at most min(samples in the hour, MAX_BUCKET − MIN_BUCKET + 2) cells.
 */

export const LOG_BASE = 1.01;
const LN_BASE = Math.log(LOG_BASE);
export const MIN_BUCKET = -2_800;
export const MAX_BUCKET = 3_500;
/** The bucket of values ≤ 0. */
export const ZERO_BUCKET = MIN_BUCKET - 1;
export const HOUR_MS = 3_600_000;

export function bucketOf(v: number): number {
  if (v <= 0) return ZERO_BUCKET;
  const b = Math.floor(Math.log(v) / LN_BASE);
  return b < MIN_BUCKET ? MIN_BUCKET : b > MAX_BUCKET ? MAX_BUCKET : b;
}

export interface Cell {
  count: number;
  max: number;
}

export interface HourHistogram {
  /** ⌊ts ÷ 1 h⌋ of its samples. */
  readonly hour: number;
  n: number;
  firstTs: number;
  lastTs: number;
  readonly cells: Map<number, Cell>;
}

/** Hour histograms by hour number. */
export type WindowHistogram = Map<number, HourHistogram>;

export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS);
}

/** Adds one sample (finite value, event time ts) to its hour. */
export function addSample(w: WindowHistogram, ts: number, value: number): void {
  const hour = hourOf(ts);
  let h = w.get(hour);
  if (h === undefined) {
    h = { hour, n: 0, firstTs: ts, lastTs: ts, cells: new Map() };
    w.set(hour, h);
  }
  const cached = cache.get(w);
  if (cached !== undefined && hour < cached.toHour) cache.delete(w);
  h.n += 1;
  if (ts < h.firstTs) h.firstTs = ts;
  if (ts > h.lastTs) h.lastTs = ts;
  const b = bucketOf(value);
  const c = h.cells.get(b);
  if (c === undefined) h.cells.set(b, { count: 1, max: value <= 0 ? 0 : value });
  else {
    c.count += 1;
    if (value > c.max) c.max = value;
  }
}

/** Drops the hours before `minHour`. */
export function pruneBefore(w: WindowHistogram, minHour: number): void {
  for (const hour of [...w.keys()]) {
    if (hour < minHour) {
      w.delete(hour);
      cache.delete(w);
    }
  }
}

export interface QuantileResult {
  readonly value: number;
  /** Samples in the window. */
  readonly samples: number;
  readonly firstTs: number;
  readonly lastTs: number;
  /** Hours holding samples. */
  readonly hours: number;
}

interface Merged {
  /** [bucket, count, max], sorted by bucket. */
  readonly cells: [number, number, number][];
  readonly n: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly hours: number;
}

/**
 * Merge of the complete hours [fromHour, toHour) of a window, memoised per window: evaluations
 * then merge only the newest hour into it. A sample landing before toHour or a pruned hour drops
 * the memo; a memo for other hours is recomputed. Transparent: results are the same without it.
 */
interface Memo extends Merged {
  readonly fromHour: number;
  readonly toHour: number;
}

const cache = new WeakMap<WindowHistogram, Memo>();

function merge(hists: Iterable<HourHistogram>): Merged {
  const merged = new Map<number, Cell>();
  let n = 0;
  let firstTs = Infinity;
  let lastTs = -Infinity;
  let hours = 0;
  for (const h of hists) {
    if (h.n === 0) continue;
    hours += 1;
    n += h.n;
    if (h.firstTs < firstTs) firstTs = h.firstTs;
    if (h.lastTs > lastTs) lastTs = h.lastTs;
    for (const [b, c] of h.cells) {
      const m = merged.get(b);
      if (m === undefined) merged.set(b, { count: c.count, max: c.max });
      else {
        m.count += c.count;
        if (c.max > m.max) m.max = c.max;
      }
    }
  }
  const cells = [...merged]
    .sort((a, b) => a[0] - b[0])
    .map(([b, c]): [number, number, number] => [b, c.count, c.max]);
  return { cells, n, firstTs, lastTs, hours };
}

function mergeTwo(a: Merged, b: Merged): Merged {
  const cells: [number, number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.cells.length || j < b.cells.length) {
    const x = a.cells[i];
    const y = b.cells[j];
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      cells.push(x as [number, number, number]);
      i += 1;
    } else if (x === undefined || y[0] < x[0]) {
      cells.push(y);
      j += 1;
    } else {
      cells.push([x[0], x[1] + y[1], Math.max(x[2], y[2])]);
      i += 1;
      j += 1;
    }
  }
  return {
    cells,
    n: a.n + b.n,
    firstTs: Math.min(a.firstTs, b.firstTs),
    lastTs: Math.max(a.lastTs, b.lastTs),
    hours: a.hours + b.hours,
  };
}

/** Nearest-rank q-quantile of the samples in hours ≥ minHour, or null when there are none. */
export function quantile(w: WindowHistogram, q: number, minHour: number): QuantileResult | null {
  let newest = -Infinity;
  for (const hour of w.keys()) if (hour > newest) newest = hour;
  if (newest < minHour) return null;
  let memo = cache.get(w);
  if (memo === undefined || memo.fromHour !== minHour || memo.toHour !== newest) {
    const older = [...w.values()].filter((h) => h.hour >= minHour && h.hour < newest);
    memo = { ...merge(older), fromHour: minHour, toHour: newest };
    cache.set(w, memo);
  }
  const all = mergeTwo(memo, merge([w.get(newest) as HourHistogram]));
  if (all.n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * all.n));
  let seen = 0;
  let value = 0;
  for (const [, count, max] of all.cells) {
    seen += count;
    value = max;
    if (seen >= rank) break;
  }
  return { value, samples: all.n, firstTs: all.firstTs, lastTs: all.lastTs, hours: all.hours };
}

/** JSON form: [hour, n, firstTs, lastTs, [[bucket, count, max], …]] with hours and buckets sorted. */
export type HourJSON = [number, number, number, number, [number, number, number][]];

export function windowToJSON(w: WindowHistogram): HourJSON[] {
  return [...w.values()]
    .sort((a, b) => a.hour - b.hour)
    .map((h) => [
      h.hour,
      h.n,
      h.firstTs,
      h.lastTs,
      [...h.cells.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([b, c]): [number, number, number] => [b, c.count, c.max]),
    ]);
}

export function windowFromJSON(json: unknown): WindowHistogram | null {
  if (!Array.isArray(json)) return null;
  const w: WindowHistogram = new Map();
  for (const row of json) {
    if (!Array.isArray(row) || row.length !== 5) return null;
    const [hour, n, firstTs, lastTs, cells] = row as unknown[];
    if (![hour, n, firstTs, lastTs].every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
    if (!Array.isArray(cells)) return null;
    const map = new Map<number, Cell>();
    for (const cell of cells) {
      if (!Array.isArray(cell) || cell.length !== 3 || !cell.every((x) => typeof x === 'number')) return null;
      const [b, count, max] = cell as [number, number, number];
      map.set(b, { count, max });
    }
    w.set(hour as number, {
      hour: hour as number,
      n: n as number,
      firstTs: firstTs as number,
      lastTs: lastTs as number,
      cells: map,
    });
  }
  return w;
}
