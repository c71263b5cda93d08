/**
 * Types of the incidents fold (SPEC §6, bounds SPEC §9). Every time is event time in
 * milliseconds since the epoch; nothing here is read from a clock.
 */

export const SIGNAL_SOURCES = [
  'pod',
  'node',
  'event',
  'anomaly',
  'error-group',
  'rollout',
  'pressure',
] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

export const SIGNAL_KINDS = [
  'crashloop',
  'oomkilled',
  'imagepull',
  'init-failure',
  'pending',
  'evicted',
  'failed',
  'node-not-ready',
  'node-pressure',
  'warning-event',
  'anomaly',
  'error-group-new',
  'error-group-regressed',
  'error-group-spike',
  'rollout',
  'memory-growth',
] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** Worst first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type IncidentSeverity = (typeof SEVERITIES)[number];

/** A Kubernetes object. `namespace` is `''` for cluster-scoped objects (Node). */
export interface ResourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** The log position an observation was read from, with a short excerpt. `offset` is an exact int64. */
export interface EvidenceRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly ts: number;
  readonly excerpt: string;
}

/**
 * What the signal is about, beyond its kind. Only the fields that apply are set: a pod's waiting
 * or terminated reason and message (`reason`, `message`, `container`, `exitCode`), an event's
 * reason and message and repeat count, an error group's id, title and detection reason, an
 * anomaly's metric and value, a rollout's old → new image and revision.
 */
export interface SignalDetail {
  readonly reason?: string;
  readonly message?: string;
  readonly container?: string;
  readonly exitCode?: number;
  readonly eventCount?: number;
  readonly errorGroupId?: string;
  readonly title?: string;
  readonly errorReason?: string;
  readonly metric?: string;
  readonly value?: number;
  readonly z?: number;
  readonly oldImage?: string | null;
  readonly newImage?: string;
  readonly revision?: string;
}

/**
 * One signal (SPEC §6). `key` is stable per source (e.g. `crashloop:shop/api-7d9f-x2`), so a
 * repeat of the same condition is recognised; `cleared` says the condition has ended. A
 * `rollout` is a change signal: it is context for RCA and never opens an incident. A `pressure`
 * signal (a container's memory climbing towards its limit) never opens one either: it joins a
 * live incident of the same workload and keeps it from resolving while it lasts
 * (docs/incidents.md, "Memory growth holds an incident open").
 */
export interface Signal {
  readonly source: SignalSource;
  readonly key: string;
  readonly kind: SignalKind;
  readonly severity: IncidentSeverity;
  readonly ts: number;
  readonly cleared?: boolean;
  readonly resource: ResourceRef;
  readonly workload?: ResourceRef;
  readonly node?: string;
  readonly detail: SignalDetail;
  readonly evidence: readonly EvidenceRef[];
}

/** A signal as held by an incident: repeats of (source, key) fold into one entry. */
export interface IncidentSignal {
  source: SignalSource;
  key: string;
  kind: SignalKind;
  /** The worst severity this signal was seen with. */
  severity: IncidentSeverity;
  firstSeen: number;
  lastSeen: number;
  /** Observations folded in (the first one included). */
  count: number;
  /** The condition has ended; point-in-time sources (event, error-group, rollout) are cleared at once. */
  cleared: boolean;
  clearedAt: number | null;
  resource: ResourceRef;
  workload: ResourceRef | null;
  node: string | null;
  /** The latest observation's detail. */
  detail: SignalDetail;
  /** The latest positions (at most `maxEvidencePerSignal`), oldest first, unique by position. */
  evidence: EvidenceRef[];
}

export const INCIDENT_STATUSES = ['open', 'investigating', 'resolved', 'dismissed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** One incident: the record a runtime writes under its id (plain JSON). */
export interface Incident {
  id: string;
  title: string;
  status: IncidentStatus;
  severity: IncidentSeverity;
  /** ts of the signal that opened it. */
  openedAt: number;
  /** Latest observation time of any non-change, non-clear signal: what correlation measures from. */
  lastSignalAt: number;
  /** Event time of the last change to this record. */
  updatedAt: number;
  /** Time it became resolved or dismissed; null while open or investigating. */
  resolvedAt: number | null;
  resolvedBy: 'auto' | 'user' | null;
  /** Time of the last status command, or null. */
  statusChangedAt: number | null;
  /** Workloads named by its signals (sorted by kind/namespace/name). */
  workloads: ResourceRef[];
  /** Nodes named by its signals, and those of node-level signals (sorted). */
  nodes: string[];
  failedNodes: string[];
  namespaces: string[];
  /** In order of first appearance (rollouts included, as change signals). */
  signals: IncidentSignal[];
  /** Distinct signals beyond `maxSignalsPerIncident` that were counted but not kept. */
  omittedSignals: number;
}

export type DeleteReason = 'cap' | 'resolved-ttl' | 'max-age';

export type IncidentChange =
  | { readonly type: 'upserted'; readonly incident: Incident }
  | { readonly type: 'deleted'; readonly id: string; readonly reason: DeleteReason };

export interface IncidentsConfig {
  /** A signal joins an incident whose last signal is at most this much older (inclusive). */
  readonly correlationWindowMs: number;
  /** Auto-resolve once every signal has been cleared for at least this long (inclusive). */
  readonly resolveAfterClearedMs: number;
  readonly maxIncidents: number;
  /** Resolved or dismissed incidents are deleted this long after resolvedAt (inclusive). */
  readonly resolvedTtlMs: number;
  /** Any incident is deleted this long after openedAt (inclusive). */
  readonly maxAgeMs: number;
  /** Rollouts are remembered this long, and attached to an incident opened within it. */
  readonly rolloutLookbackMs: number;
  /** Call edges not seen for this long are forgotten. */
  readonly callTtlMs: number;
  readonly maxCallEdges: number;
  readonly maxRemembered: number;
  readonly maxSignalsPerIncident: number;
  readonly maxEvidencePerSignal: number;
}

/** One record of the serialised state, keyed for a compacted changelog. */
export type IncidentsRecord =
  | { readonly key: string; readonly type: 'incident'; readonly incident: Incident }
  | {
      readonly key: string;
      readonly type: 'calls';
      readonly from: ResourceRef;
      readonly to: ReadonlyArray<{ readonly workload: ResourceRef; readonly lastSeen: number }>;
    }
  | { readonly key: string; readonly type: 'rollouts'; readonly rollouts: readonly Signal[] }
  | { readonly key: string; readonly type: 'meta'; readonly watermark: number | null };
