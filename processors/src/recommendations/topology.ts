/**
 * The `recommendations` processor (SPEC §8; docs/recommendations.md, "Running on the log"):
 * `hetu.internal.cluster-feed` (raw metric samples and watch events re-keyed by `<cluster>`) and
 * `hetu.commands` (`recommendation.set-status`, keyed `<cluster>`) → `hetu.facts.recommendations`.
 *
 * Per task the state holds one recommendations fold (`state.ts`) per cluster, plus what is needed
 * to attribute container samples to workloads: each live pod's workload and containers, and the
 * controller owner of each ReplicaSet and Job. Changelog keys (`hetu.state.recommendations`):
 *  - `r/<cluster>/<fold key>`: a record of the cluster's fold (`stateRecord`, JSON; a container's
 *    in the binary format of container-record.ts);
 *  - `p/<cluster>/<namespace>/<pod>`: a pod's workload and container names;
 *  - `o/<cluster>/<Kind>/<namespace>/<name>`: a ReplicaSet's or Job's controller owner;
 *  - `m`: the observation counter (pods and owners are evicted least recently observed first).
 */
import type { Command, MetricSampled, RecordTypes, WatchObserved } from '@hetu/schemas';
import { utf8Text } from '@hetu/schemas';
import {
  HetuError,
  type LogRecord,
  type StatefulContext,
  type StatefulProcessor,
  type StatefulTickContext,
  andThen,
} from '@hetu/streams';
import type { KubePod, OwnerRef } from '../health/index.ts';
import { controllerOwner, workloadOf } from '../health/index.ts';
import { sourceOf } from '../rekey/rekey.ts';
import type { RecommendationsConfig } from './config.ts';
import { RECOMMENDATIONS_RESTORE_INVALID, recommendationsError } from './config.ts';
import { CONTAINER_RECORD_BINARY, decodeContainerRecord } from './container-record.ts';
import { recommendationKey, toRecommendationRecord } from './record.ts';
import {
  advance,
  applyCommand,
  containerKey,
  createRecommendationsState,
  forgetContainer,
  forgetHpa,
  observeHpa,
  observeMetric,
  observeSpec,
  restoreRecommendationsState,
  stateRecordBytes,
  type RecommendationsState,
} from './state.ts';
import type {
  ContainerResources,
  HpaObservation,
  Prices,
  RecommendationChange,
  RecommendationStatus,
  StepResult,
  WorkloadRef,
} from './types.ts';
import { RECOMMENDATION_STATUSES } from './types.ts';
import { parseQuantity } from '../health/quantity.ts';

/** Kubernetes quantities: the one parser of processors/health. */
export { parseQuantity };

export const RECOMMENDATIONS_PROCESSOR = 'recommendations';
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
export const COMMANDS_TOPIC = 'hetu.commands';
export const RECOMMENDATIONS_CHANGELOG = 'hetu.state.recommendations';
export const RECOMMENDATIONS_TOPIC = 'hetu.facts.recommendations';
export const RAW_METRICS_TOPIC = 'hetu.raw.metrics';
export const RAW_KUBE_TOPIC = 'hetu.raw.kube';
/** The one command type this processor applies; payload `{"recommendationId": …, "status": …}`. */
export const SET_STATUS_COMMAND = 'recommendation.set-status';
export const INVALID_COMMAND = 'HETU_INPUT_INVALID_COMMAND';
export const INVALID_INPUT = 'HETU_INPUT_INVALID';

export type RecommendationRecord = RecordTypes['Recommendation'];

export interface RecommendationsProcessorConfig extends Partial<RecommendationsConfig> {
  /** Pods remembered per task (for attributing samples); least recently observed evicted. Default 50 000. */
  readonly maxPods?: number;
  /** ReplicaSet and Job owners remembered per task. Default 50 000. */
  readonly maxOwners?: number;
}

export interface RecommendationsProcessorDeps {
  /** Decodes the value of a record of `sourceTopic` (`MetricSampled` or `WatchObserved`). */
  decode(sourceTopic: string, value: Buffer): Promise<unknown> | unknown;
  /** Decodes a `hetu.commands` record. */
  decodeCommand(record: LogRecord): Promise<Command> | Command;
  /** Prices for savings (override `config.prices`). */
  readonly prices?: Prices;
  readonly config?: RecommendationsProcessorConfig;
}

