/**
 * Recommendations (SPEC §8, bounds §9) as a pure fold. Inputs — metric samples, container
 * requests/limits, HPA status, status commands, watermark advances — mutate the state and return
 * the recommendation changes they caused (upserts and deletes) plus the state keys whose records
 * changed. Nothing reads a clock: time is the largest event time seen (the watermark).
 *
 * Evaluation: an input marks its subject (a container, an HPA, a node, CoreDNS, a GC target)
 * dirty; when the watermark enters a new `evaluateEveryMs` slot (or on `evaluateNow`), every dirty
 * subject and every subject with an open recommendation is evaluated at the watermark, in key
 * order. A condition that holds upserts its recommendation (same id, updated in place when
 * anything but `updatedAt` differs); one that stops holding closes it; closed ones are deleted
 * `closedRetentionMs` after closing; at most `maxRecommendations` are kept.
 */
import {
  DEFAULT_RECOMMENDATIONS_CONFIG,
  RECOMMENDATIONS_RESTORE_INVALID,
  recommendationsError,
  resolveRecommendationsConfig,
} from './config.ts';
import type { RecommendationsConfig } from './config.ts';
import { addSample, hourOf, pruneBefore, quantile, windowFromJSON, windowToJSON } from './histogram.ts';
import { encodeContainerRecord } from './container-record.ts';
import type { HourJSON, QuantileResult, WindowHistogram } from './histogram.ts';
import {
  CACHE_HIT_BELOW,
  GC_GO_ABOVE_S,
  GC_JVM_ABOVE_S,
  GIB,
  IDLE_NODE_BELOW,
  MIB,
  NODE_MEMORY_ABOVE,
  NXDOMAIN_ABOVE,
  OVER_PROVISIONED_BELOW,
  UNDER_PROVISIONED_ABOVE,
  duration,
  fmt,
  iso,
  kubectlPatch,
  ndotsPatch,
  nest,
  pct,
  provisioning,
  ratio,
  recommendationId,
  resourcesPatch,
  round9,
  suggestCpuMilli,
  suggestMemoryMib,
  suggestedMaxReplicas,
} from './rules.ts';
import type { ResourcePatch } from './rules.ts';
import type {
  ContainerResources,
  Evidence,
  HpaObservation,
  MetricSample,
  Recommendation,
  RecommendationChange,
  RecommendationSeverity,
  RecommendationStatus,
  RecommendationTarget,
  RecommendationType,
  Savings,
  StatusCommand,
  StepResult,
  WorkloadRef,
} from './types.ts';
import { RECOMMENDATION_STATUSES } from './types.ts';

const MINUTE = 60_000;

interface ContainerEntry {
  readonly workload: WorkloadRef;
  readonly container: string;
  spec: ContainerResources | null;
  readonly cpu: WindowHistogram;
  readonly memory: WindowHistogram;
  lastTs: number;
  seq: number;
}

interface HpaEntry {
  hpa: HpaObservation;
  ts: number;
  atMaxSince: number | null;
  atMaxCount: number;
  atMinSince: number | null;
  atMinCount: number;
  seq: number;
}

interface Latest {
  value: number;
  ts: number;
}

interface NodeEntry {
  readonly name: string;
  /** Minute number → [sum, count] of CPU utilisation samples. */
  readonly minutes: Map<number, [number, number]>;
  firstCpuTs: number | null;
  lastCpuTs: number | null;
  memory: Latest | null;
  lastTs: number;
  seq: number;
}

interface GcPod {
  runtime: 'go' | 'jvm';
  value: number;
  ts: number;
}

interface GcEntry {
  readonly target: RecommendationTarget;
  readonly pods: Map<string, GcPod>;
  lastTs: number;
  seq: number;
}

interface RecEntry {
  rec: Recommendation;
  readonly subject: string;
}

export interface RecommendationsState {
  readonly config: RecommendationsConfig;
  watermark: number;
  evalSlot: number;
  /** The hour up to which time-based eviction ran. */
  sweptHour: number;
  seq: number;
  readonly containers: Map<string, ContainerEntry>;
  readonly hpas: Map<string, HpaEntry>;
  readonly nodes: Map<string, NodeEntry>;
  dns: { nxdomain: Latest | null; cacheHit: Latest | null };
  readonly gc: Map<string, GcEntry>;
  readonly recs: Map<string, RecEntry>;
  readonly dirty: Set<string>;
  readonly changedKeys: Set<string>;
}

export const META_KEY = 'meta';
export const DNS_KEY = 'dns';
const REC_PREFIX = 'rec:';

export function containerKey(w: WorkloadRef, container: string): string {
  return `c:${w.namespace}/${w.kind}/${w.name}/${container}`;
}
export function hpaKey(namespace: string, name: string): string {
  return `h:${namespace}/${name}`;
}
export function nodeKey(name: string): string {
  return `n:${name}`;
}
function gcKey(t: RecommendationTarget): string {
  return `g:${t.namespace ?? ''}/${t.kind}/${t.name}`;
}
export function recStateKey(id: string): string {
  return REC_PREFIX + id;
}

export function createRecommendationsState(
  config: Partial<RecommendationsConfig> = {},
): RecommendationsState {
  return {
    config: resolveRecommendationsConfig(config),
    watermark: -Infinity,
    evalSlot: -Infinity,
    sweptHour: -Infinity,
    seq: 0,
    containers: new Map(),
    hpas: new Map(),
    nodes: new Map(),
    dns: { nxdomain: null, cacheHit: null },
    gc: new Map(),
    recs: new Map(),
    dirty: new Set(),
    changedKeys: new Set(),
  };
}

// ---------------------------------------------------------------------------------------------
// Inputs

function finish(state: RecommendationsState, changes: RecommendationChange[], ts: number | null): StepResult {
  if (ts !== null && ts > state.watermark) {
    state.watermark = ts;
    state.changedKeys.add(META_KEY);
  }
  if (
    Number.isFinite(state.watermark) &&
    Math.floor(state.watermark / state.config.evaluateEveryMs) > state.evalSlot
  )
    runEvaluation(state, changes);
  const stateKeys = [...state.changedKeys].sort();
  state.changedKeys.clear();
  return { changes, stateKeys };
}

