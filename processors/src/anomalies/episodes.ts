import {
  createDetector,
  restoreDetector,
  update,
  validateConfig,
  DEFAULT_DETECTOR_CONFIG,
  DetectorStateError,
} from './detector.ts';
import type { DetectorConfig, DetectorState } from './detector.ts';
import { episodeId, seriesKey } from './key.ts';
import { severityOf } from './severity.ts';
import type { Detection, Severity } from './severity.ts';

/**
 * Anomaly episodes over a store of series (SPEC §5, bounds SPEC §9), as a pure fold:
 * `applySample` and `advanceWatermark` mutate the table and return the changes they made, in
 * order, for a runtime to write as facts (opened / updated / closed episodes) and tombstones
 * (dropped episodes, evicted series). Everything runs on event time; the same inputs in the
 * same order always give the same changes.
 */
export interface SeriesTableConfig {
  /** Most series kept; a new one beyond it evicts the least recently updated. */
  readonly maxSeries: number;
  /** A series with no sample for this long (event time, against the watermark) is evicted. */
  readonly idleTtlMs: number;
  /** An open episode closes after this many consecutive normal samples… */
  readonly closeAfterNormal: number;
  /** …or once this long has passed since its last anomalous sample. */
  readonly closeAfterMs: number;
  /** A closed episode is dropped (tombstoned) this long after closing. */
  readonly closedRetentionMs: number;
  /** Detector settings shared by every series (defaults: DEFAULT_DETECTOR_CONFIG). */
  readonly detector: DetectorConfig;
}

const HOUR = 3_600_000;

export const DEFAULT_SERIES_TABLE_CONFIG: SeriesTableConfig = Object.freeze({
  maxSeries: 50_000,
  idleTtlMs: 2 * HOUR,
  closeAfterNormal: 3,
  closeAfterMs: HOUR,
  closedRetentionMs: HOUR,
  detector: DEFAULT_DETECTOR_CONFIG,
});

export type CloseReason = 'normal' | 'timeout' | 'evicted';

/** One anomaly episode (plain JSON). Changes carry copies; the table keeps its own. */
export interface Episode {
  readonly id: string;
  readonly key: string;
  /** Event time of the sample that opened it (its first anomalous sample). */
  readonly openedAt: number;
  lastAnomalousAt: number;
  /** Signed z of the sample with the largest |z|, its score and severity. */
  peakZ: number;
  peakScore: number;
  peakSeverity: Severity;
  /** Anomalous samples so far. */
  anomalousSamples: number;
  status: 'open' | 'closed';
  closedAt: number | null;
  closeReason: CloseReason | null;
}

export type AnomalyChange =
  | { readonly type: 'opened'; readonly episode: Episode }
  | { readonly type: 'updated'; readonly episode: Episode }
  | { readonly type: 'closed'; readonly episode: Episode }
  | { readonly type: 'dropped'; readonly id: string; readonly key: string }
  | { readonly type: 'evicted'; readonly key: string; readonly reason: 'cap' | 'idle' }
  | { readonly type: 'skipped'; readonly key: string; readonly ts: number; readonly reason: string };

interface SeriesEntry {
  readonly key: string;
  /** Event time of the last accepted sample. */
  lastTs: number;
  detector: DetectorState;
  /** The open episode, if any. */
  episode: Episode | null;
  /** Consecutive normal samples since the open episode's last anomalous one. */
  normalRun: number;
}

export interface SeriesTable {
  readonly config: SeriesTableConfig;
  watermark: number;
  /** Series in order of last update (first = least recently updated). */
  readonly series: Map<string, SeriesEntry>;
  /** Keys of series with an open episode, in order of their last anomalous sample. */
  readonly open: Map<string, true>;
  /** Closed episodes by id, in order of closing, until dropped. */
  readonly closed: Map<string, Episode>;
}

export interface Sample {
  readonly metric: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly value: number;
}

export function createSeriesTable(
  config: Partial<Omit<SeriesTableConfig, 'detector'>> & { detector?: Partial<DetectorConfig> } = {},
): SeriesTable {
  const detector: DetectorConfig = Object.freeze({ ...DEFAULT_DETECTOR_CONFIG, ...config.detector });
  validateConfig(detector);
  const c: SeriesTableConfig = Object.freeze({ ...DEFAULT_SERIES_TABLE_CONFIG, ...config, detector });
  validateTableConfig(c);
  return { config: c, watermark: -Infinity, series: new Map(), open: new Map(), closed: new Map() };
}

