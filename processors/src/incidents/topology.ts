/**
 * The `incidents` processor (docs/design-analysis-topology.md, docs/incidents.md "Running on the
 * log"): `hetu.internal.cluster-feed` (pod-health, node-health, error-groups and anomalies facts
 * and `hetu.raw.kube` re-keyed by `<cluster>`) + `hetu.commands` (`incident.set-status`, keyed
 * `<cluster>`) → `hetu.facts.incidents` and `hetu.facts.rca`, keyed `<cluster>/<incident id>`.
 *
 * Per task, per cluster: an `IncidentsState` and the RCA context `analyze` reads, each piece under
 * its own changelog key `<cluster>|<sub key>`:
 *  - `meta`: the core's watermark and the feed clock (per source topic: latest event time, last
 *    feed sequence number);
 *  - `incident:<id>`: the incident (and the hash of its last published RCA report);
 *  - `calls:<Kind/ns/name>`, `rollouts:<Kind/ns/name>`: the core's call edges and remembered
 *    rollouts (mirrored here, so each is snapshotted alone);
 *  - `pod:<ns>/<name>`, `node:<name>`: the last health fact (signals are its diff with the next);
 *  - `kpod:<ns>/<name>`: a pod's workload and node as its watch events show them (for Events);
 *  - `tmpl:<Kind/ns/name>`: a Deployment/StatefulSet/DaemonSet's pod-template images, labels and
 *    the Services its env names;
 *  - `svc:<ns>/<name>`: a Service's selector (which workload its name stands for);
 *  - `rollout:<Kind/ns/name>`: its recent rollouts (RCA context);
 *  - `event:<ns>/<name>`: a recent Warning event; `group:<id>`: an error group; `anomaly:<id>`:
 *    an anomaly episode.
 */
import { topicEntry, type Command, type RecordTypes, utf8Text } from '@hetu/schemas';
import type { LogRecord, StatefulContext, StatefulProcessor, StatefulTickContext } from '@hetu/streams';
import { andThen } from '@hetu/streams';
import type { KubePod, NodeHealth, PodCategory, PodHealth } from '../health/index.ts';
import { parseQuantity, workloadFromNames } from '../health/index.ts';
import { clusterOfKey, sourceOf } from '../rekey/rekey.ts';
import { analyze, DEFAULT_RCA_THRESHOLDS, memoryLeaking, type RcaThresholds } from '../rca/analyze.ts';
import { toRcaReportRecord } from '../rca/record.ts';
import type {
  CallContext,
  CpuSample,
  ErrorGroupContext,
  EventContext,
  MemorySample,
  NodePodsContext,
  PodReasonContext,
  RcaContext,
  RolloutContext,
  WorkloadHealthContext,
} from '../rca/types.ts';
import { envDependencies, type EnvContainer, type EnvDependency } from './env-calls.ts';
import { fnv1a64 } from './hash.ts';
import { incidentKey, toIncidentRecord } from './record.ts';
import { eventSignal, memoryGrowthSignal, nodeSignals, podSignals, rolloutSignal } from './signals.ts';
import { DEFAULT_INCIDENTS_CONFIG, IncidentsState, workloadKey } from './state.ts';
import type {
  EvidenceRef,
  Incident,
  IncidentChange,
  IncidentSeverity,
  IncidentSignal,
  IncidentsConfig,
  IncidentsRecord,
  ResourceRef,
  Signal,
  SignalSource,
} from './types.ts';

export const INCIDENTS_PROCESSOR = 'incidents';
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
export const INCIDENT_COMMANDS_TOPIC = 'hetu.commands';
export const INCIDENTS_CHANGELOG = 'hetu.state.incidents';
export const INCIDENTS_TOPIC = 'hetu.facts.incidents';
export const RCA_TOPIC = 'hetu.facts.rca';
export const SET_STATUS_COMMAND = 'incident.set-status';

export const POD_HEALTH_SOURCE = 'hetu.facts.pod-health';
export const NODE_HEALTH_SOURCE = 'hetu.facts.node-health';
export const ERROR_GROUPS_SOURCE = 'hetu.facts.error-groups';
export const ANOMALIES_SOURCE = 'hetu.facts.anomalies';
export const KUBE_SOURCE = 'hetu.raw.kube';
export const METRICS_SOURCE = 'hetu.raw.metrics';
/** The source topics of the feed this processor reads; records of any other source are skipped. */
export const INCIDENT_SOURCES = [
  POD_HEALTH_SOURCE,
  NODE_HEALTH_SOURCE,
  ERROR_GROUPS_SOURCE,
  ANOMALIES_SOURCE,
  KUBE_SOURCE,
  METRICS_SOURCE,
] as const;

/** Container metrics kept for the RCA's resource pressure (cpu-saturation, the OOM leak subtype). */
const PRESSURE_METRICS = new Set(['cpu_usage_cores', 'cpu_throttled_ratio', 'memory_working_set_bytes']);
/** How far back pressure samples are kept: the RCA's OOM look-back (30 min). */
const PRESSURE_WINDOW_MS = 30 * 60_000;
/**
 * Samples below these shares of the limit are not kept (nothing the RCA reads: CPU counts at
 * 90 % of the limit, memory growth is read from well below it), so healthy pods hold no state.
 */
const CPU_KEEP_RATIO = 0.8;
const THROTTLE_KEEP_RATIO = 0.1;
const MEMORY_KEEP_RATIO = 0.4;
/**
 * A leak's hold (a `pressure` signal, docs/incidents.md) is sent again this often while the leak
 * lasts (so its incident stays within the correlation window), and cleared when no memory sample
 * near the limit has come for `LEAK_STALE_MS` (the pod gone, its metrics stopped).
 */
const LEAK_REFRESH_MS = 5 * 60_000;
const LEAK_STALE_MS = 10 * 60_000;

type PodHealthRecord = RecordTypes['PodHealth'];
type NodeHealthRecord = RecordTypes['NodeHealth'];
type ErrorGroupRecord = RecordTypes['ErrorGroup'];
type AnomalyRecord = RecordTypes['AnomalyEpisode'];
type WatchObserved = RecordTypes['WatchObserved'];
type MetricSampled = RecordTypes['MetricSampled'];

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface IncidentsProcessorConfig {
  readonly incidents?: Partial<IncidentsConfig>;
  readonly rca?: Partial<RcaThresholds>;
  /** Pods (last health) kept per cluster; least recently updated forgotten first. Default 20 000. */
  readonly maxPods?: number;
  readonly maxNodes?: number;
  /** Workload templates (images) kept per cluster. Default 10 000. */
  readonly maxTemplates?: number;
  /** Services (their selectors) kept per cluster. Default 10 000. */
  readonly maxServices?: number;
  /** Warning events kept per cluster (default 2 000), forgotten `eventTtlMs` (1 h) after last seen. */
  readonly maxEvents?: number;
  readonly eventTtlMs?: number;
  /** Error groups kept per cluster (default 5 000), forgotten `errorGroupTtlMs` (24 h) after last seen. */
  readonly maxErrorGroups?: number;
  readonly errorGroupTtlMs?: number;
  /** Anomaly episodes kept per cluster (default 2 000); closed ones forgotten after `anomalyTtlMs` (1 h). */
  readonly maxAnomalies?: number;
  readonly anomalyTtlMs?: number;
  /**
   * Anomaly episodes that are signals: metrics whose anomaly means degradation (upward: z > 0),
   * of a pod or Service series. Default `DEGRADATION_METRICS`.
   */
  readonly anomalyMetrics?: readonly string[];
  /**
   * The feed clock: a source partition of a cluster counts for the clock while it has had a
   * record among the cluster's last `idleRecords` feed records (a partition never seen counts as
   * seen at the cluster's first record). Default 1 000.
   */
  readonly idleRecords?: number;
  /** Partitions per source topic (default: the topic catalogue's count). */
  readonly sourcePartitions?: Readonly<Record<string, number>>;
}

export const DEFAULT_INCIDENTS_PROCESSOR_CONFIG = {
  maxPods: 20_000,
  maxNodes: 5_000,
  maxTemplates: 10_000,
  maxServices: 10_000,
  maxEvents: 2_000,
  eventTtlMs: HOUR,
  maxErrorGroups: 5_000,
  errorGroupTtlMs: 24 * HOUR,
  maxAnomalies: 2_000,
  anomalyTtlMs: HOUR,
  idleRecords: 1_000,
} as const;

/** Metrics whose upward anomaly is a degradation (SPEC §1 vocabulary). */
export const DEGRADATION_METRICS: readonly string[] = [
  'http_error_ratio',
  'http_p95_latency_seconds',
  'cpu_throttled_ratio',
  'memory_working_set_bytes',
  'gc_pause_seconds',
];

export interface IncidentsProcessorDeps {
  /** The Avro value of a record of `sourceTopic` (e.g. `serde.decode(value, <its record>)`). */
  decode(sourceTopic: string, value: Buffer): Promise<unknown> | unknown;
  decodeCommand(record: LogRecord): Promise<Command> | Command;
  readonly config?: IncidentsProcessorConfig;
}

/** Where a feed record came from (its real observation), with its event time. */
interface Pos {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly ts: number;
}

/** What `decodeInput` hands to the fold. */
export type IncidentsInput =
  | {
      readonly type: 'feed';
      readonly cluster: string;
      readonly pos: Pos;
      /** The record's key on its source topic. */
      readonly sourceKey: string | null;
      /** The decoded value (null: tombstone, or a watch object this processor does not read). */
      readonly value: unknown;
      /** For hetu.raw.kube: the parsed object of an Event or a workload template. */
      readonly object: KubeObject | null;
    }
  | { readonly type: 'command'; readonly cluster: string; readonly command: Command; readonly ts: number }
  | { readonly type: 'ignored' };

