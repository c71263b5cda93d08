/**
 * What the `scoring` processor keeps per cluster, and how it turns that into a `ScoringInput`.
 *
 * Every entry sits under its own changelog key `<prefix>/<cluster>/<id>`:
 *  - `p/` a pod's health (from hetu.facts.pod-health), `q/` its object's requests, claims and
 *    spec (from Pod watch objects);
 *  - `n/` a node's health; `w/` a workload's pod template (Deployment, StatefulSet, DaemonSet,
 *    Job, CronJob); `o/` a Namespace, NetworkPolicy, ResourceQuota, LimitRange,
 *    ClusterRoleBinding or ClusterRole;
 *  - `e/` an error group, `a/` an anomaly episode, `i/` an incident, `r/` a recommendation;
 *  - `u/` a pod's usage ring (per container, per minute of event time), `v/` a PVC's volume stats.
 * Pure: no clock; time comes from records.
 */
import type {
  AnomalyEpisode,
  ErrorGroup,
  Incident,
  MetricSampled,
  NodeHealth,
  PodHealth,
  Recommendation,
  WatchObserved,
} from '@hetu/schemas';
import type { NodeState, PodCategory } from '../health/index.ts';
import type {
  ContainerRequests,
  ContainerSpec,
  EnvVar,
  EvidenceRef,
  IncidentScope,
  PodTemplateSpec,
  PolicyRule,
  RbacSubject,
  ScoringInput,
  ScoringPod,
  ScoringWorkload,
  WorkloadRef,
} from './types.ts';
import { parseQuantity as parseKubeQuantity } from '../health/quantity.ts';

/** Minutes of usage kept per container: the mean is over the last hour of event time. */
export const USAGE_WINDOW_MINUTES = 60;
const MINUTE = 60_000;

/** A pod's health fact, as the scorer reads it (without requests and usage). */
export interface PodFactEntry {
  namespace: string;
  name: string;
  workload: WorkloadRef;
  categories: PodCategory[];
  running: boolean;
  details: Partial<Record<PodCategory, string>>;
  evidence: EvidenceRef[];
}

/** What a Pod watch object adds: requests, mounted claims, and its spec (for a bare pod). */
export interface PodObjectEntry {
  namespace: string;
  name: string;
  containers: ContainerRequests[];
  claims: string[];
  spec: PodTemplateSpec;
  evidence: EvidenceRef[];
}

export interface NodeEntry {
  name: string;
  states: NodeState[];
  detail?: string;
  evidence: EvidenceRef[];
}

export type ObjectKind =
  | 'Namespace'
  | 'NetworkPolicy'
  | 'ResourceQuota'
  | 'LimitRange'
  | 'ClusterRoleBinding'
  | 'ClusterRole';

export interface ObjectEntry {
  kind: ObjectKind;
  namespace: string | null;
  name: string;
  labels?: Record<string, string>;
  roleRef?: { kind: string; name: string; apiGroup?: string };
  subjects?: RbacSubject[];
  rules?: PolicyRule[];
  evidence: EvidenceRef[];
}

export interface ErrorGroupEntry {
  id: string;
  namespace: string;
  /** The workload's name as the errors processor knows it (no kind). */
  workload: string;
  title: string;
  level: string;
  status: string;
  evidence: EvidenceRef[];
}

export interface AnomalyEntry {
  id: string;
  title: string;
  status: string;
  namespace?: string;
  pod?: string;
  evidence: EvidenceRef[];
}

export interface IncidentEntry {
  id: string;
  title: string;
  status: string;
  severity: string;
  scopes: IncidentScope[];
  evidence: EvidenceRef[];
}

export interface RecommendationEntry {
  id: string;
  type: string;
  status: string;
  workload: WorkloadRef;
  detail: string;
  evidence: EvidenceRef[];
}

/** One minute of one container's samples: [minute index, sum, count]. */
export type Bucket = [number, number, number];

