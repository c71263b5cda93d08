/**
 * The `kube` processor (SPEC §2; docs/kube-processor.md): raw watch events of `hetu.raw.kube` →
 * pod health on `hetu.facts.pod-health` and node health on `hetu.facts.node-health`.
 *
 * Per task the state holds the last trimmed object of each Pod and Node seen in the partition and
 * the controller owner of each ReplicaSet and Job, each under its own changelog key:
 *  - `p/<cluster>/<namespace>/<pod>`, `n/<cluster>/<node>`: the object, what was last published,
 *    the last event's position, and the next instant its health can change by time alone;
 *  - `o/<cluster>/<Kind>/<namespace>/<name>`: a ReplicaSet's or Job's controller owner;
 *  - `s/<cluster>/<Kind>/<namespace or *>`: an open list (SYNC_BEGIN seen, SYNC_END not yet);
 *  - `m`: the observation counter (orders entries least recently observed first).
 */
import type { RecordTypes, WatchObserved } from '@hetu/schemas';
import type { LogRecord, StatefulContext, StatefulProcessor, StatefulTickContext } from '@hetu/streams';
import { andThen } from '@hetu/streams';
import type {
  KubeNode,
  KubePod,
  NodeHealthThresholds,
  OwnerLookups,
  OwnerRef,
  PodHealthThresholds,
} from '../health/index.ts';
import {
  DEFAULT_NODE_HEALTH_THRESHOLDS,
  DEFAULT_POD_HEALTH_THRESHOLDS,
  controllerOwner,
  nodeHealth,
  parseKubeTime,
  pendingSince,
  podHealth,
} from '../health/index.ts';
import { toKubeInput, type KubeInput, type TrackedKind } from './input.ts';
import { Schedule } from './schedule.ts';

export { EXCERPT_MAX, nodeExcerpt, podExcerpt, toKubeInput, trimNode, trimPod } from './input.ts';
export type { KubeInput, TrackedKind, WatchEvent } from './input.ts';
export { Schedule } from './schedule.ts';

export const KUBE_PROCESSOR = 'kube';
export const KUBE_TOPIC = 'hetu.raw.kube';
export const KUBE_CHANGELOG = 'hetu.state.kube';
export const POD_HEALTH_TOPIC = 'hetu.facts.pod-health';
export const NODE_HEALTH_TOPIC = 'hetu.facts.node-health';

export type PodHealthRecord = RecordTypes['PodHealth'];
export type NodeHealthRecord = RecordTypes['NodeHealth'];
export type Evidence = PodHealthRecord['evidence'];

export interface KubeProcessorConfig {
  /** Pods kept per task; beyond it the least recently observed is forgotten. Default 50 000. */
  readonly maxPods?: number;
  /** Nodes kept per task. Default 10 000. */
  readonly maxNodes?: number;
  /** ReplicaSet and Job owners kept per task. Default 50 000. */
  readonly maxOwners?: number;
  readonly pod?: Partial<PodHealthThresholds>;
  readonly node?: Partial<NodeHealthThresholds>;
}

export const DEFAULT_KUBE_CONFIG = { maxPods: 50_000, maxNodes: 10_000, maxOwners: 50_000 } as const;

export interface KubeProcessorDeps {
  /** Decodes a `hetu.raw.kube` record (e.g. `serde.decode(record.value, 'WatchObserved')`). */
  decodeWatch(record: LogRecord): Promise<WatchObserved> | WatchObserved;
  readonly config?: KubeProcessorConfig;
}

interface PodEntry {
  readonly cluster: string;
  pod: KubePod;
  /** Observation sequence number of its last event (least recently observed = smallest). */
  seq: number;
  /** Position and excerpt of its last event. */
  last: Evidence;
  /** What was last published (null: nothing yet). */
  published: PodHealthRecord | null;
  /** The next instant its categories can change by time alone, or null. */
  next: number | null;
  /** The owner key (`<cluster>/<Kind>/<ns>/<name>`) of its ReplicaSet or Job controller, if any. */
  ownerKey: string | null;
}

interface NodeEntry {
  readonly cluster: string;
  node: KubeNode;
  seq: number;
  last: Evidence;
  published: NodeHealthRecord | null;
  next: number | null;
}

