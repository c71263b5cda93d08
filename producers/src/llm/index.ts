export {
  LLM_DEFAULTS,
  LlmError,
  createLlmClient,
  describeLlmConfig,
  estimateInputTokens,
  estimateTokens,
  llmConfigFromEnv,
  maskUrl,
} from './client.ts';
export type {
  BreakerStatus,
  LlmClient,
  LlmClientConfig,
  LlmClientDeps,
  LlmCompletion,
  LlmConfig,
  LlmConfigDescription,
  LlmMessage,
} from './client.ts';
export { startFakeLlmServer } from './fake-server.ts';
export type {
  FakeLlmReply,
  FakeLlmRequest,
  FakeLlmScript,
  FakeLlmServer,
  FakeLlmServerOptions,
  FakeLlmUsage,
} from './fake-server.ts';
export { LLM_WORKER_GROUP, createLlmWorker, usageFromRecord, usageRecord } from './worker.ts';
export type { LlmWorker, LlmWorkerEvents, LlmWorkerOptions, LlmWorkerStatus } from './worker.ts';
