export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_OWNERS,
  DEFAULT_MAX_PODS,
  LATE_TOLERANCE_MS,
  RECORDING_DEAD_LETTER_CODES,
  RecordingDecoder,
  metricKey,
  parseRecordingTs,
  readRecording,
  readRecordingBatches,
  readRecordingStream,
  readRecordingStreamBatches,
} from './reader.ts';
export type {
  KubeRecordingItem,
  LogRecordingItem,
  MetricRecordingItem,
  RecordingDeadLetter,
  RecordingDeadLetterCode,
  RecordingItem,
  RecordingObservationItem,
  RecordingReaderOptions,
} from './reader.ts';
export { createRecordingWriter, formatObservation } from './writer.ts';
export type {
  LogObservation,
  MetricObservation,
  Observation,
  RecordingWriter,
  WatchObservation,
  WatchType,
} from './writer.ts';
export {
  generateScaleObservations,
  generateScaleRecording,
  writeScaleRecording,
  SCALE_CLUSTER,
  SCALE_SEED,
  SCALE_START_MS,
  type ScaleRecordingOptions,
  type ScaleRecordingStats,
} from './scale.ts';
