/**
 * The minimal typed subset of the Kubernetes objects that the health rules read, as the API
 * server serves them (`kubectl get pod -o json`). Every field the wire may omit is optional:
 * the functions of this module never assume more than the API guarantees. Extra fields are
 * allowed (structural typing) and ignored.
 */

/** `metadata.ownerReferences[]` (also what the owner look-ups return). */
export interface OwnerRef {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string | null;
  /** For a pod: the end of its grace period (request time + `deletionGracePeriodSeconds`). */
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Record<string, string>;
  ownerReferences?: OwnerRef[];
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface ContainerStateRunning {
  startedAt?: string | null;
}

export interface ContainerStateTerminated {
  exitCode?: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  containerID?: string;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  image?: string;
  imageID?: string;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
}

export interface KubeContainerSpec {
  name: string;
  image?: string;
  /** Init containers only: `Always` makes it a sidecar (restartable init container). */
  restartPolicy?: string;
}

export interface KubePod {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
  spec?: {
    nodeName?: string;
    restartPolicy?: string;
    initContainers?: KubeContainerSpec[];
    containers?: KubeContainerSpec[];
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    nominatedNodeName?: string;
    hostIP?: string;
    podIP?: string;
    qosClass?: string;
    startTime?: string | null;
    conditions?: PodCondition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string | null;
  lastTransitionTime?: string | null;
}

export interface KubeNode {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: NodeCondition[] };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses a Kubernetes timestamp (RFC 3339, as `metav1.Time` / `metav1.MicroTime` serialise:
 * `2026-11-26T08:00:00Z`, optionally with a fraction and a numeric offset) into epoch ms.
 * A zone is required (a zone-less time would depend on the machine's zone). Returns
 * `undefined` for null, undefined, or anything that is not a valid RFC 3339 time.
 */
export function parseKubeTime(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const zone = m[8] ?? 'Z';
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
