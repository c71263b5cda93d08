export { analyze, DEFAULT_RCA_THRESHOLDS, memoryLeaking } from './analyze.ts';
export type { RcaThresholds } from './analyze.ts';
export { remediationFor } from './remediation.ts';
export { RCA_CATEGORIES } from './types.ts';
export type {
  BlastRadius,
  CallContext,
  ChainStep,
  ConfidenceFactor,
  CpuSample,
  Effort,
  ErrorGroupContext,
  EventContext,
  MemorySample,
  NodePodsContext,
  PodReasonContext,
  RcaCategory,
  RcaContext,
  RcaEvidence,
  RcaReport,
  RemediationStep,
  Risk,
  RolloutContext,
  WorkloadHealthContext,
} from './types.ts';
