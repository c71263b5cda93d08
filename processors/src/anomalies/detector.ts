import { detectionOf, NO_DETECTION, SKIPPED_NON_FINITE, Z_MEDIUM } from './severity.ts';
import type { Detection } from './severity.ts';

/**
 * hetu's streaming anomaly detector (docs/anomalies.md explains the why of each part).
 *
 * Two one-step-ahead predictors run side by side on every sample:
 *  - "level": a robust exponentially weighted level (its update is clipped at the envelope, so
 *    one outlier barely moves it);
 *  - "seasonal": the same level plus a time-of-day profile of `seasonBins` bins (additive
 *    Holt-Winters in error-correction form, bins chosen by the sample's event time).
 * Each keeps an envelope `e`: a decaying maximum of its recent absolute residuals (half-life
 * `halfLife` samples), allowed to grow at most `cap`× per sample so one spike cannot blind it.
 * The z of a sample is 3·r ÷ (margin·e): |z| > 3 (SPEC's "medium") means the residual is more
 * than `margin` times the largest residual seen lately, > 5 and > 8 proportionally more.
 * The seasonal predictor is used only while its mean absolute residual is below
 * `seasonalGain` × the level predictor's (it must explain the series clearly better).
 *
 * O(1) per sample (two predictors, fixed-size profile); no allocation besides the returned
 * object; the state is plain JSON data, mutated in place by `update`.
 */
export interface DetectorConfig {
  /** Samples needed before any scoring (SPEC: 10). */
  readonly minSamples: number;
  /** Weight of a new residual in the level (0 < α ≤ 1). */
  readonly alpha: number;
  /** Weight of a new residual in the time-of-day profile (0 ≤ γ ≤ 1). */
  readonly gamma: number;
  /** Bins of the time-of-day profile (0: no seasonal predictor). */
  readonly seasonBins: number;
  /** Length of the season in milliseconds of event time. */
  readonly periodMs: number;
  /** Half-life of the envelope, in samples. */
  readonly halfLife: number;
  /** A residual is anomalous when larger than margin × envelope. */
  readonly margin: number;
  /** The envelope grows at most this factor per sample. */
  readonly cap: number;
  /** Weight of a new |residual| in each predictor's mean absolute residual. */
  readonly errorRate: number;
  /** The seasonal predictor is used while its mean |residual| < seasonalGain × the level one's. */
  readonly seasonalGain: number;
  /** Smallest envelope, relative to |level|: changes below this fraction are never anomalous. */
  readonly floorRel: number;
}

export const DEFAULT_DETECTOR_CONFIG: DetectorConfig = Object.freeze({
  minSamples: 10,
  alpha: 0.05,
  gamma: 0.1,
  seasonBins: 24,
  periodMs: 86_400_000,
  halfLife: 2000,
  margin: 1.2,
  cap: 2,
  errorRate: 0.01,
  seasonalGain: 0.7,
  floorRel: 1e-3,
});

/** One predictor's state. */
export interface PredictorState {
  /** Level. */
  m: number;
  /** Envelope: decaying max of |residual|. */
  e: number;
  /** Mean absolute (clipped) residual. */
  q: number;
}

export interface DetectorState {
  readonly kind: 'hetu-detector';
  readonly v: 1;
  readonly config: DetectorConfig;
  /** Per-sample envelope decay, 2^(−1/halfLife) (derived from config, kept for speed). */
  readonly decay: number;
  /** Samples accepted so far. */
  n: number;
  /** Warm-up Welford mean and sum of squared deviations (used until n = minSamples). */
  wMean: number;
  wM2: number;
  level: PredictorState;
  seasonal: PredictorState;
  /** Time-of-day profile, `seasonBins` offsets added to `seasonal.m`. */
  profile: number[];
}

/**
 * Thrown for an invalid config or a state that cannot be restored. Same shape as the project's
 * HetuError (`code`, `transient`), which does not exist yet.
 */
export class DetectorStateError extends Error {
  readonly code = 'HETU_ANOMALY_BAD_STATE';
  readonly transient = false;
}

export function validateConfig(c: DetectorConfig): void {
  const bad = (what: string): never => {
    throw new DetectorStateError(`Invalid detector config: ${what}.`);
  };
  if (!Number.isInteger(c.minSamples) || c.minSamples < 2) bad('minSamples must be an integer ≥ 2');
  if (!(c.alpha > 0 && c.alpha <= 1)) bad('alpha must be in (0, 1]');
  if (!(c.gamma >= 0 && c.gamma <= 1)) bad('gamma must be in [0, 1]');
  if (!Number.isInteger(c.seasonBins) || c.seasonBins < 0 || c.seasonBins > 10_000)
    bad('seasonBins must be an integer in [0, 10000]');
  if (!(c.periodMs > 0 && Number.isFinite(c.periodMs))) bad('periodMs must be a positive number');
  if (!(c.halfLife > 0 && Number.isFinite(c.halfLife))) bad('halfLife must be a positive number');
  if (!(c.margin > 0 && Number.isFinite(c.margin))) bad('margin must be a positive number');
  if (!(c.cap >= 1 && Number.isFinite(c.cap))) bad('cap must be a number ≥ 1');
  if (!(c.errorRate > 0 && c.errorRate <= 1)) bad('errorRate must be in (0, 1]');
  if (!(c.seasonalGain >= 0 && Number.isFinite(c.seasonalGain))) bad('seasonalGain must be a number ≥ 0');
  if (!(c.floorRel >= 0 && Number.isFinite(c.floorRel))) bad('floorRel must be a number ≥ 0');
}

