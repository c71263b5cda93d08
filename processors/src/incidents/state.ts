import { fnv1a64 } from './hash.ts';
import { SEVERITIES } from './types.ts';
import type {
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
  SignalSource,
} from './types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export const DEFAULT_INCIDENTS_CONFIG: IncidentsConfig = Object.freeze({
  correlationWindowMs: 15 * MIN,
  resolveAfterClearedMs: 10 * MIN,
  maxIncidents: 500,
  resolvedTtlMs: 24 * HOUR,
  maxAgeMs: 48 * HOUR,
  rolloutLookbackMs: 30 * MIN,
  callTtlMs: 24 * HOUR,
  maxCallEdges: 10_000,
  maxRemembered: 2_000,
  maxSignalsPerIncident: 200,
  maxEvidencePerSignal: 10,
});

/** Sources whose signals are instants: their condition ends when they are observed. */
const POINT_SOURCES: ReadonlySet<SignalSource> = new Set(['event', 'error-group', 'rollout']);

export function workloadKey(w: ResourceRef): string {
  return w.kind + '/' + w.namespace + '/' + w.name;
}

export function signalIdentity(source: SignalSource, key: string): string {
  return source + '\n' + key;
}

/** Incident id: stable for the opening signal's source, key and event time. */
export function incidentId(source: SignalSource, key: string, ts: number): string {
  return 'inc-' + fnv1a64(source + '\n' + key + '\n' + String(ts));
}

export function severityRank(s: IncidentSeverity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(s);
}

function maxSeverity(a: IncidentSeverity, b: IncidentSeverity): IncidentSeverity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

function isLive(i: Incident): boolean {
  return i.status === 'open' || i.status === 'investigating';
}

/**
 * Warning events the node controller posts on a pod because its node failed: the pod's node is
 * the failure, so the signal is node-level (it joins, or starts, the node's incident) even before
 * the node's own NotReady state is established (SPEC §2: Ready not True for 1 min).
 */
const NODE_FAILURE_EVENT_REASONS: ReadonlySet<string> = new Set(['NodeNotReady']);

function isNodeLevel(s: Pick<Signal, 'source' | 'resource' | 'detail'>): boolean {
  if (s.source === 'node' || s.resource.kind === 'Node') return true;
  const reason = (s.detail as { reason?: unknown }).reason;
  return s.source === 'event' && typeof reason === 'string' && NODE_FAILURE_EVENT_REASONS.has(reason);
}

function nodeOf(s: Signal): string | null {
  if (s.node !== undefined) return s.node;
  return s.resource.kind === 'Node' ? s.resource.name : null;
}