export interface UsageEntry {
  namespace: string;
  pod: string;
  /** container → buckets, oldest first, at most `USAGE_WINDOW_MINUTES`. */
  cpu: Record<string, Bucket[]>;
  memory: Record<string, Bucket[]>;
}

export interface PvcEntry {
  namespace: string;
  name: string;
  usedBytes: number | null;
  capacityBytes: number | null;
  evidence: EvidenceRef[];
}

export type Entry =
  | PodFactEntry
  | PodObjectEntry
  | NodeEntry
  | ScoringWorkload
  | ObjectEntry
  | ErrorGroupEntry
  | AnomalyEntry
  | IncidentEntry
  | RecommendationEntry
  | UsageEntry
  | PvcEntry;

export const PREFIX = {
  podFact: 'p/',
  podObject: 'q/',
  node: 'n/',
  workload: 'w/',
  object: 'o/',
  errorGroup: 'e/',
  anomaly: 'a/',
  incident: 'i/',
  recommendation: 'r/',
  usage: 'u/',
  pvc: 'v/',
} as const;

/** What one feed record does to a cluster's entries. */
export type FeedChange =
  | { type: 'put'; key: string; entry: Entry }
  | { type: 'delete'; key: string }
  | {
      type: 'usage';
      key: string;
      namespace: string;
      pod: string;
      container: string;
      resource: 'cpu' | 'memory';
      ts: number;
      value: number;
    }
  | {
      type: 'pvc';
      key: string;
      namespace: string;
      name: string;
      field: 'used' | 'capacity';
      value: number;
      evidence: EvidenceRef;
    }
  | { type: 'ignored' };

// ---- decoding facts and watch objects ----

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** The position a record came from, as evidence. */
export interface Position {
  topic: string;
  partition: number;
  offset: string;
  ts: number;
}

function evidenceAt(pos: Position, excerpt: string): EvidenceRef {
  return {
    topic: pos.topic,
    partition: pos.partition,
    offset: pos.offset,
    ts: pos.ts,
    excerpt: clip(excerpt),
  };
}

function clip(text: string): string {
  return text.length <= 240 ? text : text.slice(0, 239) + '…';
}

/** The key of an entry: `<prefix><cluster>/<id>`. */
export function entryKey(prefix: string, cluster: string, id: string): string {
  return `${prefix}${cluster}/${id}`;
}

export function fromPodHealth(sourceKey: string, p: PodHealth | null): FeedChange {
  const key = PREFIX.podFact + sourceKey;
  if (p === null) return { type: 'delete', key };
  const details: Partial<Record<PodCategory, string>> = {};
  for (const category of p.categories) {
    const parts = p.reasons
      .filter((r) => r.category === category)
      .map(
        (r) =>
          `${r.container === null ? '' : `${r.container}: `}${r.reason}${r.exitCode === null ? '' : `, exit ${r.exitCode}`}`,
      );
    if (parts.length > 0) details[category as PodCategory] = parts.join('; ');
  }
  const entry: PodFactEntry = {
    namespace: p.namespace,
    name: p.name,
    workload: { kind: p.workload.kind, namespace: p.workload.namespace, name: p.workload.name },
    categories: p.categories as PodCategory[],
    running: p.phase === 'Running',
    details,
    evidence: [{ ...p.evidence, offset: String(p.evidence.offset) }],
  };
  return { type: 'put', key, entry };
}

export function fromNodeHealth(sourceKey: string, n: NodeHealth | null): FeedChange {
  const key = PREFIX.node + sourceKey;
  if (n === null) return { type: 'delete', key };
  const notReady = n.reasons.find((r) => r.state === 'NotReady');
  const entry: NodeEntry = {
    name: n.name,
    states: [...n.states],
    evidence: [{ ...n.evidence, offset: String(n.evidence.offset) }],
  };
  if (notReady !== undefined)
    entry.detail = `${notReady.condition}=${notReady.status}${notReady.reason === null ? '' : ` (${notReady.reason})`}`;
  return { type: 'put', key, entry };
}