interface KubeObject {
  kind?: string;
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    annotations?: Record<string, string>;
  };
  involvedObject?: { kind?: string; namespace?: string; name?: string };
  source?: { host?: string };
  spec?: {
    nodeName?: string;
    /** A Service's selector. */
    selector?: Record<string, string>;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        containers?: ({ name?: string; image?: string } & EnvContainer)[];
        initContainers?: EnvContainer[];
      };
    };
    containers?: { name?: string; resources?: { limits?: { cpu?: unknown; memory?: unknown } } }[];
  };
}

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

// ---- per-cluster state ----

interface PodEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  h: PodHealth;
  ts: number;
  ev: EvidenceRef;
}
/** A pod as its watch events show it (same source topic as the Events that name it). */
interface KubePodEntry {
  seq: number;
  workload: ResourceRef;
  node: string | null;
  /** Container → [CPU limit in cores, memory limit in bytes] (null: none). */
  limits?: Record<string, [number | null, number | null]>;
}
/** One minute's highest sample of a container (CPU: with the minute's highest throttled share). */
interface PressureBucket {
  /** Minute since the epoch. */
  m: number;
  c: string;
  ts: number;
  v: number;
  l: number | null;
  thr?: number;
  ev: EvidenceRef;
}
/** A pod's recent CPU and memory pressure, per minute, over the last 30 minutes. */
interface PressureEntry {
  seq: number;
  cpu: PressureBucket[];
  mem: PressureBucket[];
  /** The pod's first OOM kill: memory samples of the 30 min before it are kept (the leak's evidence). */
  pin?: number;
  /** A leak held (its `memory-growth` signal active): when it was last sent, and its container. */
  lk?: number;
  lkc?: string;
}
interface NodeEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  h: NodeHealth;
  ts: number;
  ev: EvidenceRef;
}
interface TemplateEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  images: string;
  revision: string;
  ts: number;
  /** The Services its containers' env names (absent: none). */
  deps?: EnvDependency[];
  /** Its pod template's labels (absent: none), which a Service's selector matches. */
  labels?: Record<string, string>;
}
/** A Service: its selector (empty: none, it selects no pods of a workload). */
interface ServiceEntry {
  seq: number;
  sel: Record<string, string>;
}
interface EventEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  ctx: EventContext;
  lastSeen: number;
}
interface GroupEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  ctx: ErrorGroupContext;
  regressedAt: number | null;
  spike: boolean;
}
interface AnomalyEntry {
  /** The cluster's update counter at its last update (restores the least-recently-updated order). */
  seq: number;
  id: string;
  seriesKey: string;
  open: boolean;
  ts: number;
}
interface SourceClock {
  max: number;
  seq: number;
}

interface ClusterState {
  readonly cluster: string;
  core: IncidentsState;
  /** Hash of the last published report per incident id. */
  readonly reports: Map<string, string>;
  readonly pods: Map<string, PodEntry>;
  readonly kpods: Map<string, KubePodEntry>;
  readonly pressure: Map<string, PressureEntry>;
  /** Pods of `pressure` whose entry holds a leak (`lk`): the ones `tick` checks for staleness. */
  readonly leaks: Set<string>;
  readonly nodes: Map<string, NodeEntry>;
  readonly templates: Map<string, TemplateEntry>;
  readonly services: Map<string, ServiceEntry>;
  /** `<ns>/<service>` → the workload its selector selects (null: none); emptied when templates or Services change. */
  readonly serviceWorkloads: Map<string, ResourceRef | null>;
  /** RCA context: rollouts per workload key (oldest first, at most 3). */
  readonly rolloutCtx: Map<string, RolloutContext[]>;
  readonly events: Map<string, EventEntry>;
  readonly groups: Map<string, GroupEntry>;
  readonly anomalies: Map<string, AnomalyEntry>;
  /** Mirror of the core's call edges: from key → (to key → edge). */
  readonly calls: Map<
    string,
    { from: ResourceRef; to: Map<string, { workload: ResourceRef; lastSeen: number }> }
  >;
  /** Mirror of the core's remembered rollouts, in the core's order. */
  readonly rollouts: Map<string, Signal[]>;
  /** Update counter of each remembered-rollouts entry (restores the core's order). */
  readonly rolloutOrder: Map<string, number>;
  readonly sources: Map<string, SourceClock>;
  /** Feed records of the cluster so far. */
  seq: number;
  /** Context entries updated so far. */
  touches: number;
}

export interface IncidentsTaskState {
  readonly clusters: Map<string, ClusterState>;
  /** Non-null between a restore and the first use. */
  restoring: Map<string, Buffer | null> | null;
}

type Ctx = Pick<StatefulContext, 'emit' | 'changed'>;

