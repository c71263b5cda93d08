import type { LogRecord, StatefulContext, StatefulProcessor, StatefulTickContext } from '@hetu/streams';
import type { MetricSampled, RecordTypes } from '@hetu/schemas';
import { DetectorStateError } from './detector.ts';
import type { DetectorConfig } from './detector.ts';
import { advanceWatermark, applyKeyed, createSeriesTable, seriesTableFromJSON } from './episodes.ts';
import type { AnomalyChange, Episode, SeriesTable, SeriesTableConfig, SeriesTableJSON } from './episodes.ts';
import { SeriesKeyCache, seriesKey } from './key.ts';
import {
  SERIES_RECORD_BINARY,
  decodeSeriesRecord,
  type SeriesRecordData,
  encodeSeriesRecord,
  identityFromKey,
} from './series-record.ts';

/**
 * The anomaly detector as a stateful processor on the log (SPEC §5; docs/anomalies.md, "Running
 * on the log"): reads MetricSampled from `hetu.raw.metrics`, folds every sample into the task's
 * SeriesTable and publishes each episode change to `hetu.facts.anomalies` (key: episode id).
 *
 * Its state is persisted per key in the changelog `hetu.state.anomalies`:
 *  - `s/<seriesKey>`: a series (identity, detector state, last sample time, open episode's id, and
 *    the sequence number of its last sample, which gives the least-recently-updated order back),
 *    in the binary format of series-record.ts (the JSON records of format 1 are still read);
 *  - `e/<episodeId>`: an open, or closed and not yet dropped, episode (and the sequence number of
 *    its last change, which gives the order of the open and closed lists back);
 *  - `m`: the sequence counter and the table's watermark.
 * Evicted series and dropped episodes are tombstoned.
 */

export const ANOMALIES_PROCESSOR = 'anomalies';
export const METRICS_TOPIC = 'hetu.raw.metrics';
export const ANOMALIES_CHANGELOG = 'hetu.state.anomalies';
export const ANOMALIES_FACTS_TOPIC = 'hetu.facts.anomalies';

/** The fact record (generated from schemas/avro/AnomalyEpisode.avsc). */
export type AnomalyEpisodeRecord = RecordTypes['AnomalyEpisode'];

/** Settings of the series table (caps, TTLs, detector); defaults: DEFAULT_SERIES_TABLE_CONFIG. */
export type AnomaliesConfig = Partial<Omit<SeriesTableConfig, 'detector'>> & {
  detector?: Partial<DetectorConfig>;
};

export interface AnomaliesDeps {
  /** Decodes a `hetu.raw.metrics` record (e.g. `serde.decode(record.value, 'MetricSampled')`). */
  decodeMetric(record: LogRecord): Promise<MetricSampled> | MetricSampled;
  readonly config?: AnomaliesConfig;
}

/** A `hetu.raw.metrics` record without a value: bad input, dead-lettered by the runtime. */
class BadMetricRecord extends Error {
  readonly code = 'HETU_INPUT_INVALID';
  readonly transient = false;
  constructor(r: LogRecord) {
    super(`Record ${r.topic}/${r.partition}/${r.offset} has no value, so it holds no MetricSampled.`);
  }
}

/** What the processor knows of a series beyond the table: its identity and LRU sequence. */
interface SeriesInfo {
  readonly cluster: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Sequence number of the series' last accepted sample. */
  seq: number;
}

/** Whether a series' key gives its identity back (then its changelog records leave it out). */
const keyedIdentity = new WeakMap<SeriesInfo, boolean>();

interface EpisodeInfo {
  readonly key: string;
  /** Sequence number of the episode's last change (opened, updated or closed). */
  seq: number;
}

/** A series' changelog record as restored (format 1's JSON shape; series-record.ts). */
type SeriesRecord = SeriesRecordData;

interface EpisodeRecord {
  readonly v: 1;
  readonly seq: number;
  readonly episode: Episode;
}

interface MetaRecord {
  readonly v: 1;
  readonly seq: number;
  /** null before the first watermark (−∞ is not JSON). */
  readonly watermark: number | null;
}

/** Changelog records read by `restore`, built into the table on first use. */
interface Restoring {
  readonly series: Map<string, SeriesRecord>;
  readonly episodes: Map<string, EpisodeRecord>;
  meta: MetaRecord | null;
}