export function fromErrorGroup(
  cluster: string,
  sourceKey: string,
  g: ErrorGroup | null,
  pos: Position,
): FeedChange {
  const key = entryKey(PREFIX.errorGroup, cluster, sourceKey);
  if (g === null || g.mergedInto !== null) return { type: 'delete', key };
  const entry: ErrorGroupEntry = {
    id: g.id,
    namespace: g.namespace,
    workload: g.workload,
    title: g.title,
    level: g.level,
    status: g.status,
    evidence: [evidenceAt(pos, `${g.level} ${g.title}`)],
  };
  return { type: 'put', key, entry };
}

export function fromAnomaly(
  cluster: string,
  sourceKey: string,
  a: AnomalyEpisode | null,
  pos: Position,
): FeedChange {
  const key = entryKey(PREFIX.anomaly, cluster, sourceKey);
  if (a === null) return { type: 'delete', key };
  const labels = Object.keys(a.labels)
    .sort()
    .map((k) => `${k}=${a.labels[k] ?? ''}`)
    .join(',');
  const entry: AnomalyEntry = {
    id: a.id,
    title: `${a.metric}{${labels}} anomalous (${a.peakSeverity})`,
    status: a.status,
    evidence: [evidenceAt(pos, `${a.status} anomaly ${a.metric}{${labels}}`)],
  };
  const ns = a.labels['namespace'];
  const pod = a.labels['pod'];
  if (ns !== undefined && ns !== '') entry.namespace = ns;
  if (pod !== undefined && pod !== '' && entry.namespace !== undefined) entry.pod = pod;
  return { type: 'put', key, entry };
}

/** At most this many evidence entries are kept per incident. */
const INCIDENT_EVIDENCE = 3;

export function fromIncident(cluster: string, sourceKey: string, inc: Incident | null): FeedChange {
  const key = entryKey(PREFIX.incident, cluster, sourceKey);
  if (inc === null) return { type: 'delete', key };
  const scopes: IncidentScope[] = [];
  const covered = new Set<string>();
  for (const w of inc.workloads) {
    scopes.push({ namespace: w.namespace, workload: { kind: w.kind, namespace: w.namespace, name: w.name } });
    covered.add(w.namespace);
  }
  for (const ns of inc.namespaces) if (!covered.has(ns)) scopes.push({ namespace: ns });
  const evidence: EvidenceRef[] = [];
  for (const s of inc.signals) {
    for (const e of s.evidence) {
      if (evidence.length >= INCIDENT_EVIDENCE) break;
      evidence.push({
        topic: e.topic,
        partition: e.partition,
        offset: String(e.offset),
        ts: e.ts,
        excerpt: e.excerpt,
      });
    }
  }
  const entry: IncidentEntry = {
    id: inc.id,
    title: inc.title,
    status: inc.status,
    severity: inc.severity,
    scopes,
    evidence,
  };
  return { type: 'put', key, entry };
}

export function fromRecommendation(
  cluster: string,
  sourceKey: string,
  r: Recommendation | null,
  pos: Position,
): FeedChange {
  const key = entryKey(PREFIX.recommendation, cluster, sourceKey);
  if (r === null || r.target.namespace === null) return { type: 'delete', key };
  const entry: RecommendationEntry = {
    id: r.id,
    type: r.type,
    status: r.closedAt === null ? r.status : 'closed',
    workload: { kind: r.target.kind, namespace: r.target.namespace, name: r.target.name },
    detail: r.title,
    evidence: [evidenceAt(pos, `${r.type} ${r.status}: ${r.title}`)],
  };
  return { type: 'put', key, entry };
}

