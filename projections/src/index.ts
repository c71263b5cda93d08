export { Projections } from './projections.ts';
export type {
  ChangeListener,
  FreshnessReport,
  LogPosition,
  PartitionFreshness,
  ProcessorInfo,
  ProjectionFreshness,
  ProjectionsOptions,
  Stores,
} from './projections.ts';
export { ProjectionStore, fromDoc, splitKey, storeFile, toDoc } from './store/store.ts';
export type { AppliedPosition, DecodedRecord, ProjectionChange } from './store/store.ts';
export { MAX_PAGE, decodeCursor, encodeCursor } from './store/page.ts';
export type { Page } from './store/page.ts';
export { ScoresStore, shareOf } from './store/scores.ts';
export { ErrorsStore } from './store/errors.ts';
export { AnomaliesStore } from './store/anomalies.ts';
export { IncidentsStore } from './store/incidents.ts';
export { RecommendationsStore } from './store/recommendations.ts';
export { WorkloadsStore, containerStates, workloadDoc } from './store/workloads.ts';
export { LlmStore } from './store/llm.ts';
export { StatusStore } from './store/status.ts';
export { DEFAULT_API_HOST, DEFAULT_API_PORT, SCHEMA_SDL, buildApi, startApiServer } from './api/app.ts';
export type { Api, ApiOptions } from './api/app.ts';
export { API_PATHS, WEB_CSP, isApiPath, registerWeb } from './api/web.ts';
export { COMMANDS_TOPIC, EVENTS, MAX_QUESTION_CHARS, MAX_WAIT_MS } from './api/resolvers.ts';
export type { ApiStats, ServerAbout } from './api/resolvers.ts';
export {
  CSRF_HEADERS,
  DEFAULT_LIMITS,
  TokenChecker,
  isLoopbackAddress,
  isLoopbackHost,
} from './api/security.ts';
export type { ApiLimits, AuthConfig, Principal, Role } from './api/security.ts';
export { metricKey, readSeries } from './api/series.ts';
export { createPipelineMetrics } from './api/metrics.ts';
export type { ConsumerGroupTopics, PipelineMetrics, ProcessorBatch } from './api/metrics.ts';