export function incidentsProcessor(
  deps: IncidentsProcessorDeps,
): StatefulProcessor<IncidentsInput, IncidentsTaskState> {
  const cfg = { ...DEFAULT_INCIDENTS_PROCESSOR_CONFIG, ...deps.config };
  const coreCfg: IncidentsConfig = { ...DEFAULT_INCIDENTS_CONFIG, ...deps.config?.incidents };
  const rcaT = deps.config?.rca ?? {};
  const leakT: RcaThresholds = { ...DEFAULT_RCA_THRESHOLDS, ...rcaT };
  const anomalyMetrics = new Set(deps.config?.anomalyMetrics ?? DEGRADATION_METRICS);

  const sk = (cluster: string, sub: string) => cluster + '|' + sub;

  function newCluster(cluster: string): ClusterState {
    return {
      cluster,
      core: new IncidentsState(coreCfg),
      reports: new Map(),
      pods: new Map(),
      kpods: new Map(),
      pressure: new Map(),
      leaks: new Set(),
      nodes: new Map(),
      templates: new Map(),
      services: new Map(),
      serviceWorkloads: new Map(),
      rolloutCtx: new Map(),
      events: new Map(),
      groups: new Map(),
      anomalies: new Map(),
      calls: new Map(),
      rollouts: new Map(),
      rolloutOrder: new Map(),
      sources: new Map(),
      seq: 0,
      touches: 0,
    };
  }

  function clusterOf(state: IncidentsTaskState, cluster: string): ClusterState {
    let c = state.clusters.get(cluster);
    if (c === undefined) state.clusters.set(cluster, (c = newCluster(cluster)));
    return c;
  }

  // ---- the feed clock ----

  const sourcePartitions = INCIDENT_SOURCES.flatMap((topic) => {
    const n = deps.config?.sourcePartitions?.[topic] ?? topicEntry(topic)?.partitions ?? 1;
    return Array.from({ length: n }, (_, p) => topic + '#' + String(p));
  });

  /**
   * The cluster's clock: the least latest event time over its active source partitions (null:
   * none yet, or one not seen yet and not idle yet).
   */
  function lowWatermark(c: ClusterState): number | null {
    let low: number | null = null;
    for (const id of sourcePartitions) {
      const s = c.sources.get(id);
      const seq = s?.seq ?? 0;
      if (c.seq - seq >= cfg.idleRecords) continue; // idle (or never seen for long): does not hold the clock
      if (s === undefined) return null; // not seen yet, not idle yet: wait for it
      if (low === null || s.max < low) low = s.max;
    }
    return low;
  }

  // ---- publishing ----

  function publish(c: ClusterState, changes: readonly IncidentChange[], ctx: Ctx, at: number): void {
    for (const ch of changes) {
      if (ch.type === 'deleted') {
        const key = incidentKey(c.cluster, ch.id);
        ctx.emit(INCIDENTS_TOPIC, { key, value: null, timestamp: at });
        ctx.emit(RCA_TOPIC, { key, value: null, timestamp: at });
        c.reports.delete(ch.id);
        ctx.changed(sk(c.cluster, 'incident:' + ch.id));
        continue;
      }
      const inc = ch.incident;
      const key = incidentKey(c.cluster, inc.id);
      ctx.emit(INCIDENTS_TOPIC, { key, value: toIncidentRecord(inc, c.cluster), timestamp: inc.updatedAt });
      ctx.changed(sk(c.cluster, 'incident:' + inc.id));
      emitRca(c, inc, ctx);
    }
    const changed = changes.filter((ch) => ch.type === 'upserted');
    if (changed.length > 0)
      refreshCallers(
        c,
        changed.flatMap((ch) => ch.incident.workloads.map(workloadKey)),
        new Set(changed.map((ch) => ch.incident.id)),
        ctx,
        at,
      );
  }

  /** Emits the RCA of `inc` when it differs from the last one emitted (the time aside). */
  function emitRca(c: ClusterState, inc: Incident, ctx: Ctx): void {
    const report = analyze(inc, rcaContext(c, inc), rcaT);
    const hash = fnv1a64(JSON.stringify({ ...report, asOf: 0 }));
    if (c.reports.get(inc.id) === hash) return;
    c.reports.set(inc.id, hash);
    ctx.changed(sk(c.cluster, 'incident:' + inc.id)); // the report's hash is kept with the incident
    ctx.emit(RCA_TOPIC, {
      key: incidentKey(c.cluster, inc.id),
      value: toRcaReportRecord(report, c.cluster),
      timestamp: report.asOf,
    });
  }

  /**
   * An RCA reads more than its incident: the health, errors and calls of the workloads its
   * workloads call. When those change (another incident on a called workload changed, a call was
   * first seen), the RCA of every other live incident whose workloads call `workloads` (directly
   * or through others) or are among them is computed again at event time `at`, and emitted when
   * it changed: without this, a caller's incident opened before its dependency's failure was known
   * kept "unknown" (the demo's shop/api beside payments/ledger).
   */
  function refreshCallers(
    c: ClusterState,
    workloads: readonly string[],
    skip: ReadonlySet<string>,
    ctx: Ctx,
    at: number,
  ): void {
    if (c.calls.size === 0) return;
    const reach = new Set(workloads);
    const queue = [...reach];
    for (let i = 0; i < queue.length; i++) {
      const callee = queue[i] as string;
      for (const [fk, e] of c.calls)
        if (!reach.has(fk) && e.to.has(callee)) {
          reach.add(fk);
          queue.push(fk);
        }
    }
    const stale: Incident[] = [];
    for (const inc of c.core.held(true))
      if (!skip.has(inc.id) && inc.workloads.some((w) => reach.has(workloadKey(w))))
        stale.push({ ...inc, updatedAt: Math.max(inc.updatedAt, at) });
    for (const inc of stale) emitRca(c, inc, ctx);
  }

  /** Applies signals (after their context was updated) and advances the clock. */
  function applyAll(c: ClusterState, signals: readonly Signal[], ctx: Ctx): void {
    for (const s of signals) {
      if (s.source === 'rollout') mirrorRollout(c, s, ctx);
      else if (s.workload !== undefined && s.cleared !== true) observeEnvCalls(c, s.workload, s.ts, ctx);
      publish(c, c.core.apply(s), ctx, s.ts);
    }
  }

  function tick(c: ClusterState, ctx: Ctx): void {
    const low = lowWatermark(c);
    if (low === null || !(low > c.core.watermark)) return;
    for (const id of [...c.leaks]) {
      const e = c.pressure.get(id);
      // (an entry dropped by the cap: its hold ends now)
      if (e === undefined) endLeak(c, id, low, undefined, ctx);
      else if (e.lk === undefined) c.leaks.delete(id);
      else if (low - e.lk >= LEAK_STALE_MS) endLeak(c, id, e.lk + LEAK_STALE_MS, undefined, ctx);
    }
    const changes = c.core.advance(low);
    ctx.changed(sk(c.cluster, 'meta'));
    expireMirrors(c, low, ctx);
    expireContext(c, low, ctx);
    publish(c, changes, ctx, low);
  }

  // ---- mirrors of the core's calls and rollouts (same rules as IncidentsState) ----

  function mirrorRollout(c: ClusterState, s: Signal, ctx: Ctx): void {
    if (s.workload === undefined || s.cleared === true) return;
    const wk = workloadKey(s.workload);
    const list = (c.rollouts.get(wk) ?? []).filter((r) => r.key !== s.key);
    list.push(structuredClone(s));
    list.sort((a, b) => a.ts - b.ts);
    while (list.length > 3) list.shift();
    c.rollouts.delete(wk);
    c.rollouts.set(wk, list);
    c.rolloutOrder.set(wk, ++c.touches);
    ctx.changed(sk(c.cluster, 'meta'));
    ctx.changed(sk(c.cluster, 'rollouts:' + wk));
    while (c.rollouts.size > coreCfg.maxRemembered) {
      const first = c.rollouts.keys().next().value as string;
      c.rollouts.delete(first);
      c.rolloutOrder.delete(first);
      ctx.changed(sk(c.cluster, 'rollouts:' + first));
    }
  }

  function observeCall(c: ClusterState, from: ResourceRef, to: ResourceRef, ts: number, ctx: Ctx): void {
    const fk = workloadKey(from);
    const tk = workloadKey(to);
    if (fk === tk) return;
    const added = c.core.observeCall(from, to, ts);
    let e = c.calls.get(fk);
    if (e === undefined) c.calls.set(fk, (e = { from: { ...from }, to: new Map() }));
    const edge = e.to.get(tk);
    if (edge === undefined) e.to.set(tk, { workload: { ...to }, lastSeen: ts });
    else if (ts > edge.lastSeen) edge.lastSeen = ts;
    else return;
    ctx.changed(sk(c.cluster, 'calls:' + fk));
    if (!added) return;
    // The core may have dropped its least recently seen edge: drop what it no longer holds.
    for (const [k, x] of [...c.calls]) {
      const held = new Set(c.core.callees(x.from).map(workloadKey));
      for (const t of [...x.to.keys()])
        if (!held.has(t)) {
          x.to.delete(t);
          ctx.changed(sk(c.cluster, 'calls:' + k));
        }
      if (x.to.size === 0) c.calls.delete(k);
    }
    // Then the RCAs that read the new edge, from calls that are the core's again.
    refreshCallers(c, [fk], new Set(), ctx, ts);
  }

  function expireMirrors(c: ClusterState, w: number, ctx: Ctx): void {
    for (const [fk, e] of [...c.calls]) {
      for (const [tk, edge] of [...e.to])
        if (w - edge.lastSeen >= coreCfg.callTtlMs) {
          e.to.delete(tk);
          ctx.changed(sk(c.cluster, 'calls:' + fk));
        }
      if (e.to.size === 0) c.calls.delete(fk);
    }
    for (const [wk, list] of [...c.rollouts]) {
      const keep = list.filter((r) => w - r.ts < coreCfg.rolloutLookbackMs);
      if (keep.length === list.length) continue;
      if (keep.length === 0) {
        c.rollouts.delete(wk);
        c.rolloutOrder.delete(wk);
      } else c.rollouts.set(wk, keep);
      ctx.changed(sk(c.cluster, 'rollouts:' + wk));
    }
  }

  /** Drops context past its TTL (by the cluster's clock). */
  function expireContext(c: ClusterState, w: number, ctx: Ctx): void {
    for (const [k, e] of [...c.events])
      if (w - e.lastSeen >= cfg.eventTtlMs) {
        c.events.delete(k);
        ctx.changed(sk(c.cluster, 'event:' + k));
      }
    for (const [k, g] of [...c.groups])
      if (w - g.ctx.lastSeen >= cfg.errorGroupTtlMs) {
        c.groups.delete(k);
        ctx.changed(sk(c.cluster, 'group:' + k));
      }
    for (const [k, a] of [...c.anomalies])
      if (!a.open && w - a.ts >= cfg.anomalyTtlMs) {
        c.anomalies.delete(k);
        ctx.changed(sk(c.cluster, 'anomaly:' + k));
      }
    for (const [wk, list] of [...c.rolloutCtx]) {
      const keep = list.filter((r) => w - r.ts < coreCfg.rolloutLookbackMs + HOUR);
      if (keep.length === list.length) continue;
      if (keep.length === 0) c.rolloutCtx.delete(wk);
      else c.rolloutCtx.set(wk, keep);
      ctx.changed(sk(c.cluster, 'rollout:' + wk));
    }
  }

  /** Puts `key` last (most recently updated) and drops the oldest entries beyond `max`. */
  function touch<V extends { seq: number }>(
    c: ClusterState,
    map: Map<string, V>,
    prefix: string,
    key: string,
    v: Omit<V, 'seq'>,
    max: number,
    ctx: Ctx,
  ) {
    c.touches++;
    ctx.changed(sk(c.cluster, 'meta'));
    map.delete(key);
    map.set(key, { ...v, seq: c.touches } as V);
    ctx.changed(sk(c.cluster, prefix + key));
    while (map.size > max) {
      const first = map.keys().next().value as string;
      map.delete(first);
      ctx.changed(sk(c.cluster, prefix + first));
    }
  }

  // ---- the RCA context ----

  /** The workload a pod, a Service or a named workload of `namespace` stands for. */
  function resolveWorkload(c: ClusterState, namespace: string, name: string, pod?: string): ResourceRef {
    if (pod !== undefined) {
      const w = podWorkload(c, namespace, pod);
      if (w !== undefined && w.name === name) return w;
    }
    return knownWorkload(c, namespace, name) ?? { kind: 'Deployment', namespace, name };
  }

  /** The workload of that name in `namespace` whose template or pods this processor holds. */
  function knownWorkload(c: ClusterState, namespace: string, name: string): ResourceRef | undefined {
    for (const kind of TEMPLATE_KINDS) {
      if (c.templates.has(kind + '/' + namespace + '/' + name)) return { kind, namespace, name };
    }
    for (const p of c.pods.values())
      if (p.h.workload.namespace === namespace && p.h.workload.name === name) return ref(p.h.workload);
    return undefined;
  }

  /**
   * The workload a Service of `namespace` stands for: the one whose pod template its selector
   * matches (a template of the Service's own name first, then the first by kind/namespace/name),
   * else, for a Service hetu does not know or that selects no template, the workload of that name
   * (`resolveWorkload`): a Service `ledger-api` selecting `app=ledger` is Deployment `ledger`.
   */
  function serviceTarget(c: ClusterState, namespace: string, name: string): ResourceRef {
    return serviceWorkload(c, namespace, name) ?? resolveWorkload(c, namespace, name);
  }

  /** The workload a known Service's selector selects (undefined: none, or the Service is not known). */
  function serviceWorkload(c: ClusterState, namespace: string, name: string): ResourceRef | undefined {
    const id = namespace + '/' + name;
    const memo = c.serviceWorkloads.get(id);
    if (memo !== undefined) return memo ?? undefined;
    const sel = c.services.get(id)?.sel;
    let best: ResourceRef | null = null;
    let bestKey = '';
    if (sel !== undefined && Object.keys(sel).length > 0)
      for (const [wk, t] of c.templates) {
        if (t.labels === undefined) continue;
        const [kind, ns, wname] = wk.split('/') as [string, string, string];
        if (ns !== namespace) continue;
        let all = true;
        for (const k in sel)
          if (t.labels[k] !== sel[k]) {
            all = false;
            break;
          }
        if (!all) continue;
        const own = wname === name;
        const bestOwn = best !== null && best.name === name;
        if (best === null || (own && !bestOwn) || (own === bestOwn && wk < bestKey)) {
          best = { kind, namespace, name: wname };
          bestKey = wk;
        }
      }
    c.serviceWorkloads.set(id, best);
    return best ?? undefined;
  }

  /**
   * The calls `workload`'s template env names (docs/incidents.md "Calls named in the pod
   * template"), seen at `ts`: when the template is seen, and again with every signal of the
   * workload (a template unchanged for longer than the edges' 24 h would otherwise lose them).
   * A bare or `<service>.<namespace>` name counts only once a workload of that name is known.
   */
  function observeEnvCalls(c: ClusterState, workload: ResourceRef, ts: number, ctx: Ctx): void {
    const deps = c.templates.get(workloadKey(workload))?.deps;
    if (deps === undefined) return;
    for (const d of deps) {
      const to = d.qualified
        ? serviceTarget(c, d.namespace, d.name)
        : (serviceWorkload(c, d.namespace, d.name) ?? knownWorkload(c, d.namespace, d.name));
      if (to !== undefined) observeCall(c, workload, to, ts, ctx);
    }
  }

  /** A pod's workload: from its health fact, else from its watch events. */
  function podWorkload(c: ClusterState, namespace: string, pod: string): ResourceRef | undefined {
    const p = c.pods.get(namespace + '/' + pod);
    if (p !== undefined) return ref(p.h.workload);
    const k = c.kpods.get(namespace + '/' + pod);
    return k === undefined ? undefined : { ...k.workload };
  }

  function podNode(c: ClusterState, namespace: string, pod: string): string | undefined {
    const n = c.pods.get(namespace + '/' + pod)?.h.node ?? c.kpods.get(namespace + '/' + pod)?.node;
    return n === null ? undefined : n;
  }

  /**
   * A workload's health for RCA, scoped to the incident: unhealthy when one of its pods is in a
   * failure category now, or had a pod failure signal in the incident (even one cleared since):
   * the report explains the incident, and a dependency that has recovered by the time its
   * callers' errors are analysed was still down when they failed. A failure signal of the
   * workload in another incident while this one was open counts too (`others`): a dependency
   * in an incident of its own is down for its callers even before its pods crash (the demo's
   * ledger: anomalies, errors and failing probes first, the crash loop minutes later).
   */
  function workloadHealth(
    wk: string,
    pods: readonly PodEntry[],
    inc: Incident,
    others: readonly IncidentSignal[],
  ): WorkloadHealthContext | null {
    const reasons: string[] = [];
    let since: number | undefined;
    let evidence: EvidenceRef | undefined;
    let workload: ResourceRef | undefined;
    const note = (reason: string, ts: number, ev: EvidenceRef | undefined) => {
      if (!reasons.includes(reason)) reasons.push(reason);
      if (since === undefined || ts < since) {
        since = ts;
        evidence = ev;
      }
    };
    // `pods`: the workload's pods, in the order of `c.pods` (least recently updated first).
    for (const p of pods) {
      workload = ref(p.h.workload);
      for (const b of p.h.categories) if (SIGNALLING.has(b)) note(b, p.ev.ts, p.ev);
    }
    for (const sig of inc.signals) {
      if (sig.source !== 'pod' || sig.workload === null || workloadKey(sig.workload) !== wk) continue;
      workload = ref(sig.workload);
      note(sig.kind, sig.firstSeen, sig.evidence[0]);
    }
    for (const sig of others) {
      workload = ref(sig.workload as ResourceRef);
      note(sig.kind, sig.firstSeen, sig.evidence[0]);
    }
    if (workload === undefined) return null;
    return {
      workload,
      healthy: reasons.length === 0,
      reasons: reasons.sort(),
      ...(since === undefined ? {} : { since }),
      ...(evidence === undefined ? {} : { evidence }),
    };
  }

  function rcaContext(c: ClusterState, inc: Incident): RcaContext {
    const { workloads, failedNodes } = inc;
    // The incident's workloads and everything reachable over call edges (the dependency walk).
    const scope = new Map<string, ResourceRef>();
    for (const w of workloads) scope.set(workloadKey(w), w);
    const calls: CallContext[] = [];
    const queue = [...scope.keys()];
    for (let i = 0; i < queue.length; i++) {
      const e = c.calls.get(queue[i] as string);
      if (e === undefined) continue;
      for (const [tk, edge] of [...e.to].sort(([a], [b]) => cmp(a, b))) {
        calls.push({ from: { ...e.from }, to: { ...edge.workload } });
        if (!scope.has(tk)) {
          scope.set(tk, edge.workload);
          queue.push(tk);
        }
      }
    }
    // One pass over the pods: those of each workload in scope, in the map's order.
    const scopePods = new Map<string, PodEntry[]>();
    const podsInScope: [string, PodEntry][] = [];
    // A pod's workload name is what follows some '/' of its workload's key: pods of other names are
    // skipped without building their key (this runs on every incident change, over every pod).
    const names = new Set<string>();
    for (const k of scope.keys())
      for (let i = k.indexOf('/'); i >= 0; i = k.indexOf('/', i + 1)) names.add(k.slice(i + 1));
    const inScope = (w: ResourceRef | undefined) =>
      w !== undefined && names.has(w.name) && scope.has(workloadKey(w));
    // forEach: no [key, value] pair is made for the pods skipped.
    c.pods.forEach((p, id) => {
      if (!names.has(p.h.workload.name)) return;
      const wk = workloadKey(p.h.workload);
      if (!scope.has(wk)) return;
      podsInScope.push([id, p]);
      let list = scopePods.get(wk);
      if (list === undefined) scopePods.set(wk, (list = []));
      list.push(p);
    });
    const rollouts: RolloutContext[] = [];
    for (const wk of [...scope.keys()].sort()) rollouts.push(...(c.rolloutCtx.get(wk) ?? []));
    const podReasons: PodReasonContext[] = [];
    // Only the pods in scope are sorted: an incident touches a few workloads of many.
    podsInScope.sort(([a], [b]) => cmp(a, b));
    for (const [, p] of podsInScope) {
      const w = ref(p.h.workload);
      for (const r of p.h.reasons) {
        podReasons.push({
          pod: { kind: 'Pod', namespace: p.h.namespace, name: p.h.name },
          workload: w,
          ...(p.h.node === null ? {} : { node: p.h.node }),
          ...(r.container === undefined ? {} : { container: r.container }),
          reason: r.reason,
          ...(r.message === undefined ? {} : { message: r.message }),
          ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }),
          ...(r.restartCount === undefined ? {} : { restartCount: r.restartCount }),
          ts: p.ev.ts,
          evidence: p.ev,
        });
      }
    }
    const errorGroups = [...c.groups.values()]
      .filter((g) => inScope(g.ctx.workload))
      .map((g) => g.ctx)
      .sort((a, b) => a.firstSeen - b.firstSeen || cmp(a.id, b.id));
    const events = [...c.events.values()]
      .filter((e) => inScope(e.ctx.workload) || inScope(e.ctx.involved))
      .map((e) => e.ctx)
      .sort((a, b) => a.ts - b.ts);
    // Failure signals of the workloads in scope in the other incidents held, while this one was
    // open: seen by its time, and not cleared before it opened.
    const others = new Map<string, IncidentSignal[]>();
    for (const o of c.core.held()) {
      if (o.id === inc.id) continue;
      for (const sig of o.signals) {
        if (!OTHER_FAILURE_SOURCES.has(sig.source) || sig.workload === null) continue;
        if (sig.firstSeen > inc.updatedAt || (sig.cleared && (sig.clearedAt ?? sig.lastSeen) < inc.openedAt))
          continue;
        const wk = workloadKey(sig.workload);
        if (!scope.has(wk)) continue;
        let list = others.get(wk);
        if (list === undefined) others.set(wk, (list = []));
        list.push(sig);
      }
    }
    const health: WorkloadHealthContext[] = [];
    for (const wk of [...scope.keys()].sort()) {
      const h = workloadHealth(wk, scopePods.get(wk) ?? [], inc, others.get(wk) ?? []);
      if (h !== null) health.push(h);
    }
    const nodePods: NodePodsContext[] = failedNodes.map((node) => ({
      node,
      pods: [...c.pods.values()]
        .filter((p) => p.h.node === node)
        .map((p) => ({
          pod: { kind: 'Pod', namespace: p.h.namespace, name: p.h.name },
          workload: ref(p.h.workload),
        }))
        .sort((a, b) => cmp(workloadKey(a.pod), workloadKey(b.pod))),
    }));
    const cpu: CpuSample[] = [];
    const memory: MemorySample[] = [];
    // Pods in scope first, then sorted (keys are unique: the same order as sorting all of them).
    const pressureInScope: [string, PressureEntry, ResourceRef][] = [];
    c.pressure.forEach((p, id) => {
      const workload = c.kpods.get(id)?.workload;
      if (inScope(workload)) pressureInScope.push([id, p, workload as ResourceRef]);
    });
    pressureInScope.sort(([a], [b]) => cmp(a, b));
    for (const [id, p, workload] of pressureInScope) {
      const slash = id.indexOf('/');
      const pod: ResourceRef = { kind: 'Pod', namespace: id.slice(0, slash), name: id.slice(slash + 1) };
      for (const b of p.cpu)
        cpu.push({
          pod,
          workload: { ...workload },
          container: b.c,
          ts: b.ts,
          usageCores: b.v,
          limitCores: b.l,
          ...(b.thr === undefined ? {} : { throttledRatio: b.thr }),
          evidence: b.ev,
        });
      for (const b of p.mem)
        memory.push({
          pod,
          workload: { ...workload },
          container: b.c,
          ts: b.ts,
          usageBytes: b.v,
          limitBytes: b.l,
          evidence: b.ev,
        });
    }
    return {
      rollouts,
      podReasons,
      errorGroups,
      events,
      calls,
      workloadHealth: health,
      nodePods,
      cpu,
      memory,
    };
  }

  // ---- inputs ----

  function evidence(pos: Pos, excerpt: string): EvidenceRef {
    return {
      topic: pos.topic,
      partition: pos.partition,
      offset: pos.offset,
      ts: pos.ts,
      excerpt: cut(excerpt, 240),
    };
  }

  function onPodHealth(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const v = input.value as PodHealthRecord | null;
    const id = v === null ? podIdOf(input.sourceKey, c.cluster) : v.namespace + '/' + v.name;
    if (id === null) return;
    const prev = c.pods.get(id) ?? null;
    if (v === null) {
      if (prev === null) return;
      c.pods.delete(id);
      ctx.changed(sk(c.cluster, 'pod:' + id));
      const ev = evidence(input.pos, 'PodHealth ' + id + ' deleted');
      applyAll(c, podSignals(prev.h, null, input.pos.ts, [ev]), ctx);
      if (c.pressure.get(id)?.lk !== undefined) endLeak(c, id, input.pos.ts, ev, ctx, ref(prev.h.workload));
      return;
    }
    const h = toPodHealth(v);
    const ev = evidence(
      input.pos,
      'PodHealth ' +
        id +
        ' [' +
        h.categories.join(',') +
        ']' +
        (v.evidence.excerpt ? ': ' + v.evidence.excerpt : ''),
    );
    touch(c, c.pods, 'pod:', id, { h, ts: input.pos.ts, ev }, cfg.maxPods, ctx);
    const press = c.pressure.get(id);
    if (press !== undefined && press.pin === undefined && h.categories.includes('oomkilled'))
      touch(c, c.pressure, 'press:', id, { ...withoutSeq(press), pin: input.pos.ts }, cfg.maxPods, ctx);
    applyAll(c, podSignals(prev?.h ?? null, h, input.pos.ts, [ev]), ctx);
  }

  function onNodeHealth(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const v = input.value as NodeHealthRecord | null;
    const name = v === null ? nodeIdOf(input.sourceKey, c.cluster) : v.name;
    if (name === null) return;
    const prev = c.nodes.get(name) ?? null;
    if (v === null) {
      if (prev === null) return;
      c.nodes.delete(name);
      ctx.changed(sk(c.cluster, 'node:' + name));
      applyAll(
        c,
        nodeSignals(prev.h, null, input.pos.ts, [evidence(input.pos, 'NodeHealth ' + name + ' deleted')]),
        ctx,
      );
      return;
    }
    const h: NodeHealth = {
      name: v.name,
      ready: v.ready,
      unschedulable: v.unschedulable,
      states: [...v.states],
      reasons: v.reasons.map((r) => ({
        state: r.state,
        condition: r.condition,
        status: r.status,
        ...(r.reason === null ? {} : { reason: r.reason }),
        ...(r.message === null ? {} : { message: r.message }),
        ...(r.at === null ? {} : { at: r.at }),
      })),
    };
    const ev = evidence(
      input.pos,
      'NodeHealth ' + name + ' [' + h.states.join(',') + '] ready=' + String(h.ready),
    );
    touch(c, c.nodes, 'node:', name, { h, ts: input.pos.ts, ev }, cfg.maxNodes, ctx);
    applyAll(c, nodeSignals(prev?.h ?? null, h, input.pos.ts, [ev]), ctx);
  }

  function onErrorGroup(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const v = input.value as ErrorGroupRecord | null;
    if (v === null) {
      const id = input.sourceKey;
      if (id !== null && c.groups.delete(id)) ctx.changed(sk(c.cluster, 'group:' + id));
      return;
    }
    const prev = c.groups.get(v.id);
    const workload = resolveWorkload(c, v.namespace, v.workload, v.lastPod);
    const message = withRootCause(v.bestSample?.message ?? undefined, v.bestSample?.stack ?? undefined);
    const count = Number(v.count);
    const ev = evidence(
      input.pos,
      'ErrorGroup ' + v.namespace + '/' + v.workload + ' ' + v.level + ' x' + String(count) + ': ' + v.title,
    );
    const g: Omit<GroupEntry, 'seq'> = {
      ctx: {
        id: v.id,
        workload,
        title: v.title,
        reason: v.reason,
        level: v.level,
        firstSeen: v.firstSeen,
        lastSeen: v.lastSeen,
        count,
        ...(message !== undefined && message !== v.title ? { message: cut(message, 500) } : {}),
        evidence: prev?.ctx.evidence ?? ev,
      },
      regressedAt: v.regressed ? v.regressedAt : null,
      spike: v.spike,
    };
    touch(c, c.groups, 'group:', v.id, g, cfg.maxErrorGroups, ctx);
    // The calls relation: a Service named `<svc>.<ns>.svc` in the title or message.
    const text = v.title + '\n' + (message ?? '');
    const seen = new Set<string>();
    for (const m of text.matchAll(SERVICE_NAME)) {
      const to = serviceTarget(c, m[2] as string, m[1] as string);
      const k = workloadKey(to);
      if (seen.has(k)) continue;
      seen.add(k);
      observeCall(c, workload, to, v.lastSeen, ctx);
    }
    if (v.severityRank < 4 || v.mergedInto !== null || v.status === 'ignored') return;
    const kinds: Signal['kind'][] = [];
    if (prev === undefined) kinds.push('error-group-new');
    if (g.regressedAt !== null && g.regressedAt !== prev?.regressedAt) kinds.push('error-group-regressed');
    if (g.spike && prev?.spike !== true) kinds.push('error-group-spike');
    const severity: IncidentSeverity = v.severityRank >= 5 ? 'high' : 'medium';
    applyAll(
      c,
      kinds.map((kind) => ({
        source: 'error-group',
        key: v.id,
        kind,
        severity,
        ts:
          kind === 'error-group-new'
            ? v.firstSeen
            : kind === 'error-group-regressed'
              ? (g.regressedAt as number)
              : v.lastSeen,
        resource: workload,
        workload,
        detail: {
          errorGroupId: v.id,
          title: v.title,
          errorReason: v.reason,
          ...(message === undefined ? {} : { message: cut(message, 500) }),
          eventCount: count,
        },
        evidence: [ev],
      })),
      ctx,
    );
  }

  function onAnomaly(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const v = input.value as AnomalyRecord | null;
    if (v === null) {
      const id = input.sourceKey;
      if (id !== null && c.anomalies.delete(id)) ctx.changed(sk(c.cluster, 'anomaly:' + id));
      return;
    }
    const prev = c.anomalies.get(v.id);
    const open = v.status === 'open';
    touch(
      c,
      c.anomalies,
      'anomaly:',
      v.id,
      { id: v.id, seriesKey: v.seriesKey, open, ts: v.ts },
      cfg.maxAnomalies,
      ctx,
    );
    const opened = prev === undefined && open;
    const closed = !open && prev?.open === true;
    if (!opened && !closed) return;
    // Signals: upward anomalies of degradation metrics of a pod or a Service (node conditions come
    // from node health; request-rate changes and cluster-wide series are not failures).
    if (!anomalyMetrics.has(v.metric) || !(v.peakZ > 0)) return;
    const l = v.labels;
    const ns = l['namespace'] ?? '';
    let resource: ResourceRef;
    let workload: ResourceRef;
    let node: string | undefined;
    if (l['pod'] !== undefined) {
      resource = { kind: 'Pod', namespace: ns, name: l['pod'] };
      workload = podWorkload(c, ns, l['pod']) ?? resolveWorkload(c, ns, podBaseName(l['pod']));
      node = podNode(c, ns, l['pod']);
    } else if (l['service'] !== undefined) {
      resource = { kind: 'Service', namespace: ns, name: l['service'] };
      workload = serviceTarget(c, ns, l['service']);
    } else return;
    const ev = evidence(
      input.pos,
      'Anomaly ' + v.seriesKey + ' ' + v.status + ' z=' + String(Math.round(v.peakZ * 100) / 100),
    );
    applyAll(
      c,
      [
        {
          source: 'anomaly',
          key: v.seriesKey,
          kind: 'anomaly',
          severity: v.peakSeverity,
          ts: closed ? (v.closedAt ?? v.ts) : v.openedAt,
          ...(closed ? { cleared: true } : {}),
          resource,
          workload,
          ...(node === undefined ? {} : { node }),
          detail: { metric: v.metric, z: v.peakZ },
          evidence: [ev],
        },
      ],
      ctx,
    );
  }

  function onKube(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const w = input.value as WatchObserved | null;
    const o = input.object;
    if (w === null || o === null) return;
    if (w.kind === 'Event') onEvent(c, input, w, o, ctx);
    else if (w.kind === 'Pod') onKubePod(c, w, o, ctx);
    else if (TEMPLATE_KINDS.has(w.kind)) onTemplate(c, input, w, o, ctx);
    else if (w.kind === 'Service') onService(c, w, o, ctx);
  }

  /** A Service's selector: which workload `<service>.<namespace>.svc` names (`serviceTarget`). */
  function onService(c: ClusterState, w: WatchObserved, o: KubeObject, ctx: Ctx): void {
    const id = (w.namespace ?? '') + '/' + (w.name ?? '');
    if (w.type === 'DELETED') {
      if (c.services.delete(id)) {
        c.serviceWorkloads.clear();
        ctx.changed(sk(c.cluster, 'svc:' + id));
      }
      return;
    }
    const sel = o.spec?.selector ?? {};
    const prev = c.services.get(id);
    if (prev !== undefined && sameLabels(prev.sel, sel)) return;
    // (what serviceWorkload remembered may change: a new or changed selector, or one the cap drops)
    c.serviceWorkloads.clear();
    touch(c, c.services, 'svc:', id, { sel: { ...sel } }, cfg.maxServices, ctx);
  }

  function onEvent(c: ClusterState, input: FeedInput, w: WatchObserved, o: KubeObject, ctx: Ctx): void {
    const id = (o.metadata?.namespace ?? '') + '/' + (o.metadata?.name ?? '');
    if (w.type === 'DELETED') return; // an expired Event: what it said stays true
    if (o.type !== 'Warning' || o.reason === undefined) return;
    const inv = o.involvedObject ?? {};
    const involved: ResourceRef = {
      kind: inv.kind ?? 'Unknown',
      namespace: inv.namespace ?? '',
      name: inv.name ?? '',
    };
    let workload: ResourceRef | undefined;
    let node = o.source?.host;
    if (involved.kind === 'Pod') {
      workload = podWorkload(c, involved.namespace, involved.name);
      node = podNode(c, involved.namespace, involved.name) ?? node;
    } else if (TEMPLATE_KINDS.has(involved.kind)) workload = involved;
    if (involved.kind === 'Node') node = involved.name;
    const message = o.message ?? '';
    const ev = evidence(
      input.pos,
      'Warning ' +
        o.reason +
        ' ' +
        involved.kind +
        ' ' +
        (involved.namespace ? involved.namespace + '/' : '') +
        involved.name +
        ': ' +
        message,
    );
    const ectx: EventContext = {
      involved,
      ...(workload === undefined ? {} : { workload }),
      type: 'Warning',
      reason: o.reason,
      message: cut(message, 1000),
      ts: input.pos.ts,
      ...(o.count === undefined ? {} : { count: o.count }),
      evidence: ev,
    };
    touch(c, c.events, 'event:', id, { ctx: ectx, lastSeen: input.pos.ts }, cfg.maxEvents, ctx);
    // The kernel's OOM kill is reported on the Node, but it is a container's failure (the pod's
    // `oomkilled` signal): as a node-level signal it would pull every failure on the node into one
    // incident. Context only.
    if (involved.kind === 'Node' && o.reason === 'OOMKilling') return;
    applyAll(
      c,
      [
        eventSignal(
          {
            involved,
            ...(workload === undefined ? {} : { workload }),
            ...(node === undefined ? {} : { node }),
            reason: o.reason,
            message: cut(message, 500),
            ...(o.count === undefined ? {} : { count: o.count }),
            ts: input.pos.ts,
          },
          [ev],
        ),
      ],
      ctx,
    );
  }

  function onKubePod(c: ClusterState, w: WatchObserved, o: KubeObject, ctx: Ctx): void {
    const id = (w.namespace ?? '') + '/' + (w.name ?? '');
    if (w.type === 'DELETED') {
      if (c.kpods.delete(id)) ctx.changed(sk(c.cluster, 'kpod:' + id));
      return;
    }
    const workload = ref(workloadFromNames(o as unknown as KubePod));
    const node = o.spec?.nodeName ?? null;
    const limits: Record<string, [number | null, number | null]> = {};
    for (const k of o.spec?.containers ?? [])
      if (k.name !== undefined)
        limits[k.name] = [
          parseQuantity(k.resources?.limits?.cpu),
          parseQuantity(k.resources?.limits?.memory),
        ];
    const prev = c.kpods.get(id);
    if (
      prev !== undefined &&
      prev.node === node &&
      workloadKey(prev.workload) === workloadKey(workload) &&
      JSON.stringify(prev.limits ?? {}) === JSON.stringify(limits)
    )
      return;
    touch(c, c.kpods, 'kpod:', id, { workload, node, limits }, cfg.maxPods, ctx);
  }

  function onTemplate(c: ClusterState, input: FeedInput, w: WatchObserved, o: KubeObject, ctx: Ctx): void {
    const workload: ResourceRef = { kind: w.kind, namespace: w.namespace ?? '', name: w.name ?? '' };
    const wk = workloadKey(workload);
    if (w.type === 'DELETED') {
      if (c.templates.delete(wk)) {
        c.serviceWorkloads.clear();
        ctx.changed(sk(c.cluster, 'tmpl:' + wk));
      }
      return;
    }
    const images = (o.spec?.template?.spec?.containers ?? []).map((x) => x.image ?? '').join(', ');
    const revision =
      o.metadata?.annotations?.['deployment.kubernetes.io/revision'] ??
      (o.metadata?.generation === undefined ? (w.resourceVersion ?? '') : String(o.metadata.generation));
    const prev = c.templates.get(wk);
    const pod = o.spec?.template?.spec;
    const deps = envDependencies(
      [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])],
      workload.namespace,
    );
    const entry: Omit<TemplateEntry, 'seq'> = { images, revision, ts: input.pos.ts };
    if (deps.length > 0) entry.deps = deps;
    const labels = o.spec?.template?.metadata?.labels;
    if (labels !== undefined && Object.keys(labels).length > 0) entry.labels = { ...labels };
    // What serviceWorkload remembered stands while the templates' pod labels do (a status update
    // changes none); a new template may also make the cap drop another.
    if (prev === undefined || !sameLabels(prev.labels ?? {}, entry.labels ?? {})) c.serviceWorkloads.clear();
    touch(c, c.templates, 'tmpl:', wk, entry, cfg.maxTemplates, ctx);
    observeEnvCalls(c, workload, input.pos.ts, ctx);
    // A creation is not a rollout: only a known template whose images changed.
    if (prev === undefined || prev.images === images) return;
    const ev = evidence(
      input.pos,
      w.type +
        ' ' +
        w.kind +
        ' ' +
        workload.namespace +
        '/' +
        workload.name +
        ' ' +
        prev.images +
        ' → ' +
        images +
        ' (revision ' +
        revision +
        ')',
    );
    const r: RolloutContext = {
      workload,
      ts: input.pos.ts,
      oldImage: prev.images,
      newImage: images,
      revision,
      evidence: ev,
    };
    const list = (c.rolloutCtx.get(wk) ?? []).filter((x) => x.ts !== r.ts || x.newImage !== r.newImage);
    list.push(r);
    list.sort((a, b) => a.ts - b.ts);
    while (list.length > 3) list.shift();
    c.rolloutCtx.set(wk, list);
    ctx.changed(sk(c.cluster, 'rollout:' + wk));
    applyAll(c, [rolloutSignal(workload, input.pos.ts, prev.images, images, revision, [ev])], ctx);
  }

  function onCommand(
    state: IncidentsTaskState,
    input: Extract<IncidentsInput, { type: 'command' }>,
    ctx: Ctx,
  ) {
    const c = state.clusters.get(input.cluster);
    if (c === undefined) return;
    let status: unknown;
    try {
      status = (JSON.parse(input.command.payload) as { status?: unknown }).status;
    } catch {
      return;
    }
    if (status !== 'open' && status !== 'investigating' && status !== 'resolved' && status !== 'dismissed')
      return;
    for (const id of input.command.targetIds)
      publish(c, c.core.setStatus(id, status, input.ts), ctx, input.ts);
  }

  function process(state: IncidentsTaskState, input: IncidentsInput, ctx: StatefulContext): void {
    settle(state);
    if (input.type === 'ignored') return;
    if (input.type === 'command') {
      onCommand(state, input, ctx);
      return;
    }
    const c = clusterOf(state, input.cluster);
    c.seq++;
    const sid = input.pos.topic + '#' + String(input.pos.partition);
    const s = c.sources.get(sid);
    c.sources.set(sid, { max: Math.max(s?.max ?? -Infinity, input.pos.ts), seq: c.seq });
    ctx.changed(sk(c.cluster, 'meta'));
    handle(c, input, ctx);
    tick(c, ctx);
  }

  function handle(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    switch (input.pos.topic) {
      case POD_HEALTH_SOURCE:
        onPodHealth(c, input, ctx);
        break;
      case NODE_HEALTH_SOURCE:
        onNodeHealth(c, input, ctx);
        break;
      case ERROR_GROUPS_SOURCE:
        onErrorGroup(c, input, ctx);
        break;
      case ANOMALIES_SOURCE:
        onAnomaly(c, input, ctx);
        break;
      case KUBE_SOURCE:
        onKube(c, input, ctx);
        break;
      case METRICS_SOURCE:
        onMetric(c, input, ctx);
        break;
    }
  }

  /**
   * Container CPU and memory samples near their limits, kept per pod and minute for 30 minutes:
   * the RCA's evidence that a workload is CPU-saturated or leaked memory before an OOM kill.
   */
  function onMetric(c: ClusterState, input: FeedInput, ctx: Ctx): void {
    const m = input.value as MetricSampled | null;
    if (m === null || !PRESSURE_METRICS.has(m.name)) return;
    const ns = m.labels['namespace'];
    const podName = m.labels['pod'];
    const container = m.labels['container'];
    if (ns === undefined || podName === undefined || container === undefined) return;
    const id = ns + '/' + podName;
    const k = c.kpods.get(id);
    if (k === undefined) return;
    const [cpuLimit, memLimit] = k.limits?.[container] ?? [null, null];
    const ts = input.pos.ts;
    const minute = Math.floor(ts / 60_000);
    const prev = c.pressure.get(id);
    const bucketOf = (list: PressureBucket[]) => list.find((b) => b.m === minute && b.c === container);
    const ev = (what: string) => evidence(input.pos, what + ' ' + id + '/' + container);
    // Most samples are well under their limit: decided before the entry is copied.
    if (m.name === 'cpu_usage_cores') {
      if (cpuLimit === null || cpuLimit <= 0 || m.value / cpuLimit < CPU_KEEP_RATIO) return;
    } else if (m.name === 'cpu_throttled_ratio') {
      if (m.value < THROTTLE_KEEP_RATIO) return;
      const b = bucketOf(prev?.cpu ?? []);
      if (b === undefined || (b.thr ?? 0) >= m.value) return;
    } else if (memLimit === null || memLimit <= 0 || m.value / memLimit < MEMORY_KEEP_RATIO) {
      // Well under its limit again (restarted, or freed): a leak held for it is over.
      if (prev?.lk !== undefined && prev.lkc === container)
        endLeak(c, id, ts, ev(`memory_working_set_bytes ${m.value} of ${memLimit ?? 'no'} limit`), ctx);
      return;
    }
    const entry = {
      cpu: (prev?.cpu ?? []).map((b) => ({ ...b })),
      mem: (prev?.mem ?? []).map((b) => ({ ...b })),
    };
    let changed = false;
    if (m.name === 'cpu_usage_cores' && cpuLimit !== null) {
      const b = bucketOf(entry.cpu);
      if (b === undefined) {
        entry.cpu.push({
          m: minute,
          c: container,
          ts,
          v: m.value,
          l: cpuLimit,
          ev: ev(`cpu_usage_cores ${m.value} of ${cpuLimit} cores`),
        });
        changed = true;
      } else if (m.value > b.v) {
        Object.assign(b, {
          ts,
          v: m.value,
          l: cpuLimit,
          ev: ev(`cpu_usage_cores ${m.value} of ${cpuLimit} cores`),
        });
        changed = true;
      }
    } else if (m.name === 'cpu_throttled_ratio') {
      // Throttling counts with the minute's usage sample (usage comes first within a scrape).
      const b = bucketOf(entry.cpu) as PressureBucket;
      b.thr = m.value;
      changed = true;
    } else if (memLimit !== null) {
      const b = bucketOf(entry.mem);
      if (b === undefined) {
        entry.mem.push({
          m: minute,
          c: container,
          ts,
          v: m.value,
          l: memLimit,
          ev: ev(`memory_working_set_bytes ${m.value} of ${memLimit} bytes`),
        });
        changed = true;
      } else if (m.value > b.v) {
        Object.assign(b, {
          ts,
          v: m.value,
          l: memLimit,
          ev: ev(`memory_working_set_bytes ${m.value} of ${memLimit} bytes`),
        });
        changed = true;
      }
    }
    if (!changed) return;
    const pin = prev?.pin;
    const fresh = (b: PressureBucket) =>
      ts - b.ts < PRESSURE_WINDOW_MS ||
      (pin !== undefined && b.ts <= pin && pin - b.ts <= PRESSURE_WINDOW_MS);
    const mem = entry.mem.filter(fresh);
    let lk = prev?.lk;
    let lkc = prev?.lkc;
    let signal: Signal | undefined;
    if (m.name === 'memory_working_set_bytes' && (lkc === undefined || lkc === container)) {
      // The container's samples of the RCA's look-back, as the RCA's leak forecast reads them.
      const series = mem
        .filter((b) => b.c === container && ts - b.ts <= leakT.oomLookbackMs && b.ts <= ts)
        .sort((a, b) => a.ts - b.ts);
      const samples = series.map((b) => ({ usageBytes: b.v, limitBytes: b.l }));
      const leaking = memoryLeaking(samples, leakT);
      const pod: ResourceRef = { kind: 'Pod', namespace: ns, name: podName };
      if (leaking && (lk === undefined || ts - lk >= LEAK_REFRESH_MS)) {
        const first = series[0] as PressureBucket;
        const last = series.at(-1) as PressureBucket;
        signal = memoryGrowthSignal(
          pod,
          { ...k.workload },
          container,
          ts,
          false,
          { value: last.v, message: leakText(first, last) },
          [last.ev],
        );
        lk = ts;
        lkc = container;
      } else if (!leaking && lk !== undefined) {
        signal = memoryGrowthSignal(pod, { ...k.workload }, container, ts, true, { value: m.value }, [
          ev(`memory_working_set_bytes ${m.value} of ${memLimit}: no longer climbing`),
        ]);
        lk = undefined;
        lkc = undefined;
      }
    }
    touch(
      c,
      c.pressure,
      'press:',
      id,
      {
        cpu: entry.cpu.filter(fresh),
        mem,
        ...(pin === undefined ? {} : { pin }),
        ...(lk === undefined ? {} : { lk, lkc }),
      },
      cfg.maxPods,
      ctx,
    );
    if (lk === undefined) c.leaks.delete(id);
    else c.leaks.add(id);
    if (signal !== undefined) applyAll(c, [signal], ctx);
  }

  /**
   * The leak held for pod `id` is over (at `ts`; `ev`: the observation that ended it, none when
   * time or the cap did): its `memory-growth` signal is cleared and the pod's entry, if still
   * kept, forgets it. `workload`: when the pod's watch entry may be gone (the pod deleted).
   */
  function endLeak(
    c: ClusterState,
    id: string,
    ts: number,
    ev: EvidenceRef | undefined,
    ctx: Ctx,
    workload?: ResourceRef,
  ): void {
    const e = c.pressure.get(id);
    const lkc = e?.lkc ?? '';
    if (e !== undefined) {
      const { lk: _lk, lkc: _lkc, ...rest } = withoutSeq(e);
      touch(c, c.pressure, 'press:', id, rest, cfg.maxPods, ctx);
    }
    c.leaks.delete(id);
    const slash = id.indexOf('/');
    const pod: ResourceRef = { kind: 'Pod', namespace: id.slice(0, slash), name: id.slice(slash + 1) };
    // A clear is matched by its key alone: a pod whose watch entry is gone is cleared all the same.
    const w = workload ?? c.kpods.get(id)?.workload ?? pod;
    applyAll(c, [memoryGrowthSignal(pod, { ...w }, lkc, ts, true, {}, ev === undefined ? [] : [ev])], ctx);
  }

  /** The auto-resolve clock is the feed clock, moved by `process`; nothing else moves by time. */
  function onWatermark(state: IncidentsTaskState, ctx: StatefulTickContext): void {
    settle(state);
    for (const c of state.clusters.values()) tick(c, ctx);
  }

  // ---- changelog ----

  function snapshot(state: IncidentsTaskState, key: string): Buffer | null {
    settle(state);
    const bar = key.indexOf('|');
    const c = state.clusters.get(key.slice(0, bar));
    if (c === undefined) return null;
    const sub = key.slice(bar + 1);
    const json = (v: unknown) => Buffer.from(JSON.stringify({ v: 1, ...(v as object) }));
    const colon = sub.indexOf(':');
    const kind = colon < 0 ? sub : sub.slice(0, colon);
    const id = colon < 0 ? '' : sub.slice(colon + 1);
    switch (kind) {
      case 'meta': {
        const wm = c.core.watermark;
        return json({
          watermark: Number.isFinite(wm) ? wm : null,
          seq: c.seq,
          touches: c.touches,
          sources: [...c.sources],
        });
      }
      case 'incident': {
        const inc = c.core.get(id);
        return inc === undefined ? null : json({ incident: inc, report: c.reports.get(id) ?? null });
      }
      case 'calls': {
        const e = c.calls.get(id);
        return e === undefined ? null : json({ from: e.from, to: [...e.to.values()] });
      }
      case 'rollouts': {
        const list = c.rollouts.get(id);
        if (list === undefined) return null;
        return json({ rollouts: list, order: c.rolloutOrder.get(id) ?? 0 });
      }
      case 'pod':
        return entry(c.pods.get(id), json);
      case 'kpod':
        return entry(c.kpods.get(id), json);
      case 'press':
        return entry(c.pressure.get(id), json);
      case 'node':
        return entry(c.nodes.get(id), json);
      case 'tmpl':
        return entry(c.templates.get(id), json);
      case 'svc':
        return entry(c.services.get(id), json);
      case 'rollout': {
        const list = c.rolloutCtx.get(id);
        return list === undefined ? null : json({ list });
      }
      case 'event':
        return entry(c.events.get(id), json);
      case 'group':
        return entry(c.groups.get(id), json);
      case 'anomaly':
        return entry(c.anomalies.get(id), json);
      default:
        throw new IncidentsStateError(`Unknown incidents state key ${JSON.stringify(key)}.`);
    }
  }

  function restore(state: IncidentsTaskState, key: string, value: Buffer | null): void {
    (state.restoring ??= new Map()).set(key, value);
  }

  /** Builds the state from restored records. Order-sensitive maps are rebuilt in their kept order. */
  function settle(state: IncidentsTaskState): void {
    const r = state.restoring;
    if (r === null) return;
    state.restoring = null;
    const perCluster = new Map<
      string,
      {
        core: IncidentsRecord[];
        order: Map<string, number>;
        items: [string, string, Record<string, unknown>][];
      }
    >();
    for (const [key, value] of r) {
      if (value === null) continue;
      const bar = key.indexOf('|');
      const cluster = key.slice(0, bar);
      const sub = key.slice(bar + 1);
      const o = JSON.parse(value.toString('utf8')) as { v: number } & Record<string, unknown>;
      if (o.v !== 1)
        throw new IncidentsStateError(`Cannot restore incidents state: ${key} has version ${o.v}.`);
      let pc = perCluster.get(cluster);
      if (pc === undefined) perCluster.set(cluster, (pc = { core: [], order: new Map(), items: [] }));
      const colon = sub.indexOf(':');
      const kind = colon < 0 ? sub : sub.slice(0, colon);
      const id = colon < 0 ? '' : sub.slice(colon + 1);
      pc.items.push([kind, id, o]);
    }
    for (const [cluster, pc] of [...perCluster].sort(([a], [b]) => cmp(a, b))) {
      const c = newCluster(cluster);
      const seqOf = (o: Record<string, unknown>) => o['seq'] as number;
      const lists: Record<string, [string, Record<string, unknown>][]> = {};
      for (const [kind, id, o] of pc.items) (lists[kind] ??= []).push([id, o]);
      for (const [, o] of lists['meta'] ?? []) {
        c.seq = o['seq'] as number;
        c.touches = o['touches'] as number;
        for (const [t, s] of o['sources'] as [string, SourceClock][]) c.sources.set(t, s);
        pc.core.push({ key: 'meta', type: 'meta', watermark: o['watermark'] as number | null });
      }
      for (const [id, o] of lists['incident'] ?? []) {
        pc.core.push({ key: 'incident:' + id, type: 'incident', incident: o['incident'] as never });
        if (typeof o['report'] === 'string') c.reports.set(id, o['report']);
      }
      for (const [id, o] of (lists['calls'] ?? []).sort(([a], [b]) => cmp(a, b))) {
        const from = o['from'] as ResourceRef;
        const to = o['to'] as { workload: ResourceRef; lastSeen: number }[];
        pc.core.push({ key: 'calls:' + id, type: 'calls', from, to });
        c.calls.set(id, { from, to: new Map(to.map((t) => [workloadKey(t.workload), t])) });
      }
      const rl = (lists['rollouts'] ?? []).sort(
        ([, a], [, b]) => (a['order'] as number) - (b['order'] as number),
      );
      for (const [id, o] of rl) {
        const list = o['rollouts'] as Signal[];
        pc.core.push({ key: 'rollouts:' + id, type: 'rollouts', rollouts: list });
        c.rollouts.set(id, list);
        c.rolloutOrder.set(id, o['order'] as number);
      }
      c.core = IncidentsState.fromRecords(pc.core, coreCfg);
      // Least recently updated first, as the live maps are kept.
      const ordered = <V>(kind: string, map: Map<string, V>) => {
        for (const [id, o] of (lists[kind] ?? []).sort(
          ([ia, a], [ib, b]) => seqOf(a) - seqOf(b) || cmp(ia, ib),
        )) {
          const { v: _v, ...rest } = o;
          map.set(id, rest as V);
        }
      };
      ordered('pod', c.pods);
      ordered('kpod', c.kpods);
      ordered('press', c.pressure);
      for (const [id, e] of c.pressure) if (e.lk !== undefined) c.leaks.add(id);
      ordered('node', c.nodes);
      ordered('tmpl', c.templates);
      ordered('svc', c.services);
      ordered('event', c.events);
      ordered('group', c.groups);
      ordered('anomaly', c.anomalies);
      for (const [id, o] of lists['rollout'] ?? []) c.rolloutCtx.set(id, o['list'] as RolloutContext[]);
      state.clusters.set(cluster, c);
    }
  }

  function entry(e: object | undefined, json: (v: unknown) => Buffer): Buffer | null {
    return e === undefined ? null : json(e);
  }

  return {
    name: INCIDENTS_PROCESSOR,
    inputs: [CLUSTER_FEED_TOPIC, INCIDENT_COMMANDS_TOPIC],
    changelogTopic: INCIDENTS_CHANGELOG,
    // Without a promise when the decoder answers at once (nearly every record).
    decodeInput: (record): Promise<IncidentsInput> | IncidentsInput => {
      const key = record.key ? utf8Text(record.key) : '';
      if (record.topic === INCIDENT_COMMANDS_TOPIC) {
        if (record.value === null) return { type: 'ignored' };
        const toInput = (command: Command): IncidentsInput =>
          command.type !== SET_STATUS_COMMAND
            ? { type: 'ignored' }
            : { type: 'command', cluster: key, command, ts: command.ts };
        const command = deps.decodeCommand(record);
        return andThen(command, toInput);
      }
      const src = sourceOf(record);
      if (!(INCIDENT_SOURCES as readonly string[]).includes(src.topic)) return { type: 'ignored' };
      const pos: Pos = {
        topic: src.topic,
        partition: src.partition,
        offset: src.offset,
        ts: record.timestamp,
      };
      if (record.value === null)
        return { type: 'feed', cluster: key, pos, sourceKey: src.key, value: null, object: null };
      const decoded = deps.decode(src.topic, record.value);
      return andThen(decoded, toFeedInput);
      function toFeedInput(value: unknown): IncidentsInput {
        const cluster = (value as { cluster?: unknown }).cluster;
        let object: KubeObject | null = null;
        if (src.topic === KUBE_SOURCE) {
          const w = value as WatchObserved;
          if (
            (w.kind === 'Event' || w.kind === 'Pod' || w.kind === 'Service' || TEMPLATE_KINDS.has(w.kind)) &&
            w.object !== null
          ) {
            try {
              object = JSON.parse(w.object) as KubeObject;
            } catch {
              throw new IncidentsInputError(
                `Watch record ${src.topic}/${src.partition}/${src.offset} (${w.type} ${w.kind}) holds an object that is not JSON.`,
              );
            }
          }
        }
        return {
          type: 'feed',
          cluster: typeof cluster === 'string' && cluster !== '' ? cluster : key,
          pos,
          sourceKey: src.key,
          value,
          object,
        };
      }
    },
    init: () => ({ clusters: new Map(), restoring: null }),
    restore,
    process,
    onWatermark,
    snapshot,
  };
}

