/**
 * When to ask the LLM (SPEC §7, LLM part; DESIGN §3 "slow work leaves the consumer loop"): the pure
 * rules a processor folds to decide when to emit an "analysis requested" record, and the
 * transitions for the worker's "analysis recorded" / "analysis failed" records.
 *
 * Incidents: a request is keyed by the incident's *signature* — what makes its story (RCA category
 * and root cause, the kinds and resources of its signals, its severity), not its timestamps or
 * counts — so a signal repeating or a clock moving never costs a call. Per incident:
 * - a signature is never requested twice (unless its call failed before anything was sent —
 *   budget refused, circuit open, no LLM configured — see `incidentFailed`);
 * - at most one request is in flight; a new signature meanwhile is queued as the next one,
 *   replacing an older queued signature (only the latest story is worth a call).
 *
 * Error groups: a request for a group that became new (at error level or above), regressed or
 * started spiking (`errorGroupTrigger`), at most once per 10 minutes of event time per group.
 *
 * State is small and bounded: the latest `MAX_TRACKED_INCIDENTS` incidents (least recently touched
 * go first) with at most `MAX_SIGNATURES_PER_INCIDENT` signatures each, and the error groups asked
 * about within the interval (at most `MAX_TRACKED_GROUPS`). It is plain JSON, for a changelog.
 */
import { createHash } from 'node:crypto';

export const MAX_TRACKED_INCIDENTS = 500;
export const MAX_SIGNATURES_PER_INCIDENT = 100;
export const MAX_TRACKED_GROUPS = 2_000;
export const ERROR_GROUP_MIN_INTERVAL_MS = 10 * 60_000;

interface SignatureResource {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** What the signature reads of an incident (the internal `Incident` and the Avro record both fit). */
export interface SignatureIncident {
  readonly severity: string;
  readonly signals: readonly { readonly kind: string; readonly resource: SignatureResource }[];
}

/** What the signature reads of the deterministic RCA report. */
export interface SignatureRca {
  readonly category: string;
  readonly subtype?: string | null;
  readonly rootCause: SignatureResource;
}

function resourceKey(r: SignatureResource): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

/**
 * The canonical text the signature hashes: JSON of `[1, severity, category, subtype, root cause,
 * sorted distinct "kind resource" of the signals]` (`category` is `none` without an RCA).
 */
export function signatureBasis(incident: SignatureIncident, rca: SignatureRca | null | undefined): string {
  const signals = [...new Set(incident.signals.map((s) => `${s.kind} ${resourceKey(s.resource)}`))].sort();
  return JSON.stringify([
    1,
    incident.severity,
    rca?.category ?? 'none',
    rca?.subtype ?? null,
    rca ? resourceKey(rca.rootCause) : null,
    signals,
  ]);
}

/** `sig-` + the first 16 hex digits of SHA-256 over `signatureBasis`. */
export function incidentSignature(incident: SignatureIncident, rca: SignatureRca | null | undefined): string {
  return 'sig-' + createHash('sha256').update(signatureBasis(incident, rca)).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Tracker state

export interface IncidentTrack {
  /** Signatures requested (oldest first, at most `MAX_SIGNATURES_PER_INCIDENT`). */
  readonly sent: readonly string[];
  /** The signature whose call is running, or null. */
  readonly inFlight: string | null;
  /** The signature to request when the running call ends, or null. */
  readonly queued: string | null;
}

export interface RequestTrackerState {
  /** By incident id, least recently touched first. */
  readonly incidents: Readonly<Record<string, IncidentTrack>>;
  /** By error-group id: event time of its last request, least recently requested first. */
  readonly groups: Readonly<Record<string, number>>;
}

export function emptyTracker(): RequestTrackerState {
  return { incidents: {}, groups: {} };
}

const NO_TRACK: IncidentTrack = { sent: [], inFlight: null, queued: null };

/** `record` with `key` set to `value` and moved last (most recently touched), capped at `cap` entries. */
function touch<V>(
  record: Readonly<Record<string, V>>,
  key: string,
  value: V,
  cap: number,
): Record<string, V> {
  const out: Record<string, V> = {};
  const keys = Object.keys(record).filter((k) => k !== key);
  const skip = Math.max(0, keys.length + 1 - cap);
  for (const k of keys.slice(skip)) out[k] = record[k] as V;
  out[key] = value;
  return out;
}

function without<V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(record)) if (k !== key) out[k] = v;
  return out;
}

