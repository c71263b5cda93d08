import { detectionOf, MAX_ABS_Z, NO_DETECTION, SKIPPED_NON_FINITE } from './severity.ts';
import type { Detection } from './severity.ts';

/**
 * SPEC §5's plain sliding z-score, kept as the reference the detector is measured against:
 * z = (x − mean) ÷ sample standard deviation of the last `window` samples before x is added,
 * scored once at least `minSamples` are in the window.
 *
 * O(1) per sample: a ring buffer plus a sliding Welford mean and sum of squared deviations,
 * recomputed exactly from the buffer every `window` samples so rounding cannot drift.
 * The state is plain JSON data (finite numbers and arrays) and is mutated in place.
 */
export interface ZScoreConfig {
  readonly window: number;
  readonly minSamples: number;
}

export interface ZScoreState {
  readonly kind: 'zscore';
  readonly window: number;
  readonly minSamples: number;
  /** Ring buffer, at most `window` values; once full, `head` is the oldest. */
  buf: number[];
  head: number;
  mean: number;
  /** Sum of squared deviations from `mean` over `buf`. */
  m2: number;
  /** Samples added since the last exact recomputation. */
  sinceExact: number;
}

export const DEFAULT_ZSCORE_CONFIG: ZScoreConfig = Object.freeze({ window: 60, minSamples: 10 });

export function createZScore(config: Partial<ZScoreConfig> = {}): ZScoreState {
  const window = config.window ?? DEFAULT_ZSCORE_CONFIG.window;
  const minSamples = config.minSamples ?? DEFAULT_ZSCORE_CONFIG.minSamples;
  if (!Number.isInteger(window) || window < 2) throw new RangeError('z-score window must be an integer ≥ 2');
  if (!Number.isInteger(minSamples) || minSamples < 2 || minSamples > window) {
    throw new RangeError('z-score minSamples must be an integer in [2, window]');
  }
  return { kind: 'zscore', window, minSamples, buf: [], head: 0, mean: 0, m2: 0, sinceExact: 0 };
}

/** Scores `value` against the window, then adds it. `ts` is unused (kept for one signature). */
export function updateZScore(state: ZScoreState, _ts: number, value: number): Detection {
  if (!Number.isFinite(value)) return SKIPPED_NON_FINITE;
  const n = state.buf.length;
  let out = NO_DETECTION;
  if (n >= state.minSamples) {
    const variance = state.m2 / (n - 1);
    const d = value - state.mean;
    if (variance > 0) out = detectionOf(d / Math.sqrt(variance));
    else if (d !== 0) out = detectionOf(d > 0 ? MAX_ABS_Z : -MAX_ABS_Z);
  }
  if (n < state.window) {
    state.buf.push(value);
    const d = value - state.mean;
    state.mean += d / (n + 1);
    state.m2 += d * (value - state.mean);
  } else {
    const old = state.buf[state.head] as number;
    state.buf[state.head] = value;
    state.head = state.head + 1 === n ? 0 : state.head + 1;
    const oldMean = state.mean;
    state.mean = oldMean + (value - old) / n;
    state.m2 += (value - old) * (value - state.mean + old - oldMean);
  }
  if (++state.sinceExact >= state.window) recompute(state);
  if (state.m2 < 0) state.m2 = 0;
  return out;
}

function recompute(state: ZScoreState): void {
  const buf = state.buf;
  let sum = 0;
  for (let i = 0; i < buf.length; i++) sum += buf[i] as number;
  const mean = sum / buf.length;
  let m2 = 0;
  for (let i = 0; i < buf.length; i++) {
    const d = (buf[i] as number) - mean;
    m2 += d * d;
  }
  state.mean = mean;
  state.m2 = m2;
  state.sinceExact = 0;
}
