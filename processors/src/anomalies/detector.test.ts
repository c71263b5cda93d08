import { describe, expect, it } from 'vitest';
import {
  createDetector,
  restoreDetector,
  update,
  DetectorStateError,
  SKIPPED_BAD_TIME,
  SKIPPED_NON_FINITE,
} from './index.ts';
import type { Detection } from './index.ts';

const MIN = 60_000;

/** A deterministic test series: daily sine, LCG noise, a few spikes and a level shift. */
function series(n: number): Array<[number, number]> {
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const ts = Date.UTC(2024, 0, 1) + i * 5 * MIN;
    let v = 50 + 20 * Math.sin((2 * Math.PI * i) / 288) + 4 * (rnd() - 0.5);
    if (i % 997 === 500) v += 60;
    if (i > 2500) v += 30;
    out.push([ts, v]);
  }
  return out;
}

describe('hetu detector', () => {
  it('needs 10 samples, then scores the 11th against the envelope: [1..10] then 20', () => {
    const s = createDetector();
    for (let i = 1; i <= 10; i++) expect(update(s, i * MIN, i)).toEqual({ score: 0, z: 0, severity: 'none' });
    // level 5.5; envelope 3·sd, sd = sqrt(82.5 / 9); z = 3·14.5 ÷ (1.2 · 3·sd) = 14.5 ÷ (1.2·sd)
    const d = update(s, 11 * MIN, 20);
    expect(d.z).toBeCloseTo(14.5 / (1.2 * Math.sqrt(82.5 / 9)), 12);
    expect(d.z).toBeCloseTo(3.9909936485830575, 12);
    expect(d.severity).toBe('medium');
    expect(d.score).toBeCloseTo(0.638960644278985, 12);
  });

  it('learns: the same jump seen again is not anomalous once the envelope has grown to it', () => {
    const s = createDetector({ seasonBins: 0 });
    let t = 0;
    const feed = (v: number): Detection => update(s, (t += MIN), v);
    for (let i = 0; i < 200; i++) feed(i % 2);
    expect(feed(10).severity).toBe('critical'); // first jump: 10 vs envelope ≈ 1.5
    const again: string[] = [];
    for (let k = 0; k < 6; k++) {
      for (let i = 0; i < 50; i++) feed(i % 2);
      again.push(feed(10).severity);
    }
    // residual 9.5; the envelope may grow at most 2× per jump: ≈1.5 → 3 → 5.9 → 9.5, so z falls
    // from 16 to 8.1 (critical), 4.1 (medium), then below 3
    expect(again).toEqual(['critical', 'medium', 'none', 'none', 'none', 'none']);
  });

  it('is deterministic: the same input twice gives identical outputs', () => {
    const data = series(3000);
    const run = (): Detection[] => {
      const s = createDetector();
      return data.map(([t, v]) => update(s, t, v));
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(a.filter((d) => d.severity !== 'none').length).toBeGreaterThan(0);
  });

  it('restored mid-stream from JSON gives the same outputs as the uninterrupted run', () => {
    const data = series(3000);
    const whole = createDetector();
    const expected = data.map(([t, v]) => update(whole, t, v));
    let s = createDetector();
    const got: Detection[] = [];
    data.forEach(([t, v], i) => {
      if (i === 1234 || i === 2501) s = restoreDetector(JSON.parse(JSON.stringify(s)));
      got.push(update(s, t, v));
    });
    expect(got).toEqual(expected);
    expect(JSON.stringify(s)).toBe(JSON.stringify(whole));
  });

  it('skips NaN, ±Infinity and bad timestamps with a reason and an unchanged state', () => {
    const s = createDetector();
    for (let i = 0; i < 20; i++) update(s, i * MIN, i % 3);
    const before = JSON.stringify(s);
    expect(update(s, 21 * MIN, NaN)).toEqual({
      score: 0,
      z: 0,
      severity: 'none',
      skipped: 'value is not a finite number',
    });
    expect(update(s, 21 * MIN, Infinity)).toBe(SKIPPED_NON_FINITE);
    expect(update(s, 21 * MIN, -Infinity)).toBe(SKIPPED_NON_FINITE);
    expect(update(s, NaN, 1)).toEqual({
      score: 0,
      z: 0,
      severity: 'none',
      skipped: 'timestamp is not a finite number',
    });
    expect(update(s, Infinity, 1)).toBe(SKIPPED_BAD_TIME);
    expect(JSON.stringify(s)).toBe(before);
  });

  it('keeps every output finite and the score in [0, 1], even on a constant series that jumps', () => {
    const s = createDetector();
    for (let i = 0; i < 30; i++) update(s, i * MIN, 0);
    const d = update(s, 31 * MIN, 1e300);
    expect(d.severity).toBe('critical');
    expect(Number.isFinite(d.z)).toBe(true);
    expect(d.score).toBeGreaterThan(0.99);
    expect(d.score).toBeLessThanOrEqual(1);
  });

  it('rejects bad configs and malformed states with a coded error', () => {
    expect(() => createDetector({ alpha: 0 })).toThrow(DetectorStateError);
    expect(() => createDetector({ minSamples: 1 })).toThrow('minSamples');
    expect(() => restoreDetector(null)).toThrow(DetectorStateError);
    const ok = JSON.parse(JSON.stringify(createDetector()));
    expect(() => restoreDetector({ ...ok, profile: [1, 2] })).toThrow('profile is malformed');
    expect(() => restoreDetector({ ...ok, level: { m: 0, e: null, q: 0 } })).toThrow('level is malformed');
    expect(() => restoreDetector({ ...ok, v: 2 })).toThrow('unknown kind or version');
    try {
      restoreDetector('x');
    } catch (e) {
      expect((e as DetectorStateError).code).toBe('HETU_ANOMALY_BAD_STATE');
    }
  });
});
