import { describe, expect, it } from 'vitest';
import {
  advanceWatermark,
  applyKeyed,
  applySample,
  createSeriesTable,
  episodeId,
  openEpisode,
  seriesKey,
  seriesTableFromJSON,
  seriesTableToJSON,
} from './index.ts';
import type { AnomalyChange, SeriesTable } from './index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1);
const KEY = seriesKey('cpu', { pod: 'web-1', namespace: 'shop' });

/** 20 normal samples (0, 1, 0, 1, …) one minute apart, from T0; returns the next time. */
function warm(table: SeriesTable, key: string, from = T0): number {
  let t = from;
  for (let i = 0; i < 20; i++, t += MIN) expect(applyKeyed(table, key, t, i % 2)).toEqual([]);
  return t;
}

const types = (cs: AnomalyChange[]): string[] => cs.map((c) => c.type);

describe('series key', () => {
  it('is the metric name plus labels sorted by name, values quoted', () => {
    expect(KEY).toBe('cpu{namespace="shop",pod="web-1"}');
    expect(seriesKey('up')).toBe('up{}');
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
    expect(seriesKey('m', { a: 'x",b="y' })).toBe('m{a="x\\",b=\\"y"}');
  });
});

describe('anomaly episodes', () => {
  it('opens on the first anomalous sample, continues while anomalies go on, closes after 3 normal samples', () => {
    const table = createSeriesTable();
    let t = warm(table, KEY);
    const opened = applyKeyed(table, KEY, t, 100);
    expect(types(opened)).toEqual(['opened']);
    const ep = (opened[0] as { episode: { id: string; peakZ: number } }).episode;
    expect(ep).toMatchObject({
      id: episodeId(KEY, t),
      key: KEY,
      openedAt: t,
      lastAnomalousAt: t,
      anomalousSamples: 1,
      peakSeverity: 'critical',
      status: 'open',
      closedAt: null,
      closeReason: null,
    });
    const firstT = t;
    const firstPeak = ep.peakZ;
    t += MIN;
    const upd = applyKeyed(table, KEY, t, 90);
    expect(types(upd)).toEqual(['updated']);
    expect(upd[0]).toMatchObject({
      episode: { id: ep.id, openedAt: firstT, lastAnomalousAt: t, anomalousSamples: 2, peakZ: firstPeak },
    });
    expect(applyKeyed(table, KEY, (t += MIN), 0)).toEqual([]);
    expect(applyKeyed(table, KEY, (t += MIN), 1)).toEqual([]);
    expect(openEpisode(table, KEY)?.id).toBe(ep.id);
    const closed = applyKeyed(table, KEY, (t += MIN), 0);
    expect(closed).toEqual([
      {
        type: 'closed',
        episode: {
          ...(upd[0] as { episode: object }).episode,
          status: 'closed',
          closedAt: t,
          closeReason: 'normal',
        },
      },
    ]);
    expect(openEpisode(table, KEY)).toBeNull();
  });

  it('an anomalous sample resets the count of normal ones', () => {
    const table = createSeriesTable();
    let t = warm(table, KEY);
    applyKeyed(table, KEY, t, 100);
    applyKeyed(table, KEY, (t += MIN), 0);
    applyKeyed(table, KEY, (t += MIN), 1);
    expect(types(applyKeyed(table, KEY, (t += MIN), 400))).toEqual(['updated']);
    applyKeyed(table, KEY, (t += MIN), 0);
    applyKeyed(table, KEY, (t += MIN), 1);
    expect(openEpisode(table, KEY)?.anomalousSamples).toBe(2);
    expect(types(applyKeyed(table, KEY, (t += MIN), 0))).toEqual(['closed']);
  });

  it('closes 1 h after the last anomalous sample: by the watermark, or on the next sample', () => {
    const table = createSeriesTable();
    const t = warm(table, KEY);
    applyKeyed(table, KEY, t, 100);
    expect(advanceWatermark(table, t + HOUR - 1)).toEqual([]);
    const byWm = advanceWatermark(table, t + HOUR);
    expect(byWm).toMatchObject([{ type: 'closed', episode: { closedAt: t + HOUR, closeReason: 'timeout' } }]);

    const other = createSeriesTable();
    const u = warm(other, KEY);
    applyKeyed(other, KEY, u, 100);
    // next sample 2 h later and anomalous again: the old episode times out, a new one opens
    const cs = applyKeyed(other, KEY, u + 2 * HOUR, 1000);
    expect(cs).toMatchObject([
      { type: 'closed', episode: { id: episodeId(KEY, u), closedAt: u + HOUR, closeReason: 'timeout' } },
      { type: 'opened', episode: { id: episodeId(KEY, u + 2 * HOUR), openedAt: u + 2 * HOUR } },
    ]);
  });

  it('drops a closed episode 1 h after it closed', () => {
    const table = createSeriesTable();
    let t = warm(table, KEY);
    applyKeyed(table, KEY, t, 100);
    const id = episodeId(KEY, t);
    for (let i = 0; i < 3; i++) applyKeyed(table, KEY, (t += MIN), i % 2);
    expect(table.closed.has(id)).toBe(true);
    expect(advanceWatermark(table, t + HOUR - 1)).toEqual([]);
    expect(advanceWatermark(table, t + HOUR)).toEqual([{ type: 'dropped', id, key: KEY }]);
    expect(table.closed.size).toBe(0);
  });

  it('keeps ids stable: a hash of series key and open time, the same on replay, different per episode', () => {
    expect(episodeId(KEY, T0)).toBe(episodeId(KEY, T0));
    expect(episodeId(KEY, T0)).toMatch(/^an-[0-9a-f]{16}$/);
    expect(episodeId(KEY, T0)).not.toBe(episodeId(KEY, T0 + 1));
    expect(episodeId(KEY, T0)).not.toBe(episodeId(seriesKey('cpu', { pod: 'web-2' }), T0));
  });

  it('evicts the least recently updated series at the cap', () => {
    const table = createSeriesTable({ maxSeries: 3 });
    applyKeyed(table, 'a', T0, 1);
    applyKeyed(table, 'b', T0 + 1, 1);
    applyKeyed(table, 'c', T0 + 2, 1);
    applyKeyed(table, 'a', T0 + 3, 1);
    expect(applyKeyed(table, 'd', T0 + 4, 1)).toEqual([{ type: 'evicted', key: 'b', reason: 'cap' }]);
    expect([...table.series.keys()]).toEqual(['c', 'a', 'd']);
    expect(applyKeyed(table, 'e', T0 + 5, 1)).toEqual([{ type: 'evicted', key: 'c', reason: 'cap' }]);
  });

  it('closes the open episode of an evicted series', () => {
    const table = createSeriesTable({ maxSeries: 1 });
    const t = warm(table, KEY);
    applyKeyed(table, KEY, t, 100);
    expect(applyKeyed(table, 'other', t + MIN, 1)).toMatchObject([
      { type: 'closed', episode: { id: episodeId(KEY, t), closedAt: t, closeReason: 'evicted' } },
      { type: 'evicted', key: KEY, reason: 'cap' },
    ]);
  });

  it('evicts series idle for 2 h of event time as the watermark passes', () => {
    const table = createSeriesTable();
    applyKeyed(table, 'a', T0, 1);
    applyKeyed(table, 'b', T0 + HOUR, 1);
    expect(advanceWatermark(table, T0 + 2 * HOUR - 1)).toEqual([]);
    expect(advanceWatermark(table, T0 + 2 * HOUR)).toEqual([{ type: 'evicted', key: 'a', reason: 'idle' }]);
    expect(advanceWatermark(table, T0 + 2 * HOUR)).toEqual([]); // not moving: nothing
    expect(advanceWatermark(table, T0 + 3 * HOUR)).toEqual([{ type: 'evicted', key: 'b', reason: 'idle' }]);
    expect(table.series.size).toBe(0);
  });

  it('skips NaN, Infinity, bad times and out-of-order samples with a reason, creating nothing', () => {
    const table = createSeriesTable();
    expect(applySample(table, { metric: 'cpu', labels: { pod: 'p' }, ts: T0, value: NaN })).toEqual([
      { type: 'skipped', key: 'cpu{pod="p"}', ts: T0, reason: 'value is not a finite number' },
    ]);
    expect(applyKeyed(table, 'k', T0, -Infinity)).toMatchObject([
      { type: 'skipped', reason: 'value is not a finite number' },
    ]);
    expect(applyKeyed(table, 'k', NaN, 1)).toMatchObject([
      { type: 'skipped', reason: 'timestamp is not a finite number' },
    ]);
    expect(table.series.size).toBe(0);
    applyKeyed(table, 'k', T0, 1);
    expect(applyKeyed(table, 'k', T0 - 1, 1)).toMatchObject([
      { type: 'skipped', reason: "timestamp is older than the series' last sample" },
    ]);
    expect(table.series.get('k')?.lastTs).toBe(T0);
  });

  /** A deterministic multi-series workload with anomalies, closes, evictions and drops. */
  function workload(): Array<{ key: string; ts: number; value: number } | { wm: number }> {
    let seed = 7;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const out: Array<{ key: string; ts: number; value: number } | { wm: number }> = [];
    const spikeLeft = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) {
      const ts = T0 + i * 10_000;
      let s = i % 7;
      if (s === 6 && i > 2000) s = i > 5000 && i < 5100 ? 7 : -1; // series 6 goes idle, 7 comes late
      if (s >= 0) {
        if (spikeLeft[s] === 0 && rnd() < 0.01) spikeLeft[s] = 1 + Math.floor(3 * rnd());
        const spike = (spikeLeft[s] as number) > 0 ? 30 + 30 * rnd() : 0;
        if ((spikeLeft[s] as number) > 0) spikeLeft[s] = (spikeLeft[s] as number) - 1;
        out.push({ key: seriesKey('m', { s: String(s) }), ts, value: 10 + Math.sin(i / 50) + rnd() + spike });
      }
      if (i % 100 === 99) out.push({ wm: ts - 60_000 });
    }
    return out;
  }

  function replay(table: SeriesTable, items: ReturnType<typeof workload>, restoreAt = -1): AnomalyChange[] {
    const all: AnomalyChange[] = [];
    items.forEach((it, i) => {
      if (i === restoreAt) table = seriesTableFromJSON(JSON.parse(JSON.stringify(seriesTableToJSON(table))));
      all.push(...('wm' in it ? advanceWatermark(table, it.wm) : applyKeyed(table, it.key, it.ts, it.value)));
    });
    return all;
  }

  it('is deterministic: the same input twice gives identical changes', () => {
    const items = workload();
    const a = replay(createSeriesTable({ maxSeries: 7 }), items);
    expect(replay(createSeriesTable({ maxSeries: 7 }), items)).toEqual(a);
    const kinds = new Set(types(a));
    expect([...kinds].sort()).toEqual(['closed', 'dropped', 'evicted', 'opened', 'updated']);
    const evictions = a.flatMap((c) => (c.type === 'evicted' ? [`${c.key} ${c.reason}`] : []));
    expect(evictions).toEqual(['m{s="6"} idle', 'm{s="7"} idle']);
  });

  it('restored mid-stream from JSON gives the same changes as the uninterrupted run', () => {
    const items = workload();
    const a = replay(createSeriesTable({ maxSeries: 7 }), items);
    for (const at of [1, 2500, 5050, 6000])
      expect(replay(createSeriesTable({ maxSeries: 7 }), items, at)).toEqual(a);
  });
});