/** The state of one task (one partition): the series table plus what the changelog needs. */
export interface AnomaliesState {
  table: SeriesTable;
  readonly series: Map<string, SeriesInfo>;
  readonly episodes: Map<string, EpisodeInfo>;
  /** Last sequence number given out (to a sample or an episode change). */
  seq: number;
  /** Non-null between a restore and the first use of the state. */
  restoring: Restoring | null;
  /** Series keys by cluster, name and labels (derived: a cache, not in the changelog). */
  readonly keys: SeriesKeyCache;
}

const SERIES_PREFIX = 's/';
const EPISODE_PREFIX = 'e/';
const META_KEY = 'm';

/**
 * The key of a metric series in the processor: `<cluster>/` + `seriesKey(name, labels)`, e.g.
 * `prod/cpu_usage_cores{container="api",namespace="shop",pod="api-1"}`. Unambiguous as long as
 * cluster names contain no `/` (metric names never do).
 */
export function metricSeriesKey(
  cluster: string,
  metric: string,
  labels: Readonly<Record<string, string>>,
): string {
  return cluster + '/' + seriesKey(metric, labels);
}

/** The series table of a task's state (builds it first if the state was just restored). */
export function anomaliesTable(state: AnomaliesState): SeriesTable {
  settle(state);
  return state.table;
}

export function anomaliesProcessor(deps: AnomaliesDeps): StatefulProcessor<MetricSampled, AnomaliesState> {
  const config = deps.config ?? {};
  createSeriesTable(config); // validates the config once, before the first record
  return {
    name: ANOMALIES_PROCESSOR,
    inputs: [METRICS_TOPIC],
    changelogTopic: ANOMALIES_CHANGELOG,
    decodeInput: (record) => {
      if (record.value === null) throw new BadMetricRecord(record);
      return deps.decodeMetric(record);
    },
    init: () => {
      const table = createSeriesTable(config);
      // As many keys as the table holds series: series that come and go empty it now and then.
      return {
        table,
        series: new Map(),
        episodes: new Map(),
        seq: 0,
        restoring: null,
        keys: new SeriesKeyCache(table.config.maxSeries),
      };
    },
    restore,
    process,
    onWatermark,
    snapshot,
  };
}

function process(state: AnomaliesState, input: MetricSampled, ctx: StatefulContext): void {
  settle(state);
  const before = metaOf(state);
  const { table } = state;
  const key = state.keys.key(input.cluster, input.name, input.labels);
  const changes = applyKeyed(table, key, input.ts, input.value);
  if (changes[0]?.type !== 'skipped') {
    const info = state.series.get(key) ?? {
      cluster: input.cluster,
      metric: input.name,
      labels: sortedLabels(input.labels),
      seq: 0,
    };
    info.seq = ++state.seq;
    state.series.delete(key); // kept in sequence order, like the table
    state.series.set(key, info);
    ctx.changed(SERIES_PREFIX + key);
  }
  // Advance here rather than only in onWatermark, so that all changes one record causes are
  // coalesced into at most one upsert per episode (onWatermark then finds nothing left to do).
  for (const c of advanceWatermark(table, ctx.watermark)) changes.push(c);
  publish(state, changes, ctx);
  if (!sameMeta(before, metaOf(state))) ctx.changed(META_KEY);
}

function onWatermark(state: AnomaliesState, ctx: StatefulTickContext): void {
  settle(state);
  const before = metaOf(state);
  publish(state, advanceWatermark(state.table, ctx.watermark), ctx);
  if (!sameMeta(before, metaOf(state))) ctx.changed(META_KEY);
}

/**
 * Gives every episode change a sequence number, marks the state keys it touched, and emits the
 * facts: per episode at most one upsert (its latest state), then a tombstone if it was dropped,
 * in the order the episodes first changed.
 */
