import type { Dimension, Severity } from './types.ts';

/** Where a rule applies: `all` scopes, `namespace` (namespace and cluster), `cluster` only. */
export type RuleScope = 'all' | 'namespace' | 'cluster';

export interface RuleSpec {
  id: string;
  dimension: Dimension;
  title: string;
  severity: Severity;
  perItem: number;
  cap: number;
  appliesAt: RuleScope;
  /** The resource kind the rule counts. */
  counts: string;
  /** One paragraph: what to change in the manifest and why (drill-down level 4). */
  hint: string;
}

export const DIMENSIONS: readonly Dimension[] = ['reliability', 'security', 'cost', 'architecture'];

/** Every rule of SPEC §3, in table order. */
export const RULES: readonly RuleSpec[] = [
  // 3.1 Reliability
  {
    id: 'crashloop-pods',
    dimension: 'reliability',
    title: 'Pods in CrashLoopBackOff',
    severity: 'high',
    perItem: 10,
    cap: 30,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      'A container keeps exiting and the kubelet backs off restarting it. Read the previous ' +
      "container's log (`kubectl logs <pod> -c <container> --previous`) and its last exit code: " +
      'exit 1 or a stack trace is an application error (often missing configuration, a Secret or ' +
      'ConfigMap key, or an unreachable dependency at start), 137 is a kill (OOM or a failing ' +
      'liveness probe), 127/126 a wrong `command`. Fix the cause in the image or the env/config it ' +
      'reads; if the app needs time to start, add a `startupProbe` rather than loosening the ' +
      '`livenessProbe`, so slow starts are not killed in a loop.',
  },
  {
    id: 'oomkilled-pods',
    dimension: 'reliability',
    title: 'Pods OOMKilled in the last hour',
    severity: 'high',
    perItem: 5,
    cap: 20,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      "A container exceeded its memory limit and the kernel killed it. Compare the container's " +
      'working set before the kill with `resources.limits.memory`: if usage grows steadily until ' +
      'the kill it is a leak to fix in the code (or a runtime heap setting such as -Xmx or ' +
      'GOMEMLIMIT above the limit); if it is a stable peak, raise `resources.limits.memory` (and ' +
      '`requests.memory`, so the scheduler reserves it) to about 1.2 × the observed peak.',
  },
  {
    id: 'pending-pods',
    dimension: 'reliability',
    title: 'Pods pending for 5 minutes or more',
    severity: 'medium',
    perItem: 3,
    cap: 15,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      "The pod has not started for at least 5 minutes. The PodScheduled condition's message says " +
      'why: "Insufficient cpu/memory" means `resources.requests` exceed what any node has free ' +
      '(lower them or add capacity); an untolerated taint or an unmatched `nodeSelector`/affinity ' +
      'means the placement rules exclude every node; "unbound PersistentVolumeClaim" means the ' +
      'claim has no matching StorageClass or volume. If it is scheduled, check the events for a ' +
      'volume mount or sandbox failure.',
  },
  {
    id: 'evicted-pods',
    dimension: 'reliability',
    title: 'Evicted pods',
    severity: 'medium',
    perItem: 3,
    cap: 15,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      'The kubelet evicted the pod because its node ran short of memory, disk or PIDs. Give the ' +
      'containers `resources.requests` close to real usage (pods using more than they request are ' +
      'evicted first; equal requests and limits make the pod Guaranteed), set ' +
      '`ephemeral-storage` requests/limits if it writes to local disk, and delete the leftover ' +
      'Failed pod objects once the cause is fixed.',
  },
  {
    id: 'open-error-groups',
    dimension: 'reliability',
    title: 'Open error groups',
    severity: 'medium',
    perItem: 1,
    cap: 10,
    appliesAt: 'all',
    counts: 'ErrorGroup',
    hint:
      'The workload logs errors of this kind and the group is open. Open the group, read its best ' +
      'sample (stack trace, URL, request id) and fix the fault in the code or its configuration; ' +
      'then resolve the group (it reopens as regressed if the error returns), or ignore it if it ' +
      'is expected noise, and lower that log line to warn.',
  },
  {
    id: 'imagepull-pods',
    dimension: 'reliability',
    title: 'Pods failing to pull their image',
    severity: 'medium',
    perItem: 5,
    cap: 15,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      'The kubelet cannot pull the container image (ErrImagePull / ImagePullBackOff). Check the ' +
      '`image` reference for a typo or a tag that was never pushed (prefer an immutable tag or ' +
      'digest), and for a private registry add `imagePullSecrets` to the pod spec or its ' +
      'ServiceAccount with valid credentials; "manifest unknown" is a missing tag, "unauthorized" ' +
      'missing credentials, a timeout a network path from the nodes to the registry.',
  },
  {
    id: 'init-failure-pods',
    dimension: 'reliability',
    title: 'Pods whose init containers fail',
    severity: 'medium',
    perItem: 5,
    cap: 15,
    appliesAt: 'all',
    counts: 'Pod',
    hint:
      "An init container crashes, cannot pull its image or exited non-zero, so the pod's app " +
      'containers never start. Read its log (`kubectl logs <pod> -c <init-container>`): init ' +
      'containers usually wait for a dependency or run a migration, so make the dependency ' +
      "reachable or the migration idempotent, and fix the init container's `image` or `command` " +
      'if it cannot start at all.',
  },
  {
    id: 'not-ready-nodes',
    dimension: 'reliability',
    title: 'Nodes NotReady',
    severity: 'high',
    perItem: 15,
    cap: 30,
    appliesAt: 'cluster',
    counts: 'Node',
    hint:
      "The node's Ready condition has not been True for at least a minute, so its pods are not " +
      'served and will be evicted. Check the kubelet and container runtime on the node ' +
      '(`journalctl -u kubelet`), its network to the API server, and its disk and memory; cordon ' +
      'and drain it if it does not recover, and run at least two replicas with a ' +
      '`topologySpreadConstraint` on `kubernetes.io/hostname` so one node does not take a ' +
      'workload down.',
  },
  // 3.2 Security
  {
    id: 'privileged-containers',
    dimension: 'security',
    title: 'Workloads with a privileged container',
    severity: 'high',
    perItem: 15,
    cap: 30,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'A container runs with `securityContext.privileged: true`, which gives it every capability ' +
      'and access to all host devices: a compromise of the container is a compromise of the node. ' +
      'Remove `privileged: true`; if the container needs one specific power, grant only that ' +
      'capability under `securityContext.capabilities.add` (e.g. NET_ADMIN) with ' +
      '`capabilities.drop: ["ALL"]`.',
  },
  {
    id: 'root-containers',
    dimension: 'security',
    title: 'Workloads with a container that may run as root',
    severity: 'high',
    perItem: 10,
    cap: 30,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'Nothing stops a container from running as UID 0: neither `runAsNonRoot: true` nor a ' +
      '`runAsUser` above 0 is set on the container or the pod. Set `securityContext.runAsNonRoot: ' +
      'true` and a non-zero `runAsUser` (and `runAsGroup`) at pod level so every container ' +
      'inherits it, and build the image with a non-root `USER`; the kubelet then refuses to start ' +
      'a container that would run as root.',
  },
  {
    id: 'host-namespaces',
    dimension: 'security',
    title: 'Workloads sharing host namespaces',
    severity: 'medium',
    perItem: 10,
    cap: 20,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      "The pod shares the node's network, PID or IPC namespace (`hostNetwork`, `hostPID`, " +
      '`hostIPC: true`), so it can see and reach host processes and traffic. Remove these fields ' +
      'unless the workload is a node agent that truly needs them; to expose a port, use a Service ' +
      '(or a `hostPort` on the container) instead of `hostNetwork`.',
  },
  {
    id: 'cluster-admin-bindings',
    dimension: 'security',
    title: 'ServiceAccounts bound to cluster-admin',
    severity: 'high',
    perItem: 10,
    cap: 20,
    appliesAt: 'cluster',
    counts: 'ClusterRoleBinding',
    hint:
      'This ClusterRoleBinding gives a ServiceAccount `cluster-admin`: any pod running as that ' +
      'account (or anyone who can create pods in its namespace) controls the whole cluster. ' +
      'Replace it with a Role and RoleBinding in the namespaces it needs, listing only the ' +
      'resources and verbs the workload uses (`kubectl auth can-i --list --as ' +
      'system:serviceaccount:<ns>:<name>` shows what it has).',
  },
  {
    id: 'secrets-in-env',
    dimension: 'security',
    title: 'Workloads with secrets in environment variables',
    severity: 'medium',
    perItem: 5,
    cap: 15,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'A secret reaches the container through an environment variable (a `secretKeyRef`, or a ' +
      'literal `value` under a name like PASSWORD or TOKEN — which also stores it in plain text in ' +
      'the manifest). Environment variables leak into crash dumps, child processes and `kubectl ' +
      'describe`. Mount the Secret as a file (`volumes[].secret` with `readOnly: true`) and read ' +
      'it from there; never put a literal secret in the manifest.',
  },
  {
    id: 'namespaces-without-network-policy',
    dimension: 'security',
    title: 'Namespaces without a NetworkPolicy',
    severity: 'medium',
    perItem: 5,
    cap: 20,
    appliesAt: 'namespace',
    counts: 'Namespace',
    hint:
      'No NetworkPolicy selects any pod in this namespace, so every pod accepts traffic from ' +
      'anywhere in the cluster. Add a default-deny policy (`podSelector: {}` with ' +
      '`policyTypes: [Ingress]`) and then policies that allow only the callers each workload ' +
      'needs, by namespace and pod labels.',
  },
  {
    id: 'writable-root-filesystem',
    dimension: 'security',
    title: 'Workloads with a writable root filesystem',
    severity: 'medium',
    perItem: 2,
    cap: 10,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'A container can write to its image filesystem, so an attacker can drop binaries or change ' +
      'configuration in it. Set `securityContext.readOnlyRootFilesystem: true` on each container ' +
      'and mount an `emptyDir` at the paths the app writes to (e.g. /tmp, cache directories).',
  },
  {
    id: 'missing-security-context',
    dimension: 'security',
    title: 'Workloads without a security context',
    severity: 'medium',
    perItem: 2,
    cap: 10,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'A container has no `securityContext` and neither does the pod, so it runs with the ' +
      "runtime's defaults (possibly root, privilege escalation allowed, default capabilities). " +
      'Add a pod-level `securityContext` (`runAsNonRoot: true`, `runAsUser`, `seccompProfile: ' +
      '{type: RuntimeDefault}`) and per container `allowPrivilegeEscalation: false`, ' +
      '`readOnlyRootFilesystem: true`, `capabilities.drop: ["ALL"]`.',
  },
  {
    id: 'wildcard-rbac',
    dimension: 'security',
    title: 'ClusterRoles with wildcard permissions',
    severity: 'medium',
    perItem: 3,
    cap: 10,
    appliesAt: 'cluster',
    counts: 'ClusterRole',
    hint:
      'This ClusterRole grants `*` verbs or resources, so it silently covers every present and ' +
      'future resource type, Secrets included. List the resources and verbs explicitly (e.g. ' +
      '`resources: [deployments]`, `verbs: [get, list, watch]`); if it really needs everything ' +
      'in a namespace, use the built-in `admin` or `edit` roles through a namespaced RoleBinding.',
  },
  // 3.3 Cost
  {
    id: 'rightsizing-opportunities',
    dimension: 'cost',
    title: 'Open rightsizing recommendations',
    severity: 'medium',
    perItem: 2,
    cap: 20,
    appliesAt: 'all',
    counts: 'Recommendation',
    hint:
      "The workload's requests are far from its p95 usage: over-provisioned containers reserve " +
      'capacity nobody uses, under-provisioned ones get throttled or evicted. Apply the ' +
      "recommendation's patch (requests at 1.2 × p95, limits at 1.5 × p95) to the container's " +
      '`resources`, or dismiss it if the headroom is deliberate (e.g. a batch peak outside the ' +
      'observed window).',
  },
  // 3.4 Architecture
  {
    id: 'active-anomalies',
    dimension: 'architecture',
    title: 'Active anomalies',
    severity: 'medium',
    perItem: 5,
    cap: 20,
    appliesAt: 'all',
    counts: 'AnomalyEpisode',
    hint:
      'A metric of this scope left its normal range and has not come back. Look at what changed ' +
      'when the episode opened (a rollout, traffic, a dependency) on the metric named in the ' +
      'episode; if the new level is the new normal (e.g. after a planned scale-up) it closes by ' +
      'itself once the baseline adapts.',
  },
  {
    id: 'open-incidents',
    dimension: 'architecture',
    title: 'Open incidents',
    severity: 'high',
    perItem: 2,
    cap: 20,
    appliesAt: 'all',
    counts: 'Incident',
    hint:
      'An incident touching this scope is open. Follow its root-cause analysis and remediation; ' +
      'it resolves by itself once every signal has cleared for 10 minutes, or set it to resolved ' +
      'or dismissed once handled.',
  },
  {
    id: 'namespaces-without-resourcequota',
    dimension: 'architecture',
    title: 'Namespaces without a ResourceQuota',
    severity: 'medium',
    perItem: 5,
    cap: 15,
    appliesAt: 'namespace',
    counts: 'Namespace',
    hint:
      'Nothing caps what this namespace may request, so one runaway deployment or HPA can take ' +
      'the whole cluster. Add a ResourceQuota with `requests.cpu`, `requests.memory`, ' +
      "`limits.memory` and a `pods` count sized to the team's share.",
  },
  {
    id: 'namespaces-without-limitrange',
    dimension: 'architecture',
    title: 'Namespaces without a LimitRange',
    severity: 'medium',
    perItem: 3,
    cap: 10,
    appliesAt: 'namespace',
    counts: 'Namespace',
    hint:
      'Containers created in this namespace without `resources` get no defaults, so they run ' +
      'BestEffort (first to be evicted) and escape any quota accounting. Add a LimitRange of type ' +
      'Container with `defaultRequest` and `default` for cpu and memory (and a `max` if teams ' +
      'must stay within bounds).',
  },
  {
    id: 'single-replica-workloads',
    dimension: 'architecture',
    title: 'Single-replica Deployments and StatefulSets',
    severity: 'medium',
    perItem: 2,
    cap: 10,
    appliesAt: 'all',
    counts: 'Workload',
    hint:
      'Only one replica is desired, so every rollout, node drain or crash is an outage. Set ' +
      '`spec.replicas: 2` or more (or an HPA with `minReplicas: 2`), spread the replicas with a ' +
      '`topologySpreadConstraint`, and add a PodDisruptionBudget with `maxUnavailable: 1` so ' +
      'drains keep one serving.',
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

/** The rule with this id; throws for an unknown id (a programmer error). */
export function ruleSpec(id: string): RuleSpec {
  const rule = BY_ID.get(id);
  if (rule === undefined) throw new Error(`unknown scoring rule ${id}`);
  return rule;
}

/** Rule ids in table order (the order deductions are listed). */
export const RULE_IDS: readonly string[] = RULES.map((r) => r.id);

/** `kube-system`, `kube-public`, `kube-node-lease` (SPEC §3.2). */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set([
  'kube-system',
  'kube-public',
  'kube-node-lease',
]);

/** Rules that may count one resource in several workloads or namespaces of the same parent. */
export const DISTINCT_RULES: ReadonlySet<string> = new Set(['open-incidents']);