function compareRef(a: ResourceRef, b: ResourceRef): number {
  const x = workloadKey(a);
  const y = workloadKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function insertSorted<T>(list: T[], item: T, cmp: (a: T, b: T) => number): void {
  let i = 0;
  while (i < list.length && cmp(list[i] as T, item) < 0) i++;
  if (i < list.length && cmp(list[i] as T, item) === 0) return;
  list.splice(i, 0, item);
}

export const cmpString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function copyRef(r: ResourceRef): ResourceRef {
  return { kind: r.kind, namespace: r.namespace, name: r.name };
}

function positionKey(e: EvidenceRef): string {
  return e.topic + '\n' + String(e.partition) + '\n' + e.offset;
}

interface CallEdge {
  workload: ResourceRef;
  lastSeen: number;
}

/**
 * Incidents as a pure fold (SPEC §6, bounds §9). `apply` folds one signal, `advance` moves event
 * time (auto-resolve, TTLs), `setStatus` applies a user command, `observeCall` feeds the service
 * call relation. Each returns the changes it made, in order: copies of upserted incidents and
 * deletions. No clock and no randomness: the same calls in the same order give the same changes.
 */
export class IncidentsState {
  readonly config: IncidentsConfig;
  private watermarkMs = -Infinity;
  /** By id, in order of opening. */
  private readonly incidents = new Map<string, Incident>();
  /** from workload key → (to workload key → edge). */
  private readonly calls = new Map<string, { from: ResourceRef; to: Map<string, CallEdge> }>();
  private callEdgeCount = 0;
  /** Recent rollouts per workload key, oldest first, in order of last update. */
  private readonly rollouts = new Map<string, Signal[]>();

  constructor(config: Partial<IncidentsConfig> = {}) {
    this.config = Object.freeze({ ...DEFAULT_INCIDENTS_CONFIG, ...config });
  }

  get watermark(): number {
    return this.watermarkMs;
  }

  get size(): number {
    return this.incidents.size;
  }

  get(id: string): Incident | undefined {
    const i = this.incidents.get(id);
    return i === undefined ? undefined : structuredClone(i);
  }

  /**
   * The incidents held (live, and resolved ones not expired yet), in order of opening, as held:
   * read them, never change them (the RCA context reads other incidents without copying them).
   */
  *held(live = false): IterableIterator<Readonly<Incident>> {
    for (const i of this.incidents.values()) if (!live || isLive(i)) yield i;
  }

  /** All incidents, in order of opening (copies). */
  list(): Incident[] {
    return [...this.incidents.values()].map((i) => structuredClone(i));
  }

  /** Workloads `from` was seen calling, sorted. */
  callees(from: ResourceRef): ResourceRef[] {
    const e = this.calls.get(workloadKey(from));
    if (e === undefined) return [];
    return [...e.to.values()].map((c) => copyRef(c.workload)).sort(compareRef);
  }

  /** Record that `from` calls `to` (seen at event time `ts`, e.g. from a log naming a Service). */
  observeCall(from: ResourceRef, to: ResourceRef, ts: number): boolean {
    const fk = workloadKey(from);
    const tk = workloadKey(to);
    if (fk === tk) return false;
    let entry = this.calls.get(fk);
    if (entry === undefined) {
      entry = { from: copyRef(from), to: new Map() };
      this.calls.set(fk, entry);
    }
    const edge = entry.to.get(tk);
    if (edge !== undefined) {
      if (ts > edge.lastSeen) edge.lastSeen = ts;
      return false;
    }
    entry.to.set(tk, { workload: copyRef(to), lastSeen: ts });
    this.callEdgeCount++;
    while (this.callEdgeCount > this.config.maxCallEdges) this.dropOldestEdge();
    return true;
  }

  private dropOldestEdge(): void {
    let best: { fk: string; tk: string; t: number } | undefined;
    for (const [fk, e] of this.calls)
      for (const [tk, c] of e.to)
        if (best === undefined || c.lastSeen < best.t) best = { fk, tk, t: c.lastSeen };
    if (best === undefined) return;
    this.removeEdge(best.fk, best.tk);
  }

  private removeEdge(fk: string, tk: string): void {
    const e = this.calls.get(fk);
    if (e === undefined || !e.to.delete(tk)) return;
    this.callEdgeCount--;
    if (e.to.size === 0) this.calls.delete(fk);
  }

  private linked(a: string, b: string): boolean {
    return this.calls.get(a)?.to.has(b) === true || this.calls.get(b)?.to.has(a) === true;
  }

  /** Fold one signal. */
  apply(signal: Signal): IncidentChange[] {
    if (signal.source === 'rollout') return this.applyRollout(signal);
    const id = signalIdentity(signal.source, signal.key);
    if (signal.cleared === true) {
      const out: IncidentChange[] = [];
      for (const inc of this.incidents.values()) {
        if (!isLive(inc)) continue;
        const s = inc.signals.find((x) => signalIdentity(x.source, x.key) === id);
        if (s === undefined || s.cleared) continue;
        s.cleared = true;
        s.clearedAt = signal.ts;
        this.addEvidence(s, signal.evidence);
        inc.updatedAt = Math.max(inc.updatedAt, signal.ts);
        out.push({ type: 'upserted', incident: structuredClone(inc) });
      }
      return out;
    }
    // A pressure signal is a hold, never an opening: it joins a live incident of its own
    // workload, else changes nothing.
    const hold = signal.source === 'pressure';
    const target = this.findTarget(signal, id, hold);
    if (target !== undefined) {
      const changed = this.fold(target, signal, id);
      return changed ? [{ type: 'upserted', incident: structuredClone(target) }] : [];
    }
    return hold ? [] : this.open(signal);
  }

  /**
   * The live incident within the window a signal joins: the one already holding it first, then
   * the most recently signalled. `sameWorkload`: only an incident of the signal's own workload
   * (a pressure signal), else one that holds it or shares topology with it.
   */
  private findTarget(signal: Signal, id: string, sameWorkload: boolean): Incident | undefined {
    const w = this.config.correlationWindowMs;
    const sw = signal.workload === undefined ? null : workloadKey(signal.workload);
    const sn = nodeOf(signal);
    const nodeLevel = isNodeLevel(signal);
    let best: Incident | undefined;
    let bestHolds = false;
    for (const inc of this.incidents.values()) {
      if (!isLive(inc) || signal.ts - inc.lastSignalAt > w) continue;
      const holds = inc.signals.some((x) => signalIdentity(x.source, x.key) === id);
      const joins = sameWorkload
        ? sw !== null && inc.workloads.some((x) => workloadKey(x) === sw)
        : holds || this.sharesTopology(inc, sw, sn, nodeLevel);
      if (!joins) continue;
      if (best === undefined || (holds && !bestHolds) || (holds === bestHolds && better(inc, best))) {
        best = inc;
        bestHolds = holds;
      }
    }
    return best;
  }

  private sharesTopology(inc: Incident, sw: string | null, sn: string | null, nodeLevel: boolean): boolean {
    if (sn !== null) {
      if (nodeLevel ? inc.nodes.includes(sn) : inc.failedNodes.includes(sn)) return true;
    }
    if (sw === null) return false;
    for (const w of inc.workloads) {
      const k = workloadKey(w);
      if (k === sw || this.linked(k, sw)) return true;
    }
    return false;
  }

  private open(signal: Signal): IncidentChange[] {
    const id = incidentId(signal.source, signal.key, signal.ts);
    if (this.incidents.has(id)) return []; // the same opening signal applied again
    const out: IncidentChange[] = [];
    while (this.incidents.size >= this.config.maxIncidents) {
      const oldest = this.incidents.keys().next().value as string;
      this.incidents.delete(oldest);
      out.push({ type: 'deleted', id: oldest, reason: 'cap' });
    }
    const inc: Incident = {
      id,
      title: titleOf(signal),
      status: 'open',
      severity: signal.severity,
      openedAt: signal.ts,
      lastSignalAt: signal.ts,
      updatedAt: signal.ts,
      resolvedAt: null,
      resolvedBy: null,
      statusChangedAt: null,
      workloads: [],
      nodes: [],
      failedNodes: [],
      namespaces: [],
      signals: [],
      omittedSignals: 0,
    };
    this.fold(inc, signal, signalIdentity(signal.source, signal.key));
    this.incidents.set(id, inc);
    out.push({ type: 'upserted', incident: structuredClone(inc) });
    return out;
  }

  /** Fold a (non-clear, non-rollout) signal into an incident; false if it changed nothing. */
  private fold(inc: Incident, signal: Signal, id: string): boolean {
    const existing = inc.signals.find((x) => signalIdentity(x.source, x.key) === id);
    const point = POINT_SOURCES.has(signal.source);
    if (existing !== undefined) {
      if (signal.ts <= existing.lastSeen && isReplay(existing, signal.evidence)) return false;
      existing.count++;
      existing.severity = maxSeverity(existing.severity, signal.severity);
      if (signal.ts < existing.firstSeen) existing.firstSeen = signal.ts;
      if (signal.ts >= existing.lastSeen) {
        existing.lastSeen = signal.ts;
        existing.detail = { ...signal.detail };
        existing.kind = signal.kind;
      }
      existing.cleared = point;
      existing.clearedAt = point ? existing.lastSeen : null;
      this.addEvidence(existing, signal.evidence);
    } else if (
      inc.signals.filter((s) => s.source !== 'rollout').length >= this.config.maxSignalsPerIncident
    ) {
      inc.omittedSignals++;
    } else {
      const s: IncidentSignal = {
        source: signal.source,
        key: signal.key,
        kind: signal.kind,
        severity: signal.severity,
        firstSeen: signal.ts,
        lastSeen: signal.ts,
        count: 1,
        cleared: point,
        clearedAt: point ? signal.ts : null,
        resource: copyRef(signal.resource),
        workload: signal.workload === undefined ? null : copyRef(signal.workload),
        node: nodeOf(signal),
        detail: { ...signal.detail },
        evidence: [],
      };
      this.addEvidence(s, signal.evidence);
      inc.signals.push(s);
      this.addTopology(inc, signal, s.firstSeen);
    }
    inc.severity = maxSeverity(inc.severity, signal.severity);
    if (signal.ts > inc.lastSignalAt) inc.lastSignalAt = signal.ts;
    if (signal.ts > inc.updatedAt) inc.updatedAt = signal.ts;
    return true;
  }

  private addTopology(inc: Incident, signal: Signal, ts: number): void {
    const n = nodeOf(signal);
    if (n !== null) {
      insertSorted(inc.nodes, n, cmpString);
      if (isNodeLevel(signal)) insertSorted(inc.failedNodes, n, cmpString);
    }
    if (signal.resource.namespace !== '') insertSorted(inc.namespaces, signal.resource.namespace, cmpString);
    if (signal.workload !== undefined) {
      const before = inc.workloads.length;
      insertSorted(inc.workloads, copyRef(signal.workload), compareRef);
      if (inc.workloads.length > before) this.attachRollouts(inc, workloadKey(signal.workload), ts);
    }
  }

  /** Attach remembered rollouts of a workload that joined an incident at `ts`. */
  private attachRollouts(inc: Incident, wk: string, ts: number): void {
    for (const r of this.rollouts.get(wk) ?? []) {
      if (r.ts > ts || ts - r.ts > this.config.rolloutLookbackMs) continue;
      this.attachRollout(inc, r);
    }
  }

  private attachRollout(inc: Incident, r: Signal): boolean {
    const id = signalIdentity(r.source, r.key);
    const existing = inc.signals.find((x) => signalIdentity(x.source, x.key) === id);
    if (existing !== undefined) {
      if (r.ts <= existing.lastSeen && isReplay(existing, r.evidence)) return false;
      existing.count++;
      if (r.ts > existing.lastSeen) existing.lastSeen = r.ts;
      existing.clearedAt = existing.lastSeen;
      this.addEvidence(existing, r.evidence);
    } else {
      const s: IncidentSignal = {
        source: 'rollout',
        key: r.key,
        kind: r.kind,
        severity: r.severity,
        firstSeen: r.ts,
        lastSeen: r.ts,
        count: 1,
        cleared: true,
        clearedAt: r.ts,
        resource: copyRef(r.resource),
        workload: r.workload === undefined ? null : copyRef(r.workload),
        node: null,
        detail: { ...r.detail },
        evidence: [],
      };
      this.addEvidence(s, r.evidence);
      inc.signals.push(s);
    }
    if (r.ts > inc.updatedAt) inc.updatedAt = r.ts;
    return true;
  }

  private applyRollout(signal: Signal): IncidentChange[] {
    if (signal.workload === undefined || signal.cleared === true) return [];
    const wk = workloadKey(signal.workload);
    const list = (this.rollouts.get(wk) ?? []).filter((r) => r.key !== signal.key);
    list.push(structuredClone(signal));
    list.sort((a, b) => a.ts - b.ts);
    while (list.length > 3) list.shift();
    this.rollouts.delete(wk);
    this.rollouts.set(wk, list);
    while (this.rollouts.size > this.config.maxRemembered) {
      this.rollouts.delete(this.rollouts.keys().next().value as string);
    }
    const out: IncidentChange[] = [];
    for (const inc of this.incidents.values()) {
      if (!isLive(inc) || signal.ts - inc.lastSignalAt > this.config.correlationWindowMs) continue;
      if (!inc.workloads.some((w) => workloadKey(w) === wk)) continue;
      if (this.attachRollout(inc, signal)) out.push({ type: 'upserted', incident: structuredClone(inc) });
    }
    return out;
  }

  private addEvidence(s: IncidentSignal, evidence: readonly EvidenceRef[]): void {
    for (const e of evidence) {
      const k = positionKey(e);
      if (s.evidence.some((x) => positionKey(x) === k)) continue;
      s.evidence.push({ ...e });
    }
    // Equal times order by content before position: positions of the same input may differ
    // between runs (see Book.list in ../rca/analyze.ts); which evidence is kept must not.
    s.evidence.sort(
      (a, b) => a.ts - b.ts || cmpString(a.excerpt, b.excerpt) || cmpString(positionKey(a), positionKey(b)),
    );
    while (s.evidence.length > this.config.maxEvidencePerSignal) s.evidence.shift();
  }

  /** A user command: set the status of an incident at event time `ts`. Unknown id → no change. */
  setStatus(id: string, status: IncidentStatus, ts: number): IncidentChange[] {
    const inc = this.incidents.get(id);
    if (inc === undefined || inc.status === status) return [];
    inc.status = status;
    inc.statusChangedAt = ts;
    if (ts > inc.updatedAt) inc.updatedAt = ts;
    if (status === 'resolved' || status === 'dismissed') {
      inc.resolvedAt = ts;
      inc.resolvedBy = 'user';
    } else {
      inc.resolvedAt = null;
      inc.resolvedBy = null;
    }
    return [{ type: 'upserted', incident: structuredClone(inc) }];
  }

  /** Move event time to `watermark` (never backwards): auto-resolve, then TTL deletions. */
  advance(watermark: number): IncidentChange[] {
    if (!(watermark > this.watermarkMs)) return [];
    this.watermarkMs = watermark;
    const c = this.config;
    const out: IncidentChange[] = [];
    for (const inc of [...this.incidents.values()]) {
      if (isLive(inc)) {
        const at = resolvableAt(inc);
        if (at !== null && watermark >= at + c.resolveAfterClearedMs) {
          inc.status = 'resolved';
          inc.resolvedAt = at + c.resolveAfterClearedMs;
          inc.resolvedBy = 'auto';
          if (inc.resolvedAt > inc.updatedAt) inc.updatedAt = inc.resolvedAt;
          out.push({ type: 'upserted', incident: structuredClone(inc) });
        }
      }
      if (watermark >= inc.openedAt + c.maxAgeMs) {
        this.incidents.delete(inc.id);
        out.push({ type: 'deleted', id: inc.id, reason: 'max-age' });
      } else if (inc.resolvedAt !== null && watermark >= inc.resolvedAt + c.resolvedTtlMs) {
        this.incidents.delete(inc.id);
        out.push({ type: 'deleted', id: inc.id, reason: 'resolved-ttl' });
      }
    }
    for (const [fk, e] of [...this.calls])
      for (const [tk, edge] of [...e.to])
        if (watermark - edge.lastSeen >= c.callTtlMs) this.removeEdge(fk, tk);
    for (const [wk, list] of [...this.rollouts]) {
      const keep = list.filter((r) => watermark - r.ts < c.rolloutLookbackMs);
      if (keep.length === 0) this.rollouts.delete(wk);
      else if (keep.length !== list.length) this.rollouts.set(wk, keep);
    }
    return out;
  }

  /** The whole state as keyed records (one per incident, per caller, per rolled-out workload). */
  toRecords(): IncidentsRecord[] {
    const wm = Number.isFinite(this.watermarkMs) ? this.watermarkMs : null;
    const out: IncidentsRecord[] = [{ key: 'meta', type: 'meta', watermark: wm }];
    for (const inc of this.incidents.values())
      out.push({ key: 'incident:' + inc.id, type: 'incident', incident: structuredClone(inc) });
    for (const [fk, e] of this.calls)
      out.push({
        key: 'calls:' + fk,
        type: 'calls',
        from: copyRef(e.from),
        to: [...e.to.values()].map((c) => ({ workload: copyRef(c.workload), lastSeen: c.lastSeen })),
      });
    for (const [wk, list] of this.rollouts)
      out.push({ key: 'rollouts:' + wk, type: 'rollouts', rollouts: structuredClone(list) });
    return out;
  }

  /** Rebuild a state from `toRecords` output (any order; JSON round-trip safe). */
  static fromRecords(
    records: readonly IncidentsRecord[],
    config: Partial<IncidentsConfig> = {},
  ): IncidentsState {
    const st = new IncidentsState(config);
    const incs: Incident[] = [];
    for (const r of records) {
      if (r.type === 'meta') st.watermarkMs = r.watermark ?? -Infinity;
      else if (r.type === 'incident') incs.push(structuredClone(r.incident));
      else if (r.type === 'calls') for (const t of r.to) st.observeCall(r.from, t.workload, t.lastSeen);
      else if (r.type === 'rollouts') for (const s of r.rollouts) st.rememberRollout(s);
    }
    incs.sort((a, b) => a.openedAt - b.openedAt || cmpString(a.id, b.id));
    for (const i of incs) st.incidents.set(i.id, i);
    return st;
  }

  private rememberRollout(s: Signal): void {
    if (s.workload === undefined) return;
    const wk = workloadKey(s.workload);
    const list = this.rollouts.get(wk) ?? [];
    list.push(structuredClone(s));
    list.sort((a, b) => a.ts - b.ts);
    this.rollouts.set(wk, list);
  }
}

function better(a: Incident, b: Incident): boolean {
  if (a.lastSignalAt !== b.lastSignalAt) return a.lastSignalAt > b.lastSignalAt;
  if (a.openedAt !== b.openedAt) return a.openedAt < b.openedAt;
  return a.id < b.id;
}

/** Same ts or older and every position already held: a re-applied record, harmless. */
function isReplay(s: IncidentSignal, evidence: readonly EvidenceRef[]): boolean {
  if (evidence.length === 0) return false;
  return evidence.every((e) => s.evidence.some((x) => positionKey(x) === positionKey(e)));
}

/**
 * When the incident's conditions all ended: the latest clearing (or the user's reopening), or
 * null while any non-change signal is still active.
 */
function resolvableAt(inc: Incident): number | null {
  let at = -Infinity;
  for (const s of inc.signals) {
    if (s.source === 'rollout') continue;
    if (!s.cleared || s.clearedAt === null) return null;
    if (s.clearedAt > at) at = s.clearedAt;
  }
  if (at === -Infinity) return null;
  if (inc.statusChangedAt !== null && inc.statusChangedAt > at) at = inc.statusChangedAt;
  return at;
}

function titleOf(s: Signal): string {
  // A node-level signal names its node: a pod's NodeNotReady event opens the node's incident.
  const node = isNodeLevel(s) ? nodeOf(s) : null;
  const what: ResourceRef =
    node !== null ? { kind: 'Node', namespace: '', name: node } : (s.workload ?? s.resource);
  const where = what.namespace === '' ? what.name : what.namespace + '/' + what.name;
  const reason = s.detail.reason ?? s.detail.title ?? s.detail.metric;
  const base = s.kind + ' ' + what.kind + ' ' + where;
  const t = reason === undefined ? base : base + ': ' + reason;
  return t.length > 200 ? t.slice(0, 200) : t;
}
