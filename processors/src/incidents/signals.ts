import type { NodeHealth, NodeState, PodCategory, PodHealth } from '../health/index.ts';
import type {
  EvidenceRef,
  IncidentSeverity,
  ResourceRef,
  Signal,
  SignalDetail,
  SignalKind,
} from './types.ts';

/**
 * Signal producers: pure mappings from derived health (SPEC §2) and raw facts to `Signal`s.
 * Health transitions give one signal per category entered and a `cleared` signal per category
 * left, so the incidents fold sees each condition start and end exactly once.
 */

/** Pod categories that are signals (SPEC §6) with their kind and severity. */
export const POD_SIGNALS: ReadonlyMap<PodCategory, { kind: SignalKind; severity: IncidentSeverity }> =
  new Map([
    ['crashloop', { kind: 'crashloop', severity: 'high' }],
    ['oomkilled', { kind: 'oomkilled', severity: 'high' }],
    ['imagepull', { kind: 'imagepull', severity: 'medium' }],
    ['init-failure', { kind: 'init-failure', severity: 'high' }],
    ['pending', { kind: 'pending', severity: 'medium' }],
    ['evicted', { kind: 'evicted', severity: 'medium' }],
    ['failed', { kind: 'failed', severity: 'high' }],
  ] as const);

function podDetail(h: PodHealth, category: PodCategory): SignalDetail {
  const r = h.reasons.find((x) => x.category === category);
  if (r === undefined) return {};
  return {
    reason: r.reason,
    ...(r.message === undefined ? {} : { message: r.message }),
    ...(r.container === undefined ? {} : { container: r.container }),
    ...(r.exitCode === undefined ? {} : { exitCode: r.exitCode }),
  };
}

/**
 * Signals for a pod's health changing from `prev` to `next` (either may be null: pod new or
 * deleted) at event time `ts`. A deleted pod clears every signal it had.
 */
export function podSignals(
  prev: PodHealth | null,
  next: PodHealth | null,
  ts: number,
  evidence: readonly EvidenceRef[] = [],
): Signal[] {
  const h = next ?? prev;
  if (h === null) return [];
  const before = new Set(prev?.categories ?? []);
  const after = new Set(next?.categories ?? []);
  const resource: ResourceRef = { kind: 'Pod', namespace: h.namespace, name: h.name };
  const workload: ResourceRef = {
    kind: h.workload.kind,
    namespace: h.workload.namespace,
    name: h.workload.name,
  };
  const out: Signal[] = [];
  for (const [category, { kind, severity }] of POD_SIGNALS) {
    const was = before.has(category);
    const is = after.has(category);
    if (was === is) continue;
    const from = is ? (next as PodHealth) : (prev as PodHealth);
    out.push({
      source: 'pod',
      key: category + ':' + h.namespace + '/' + h.name,
      kind,
      severity,
      ts,
      ...(is ? {} : { cleared: true }),
      resource,
      workload,
      ...(from.node === null ? {} : { node: from.node }),
      detail: podDetail(from, category),
      evidence: [...evidence],
    });
  }
  return out;
}

const NODE_SEVERITY: Record<NodeState, IncidentSeverity> = {
  NotReady: 'critical',
  MemoryPressure: 'high',
  DiskPressure: 'high',
  PIDPressure: 'high',
};

