import type { Level } from './types.ts';

/**
 * SPEC §3.5, exactly the original's function: weighted sum 0.35 / 0.30 / 0.20 / 0.15; then if
 * security < 50 and the sum > 60 → 60; then if reliability < 50 and the sum > 50 → 50; the result
 * truncated. Computed in hundredths with integer arithmetic (dimension scores are integers), so
 * 80/70/60/90 gives exactly 74.5 → 74 without float noise.
 */
export function overallScore(
  reliability: number,
  security: number,
  cost: number,
  architecture: number,
): number {
  let hundredths = 35 * reliability + 30 * security + 20 * cost + 15 * architecture;
  if (security < 50 && hundredths > 6000) hundredths = 6000;
  if (reliability < 50 && hundredths > 5000) hundredths = 5000;
  return Math.trunc(hundredths / 100);
}

/** ≤ 25 critical, ≤ 50 high, ≤ 74 degraded, else ok. */
export function levelOf(overall: number): Level {
  if (overall <= 25) return 'critical';
  if (overall <= 50) return 'high';
  if (overall <= 74) return 'degraded';
  return 'ok';
}