function withSent(sent: readonly string[], signature: string): string[] {
  const out = [...sent.filter((s) => s !== signature), signature];
  return out.length > MAX_SIGNATURES_PER_INCIDENT ? out.slice(out.length - MAX_SIGNATURES_PER_INCIDENT) : out;
}

export type IncidentRequestDecision =
  /** Emit "analysis requested" for this signature now. */
  | 'request'
  /** A call is running: this signature is requested when it ends (replacing `replaced`). */
  | 'queued'
  /** This signature was requested before, is running, or is already queued: nothing to do. */
  | 'duplicate';

export interface IncidentRequestResult {
  readonly state: RequestTrackerState;
  readonly decision: IncidentRequestDecision;
  /** With `queued`: the older queued signature this one replaced, or null. */
  readonly replaced: string | null;
}

/** Whether the incident's current `signature` should be requested now (see the module comment). */
export function shouldRequestIncident(
  state: RequestTrackerState,
  incidentId: string,
  signature: string,
): IncidentRequestResult {
  const track = state.incidents[incidentId] ?? NO_TRACK;
  if (track.sent.includes(signature) || track.inFlight === signature || track.queued === signature) {
    return { state, decision: 'duplicate', replaced: null };
  }
  if (track.inFlight !== null) {
    const next: IncidentTrack = { ...track, queued: signature };
    return {
      state: { ...state, incidents: touch(state.incidents, incidentId, next, MAX_TRACKED_INCIDENTS) },
      decision: 'queued',
      replaced: track.queued,
    };
  }
  const next: IncidentTrack = { sent: withSent(track.sent, signature), inFlight: signature, queued: null };
  return {
    state: { ...state, incidents: touch(state.incidents, incidentId, next, MAX_TRACKED_INCIDENTS) },
    decision: 'request',
    replaced: null,
  };
}

export interface IncidentSettledResult {
  readonly state: RequestTrackerState;
  /** A queued signature that is now in flight: emit "analysis requested" for it. Null when none. */
  readonly next: string | null;
}

function settle(
  state: RequestTrackerState,
  incidentId: string,
  signature: string,
  forgetSignature: boolean,
): IncidentSettledResult {
  const track = state.incidents[incidentId];
  if (track === undefined || track.inFlight !== signature) return { state, next: null };
  const sent = forgetSignature ? track.sent.filter((s) => s !== signature) : track.sent;
  const queued = track.queued;
  const promoted = queued !== null && !sent.includes(queued) ? queued : null;
  const next: IncidentTrack =
    promoted === null
      ? { sent, inFlight: null, queued: null }
      : { sent: withSent(sent, promoted), inFlight: promoted, queued: null };
  return {
    state: { ...state, incidents: touch(state.incidents, incidentId, next, MAX_TRACKED_INCIDENTS) },
    next: promoted,
  };
}

/** The worker recorded an answer for `signature` (valid or not): the next queued one goes out. */
export function incidentAnswered(
  state: RequestTrackerState,
  incidentId: string,
  signature: string,
): IncidentSettledResult {
  return settle(state, incidentId, signature, false);
}

/**
 * The worker recorded a failure for `signature`. `sent: false` (refused by the budget or the
 * circuit breaker, no LLM configured: nothing left the cluster) forgets the signature, so the same
 * story may be requested again; `sent: true` (timeout, HTTP error after retries) keeps it: never
 * sent twice.
 */
export function incidentFailed(
  state: RequestTrackerState,
  incidentId: string,
  signature: string,
  outcome: { readonly sent: boolean },
): IncidentSettledResult {
  return settle(state, incidentId, signature, !outcome.sent);
}

