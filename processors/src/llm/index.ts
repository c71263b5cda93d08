export {
  ErrorGroupAnalysis,
  IncidentAnalysis,
  parseErrorGroupAnswer,
  parseIncidentAnswer,
} from './answer.ts';
export type { ParsedAnswer } from './answer.ts';
export {
  DEFAULT_DAILY_TOKENS,
  MAX_AUDIT_ENTRIES,
  budgetDecision,
  emptyUsage,
  nextUtcMidnight,
  recordUsage,
  usedOn,
  utcDay,
} from './budget.ts';
export type { BudgetDecision, UsageEntry, UsageState } from './budget.ts';
export {
  DATA_BEGIN,
  DATA_END,
  DEFAULT_PROMPT_MAX_CHARS,
  ERROR_GROUP_SYSTEM_PROMPT,
  INCIDENT_SYSTEM_PROMPT,
  errorGroupPrompt,
  incidentPrompt,
  shorten,
} from './prompt.ts';
export type {
  ErrorGroupPromptInput,
  IncidentPromptInput,
  LlmPrompt,
  PromptErrorGroup,
  PromptErrorSample,
  PromptEvidence,
  PromptIncident,
  PromptMessage,
  PromptOccurrence,
  PromptOmissions,
  PromptRcaReport,
  PromptResource,
  PromptSignal,
  PromptSignalDetail,
} from './prompt.ts';
export { REDACTED_PREFIX, mergeFindings, redact, redactValue, secretNameKind } from './redact.ts';
export type { RedactedValue, RedactionFinding, RedactionResult } from './redact.ts';
export {
  ERROR_GROUP_MIN_INTERVAL_MS,
  MAX_SIGNATURES_PER_INCIDENT,
  MAX_TRACKED_GROUPS,
  MAX_TRACKED_INCIDENTS,
  emptyTracker,
  errorGroupFailed,
  errorGroupTrigger,
  forgetIncident,
  incidentAnswered,
  incidentFailed,
  incidentSignature,
  shouldRequestErrorGroup,
  shouldRequestIncident,
  signatureBasis,
} from './requests.ts';
export type {
  ErrorGroupRequestResult,
  ErrorGroupTrigger,
  IncidentRequestDecision,
  IncidentRequestResult,
  IncidentSettledResult,
  IncidentTrack,
  RequestTrackerState,
  SignatureIncident,
  SignatureRca,
  TriggerGroup,
} from './requests.ts';