/** Signals for a node's states changing from `prev` to `next` at event time `ts`. */
export function nodeSignals(
  prev: NodeHealth | null,
  next: NodeHealth | null,
  ts: number,
  evidence: readonly EvidenceRef[] = [],
): Signal[] {
  const h = next ?? prev;
  if (h === null) return [];
  const before = new Set(prev?.states ?? []);
  const after = new Set(next?.states ?? []);
  const out: Signal[] = [];
  for (const state of ['NotReady', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const) {
    const was = before.has(state);
    const is = after.has(state);
    if (was === is) continue;
    const from = is ? (next as NodeHealth) : (prev as NodeHealth);
    const r = from.reasons.find((x) => x.state === state);
    out.push({
      source: 'node',
      key: state + ':' + h.name,
      kind: state === 'NotReady' ? 'node-not-ready' : 'node-pressure',
      severity: NODE_SEVERITY[state],
      ts,
      ...(is ? {} : { cleared: true }),
      resource: { kind: 'Node', namespace: '', name: h.name },
      node: h.name,
      detail: {
        reason: state,
        ...(r?.message === undefined ? {} : { message: r.message }),
      },
      evidence: [...evidence],
    });
  }
  return out;
}

/** Warning-event reasons and their severity; any other Warning reason is `low`. */
export const EVENT_SEVERITY: ReadonlyMap<string, IncidentSeverity> = new Map([
  ['OOMKilling', 'high'],
  ['NodeNotReady', 'high'],
  ['Evicted', 'high'],
  ['BackOff', 'medium'],
  ['Failed', 'medium'],
  ['FailedScheduling', 'medium'],
  ['FailedMount', 'medium'],
  ['FailedAttachVolume', 'medium'],
  ['FailedCreatePodSandBox', 'medium'],
  ['Unhealthy', 'medium'],
] as const);

export interface WarningEvent {
  readonly involved: ResourceRef;
  /** The involved object's workload, when it is a pod whose owner is known. */
  readonly workload?: ResourceRef;
  readonly node?: string;
  readonly reason: string;
  readonly message: string;
  readonly count?: number;
  readonly ts: number;
}

/** A Warning event as a point-in-time signal, keyed by reason and involved object. */
export function eventSignal(e: WarningEvent, evidence: readonly EvidenceRef[] = []): Signal {
  const inv = e.involved;
  const node = e.node ?? (inv.kind === 'Node' ? inv.name : undefined);
  return {
    source: 'event',
    key: e.reason + ':' + inv.kind + '/' + inv.namespace + '/' + inv.name,
    kind: 'warning-event',
    severity: EVENT_SEVERITY.get(e.reason) ?? 'low',
    ts: e.ts,
    resource: { kind: inv.kind, namespace: inv.namespace, name: inv.name },
    ...(e.workload === undefined ? {} : { workload: e.workload }),
    ...(node === undefined ? {} : { node }),
    detail: {
      reason: e.reason,
      message: e.message,
      ...(e.count === undefined ? {} : { eventCount: e.count }),
    },
    evidence: [...evidence],
  };
}

/** A workload's pod template changed: a change signal (never opens an incident). */
export function rolloutSignal(
  workload: ResourceRef,
  ts: number,
  oldImage: string | null,
  newImage: string,
  revision: string,
  evidence: readonly EvidenceRef[] = [],
): Signal {
  return {
    source: 'rollout',
    key: workload.kind + '/' + workload.namespace + '/' + workload.name + '@' + revision,
    kind: 'rollout',
    severity: 'low',
    ts,
    resource: workload,
    workload,
    detail: { oldImage, newImage, revision },
    evidence: [...evidence],
  };
}

/**
 * A container's memory climbing towards its limit (steady growth over the RCA's look-back, the
 * last sample at least `memoryLeakWarn` of the limit): a condition that never opens an incident
 * but holds a live one of its workload open until it clears (`cleared`: growth over, the
 * container restarted or gone). Keyed by pod: one leak per pod is held.
 */
export function memoryGrowthSignal(
  pod: ResourceRef,
  workload: ResourceRef,
  container: string,
  ts: number,
  cleared: boolean,
  detail: { readonly value?: number; readonly message?: string },
  evidence: readonly EvidenceRef[] = [],
): Signal {
  return {
    source: 'pressure',
    key: 'memory-growth:' + pod.namespace + '/' + pod.name,
    kind: 'memory-growth',
    severity: 'medium',
    ts,
    ...(cleared ? { cleared: true } : {}),
    resource: pod,
    workload,
    detail: { metric: 'memory_working_set_bytes', container, ...detail },
    evidence: [...evidence],
  };
}