/**
 * An outcome for `signature` was read back that this tracker did not have in flight (a replay of
 * the requests over a log that holds the worker's answers): the signature counts as sent, so it is
 * not requested again. Nothing else changes.
 */
export function incidentSeen(
  state: RequestTrackerState,
  incidentId: string,
  signature: string,
): RequestTrackerState {
  const track = state.incidents[incidentId] ?? NO_TRACK;
  if (track.sent.includes(signature)) return state;
  const next: IncidentTrack = {
    sent: withSent(track.sent, signature),
    inFlight: track.inFlight,
    queued: track.queued === signature ? null : track.queued,
  };
  return { ...state, incidents: touch(state.incidents, incidentId, next, MAX_TRACKED_INCIDENTS) };
}

/** The incident was deleted (tombstone): its track goes too. */
export function forgetIncident(state: RequestTrackerState, incidentId: string): RequestTrackerState {
  if (state.incidents[incidentId] === undefined) return state;
  return { ...state, incidents: without(state.incidents, incidentId) };
}

// ---------------------------------------------------------------------------------------------
// Error groups

export type ErrorGroupTrigger = 'new' | 'regressed' | 'spike';

/** What the trigger reads of an error group (internal `ErrorGroup` or the Avro record). */
export interface TriggerGroup {
  readonly level: string;
  readonly status: string;
  readonly spike: boolean;
  readonly regressed: boolean;
  readonly mergedInto?: string | null;
}

const ERROR_LEVELS = new Set(['fatal', 'panic', 'error']);

/**
 * Why a group's change deserves an analysis, or null: `new` when it first appears at error level
 * or above (or is raised to it from warn and below), `regressed` when it starts to be regressed,
 * `spike` when it starts spiking. Ignored and merged-away groups never do.
 */
export function errorGroupTrigger(
  previous: TriggerGroup | null,
  next: TriggerGroup,
): ErrorGroupTrigger | null {
  if (next.status === 'ignored' || (next.mergedInto !== undefined && next.mergedInto !== null)) return null;
  if (!ERROR_LEVELS.has(next.level)) return null;
  if (previous === null || !ERROR_LEVELS.has(previous.level)) return 'new';
  if (next.regressed && !previous.regressed) return 'regressed';
  if (next.spike && !previous.spike) return 'spike';
  return null;
}

export interface ErrorGroupRequestResult {
  readonly state: RequestTrackerState;
  readonly allowed: boolean;
  /** When refused: the first event time a request is allowed again. */
  readonly nextAllowedAt: number | null;
}

/**
 * Whether group `groupId` may be requested at event time `atMs`: at most once per
 * `minIntervalMs` (default 10 min). Allowed requests are remembered.
 */
export function shouldRequestErrorGroup(
  state: RequestTrackerState,
  groupId: string,
  atMs: number,
  minIntervalMs: number = ERROR_GROUP_MIN_INTERVAL_MS,
): ErrorGroupRequestResult {
  const last = state.groups[groupId];
  if (last !== undefined && atMs - last < minIntervalMs) {
    return { state, allowed: false, nextAllowedAt: last + minIntervalMs };
  }
  // Groups whose interval has passed need no memory; drop them before capping.
  const live: Record<string, number> = {};
  for (const [k, t] of Object.entries(state.groups)) if (atMs - t < minIntervalMs) live[k] = t;
  return {
    state: { ...state, groups: touch(live, groupId, atMs, MAX_TRACKED_GROUPS) },
    allowed: true,
    nextAllowedAt: null,
  };
}

/**
 * The worker recorded a failure for the request of `groupId` made at `requestedAt`. With
 * `sent: false` (nothing left the cluster) the group may be requested again at once.
 */
export function errorGroupFailed(
  state: RequestTrackerState,
  groupId: string,
  requestedAt: number,
  outcome: { readonly sent: boolean },
): RequestTrackerState {
  if (outcome.sent || state.groups[groupId] !== requestedAt) return state;
  return { ...state, groups: without(state.groups, groupId) };
}
