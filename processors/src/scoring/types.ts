import type { NodeState, PodCategory } from '../health/index.ts';

/**
 * One observation that put a resource under a rule (SPEC §3.6 level 5): where it sits in the log
 * and what it said. `offset` is a decimal string (Kafka offsets exceed 2^53), `ts` the event time
 * in epoch ms, `excerpt` a short human-readable quote (never a secret value).
 */
export interface EvidenceRef {
  topic: string;
  partition: number;
  offset: string;
  ts: number;
  excerpt: string;
}

/** A workload's identity (SPEC §2): its top owner, or the pod itself (kind `Pod`). */
export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

/** Requests of one regular container, in cores and bytes; absent = not requested. */
export interface ContainerRequests {
  name: string;
  cpuCores?: number;
  memoryBytes?: number;
}

/** Mean usage of a pod over the last hour (sum over its containers), cores and bytes. */
export interface PodUsage {
  cpuCores: number;
  memoryBytes: number;
}

export interface ScoringPod {
  namespace: string;
  name: string;
  workload: WorkloadRef;
  /** Categories from `podHealth` (processors/health). */
  categories: readonly PodCategory[];
  /** Phase Running (its requests and usage enter the cost dimension). */
  running: boolean;
  /** Per regular container requests (init containers are not summed). */
  containers: readonly ContainerRequests[];
  /** Mean usage over the last hour; absent when no sample was seen. */
  usage?: PodUsage;
  /** A one-line explanation per category, e.g. `api: CrashLoopBackOff, exit 1, 12 restarts`. */
  details?: Partial<Record<PodCategory, string>>;
  evidence: readonly EvidenceRef[];
}

export interface ScoringNode {
  name: string;
  /** States from `nodeHealth` (processors/health). */
  states: readonly NodeState[];
  detail?: string;
  evidence: readonly EvidenceRef[];
}

/** The container securityContext fields the security rules read (as the API serves them). */
export interface ContainerSecurityContext {
  privileged?: boolean | null;
  runAsNonRoot?: boolean | null;
  runAsUser?: number | null;
  readOnlyRootFilesystem?: boolean | null;
  allowPrivilegeEscalation?: boolean | null;
  [field: string]: unknown;
}

/** The pod-level securityContext fields the security rules read. */
export interface PodSecurityContext {
  runAsNonRoot?: boolean | null;
  runAsUser?: number | null;
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  /** A literal value. Used only to tell whether one is set; never copied into output. */
  value?: string | null;
  valueFrom?: {
    secretKeyRef?: { name?: string; key: string; optional?: boolean } | null;
    [source: string]: unknown;
  } | null;
}

export interface ContainerSpec {
  name: string;
  securityContext?: ContainerSecurityContext | null;
  env?: readonly EnvVar[] | null;
}

/** The pod template spec subset the security rules read (as the API serves it). */
export interface PodTemplateSpec {
  hostNetwork?: boolean | null;
  hostPID?: boolean | null;
  hostIPC?: boolean | null;
  securityContext?: PodSecurityContext | null;
  containers: readonly ContainerSpec[];
  initContainers?: readonly ContainerSpec[] | null;
}

export interface ScoringWorkload {
  kind: string;
  namespace: string;
  name: string;
  /** `spec.replicas` (Deployment, StatefulSet, ReplicaSet); absent = the API default of 1. */
  replicas?: number | null;
  /** The pod template's spec (for a bare pod: the pod's spec). */
  podSpec: PodTemplateSpec;
  evidence: readonly EvidenceRef[];
}

export interface ScoringNamespace {
  name: string;
  evidence: readonly EvidenceRef[];
}

/** A NetworkPolicy, ResourceQuota or LimitRange: only its existence matters. */
export interface ScoringNamespacedObject {
  namespace: string;
  name: string;
  evidence: readonly EvidenceRef[];
}

export interface RbacSubject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface ScoringClusterRoleBinding {
  name: string;
  roleRef: { kind: string; name: string; apiGroup?: string };
  subjects: readonly RbacSubject[];
  evidence: readonly EvidenceRef[];
}

export interface PolicyRule {
  verbs?: readonly string[] | null;
  resources?: readonly string[] | null;
  apiGroups?: readonly string[] | null;
  nonResourceURLs?: readonly string[] | null;
}

export interface ScoringClusterRole {
  name: string;
  labels?: Readonly<Record<string, string>>;
  rules: readonly PolicyRule[];
  evidence: readonly EvidenceRef[];
}

