export {
  createDetector,
  update,
  restoreDetector,
  validateConfig,
  DetectorStateError,
  DEFAULT_DETECTOR_CONFIG,
  SKIPPED_BAD_TIME,
} from './detector.ts';
export type { DetectorConfig, DetectorState, PredictorState } from './detector.ts';
export { createZScore, updateZScore, DEFAULT_ZSCORE_CONFIG } from './zscore.ts';
export type { ZScoreConfig, ZScoreState } from './zscore.ts';
export {
  severityOf,
  scoreOf,
  clampZ,
  MAX_ABS_Z,
  Z_MEDIUM,
  Z_HIGH,
  Z_CRITICAL,
  NO_DETECTION,
  SKIPPED_NON_FINITE,
} from './severity.ts';
export type { Detection, Severity } from './severity.ts';
export {
  createSeriesTable,
  applySample,
  applyKeyed,
  advanceWatermark,
  openEpisode,
  seriesTableToJSON,
  seriesTableFromJSON,
  DEFAULT_SERIES_TABLE_CONFIG,
} from './episodes.ts';
export type {
  SeriesTable,
  SeriesTableConfig,
  SeriesTableJSON,
  Sample,
  Episode,
  AnomalyChange,
  CloseReason,
} from './episodes.ts';
export { seriesKey, episodeId, fnv1a64 } from './key.ts';
export { parseTimestamp } from './timestamp.ts';
export {
  anomaliesProcessor,
  anomaliesTable,
  metricSeriesKey,
  toRecord,
  ANOMALIES_PROCESSOR,
  ANOMALIES_CHANGELOG,
  ANOMALIES_FACTS_TOPIC,
  METRICS_TOPIC,
} from './topology.ts';
export type { AnomaliesConfig, AnomaliesDeps, AnomaliesState, AnomalyEpisodeRecord } from './topology.ts';