/** Metric names the fold reads; other samples are dropped at decoding. */
const USED_METRICS: ReadonlySet<string> = new Set([
  'cpu_usage_cores',
  'memory_working_set_bytes',
  'node_cpu_utilisation',
  'node_memory_utilisation',
  'coredns_nxdomain_ratio',
  'coredns_cache_hit_ratio',
  'gc_pause_seconds',
]);

/** Top-level workload kinds whose deletion forgets their containers. */
const WORKLOAD_KINDS: ReadonlySet<string> = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
]);

export type RecommendationsInput =
  | { readonly type: 'metric'; readonly sample: MetricSampled }
  | {
      readonly type: 'pod';
      readonly deleted: boolean;
      readonly cluster: string;
      readonly ts: number;
      readonly pod: KubePod;
      readonly containers: readonly { name: string; resources: ContainerResources }[];
    }
  | {
      readonly type: 'owner';
      readonly deleted: boolean;
      readonly cluster: string;
      readonly ts: number;
      readonly kind: 'ReplicaSet' | 'Job';
      readonly namespace: string;
      readonly name: string;
      readonly owner: OwnerRef | null;
    }
  | {
      readonly type: 'hpa';
      readonly deleted: boolean;
      readonly cluster: string;
      readonly ts: number;
      readonly hpa: HpaObservation;
    }
  /** A top-level workload object was deleted. */
  | {
      readonly type: 'workload-deleted';
      readonly cluster: string;
      readonly ts: number;
      readonly workload: WorkloadRef;
    }
  | {
      readonly type: 'command';
      readonly cluster: string;
      readonly recommendationId: string;
      readonly status: RecommendationStatus;
      readonly ts: number;
    }
  | { readonly type: 'ignored' };

interface PodEntry {
  readonly workload: WorkloadRef;
  readonly containers: readonly string[];
  seq: number;
}

interface OwnerEntry {
  readonly owner: OwnerRef | null;
  seq: number;
}

/** The state of one task. Restored lazily: changelog records are collected, then built on first use. */
export interface RecommendationsTaskState {
  /** Cluster → its fold. */
  readonly clusters: Map<string, RecommendationsState>;
  /** `<cluster>/<namespace>/<pod>` → pod entry, least recently observed first. */
  readonly pods: Map<string, PodEntry>;
  /** `<cluster>/<Kind>/<namespace>/<name>` → owner entry, least recently observed first. */
  readonly owners: Map<string, OwnerEntry>;
  /** Derived (rebuilt on restore): `<cluster>/<namespace>/<Kind>/<name>` → pods of that workload. */
  readonly podsPerWorkload: Map<string, number>;
  seq: number;
  restoring: Map<string, Buffer | null> | null;
}

const FOLD = 'r/';
const POD = 'p/';
const OWNER = 'o/';
const META = 'm';

// ---------------------------------------------------------------------------------------------
// Kubernetes quantities

// ---------------------------------------------------------------------------------------------
// Decoding

