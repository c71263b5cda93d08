import { afterEach, describe, expect, it } from 'vitest';
import {
  EmbeddedLog,
  ProcessorRuntime,
  ProcessorTestDriver,
  partitionForKey,
  type FactRecord,
  type LogRecord,
} from '@hetu/streams';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  type MetricSampled,
} from '@hetu/schemas';
import {
  ANOMALIES_FACTS_TOPIC,
  METRICS_TOPIC,
  anomaliesProcessor,
  anomaliesTable,
  episodeId,
  metricSeriesKey,
  seriesTableToJSON,
  type AnomaliesConfig,
  type AnomaliesState,
  type AnomalyEpisodeRecord,
} from './index.ts';
import { SERIES_RECORD_BINARY, decodeSeriesRecord } from './series-record.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 8);
/** 10 ± 0.2, deterministic. */
const noise = (i: number) => 10 + 0.1 * (((i * 7) % 5) - 2);

/** A sample as the test double encodes it: JSON, with NaN written as the string "NaN". */
type Sample = Omit<MetricSampled, 'value'> & { value: number | 'NaN' };

/** The test double of the Avro decoder. */
const decodeMetric = async (r: LogRecord): Promise<MetricSampled> => {
  const o = JSON.parse((r.value as Buffer).toString('utf8')) as Sample;
  return { ...o, value: Number(o.value) };
};

const processor = (config?: AnomaliesConfig) =>
  anomaliesProcessor({ decodeMetric, ...(config ? { config } : {}) });

const API = { namespace: 'shop', pod: 'api-1' };
const DB = { namespace: 'shop', pod: 'db-0' };
const WEB = { namespace: 'shop', service: 'web' };
const KEY_API = metricSeriesKey('c1', 'cpu_usage_cores', API);
const KEY_DB = metricSeriesKey('c1', 'memory_working_set_bytes', DB);
const KEY_WEB = metricSeriesKey('c1', 'http_error_ratio', WEB);

/** One series: noise, a spike of 100 at minute 30 and of 1000 at 31, noise again. */
function apiSamples(n: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const value = i === 30 ? 100 : i === 31 ? 1000 : noise(i);
    out.push({ ts: T0 + i * MIN, cluster: 'c1', name: 'cpu_usage_cores', labels: API, value });
  }
  return out;
}

/**
 * Three interleaved series over 4 h: api (90 min, an episode that closes normally), db (40 min,
 * a spike at minute 38, then silent: its episode times out, is dropped, the series goes idle) and
 * web (4 h, a NaN at minute 100, a spike at 150).
 */
function mixedSamples(): Sample[] {
  const out: Sample[] = [];
  const api = apiSamples(90);
  for (let i = 0; i < 240; i++) {
    const ts = T0 + i * MIN;
    if (i < 90) out.push(api[i] as Sample);
    if (i < 40) {
      const value = i === 38 ? 5e9 : 1e9 + 1e6 * noise(i);
      out.push({ ts: ts + 1000, cluster: 'c1', name: 'memory_working_set_bytes', labels: DB, value });
    }
    const value = i === 100 ? 'NaN' : i === 150 ? 0.9 : 0.01 + 0.001 * noise(i);
    out.push({ ts: ts + 2000, cluster: 'c1', name: 'http_error_ratio', labels: WEB, value });
  }
  return out;
}

async function pipeAll(
  d: ProcessorTestDriver<MetricSampled, AnomaliesState>,
  samples: readonly Sample[],
): Promise<void> {
  for (const s of samples)
    await d.pipe(METRICS_TOPIC, { key: 'k', value: JSON.stringify(s), timestamp: s.ts });
}

const facts = (d: ProcessorTestDriver<MetricSampled, AnomaliesState>) =>
  d.output(ANOMALIES_FACTS_TOPIC) as readonly FactRecord[];

/** A fact in one line: id, time offset, and status / reason / samples, or `tombstone`. */
const brief = (f: FactRecord): string => {
  const v = f.value as AnomalyEpisodeRecord | null;
  if (v === null) return `${f.key} +${(f.timestamp - T0) / 1000}s tombstone`;
  return `${f.key} +${(f.timestamp - T0) / 1000}s ${v.metric} ${v.status} ${v.closeReason ?? '-'} ${v.anomalousSamples}`;
};