export interface ScoringErrorGroup {
  id: string;
  workload: WorkloadRef;
  title: string;
  /** fatal, panic, error, warn, info, debug, trace (SPEC §4). */
  level: string;
  /** open, resolved or ignored. */
  status: string;
  evidence: readonly EvidenceRef[];
}

/** An anomaly episode; `namespace` / `workload` when the series names them. */
export interface ScoringAnomaly {
  id: string;
  title: string;
  /** open or closed; only open episodes count. */
  status: string;
  namespace?: string;
  workload?: WorkloadRef;
  evidence: readonly EvidenceRef[];
}

/** A scope an incident touches: a namespace, or a workload in it. */
export interface IncidentScope {
  namespace: string;
  workload?: WorkloadRef;
}

export interface ScoringIncident {
  id: string;
  title: string;
  /** open, investigating, resolved or dismissed; open and investigating count. */
  status: string;
  severity?: string;
  /** Empty: the incident touches only the cluster (e.g. a node signal). */
  scopes: readonly IncidentScope[];
  evidence: readonly EvidenceRef[];
}

export interface ScoringRecommendation {
  id: string;
  /** Only `rightsizing` counts. */
  type: string;
  /** open, accepted, dismissed or applied; only open counts. */
  status: string;
  workload: WorkloadRef;
  detail?: string;
  evidence: readonly EvidenceRef[];
}

export interface ScoringPvc {
  namespace: string;
  name: string;
  /** The workload mounting it, when known; otherwise it counts at namespace and cluster scope. */
  workload?: WorkloadRef;
  usedBytes: number;
  capacityBytes: number;
  evidence: readonly EvidenceRef[];
}

/** Everything the scorer counts. Every list is optional (absent = none observed). */
export interface ScoringInput {
  pods?: readonly ScoringPod[];
  nodes?: readonly ScoringNode[];
  workloads?: readonly ScoringWorkload[];
  namespaces?: readonly ScoringNamespace[];
  networkPolicies?: readonly ScoringNamespacedObject[];
  resourceQuotas?: readonly ScoringNamespacedObject[];
  limitRanges?: readonly ScoringNamespacedObject[];
  clusterRoleBindings?: readonly ScoringClusterRoleBinding[];
  clusterRoles?: readonly ScoringClusterRole[];
  errorGroups?: readonly ScoringErrorGroup[];
  anomalies?: readonly ScoringAnomaly[];
  incidents?: readonly ScoringIncident[];
  recommendations?: readonly ScoringRecommendation[];
  pvcs?: readonly ScoringPvc[];
}

// ---------------------------------------------------------------------------------------------
// Output

export type Dimension = 'reliability' | 'security' | 'cost' | 'architecture';
export type Severity = 'high' | 'medium';
export type Level = 'critical' | 'high' | 'degraded' | 'ok';

/** A resource behind a rule (drill-down level 3) with its evidence (level 5). */
export interface DeductionResource {
  kind: string;
  /** null for cluster-scoped kinds (Node, Namespace, ClusterRole, ClusterRoleBinding, Incident). */
  namespace: string | null;
  name: string;
  status: string;
  detail: string;
  /** The rule's points ÷ its count, two decimals (negative, like points). */
  share: number;
  evidence: readonly EvidenceRef[];
}

/** One rule's deduction (drill-down level 2). */
export interface Deduction {
  dimension: Dimension;
  rule: string;
  title: string;
  severity: Severity;
  /** −min(count × perItem, cap). */
  points: number;
  count: number;
  perItem: number;
  cap: number;
  /** The first 10 resources, ordered by namespace, kind, name. */
  resources: DeductionResource[];
  totalResources: number;
}

/** The cost base's parts (SPEC §3.3); ratios are null when nothing was measurable. */
export interface CostEfficiency {
  cpuRatio: number | null;
  memoryRatio: number | null;
  storageRatio: number | null;
  cpu: number;
  memory: number;
  storage: number;
  base: number;
}

export interface ScopeScore {
  scope: string;
  overall: number | null;
  level: Level | null;
  reliability: number | null;
  security: number | null;
  cost: number | null;
  architecture: number | null;
  /** Ordered by dimension (reliability, security, cost, architecture), then rule table order. */
  deductions: Deduction[];
  efficiency: CostEfficiency | null;
  /** Nothing observed in scope: scores are null (not 100). */
  noData: boolean;
}