export function fromMetric(m: MetricSampled, pos: Position): FeedChange {
  const ns = m.labels['namespace'];
  if (ns === undefined || ns === '' || !Number.isFinite(m.value)) return { type: 'ignored' };
  if (m.name === 'cpu_usage_cores' || m.name === 'memory_working_set_bytes') {
    const pod = m.labels['pod'];
    const container = m.labels['container'];
    // Pod-level cAdvisor series (container "" or "POD") would count a pod twice.
    if (pod === undefined || pod === '' || container === undefined || container === '' || container === 'POD')
      return { type: 'ignored' };
    return {
      type: 'usage',
      key: entryKey(PREFIX.usage, m.cluster, `${ns}/${pod}`),
      namespace: ns,
      pod,
      container,
      resource: m.name === 'cpu_usage_cores' ? 'cpu' : 'memory',
      ts: m.ts,
      value: m.value,
    };
  }
  if (m.name === 'pvc_used_bytes' || m.name === 'pvc_capacity_bytes') {
    const name = m.labels['persistentvolumeclaim'];
    if (name === undefined || name === '') return { type: 'ignored' };
    return {
      type: 'pvc',
      key: entryKey(PREFIX.pvc, m.cluster, `${ns}/${name}`),
      namespace: ns,
      name,
      field: m.name === 'pvc_used_bytes' ? 'used' : 'capacity',
      value: m.value,
      evidence: evidenceAt(pos, `${m.name}{namespace=${ns},persistentvolumeclaim=${name}} ${m.value}`),
    };
  }
  return { type: 'ignored' };
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
const OBJECT_KINDS = new Set<string>([
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'ClusterRoleBinding',
  'ClusterRole',
]);

/** Kinds the scorer reads from hetu.raw.kube. */
export function isScoredKind(kind: string): boolean {
  return kind === 'Pod' || WORKLOAD_KINDS.has(kind) || OBJECT_KINDS.has(kind);
}

/** Thrown for a watch object the scorer cannot read (bad input: dead-lettered). */
export class ScoringInputError extends Error {
  readonly code = 'HETU_INPUT_INVALID';
  readonly transient = false;
}

export function fromWatch(w: WatchObserved, pos: Position): FeedChange {
  // A deleted PVC takes its volume stats with it (its metrics stop).
  if (w.kind === 'PersistentVolumeClaim' && w.type === 'DELETED' && w.namespace !== null && w.name !== null)
    return { type: 'delete', key: entryKey(PREFIX.pvc, w.cluster, `${w.namespace}/${w.name}`) };
  if (!isScoredKind(w.kind)) return { type: 'ignored' };
  if (w.type === 'GAP' || w.type === 'SYNC_BEGIN' || w.type === 'SYNC_END') return { type: 'ignored' };
  if (w.object === null)
    throw new ScoringInputError(
      `${w.type} ${w.kind} at ${pos.topic}/${pos.partition}/${pos.offset} has no object.`,
    );
  let o: unknown;
  try {
    o = JSON.parse(w.object);
  } catch {
    throw new ScoringInputError(
      `${w.type} ${w.kind} at ${pos.topic}/${pos.partition}/${pos.offset} holds an object that is not JSON.`,
    );
  }
  if (!isObj(o) || !isObj(o['metadata']) || typeof o['metadata']['name'] !== 'string')
    throw new ScoringInputError(
      `${w.type} ${w.kind} at ${pos.topic}/${pos.partition}/${pos.offset} has no metadata.name.`,
    );
  const meta = o['metadata'];
  const name = meta['name'] as string;
  const namespace = str(meta['namespace']) ?? null;
  const spec = isObj(o['spec']) ? o['spec'] : {};
  const deleted = w.type === 'DELETED';
  const excerpt = `${w.type} ${w.kind} ${namespace === null ? '' : `${namespace}/`}${name}`;
  const evidence = [evidenceAt(pos, excerpt)];
  const cluster = w.cluster;

  if (w.kind === 'Pod') {
    if (namespace === null)
      throw new ScoringInputError(`Pod ${name} at ${pos.topic}/${pos.offset} has no namespace.`);
    const key = entryKey(PREFIX.podObject, cluster, `${namespace}/${name}`);
    if (deleted) return { type: 'delete', key };
    const claims = arr(spec['volumes'])
      .map((v) =>
        isObj(v['persistentVolumeClaim']) ? str(v['persistentVolumeClaim']['claimName']) : undefined,
      )
      .filter((c): c is string => c !== undefined)
      .sort();
    const entry: PodObjectEntry = {
      namespace,
      name,
      containers: arr(spec['containers']).map(requestsOf),
      claims,
      spec: templateSpec(spec),
      evidence,
    };
    return { type: 'put', key, entry };
  }

  if (WORKLOAD_KINDS.has(w.kind)) {
    if (namespace === null)
      throw new ScoringInputError(`${w.kind} ${name} at ${pos.topic}/${pos.offset} has no namespace.`);
    const key = entryKey(PREFIX.workload, cluster, `${namespace}/${w.kind}/${name}`);
    // A Job run by a CronJob is not a workload of its own (its pods belong to the CronJob).
    const owned = arr(meta['ownerReferences']).some((r) => r['controller'] === true);
    if (deleted || (w.kind === 'Job' && owned)) return { type: 'delete', key };
    const template =
      w.kind === 'CronJob'
        ? pathObj(spec, ['jobTemplate', 'spec', 'template', 'spec'])
        : pathObj(spec, ['template', 'spec']);
    const entry: ScoringWorkload = {
      kind: w.kind,
      namespace,
      name,
      podSpec: templateSpec(template),
      evidence,
    };
    if ((w.kind === 'Deployment' || w.kind === 'StatefulSet') && typeof spec['replicas'] === 'number')
      entry.replicas = spec['replicas'];
    return { type: 'put', key, entry };
  }

  // Namespace, NetworkPolicy, ResourceQuota, LimitRange, ClusterRoleBinding, ClusterRole.
  const key = entryKey(PREFIX.object, cluster, `${w.kind}/${namespace ?? ''}/${name}`);
  if (deleted) return { type: 'delete', key };
  if (
    w.kind !== 'Namespace' &&
    w.kind !== 'ClusterRoleBinding' &&
    w.kind !== 'ClusterRole' &&
    namespace === null
  )
    throw new ScoringInputError(`${w.kind} ${name} at ${pos.topic}/${pos.offset} has no namespace.`);
  const entry: ObjectEntry = { kind: w.kind as ObjectKind, namespace, name, evidence };
  if (w.kind === 'ClusterRoleBinding') {
    const ref = isObj(o['roleRef']) ? o['roleRef'] : {};
    entry.roleRef = { kind: str(ref['kind']) ?? '', name: str(ref['name']) ?? '' };
    const apiGroup = str(ref['apiGroup']);
    if (apiGroup !== undefined) entry.roleRef.apiGroup = apiGroup;
    entry.subjects = arr(o['subjects']).map((s) => {
      const subject: RbacSubject = { kind: str(s['kind']) ?? '', name: str(s['name']) ?? '' };
      const ns = str(s['namespace']);
      if (ns !== undefined) subject.namespace = ns;
      return subject;
    });
  }
  if (w.kind === 'ClusterRole') {
    const labels = isObj(meta['labels']) ? meta['labels'] : {};
    const bootstrap = str(labels['kubernetes.io/bootstrapping']);
    entry.labels = bootstrap === undefined ? {} : { 'kubernetes.io/bootstrapping': bootstrap };
    entry.rules = arr(o['rules']).map((r) => ({
      verbs: strings(r['verbs']),
      resources: strings(r['resources']),
      apiGroups: strings(r['apiGroups']),
      nonResourceURLs: strings(r['nonResourceURLs']),
    }));
  }
  return { type: 'put', key, entry };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function pathObj(o: Obj, path: readonly string[]): Obj {
  let cur: Obj = o;
  for (const p of path) {
    const next = cur[p];
    if (!isObj(next)) return {};
    cur = next;
  }
  return cur;
}

/** A CPU or memory quantity in cores or bytes (the exact parser of processors/health); undefined if unreadable. */
export function parseQuantity(q: unknown): number | undefined {
  return parseKubeQuantity(q) ?? undefined;
}

function requestsOf(c: Obj): ContainerRequests {
  const req = pathObj(c, ['resources', 'requests']);
  const out: ContainerRequests = { name: str(c['name']) ?? '' };
  const cpu = parseQuantity(req['cpu']);
  const memory = parseQuantity(req['memory']);
  if (cpu !== undefined) out.cpuCores = cpu;
  if (memory !== undefined) out.memoryBytes = memory;
  return out;
}

/** The subset of a pod spec the security rules read; literal env values are replaced by `*`. */
function templateSpec(spec: Obj): PodTemplateSpec {
  const out: PodTemplateSpec = { containers: arr(spec['containers']).map(containerSpec) };
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[f] === true) out[f] = true;
  if (isObj(spec['securityContext'])) out.securityContext = { ...spec['securityContext'] };
  const init = arr(spec['initContainers']);
  if (init.length > 0) out.initContainers = init.map(containerSpec);
  return out;
}

function containerSpec(c: Obj): ContainerSpec {
  const out: ContainerSpec = { name: str(c['name']) ?? '' };
  if (isObj(c['securityContext'])) out.securityContext = { ...c['securityContext'] };
  const env = arr(c['env']);
  if (env.length > 0) {
    out.env = env.map((e) => {
      const v: EnvVar = { name: str(e['name']) ?? '' };
      const value = str(e['value']);
      if (value !== undefined) v.value = value === '' ? '' : '*';
      if (isObj(e['valueFrom'])) {
        const from = e['valueFrom'];
        const ref = isObj(from['secretKeyRef']) ? from['secretKeyRef'] : undefined;
        v.valueFrom =
          ref === undefined
            ? Object.fromEntries(Object.keys(from).map((k) => [k, {}]))
            : { secretKeyRef: { name: str(ref['name']) ?? '', key: str(ref['key']) ?? '' } };
      }
      return v;
    });
  }
  return out;
}

// ---- usage ----

/** Adds a sample to a container's ring and drops minutes older than the window (in place). */
export function addSample(buckets: Bucket[], ts: number, value: number): void {
  const minute = Math.floor(ts / MINUTE);
  const last = buckets[buckets.length - 1];
  if (last !== undefined && last[0] === minute) {
    last[1] += value;
    last[2] += 1;
  } else {
    // Samples arrive in event-time order per series; an older minute is merged where it belongs.
    let at = buckets.length;
    while (at > 0 && (buckets[at - 1] as Bucket)[0] > minute) at -= 1;
    const prev = buckets[at - 1];
    if (prev !== undefined && prev[0] === minute) {
      prev[1] += value;
      prev[2] += 1;
    } else buckets.splice(at, 0, [minute, value, 1]);
  }
  const newest = (buckets[buckets.length - 1] as Bucket)[0];
  while (buckets.length > 0 && (buckets[0] as Bucket)[0] <= newest - USAGE_WINDOW_MINUTES) buckets.shift();
}

/** Mean over the minutes of the last hour before `now` (per container), summed over containers. */
function meanOf(rings: Record<string, Bucket[]>, now: number): number | undefined {
  const from = Math.floor(now / MINUTE) - USAGE_WINDOW_MINUTES + 1;
  let total = 0;
  let any = false;
  for (const c of Object.keys(rings).sort()) {
    let sum = 0;
    let n = 0;
    const buckets = rings[c] ?? [];
    // Indexed, not destructured: this runs for every pod of a namespace at every scoring round.
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as Bucket;
      if (b[0] < from) continue;
      sum += b[1];
      n += b[2];
    }
    if (n === 0) continue;
    any = true;
    total += sum / n;
  }
  return any ? total : undefined;
}