interface OwnerEntry {
  owner: OwnerRef | null;
  seq: number;
  /** DELETED was seen while pods still referred to it: dropped with its last pod. */
  deleted: boolean;
}

/** The state of one task. */
export interface KubeState {
  readonly pods: Map<string, PodEntry>;
  readonly nodes: Map<string, NodeEntry>;
  readonly owners: Map<string, OwnerEntry>;
  /** Open lists: sync key → observation counter at SYNC_BEGIN. */
  readonly syncs: Map<string, number>;
  /** Derived (rebuilt on restore): owner key → keys of its pods. */
  readonly podsByOwner: Map<string, Set<string>>;
  readonly schedule: Schedule;
  seq: number;
  /** Non-null between a restore and the first use. */
  restoring: Map<string, Buffer | null> | null;
}

const POD = 'p/';
const NODE = 'n/';
const OWNER = 'o/';
const SYNC = 's/';
const META = 'm';

export function kubeProcessor(deps: KubeProcessorDeps): StatefulProcessor<KubeInput, KubeState> {
  const cfg = { ...DEFAULT_KUBE_CONFIG, ...deps.config };
  const podT: PodHealthThresholds = { ...DEFAULT_POD_HEALTH_THRESHOLDS, ...deps.config?.pod };
  const nodeT: NodeHealthThresholds = { ...DEFAULT_NODE_HEALTH_THRESHOLDS, ...deps.config?.node };
  for (const [k, v] of Object.entries({
    maxPods: cfg.maxPods,
    maxNodes: cfg.maxNodes,
    maxOwners: cfg.maxOwners,
  })) {
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`kube processor: ${k} must be a positive integer, got ${v}.`);
  }

  // ---- evaluation ----

  const lookups = (state: KubeState, cluster: string): OwnerLookups => ({
    replicaSetOwner: (ns, name) => state.owners.get(`${cluster}/ReplicaSet/${ns}/${name}`)?.owner,
    jobOwner: (ns, name) => state.owners.get(`${cluster}/Job/${ns}/${name}`)?.owner,
  });

  /** Evaluates a pod at `now`, publishes when something a consumer cares about changed, reschedules it. */
  function evaluatePod(state: KubeState, key: string, e: PodEntry, now: number, ctx: Ctx): void {
    const h = podHealth(e.pod, now, { lookups: lookups(state, e.cluster), thresholds: podT });
    const prev = e.published;
    const categoriesChanged = prev === null || prev.categories.join() !== h.categories.join();
    const rec: PodHealthRecord = {
      ts: now,
      cluster: e.cluster,
      namespace: h.namespace,
      name: h.name,
      uid: e.pod.metadata.uid ?? null,
      node: h.node,
      phase: h.phase,
      workload: { ...h.workload },
      categories: [...h.categories],
      reasons: h.reasons.map((r) => ({
        category: r.category,
        container: r.container ?? null,
        reason: r.reason,
        message: r.message ?? null,
        exitCode: r.exitCode ?? null,
        restartCount: r.restartCount ?? null,
        at: r.at ?? null,
      })),
      restarts: h.restarts,
      restartsPerHour: h.restartsPerHour,
      ageMs: h.ageMs,
      evidence: categoriesChanged || prev === null ? e.last : prev.evidence,
    };
    if (prev === null || podCares(prev) !== podCares(rec)) {
      e.published = rec;
      ctx.emit(POD_HEALTH_TOPIC, { key: key.slice(POD.length), value: rec, timestamp: now });
      ctx.changed(key);
    }
    reschedule(state, key, e, podNext(e.pod, now, podT), ctx);
  }

  function evaluateNode(state: KubeState, key: string, e: NodeEntry, now: number, ctx: Ctx): void {
    const h = nodeHealth(e.node, now, nodeT);
    const prev = e.published;
    const statesChanged = prev === null || prev.states.join() !== h.states.join();
    const rec: NodeHealthRecord = {
      ts: now,
      cluster: e.cluster,
      name: h.name,
      uid: e.node.metadata.uid ?? null,
      ready: h.ready,
      unschedulable: h.unschedulable,
      states: [...h.states],
      reasons: h.reasons.map((r) => ({
        state: r.state,
        condition: r.condition,
        status: r.status,
        reason: r.reason ?? null,
        message: r.message ?? null,
        at: r.at ?? null,
      })),
      evidence: statesChanged || prev === null ? e.last : prev.evidence,
    };
    if (prev === null || nodeCares(prev) !== nodeCares(rec)) {
      e.published = rec;
      ctx.emit(NODE_HEALTH_TOPIC, { key: key.slice(NODE.length), value: rec, timestamp: now });
      ctx.changed(key);
    }
    reschedule(state, key, e, nodeNext(e.node, now, nodeT), ctx);
  }

  function reschedule(state: KubeState, key: string, e: PodEntry | NodeEntry, next: number | null, ctx: Ctx) {
    if (e.next === next) return;
    e.next = next;
    ctx.changed(key);
    if (next !== null) state.schedule.push(next, key);
  }

  // ---- inputs ----

  function observe(state: KubeState, ctx: StatefulContext): { seq: number; last: Evidence } {
    state.seq++;
    ctx.changed(META);
    return {
      seq: state.seq,
      last: {
        topic: ctx.source.topic,
        partition: ctx.source.partition,
        offset: ctx.source.offset.toString(),
        ts: ctx.timestamp,
        excerpt: '',
      },
    };
  }

  function onPod(state: KubeState, input: Extract<KubeInput, { type: 'pod' }>, ctx: StatefulContext): void {
    const meta = input.pod.metadata;
    const id = `${input.cluster}/${meta.namespace ?? ''}/${meta.name}`;
    const key = POD + id;
    if (input.event === 'deleted') {
      dropPod(state, key, ctx);
      ctx.emit(POD_HEALTH_TOPIC, { key: id, value: null, timestamp: ctx.watermark });
      return;
    }
    const { seq, last } = observe(state, ctx);
    last.excerpt = input.excerpt;
    const owner = controllerOwner(input.pod);
    const ownerKey =
      owner !== undefined && (owner.kind === 'ReplicaSet' || owner.kind === 'Job')
        ? `${input.cluster}/${owner.kind}/${meta.namespace ?? ''}/${owner.name}`
        : null;
    let e = state.pods.get(key);
    if (e === undefined) {
      e = { cluster: input.cluster, pod: input.pod, seq, last, published: null, next: null, ownerKey };
    } else {
      state.pods.delete(key); // re-inserted last: the map is kept least recently observed first
      if (e.ownerKey !== ownerKey) unindex(state, key, e.ownerKey);
      Object.assign(e, { pod: input.pod, seq, last, ownerKey });
    }
    state.pods.set(key, e);
    index(state, key, ownerKey);
    ctx.changed(key);
    evaluatePod(state, key, e, ctx.watermark, ctx);
    while (state.pods.size > cfg.maxPods) {
      const oldest = state.pods.keys().next().value as string;
      dropPod(state, oldest, ctx);
    }
  }

  function dropPod(state: KubeState, key: string, ctx: Ctx): void {
    const e = state.pods.get(key);
    if (e === undefined) return;
    state.pods.delete(key);
    ctx.changed(key);
    unindex(state, key, e.ownerKey);
    if (e.ownerKey !== null) {
      const o = state.owners.get(e.ownerKey);
      if (o?.deleted === true && !state.podsByOwner.has(e.ownerKey)) {
        state.owners.delete(e.ownerKey);
        ctx.changed(OWNER + e.ownerKey);
      }
    }
  }

  function onNode(state: KubeState, input: Extract<KubeInput, { type: 'node' }>, ctx: StatefulContext): void {
    const id = `${input.cluster}/${input.node.metadata.name}`;
    const key = NODE + id;
    if (input.event === 'deleted') {
      if (state.nodes.delete(key)) ctx.changed(key);
      ctx.emit(NODE_HEALTH_TOPIC, { key: id, value: null, timestamp: ctx.watermark });
      return;
    }
    const { seq, last } = observe(state, ctx);
    last.excerpt = input.excerpt;
    let e = state.nodes.get(key);
    if (e === undefined)
      e = { cluster: input.cluster, node: input.node, seq, last, published: null, next: null };
    else {
      state.nodes.delete(key);
      Object.assign(e, { node: input.node, seq, last });
    }
    state.nodes.set(key, e);
    ctx.changed(key);
    evaluateNode(state, key, e, ctx.watermark, ctx);
    while (state.nodes.size > cfg.maxNodes) {
      const oldest = state.nodes.keys().next().value as string;
      state.nodes.delete(oldest);
      ctx.changed(oldest);
    }
  }

  function onOwner(
    state: KubeState,
    input: Extract<KubeInput, { type: 'owner' }>,
    ctx: StatefulContext,
  ): void {
    const id = `${input.cluster}/${input.kind}/${input.namespace}/${input.name}`;
    const key = OWNER + id;
    const e = state.owners.get(id);
    if (input.event === 'deleted') {
      if (e === undefined) return;
      if (state.podsByOwner.has(id)) e.deleted = true;
      else state.owners.delete(id);
      ctx.changed(key);
      return;
    }
    const { seq } = observe(state, ctx);
    const changed = e === undefined || !sameOwner(e.owner, input.owner);
    state.owners.delete(id);
    state.owners.set(id, { owner: input.owner, seq, deleted: false });
    ctx.changed(key);
    while (state.owners.size > cfg.maxOwners) {
      const oldest = state.owners.keys().next().value as string;
      state.owners.delete(oldest);
      ctx.changed(OWNER + oldest);
    }
    if (changed) {
      // Its pods may have been published with a name-inferred workload: re-resolve them.
      for (const podKey of [...(state.podsByOwner.get(id) ?? [])].sort()) {
        const p = state.pods.get(podKey);
        if (p !== undefined) evaluatePod(state, podKey, p, ctx.watermark, ctx);
      }
    }
  }

  function onSync(
    state: KubeState,
    input: Extract<KubeInput, { type: 'sync-begin' | 'sync-end' }>,
    ctx: StatefulContext,
  ) {
    const id = `${input.cluster}/${input.kind}/${input.namespace ?? '*'}`;
    if (input.type === 'sync-begin') {
      state.syncs.set(id, state.seq);
      ctx.changed(SYNC + id);
      return;
    }
    const begun = state.syncs.get(id);
    if (begun === undefined) return;
    state.syncs.delete(id);
    ctx.changed(SYNC + id);
    // Objects of the kind known before the list began and not listed: deleted unobserved.
    const inScope = (cluster: string, ns: string | undefined) =>
      cluster === input.cluster && (input.namespace === null || ns === input.namespace);
    const gone = (kind: TrackedKind): string[] => {
      const out: string[] = [];
      if (kind === 'Pod') {
        for (const [k, e] of state.pods)
          if (e.seq <= begun && inScope(e.cluster, e.pod.metadata.namespace)) out.push(k);
      } else if (kind === 'Node') {
        for (const [k, e] of state.nodes) if (e.seq <= begun && e.cluster === input.cluster) out.push(k);
      } else {
        const prefix = `${input.cluster}/${kind}/${input.namespace === null ? '' : input.namespace + '/'}`;
        for (const [k, e] of state.owners) if (e.seq <= begun && k.startsWith(prefix)) out.push(k);
      }
      return out.sort();
    };
    for (const k of gone(input.kind)) {
      if (input.kind === 'Pod') {
        dropPod(state, k, ctx);
        ctx.emit(POD_HEALTH_TOPIC, { key: k.slice(POD.length), value: null, timestamp: ctx.watermark });
      } else if (input.kind === 'Node') {
        state.nodes.delete(k);
        ctx.changed(k);
        ctx.emit(NODE_HEALTH_TOPIC, { key: k.slice(NODE.length), value: null, timestamp: ctx.watermark });
      } else {
        const o = state.owners.get(k) as OwnerEntry;
        if (state.podsByOwner.has(k)) o.deleted = true;
        else state.owners.delete(k);
        ctx.changed(OWNER + k);
      }
    }
  }

  function process(state: KubeState, input: KubeInput, ctx: StatefulContext): void {
    settle(state);
    switch (input.type) {
      case 'pod':
        onPod(state, input, ctx);
        break;
      case 'node':
        onNode(state, input, ctx);
        break;
      case 'owner':
        onOwner(state, input, ctx);
        break;
      case 'sync-begin':
      case 'sync-end':
        onSync(state, input, ctx);
        break;
      case 'ignored':
        break;
    }
  }

  /** Re-evaluates the pods and nodes whose next change instant has come, in (instant, key) order. */
  function onWatermark(state: KubeState, ctx: StatefulTickContext): void {
    settle(state);
    const now = ctx.watermark;
    for (let due = state.schedule.peek(); due !== undefined && due.at <= now; due = state.schedule.peek()) {
      state.schedule.pop();
      if (due.key.startsWith(POD)) {
        const e = state.pods.get(due.key);
        if (e === undefined || e.next !== due.at) continue;
        e.next = null; // so that reschedule re-pushes even the same instant
        ctx.changed(due.key);
        evaluatePod(state, due.key, e, now, ctx);
      } else {
        const e = state.nodes.get(due.key);
        if (e === undefined || e.next !== due.at) continue;
        e.next = null;
        ctx.changed(due.key);
        evaluateNode(state, due.key, e, now, ctx);
      }
    }
  }

  // ---- changelog ----

  function snapshot(state: KubeState, key: string): Buffer | null {
    settle(state);
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    if (key === META) return json({ v: 1, seq: state.seq });
    if (key.startsWith(POD)) {
      const e = state.pods.get(key);
      return e === undefined ? null : json({ v: 1, ...e });
    }
    if (key.startsWith(NODE)) {
      const e = state.nodes.get(key);
      return e === undefined ? null : json({ v: 1, ...e });
    }
    if (key.startsWith(OWNER)) {
      const e = state.owners.get(key.slice(OWNER.length));
      return e === undefined ? null : json({ v: 1, ...e });
    }
    if (key.startsWith(SYNC)) {
      const s = state.syncs.get(key.slice(SYNC.length));
      return s === undefined ? null : json({ v: 1, seq: s });
    }
    throw new KubeStateError(`Unknown kube state key ${JSON.stringify(key)}.`);
  }

  function restore(state: KubeState, key: string, value: Buffer | null): void {
    (state.restoring ??= new Map()).set(key, value);
  }

  /** Builds the state from restored records: entries in observation order, the schedule and the owner index. */
  function settle(state: KubeState): void {
    const r = state.restoring;
    if (r === null) return;
    state.restoring = null;
    const pods: [string, PodEntry][] = [];
    const nodes: [string, NodeEntry][] = [];
    const owners: [string, OwnerEntry][] = [];
    let seq = 0;
    for (const [key, value] of r) {
      if (value === null) continue;
      const o = JSON.parse(value.toString('utf8')) as { v: number; seq: number } & Record<string, unknown>;
      if (o.v !== 1) throw new KubeStateError(`Cannot restore kube state: record ${key} has version ${o.v}.`);
      const { v: _v, ...rest } = o;
      seq = Math.max(seq, o.seq);
      if (key === META) continue;
      if (key.startsWith(POD)) pods.push([key, rest as unknown as PodEntry]);
      else if (key.startsWith(NODE)) nodes.push([key, rest as unknown as NodeEntry]);
      else if (key.startsWith(OWNER)) owners.push([key.slice(OWNER.length), rest as unknown as OwnerEntry]);
      else if (key.startsWith(SYNC)) state.syncs.set(key.slice(SYNC.length), o.seq);
      else throw new KubeStateError(`Unknown kube state key ${JSON.stringify(key)} in the changelog.`);
    }
    const bySeq = <T extends { seq: number }>(a: [string, T], b: [string, T]) => a[1].seq - b[1].seq;
    state.pods.clear();
    state.nodes.clear();
    state.owners.clear();
    state.podsByOwner.clear();
    state.schedule.clear();
    for (const [k, e] of pods.sort(bySeq)) {
      state.pods.set(k, e);
      index(state, k, e.ownerKey);
      if (e.next !== null) state.schedule.push(e.next, k);
    }
    for (const [k, e] of nodes.sort(bySeq)) {
      state.nodes.set(k, e);
      if (e.next !== null) state.schedule.push(e.next, k);
    }
    for (const [k, e] of owners.sort(bySeq)) state.owners.set(k, e);
    state.seq = seq;
  }

  return {
    name: KUBE_PROCESSOR,
    inputs: [KUBE_TOPIC],
    changelogTopic: KUBE_CHANGELOG,
    decodeInput: (record) => {
      if (record.value === null) {
        throw new KubeInputError(
          `Record ${record.topic}/${record.partition}/${record.offset} has no value, so it holds no WatchObserved.`,
        );
      }
      const watch = deps.decodeWatch(record);
      return andThen(watch, (w) => toKubeInput(record, w));
    },
    init: () => ({
      pods: new Map(),
      nodes: new Map(),
      owners: new Map(),
      syncs: new Map(),
      podsByOwner: new Map(),
      schedule: new Schedule(),
      seq: 0,
      restoring: null,
    }),
    restore,
    process,
    onWatermark,
    snapshot,
  };
}

