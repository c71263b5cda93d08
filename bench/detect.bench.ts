/**
 * NAB benchmark of the streaming anomaly detector against SPEC §5's plain sliding z-score
 * (window 60, |z| > 3), both computed in the same run on the same data.
 *
 * Run alone: `node bench/detect.bench.ts` (data: $HETU_DATASETS or <repo>/../shared/datasets).
 * How each figure is counted is written in docs/bench/anomalies.md.
 */
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyKeyed,
  createDetector,
  createSeriesTable,
  createZScore,
  parseTimestamp,
  update,
  updateZScore,
} from '@hetu/processors/anomalies';
import type { Detection } from '@hetu/processors/anomalies';

export const NAB_CATEGORIES = [
  'artificialNoAnomaly',
  'artificialWithAnomaly',
  'realAdExchange',
  'realKnownCause',
  'realTraffic',
] as const;

export interface NabFile {
  /** `<category>/<file>.csv` */
  readonly name: string;
  readonly category: string;
  readonly ts: Float64Array;
  readonly values: Float64Array;
  /** Labelled windows as inclusive row-index ranges [first, last]. */
  readonly windows: ReadonlyArray<readonly [number, number]>;
  /** Rows before this index are NAB's probationary period and are not scored. */
  readonly probation: number;
}

/** One detector as the benchmark drives it: a fresh stepper per file. */
export type Stepper = (ts: number, value: number) => Detection;
export interface DetectorUnderTest {
  readonly name: string;
  readonly create: () => Stepper;
}

export const DETECTOR: DetectorUnderTest = {
  name: 'hetu',
  create: () => {
    const s = createDetector();
    return (ts, v) => update(s, ts, v);
  },
};

export const ZSCORE: DetectorUnderTest = {
  name: 'z-score',
  create: () => {
    const s = createZScore({ window: 60, minSamples: 10 });
    return (ts, v) => updateZScore(s, ts, v);
  },
};

export function datasetsRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return process.env.HETU_DATASETS ?? join(here, '..', '..', 'shared', 'datasets');
}

/** NAB's probationary period: min(floor(15 % of rows), 750). */
export function probationLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

export async function loadNab(root: string = datasetsRoot()): Promise<NabFile[]> {
  const dir = join(root, 'nab');
  const windowsJson = JSON.parse(await readFile(join(dir, 'windows.json'), 'utf8')) as Record<
    string,
    Array<[string, string]>
  >;
  const names = Object.keys(windowsJson).sort();
  const files: NabFile[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    const lines = text.split('\n');
    const ts: number[] = [];
    const values: number[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === '') continue;
      const comma = line.indexOf(',');
      const t = parseTimestamp(line.slice(0, comma));
      const v = Number(line.slice(comma + 1));
      if (!Number.isFinite(t) || !Number.isFinite(v))
        throw new Error(`${name} line ${i + 1} is not a valid row`);
      ts.push(t);
      values.push(v);
    }
    const windows: Array<[number, number]> = [];
    for (const [a, b] of windowsJson[name] ?? []) {
      const t1 = parseTimestamp(a);
      const t2 = parseTimestamp(b);
      let lo = -1;
      let hi = -1;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i] as number;
        if (t >= t1 && t <= t2) {
          if (lo < 0) lo = i;
          hi = i;
        }
      }
      if (lo >= 0) windows.push([lo, hi]);
    }
    files.push({
      name,
      category: name.slice(0, name.indexOf('/')),
      ts: Float64Array.from(ts),
      values: Float64Array.from(values),
      windows,
      probation: probationLength(ts.length),
    });
  }
  return files;
}

export interface Run {
  readonly scores: Float64Array;
  readonly flags: Uint8Array;
}

export function runDetector(det: DetectorUnderTest, file: NabFile): Run {
  const step = det.create();
  const n = file.values.length;
  const scores = new Float64Array(n);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d = step(file.ts[i] as number, file.values[i] as number);
    scores[i] = d.score;
    flags[i] = d.severity === 'none' ? 0 : 1;
  }
  return { scores, flags };
}

export interface WindowCounts {
  /** Windows with at least one scored row. */
  windows: number;
  tp: number;
  /** Runs of consecutive flagged rows outside every window (one run = one false alarm). */
  fpEvents: number;
  /** Flagged rows outside every window (each row counted). */
  fpRows: number;
  /** Sum of detection delays (rows from window start to its first flagged row) over TPs. */
  delaySum: number;
}