function validateTableConfig(c: SeriesTableConfig): void {
  const ok =
    Number.isInteger(c.maxSeries) &&
    c.maxSeries >= 1 &&
    Number.isInteger(c.closeAfterNormal) &&
    c.closeAfterNormal >= 1 &&
    [c.idleTtlMs, c.closeAfterMs, c.closedRetentionMs].every((x) => Number.isFinite(x) && x >= 0);
  if (!ok)
    throw new DetectorStateError(
      'Invalid series table config: caps must be integers ≥ 1 and durations finite ≥ 0.',
    );
}

const copy = (e: Episode): Episode => ({ ...e });

/** Feeds one sample (by metric and labels). */
export function applySample(table: SeriesTable, sample: Sample): AnomalyChange[] {
  return applyKeyed(table, seriesKey(sample.metric, sample.labels), sample.ts, sample.value);
}

/**
 * Feeds one sample of the series `key`: scores it, opens / updates / closes its episode, and
 * evicts the least recently updated series if a new one exceeds the cap. Skipped (with a
 * `skipped` change, state unchanged): a value or time that is not a finite number, and a
 * sample older than the series' last one.
 */
export function applyKeyed(table: SeriesTable, key: string, ts: number, value: number): AnomalyChange[] {
  const out: AnomalyChange[] = [];
  if (!Number.isFinite(ts)) {
    out.push({ type: 'skipped', key, ts, reason: 'timestamp is not a finite number' });
    return out;
  }
  if (!Number.isFinite(value)) {
    out.push({ type: 'skipped', key, ts, reason: 'value is not a finite number' });
    return out;
  }
  const c = table.config;
  let s = table.series.get(key);
  if (s !== undefined && ts < s.lastTs) {
    out.push({ type: 'skipped', key, ts, reason: "timestamp is older than the series' last sample" });
    return out;
  }
  if (s === undefined) {
    while (table.series.size >= c.maxSeries) {
      const oldest = table.series.values().next().value as SeriesEntry;
      evict(table, oldest, 'cap', oldest.lastTs, out);
    }
    s = { key, lastTs: ts, detector: createDetector(c.detector), episode: null, normalRun: 0 };
  } else {
    table.series.delete(key);
  }
  table.series.set(key, s);
  s.lastTs = ts;

  const ep = s.episode;
  if (ep !== null && ts - ep.lastAnomalousAt >= c.closeAfterMs) {
    close(table, s, ep.lastAnomalousAt + c.closeAfterMs, 'timeout', out);
  }
  const d: Detection = update(s.detector, ts, value);
  if (d.severity !== 'none') {
    const open = s.episode;
    if (open === null) {
      const e: Episode = {
        id: episodeId(key, ts),
        key,
        openedAt: ts,
        lastAnomalousAt: ts,
        peakZ: d.z,
        peakScore: d.score,
        peakSeverity: d.severity,
        anomalousSamples: 1,
        status: 'open',
        closedAt: null,
        closeReason: null,
      };
      s.episode = e;
      out.push({ type: 'opened', episode: copy(e) });
    } else {
      open.lastAnomalousAt = ts;
      open.anomalousSamples++;
      if (Math.abs(d.z) > Math.abs(open.peakZ)) {
        open.peakZ = d.z;
        open.peakScore = d.score;
        open.peakSeverity = severityOf(d.z);
      }
      out.push({ type: 'updated', episode: copy(open) });
    }
    s.normalRun = 0;
    table.open.delete(key);
    table.open.set(key, true);
  } else if (s.episode !== null) {
    s.normalRun++;
    if (s.normalRun >= c.closeAfterNormal) close(table, s, ts, 'normal', out);
  }
  return out;
}

/**
 * Moves event time forward to `watermark` (never backward): closes open episodes whose last
 * anomalous sample is `closeAfterMs` old, evicts series idle for `idleTtlMs`, and drops closed
 * episodes `closedRetentionMs` after they closed. Amortised O(1) per expired item: each store
 * is kept in expiry order.
 */
export function advanceWatermark(table: SeriesTable, watermark: number): AnomalyChange[] {
  const out: AnomalyChange[] = [];
  if (!(watermark > table.watermark)) return out;
  table.watermark = watermark;
  const c = table.config;
  for (const key of table.open.keys()) {
    const s = table.series.get(key) as SeriesEntry;
    const ep = s.episode as Episode;
    if (watermark - ep.lastAnomalousAt < c.closeAfterMs) break;
    close(table, s, ep.lastAnomalousAt + c.closeAfterMs, 'timeout', out);
  }
  for (const s of table.series.values()) {
    if (watermark - s.lastTs < c.idleTtlMs) break;
    evict(table, s, 'idle', s.lastTs, out);
  }
  for (const ep of table.closed.values()) {
    if (watermark - (ep.closedAt as number) < c.closedRetentionMs) break;
    table.closed.delete(ep.id);
    out.push({ type: 'dropped', id: ep.id, key: ep.key });
  }
  return out;
}