/**
 * The `keyOf` of the stage that feeds this processor (`rekeyProcessor` into
 * `hetu.internal.cluster-feed`): the cluster of a record. Error groups and anomaly episodes are
 * keyed by their id, so their cluster is read from the value: the `cluster` field of the Avro
 * body (after the 5-byte registry header; ErrorGroup: the 4th field, after three strings;
 * AnomalyEpisode: the 4th, after a long and two strings) or of a JSON value. Their tombstones
 * carry no cluster and are dropped (the processor forgets those entries by TTL). Everything else:
 * `clusterOfKey`.
 */
export function clusterFeedKey(r: LogRecord): string | null {
  if (r.topic !== ERROR_GROUPS_SOURCE && r.topic !== ANOMALIES_SOURCE) return clusterOfKey(r);
  const v = r.value;
  if (v === null || v.length === 0) return null;
  try {
    if (v[0] === 0x7b) {
      const c = (JSON.parse(v.toString('utf8')) as { cluster?: unknown }).cluster;
      return typeof c === 'string' && c !== '' ? c : null;
    }
    if (v[0] !== 0) return null;
    let at = 5;
    const varint = (): bigint => {
      let n = 0n;
      let shift = 0n;
      for (;;) {
        const b = v[at++];
        if (b === undefined) throw new RangeError('truncated');
        n |= BigInt(b & 0x7f) << shift;
        if ((b & 0x80) === 0) return (n >> 1n) ^ -(n & 1n);
        shift += 7n;
      }
    };
    const string = (): string => {
      const len = Number(varint());
      if (len < 0 || at + len > v.length) throw new RangeError('truncated');
      const s = v.toString('utf8', at, at + len);
      at += len;
      return s;
    };
    if (r.topic === ANOMALIES_SOURCE) varint();
    string();
    string();
    if (r.topic === ERROR_GROUPS_SOURCE) string();
    const c = string();
    return c === '' ? null : c;
  } catch {
    return null;
  }
}

