export { createKubeCollector, KubeApiError, KUBE_COLLECTOR_DEFAULTS, KUBE_RAW_TOPIC } from './collector.ts';
export type {
  KindState,
  KindStatus,
  KubeCollector,
  KubeCollectorOptions,
  KubeCollectorStatus,
} from './collector.ts';
export { WATCHED_KINDS, apiVersionOf, collectionPath } from './kinds.ts';
export type { WatchedKind } from './kinds.ts';
export { TokenBucket, delay } from './rate.ts';
export type { TokenBucketOptions } from './rate.ts';
export { kubeAccess, kubeSourceOf, SERVICE_ACCOUNT_DIR } from './access.ts';
export type { KubeAccess, KubeConfigLike, KubeSource } from './access.ts';
