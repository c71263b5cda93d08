export {
  MAX_HISTORY_TURNS,
  MAX_QUESTION_CHARS,
  QUESTION_SYSTEM_PROMPT,
  QuestionAnswer,
  parseQuestionAnswer,
  questionPrompt,
} from './ask.ts';
export type { QuestionPromptInput, QuestionTurn } from './ask.ts';
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
export { plainText, plainValue } from './plain.ts';
export {
  DATA_BEGIN,
  DATA_RULES,
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
  incidentSeen,
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
export {
  KEPT_OCCURRENCES,
  LLM_ANALYSES_TOPIC,
  LLM_REQUESTS_TOPIC,
  LLM_USAGE_TOPIC,
  SUBJECT_KINDS,
  analysisKey,
  plainErrorGroup,
  plainIncident,
  plainRca,
  requestId,
  requestKey,
} from './record.ts';
export type {
  LlmAnalysisRecord,
  LlmRequestRecord,
  LlmUsageRecord,
  PlainErrorGroup,
  PlainIncident,
  PlainRca,
  SubjectKind,
} from './record.ts';
export { pseudonymTable, pseudonymize, reveal, revealValue } from './pseudonym.ts';
export type { NameKind, Pseudonym } from './pseudonym.ts';