function bad(code: string, message: string): HetuError {
  return new HetuError(code, message);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

function ownerRefs(meta: Obj): OwnerRef[] {
  const out: OwnerRef[] = [];
  for (const r of arr(meta['ownerReferences'])) {
    const kind = str(r['kind']);
    const name = str(r['name']);
    if (kind === undefined || name === undefined) continue;
    out.push(r['controller'] === true ? { kind, name, controller: true } : { kind, name });
  }
  return out;
}

/** A container's requests and limits from its spec. */
export function containerResources(c: Obj): ContainerResources {
  const res = isObj(c['resources']) ? c['resources'] : {};
  const requests = isObj(res['requests']) ? res['requests'] : {};
  const limits = isObj(res['limits']) ? res['limits'] : {};
  return {
    cpuRequest: parseQuantity(requests['cpu']),
    memoryRequest: parseQuantity(requests['memory']),
    cpuLimit: parseQuantity(limits['cpu']),
    memoryLimit: parseQuantity(limits['memory']),
  };
}

/** Turns a decoded watch observation into the processor's input (throws bad input for a broken object). */
export function toWatchInput(record: LogRecord, w: WatchObserved): RecommendationsInput {
  const watched = w.kind === 'Pod' || w.kind === 'HorizontalPodAutoscaler' || WORKLOAD_KINDS.has(w.kind);
  if (!watched) return { type: 'ignored' };
  if (w.type === 'GAP' || w.type === 'SYNC_BEGIN' || w.type === 'SYNC_END') return { type: 'ignored' };
  const deleted = w.type === 'DELETED';
  const where = `${record.topic}/${record.partition}/${record.offset}`;
  if (w.object === null)
    throw bad(INVALID_INPUT, `Watch record ${where} (${w.type} ${w.kind}) has no object.`);
  let o: unknown;
  try {
    o = JSON.parse(w.object);
  } catch {
    throw bad(INVALID_INPUT, `Watch record ${where} (${w.type} ${w.kind}) holds an object that is not JSON.`);
  }
  if (!isObj(o) || !isObj(o['metadata']) || typeof o['metadata']['name'] !== 'string') {
    throw bad(
      INVALID_INPUT,
      `Watch record ${where} (${w.type} ${w.kind}) holds an object without metadata.name.`,
    );
  }
  const meta = o['metadata'];
  const name = meta['name'] as string;
  const namespace = str(meta['namespace']);
  if (namespace === undefined) {
    throw bad(INVALID_INPUT, `Watch record ${where} (${w.type} ${w.kind}) has no metadata.namespace.`);
  }
  const base = { deleted, cluster: w.cluster, ts: w.ts };
  const spec = isObj(o['spec']) ? o['spec'] : {};
  if (w.kind === 'Pod') {
    const labels = isObj(meta['labels']) ? meta['labels'] : {};
    const hash = str(labels['pod-template-hash']);
    const created = str(meta['creationTimestamp']);
    const pod: KubePod = {
      metadata: {
        name,
        namespace,
        ...(created === undefined ? {} : { creationTimestamp: created }),
        ...(hash === undefined ? {} : { labels: { 'pod-template-hash': hash } }),
        ownerReferences: ownerRefs(meta),
      },
    };
    const containers = arr(spec['containers'])
      .filter((c) => typeof c['name'] === 'string')
      .map((c) => ({ name: c['name'] as string, resources: containerResources(c) }));
    return { type: 'pod', ...base, pod, containers };
  }
  if (w.kind === 'HorizontalPodAutoscaler') {
    const status = isObj(o['status']) ? o['status'] : {};
    const ref = isObj(spec['scaleTargetRef']) ? spec['scaleTargetRef'] : {};
    const max = int(spec['maxReplicas']);
    const kind = str(ref['kind']);
    const targetName = str(ref['name']);
    if (max === undefined || kind === undefined || targetName === undefined) return { type: 'ignored' };
    const hpa: HpaObservation = {
      namespace,
      name,
      target: { kind, name: targetName },
      min: int(spec['minReplicas']) ?? 1,
      max,
      current: int(status['currentReplicas']) ?? 0,
    };
    return { type: 'hpa', ...base, hpa };
  }
  if ((w.kind === 'ReplicaSet' || w.kind === 'Job') && !deleted) {
    const owner = controllerOwner({ metadata: { name, ownerReferences: ownerRefs(meta) } });
    return {
      type: 'owner',
      ...base,
      kind: w.kind,
      namespace,
      name,
      owner: owner === undefined ? null : { kind: owner.kind, name: owner.name },
    };
  }
  if (!deleted) return { type: 'ignored' };
  // A deleted ReplicaSet or Job: forget its owner entry, and its containers if it was the workload.
  return {
    type: 'workload-deleted',
    cluster: w.cluster,
    ts: w.ts,
    workload: { kind: w.kind, namespace, name },
  };
}

/** Maps a `Command` record (keyed `<cluster>`) to a status command, or says it is not ours. */
export function toCommandInput(record: LogRecord, c: Command): RecommendationsInput {
  if (c.type !== SET_STATUS_COMMAND) return { type: 'ignored' };
  const cluster = record.key ? utf8Text(record.key) : '';
  const invalid = (why: string) => bad(INVALID_COMMAND, `Command ${c.id} (${c.type}) ${why}.`);
  if (cluster === '') throw invalid('has no key: it must be keyed by its cluster');
  if (typeof c.ts !== 'number' || !Number.isFinite(c.ts)) throw invalid('has no valid ts');
  let p: unknown;
  try {
    p = JSON.parse(c.payload);
  } catch {
    throw invalid('has a payload that is not JSON');
  }
  const id = isObj(p) ? str(p['recommendationId']) : undefined;
  const status = isObj(p) ? str(p['status']) : undefined;
  if (id === undefined || id === '') throw invalid('has no payload.recommendationId');
  if (status === undefined || !(RECOMMENDATION_STATUSES as readonly string[]).includes(status))
    throw invalid(
      `has payload.status ${JSON.stringify(status ?? null)}: use ${RECOMMENDATION_STATUSES.join(', ')}`,
    );
  return { type: 'command', cluster, recommendationId: id, status: status as RecommendationStatus, ts: c.ts };
}

// ---------------------------------------------------------------------------------------------
// The pod map

function workloadKeyOf(cluster: string, w: WorkloadRef): string {
  return `${cluster}/${w.namespace}/${w.kind}/${w.name}`;
}

function clusterOfId(id: string): string {
  return id.slice(0, id.indexOf('/'));
}

function putPod(state: RecommendationsTaskState, id: string, e: PodEntry): void {
  state.pods.set(id, e);
  const k = workloadKeyOf(clusterOfId(id), e.workload);
  state.podsPerWorkload.set(k, (state.podsPerWorkload.get(k) ?? 0) + 1);
}

function dropPod(state: RecommendationsTaskState, id: string): PodEntry | undefined {
  const e = state.pods.get(id);
  if (e === undefined) return undefined;
  state.pods.delete(id);
  const k = workloadKeyOf(clusterOfId(id), e.workload);
  const n = (state.podsPerWorkload.get(k) ?? 1) - 1;
  if (n <= 0) state.podsPerWorkload.delete(k);
  else state.podsPerWorkload.set(k, n);
  return e;
}

// ---------------------------------------------------------------------------------------------
// The processor

export function recommendationsProcessor(
  deps: RecommendationsProcessorDeps,
): StatefulProcessor<RecommendationsInput, RecommendationsTaskState> {
  const { maxPods = 50_000, maxOwners = 50_000, ...rest } = deps.config ?? {};
  for (const [k, v] of Object.entries({ maxPods, maxOwners })) {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`recommendations processor: ${k} must be a positive integer, got ${v}.`);
  }
  const foldConfig: Partial<RecommendationsConfig> =
    deps.prices === undefined ? rest : { ...rest, prices: deps.prices };
  createRecommendationsState(foldConfig); // validates the config now (throws HETU_RECOMMENDATIONS_CONFIG_INVALID)

  /** Builds the state from the collected changelog records on first use. */
  function settle(state: RecommendationsTaskState): void {
    const records = state.restoring;
    if (records === null) return;
    state.restoring = null;
    const folds = new Map<string, { key: string; value: unknown }[]>();
    const pods: [string, PodEntry][] = [];
    const owners: [string, OwnerEntry][] = [];
    for (const [key, value] of records) {
      if (value === null) continue;
      // A container's record is binary (container-record.ts); JSON ones of format 1 are read too.
      let json: unknown;
      if (value[0] === CONTAINER_RECORD_BINARY) {
        json = decodeContainerRecord(value);
        if (json === null)
          throw recommendationsError(
            RECOMMENDATIONS_RESTORE_INVALID,
            `recommendations: malformed state record ${key}.`,
          );
      } else json = JSON.parse(value.toString('utf8')) as unknown;
      if (key === META) state.seq = (json as { seq: number }).seq;
      else if (key.startsWith(FOLD)) {
        const rest = key.slice(FOLD.length);
        const i = rest.indexOf('/');
        const cluster = rest.slice(0, i);
        let list = folds.get(cluster);
        if (list === undefined) folds.set(cluster, (list = []));
        list.push({ key: rest.slice(i + 1), value: json });
      } else if (key.startsWith(POD)) pods.push([key.slice(POD.length), json as PodEntry]);
      else if (key.startsWith(OWNER)) owners.push([key.slice(OWNER.length), json as OwnerEntry]);
    }
    for (const [cluster, list] of [...folds].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      state.clusters.set(cluster, restoreRecommendationsState(list, foldConfig));
    for (const [k, e] of pods.sort((a, b) => a[1].seq - b[1].seq)) putPod(state, k, e);
    for (const [k, e] of owners.sort((a, b) => a[1].seq - b[1].seq)) state.owners.set(k, e);
  }

  function fold(state: RecommendationsTaskState, cluster: string): RecommendationsState {
    let s = state.clusters.get(cluster);
    if (s === undefined) state.clusters.set(cluster, (s = createRecommendationsState(foldConfig)));
    return s;
  }

  /** Marks the step's state keys changed and publishes its changes (coalesced per id, by id). */
  function publish(
    cluster: string,
    r: StepResult,
    ctx: { changed(key: string): void; emit: StatefulContext['emit'] },
    timestamp: number,
  ): void {
    for (const k of r.stateKeys) ctx.changed(`${FOLD}${cluster}/${k}`);
    const last = new Map<string, RecommendationChange>();
    for (const c of r.changes) last.set(c.type === 'upsert' ? c.recommendation.id : c.id, c);
    for (const id of [...last.keys()].sort()) {
      const c = last.get(id) as RecommendationChange;
      ctx.emit(RECOMMENDATIONS_TOPIC, {
        key: recommendationKey(cluster, id),
        value: c.type === 'upsert' ? toRecommendationRecord(c.recommendation, cluster) : null,
        timestamp,
      });
    }
  }

  function observe(state: RecommendationsTaskState, ctx: StatefulContext): number {
    state.seq++;
    ctx.changed(META);
    return state.seq;
  }

  function onPod(
    state: RecommendationsTaskState,
    input: Extract<RecommendationsInput, { type: 'pod' }>,
    ctx: StatefulContext,
  ): void {
    const id = `${input.cluster}/${input.pod.metadata.namespace ?? ''}/${input.pod.metadata.name}`;
    const s = fold(state, input.cluster);
    if (input.deleted) {
      const e = dropPod(state, id);
      if (e !== undefined) ctx.changed(POD + id);
      // A bare pod is its own workload: it is gone with it.
      if (e?.workload.kind === 'Pod') forgetWorkload(state, input.cluster, e.workload, input.ts, ctx);
      else publish(input.cluster, advance(s, input.ts), ctx, ctx.watermark);
      return;
    }
    const w = workloadOf(input.pod, {
      replicaSetOwner: (ns, name) => state.owners.get(`${input.cluster}/ReplicaSet/${ns}/${name}`)?.owner,
      jobOwner: (ns, name) => state.owners.get(`${input.cluster}/Job/${ns}/${name}`)?.owner,
    });
    const workload: WorkloadRef = { kind: w.kind, namespace: w.namespace, name: w.name };
    const seq = observe(state, ctx);
    dropPod(state, id);
    putPod(state, id, { workload, containers: input.containers.map((c) => c.name), seq });
    ctx.changed(POD + id);
    while (state.pods.size > maxPods) {
      const oldest = state.pods.keys().next().value as string;
      dropPod(state, oldest);
      ctx.changed(POD + oldest);
    }
    const replicas = state.podsPerWorkload.get(workloadKeyOf(input.cluster, workload)) ?? 1;
    let observed = false;
    for (const c of input.containers) {
      const resources: ContainerResources = { ...c.resources, replicas: Math.max(1, replicas) };
      const current = s.containers.get(containerKey(workload, c.name))?.spec ?? null;
      if (current !== null && JSON.stringify(current) === JSON.stringify(resources)) continue;
      publish(input.cluster, observeSpec(s, workload, c.name, resources, input.ts), ctx, ctx.watermark);
      observed = true;
    }
    if (!observed) publish(input.cluster, advance(s, input.ts), ctx, ctx.watermark);
  }

  function forgetWorkload(
    state: RecommendationsTaskState,
    cluster: string,
    w: WorkloadRef,
    ts: number,
    ctx: StatefulContext,
  ): void {
    const s = fold(state, cluster);
    const names = [...s.containers.values()]
      .filter(
        (e) =>
          e.workload.kind === w.kind && e.workload.namespace === w.namespace && e.workload.name === w.name,
      )
      .map((e) => e.container)
      .sort();
    for (const c of names) publish(cluster, forgetContainer(s, w, c, ts), ctx, ctx.watermark);
    publish(cluster, advance(s, ts), ctx, ctx.watermark);
  }

  function onMetric(state: RecommendationsTaskState, m: MetricSampled, ctx: StatefulContext): void {
    const labels = m.labels ?? {};
    const ns = labels['namespace'];
    const pod = labels['pod'];
    const e = ns !== undefined && pod !== undefined ? state.pods.get(`${m.cluster}/${ns}/${pod}`) : undefined;
    const s = fold(state, m.cluster);
    publish(
      m.cluster,
      observeMetric(s, { name: m.name, labels, value: m.value, ts: m.ts }, e?.workload),
      ctx,
      ctx.watermark,
    );
  }

  return {
    name: RECOMMENDATIONS_PROCESSOR,
    inputs: [CLUSTER_FEED_TOPIC, COMMANDS_TOPIC],
    changelogTopic: RECOMMENDATIONS_CHANGELOG,
    // Without a promise when the decoder answers at once (nearly every record).
    decodeInput(record: LogRecord): Promise<RecommendationsInput> | RecommendationsInput {
      if (record.topic === COMMANDS_TOPIC) {
        const command = deps.decodeCommand(record);
        return andThen(command, (c) => toCommandInput(record, c));
      }
      const src = sourceOf(record).topic;
      if (src !== RAW_METRICS_TOPIC && src !== RAW_KUBE_TOPIC) return { type: 'ignored' };
      if (record.value === null) {
        throw bad(
          INVALID_INPUT,
          `Record ${record.topic}/${record.partition}/${record.offset} (from ${src}) has no value.`,
        );
      }
      const input = (v: unknown): RecommendationsInput => {
        if (src === RAW_KUBE_TOPIC) return toWatchInput(record, v as WatchObserved);
        const m = v as MetricSampled;
        return USED_METRICS.has(m.name) ? { type: 'metric', sample: m } : { type: 'ignored' };
      };
      const v = deps.decode(src, record.value);
      return andThen(v, input);
    },
    init: () => ({
      clusters: new Map(),
      pods: new Map(),
      owners: new Map(),
      podsPerWorkload: new Map(),
      seq: 0,
      restoring: new Map(),
    }),
    restore(state, key, value) {
      if (state.restoring === null)
        throw new Error('recommendations processor: restore after the first input.');
      state.restoring.set(key, value);
    },
    process(state, input, ctx) {
      settle(state);
      switch (input.type) {
        case 'ignored':
          return;
        case 'metric':
          onMetric(state, input.sample, ctx);
          return;
        case 'pod':
          onPod(state, input, ctx);
          return;
        case 'hpa': {
          const s = fold(state, input.cluster);
          const r = input.deleted
            ? forgetHpa(s, input.hpa.namespace, input.hpa.name, input.ts)
            : observeHpa(s, input.hpa, input.ts);
          publish(input.cluster, r, ctx, ctx.watermark);
          return;
        }
        case 'owner': {
          const id = `${input.cluster}/${input.kind}/${input.namespace}/${input.name}`;
          const seq = observe(state, ctx);
          state.owners.delete(id);
          state.owners.set(id, { owner: input.owner, seq });
          ctx.changed(OWNER + id);
          while (state.owners.size > maxOwners) {
            const oldest = state.owners.keys().next().value as string;
            state.owners.delete(oldest);
            ctx.changed(OWNER + oldest);
          }
          publish(input.cluster, advance(fold(state, input.cluster), input.ts), ctx, ctx.watermark);
          return;
        }
        case 'workload-deleted': {
          const w = input.workload;
          const id = `${input.cluster}/${w.kind}/${w.namespace}/${w.name}`;
          if (state.owners.delete(id)) ctx.changed(OWNER + id);
          forgetWorkload(state, input.cluster, w, input.ts, ctx);
          return;
        }
        case 'command': {
          // A cluster this task never saw has no recommendation to set.
          const s = state.clusters.get(input.cluster);
          if (s === undefined) return;
          const r = applyCommand(s, {
            recommendationId: input.recommendationId,
            status: input.status,
            ts: input.ts,
          });
          publish(input.cluster, r, ctx, ctx.watermark);
          return;
        }
      }
    },
    onWatermark(state: RecommendationsTaskState, ctx: StatefulTickContext) {
      settle(state);
      for (const cluster of [...state.clusters.keys()].sort())
        publish(
          cluster,
          advance(state.clusters.get(cluster) as RecommendationsState, ctx.watermark),
          ctx,
          ctx.watermark,
        );
    },
    snapshot(state, key) {
      settle(state);
      if (key === META) return Buffer.from(JSON.stringify({ seq: state.seq }));
      if (key.startsWith(FOLD)) {
        const rest = key.slice(FOLD.length);
        const i = rest.indexOf('/');
        const s = state.clusters.get(rest.slice(0, i));
        return s === undefined ? null : stateRecordBytes(s, rest.slice(i + 1));
      }
      if (key.startsWith(POD)) {
        const e = state.pods.get(key.slice(POD.length));
        return e === undefined ? null : Buffer.from(JSON.stringify(e));
      }
      if (key.startsWith(OWNER)) {
        const e = state.owners.get(key.slice(OWNER.length));
        return e === undefined ? null : Buffer.from(JSON.stringify(e));
      }
      return null;
    },
  };
}
