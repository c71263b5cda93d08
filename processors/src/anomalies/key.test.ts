import { describe, expect, it } from 'vitest';
import { SeriesKeyCache, seriesKey } from './key.ts';

describe('SeriesKeyCache', () => {
  const built = (cluster: string, metric: string, labels: Record<string, string>) =>
    cluster + '/' + seriesKey(metric, labels);

  it('gives the key seriesKey builds, labels in any order, again and again', () => {
    const cache = new SeriesKeyCache();
    const cases: [string, string, Record<string, string>][] = [
      ['prod', 'cpu_usage_cores', { pod: 'api-1', namespace: 'shop', container: 'api' }],
      ['prod', 'cpu_usage_cores', { container: 'api', namespace: 'shop', pod: 'api-1' }],
      ['prod', 'cpu_usage_cores', { container: 'api', namespace: 'shop', pod: 'api-2' }],
      ['prod', 'cpu_usage_cores', { container: 'api', namespace: 'shop' }],
      ['prod', 'cpu_usage_cores', {}],
      ['dev', 'cpu_usage_cores', { container: 'api', namespace: 'shop', pod: 'api-1' }],
      // A label's value that looks like the next label must not make two series one.
      ['prod', 'm', { a: 'x', b: 'y' }],
      ['prod', 'm', { a: 'x","b":"y' }],
      ['prod', 'm', { a: 'x\n"quoted"\\' }],
    ];
    for (let round = 0; round < 3; round++)
      for (const [c, m, l] of cases) expect(cache.key(c, m, l)).toBe(built(c, m, l));
    expect(new Set(cases.map(([c, m, l]) => cache.key(c, m, l))).size).toBe(cases.length - 1);
  });

  it('forgets everything beyond its bound and still gives the right keys', () => {
    const cache = new SeriesKeyCache(10);
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 35; i++) {
        const labels = { pod: `api-${i}`, namespace: 'shop' };
        expect(cache.key('prod', 'memory_working_set_bytes', labels)).toBe(
          built('prod', 'memory_working_set_bytes', labels),
        );
      }
  });
});
