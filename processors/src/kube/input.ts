/**
 * What the kube processor reads of a `WatchObserved`: only Pods, ReplicaSets, Jobs and Nodes (and
 * the list markers of those kinds), trimmed to the fields the health rules read, so the state
 * stays small. Every other kind is skipped without parsing its object.
 */
import type { WatchObserved } from '@hetu/schemas';
import { HetuError, type LogRecord } from '@hetu/streams';
import type {
  ContainerState,
  ContainerStatus,
  KubeContainerSpec,
  KubeNode,
  KubePod,
  NodeCondition,
  OwnerRef,
  PodCondition,
} from '../health/index.ts';
import { controllerOwner } from '../health/index.ts';

/** Longest evidence excerpt, in characters. */
export const EXCERPT_MAX = 240;

export type WatchEvent = 'upsert' | 'deleted';

export type KubeInput =
  | {
      readonly type: 'pod';
      readonly event: WatchEvent;
      readonly cluster: string;
      readonly pod: KubePod;
      readonly excerpt: string;
    }
  | {
      readonly type: 'node';
      readonly event: WatchEvent;
      readonly cluster: string;
      readonly node: KubeNode;
      readonly excerpt: string;
    }
  | {
      readonly type: 'owner';
      readonly event: WatchEvent;
      readonly cluster: string;
      readonly kind: 'ReplicaSet' | 'Job';
      readonly namespace: string;
      readonly name: string;
      /** The object's controller owner; null when it has none. */
      readonly owner: OwnerRef | null;
    }
  | {
      readonly type: 'sync-begin' | 'sync-end';
      readonly cluster: string;
      readonly kind: TrackedKind;
      readonly namespace: string | null;
    }
  | { readonly type: 'ignored' };

export type TrackedKind = 'Pod' | 'Node' | 'ReplicaSet' | 'Job';
const TRACKED: ReadonlySet<string> = new Set<TrackedKind>(['Pod', 'Node', 'ReplicaSet', 'Job']);

function bad(record: LogRecord, why: string): HetuError {
  return new HetuError(
    'HETU_INPUT_INVALID',
    `Watch record ${record.topic}/${record.partition}/${record.offset} ${why}, so the kube processor cannot read it.`,
  );
}

/** Turns a decoded watch observation into the processor's input (throws bad input for a broken object). */
export function toKubeInput(record: LogRecord, w: WatchObserved): KubeInput {
  if (!TRACKED.has(w.kind)) return { type: 'ignored' };
  const kind = w.kind as TrackedKind;
  switch (w.type) {
    case 'GAP':
      return { type: 'ignored' };
    case 'SYNC_BEGIN':
    case 'SYNC_END':
      return {
        type: w.type === 'SYNC_BEGIN' ? 'sync-begin' : 'sync-end',
        cluster: w.cluster,
        kind,
        namespace: w.namespace,
      };
    default:
      break;
  }
  const event: WatchEvent = w.type === 'DELETED' ? 'deleted' : 'upsert';
  if (w.object === null) throw bad(record, `(${w.type} ${w.kind}) has no object`);
  let o: unknown;
  try {
    o = JSON.parse(w.object);
  } catch {
    throw bad(record, `(${w.type} ${w.kind}) holds an object that is not JSON`);
  }
  if (!isObj(o) || !isObj(o['metadata']) || typeof o['metadata']['name'] !== 'string') {
    throw bad(record, `(${w.type} ${w.kind}) holds an object without metadata.name`);
  }
  const meta = o['metadata'];
  if (kind === 'Pod') {
    if (typeof meta['namespace'] !== 'string') throw bad(record, '(Pod) has no metadata.namespace');
    const pod = trimPod(o);
    return { type: 'pod', event, cluster: w.cluster, pod, excerpt: podExcerpt(w.type, pod) };
  }
  if (kind === 'Node') {
    const node = trimNode(o);
    return { type: 'node', event, cluster: w.cluster, node, excerpt: nodeExcerpt(w.type, node) };
  }
  if (typeof meta['namespace'] !== 'string') throw bad(record, `(${kind}) has no metadata.namespace`);
  const name = meta['name'] as string;
  const owner = controllerOwner({ metadata: { name, ownerReferences: ownerRefs(meta) } });
  return {
    type: 'owner',
    event,
    cluster: w.cluster,
    kind: kind as 'ReplicaSet' | 'Job',
    namespace: meta['namespace'],
    name,
    owner: owner === undefined ? null : { kind: owner.kind, name: owner.name },
  };
}

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Drops keys whose value is undefined, so trimmed objects are stable JSON. */
function def<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function ownerRefs(meta: Obj): OwnerRef[] {
  const out: OwnerRef[] = [];
  for (const r of arr(meta['ownerReferences'])) {
    const kind = str(r['kind']);
    const name = str(r['name']);
    if (kind === undefined || name === undefined) continue;
    out.push(def({ kind, name, controller: r['controller'] === true ? true : undefined }));
  }
  return out;
}