export function emptyCounts(): WindowCounts {
  return { windows: 0, tp: 0, fpEvents: 0, fpRows: 0, delaySum: 0 };
}

/** Window-level counts for one file. Rows in the probationary period are ignored. */
export function windowCounts(
  flags: Uint8Array,
  file: NabFile,
  into: WindowCounts = emptyCounts(),
): WindowCounts {
  const n = flags.length;
  const inWindow = new Int32Array(n).fill(-1);
  file.windows.forEach(([lo, hi], w) => inWindow.fill(w, lo, hi + 1));
  const hit = new Uint8Array(file.windows.length);
  const scored = new Uint8Array(file.windows.length);
  let prevFlaggedOutside = false;
  for (let i = file.probation; i < n; i++) {
    const w = inWindow[i] as number;
    if (w >= 0) scored[w] = 1;
    const f = flags[i] === 1;
    if (f && w >= 0 && hit[w] === 0) {
      hit[w] = 1;
      into.tp++;
      into.delaySum += i - (file.windows[w] as readonly [number, number])[0];
    }
    const outside = f && w < 0;
    if (outside) {
      into.fpRows++;
      if (!prevFlaggedOutside) into.fpEvents++;
    }
    prevFlaggedOutside = outside;
  }
  for (let w = 0; w < scored.length; w++) into.windows += scored[w] as number;
  return into;
}

export interface Quality {
  precision: number;
  recall: number;
  f1: number;
  meanDelay: number;
}

/** Precision = TP ÷ (TP + FP events); recall = TP ÷ windows; F1 = 2TP ÷ (2TP + FP + FN), 1 when all are 0. */
export function quality(c: WindowCounts): Quality {
  const fn = c.windows - c.tp;
  return {
    precision: c.tp + c.fpEvents === 0 ? 1 : c.tp / (c.tp + c.fpEvents),
    recall: c.windows === 0 ? 1 : c.tp / c.windows,
    f1: 2 * c.tp + c.fpEvents + fn === 0 ? 1 : (2 * c.tp) / (2 * c.tp + c.fpEvents + fn),
    meanDelay: c.tp === 0 ? NaN : c.delaySum / c.tp,
  };
}

// ---- NAB scoring (standard profile), after NAB's sweeper: see docs/bench/anomalies.md ----

export interface NabProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}
export const NAB_STANDARD: NabProfile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };

function scaledSigmoid(position: number): number {
  if (position >= 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

/**
 * The weight NAB's sweeper gives a detection at each row: inside a window, the scaled sigmoid
 * of its relative position, normalised so the window's first row is worth tpWeight; outside, a
 * negative weight growing from ~0 just after the previous window to fpWeight far from it (the
 * full fpWeight before any window). Also which window the row is in (-1 outside).
 */
export function sweepWeights(
  file: NabFile,
  profile: NabProfile,
): { weight: Float64Array; window: Int32Array } {
  const n = file.values.length;
  const weight = new Float64Array(n);
  const window = new Int32Array(n).fill(-1);
  const maxTp = scaledSigmoid(-1);
  let w = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const cur = file.windows[w];
    if (cur !== undefined && i >= cur[0] && i <= cur[1]) {
      const width = cur[1] - cur[0] + 1;
      weight[i] = (scaledSigmoid(-(cur[1] - i + 1) / width) * profile.tpWeight) / maxTp;
      window[i] = w;
      if (i === cur[1]) {
        prevRight = i;
        prevWidth = width;
        w++;
      }
    } else {
      const pos = prevRight < 0 ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      weight[i] = scaledSigmoid(pos) * profile.fpWeight;
    }
  }
  return { weight, window };
}

/** Raw NAB score of one file for the given detections (rows flagged 1). */
export function nabRaw(flags: Uint8Array, file: NabFile, profile: NabProfile = NAB_STANDARD): number {
  const { weight, window } = sweepWeights(file, profile);
  const best = new Float64Array(file.windows.length).fill(NaN);
  let fp = 0;
  for (let i = file.probation; i < flags.length; i++) {
    const w = window[i] as number;
    if (w >= 0 && Number.isNaN(best[w] as number)) best[w] = -profile.fnWeight;
    if (flags[i] !== 1) continue;
    if (w >= 0) best[w] = Math.max(best[w] as number, weight[i] as number);
    else fp += weight[i] as number;
  }
  let total = fp;
  for (const b of best) if (!Number.isNaN(b)) total += b;
  return total;
}

/** Null (no detection) and perfect (each window's first scored row) raw scores of one file. */
export function nabBounds(
  file: NabFile,
  profile: NabProfile = NAB_STANDARD,
): { nul: number; perfect: number } {
  const n = file.values.length;
  const none = new Uint8Array(n);
  const perfect = new Uint8Array(n);
  for (const [lo, hi] of file.windows) perfect.fill(1, Math.max(lo, file.probation), hi + 1);
  return { nul: nabRaw(none, file, profile), perfect: nabRaw(perfect, file, profile) };
}

/**
 * NAB's threshold optimisation: the best total raw score over all thresholds on the anomaly
 * score (detection = score ≥ threshold), over all the given files at once, as NAB's optimiser
 * picks one threshold per detector and profile for the whole corpus.
 */
export function nabBestThreshold(
  runs: ReadonlyArray<{ file: NabFile; scores: Float64Array }>,
  profile: NabProfile = NAB_STANDARD,
): { threshold: number; raw: number } {
  const pts: Array<{ s: number; wt: number; w: number }> = [];
  let windowBase = 0;
  let total = 0;
  const best: number[] = [];
  for (const { file, scores } of runs) {
    const { weight, window } = sweepWeights(file, profile);
    const seen = new Set<number>();
    for (let i = file.probation; i < scores.length; i++) {
      const w = window[i] as number;
      if (w >= 0 && !seen.has(w)) seen.add(w);
      pts.push({ s: scores[i] as number, wt: weight[i] as number, w: w >= 0 ? windowBase + w : -1 });
    }
    for (let w = 0; w < file.windows.length; w++) {
      best.push(seen.has(w) ? -profile.fnWeight : 0);
      if (seen.has(w)) total -= profile.fnWeight;
    }
    windowBase += file.windows.length;
  }
  pts.sort((a, b) => b.s - a.s);
  let bestRaw = total;
  let bestThr = 1.1;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i] as { s: number; wt: number; w: number };
    if (p.w < 0) total += p.wt;
    else if (p.wt > (best[p.w] as number)) {
      total += p.wt - (best[p.w] as number);
      best[p.w] = p.wt;
    }
    const next = pts[i + 1];
    if ((next === undefined || next.s !== p.s) && total > bestRaw) {
      bestRaw = total;
      bestThr = p.s;
    }
  }
  return { threshold: bestThr, raw: bestRaw };
}

// ---- the benchmark ----

export interface CategoryResult {
  readonly category: string;
  readonly counts: WindowCounts;
  readonly quality: Quality;
  readonly nabRaw: number;
  readonly nabNull: number;
  readonly nabPerfect: number;
}

export interface Evaluation {
  readonly detector: string;
  readonly categories: CategoryResult[];
  /** NAB standard-profile score at the detector's own threshold, 0 = null detector, 100 = perfect. */
  readonly nabScore: number;
  /** The same with NAB's optimised threshold over these files. */
  readonly nabScoreOptimised: number;
  readonly nabThresholdOptimised: number;
}

export function evaluate(det: DetectorUnderTest, files: ReadonlyArray<NabFile>): Evaluation {
  const byCat = new Map<string, { counts: WindowCounts; raw: number; nul: number; perfect: number }>();
  const runs: Array<{ file: NabFile; scores: Float64Array }> = [];
  let raw = 0;
  let nul = 0;
  let perfect = 0;
  for (const file of files) {
    const run = runDetector(det, file);
    runs.push({ file, scores: run.scores });
    let cat = byCat.get(file.category);
    if (cat === undefined) {
      cat = { counts: emptyCounts(), raw: 0, nul: 0, perfect: 0 };
      byCat.set(file.category, cat);
    }
    windowCounts(run.flags, file, cat.counts);
    const r = nabRaw(run.flags, file);
    const b = nabBounds(file);
    cat.raw += r;
    cat.nul += b.nul;
    cat.perfect += b.perfect;
    raw += r;
    nul += b.nul;
    perfect += b.perfect;
  }
  const categories = [...byCat.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, c]) => ({
      category,
      counts: c.counts,
      quality: quality(c.counts),
      nabRaw: c.raw,
      nabNull: c.nul,
      nabPerfect: c.perfect,
    }));
  const opt = nabBestThreshold(runs);
  return {
    detector: det.name,
    categories,
    nabScore: (100 * (raw - nul)) / (perfect - nul),
    nabScoreOptimised: (100 * (opt.raw - nul)) / (perfect - nul),
    nabThresholdOptimised: opt.threshold,
  };
}