type Ctx = Pick<StatefulContext, 'emit' | 'changed'>;

/** A `hetu.raw.kube` record without a value: bad input, dead-lettered by the runtime. */
class KubeInputError extends Error {
  readonly code = 'HETU_INPUT_INVALID';
  readonly transient = false;
}

/** The changelog holds something this version cannot read: fatal (stop, do not dead-letter). */
export class KubeStateError extends Error {
  readonly code = 'HETU_KUBE_STATE_INVALID';
  readonly transient = false;
}

function index(state: KubeState, podKey: string, ownerKey: string | null): void {
  if (ownerKey === null) return;
  let set = state.podsByOwner.get(ownerKey);
  if (set === undefined) state.podsByOwner.set(ownerKey, (set = new Set()));
  set.add(podKey);
}

function unindex(state: KubeState, podKey: string, ownerKey: string | null): void {
  if (ownerKey === null) return;
  const set = state.podsByOwner.get(ownerKey);
  if (set === undefined) return;
  set.delete(podKey);
  if (set.size === 0) state.podsByOwner.delete(ownerKey);
}

function sameOwner(a: OwnerRef | null, b: OwnerRef | null): boolean {
  return a === b || (a !== null && b !== null && a.kind === b.kind && a.name === b.name);
}

/** The fields of a pod fact whose change is published. */
function podCares(r: PodHealthRecord): string {
  return JSON.stringify([r.uid, r.node, r.phase, r.workload, r.categories, r.reasons, r.restarts]);
}

