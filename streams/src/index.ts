export type {
  AppendRecord,
  Batch,
  BatchHandler,
  BatchTransaction,
  CleanupPolicy,
  ErrorDecision,
  EventTimeGate,
  Log,
  LogRecord,
  PartitionInfo,
  ReadOptions,
  RecordPosition,
  SubscribeOptions,
  Subscription,
  TopicInfo,
  TopicSpec,
} from './port.ts';
export { HetuError, errorCode, isTransient } from './errors.ts';
export { Backoff, retryTransient } from './backoff.ts';
export { CRASH_SITES, crashPoint } from './crash-points.ts';
export type { CrashSite } from './crash-points.ts';
export { murmur2, partitionForKey } from './murmur2.ts';
export { prng } from './prng.ts';
export { groupProgress } from './progress.ts';
export { EVENT_TIME_SLOT_MS } from './merge.ts';
export { MAX_REQUEST_BYTES, sizedSlices } from './sized-slices.ts';
export { BUNDLE_HEADER, bundleRecords, isBundle, unbundle } from './bundle.ts';
export { andThen } from './maybe-async.ts';
export { EmbeddedLog } from './embedded/embedded-log.ts';
export type { EmbeddedLogOptions } from './embedded/embedded-log.ts';
export { KafkaLog } from './kafka/kafka-log.ts';
export type { KafkaLogOptions } from './kafka/kafka-log.ts';
export {
  POSITION_KEY,
  TaskState,
  asStateful,
  changelogRecords,
  deadLetterOf,
  foldBatch,
  isBadInput,
  isFactRecord,
  keyedProcessor,
} from './runtime/processor.ts';
export type {
  AnyProcessor,
  BatchResult,
  DeadLetter,
  Emit,
  FactRecord,
  ProcessorContext,
  ProcessorDefinition,
  Source,
  StatefulContext,
  StatefulProcessor,
  StatefulTickContext,
  Store,
  TickContext,
} from './runtime/processor.ts';
export { DLQ_TOPIC, ProcessorRuntime, START_RETRY_MS, jsonDeadLetter } from './runtime/runtime.ts';
export type { BatchCommittedInfo, ProcessorRuntimeOptions, RuntimeEvents } from './runtime/runtime.ts';
export { ProcessorTestDriver } from './runtime/test-driver.ts';
export type { PipedRecord } from './runtime/test-driver.ts';
export { SCHEMAS_TOPIC, logSchemaStore } from './schema-log-store.ts';
export { avroDeadLetterEncoder } from './runtime/avro-dead-letter.ts';
export { avroFactEncoder } from './runtime/avro-facts.ts';
export { prefixedLog } from './prefixed-log.ts';
