import type { Prices } from './types.ts';

/** Bounds and windows of the recommendations fold (SPEC §8, §9), all configurable. */
export interface RecommendationsConfig {
  /** Most recommendations kept, open and closed (SPEC §9: 300). */
  readonly maxRecommendations: number;
  /** A closed recommendation is deleted this long after closing (SPEC §9: 7 days). */
  readonly closedRetentionMs: number;
  /** Rightsizing window in whole event-time hours (14 days). */
  readonly windowHours: number;
  /** Rightsizing needs samples spanning at least this long (1 h). */
  readonly minCoverageMs: number;
  /** The usage quantile compared with requests (0.95). */
  readonly quantile: number;
  /** Dirty targets and open recommendations are re-evaluated when the watermark enters a new slot of this length. */
  readonly evaluateEveryMs: number;
  /** Latest-value inputs (node memory, CoreDNS, GC pauses) older than this no longer count. */
  readonly staleAfterMs: number;
  /** idle-node averages node CPU over this long (30 min). */
  readonly idleWindowMs: number;
  readonly maxContainers: number;
  readonly maxHpas: number;
  readonly maxNodes: number;
  readonly maxGcTargets: number;
  /** Pods remembered per GC target. */
  readonly maxGcPodsPerTarget: number;
  /** Savings are computed only when prices are set. */
  readonly prices: Prices | null;
  readonly hoursPerMonth: number;
}

const HOUR = 3_600_000;

export const DEFAULT_RECOMMENDATIONS_CONFIG: RecommendationsConfig = Object.freeze({
  maxRecommendations: 300,
  closedRetentionMs: 7 * 24 * HOUR,
  windowHours: 14 * 24,
  minCoverageMs: HOUR,
  quantile: 0.95,
  evaluateEveryMs: 60_000,
  staleAfterMs: 10 * 60_000,
  idleWindowMs: 30 * 60_000,
  maxContainers: 20_000,
  maxHpas: 5_000,
  maxNodes: 5_000,
  maxGcTargets: 20_000,
  maxGcPodsPerTarget: 200,
  prices: null,
  hoursPerMonth: 730,
});

export const RECOMMENDATIONS_CONFIG_INVALID = 'HETU_RECOMMENDATIONS_CONFIG_INVALID';
export const RECOMMENDATIONS_RESTORE_INVALID = 'HETU_RECOMMENDATIONS_RESTORE_INVALID';

export function recommendationsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const INTEGER_KEYS = [
  'maxRecommendations',
  'windowHours',
  'maxContainers',
  'maxHpas',
  'maxNodes',
  'maxGcTargets',
  'maxGcPodsPerTarget',
] as const;
const DURATION_KEYS = [
  'closedRetentionMs',
  'minCoverageMs',
  'evaluateEveryMs',
  'staleAfterMs',
  'idleWindowMs',
  'hoursPerMonth',
] as const;

/** Fills defaults and validates; the result is frozen. Throws HETU_RECOMMENDATIONS_CONFIG_INVALID. */
export function resolveRecommendationsConfig(
  config: Partial<RecommendationsConfig> = {},
): RecommendationsConfig {
  const c: RecommendationsConfig = { ...DEFAULT_RECOMMENDATIONS_CONFIG, ...config };
  const bad = (what: string): never => {
    throw recommendationsError(RECOMMENDATIONS_CONFIG_INVALID, `recommendations config: ${what}.`);
  };
  for (const k of INTEGER_KEYS)
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) bad(`${k} must be a positive integer, got ${String(c[k])}`);
  for (const k of DURATION_KEYS)
    if (!Number.isFinite(c[k]) || c[k] <= 0) bad(`${k} must be a positive number, got ${String(c[k])}`);
  if (!(c.quantile > 0 && c.quantile <= 1)) bad(`quantile must be in (0, 1], got ${String(c.quantile)}`);
  if (c.prices !== null) {
    const { cpuCoreHour, memoryGiBHour } = c.prices;
    if (![cpuCoreHour, memoryGiBHour].every((p) => Number.isFinite(p) && p >= 0))
      bad('prices must be finite numbers ≥ 0');
  }
  return Object.freeze({ ...c, prices: c.prices === null ? null : Object.freeze({ ...c.prices }) });
}