function publish(
  state: AnomaliesState,
  changes: readonly AnomalyChange[],
  ctx: Pick<StatefulContext, 'changed' | 'emit' | 'watermark'>,
): void {
  if (changes.length === 0) return; // most samples: nothing to publish
  const facts = new Map<string, { upsert: AnomalyEpisodeRecord | null; dropped: boolean; cluster: string }>();
  const fact = (id: string) => {
    let f = facts.get(id);
    if (f === undefined) facts.set(id, (f = { upsert: null, dropped: false, cluster: '' }));
    return f;
  };
  for (const c of changes) {
    switch (c.type) {
      case 'opened':
      case 'updated':
      case 'closed': {
        const ep = c.episode;
        const info = state.series.get(ep.key);
        if (info === undefined) {
          throw new DetectorStateError(`Episode ${ep.id} changed, but its series ${ep.key} is unknown.`);
        }
        state.episodes.delete(ep.id); // kept in sequence order
        state.episodes.set(ep.id, { key: ep.key, seq: ++state.seq });
        ctx.changed(EPISODE_PREFIX + ep.id);
        if (c.type === 'closed') ctx.changed(SERIES_PREFIX + ep.key);
        fact(ep.id).upsert = toRecord(ep, info);
        break;
      }
      case 'dropped':
        state.episodes.delete(c.id);
        ctx.changed(EPISODE_PREFIX + c.id);
        fact(c.id).dropped = true;
        fact(c.id).cluster = c.key.slice(0, Math.max(0, c.key.indexOf('/')));
        break;
      case 'evicted':
        state.series.delete(c.key);
        ctx.changed(SERIES_PREFIX + c.key);
        break;
      case 'skipped':
        break;
    }
  }
  for (const [id, f] of facts) {
    // Keyed `<cluster>/<episode id>`, so a stage can re-key a cluster's facts without their values.
    if (f.upsert !== null)
      ctx.emit(ANOMALIES_FACTS_TOPIC, {
        key: `${f.upsert.cluster}/${id}`,
        value: f.upsert,
        timestamp: f.upsert.ts,
      });
    if (f.dropped)
      ctx.emit(ANOMALIES_FACTS_TOPIC, {
        key: `${f.upsert?.cluster ?? f.cluster}/${id}`,
        value: null,
        timestamp: ctx.watermark,
      });
  }
}

/** The AnomalyEpisode record of an episode of the series `info`. */
export function toRecord(ep: Episode, info: Omit<SeriesInfo, 'seq'>): AnomalyEpisodeRecord {
  if (ep.peakSeverity === 'none') {
    throw new DetectorStateError(`Episode ${ep.id} has peak severity none.`);
  }
  return {
    ts: ep.closedAt ?? ep.lastAnomalousAt,
    id: ep.id,
    seriesKey: ep.key,
    cluster: info.cluster,
    metric: info.metric,
    labels: { ...info.labels },
    status: ep.status,
    openedAt: ep.openedAt,
    lastAnomalousAt: ep.lastAnomalousAt,
    closedAt: ep.closedAt,
    closeReason: ep.closeReason,
    peakZ: ep.peakZ,
    peakScore: ep.peakScore,
    peakSeverity: ep.peakSeverity,
    anomalousSamples: ep.anomalousSamples,
  };
}

// ---- changelog ----

function snapshot(state: AnomaliesState, key: string): Buffer | null {
  settle(state);
  const json = (v: EpisodeRecord | MetaRecord) => Buffer.from(JSON.stringify(v));
  if (key === META_KEY) return json(metaOf(state));
  if (key.startsWith(SERIES_PREFIX)) {
    const k = key.slice(SERIES_PREFIX.length);
    const s = state.table.series.get(k);
    const info = state.series.get(k);
    if (s === undefined || info === undefined) return null;
    let keyed = keyedIdentity.get(info);
    if (keyed === undefined) keyedIdentity.set(info, (keyed = identityFromKey(k, info)));
    return encodeSeriesRecord(
      {
        v: 1,
        seq: info.seq,
        cluster: info.cluster,
        metric: info.metric,
        labels: info.labels,
        lastTs: s.lastTs,
        normalRun: s.normalRun,
        episode: s.episode === null ? null : s.episode.id,
        detector: s.detector,
      },
      keyed,
    );
  }
  if (key.startsWith(EPISODE_PREFIX)) {
    const id = key.slice(EPISODE_PREFIX.length);
    const info = state.episodes.get(id);
    if (info === undefined) return null;
    const ep = state.table.closed.get(id) ?? state.table.series.get(info.key)?.episode;
    if (ep === undefined || ep === null || ep.id !== id) return null;
    return json({ v: 1, seq: info.seq, episode: ep });
  }
  throw new DetectorStateError(`Unknown anomalies state key ${JSON.stringify(key)}.`);
}

