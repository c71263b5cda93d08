import { describe, expect, it } from 'vitest';
import { fnv1a64, parseTimestamp } from './index.ts';

describe('parseTimestamp', () => {
  it('reads NAB timestamps as UTC, with optional seconds, fraction, T and zone', () => {
    expect(parseTimestamp('2014-04-01 00:00:00')).toBe(Date.UTC(2014, 3, 1));
    expect(parseTimestamp('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(parseTimestamp('2011-07-01 00:15:01')).toBe(Date.UTC(2011, 6, 1, 0, 15, 1));
    expect(parseTimestamp('2024-02-29T23:59:59.5Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 500));
    expect(parseTimestamp('2024-01-01T02:00:00+02:00')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestamp('2024-01-01T00:00:00-0130')).toBe(Date.UTC(2024, 0, 1, 1, 30));
    expect(parseTimestamp(' 2024-01-01 10:20 ')).toBe(Date.UTC(2024, 0, 1, 10, 20));
  });

  it('returns NaN for anything else', () => {
    for (const bad of [
      '',
      'yesterday',
      '2014-13-01 00:00:00',
      '2023-02-29 00:00:00',
      '2014-04-01 24:00:00',
      '1396310400',
      '2014-04-01',
    ]) {
      expect(parseTimestamp(bad)).toBeNaN();
    }
  });
});

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64-bit test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
});
