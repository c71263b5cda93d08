export { parseKubeTime } from './kube.ts';
export type {
  ContainerState,
  ContainerStateRunning,
  ContainerStateTerminated,
  ContainerStateWaiting,
  ContainerStatus,
  KubeContainerSpec,
  KubeNode,
  KubeObjectMeta,
  KubePod,
  NodeCondition,
  OwnerRef,
  PodCondition,
} from './kube.ts';
export { podHealth, pendingSince, POD_CATEGORIES, DEFAULT_POD_HEALTH_THRESHOLDS } from './pod.ts';
export type { PodCategory, PodHealth, PodHealthOptions, PodHealthThresholds, PodReason } from './pod.ts';
export { nodeHealth, NODE_STATES, DEFAULT_NODE_HEALTH_THRESHOLDS } from './node.ts';
export type { NodeHealth, NodeHealthThresholds, NodeReason, NodeState } from './node.ts';
export {
  workloadOf,
  workloadFromNames,
  controllerOwner,
  CRONJOB_MAX_LAG_MS,
  CRONJOB_SKEW_MS,
} from './workload.ts';
export type { OwnerLookups, Workload } from './workload.ts';
export { parseQuantity } from './quantity.ts';