export function createDetector(config: Partial<DetectorConfig> = {}): DetectorState {
  const c: DetectorConfig = { ...DEFAULT_DETECTOR_CONFIG, ...config };
  validateConfig(c);
  return {
    kind: 'hetu-detector',
    v: 1,
    config: c,
    decay: Math.pow(2, -1 / c.halfLife),
    n: 0,
    wMean: 0,
    wM2: 0,
    level: { m: 0, e: 0, q: 0 },
    seasonal: { m: 0, e: 0, q: 0 },
    profile: new Array<number>(c.seasonBins).fill(0),
  };
}

/** Skip reason for a sample whose timestamp is not a finite number. */
export const SKIPPED_BAD_TIME: Detection = Object.freeze({
  score: 0,
  z: 0,
  severity: 'none',
  skipped: 'timestamp is not a finite number',
});

/**
 * Scores `value` (at event time `ts`, epoch ms) against the state before it, then learns it.
 * Non-finite values or timestamps are skipped (state unchanged) with a reason.
 */
export function update(state: DetectorState, ts: number, value: number): Detection {
  if (!Number.isFinite(value)) return SKIPPED_NON_FINITE;
  if (!Number.isFinite(ts)) return SKIPPED_BAD_TIME;
  const c = state.config;
  const n = state.n;
  if (n < c.minSamples) {
    const d = value - state.wMean;
    state.wMean += d / (n + 1);
    state.wM2 += d * (value - state.wMean);
    state.n = n + 1;
    if (state.n === c.minSamples) {
      const sd = Math.sqrt(state.wM2 / (state.n - 1));
      for (const p of [state.level, state.seasonal]) {
        p.m = state.wMean;
        p.e = Z_MEDIUM * sd;
        p.q = sd;
      }
    }
    return NO_DETECTION;
  }
  state.n = n + 1;
  const useSeasonal = c.seasonBins > 0 && state.seasonal.q < c.seasonalGain * state.level.q;
  const zLevel = step(state, state.level, value, 0, -1);
  if (c.seasonBins === 0) return detectionOf(zLevel);
  const period = c.periodMs;
  const phase = (((ts % period) + period) % period) / period;
  const bin = Math.min(c.seasonBins - 1, Math.floor(phase * c.seasonBins));
  const zSeasonal = step(state, state.seasonal, value, state.profile[bin] as number, bin);
  return detectionOf(useSeasonal ? zSeasonal : zLevel);
}

/** Scores and learns one sample on one predictor; returns its z. `bin` < 0: no profile. */
function step(state: DetectorState, p: PredictorState, value: number, offset: number, bin: number): number {
  const c = state.config;
  const e = Math.max(p.e, c.floorRel * Math.abs(p.m) + 1e-12);
  const r = value - p.m - offset;
  const z = (Z_MEDIUM * r) / (c.margin * e);
  const rc = r > e ? e : r < -e ? -e : r;
  p.m += c.alpha * rc;
  if (bin >= 0) state.profile[bin] = offset + c.gamma * (1 - c.alpha) * rc;
  const ar = r < 0 ? -r : r;
  const grown = c.cap * e;
  const decayed = p.e * state.decay;
  const capped = ar > grown ? grown : ar;
  p.e = capped > decayed ? capped : decayed;
  p.q += c.errorRate * ((rc < 0 ? -rc : rc) - p.q);
  return z;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Restores a state from its JSON form (`JSON.parse(JSON.stringify(state))`), checking its shape.
 * Throws DetectorStateError naming what is wrong.
 */
export function restoreDetector(json: unknown): DetectorState {
  const bad = (what: string): never => {
    throw new DetectorStateError(`Cannot restore detector state: ${what}.`);
  };
  if (typeof json !== 'object' || json === null) return bad('not an object');
  const o = json as Record<string, unknown>;
  if (o.kind !== 'hetu-detector' || o.v !== 1) bad('unknown kind or version');
  const cfg = o.config as Record<string, unknown> | undefined;
  if (typeof cfg !== 'object' || cfg === null) return bad('config missing');
  for (const k of Object.keys(DEFAULT_DETECTOR_CONFIG))
    if (!isNum(cfg[k])) bad(`config.${k} is not a number`);
  const config = { ...(cfg as unknown as DetectorConfig) };
  validateConfig(config);
  for (const k of ['n', 'wMean', 'wM2']) if (!isNum(o[k])) bad(`${k} is not a number`);
  const pred = (x: unknown, name: string): PredictorState => {
    const p = x as Record<string, unknown> | null;
    if (typeof p !== 'object' || p === null || !isNum(p.m) || !isNum(p.e) || !isNum(p.q))
      return bad(`${name} is malformed`);
    return { m: p.m, e: p.e, q: p.q };
  };
  const profile = o.profile;
  if (!Array.isArray(profile) || profile.length !== config.seasonBins || !profile.every(isNum)) {
    bad('profile is malformed');
  }
  return {
    kind: 'hetu-detector',
    v: 1,
    config,
    decay: Math.pow(2, -1 / config.halfLife),
    n: o.n as number,
    wMean: o.wMean as number,
    wM2: o.wM2 as number,
    level: pred(o.level, 'level'),
    seasonal: pred(o.seasonal, 'seasonal'),
    profile: [...(profile as number[])],
  };
}
