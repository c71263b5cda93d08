export {
  DEFAULT_ERROR_GROUPS_CONFIG,
  ERROR_GROUPS_CONFIG_INVALID,
  resolveErrorGroupsConfig,
} from './config.ts';
export type { ErrorGroupsConfig } from './config.ts';
export {
  BUCKET_HORIZON_MINUTES,
  MINUTE_MS,
  SPARKLINE_SLOTS,
  SPARKLINE_SLOT_MINUTES,
  evaluationInstant,
  isSpike,
  minuteBucketOf,
} from './counters.ts';
export type { RateCounters } from './counters.ts';
export { ErrorGroupsState, createErrorGroupsState, restoreErrorGroupsState } from './error-groups-state.ts';
export type { ErrorGroupsStats } from './error-groups-state.ts';
export {
  COMMANDS_STATE_KEY,
  ERROR_GROUPS_RESTORE_INVALID,
  GROUP_STATE_KEY_PREFIX,
  META_STATE_KEY,
  groupStateKey,
} from './records.ts';
export type {
  CommandsStateRecord,
  GroupStateRecord,
  MetaStateRecord,
  StateRecord,
  StateRecordValue,
} from './records.ts';
export { SAMPLE_POINTS, cut, errorGroupId, isErrorLevel, sampleScore, severityRank } from './rules.ts';
export { ERROR_LEVELS } from './types.ts';
export type {
  ErrorCommand,
  ErrorGroup,
  ErrorGroupStatus,
  ErrorGroupsChange,
  ErrorLevel,
  ErrorOccurrence,
  ErrorSample,
  Fault,
  FaultWorkload,
  GroupDeleteReason,
  IgnoreCommand,
  MergeCommand,
  OccurrenceSummary,
  ReopenCommand,
  ResolveCommand,
  SeverityRank,
  SourcePosition,
  SplitCommand,
  StepOutcome,
  StepResult,
} from './types.ts';
