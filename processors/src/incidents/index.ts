export {
  IncidentsState,
  DEFAULT_INCIDENTS_CONFIG,
  incidentId,
  signalIdentity,
  severityRank,
  workloadKey,
} from './state.ts';
export { fnv1a64 } from './hash.ts';
export {
  podSignals,
  nodeSignals,
  eventSignal,
  rolloutSignal,
  memoryGrowthSignal,
  POD_SIGNALS,
  EVENT_SEVERITY,
} from './signals.ts';
export type { WarningEvent } from './signals.ts';
export { SIGNAL_SOURCES, SIGNAL_KINDS, SEVERITIES, INCIDENT_STATUSES } from './types.ts';
export type {
  DeleteReason,
  EvidenceRef,
  Incident,
  IncidentChange,
  IncidentSeverity,
  IncidentSignal,
  IncidentStatus,
  IncidentsConfig,
  IncidentsRecord,
  ResourceRef,
  Signal,
  SignalDetail,
  SignalKind,
  SignalSource,
} from './types.ts';