/** Everything the task state holds, as plain data in its orders. */
function stateJSON(state: AnomaliesState) {
  const table = anomaliesTable(state);
  return {
    table: seriesTableToJSON(table),
    series: [...state.series],
    episodes: [...state.episodes],
    seq: state.seq,
  };
}

describe('anomalies processor', () => {
  it('opens an episode, updates it and closes it under one stable id, one fact per change', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, apiSamples(40));
    const id = episodeId(KEY_API, T0 + 30 * MIN);
    expect(id).toBe('an-65b1cde18628d324');
    const base = {
      id,
      seriesKey: 'c1/cpu_usage_cores{namespace="shop",pod="api-1"}',
      cluster: 'c1',
      metric: 'cpu_usage_cores',
      labels: { namespace: 'shop', pod: 'api-1' },
      openedAt: T0 + 30 * MIN,
      peakSeverity: 'critical',
    };
    expect(facts(d)).toEqual([
      {
        key: `c1/${id}`,
        timestamp: T0 + 30 * MIN,
        value: {
          ...base,
          ts: T0 + 30 * MIN,
          status: 'open',
          lastAnomalousAt: T0 + 30 * MIN,
          closedAt: null,
          closeReason: null,
          peakZ: 506.5967014551656,
          peakScore: 0.9999649326809847,
          anomalousSamples: 1,
        },
      },
      {
        key: `c1/${id}`,
        timestamp: T0 + 31 * MIN,
        value: {
          ...base,
          ts: T0 + 31 * MIN,
          status: 'open',
          lastAnomalousAt: T0 + 31 * MIN,
          closedAt: null,
          closeReason: null,
          peakZ: 2786.309543506048,
          peakScore: 0.9999988407335132,
          anomalousSamples: 2,
        },
      },
      {
        key: `c1/${id}`,
        timestamp: T0 + 34 * MIN,
        value: {
          ...base,
          ts: T0 + 34 * MIN,
          status: 'closed',
          lastAnomalousAt: T0 + 31 * MIN,
          closedAt: T0 + 34 * MIN,
          closeReason: 'normal',
          peakZ: 2786.309543506048,
          peakScore: 0.9999988407335132,
          anomalousSamples: 2,
        },
      },
    ]);
    // State keys: the series and the episode, each written only when it changed.
    const written = d.changelog.filter((r) => r.key?.toString() !== '\u0000positions');
    const count = (k: string) => written.filter((r) => r.key?.toString() === k).length;
    expect(count(`s/${KEY_API}`)).toBe(40);
    expect(count(`e/${id}`)).toBe(3);
    expect(count('m')).toBe(40);
    expect(written.length).toBe(83);
  });

  it('times episodes out, drops them and evicts idle series by the watermark, with tombstones', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, mixedSamples());
    expect(facts(d).map(brief)).toEqual([
      `c1/an-65b1cde18628d324 +1800s cpu_usage_cores open - 1`,
      'c1/an-65b1cde18628d324 +1860s cpu_usage_cores open - 2',
      'c1/an-65b1cde18628d324 +2040s cpu_usage_cores closed normal 2',
      'c1/an-d5be35fd79e11b18 +2281s memory_working_set_bytes open - 1',
      'c1/an-65b1cde18628d324 +5642s tombstone',
      // Stamped when the watermark closed it (the runtime stamps no output before its trigger);
      // the episode's own closedAt is in the value.
      'c1/an-d5be35fd79e11b18 +5882s memory_working_set_bytes closed timeout 1',
      'c1/an-e14fbda96c8f4906 +9002s http_error_ratio open - 1',
      'c1/an-e14fbda96c8f4906 +9182s http_error_ratio closed normal 1',
      'c1/an-d5be35fd79e11b18 +9482s tombstone',
      'c1/an-e14fbda96c8f4906 +12782s tombstone',
    ]);
    expect(episodeId(KEY_DB, T0 + 38 * MIN + 1000)).toBe('an-d5be35fd79e11b18');
    expect(episodeId(KEY_WEB, T0 + 150 * MIN + 2000)).toBe('an-e14fbda96c8f4906');
    // The compacted topic ends empty: every episode closed and was dropped.
    expect(d.facts(ANOMALIES_FACTS_TOPIC).size).toBe(0);
    const tombstones = d.changelog.filter((r) => r.value === null).map((r) => r.key?.toString());
    expect(tombstones).toEqual([
      'e/an-65b1cde18628d324',
      'e/an-d5be35fd79e11b18',
      `s/${KEY_DB}`,
      `s/${KEY_API}`,
      'e/an-e14fbda96c8f4906',
    ]);
    expect([...anomaliesTable(d.rawState()).series.keys()]).toEqual([KEY_WEB]);
  });

  it('restored mid-stream from its changelog, rebuilds the same table and continues with identical facts', async () => {
    const samples = mixedSamples();
    const whole = new ProcessorTestDriver(processor());
    await pipeAll(whole, samples);
    const expected = facts(whole);
    expect(expected.length).toBe(10);
    for (const cut of [1, 75, 150, 220, 260, 300, samples.length]) {
      const first = new ProcessorTestDriver(processor());
      await pipeAll(first, samples.slice(0, cut));
      const second = first.restart();
      expect(stateJSON(second.rawState())).toEqual(stateJSON(first.rawState()));
      await pipeAll(second, samples.slice(cut));
      expect([...facts(first), ...facts(second)]).toEqual(expected);
      expect(stateJSON(second.rawState())).toEqual(stateJSON(whole.rawState()));
    }
  });

  it('restores from series records of format 1 (JSON, as older versions wrote them) as well', async () => {
    const samples = mixedSamples();
    const whole = new ProcessorTestDriver(processor());
    await pipeAll(whole, samples);
    for (const cut of [75, 150, 260]) {
      const first = new ProcessorTestDriver(processor());
      await pipeAll(first, samples.slice(0, cut));
      // The binary series records are smaller than format 1's JSON ones.
      const series = first.changelog.filter((r) => r.key?.toString().startsWith('s/') && r.value !== null);
      expect(series.length).toBeGreaterThan(0);
      for (const r of series) expect(r.value![0]).toBe(SERIES_RECORD_BINARY);
      const live = stateJSON(first.rawState());
      // A data directory of an older version: every series record (up to the cut) in JSON.
      const old = first.changelog.map((r) => {
        const k = r.key?.toString() ?? '';
        if (!k.startsWith('s/') || r.value === null) return r;
        const json = JSON.stringify(decodeSeriesRecord(k.slice(2), r.value));
        expect(json.length).toBeGreaterThan(r.value.length);
        return { ...r, value: Buffer.from(json) };
      });
      first.changelog.splice(0, first.changelog.length, ...old);
      const second = first.restart();
      expect(stateJSON(second.rawState())).toEqual(live);
      // Continued by this version (binary records after the JSON ones), restored again.
      await pipeAll(second, samples.slice(cut, cut + 40));
      const third = second.restart();
      expect(stateJSON(third.rawState())).toEqual(stateJSON(second.rawState()));
      await pipeAll(third, samples.slice(cut + 40));
      expect([...facts(first), ...facts(second), ...facts(third)]).toEqual(facts(whole));
      expect(stateJSON(third.rawState())).toEqual(stateJSON(whole.rawState()));
    }
  });

  it('rebuilds the least-recently-updated order, which the changelog write order does not show', async () => {
    // Up to minute 99: db's episode timed out at minute 98 by the watermark, which rewrote its
    // series record after api's last sample (minute 89), but db was last updated at minute 39.
    const samples = mixedSamples().filter((s) => s.ts < T0 + 99 * MIN);
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, samples);
    const lastWrite = new Map<string, number>();
    d.changelog.forEach((r, i) => {
      const k = r.key?.toString() ?? '';
      if (k.startsWith('s/')) lastWrite.set(k.slice(2), i);
    });
    const byLastWrite = [...lastWrite].sort((a, b) => a[1] - b[1]).map(([k]) => k);
    expect(byLastWrite).toEqual([KEY_API, KEY_WEB, KEY_DB]);
    expect([...anomaliesTable(d.rawState()).series.keys()]).toEqual([KEY_DB, KEY_API, KEY_WEB]);
    const restored = d.restoredTask().state as AnomaliesState;
    expect([...anomaliesTable(restored).series.keys()]).toEqual([KEY_DB, KEY_API, KEY_WEB]);
    expect(stateJSON(restored)).toEqual(stateJSON(d.rawState()));
  });

  it('gives identical facts for the same input twice, and ignores a re-delivered record', async () => {
    const a = new ProcessorTestDriver(processor());
    const b = new ProcessorTestDriver(processor());
    await pipeAll(a, mixedSamples());
    await pipeAll(b, mixedSamples());
    expect(facts(b)).toEqual(facts(a));
    expect(b.changelog).toEqual(a.changelog);
    // The api spike of minute 31 again at its offset (already applied): skipped.
    const offset = mixedSamples().findIndex((s) => s.value === 1000);
    expect(offset).toBe(93);
    const spike = mixedSamples()[offset] as Sample;
    const before = facts(a).length;
    await a.pipeAt(METRICS_TOPIC, { key: 'k', value: JSON.stringify(spike), timestamp: spike.ts }, 93n);
    expect(facts(a).length).toBe(before);
  });

  it('skips a NaN sample without a crash, a fact or a state change', async () => {
    const d = new ProcessorTestDriver(processor());
    const samples = apiSamples(20);
    await pipeAll(d, samples);
    const before = stateJSON(d.rawState());
    const changelogBefore = d.changelog.length;
    await pipeAll(d, [
      { ts: T0 + 20 * MIN, cluster: 'c1', name: 'cpu_usage_cores', labels: API, value: 'NaN' },
    ]);
    expect(facts(d)).toEqual([]);
    expect(d.deadLetters).toEqual([]);
    // Only the watermark moved (the record's time): no series or episode changed.
    const after = stateJSON(d.rawState());
    expect(after.table.watermark).toBe(T0 + 20 * MIN);
    expect({ ...after, table: { ...after.table, watermark: null } }).toEqual({
      ...before,
      table: { ...before.table, watermark: null },
    });
    expect(d.changelog.slice(changelogBefore).map((r) => r.key?.toString())).toEqual([
      'm',
      '\u0000positions',
    ]);
    // A record without a value is dead-lettered, not decoded.
    await d.pipe(METRICS_TOPIC, { key: 'k', value: null, timestamp: T0 + 20 * MIN });
    expect(d.deadLetters.map((x) => [x.reasonCode, x.message])).toEqual([
      ['HETU_INPUT_INVALID', 'Record hetu.raw.metrics/0/21 has no value, so it holds no MetricSampled.'],
    ]);
    // A NaN of a new series creates no series either.
    await pipeAll(d, [{ ts: T0 + 21 * MIN, cluster: 'c1', name: 'other', labels: {}, value: 'NaN' }]);
    expect([...anomaliesTable(d.rawState()).series.keys()]).toEqual([KEY_API]);
  });

  it('with a cap of 2 series, a third evicts the least recently updated: its open episode closes, tombstones follow', async () => {
    const d = new ProcessorTestDriver(processor({ maxSeries: 2 }));
    const api = apiSamples(31); // ends with the spike of minute 30: an open episode
    await pipeAll(d, api);
    const other = (name: string, minute: number): Sample => ({
      ts: T0 + minute * MIN,
      cluster: 'c1',
      name,
      labels: {},
      value: 1,
    });
    await pipeAll(d, [other('b', 31), other('c', 32)]);
    const id = episodeId(KEY_API, T0 + 30 * MIN);
    expect(facts(d).map(brief)).toEqual([
      `c1/${id} +1800s cpu_usage_cores open - 1`,
      // Stamped at the sample that evicted it (minute 32); closedAt says when it closed.
      `c1/${id} +1920s cpu_usage_cores closed evicted 1`,
    ]);
    expect((facts(d)[1]?.value as AnomalyEpisodeRecord).closedAt).toBe(T0 + 30 * MIN);
    const last = d.changelog.slice(-5).map((r) => [r.key?.toString(), r.value === null]);
    expect(last).toEqual([
      ['s/c1/c{}', false],
      ['e/' + id, false],
      [`s/${KEY_API}`, true],
      ['m', false],
      ['\u0000positions', false],
    ]);
    expect([...anomaliesTable(d.rawState()).series.keys()]).toEqual(['c1/b{}', 'c1/c{}']);
    expect(stateJSON(d.restoredTask().state as AnomaliesState)).toEqual(stateJSON(d.rawState()));
  });
});