function restore(state: AnomaliesState, key: string, value: Buffer | null): void {
  const r = (state.restoring ??= { series: new Map(), episodes: new Map(), meta: null });
  const parse = <T>(): T => JSON.parse((value as Buffer).toString('utf8')) as T;
  if (key === META_KEY) {
    r.meta = value === null ? null : parse<MetaRecord>();
  } else if (key.startsWith(SERIES_PREFIX)) {
    const k = key.slice(SERIES_PREFIX.length);
    if (value === null) r.series.delete(k);
    else if (value[0] === SERIES_RECORD_BINARY) r.series.set(k, decodeSeriesRecord(k, value));
    else r.series.set(k, parse<SeriesRecord>());
  } else if (key.startsWith(EPISODE_PREFIX)) {
    const id = key.slice(EPISODE_PREFIX.length);
    if (value === null) r.episodes.delete(id);
    else r.episodes.set(id, parse<EpisodeRecord>());
  } else {
    throw new DetectorStateError(`Unknown anomalies state key ${JSON.stringify(key)} in the changelog.`);
  }
}

/**
 * Builds the table from the restored records: series in the order of their sequence numbers
 * (least recently updated first), open episodes in the order of their last change, closed ones
 * in the order they closed — exactly the orders the table had when the records were written.
 */
function settle(state: AnomaliesState): void {
  const r = state.restoring;
  if (r === null) return;
  state.restoring = null;
  const bySeq = <T extends { seq: number }>(a: [string, T], b: [string, T]) => a[1].seq - b[1].seq;
  const series = [...r.series].sort(bySeq);
  const episodes = [...r.episodes].sort(bySeq);
  for (const [id, e] of episodes) {
    if (e.v !== 1 || e.episode?.id !== id) {
      throw new DetectorStateError(`Cannot restore anomalies state: record e/${id} is malformed.`);
    }
  }
  const open: string[] = [];
  for (const [, e] of episodes) {
    if (e.episode.status !== 'open') continue;
    if (r.series.get(e.episode.key)?.episode !== e.episode.id) {
      throw new DetectorStateError(
        `Cannot restore anomalies state: open episode ${e.episode.id} is not its series' open episode.`,
      );
    }
    open.push(e.episode.key);
  }
  const { detector, ...rest } = state.table.config;
  const json: SeriesTableJSON = {
    kind: 'hetu-series-table',
    v: 1,
    config: { ...rest, detector },
    watermark: r.meta?.watermark ?? null,
    series: series.map(([key, s]) => {
      if (s.v !== 1)
        throw new DetectorStateError(`Cannot restore anomalies state: record s/${key} is malformed.`);
      const ep = s.episode === null ? null : r.episodes.get(s.episode);
      if (ep === undefined || (ep !== null && ep.episode.status !== 'open')) {
        throw new DetectorStateError(`Cannot restore anomalies state: open episode of ${key} is missing.`);
      }
      return {
        key,
        lastTs: s.lastTs,
        normalRun: s.normalRun,
        episode: ep === null ? null : ep.episode,
        detector: s.detector,
      };
    }),
    open,
    closed: episodes.filter(([, e]) => e.episode.status === 'closed').map(([, e]) => e.episode),
  };
  state.table = seriesTableFromJSON(json);
  state.series.clear();
  for (const [key, s] of series) {
    state.series.set(key, { cluster: s.cluster, metric: s.metric, labels: s.labels, seq: s.seq });
  }
  state.episodes.clear();
  for (const [id, e] of episodes) state.episodes.set(id, { key: e.episode.key, seq: e.seq });
  let seq = r.meta?.seq ?? 0;
  for (const [, x] of series) seq = Math.max(seq, x.seq);
  for (const [, x] of episodes) seq = Math.max(seq, x.seq);
  state.seq = seq;
}

function metaOf(state: AnomaliesState): MetaRecord {
  const w = state.table.watermark;
  return { v: 1, seq: state.seq, watermark: Number.isFinite(w) ? w : null };
}

function sameMeta(a: MetaRecord, b: MetaRecord): boolean {
  return a.seq === b.seq && a.watermark === b.watermark;
}

function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}
