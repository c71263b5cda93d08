import { describe, expect, it } from 'vitest';
import { metricSeriesKey } from './topology.ts';
import {
  SERIES_RECORD_BINARY,
  decodeSeriesRecord,
  encodeSeriesRecord,
  identityFromKey,
  parseMetricSeriesKey,
  type SeriesRecordData,
} from './series-record.ts';

const record = (over: Partial<SeriesRecordData> = {}): SeriesRecordData => ({
  v: 1,
  seq: 50327,
  cluster: 'scale',
  metric: 'cpu_usage_cores',
  labels: { container: 'quotes-2', namespace: 'ml-serving', pod: 'quotes-2-vm7zjkrd8-gxj55' },
  lastTs: 1795680630000,
  normalRun: 3,
  episode: null,
  detector: {
    n: 22,
    wMean: 0.07539,
    wM2: 0.0002198490000000002,
    level: { m: 0.07529110487870026, e: 0.014765768911102563, q: 0.004859266256674737 },
    seasonal: { m: 0.07490257600361322, e: -0, q: 0.004856861291067928 },
    profile: [
      0, 0, -0, 0, 0, 0, 0, 0, -0.0009261055931348431, 0, 1e-300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5,
    ],
  },
  ...over,
});

const keyOf = (r: SeriesRecordData) => metricSeriesKey(r.cluster, r.metric, r.labels);

describe('series changelog records (binary)', () => {
  it('give back every value exactly, −0 included, without the identity when the key holds it', () => {
    const r = record();
    const key = keyOf(r);
    expect(identityFromKey(key, r)).toBe(true);
    const bytes = encodeSeriesRecord(r, true);
    expect(bytes[0]).toBe(SERIES_RECORD_BINARY);
    // The identity is the key's, and 22 of the 24 bins are +0: about a quarter of the JSON.
    expect(bytes.length).toBe(2 + 12 * 8 + 2 + 3 + 4 * 8);
    expect(bytes.length * 3).toBeLessThan(JSON.stringify(r).length);
    const back = decodeSeriesRecord(key, bytes);
    expect(back).toEqual(r);
    expect(Object.is(back.detector.profile[2], -0)).toBe(true);
    expect(Object.is(back.detector.profile[0], 0)).toBe(true);
    expect(Object.is(back.detector.seasonal.e, -0)).toBe(true);
    expect(Object.keys(back.labels)).toEqual(['container', 'namespace', 'pod']);
  });

  it('carry the open episode and, when the key does not give it back, the identity', () => {
    const r = record({
      episode: 'an-65b1cde18628d324',
      cluster: 'a/b',
      labels: { 'x="1",y': 'v\\"', z: 'ü\n' },
      detector: { ...record().detector, profile: [] },
    });
    const key = keyOf(r);
    expect(identityFromKey(key, r)).toBe(false);
    const back = decodeSeriesRecord(key, encodeSeriesRecord(r, false));
    expect(back).toEqual(r);
    expect(Object.keys(back.labels)).toEqual(Object.keys(r.labels));
  });

  it('parse series keys back only when that gives the same key', () => {
    expect(parseMetricSeriesKey('c1/up{}')).toEqual({ cluster: 'c1', metric: 'up', labels: {} });
    const labels = { a: 'x,y="z"', b: '\\', c: '' };
    expect(parseMetricSeriesKey(metricSeriesKey('c1', 'm', labels))).toEqual({
      cluster: 'c1',
      metric: 'm',
      labels,
    });
    for (const bad of [
      'c1',
      'c1/m',
      'c1/m{a="x"',
      'c1/m{a=x}',
      'c1/m{b="1",a="2"}',
      'c1/m{a="1",a="2"}',
      'c1/m{a="1"b="2"}',
    ])
      expect(parseMetricSeriesKey(bad)).toBeNull();
  });

  it('refuse a malformed record', () => {
    const key = keyOf(record());
    const bytes = encodeSeriesRecord(record({ episode: 'an-1' }), true);
    expect(() => decodeSeriesRecord(key, bytes.subarray(0, bytes.length - 1))).toThrow(/malformed/);
    expect(() => decodeSeriesRecord(key, Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/malformed/);
    expect(() => decodeSeriesRecord('no-slash', encodeSeriesRecord(record(), true))).toThrow(/malformed/);
  });
});
