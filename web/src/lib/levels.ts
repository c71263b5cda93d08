/** Score levels (issue F): ≤ 25 critical, ≤ 50 high, ≤ 74 degraded, else ok. */
export type Level = 'critical' | 'high' | 'degraded' | 'ok' | 'none';

export function levelOf(score: number | null | undefined): Level {
  if (score === null || score === undefined) return 'none';
  if (score <= 25) return 'critical';
  if (score <= 50) return 'high';
  if (score <= 74) return 'degraded';
  return 'ok';
}

export const LEVEL_LABEL: Record<Level, string> = {
  critical: 'Critical',
  high: 'High',
  degraded: 'Degraded',
  ok: 'OK',
  none: 'No data yet',
};