function markDirty(state: RecommendationsState, key: string): void {
  state.changedKeys.add(key);
  if (!state.dirty.has(key)) {
    state.dirty.add(key);
    state.changedKeys.add(META_KEY);
  }
}

/** Moves the entry to the back of its map's eviction order. */
function touch<E extends { seq: number }>(
  state: RecommendationsState,
  map: Map<string, E>,
  key: string,
  e: E,
): void {
  map.delete(key);
  e.seq = ++state.seq;
  map.set(key, e);
  state.changedKeys.add(META_KEY);
}

/** Evicts the least recently touched entries beyond `cap`; their subjects become dirty (their recommendations close). */
function enforceCap<E>(state: RecommendationsState, map: Map<string, E>, cap: number): void {
  while (map.size > cap) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
    markDirty(state, oldest);
  }
}

const finiteTs = (ts: number): boolean => Number.isFinite(ts);

function getContainer(
  state: RecommendationsState,
  w: WorkloadRef,
  container: string,
): [string, ContainerEntry] {
  const key = containerKey(w, container);
  let e = state.containers.get(key);
  if (e === undefined) {
    e = {
      workload: { kind: w.kind, namespace: w.namespace, name: w.name },
      container,
      spec: null,
      cpu: new Map(),
      memory: new Map(),
      lastTs: -Infinity,
      seq: 0,
    };
  }
  touch(state, state.containers, key, e);
  enforceCap(state, state.containers, state.config.maxContainers);
  return [key, e];
}

function windowStartHour(state: RecommendationsState, now: number): number {
  return hourOf(now) - state.config.windowHours + 1;
}

/**
 * One metric sample (SPEC §1). `workload` is the sample's pod's workload (SPEC §2), resolved by
 * the caller: container usage without it is ignored; GC pauses without it target the pod. Names
 * outside the vocabulary this fold uses, non-finite values or times are ignored.
 */
export function observeMetric(
  state: RecommendationsState,
  sample: MetricSample,
  workload?: WorkloadRef,
): StepResult {
  const { name, value, ts } = sample;
  const labels = sample.labels ?? {};
  if (!finiteTs(ts) || !Number.isFinite(value)) return finish(state, [], null);
  switch (name) {
    case 'cpu_usage_cores':
    case 'memory_working_set_bytes': {
      const container = labels['container'];
      if (workload === undefined || container === undefined || container === '' || container === 'POD') break;
      const now = Math.max(state.watermark, ts);
      if (hourOf(ts) < windowStartHour(state, now)) break;
      const [key, e] = getContainer(state, workload, container);
      addSample(name === 'cpu_usage_cores' ? e.cpu : e.memory, ts, value);
      if (ts > e.lastTs) e.lastTs = ts;
      markDirty(state, key);
      break;
    }
    case 'node_cpu_utilisation':
    case 'node_memory_utilisation': {
      const node = labels['node'];
      if (node === undefined || node === '') break;
      const key = nodeKey(node);
      let e = state.nodes.get(key);
      if (e === undefined)
        e = {
          name: node,
          minutes: new Map(),
          firstCpuTs: null,
          lastCpuTs: null,
          memory: null,
          lastTs: ts,
          seq: 0,
        };
      touch(state, state.nodes, key, e);
      enforceCap(state, state.nodes, state.config.maxNodes);
      if (ts > e.lastTs) e.lastTs = ts;
      if (name === 'node_memory_utilisation') {
        if (e.memory === null || ts >= e.memory.ts) e.memory = { value, ts };
      } else {
        if (e.lastCpuTs !== null && ts - e.lastCpuTs > state.config.idleWindowMs) {
          // A gap longer than the window: the node's CPU history starts again.
          e.minutes.clear();
          e.firstCpuTs = null;
        }
        const minute = Math.floor(ts / MINUTE);
        const m = e.minutes.get(minute);
        if (m === undefined) e.minutes.set(minute, [value, 1]);
        else {
          m[0] += value;
          m[1] += 1;
        }
        if (e.firstCpuTs === null || ts < e.firstCpuTs) e.firstCpuTs = ts;
        if (e.lastCpuTs === null || ts > e.lastCpuTs) e.lastCpuTs = ts;
        const keepFrom = Math.floor(Math.max(state.watermark, ts) / MINUTE) - idleMinutes(state) + 1;
        for (const k of [...e.minutes.keys()]) if (k < keepFrom) e.minutes.delete(k);
      }
      markDirty(state, key);
      break;
    }
    case 'coredns_nxdomain_ratio':
    case 'coredns_cache_hit_ratio': {
      const field = name === 'coredns_nxdomain_ratio' ? 'nxdomain' : 'cacheHit';
      const cur = state.dns[field];
      if (cur === null || ts >= cur.ts) state.dns[field] = { value, ts };
      markDirty(state, DNS_KEY);
      break;
    }
    case 'gc_pause_seconds': {
      const runtime = labels['runtime'];
      const namespace = labels['namespace'];
      const pod = labels['pod'];
      if ((runtime !== 'go' && runtime !== 'jvm') || namespace === undefined || pod === undefined) break;
      const target: RecommendationTarget =
        workload === undefined
          ? { kind: 'Pod', namespace, name: pod }
          : { kind: workload.kind, namespace: workload.namespace, name: workload.name };
      const key = gcKey(target);
      let e = state.gc.get(key);
      if (e === undefined) e = { target, pods: new Map(), lastTs: ts, seq: 0 };
      touch(state, state.gc, key, e);
      enforceCap(state, state.gc, state.config.maxGcTargets);
      if (ts > e.lastTs) e.lastTs = ts;
      const cur = e.pods.get(pod);
      if (cur === undefined || ts >= cur.ts) {
        e.pods.delete(pod);
        e.pods.set(pod, { runtime, value, ts });
      }
      while (e.pods.size > state.config.maxGcPodsPerTarget)
        e.pods.delete(e.pods.keys().next().value as string);
      markDirty(state, key);
      break;
    }
    default:
      break;
  }
  return finish(state, [], ts);
}

