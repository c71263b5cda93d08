import { describe, expect, it } from 'vitest';
import { levelOf, overallScore } from './overall.ts';

describe('overallScore (SPEC §3.5 test vectors)', () => {
  it.each([
    [100, 100, 100, 100, 100],
    [0, 0, 0, 0, 0],
    [80, 70, 60, 90, 74],
    [90, 40, 80, 85, 60],
    [30, 80, 70, 90, 50],
    [20, 30, 90, 95, 48],
    [50, 30, 40, 50, 42],
  ])('(%i, %i, %i, %i) → %i', (rel, sec, cost, arch, expected) => {
    expect(overallScore(rel, sec, cost, arch)).toBe(expected);
  });

  it('caps at 60 only when the sum exceeds 60, and truncates', () => {
    // 35·69 + 30·49 + 20·60 + 15·60 = 5985 → 59.85: not above 60, truncated to 59.
    expect(overallScore(69, 49, 60, 60)).toBe(59);
    // 35·90 + 30·49 + 20·90 + 15·90 = 7770 → capped to 60.
    expect(overallScore(90, 49, 90, 90)).toBe(60);
    // security exactly 50 is not < 50: 35·90 + 30·50 + 20·90 + 15·90 = 7800 → 78.
    expect(overallScore(90, 50, 90, 90)).toBe(78);
    // reliability 49 with a sum of 75.65 → 50.
    expect(overallScore(49, 100, 100, 100)).toBe(50);
  });
});

describe('levelOf', () => {
  it.each([
    [0, 'critical'],
    [25, 'critical'],
    [26, 'high'],
    [50, 'high'],
    [51, 'degraded'],
    [74, 'degraded'],
    [75, 'ok'],
    [100, 'ok'],
  ])('%i → %s', (overall, level) => {
    expect(levelOf(overall)).toBe(level);
  });
});