type FeedInput = Extract<IncidentsInput, { type: 'feed' }>;

/** Pod categories that give signals. */
/**
 * An error group's message for the RCA, with the innermost `Caused by:` of its best sample's
 * stack when there is one: a Java service that fails at start logs "Application run failed", and
 * what failed ("PSQLException: FATAL: password authentication failed for user …") is the last
 * cause of the trace.
 */
export function withRootCause(message: string | undefined, stack: string | undefined): string | undefined {
  if (stack === undefined) return message;
  const at = stack.lastIndexOf('\nCaused by: ');
  if (at < 0) return message;
  const end = stack.indexOf('\n', at + 1);
  const cause = stack.slice(at + '\nCaused by: '.length, end < 0 ? undefined : end).trim();
  if (cause === '') return message;
  return message === undefined || message === '' ? cause : message + ' — caused by ' + cause;
}

/**
 * Signals of another live incident that make a workload unhealthy for an RCA: its pods failing,
 * warning events, anomalies. Error groups alone do not (a caller failing to connect has them too).
 */
const OTHER_FAILURE_SOURCES: ReadonlySet<SignalSource> = new Set(['pod', 'event', 'anomaly']);

const SIGNALLING: ReadonlySet<PodCategory> = new Set([
  'crashloop',
  'oomkilled',
  'imagepull',
  'init-failure',
  'pending',
  'evicted',
  'failed',
]);