/** A container's requests and limits (from its pod spec), observed at event time `ts`. */
export function observeSpec(
  state: RecommendationsState,
  workload: WorkloadRef,
  container: string,
  resources: ContainerResources,
  ts: number,
): StepResult {
  if (!finiteTs(ts)) return finish(state, [], null);
  const [key, e] = getContainer(state, workload, container);
  e.spec = { ...resources };
  markDirty(state, key);
  return finish(state, [], ts);
}

/** The container (or its workload) is gone: its statistics are dropped and its recommendation closes. */
export function forgetContainer(
  state: RecommendationsState,
  workload: WorkloadRef,
  container: string,
  ts: number,
): StepResult {
  const key = containerKey(workload, container);
  if (state.containers.delete(key)) markDirty(state, key);
  return finish(state, [], finiteTs(ts) ? ts : null);
}

/** An HPA's current status (from a watch event). */
export function observeHpa(state: RecommendationsState, hpa: HpaObservation, ts: number): StepResult {
  if (!finiteTs(ts)) return finish(state, [], null);
  const key = hpaKey(hpa.namespace, hpa.name);
  let e = state.hpas.get(key);
  if (e === undefined)
    e = { hpa, ts, atMaxSince: null, atMaxCount: 0, atMinSince: null, atMinCount: 0, seq: 0 };
  if (ts >= e.ts) {
    e.hpa = { ...hpa, target: { ...hpa.target } };
    e.ts = ts;
    if (hpa.current === hpa.max) {
      e.atMaxSince ??= ts;
      e.atMaxCount += 1;
    } else {
      e.atMaxSince = null;
      e.atMaxCount = 0;
    }
    if (hpa.current === hpa.min && hpa.min > 1) {
      e.atMinSince ??= ts;
      e.atMinCount += 1;
    } else {
      e.atMinSince = null;
      e.atMinCount = 0;
    }
  }
  touch(state, state.hpas, key, e);
  enforceCap(state, state.hpas, state.config.maxHpas);
  markDirty(state, key);
  return finish(state, [], ts);
}

/** The HPA was deleted: its recommendations close. */
export function forgetHpa(
  state: RecommendationsState,
  namespace: string,
  name: string,
  ts: number,
): StepResult {
  const key = hpaKey(namespace, name);
  if (state.hpas.delete(key)) markDirty(state, key);
  return finish(state, [], finiteTs(ts) ? ts : null);
}

/**
 * A status command (accept, dismiss, mark applied, reopen). Unknown ids and unchanged statuses
 * change nothing. The status survives recomputation; see docs/recommendations.md for reopening.
 */
export function applyCommand(state: RecommendationsState, cmd: StatusCommand): StepResult {
  const changes: RecommendationChange[] = [];
  const entry = state.recs.get(cmd.recommendationId);
  const ok = finiteTs(cmd.ts) && (RECOMMENDATION_STATUSES as readonly string[]).includes(cmd.status);
  if (ok && entry !== undefined && entry.rec.status !== cmd.status) {
    entry.rec = { ...entry.rec, status: cmd.status, statusChangedAt: cmd.ts, updatedAt: cmd.ts };
    state.changedKeys.add(recStateKey(entry.rec.id));
    changes.push({ type: 'upsert', recommendation: entry.rec });
  }
  return finish(state, changes, ok ? cmd.ts : null);
}

/** Moves the watermark (e.g. on an idle partition's time advance); evaluates when a slot is entered. */
export function advance(state: RecommendationsState, ts: number): StepResult {
  return finish(state, [], finiteTs(ts) ? ts : null);
}

/** Evaluates now, at the watermark, whatever the slot (end of a replay). */
export function evaluateNow(state: RecommendationsState): StepResult {
  const changes: RecommendationChange[] = [];
  if (Number.isFinite(state.watermark)) runEvaluation(state, changes);
  return finish(state, changes, null);
}

/** All recommendations, by id. */
export function recommendations(state: RecommendationsState): Recommendation[] {
  return [...state.recs.values()].map((e) => e.rec).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Derived {
  readonly type: RecommendationType;
  readonly target: RecommendationTarget;
  readonly severity: RecommendationSeverity;
  readonly title: string;
  readonly rationale: string;
  readonly patch: string | null;
  readonly command: string | null;
  readonly savings: Savings | null;
  readonly evidence: Evidence;
}

function idleMinutes(state: RecommendationsState): number {
  return Math.max(1, Math.round(state.config.idleWindowMs / MINUTE));
}

function runEvaluation(state: RecommendationsState, changes: RecommendationChange[]): void {
  const now = state.watermark;
  state.evalSlot = Math.floor(now / state.config.evaluateEveryMs);
  state.changedKeys.add(META_KEY);
  sweep(state, now);
  const subjects = new Set(state.dirty);
  for (const e of state.recs.values()) if (e.rec.closedAt === null) subjects.add(e.subject);
  state.dirty.clear();
  const replicas = hpaReplicasByWorkload(state);
  for (const subject of [...subjects].sort()) {
    for (const [type, target, derived] of evaluateSubject(state, subject, now, replicas))
      reconcile(state, changes, subject, recommendationId(type, target), derived, now);
  }
  const dropBefore = now - state.config.closedRetentionMs;
  for (const [id, e] of [...state.recs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (e.rec.closedAt !== null && e.rec.closedAt <= dropBefore) {
      state.recs.delete(id);
      state.changedKeys.add(recStateKey(id));
      changes.push({ type: 'delete', id, reason: 'expired' });
    }
  }
}

/** Once per event-time hour: drops expired histogram hours, stale nodes, GC pods and emptied entries. */
function sweep(state: RecommendationsState, now: number): void {
  const hour = hourOf(now);
  if (hour <= state.sweptHour) return;
  state.sweptHour = hour;
  const minHour = windowStartHour(state, now);
  for (const [key, e] of state.containers) {
    const before = e.cpu.size + e.memory.size;
    pruneBefore(e.cpu, minHour);
    pruneBefore(e.memory, minHour);
    if (e.cpu.size + e.memory.size !== before) state.changedKeys.add(key);
    if (e.cpu.size === 0 && e.memory.size === 0 && e.spec === null) {
      state.containers.delete(key);
      markDirty(state, key);
    }
  }
  const staleBefore = now - Math.max(state.config.staleAfterMs, state.config.idleWindowMs);
  for (const [key, e] of state.nodes) {
    if (e.lastTs < staleBefore) {
      state.nodes.delete(key);
      markDirty(state, key);
    }
  }
  for (const [key, e] of state.gc) {
    let changed = false;
    for (const [pod, p] of [...e.pods]) {
      if (p.ts < now - state.config.staleAfterMs) {
        e.pods.delete(pod);
        changed = true;
      }
    }
    if (e.pods.size === 0) {
      state.gc.delete(key);
      markDirty(state, key);
    } else if (changed) state.changedKeys.add(key);
  }
}

function hpaReplicasByWorkload(state: RecommendationsState): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of state.hpas.values())
    m.set(`${e.hpa.namespace}/${e.hpa.target.kind}/${e.hpa.target.name}`, e.hpa.current);
  return m;
}