describe('anomalies processor on the embedded log with the schema registry', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('reads Avro MetricSampled from 3 partitions and writes AnomalyEpisode facts', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    closers.push(() => log.close());
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    closers.push(() => registry.close());
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    await log.ensureTopics([
      { name: METRICS_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
      { name: ANOMALIES_FACTS_TOPIC, partitions: 3, cleanupPolicy: 'compact' },
    ]);
    // Two pods, flat at 10 with small deterministic noise for 200 samples; pod-a then spikes to 100.
    const pods = ['pod-a', 'pod-b'];
    for (let i = 0; i < 205; i++) {
      const records = await Promise.all(
        pods.map(async (pod) => {
          const value = pod === 'pod-a' && i === 200 ? 100 : noise(i);
          const sample: MetricSampled = {
            ts: T0 + i * MIN,
            cluster: 'c1',
            name: 'cpu_usage_cores',
            labels: { namespace: 'shop', pod, container: 'app' },
            value,
          };
          return {
            key: Buffer.from(`c1/shop/${pod}`),
            value: await serde.encode(METRICS_TOPIC, 'MetricSampled', sample),
            timestamp: sample.ts,
          };
        }),
      );
      await log.append(METRICS_TOPIC, records);
    }
    const runtime = new ProcessorRuntime({
      log,
      processor: anomaliesProcessor({
        decodeMetric: (r) => serde.decode(r.value as Buffer, 'MetricSampled'),
      }),
      encodeFact: (_topic, v) =>
        serde.encode(ANOMALIES_FACTS_TOPIC, 'AnomalyEpisode', v as AnomalyEpisodeRecord),
    });
    closers.push(() => runtime.close());
    const sub = await runtime.start();
    await sub.whenCaughtUp(60_000);

    const got: { partition: number; key: string; value: AnomalyEpisodeRecord }[] = [];
    for (let p = 0; p < 3; p++) {
      for (const r of await log.read(ANOMALIES_FACTS_TOPIC, p)) {
        const value = await serde.decode(r.value as Buffer, 'AnomalyEpisode');
        got.push({
          partition: p,
          key: r.key?.toString() ?? '',
          value: { ...value, labels: { ...value.labels } },
        });
      }
    }
    const key = metricSeriesKey('c1', 'cpu_usage_cores', {
      namespace: 'shop',
      pod: 'pod-a',
      container: 'app',
    });
    expect(key).toBe('c1/cpu_usage_cores{container="app",namespace="shop",pod="pod-a"}');
    const id = episodeId(key, T0 + 200 * MIN);
    const base = {
      id,
      seriesKey: key,
      cluster: 'c1',
      metric: 'cpu_usage_cores',
      labels: { container: 'app', namespace: 'shop', pod: 'pod-a' },
      openedAt: T0 + 200 * MIN,
      lastAnomalousAt: T0 + 200 * MIN,
      peakZ: 537.3302217512258,
      peakScore: 0.9999688293085435,
      peakSeverity: 'critical',
      anomalousSamples: 1,
    };
    expect(got).toEqual([
      {
        partition: 1,
        key: `c1/${id}`,
        value: { ...base, ts: T0 + 200 * MIN, status: 'open', closedAt: null, closeReason: null },
      },
      {
        partition: 1,
        key: `c1/${id}`,
        value: {
          ...base,
          ts: T0 + 203 * MIN,
          status: 'closed',
          closedAt: T0 + 203 * MIN,
          closeReason: 'normal',
        },
      },
    ]);
    expect(partitionForKey(Buffer.from(id), 3)).toBe(2);

    // A second runtime restores each task from the changelog (written in batches of up to 500
    // records) to the same state as the first one holds.
    const again = new ProcessorRuntime({
      log,
      processor: anomaliesProcessor({
        decodeMetric: (r) => serde.decode(r.value as Buffer, 'MetricSampled'),
      }),
    });
    let series = 0;
    for (let p = 0; p < 3; p++) {
      const live = (await runtime.rawState(p)) as AnomaliesState;
      const restored = (await again.rawState(p)) as AnomaliesState;
      expect(stateJSON(restored)).toEqual(stateJSON(live));
      series += anomaliesTable(live).series.size;
    }
    expect(series).toBe(2);
  });
});
