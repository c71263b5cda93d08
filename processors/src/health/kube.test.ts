import { describe, expect, it } from 'vitest';
import { parseKubeTime } from './index.ts';

describe('parseKubeTime', () => {
  it('reads RFC 3339 times as the API serves them', () => {
    expect(parseKubeTime('2026-11-26T08:00:00Z')).toBe(Date.UTC(2026, 10, 26, 8));
    expect(parseKubeTime('2026-11-26T08:00:00.123456Z')).toBe(Date.UTC(2026, 10, 26, 8, 0, 0, 123));
    expect(parseKubeTime('2026-11-26T10:00:00+02:00')).toBe(Date.UTC(2026, 10, 26, 8));
    expect(parseKubeTime('2024-02-29T23:59:59-00:30')).toBe(Date.UTC(2024, 2, 1, 0, 29, 59));
  });

  it('returns undefined for null, zone-less or invalid times', () => {
    for (const bad of [
      null,
      undefined,
      '',
      '2026-11-26T08:00:00',
      '2026-11-26',
      '2026-02-29T00:00:00Z',
      '2026-11-26T24:00:00Z',
    ]) {
      expect(parseKubeTime(bad)).toBeUndefined();
    }
  });
});
