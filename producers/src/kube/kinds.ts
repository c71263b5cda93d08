/**
 * The kinds of SPEC §1 the Kubernetes collector lists and watches, with their API group, version
 * and resource. Listed in this order, so owners (Deployments, ReplicaSets, CronJobs, Jobs) are
 * known before the Pods and Events whose partition keys name their workload, and Services (which
 * workload a Service name stands for: docs/incidents.md) before the failures of the Pods that call
 * them, when hetu starts on a cluster already failing.
 *
 * The same list as `WATCHED` of `hetu doctor` (cli/src/commands/doctor.ts), which asks RBAC
 * about these resources; the cli may import it from `@hetu/producers/kube`.
 */
export interface WatchedKind {
  readonly kind: string;
  /** API group; '' for core/v1. */
  readonly group: string;
  readonly version: string;
  /** The plural resource name in the URL path. */
  readonly resource: string;
  /** False for cluster-scoped kinds (Node, Namespace, ClusterRole, ClusterRoleBinding). */
  readonly namespaced: boolean;
}

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'Namespace', group: '', version: 'v1', resource: 'namespaces', namespaced: false },
  { kind: 'Node', group: '', version: 'v1', resource: 'nodes', namespaced: false },
  { kind: 'Deployment', group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  { kind: 'ReplicaSet', group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  { kind: 'DaemonSet', group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
  { kind: 'CronJob', group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true },
  { kind: 'Job', group: 'batch', version: 'v1', resource: 'jobs', namespaced: true },
  { kind: 'Service', group: '', version: 'v1', resource: 'services', namespaced: true },
  { kind: 'Pod', group: '', version: 'v1', resource: 'pods', namespaced: true },
  { kind: 'Event', group: '', version: 'v1', resource: 'events', namespaced: true },
  {
    kind: 'HorizontalPodAutoscaler',
    group: 'autoscaling',
    version: 'v2',
    resource: 'horizontalpodautoscalers',
    namespaced: true,
  },
  {
    kind: 'PersistentVolumeClaim',
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    namespaced: true,
  },
  { kind: 'Endpoints', group: '', version: 'v1', resource: 'endpoints', namespaced: true },
  {
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    namespaced: true,
  },
  {
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'networkpolicies',
    namespaced: true,
  },
  { kind: 'ResourceQuota', group: '', version: 'v1', resource: 'resourcequotas', namespaced: true },
  { kind: 'LimitRange', group: '', version: 'v1', resource: 'limitranges', namespaced: true },
  { kind: 'ServiceAccount', group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true },
  {
    kind: 'ClusterRole',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    namespaced: false,
  },
  {
    kind: 'ClusterRoleBinding',
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    namespaced: false,
  },
];

/** `v1` for the core group, else `<group>/<version>`. */
export function apiVersionOf(k: WatchedKind): string {
  return k.group === '' ? k.version : `${k.group}/${k.version}`;
}

/** The cluster-wide collection path: `/api/v1/pods`, `/apis/apps/v1/deployments`. */
export function collectionPath(k: WatchedKind): string {
  return k.group === '' ? `/api/${k.version}/${k.resource}` : `/apis/${k.group}/${k.version}/${k.resource}`;
}