function nodeCares(r: NodeHealthRecord): string {
  return JSON.stringify([r.uid, r.ready, r.unschedulable, r.states, r.reasons]);
}

/**
 * The earliest instant after `now` at which the pod's categories can change with no new event:
 * pending starts (pending-since + pendingAfterMs), terminating starts (deletionTimestamp +
 * terminatingAfterMs + 1 ms, the rule being strict), an OOM kill leaves the window (finishedAt +
 * oomWindowMs + 1 ms). Null when none lies ahead.
 */
export function podNext(pod: KubePod, now: number, t: PodHealthThresholds): number | null {
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const candidates: number[] = [];
  const deletion = parseKubeTime(pod.metadata.deletionTimestamp);
  if (deletion !== undefined) candidates.push(deletion + t.terminatingAfterMs + 1);
  if (phase === 'Pending') {
    const since = pendingSince(pod);
    if (since !== undefined) candidates.push(since.time + t.pendingAfterMs);
  }
  for (const s of pod.status?.containerStatuses ?? []) {
    const last = s.state?.terminated ?? s.lastState?.terminated;
    if (last?.reason !== 'OOMKilled') continue;
    const finished = parseKubeTime(last.finishedAt);
    if (finished !== undefined) candidates.push(finished + t.oomWindowMs + 1);
  }
  let next: number | null = null;
  for (const c of candidates) if (c > now && (next === null || c < next)) next = c;
  return next;
}

/** The instant after `now` at which a not-Ready node becomes NotReady with no new event, or null. */
export function nodeNext(node: KubeNode, now: number, t: NodeHealthThresholds): number | null {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return null;
  const since = parseKubeTime(ready?.lastTransitionTime) ?? parseKubeTime(node.metadata.creationTimestamp);
  if (since === undefined) return null;
  const at = since + t.notReadyAfterMs;
  return at > now ? at : null;
}