/** The pod's fields that `podHealth` and `workloadOf` read, and nothing else. */
export function trimPod(o: Obj): KubePod {
  const meta = o['metadata'] as Obj;
  const spec = isObj(o['spec']) ? o['spec'] : {};
  const status = isObj(o['status']) ? o['status'] : {};
  const labels = isObj(meta['labels']) ? meta['labels'] : {};
  const hash = str(labels['pod-template-hash']);
  const owner = controllerOwner({ metadata: { name: '', ownerReferences: ownerRefs(meta) } });
  const sidecars: KubeContainerSpec[] = arr(spec['initContainers'])
    .filter((c) => c['restartPolicy'] === 'Always' && typeof c['name'] === 'string')
    .map((c) => ({ name: c['name'] as string, restartPolicy: 'Always' }));
  return {
    metadata: def({
      name: meta['name'] as string,
      namespace: str(meta['namespace']),
      uid: str(meta['uid']),
      creationTimestamp: str(meta['creationTimestamp']),
      deletionTimestamp: str(meta['deletionTimestamp']),
      labels: hash === undefined ? undefined : { 'pod-template-hash': hash },
      ownerReferences:
        owner === undefined ? undefined : [{ kind: owner.kind, name: owner.name, controller: true }],
    }),
    spec: def({
      nodeName: str(spec['nodeName']),
      initContainers: sidecars.length === 0 ? undefined : sidecars,
    }),
    status: def({
      phase: str(status['phase']),
      reason: str(status['reason']),
      message: str(status['message']),
      startTime: str(status['startTime']),
      conditions: arr(status['conditions']).map(condition),
      initContainerStatuses: arr(status['initContainerStatuses']).map(containerStatus),
      containerStatuses: arr(status['containerStatuses']).map(containerStatus),
    }),
  };
}

function condition(c: Obj): PodCondition & NodeCondition {
  return def({
    type: str(c['type']) ?? '',
    status: str(c['status']) ?? '',
    reason: str(c['reason']),
    message: str(c['message']),
    lastTransitionTime: str(c['lastTransitionTime']),
  });
}

function containerStatus(s: Obj): ContainerStatus {
  return def({
    name: str(s['name']) ?? '',
    restartCount: num(s['restartCount']),
    state: containerState(s['state']),
    lastState: containerState(s['lastState']),
  });
}

function containerState(v: unknown): ContainerState | undefined {
  if (!isObj(v)) return undefined;
  const out: ContainerState = {};
  if (isObj(v['waiting'])) {
    out.waiting = def({ reason: str(v['waiting']['reason']), message: str(v['waiting']['message']) });
  }
  if (isObj(v['running'])) out.running = {};
  if (isObj(v['terminated'])) {
    const t = v['terminated'];
    out.terminated = def({
      exitCode: num(t['exitCode']),
      reason: str(t['reason']),
      message: str(t['message']),
      finishedAt: str(t['finishedAt']),
    });
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The node's fields that `nodeHealth` reads. */
export function trimNode(o: Obj): KubeNode {
  const meta = o['metadata'] as Obj;
  const spec = isObj(o['spec']) ? o['spec'] : {};
  const status = isObj(o['status']) ? o['status'] : {};
  return {
    metadata: def({
      name: meta['name'] as string,
      uid: str(meta['uid']),
      creationTimestamp: str(meta['creationTimestamp']),
    }),
    spec: spec['unschedulable'] === true ? { unschedulable: true } : {},
    status: { conditions: arr(status['conditions']).map(condition) },
  };
}

function clip(text: string): string {
  return text.length <= EXCERPT_MAX ? text : text.slice(0, EXCERPT_MAX - 1) + '…';
}

function stateText(s: ContainerState | undefined): string {
  if (s?.waiting !== undefined) return `waiting ${s.waiting.reason ?? '?'}`;
  if (s?.terminated !== undefined) {
    const t = s.terminated;
    return `terminated ${t.reason ?? '?'}${t.exitCode === undefined ? '' : ` exit ${t.exitCode}`}`;
  }
  if (s?.running !== undefined) return 'running';
  return 'unknown';
}

/**
 * One line on a pod event, e.g. `MODIFIED Pod shop/cart-1 Running: cart waiting CrashLoopBackOff
 * (restarts 3, last OOMKilled exit 137)`. Status fields only: no spec, env or annotations.
 */
export function podExcerpt(type: string, pod: KubePod): string {
  const st = pod.status ?? {};
  let text = `${type} Pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name} ${st.phase ?? 'Unknown'}`;
  if (pod.metadata.deletionTimestamp != null) text += ` (deleting at ${pod.metadata.deletionTimestamp})`;
  if (st.reason !== undefined) text += ` ${st.reason}`;
  const unscheduled = (st.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  if (unscheduled !== undefined) text += ` unschedulable: ${unscheduled.reason ?? unscheduled.status}`;
  const parts: string[] = [];
  for (const s of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
    let p = `${s.name} ${stateText(s.state)} (restarts ${s.restartCount ?? 0}`;
    const last = s.lastState?.terminated;
    if (last !== undefined) p += `, last ${stateText({ terminated: last }).slice('terminated '.length)}`;
    parts.push(p + ')');
  }
  if (parts.length > 0) text += ': ' + parts.join('; ');
  return clip(text);
}

/** One line on a node event, e.g. `MODIFIED Node node-2 Ready=Unknown (NodeStatusUnknown)`. */
export function nodeExcerpt(type: string, node: KubeNode): string {
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  let text = `${type} Node ${node.metadata.name} Ready=${ready?.status ?? 'absent'}`;
  if (ready?.reason !== undefined && ready.status !== 'True') text += ` (${ready.reason})`;
  for (const c of conditions) {
    if (c.type !== 'Ready' && c.status === 'True') text += ` ${c.type}`;
  }
  if (node.spec?.unschedulable === true) text += ' cordoned';
  return clip(text);
}
