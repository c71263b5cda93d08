export { parseAvroSchema, parseAvroSchemaForChecks, schemaText, utf8Text } from './avro.ts';
export type { AvroResolver, AvroSchemaInput, AvroType } from './avro.ts';
export { CatalogueError, STAGE_DEFAULTS, TOPICS, topicEntry, topicSpec, topicSpecs } from './catalogue.ts';
export type { CleanupPolicy, TopicEntry, TopicSpec, TopicStage } from './catalogue.ts';
export { checkCompatibility, readProblem } from './compatibility.ts';
export type { CompatibilityResult, VersionedSchema } from './compatibility.ts';
export { startEmbeddedRegistry } from './embedded-registry.ts';
export type { EmbeddedRegistry, EmbeddedRegistryOptions } from './embedded-registry.ts';
export { BAD_INPUT_CODES, FATAL_CODES, SerdeError, TRANSIENT_CODES, isBadInput } from './errors.ts';
export type { SerdeErrorCode } from './errors.ts';
export { CommandSchema } from './generated/Command.ts';
export type { Command } from './generated/Command.ts';
export { DeadLetterSchema } from './generated/DeadLetter.ts';
export type { DeadLetter } from './generated/DeadLetter.ts';
export { AnomalyEpisodeSchema } from './generated/AnomalyEpisode.ts';
export type { AnomalyEpisode } from './generated/AnomalyEpisode.ts';
export { ErrorGroupSchema } from './generated/ErrorGroup.ts';
export type { ErrorGroup } from './generated/ErrorGroup.ts';
export { NodeHealthSchema } from './generated/NodeHealth.ts';
export type { NodeHealth } from './generated/NodeHealth.ts';
export { PodHealthSchema } from './generated/PodHealth.ts';
export type { PodHealth } from './generated/PodHealth.ts';
export { IncidentSchema } from './generated/Incident.ts';
export type { Incident } from './generated/Incident.ts';
export { RcaReportSchema } from './generated/RcaReport.ts';
export type { RcaReport } from './generated/RcaReport.ts';
export { RecommendationSchema } from './generated/Recommendation.ts';
export type { Recommendation } from './generated/Recommendation.ts';
export { ScopeScoreSchema } from './generated/ScopeScore.ts';
export type { ScopeScore } from './generated/ScopeScore.ts';
export { ScoreChangedSchema } from './generated/ScoreChanged.ts';
export type { ScoreChanged } from './generated/ScoreChanged.ts';
export { LogLineObservedSchema } from './generated/LogLineObserved.ts';
export type { LogLineObserved } from './generated/LogLineObserved.ts';
export { MetricSampledSchema } from './generated/MetricSampled.ts';
export type { MetricSampled } from './generated/MetricSampled.ts';
export { WatchEventTypeSymbols, WatchObservedSchema } from './generated/WatchObserved.ts';
export type { WatchEventType, WatchObserved } from './generated/WatchObserved.ts';
export { recordNames, recordSchemas } from './generated/records.ts';
export type { RecordName, RecordTypes } from './generated/records.ts';
export { isRecordName, recordSchemaText, recordType } from './records.ts';
export { COMPATIBILITY_LEVELS, HETU_COMPATIBILITY, createRegistryClient } from './registry-client.ts';
export type { CompatibilityLevel, RegistryClientOptions, SchemaRegistryClient } from './registry-client.ts';
export { createFileSchemaStore, createMemorySchemaStore } from './schema-store.ts';
export type { SchemaStore, SchemaStoreEntry, StoredConfig, StoredSchema } from './schema-store.ts';
export {
  MAGIC_BYTE,
  MAX_VALUE_BYTES,
  WIRE_HEADER_BYTES,
  createSerde,
  frame,
  readSchemaId,
  valueSubject,
} from './serde.ts';
export type { Serde, WriterDecoded } from './serde.ts';
