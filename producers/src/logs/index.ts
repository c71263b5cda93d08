export {
  createLogCollector,
  LOG_COLLECTOR_DEFAULTS,
  LOG_SOURCE_HEADER,
  LOG_TS_HEADER,
  LOGS_RAW_TOPIC,
  logShardOf,
  parseLogShard,
} from './collector.ts';
export type {
  ContainerLogStatus,
  ContainerState,
  LogCollector,
  LogCollectorOptions,
  LogCollectorStatus,
  LogShard,
} from './collector.ts';
export {
  advanceCursor,
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  parseKubeTimestamp,
  parseLogLine,
  ResumeFilter,
  sinceTimeOf,
} from './lines.ts';
export type { LogCursor, ParsedLine, ResumeVerdict } from './lines.ts';