function close(
  table: SeriesTable,
  s: SeriesEntry,
  at: number,
  reason: CloseReason,
  out: AnomalyChange[],
): void {
  const ep = s.episode as Episode;
  ep.status = 'closed';
  ep.closedAt = at;
  ep.closeReason = reason;
  s.episode = null;
  s.normalRun = 0;
  table.open.delete(s.key);
  table.closed.set(ep.id, ep);
  out.push({ type: 'closed', episode: copy(ep) });
}

function evict(
  table: SeriesTable,
  s: SeriesEntry,
  reason: 'cap' | 'idle',
  at: number,
  out: AnomalyChange[],
): void {
  if (s.episode !== null) close(table, s, at, 'evicted', out);
  table.series.delete(s.key);
  out.push({ type: 'evicted', key: s.key, reason });
}

/** The open episode of a series, if any (a copy). */
export function openEpisode(table: SeriesTable, key: string): Episode | null {
  const e = table.series.get(key)?.episode;
  return e === undefined || e === null ? null : copy(e);
}

// ---- serialisation ----

export interface SeriesTableJSON {
  readonly kind: 'hetu-series-table';
  readonly v: 1;
  readonly config: SeriesTableConfig;
  /** null while no watermark has been seen (−∞ is not JSON). */
  readonly watermark: number | null;
  /** In order of last update. Detector states without their (shared) config. */
  readonly series: ReadonlyArray<{
    key: string;
    lastTs: number;
    normalRun: number;
    episode: Episode | null;
    detector: Omit<DetectorState, 'config' | 'decay' | 'kind' | 'v'>;
  }>;
  readonly open: readonly string[];
  readonly closed: readonly Episode[];
}

/** A plain-JSON snapshot of the table (`JSON.stringify` it as is). */
export function seriesTableToJSON(table: SeriesTable): SeriesTableJSON {
  return {
    kind: 'hetu-series-table',
    v: 1,
    config: table.config,
    watermark: Number.isFinite(table.watermark) ? table.watermark : null,
    series: [...table.series.values()].map((s) => {
      const { n, wMean, wM2, level, seasonal, profile } = s.detector;
      return {
        key: s.key,
        lastTs: s.lastTs,
        normalRun: s.normalRun,
        episode: s.episode === null ? null : copy(s.episode),
        detector: { n, wMean, wM2, level: { ...level }, seasonal: { ...seasonal }, profile: [...profile] },
      };
    }),
    open: [...table.open.keys()],
    closed: [...table.closed.values()].map(copy),
  };
}

/** Rebuilds a table from `seriesTableToJSON` output (after a JSON round trip). Throws DetectorStateError if malformed. */
export function seriesTableFromJSON(json: unknown): SeriesTable {
  const o = json as SeriesTableJSON | null;
  if (typeof o !== 'object' || o === null || o.kind !== 'hetu-series-table' || o.v !== 1) {
    throw new DetectorStateError('Cannot restore series table: unknown kind or version.');
  }
  const { detector, ...rest } = o.config;
  const table = createSeriesTable({ ...rest, detector });
  table.watermark = o.watermark === null ? -Infinity : o.watermark;
  if (!Array.isArray(o.series) || !Array.isArray(o.open) || !Array.isArray(o.closed)) {
    throw new DetectorStateError('Cannot restore series table: series, open or closed is not a list.');
  }
  for (const s of o.series) {
    const det = restoreDetector({
      ...s.detector,
      kind: 'hetu-detector',
      v: 1,
      config: table.config.detector,
    });
    table.series.set(s.key, {
      key: s.key,
      lastTs: s.lastTs,
      normalRun: s.normalRun,
      episode: s.episode === null ? null : copy(s.episode),
      detector: { ...det, config: table.config.detector },
    });
  }
  for (const k of o.open) {
    if (table.series.get(k)?.episode == null) {
      throw new DetectorStateError(`Cannot restore series table: open episode of ${k} is missing.`);
    }
    table.open.set(k, true);
  }
  for (const e of o.closed) table.closed.set(e.id, copy(e));
  return table;
}