/** `<service>.<namespace>.svc` in a log message. */
const SERVICE_NAME = /\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc\b/g;

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** A pod name without the suffixes its controller adds: `<deployment>-<hash>-<5>`, `<set>-<ordinal>`. */
function podBaseName(pod: string): string {
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(pod) ?? /^(.+)-\d+$/.exec(pod);
  return m?.[1] ?? pod;
}

function ref(w: { kind: string; namespace: string; name: string }): ResourceRef {
  return { kind: w.kind, namespace: w.namespace, name: w.name };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cut(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

/** `<cluster>/<ns>/<pod>` → `<ns>/<pod>`. */
function podIdOf(sourceKey: string | null, cluster: string): string | null {
  if (sourceKey === null || !sourceKey.startsWith(cluster + '/')) return null;
  return sourceKey.slice(cluster.length + 1);
}

function nodeIdOf(sourceKey: string | null, cluster: string): string | null {
  return podIdOf(sourceKey, cluster);
}

function toPodHealth(v: PodHealthRecord): PodHealth {
  return {
    namespace: v.namespace,
    name: v.name,
    phase: v.phase,
    node: v.node,
    workload: { ...v.workload },
    categories: [...v.categories] as PodCategory[],
    reasons: v.reasons.map((r) => ({
      category: r.category as PodCategory,
      ...(r.container === null ? {} : { container: r.container }),
      reason: r.reason,
      ...(r.message === null ? {} : { message: r.message }),
      ...(r.exitCode === null ? {} : { exitCode: r.exitCode }),
      ...(r.restartCount === null ? {} : { restartCount: r.restartCount }),
      ...(r.at === null ? {} : { at: r.at }),
    })),
    restarts: v.restarts,
    ageMs: v.ageMs,
    restartsPerHour: v.restartsPerHour,
  };
}

/** A feed record that cannot be read: bad input, dead-lettered by the runtime. */
class IncidentsInputError extends Error {
  readonly code = 'HETU_INPUT_INVALID';
  readonly transient = false;
}

/** The changelog holds something this version cannot read: fatal. */
export class IncidentsStateError extends Error {
  readonly code = 'HETU_INCIDENTS_STATE_INVALID';
  readonly transient = false;
}

function withoutSeq(e: PressureEntry): Omit<PressureEntry, 'seq'> {
  const { seq: _seq, ...rest } = e;
  return rest;
}

/** "memory grew from 262 MiB to 410 MiB (80 % of its 512 MiB limit) in 14 min". */
function leakText(first: PressureBucket, last: PressureBucket): string {
  const mib = (b: number) => String(Math.round(b / 2 ** 20)) + ' MiB';
  const limit = last.l as number;
  return (
    'memory grew from ' +
    mib(first.v) +
    ' to ' +
    mib(last.v) +
    ' (' +
    String(Math.round((last.v / limit) * 100)) +
    ' % of its ' +
    mib(limit) +
    ' limit) in ' +
    String(Math.max(1, Math.round((last.ts - first.ts) / 60_000))) +
    ' min'
  );
}
