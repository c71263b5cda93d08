import { describe, expect, it } from 'vitest';
import { createZScore, updateZScore, severityOf, scoreOf, MAX_ABS_Z, SKIPPED_NON_FINITE } from './index.ts';

describe('SPEC z-score (window 60, needs 10)', () => {
  it('does not score until 10 samples are in the window', () => {
    const s = createZScore();
    for (let i = 1; i <= 10; i++)
      expect(updateZScore(s, 0, i * 1000)).toEqual({ score: 0, z: 0, severity: 'none' });
  });

  it('scores the 11th sample against the 10 before it: [1..10] then 20', () => {
    const s = createZScore();
    for (let i = 1; i <= 10; i++) updateZScore(s, 0, i);
    // mean 5.5, sample variance 82.5 / 9, z = 14.5 / sqrt(82.5 / 9)
    const d = updateZScore(s, 0, 20);
    expect(d.z).toBeCloseTo(4.789192378299669, 12);
    expect(d.z).toBeCloseTo(14.5 / Math.sqrt(82.5 / 9), 12);
    expect(d.severity).toBe('medium');
    expect(d.score).toBeCloseTo(0.7181895815542272, 12);
  });

  it('slides over the last 60 samples only', () => {
    const s = createZScore();
    for (let i = 0; i < 60; i++) updateZScore(s, 0, i);
    // window 0..59: mean 29.5, sample variance 60·61/12 = 305
    expect(updateZScore(s, 0, 100).z).toBeCloseTo(70.5 / Math.sqrt(305), 12);
    // window 1..59,100
    expect(updateZScore(s, 0, 40).z).toBeCloseTo(0.45819232781394703, 12);
    // window 2..59,100,40 (0 and 1 have left)
    expect(updateZScore(s, 0, -10).z).toBeCloseTo(-2.212753390954248, 12);
  });

  it('gives 0 on a constant window for the same value, and the clamped maximum otherwise', () => {
    const s = createZScore();
    for (let i = 0; i < 12; i++) updateZScore(s, 0, 7);
    expect(updateZScore(s, 0, 7)).toEqual({ score: 0, z: 0, severity: 'none' });
    expect(updateZScore(s, 0, 6)).toMatchObject({ z: -MAX_ABS_Z, severity: 'critical' });
  });

  it('skips NaN and ±Infinity with a reason and leaves the state as it was', () => {
    const s = createZScore();
    for (let i = 0; i < 15; i++) updateZScore(s, 0, i);
    const before = JSON.stringify(s);
    for (const v of [NaN, Infinity, -Infinity]) expect(updateZScore(s, 0, v)).toBe(SKIPPED_NON_FINITE);
    expect(JSON.stringify(s)).toBe(before);
    expect(SKIPPED_NON_FINITE.skipped).toBe('value is not a finite number');
  });

  it('rejects impossible configs', () => {
    expect(() => createZScore({ window: 1 })).toThrow(RangeError);
    expect(() => createZScore({ window: 60, minSamples: 61 })).toThrow(RangeError);
  });
});

describe('severity and score', () => {
  it('maps |z| > 3 / > 5 / > 8 to medium / high / critical, both signs', () => {
    const cases: Array<[number, string]> = [
      [0, 'none'],
      [3, 'none'],
      [3.0001, 'medium'],
      [5, 'medium'],
      [5.0001, 'high'],
      [8, 'high'],
      [8.0001, 'critical'],
      [1e9, 'critical'],
    ];
    for (const [z, sev] of cases) {
      expect(severityOf(z)).toBe(sev);
      expect(severityOf(-z)).toBe(sev);
    }
  });

  it('scores z² ÷ (z² + 9): 0.5 exactly at |z| = 3', () => {
    expect(scoreOf(0)).toBe(0);
    expect(scoreOf(3)).toBe(0.5);
    expect(scoreOf(-3)).toBe(0.5);
    expect(scoreOf(5)).toBeCloseTo(25 / 34, 15);
    expect(scoreOf(8)).toBeCloseTo(64 / 73, 15);
    expect(scoreOf(MAX_ABS_Z)).toBeLessThanOrEqual(1);
  });
});