/** True when a usage entry holds no sample of the hour before `now` (its pod is gone or silent). */
export function usageIsStale(u: UsageEntry, now: number): boolean {
  const from = Math.floor(now / MINUTE) - USAGE_WINDOW_MINUTES + 1;
  // From the newest end: buckets are kept in minute order, so a live ring answers at once.
  for (const rings of [u.cpu, u.memory])
    for (const buckets of Object.values(rings))
      for (let i = buckets.length - 1; i >= 0; i--) if ((buckets[i] as Bucket)[0] >= from) return false;
  return true;
}

// ---- building the input ----

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `ScoringInput` of one cluster's entries at event time `now` (usage = the last hour before
 * it). Deterministic: entries are read in key order.
 */
export function buildInput(entries: ReadonlyMap<string, Entry>, now: number): ScoringInput {
  // Every prefix is one letter and '/': the keys are grouped by their first two characters in
  // one pass, and each group sorted when asked for (the order of a sort of all keys).
  const groups = new Map<string, string[]>();
  for (const k of entries.keys()) {
    const p = k.slice(0, 2);
    const g = groups.get(p);
    if (g === undefined) groups.set(p, [k]);
    else g.push(k);
  }
  const of = <T>(prefix: string): [string, T][] =>
    (groups.get(prefix)?.sort(compare) ?? []).map((k) => [k, entries.get(k) as T]);
  const rest = (key: string): string => key.slice(key.indexOf('/', 2) + 1); // `<ns>/<name>` after `x/<cluster>/`

  const podObjects = new Map(
    of<PodObjectEntry>(PREFIX.podObject).map(([, e]) => [`${e.namespace}/${e.name}`, e]),
  );
  const usage = new Map(of<UsageEntry>(PREFIX.usage).map(([k, e]) => [rest(k), e]));
  const pods: ScoringPod[] = [];
  const workloadsByPod = new Map<string, WorkloadRef>();
  const workloadsByName = new Map<string, WorkloadRef>();
  const bareWorkloads: ScoringWorkload[] = [];
  for (const [, f] of of<PodFactEntry>(PREFIX.podFact)) {
    const id = `${f.namespace}/${f.name}`;
    const obj = podObjects.get(id);
    const pod: ScoringPod = {
      namespace: f.namespace,
      name: f.name,
      workload: f.workload,
      categories: f.categories,
      running: f.running,
      containers: obj?.containers ?? [],
      details: f.details,
      evidence: f.evidence,
    };
    const u = usage.get(id);
    if (u !== undefined) {
      const cpu = meanOf(u.cpu, now);
      const memory = meanOf(u.memory, now);
      if (cpu !== undefined || memory !== undefined)
        pod.usage = { cpuCores: cpu ?? 0, memoryBytes: memory ?? 0 };
    }
    pods.push(pod);
    workloadsByPod.set(id, f.workload);
    const byName = `${f.workload.namespace}/${f.workload.name}`;
    if (!workloadsByName.has(byName)) workloadsByName.set(byName, f.workload);
    if (f.workload.kind === 'Pod' && obj !== undefined)
      bareWorkloads.push({
        kind: 'Pod',
        namespace: f.namespace,
        name: f.name,
        podSpec: obj.spec,
        evidence: obj.evidence,
      });
  }

  const workloads = of<ScoringWorkload>(PREFIX.workload).map(([, w]) => w);
  for (const w of workloads) {
    const byName = `${w.namespace}/${w.name}`;
    if (!workloadsByName.has(byName))
      workloadsByName.set(byName, { kind: w.kind, namespace: w.namespace, name: w.name });
  }

  const objects = of<ObjectEntry>(PREFIX.object).map(([, o]) => o);
  const namespaced = (kind: ObjectKind) =>
    objects
      .filter((o) => o.kind === kind)
      .map((o) => ({ namespace: o.namespace ?? '', name: o.name, evidence: o.evidence }));

  // A PVC counts at the workload of a pod mounting it, when one is known.
  const claimOwner = new Map<string, WorkloadRef>();
  for (const [id, obj] of [...podObjects].sort(([a], [b]) => compare(a, b))) {
    const w = workloadsByPod.get(id);
    if (w === undefined) continue;
    for (const c of obj.claims)
      if (!claimOwner.has(`${obj.namespace}/${c}`)) claimOwner.set(`${obj.namespace}/${c}`, w);
  }

  const input: ScoringInput = {
    pods,
    nodes: of<NodeEntry>(PREFIX.node).map(([, n]) => n),
    workloads: [...workloads, ...bareWorkloads],
    namespaces: objects
      .filter((o) => o.kind === 'Namespace')
      .map((o) => ({ name: o.name, evidence: o.evidence })),
    networkPolicies: namespaced('NetworkPolicy'),
    resourceQuotas: namespaced('ResourceQuota'),
    limitRanges: namespaced('LimitRange'),
    clusterRoleBindings: objects
      .filter((o) => o.kind === 'ClusterRoleBinding')
      .map((o) => ({
        name: o.name,
        roleRef: o.roleRef ?? { kind: '', name: '' },
        subjects: o.subjects ?? [],
        evidence: o.evidence,
      })),
    clusterRoles: objects
      .filter((o) => o.kind === 'ClusterRole')
      .map((o) => ({ name: o.name, labels: o.labels ?? {}, rules: o.rules ?? [], evidence: o.evidence })),
    errorGroups: of<ErrorGroupEntry>(PREFIX.errorGroup).map(([, g]) => ({
      id: g.id,
      // The group names its workload without a kind: a pod of that name, else a known workload of
      // that name, else a bare pod.
      workload: workloadsByPod.get(`${g.namespace}/${g.workload}`) ??
        workloadsByName.get(`${g.namespace}/${g.workload}`) ?? {
          kind: 'Pod',
          namespace: g.namespace,
          name: g.workload,
        },
      title: g.title,
      level: g.level,
      status: g.status,
      evidence: g.evidence,
    })),
    anomalies: of<AnomalyEntry>(PREFIX.anomaly).map(([, a]) => {
      const out: NonNullable<ScoringInput['anomalies']>[number] = {
        id: a.id,
        title: a.title,
        status: a.status,
        evidence: a.evidence,
      };
      if (a.namespace !== undefined) out.namespace = a.namespace;
      const w = a.pod === undefined ? undefined : workloadsByPod.get(`${a.namespace ?? ''}/${a.pod}`);
      if (w !== undefined) out.workload = w;
      return out;
    }),
    incidents: of<IncidentEntry>(PREFIX.incident).map(([, i]) => ({
      id: i.id,
      title: i.title,
      status: i.status,
      severity: i.severity,
      scopes: i.scopes,
      evidence: i.evidence,
    })),
    recommendations: of<RecommendationEntry>(PREFIX.recommendation).map(([, r]) => r),
    pvcs: of<PvcEntry>(PREFIX.pvc)
      .filter(([, v]) => v.usedBytes !== null && v.capacityBytes !== null)
      .map(([, v]) => {
        const out: NonNullable<ScoringInput['pvcs']>[number] = {
          namespace: v.namespace,
          name: v.name,
          usedBytes: v.usedBytes ?? 0,
          capacityBytes: v.capacityBytes ?? 0,
          evidence: v.evidence,
        };
        const w = claimOwner.get(`${v.namespace}/${v.name}`);
        if (w !== undefined) out.workload = w;
        return out;
      }),
  };
  return input;
}