type Evaluated = [RecommendationType, RecommendationTarget, Derived | null];

function evaluateSubject(
  state: RecommendationsState,
  subject: string,
  now: number,
  replicas: Map<string, number>,
): Evaluated[] {
  const existing = (type: RecommendationType): Evaluated[] =>
    [...state.recs.values()]
      .filter((e) => e.subject === subject && e.rec.type === type)
      .map((e): Evaluated => [type, e.rec.target, null]);
  if (subject.startsWith('c:')) {
    const e = state.containers.get(subject);
    if (e === undefined) return existing('rightsizing');
    const target: RecommendationTarget = { ...e.workload, container: e.container };
    return [['rightsizing', target, rightsizing(state, e, now, replicas)]];
  }
  if (subject.startsWith('h:')) {
    const e = state.hpas.get(subject);
    if (e === undefined) return [...existing('hpa-at-max'), ...existing('hpa-min-high')];
    const target: RecommendationTarget = {
      kind: 'HorizontalPodAutoscaler',
      namespace: e.hpa.namespace,
      name: e.hpa.name,
    };
    return [
      ['hpa-at-max', target, hpaAtMax(e, target)],
      ['hpa-min-high', target, hpaMinHigh(e, target)],
    ];
  }
  if (subject.startsWith('n:')) {
    const e = state.nodes.get(subject);
    if (e === undefined) return [...existing('idle-node'), ...existing('node-memory-pressure')];
    const target: RecommendationTarget = { kind: 'Node', namespace: null, name: e.name };
    return [
      ['idle-node', target, idleNode(state, e, target, now)],
      ['node-memory-pressure', target, nodeMemory(state, e, target, now)],
    ];
  }
  if (subject === DNS_KEY) {
    const target: RecommendationTarget = { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' };
    return [
      ['coredns-nxdomain', target, nxdomain(state, target, now)],
      ['coredns-cache', target, dnsCache(state, target, now)],
    ];
  }
  if (subject.startsWith('g:')) {
    const e = state.gc.get(subject);
    if (e === undefined) return existing('gc-pauses');
    return [['gc-pauses', e.target, gcPauses(state, e, now)]];
  }
  return [];
}

const RANK: Record<RecommendationSeverity, number> = { high: 0, medium: 1, low: 2 };

/** Negative when a ranks before b (kept first under the cap): open, severity, older, id. */
function compareRank(a: Recommendation, b: Recommendation): number {
  const ca = a.closedAt === null ? 0 : 1;
  const cb = b.closedAt === null ? 0 : 1;
  if (ca !== cb) return ca - cb;
  if (RANK[a.severity] !== RANK[b.severity]) return RANK[a.severity] - RANK[b.severity];
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function reconcile(
  state: RecommendationsState,
  changes: RecommendationChange[],
  subject: string,
  id: string,
  d: Derived | null,
  now: number,
): void {
  const entry = state.recs.get(id);
  if (d === null) {
    if (entry !== undefined && entry.rec.closedAt === null) {
      entry.rec = { ...entry.rec, closedAt: now, updatedAt: now };
      state.changedKeys.add(recStateKey(id));
      changes.push({ type: 'upsert', recommendation: entry.rec });
    }
    return;
  }
  if (entry !== undefined) {
    const old = entry.rec;
    const reopened = old.closedAt !== null;
    const status: RecommendationStatus = reopened && old.status === 'applied' ? 'open' : old.status;
    const next: Recommendation = {
      ...old,
      ...d,
      status,
      statusChangedAt: status === old.status ? old.statusChangedAt : now,
      closedAt: null,
      updatedAt: old.updatedAt,
    };
    if (JSON.stringify(next) === JSON.stringify(old)) return;
    entry.rec = { ...next, updatedAt: now };
    state.changedKeys.add(recStateKey(id));
    changes.push({ type: 'upsert', recommendation: entry.rec });
    return;
  }
  const rec: Recommendation = {
    id,
    type: d.type,
    target: d.target,
    severity: d.severity,
    title: d.title,
    rationale: d.rationale,
    patch: d.patch,
    command: d.command,
    savings: d.savings,
    status: 'open',
    statusChangedAt: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    evidence: d.evidence,
  };
  if (state.recs.size >= state.config.maxRecommendations) {
    let worst: Recommendation | null = null;
    for (const e of state.recs.values()) if (worst === null || compareRank(e.rec, worst) > 0) worst = e.rec;
    if (worst === null || compareRank(rec, worst) > 0) return;
    state.recs.delete(worst.id);
    state.changedKeys.add(recStateKey(worst.id));
    changes.push({ type: 'delete', id: worst.id, reason: 'cap' });
  }
  state.recs.set(id, { rec, subject });
  state.changedKeys.add(recStateKey(id));
  changes.push({ type: 'upsert', recommendation: rec });
}

// --- rules -----------------------------------------------------------------------------------

interface ResourceVerdict {
  readonly q: QuantileResult;
  readonly request: number;
  readonly ratio: number;
  readonly direction: 'over' | 'under';
}

function verdict(state: RecommendationsState, w: WindowHistogram, request: number | null, now: number) {
  if (request === null || !(request > 0)) return null;
  const q = quantile(w, state.config.quantile, windowStartHour(state, now));
  if (q === null || q.lastTs - q.firstTs < state.config.minCoverageMs) return null;
  const r = ratio(q.value, request);
  const direction = provisioning(r);
  return direction === null ? null : ({ q, request, ratio: r, direction } satisfies ResourceVerdict);
}

const cores = (x: number): string => `${fmt(x)} ${x === 1 ? 'core' : 'cores'}`;

const bandText = (v: ResourceVerdict): string =>
  v.direction === 'over'
    ? `over-provisioned, below ${OVER_PROVISIONED_BELOW.toFixed(2)}`
    : `under-provisioned, above ${UNDER_PROVISIONED_ABOVE.toFixed(2)}`;

function rightsizing(
  state: RecommendationsState,
  e: ContainerEntry,
  now: number,
  replicasByWorkload: Map<string, number>,
): Derived | null {
  if (e.spec === null) return null;
  const cpu = verdict(state, e.cpu, e.spec.cpuRequest, now);
  const mem = verdict(state, e.memory, e.spec.memoryRequest, now);
  if (cpu === null && mem === null) return null;
  const w = e.workload;
  const patch: { cpu?: { request: number; limit: number }; memory?: { request: number; limit: number } } = {};
  const found: string[] = [];
  const used: string[] = [];
  const values: Record<string, number> = {};
  let from = Infinity;
  let to = -Infinity;
  let samples = 0;
  let cpuFreed = 0;
  let memFreed = 0;
  if (cpu !== null) {
    patch.cpu = suggestCpuMilli(cpu.q.value);
    found.push(`CPU ${cpu.direction}-provisioned`);
    used.push(
      `p95 ${cores(cpu.q.value)} of CPU against a request of ${cores(cpu.request)} (ratio ${fmt(cpu.ratio)}: ${bandText(cpu)})`,
    );
    Object.assign(values, {
      cpuP95: cpu.q.value,
      cpuRequest: cpu.request,
      cpuRatio: cpu.ratio,
      cpuSamples: cpu.q.samples,
      cpuSuggestedRequestMilli: patch.cpu.request,
      cpuSuggestedLimitMilli: patch.cpu.limit,
    });
    from = Math.min(from, cpu.q.firstTs);
    to = Math.max(to, cpu.q.lastTs);
    samples += cpu.q.samples;
    cpuFreed = Math.max(0, round9(cpu.request - patch.cpu.request / 1000));
  }
  if (mem !== null) {
    patch.memory = suggestMemoryMib(mem.q.value);
    found.push(`memory ${mem.direction}-provisioned`);
    used.push(
      `p95 ${fmt(mem.q.value / MIB, 1)} MiB of memory against a request of ${fmt(mem.request / MIB, 1)} MiB (ratio ${fmt(mem.ratio)}: ${bandText(mem)})`,
    );
    Object.assign(values, {
      memoryP95: mem.q.value,
      memoryRequest: mem.request,
      memoryRatio: mem.ratio,
      memorySamples: mem.q.samples,
      memorySuggestedRequestMi: patch.memory.request,
      memorySuggestedLimitMi: patch.memory.limit,
    });
    from = Math.min(from, mem.q.firstTs);
    to = Math.max(to, mem.q.lastTs);
    samples += mem.q.samples;
    memFreed = Math.max(0, mem.request - patch.memory.request * MIB);
  }
  const suggested: string[] = [];
  if (patch.cpu !== undefined)
    suggested.push(`CPU request ${patch.cpu.request}m and limit ${patch.cpu.limit}m`);
  if (patch.memory !== undefined)
    suggested.push(`memory request ${patch.memory.request}Mi and limit ${patch.memory.limit}Mi`);
  const replicas =
    replicasByWorkload.get(`${w.namespace}/${w.kind}/${w.name}`) ?? Math.max(1, e.spec.replicas ?? 1);
  let savings: Savings | null = null;
  const prices = state.config.prices;
  if (prices !== null && (cpuFreed > 0 || memFreed > 0)) {
    const hourly = cpuFreed * prices.cpuCoreHour + (memFreed / GIB) * prices.memoryGiBHour;
    savings = {
      monthly: Math.round(hourly * state.config.hoursPerMonth * replicas * 100) / 100,
      cpuCores: cpuFreed,
      memoryBytes: memFreed,
      replicas,
      hoursPerMonth: state.config.hoursPerMonth,
    };
  }
  const underAny = cpu?.direction === 'under' || mem?.direction === 'under';
  const rp: ResourcePatch = patch;
  let rationale =
    `Over ${duration(to - from)} of samples (${samples} samples, ${iso(from)} to ${iso(to)}), container ` +
    `${e.container} of ${w.kind} ${w.namespace}/${w.name} used ${used.join(' and ')}. Suggested: ` +
    `${suggested.join('; ')} (request 1.2 × p95, limit 1.5 × p95, rounded up to 50m CPU and 32Mi memory).`;
  if (savings !== null)
    rationale +=
      ` Freeing ${cores(savings.cpuCores)} and ${fmt(savings.memoryBytes / MIB, 1)} MiB per pod across ` +
      `${replicas} pod${replicas === 1 ? '' : 's'} saves ${savings.monthly.toFixed(2)} per month at the configured prices.`;
  return {
    type: 'rightsizing',
    target: { ...w, container: e.container },
    severity: underAny ? 'high' : 'medium',
    title: `Right-size container ${e.container} of ${w.kind} ${w.namespace}/${w.name}: ${found.join(', ')}`,
    rationale,
    patch: resourcesPatch(w, e.container, rp),
    command: kubectlPatch(w.kind, w.namespace, w.name),
    savings,
    evidence: { from, to, samples, values: { ...values, replicas } },
  };
}

function hpaAtMax(e: HpaEntry, target: RecommendationTarget): Derived | null {
  const h = e.hpa;
  if (h.current !== h.max || e.atMaxSince === null) return null;
  const next = suggestedMaxReplicas(h.max);
  return {
    type: 'hpa-at-max',
    target,
    severity: 'high',
    title: `HPA ${h.namespace}/${h.name} is at its maximum of ${h.max} replicas`,
    rationale:
      `HorizontalPodAutoscaler ${h.namespace}/${h.name} (scaling ${h.target.kind} ${h.target.name}) has run ` +
      `${h.current} replicas, its maxReplicas, since ${iso(e.atMaxSince)} (${e.atMaxCount} observation` +
      `${e.atMaxCount === 1 ? '' : 's'}): it cannot scale out under more load. Raise maxReplicas to ${next} ` +
      `(max(⌊1.5 × ${h.max}⌋, ${h.max} + 2)) and check the nodes have room for the extra pods.`,
    patch: nest(['spec'], [`maxReplicas: ${next}`]),
    command: kubectlPatch('HorizontalPodAutoscaler', h.namespace, h.name),
    savings: null,
    evidence: {
      from: e.atMaxSince,
      to: e.ts,
      samples: e.atMaxCount,
      values: { current: h.current, min: h.min, max: h.max, suggestedMax: next },
    },
  };
}

function hpaMinHigh(e: HpaEntry, target: RecommendationTarget): Derived | null {
  const h = e.hpa;
  if (h.current !== h.min || h.min <= 1 || e.atMinSince === null) return null;
  const next = h.min - 1;
  return {
    type: 'hpa-min-high',
    target,
    severity: 'low',
    title: `HPA ${h.namespace}/${h.name} sits at its minimum of ${h.min} replicas`,
    rationale:
      `HorizontalPodAutoscaler ${h.namespace}/${h.name} (scaling ${h.target.kind} ${h.target.name}) has run ` +
      `${h.current} replicas, its minReplicas, since ${iso(e.atMinSince)} (${e.atMinCount} observation` +
      `${e.atMinCount === 1 ? '' : 's'}): the floor, not the load, sets the replica count. Lower minReplicas ` +
      `to ${next} if one fewer replica still meets your availability needs.`,
    patch: nest(['spec'], [`minReplicas: ${next}`]),
    command: kubectlPatch('HorizontalPodAutoscaler', h.namespace, h.name),
    savings: null,
    evidence: {
      from: e.atMinSince,
      to: e.ts,
      samples: e.atMinCount,
      values: { current: h.current, min: h.min, max: h.max, suggestedMin: next },
    },
  };
}

function idleNode(
  state: RecommendationsState,
  e: NodeEntry,
  target: RecommendationTarget,
  now: number,
): Derived | null {
  const { idleWindowMs, staleAfterMs } = state.config;
  if (e.firstCpuTs === null || e.lastCpuTs === null) return null;
  if (e.firstCpuTs > now - idleWindowMs || e.lastCpuTs < now - staleAfterMs) return null;
  const fromMinute = Math.floor(now / MINUTE) - idleMinutes(state) + 1;
  let sum = 0;
  let count = 0;
  for (const [m, [s, c]] of [...e.minutes].sort((a, b) => a[0] - b[0])) {
    if (m < fromMinute) continue;
    sum += s;
    count += c;
  }
  if (count === 0) return null;
  const avg = round9(sum / count);
  if (!(avg < IDLE_NODE_BELOW)) return null;
  const from = Math.max(e.firstCpuTs, fromMinute * MINUTE);
  return {
    type: 'idle-node',
    target,
    severity: 'medium',
    title: `Node ${e.name} is idle (${pct(avg)} CPU over ${duration(idleWindowMs)})`,
    rationale:
      `Node ${e.name} averaged ${pct(avg)} CPU utilisation over the last ${duration(idleWindowMs)} ` +
      `(${count} samples, ${iso(from)} to ${iso(e.lastCpuTs)}), below ${pct(IDLE_NODE_BELOW)}. Cordon it ` +
      `(the patch), drain it so its pods move to other nodes, and remove it from the node pool.`,
    patch: nest(['spec'], ['unschedulable: true']),
    command: `kubectl drain ${e.name} --ignore-daemonsets --delete-emptydir-data`,
    savings: null,
    evidence: { from, to: e.lastCpuTs, samples: count, values: { cpuUtilisation: avg } },
  };
}

function nodeMemory(
  state: RecommendationsState,
  e: NodeEntry,
  target: RecommendationTarget,
  now: number,
): Derived | null {
  const m = e.memory;
  const v = freshValue(state, m, now);
  if (v === null || m === null) return null;
  if (!(v > NODE_MEMORY_ABOVE)) return null;
  return {
    type: 'node-memory-pressure',
    target,
    severity: 'high',
    title: `Node ${e.name} is under memory pressure (${pct(v)})`,
    rationale:
      `Node ${e.name} reported memory utilisation of ${pct(v)} at ${iso(m.ts)}, above ${pct(NODE_MEMORY_ABOVE)}: ` +
      `the kubelet may evict pods and containers may be OOM-killed. Add capacity (a larger node or more ` +
      `nodes) or right-size the memory requests of the pods scheduled on it.`,
    patch: null,
    command: null,
    savings: null,
    evidence: { from: m.ts, to: m.ts, samples: 1, values: { memoryUtilisation: v } },
  };
}

/** The latest value of a gauge, rounded, or null when there is none or it is older than staleAfterMs. */
function freshValue(
  state: RecommendationsState,
  m: { ts: number; value: number } | null,
  now: number,
): number | null {
  if (m === null || m.ts < now - state.config.staleAfterMs) return null;
  return round9(m.value);
}

function nxdomain(state: RecommendationsState, target: RecommendationTarget, now: number): Derived | null {
  const m = state.dns.nxdomain;
  const v = freshValue(state, m, now);
  if (v === null || m === null) return null;
  if (!(v > NXDOMAIN_ABOVE)) return null;
  return {
    type: 'coredns-nxdomain',
    target,
    severity: 'medium',
    title: `CoreDNS answers ${pct(v)} of queries with NXDOMAIN`,
    rationale:
      `CoreDNS answered ${pct(v)} of queries with NXDOMAIN (at ${iso(m.ts)}), above ${pct(NXDOMAIN_ABOVE)}. ` +
      `With the default ndots: 5, every external name is first tried against each search domain; set ` +
      `ndots: 2 in the dnsConfig of the workloads that resolve external names (the patch; apply it to ` +
      `each such workload), or use fully qualified names ending in a dot.`,
    patch: ndotsPatch(),
    command: 'kubectl patch deployment <workload> -n <namespace> --type strategic --patch-file patch.yaml',
    savings: null,
    evidence: { from: m.ts, to: m.ts, samples: 1, values: { nxdomainRatio: v } },
  };
}

function dnsCache(state: RecommendationsState, target: RecommendationTarget, now: number): Derived | null {
  const m = state.dns.cacheHit;
  const v = freshValue(state, m, now);
  if (v === null || m === null) return null;
  if (!(v > 0 && v < CACHE_HIT_BELOW)) return null;
  return {
    type: 'coredns-cache',
    target,
    severity: 'low',
    title: `CoreDNS cache hit ratio is ${pct(v)}`,
    rationale:
      `CoreDNS served ${pct(v)} of queries from its cache (at ${iso(m.ts)}), below ${pct(CACHE_HIT_BELOW)}. ` +
      `Raise the cache plugin's capacity and TTL in the Corefile, or deploy NodeLocal DNSCache so each ` +
      `node answers repeated queries locally.`,
    patch: null,
    command: null,
    savings: null,
    evidence: { from: m.ts, to: m.ts, samples: 1, values: { cacheHitRatio: v } },
  };
}

function gcPauses(state: RecommendationsState, e: GcEntry, now: number): Derived | null {
  const fresh = [...e.pods]
    .filter(([, p]) => p.ts >= now - state.config.staleAfterMs)
    .filter(([, p]) => round9(p.value) > (p.runtime === 'go' ? GC_GO_ABOVE_S : GC_JVM_ABOVE_S))
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (fresh.length === 0) return null;
  let worst = fresh[0]![1];
  let worstPod = fresh[0]![0];
  for (const [pod, p] of fresh)
    if (p.value > worst.value) {
      worst = p;
      worstPod = pod;
    }
  const jvm = fresh.some(([, p]) => p.runtime === 'jvm');
  const go = fresh.some(([, p]) => p.runtime === 'go');
  const t = e.target;
  const name = `${t.kind} ${t.namespace ?? ''}/${t.name}`;
  const advice: string[] = [];
  if (go)
    advice.push('for Go, raise GOGC or set GOMEMLIMIT so the collector runs less often, and cut allocation');
  if (jvm)
    advice.push(
      'for the JVM, pick a low-pause collector (G1 with a pause goal, or ZGC/Shenandoah) and size the heap (-Xms/-Xmx) to the live set',
    );
  const threshold = (r: 'go' | 'jvm'): string =>
    `${fmt((r === 'go' ? GC_GO_ABOVE_S : GC_JVM_ABOVE_S) * 1000)} ms`;
  const ts = fresh.map(([, p]) => p.ts);
  return {
    type: 'gc-pauses',
    target: t,
    severity: jvm ? 'high' : 'medium',
    title: `Long GC pauses in ${name} (${fmt(worst.value * 1000, 1)} ms, ${worst.runtime === 'go' ? 'Go' : 'JVM'})`,
    rationale:
      `${fresh.length} pod${fresh.length === 1 ? '' : 's'} of ${name} averaged GC pauses above the threshold ` +
      `(Go ${threshold('go')}, JVM ${threshold('jvm')}) over 5 min; the longest, ${fmt(worst.value * 1000, 1)} ms ` +
      `(${worst.runtime === 'go' ? 'Go' : 'JVM'}), in pod ${worstPod} at ${iso(worst.ts)}. Requests stall ` +
      `during pauses: ${advice.join('; ')}.`,
    patch: null,
    command: null,
    savings: null,
    evidence: {
      from: Math.min(...ts),
      to: Math.max(...ts),
      samples: fresh.length,
      values: { maxPauseSeconds: worst.value, pods: fresh.length },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// State records (one JSON value per key, for a compacted changelog)

export interface MetaRecord {
  readonly kind: 'meta';
  readonly v: 1;
  readonly watermark: number | null;
  readonly evalSlot: number | null;
  readonly sweptHour: number | null;
  readonly seq: number;
  readonly dirty: readonly string[];
}

export type StateValue =
  | MetaRecord
  | {
      readonly kind: 'container';
      readonly v: 1;
      readonly workload: WorkloadRef;
      readonly container: string;
      readonly spec: ContainerResources | null;
      readonly lastTs: number | null;
      readonly seq: number;
      readonly cpu: HourJSON[];
      readonly memory: HourJSON[];
    }
  | {
      readonly kind: 'hpa';
      readonly v: 1;
      readonly hpa: HpaObservation;
      readonly ts: number;
      readonly atMaxSince: number | null;
      readonly atMaxCount: number;
      readonly atMinSince: number | null;
      readonly atMinCount: number;
      readonly seq: number;
    }
  | {
      readonly kind: 'node';
      readonly v: 1;
      readonly name: string;
      readonly minutes: [number, number, number][];
      readonly firstCpuTs: number | null;
      readonly lastCpuTs: number | null;
      readonly memory: Latest | null;
      readonly lastTs: number;
      readonly seq: number;
    }
  | {
      readonly kind: 'dns';
      readonly v: 1;
      readonly nxdomain: Latest | null;
      readonly cacheHit: Latest | null;
    }
  | {
      readonly kind: 'gc';
      readonly v: 1;
      readonly target: RecommendationTarget;
      readonly pods: [string, 'go' | 'jvm', number, number][];
      readonly lastTs: number;
      readonly seq: number;
    }
  | {
      readonly kind: 'rec';
      readonly v: 1;
      readonly subject: string;
      readonly recommendation: Recommendation;
    };

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Every key that currently has a record (for a full snapshot), sorted. */
export function stateKeys(state: RecommendationsState): string[] {
  return [
    META_KEY,
    ...(state.dns.nxdomain === null && state.dns.cacheHit === null ? [] : [DNS_KEY]),
    ...state.containers.keys(),
    ...state.hpas.keys(),
    ...state.nodes.keys(),
    ...state.gc.keys(),
    ...[...state.recs.keys()].map(recStateKey),
  ].sort();
}

/**
 * The changelog value of `key` (null for a tombstone): a container's (the record written most
 * often) in the binary format of container-record.ts, any other record as its JSON.
 */
export function stateRecordBytes(state: RecommendationsState, key: string): Buffer | null {
  const c = key.startsWith('c:') ? state.containers.get(key) : undefined;
  if (c !== undefined) return encodeContainerRecord(c);
  const v = stateRecord(state, key);
  return v === null ? null : Buffer.from(JSON.stringify(v));
}

/** The JSON record of `key`, or null when it has none (a tombstone). */
export function stateRecord(state: RecommendationsState, key: string): StateValue | null {
  if (key === META_KEY)
    return {
      kind: 'meta',
      v: 1,
      watermark: finiteOrNull(state.watermark),
      evalSlot: finiteOrNull(state.evalSlot),
      sweptHour: finiteOrNull(state.sweptHour),
      seq: state.seq,
      dirty: [...state.dirty].sort(),
    };
  if (key === DNS_KEY) {
    const { nxdomain, cacheHit } = state.dns;
    if (nxdomain === null && cacheHit === null) return null;
    return { kind: 'dns', v: 1, nxdomain, cacheHit };
  }
  if (key.startsWith(REC_PREFIX)) {
    const e = state.recs.get(key.slice(REC_PREFIX.length));
    return e === undefined ? null : { kind: 'rec', v: 1, subject: e.subject, recommendation: e.rec };
  }
  const c = state.containers.get(key);
  if (key.startsWith('c:'))
    return c === undefined
      ? null
      : {
          kind: 'container',
          v: 1,
          workload: c.workload,
          container: c.container,
          spec: c.spec,
          lastTs: finiteOrNull(c.lastTs),
          seq: c.seq,
          cpu: windowToJSON(c.cpu),
          memory: windowToJSON(c.memory),
        };
  if (key.startsWith('h:')) {
    const h = state.hpas.get(key);
    return h === undefined ? null : { kind: 'hpa', v: 1, ...h, hpa: h.hpa };
  }
  if (key.startsWith('n:')) {
    const n = state.nodes.get(key);
    return n === undefined
      ? null
      : {
          kind: 'node',
          v: 1,
          name: n.name,
          minutes: [...n.minutes]
            .sort((a, b) => a[0] - b[0])
            .map(([m, [s, k]]): [number, number, number] => [m, s, k]),
          firstCpuTs: n.firstCpuTs,
          lastCpuTs: n.lastCpuTs,
          memory: n.memory,
          lastTs: n.lastTs,
          seq: n.seq,
        };
  }
  if (key.startsWith('g:')) {
    const g = state.gc.get(key);
    return g === undefined
      ? null
      : {
          kind: 'gc',
          v: 1,
          target: g.target,
          pods: [...g.pods].map(([pod, p]): [string, 'go' | 'jvm', number, number] => [
            pod,
            p.runtime,
            p.value,
            p.ts,
          ]),
          lastTs: g.lastTs,
          seq: g.seq,
        };
  }
  return null;
}

/**
 * Rebuilds a state from the latest record per key (null values: deleted keys). The result
 * behaves exactly as the state that wrote the records. Throws HETU_RECOMMENDATIONS_RESTORE_INVALID.
 */
export function restoreRecommendationsState(
  records: Iterable<{ readonly key: string; readonly value: unknown }>,
  config: Partial<RecommendationsConfig> = DEFAULT_RECOMMENDATIONS_CONFIG,
): RecommendationsState {
  const state = createRecommendationsState(config);
  const bad = (key: string): never => {
    throw recommendationsError(
      RECOMMENDATIONS_RESTORE_INVALID,
      `recommendations: malformed state record ${key}.`,
    );
  };
  const latest = new Map<string, unknown>();
  for (const { key, value } of records) {
    if (value === null) latest.delete(key);
    else latest.set(key, value);
  }
  const containers: [string, ContainerEntry][] = [];
  const hpas: [string, HpaEntry][] = [];
  const nodes: [string, NodeEntry][] = [];
  const gcs: [string, GcEntry][] = [];
  for (const [key, raw] of latest) {
    if (typeof raw !== 'object' || raw === null || (raw as { v?: unknown }).v !== 1) bad(key);
    const value = raw as StateValue;
    switch (value.kind) {
      case 'meta':
        state.watermark = value.watermark ?? -Infinity;
        state.evalSlot = value.evalSlot ?? -Infinity;
        state.sweptHour = value.sweptHour ?? -Infinity;
        state.seq = value.seq;
        for (const d of value.dirty) state.dirty.add(d);
        break;
      case 'dns':
        state.dns = { nxdomain: value.nxdomain, cacheHit: value.cacheHit };
        break;
      case 'rec':
        state.recs.set(value.recommendation.id, { rec: value.recommendation, subject: value.subject });
        break;
      case 'container': {
        const cpu = windowFromJSON(value.cpu);
        const memory = windowFromJSON(value.memory);
        if (cpu === null || memory === null) bad(key);
        containers.push([
          key,
          {
            workload: value.workload,
            container: value.container,
            spec: value.spec,
            cpu: cpu as WindowHistogram,
            memory: memory as WindowHistogram,
            lastTs: value.lastTs ?? -Infinity,
            seq: value.seq,
          },
        ]);
        break;
      }
      case 'hpa': {
        const { hpa, ts, atMaxSince, atMaxCount, atMinSince, atMinCount, seq } = value;
        hpas.push([key, { hpa, ts, atMaxSince, atMaxCount, atMinSince, atMinCount, seq }]);
        break;
      }
      case 'node':
        nodes.push([
          key,
          {
            name: value.name,
            minutes: new Map(value.minutes.map(([m, s, c]): [number, [number, number]] => [m, [s, c]])),
            firstCpuTs: value.firstCpuTs,
            lastCpuTs: value.lastCpuTs,
            memory: value.memory,
            lastTs: value.lastTs,
            seq: value.seq,
          },
        ]);
        break;
      case 'gc':
        gcs.push([
          key,
          {
            target: value.target,
            pods: new Map(
              value.pods.map(([pod, runtime, v, ts]): [string, GcPod] => [pod, { runtime, value: v, ts }]),
            ),
            lastTs: value.lastTs,
            seq: value.seq,
          },
        ]);
        break;
      default:
        bad(key);
    }
  }
  const bySeq = <E extends { seq: number }>(a: [string, E], b: [string, E]): number => a[1].seq - b[1].seq;
  for (const [k, e] of containers.sort(bySeq)) state.containers.set(k, e);
  for (const [k, e] of hpas.sort(bySeq)) state.hpas.set(k, e);
  for (const [k, e] of nodes.sort(bySeq)) state.nodes.set(k, e);
  for (const [k, e] of gcs.sort(bySeq)) state.gc.set(k, e);
  return state;
}