/** Samples per second of one detector over the given files, repeated until ≥ minMs elapsed. */
export function throughput(det: DetectorUnderTest, files: ReadonlyArray<NabFile>, minMs = 1500): number {
  let samples = 0;
  let sink = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (const file of files) {
      const step = det.create();
      const n = file.values.length;
      for (let i = 0; i < n; i++) sink += step(file.ts[i] as number, file.values[i] as number).score;
      samples += n;
    }
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  if (sink < 0) throw new Error('unreachable');
  return (samples / elapsed) * 1000;
}

const fmt = (x: number, d = 3): string => (Number.isNaN(x) ? '—' : x.toFixed(d));

/** Normalised NAB score of a category; where it has no window (null = perfect), the raw score. */
function nabText(c: CategoryResult): string {
  if (c.nabPerfect === c.nabNull) return `raw ${c.nabRaw.toFixed(2)}`;
  return ((100 * (c.nabRaw - c.nabNull)) / (c.nabPerfect - c.nabNull)).toFixed(1);
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const files = await loadNab();
  const samples = files.reduce((a, f) => a + f.values.length, 0);
  print(`NAB: ${files.length} files, ${samples} samples, from ${datasetsRoot()}`);
  const ours = evaluate(DETECTOR, files);
  const base = evaluate(ZSCORE, files);
  const out: Record<string, number> = {};
  print('');
  print(
    '| category | detector | windows | TP | FP events | FP rows | precision | recall | F1 | mean delay (rows) | NAB standard |',
  );
  print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const ev of [ours, base]) {
    for (const c of ev.categories) {
      const q = c.quality;
      print(
        `| ${c.category} | ${ev.detector} | ${c.counts.windows} | ${c.counts.tp} | ${c.counts.fpEvents} | ${c.counts.fpRows} | ${fmt(q.precision)} | ${fmt(q.recall)} | ${fmt(q.f1)} | ${fmt(q.meanDelay, 1)} | ${nabText(c)} |`,
      );
      const key = `detect.${ev.detector}.${c.category}`;
      out[`${key}.precision`] = q.precision;
      out[`${key}.recall`] = q.recall;
      out[`${key}.f1`] = q.f1;
      if (Number.isFinite(q.meanDelay)) out[`${key}.meanDelay`] = q.meanDelay;
      out[`${key}.fpEvents`] = c.counts.fpEvents;
    }
  }
  print('');
  print(
    '| detector | NAB standard score (own threshold) | NAB standard score (optimised threshold) | optimised threshold |',
  );
  print('|---|---:|---:|---:|');
  for (const ev of [ours, base]) {
    print(
      `| ${ev.detector} | ${fmt(ev.nabScore, 1)} | ${fmt(ev.nabScoreOptimised, 1)} | ${fmt(ev.nabThresholdOptimised, 4)} |`,
    );
    out[`detect.${ev.detector}.nabStandard`] = ev.nabScore;
    out[`detect.${ev.detector}.nabStandardOptimised`] = ev.nabScoreOptimised;
  }
  print('');
  for (const det of [DETECTOR, ZSCORE]) {
    const sps = throughput(det, files);
    print(`${det.name}: ${Math.round(sps).toLocaleString('en-US')} samples/s (one core)`);
    out[`detect.${det.name}.samplesPerSecond`] = sps;
  }
  const fold = tableThroughput(files);
  print(
    `hetu series table fold (detector + episodes): ${Math.round(fold).toLocaleString('en-US')} samples/s (one core)`,
  );
  out['detect.hetu.tableSamplesPerSecond'] = fold;
  return out;
}

/** Samples per second through the whole fold (series lookup, detector, episodes), one series per file. */
export function tableThroughput(files: ReadonlyArray<NabFile>, minMs = 1500): number {
  let samples = 0;
  let changes = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    const table = createSeriesTable();
    for (const file of files) {
      const n = file.values.length;
      for (let i = 0; i < n; i++)
        changes += applyKeyed(table, file.name, file.ts[i] as number, file.values[i] as number).length;
      samples += n;
    }
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  if (changes < 0) throw new Error('unreachable');
  return (samples / elapsed) * 1000;
}

if (import.meta.main) {
  await bench((line) => process.stdout.write(line + '\n'));
}
