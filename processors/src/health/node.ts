import type { KubeNode } from './kube.ts';
import { parseKubeTime } from './kube.ts';

/** Node states of SPEC §2, in their canonical order (the order `states` lists them). */
export const NODE_STATES = ['NotReady', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeHealthThresholds {
  /** `NotReady` when the Ready condition has not been True for at least this long. */
  notReadyAfterMs: number;
}

export const DEFAULT_NODE_HEALTH_THRESHOLDS: NodeHealthThresholds = { notReadyAfterMs: 60_000 };

/** The condition behind a state, for evidence. `at` is the time (as served) the rule measured from. */
export interface NodeReason {
  state: NodeState;
  condition: string;
  status: string;
  reason?: string;
  message?: string;
  at?: string;
}

export interface NodeHealth {
  name: string;
  /** The Ready condition is True now (no debounce). */
  ready: boolean;
  /** `spec.unschedulable` (cordoned): not a SPEC state, carried for RCA. */
  unschedulable: boolean;
  states: NodeState[];
  reasons: NodeReason[];
}

const PRESSURE: readonly NodeState[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

/**
 * The health of one node at event time `now` (epoch ms), per SPEC §2:
 * - `NotReady`: the Ready condition is not True (False, Unknown or absent) and has not been
 *   since at least `notReadyAfterMs` before now. "Since" is the Ready condition's
 *   lastTransitionTime; without one (or without a Ready condition), the node's
 *   creationTimestamp; without either, the state counts at once (no evidence it is transient).
 * - `MemoryPressure`, `DiskPressure`, `PIDPressure`: that condition is True now.
 */
export function nodeHealth(
  node: KubeNode,
  now: number,
  thresholds: Partial<NodeHealthThresholds> = {},
): NodeHealth {
  const t: NodeHealthThresholds = { ...DEFAULT_NODE_HEALTH_THRESHOLDS, ...thresholds };
  const conditions = node.status?.conditions ?? [];
  const readyCondition = conditions.find((c) => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const reasons: NodeReason[] = [];
  if (!ready) {
    const sinceText =
      parseKubeTime(readyCondition?.lastTransitionTime) !== undefined
        ? (readyCondition?.lastTransitionTime ?? undefined)
        : parseKubeTime(node.metadata.creationTimestamp) !== undefined
          ? (node.metadata.creationTimestamp ?? undefined)
          : undefined;
    const since = parseKubeTime(sinceText);
    if (since === undefined || now - since >= t.notReadyAfterMs) {
      reasons.push(
        nodeReason('NotReady', 'Ready', readyCondition?.status ?? 'Unknown', readyCondition, sinceText),
      );
    }
  }
  for (const state of PRESSURE) {
    const c = conditions.find((x) => x.type === state);
    if (c?.status === 'True')
      reasons.push(nodeReason(state, state, c.status, c, c.lastTransitionTime ?? undefined));
  }
  return {
    name: node.metadata.name,
    ready,
    unschedulable: node.spec?.unschedulable === true,
    states: reasons.map((r) => r.state),
    reasons,
  };
}

function nodeReason(
  state: NodeState,
  condition: string,
  status: string,
  c: { reason?: string; message?: string } | undefined,
  at: string | undefined,
): NodeReason {
  const out: NodeReason = { state, condition, status };
  if (c?.reason !== undefined && c.reason !== '') out.reason = c.reason;
  if (c?.message !== undefined && c.message !== '') out.message = c.message;
  if (at !== undefined) out.at = at;
  return out;
}
