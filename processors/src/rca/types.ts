/**
 * Types of the deterministic root-cause analysis (SPEC §7, deterministic part). Every time is
 * event time in milliseconds since the epoch.
 */
import type { EvidenceRef, ResourceRef } from '../incidents/types.ts';

/** The catalogue (precedence: see `analyze` and docs/rca.md); `unknown` when nothing matches. */
export const RCA_CATEGORIES = [
  'node-failure',
  'bad-rollout',
  'dependency-down',
  'image-pull',
  'unschedulable',
  'volume-mount',
  'oom',
  'bad-config',
  'cpu-saturation',
  'probe-failure',
  'app-error',
  'unknown',
] as const;
export type RcaCategory = (typeof RCA_CATEGORIES)[number];

/** A change of a workload's pod template (what a rollout signal carries). */
export interface RolloutContext {
  readonly workload: ResourceRef;
  readonly ts: number;
  readonly oldImage: string | null;
  readonly newImage: string;
  readonly revision?: string;
  readonly evidence?: EvidenceRef;
}

/** A container's waiting or terminated reason (from `podHealth` reasons or the pod status). */
export interface PodReasonContext {
  readonly pod: ResourceRef;
  readonly workload: ResourceRef;
  readonly node?: string;
  readonly container?: string;
  readonly reason: string;
  readonly message?: string;
  readonly exitCode?: number;
  readonly restartCount?: number;
  readonly ts: number;
  readonly evidence?: EvidenceRef;
}

/** One memory sample of a container, with its limit when it has one. */
export interface MemorySample {
  readonly pod: ResourceRef;
  readonly workload: ResourceRef;
  readonly container?: string;
  readonly ts: number;
  readonly usageBytes: number;
  readonly limitBytes: number | null;
  readonly evidence?: EvidenceRef;
}

/** One CPU sample of a container: usage, limit, and the throttled share of CFS periods. */
export interface CpuSample {
  readonly pod: ResourceRef;
  readonly workload: ResourceRef;
  readonly container?: string;
  readonly ts: number;
  readonly usageCores: number;
  readonly limitCores: number | null;
  readonly throttledRatio?: number;
  readonly evidence?: EvidenceRef;
}

/** An error group of a workload (SPEC §4), reduced to what RCA reads. */
export interface ErrorGroupContext {
  readonly id: string;
  readonly workload: ResourceRef;
  readonly title: string;
  /** Detection reason: `timeout`, `oom`, `exception.java`, `error`, … */
  readonly reason: string;
  readonly level: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly count: number;
  /** The best sample's message, when it says more than the title. */
  readonly message?: string;
  readonly evidence?: EvidenceRef;
}

/** A Kubernetes Event (FailedScheduling, FailedMount, Unhealthy, …). */
export interface EventContext {
  readonly involved: ResourceRef;
  readonly workload?: ResourceRef;
  readonly type?: string;
  readonly reason: string;
  readonly message: string;
  readonly ts: number;
  readonly count?: number;
  readonly evidence?: EvidenceRef;
}

export interface CallContext {
  readonly from: ResourceRef;
  readonly to: ResourceRef;
}

/** Whether a workload is healthy now, and why not (e.g. `crashloop`, `0/3 ready`). */
export interface WorkloadHealthContext {
  readonly workload: ResourceRef;
  readonly healthy: boolean;
  readonly reasons: readonly string[];
  /** Since when it has been unhealthy, when known. */
  readonly since?: number;
  readonly evidence?: EvidenceRef;
}

/** The pods (and their workloads) that ran on a node. */
export interface NodePodsContext {
  readonly node: string;
  readonly pods: readonly { readonly pod: ResourceRef; readonly workload: ResourceRef }[];
}

/** What RCA needs beyond the incident's signals. Every list is optional. */
export interface RcaContext {
  readonly rollouts?: readonly RolloutContext[];
  readonly podReasons?: readonly PodReasonContext[];
  readonly memory?: readonly MemorySample[];
  readonly cpu?: readonly CpuSample[];
  readonly errorGroups?: readonly ErrorGroupContext[];
  readonly events?: readonly EventContext[];
  readonly calls?: readonly CallContext[];
  readonly workloadHealth?: readonly WorkloadHealthContext[];
  readonly nodePods?: readonly NodePodsContext[];
}

export interface RcaEvidence {
  /** Stable for the same observation: `ev-` + hash of its type and position (or time and excerpt). */
  readonly id: string;
  readonly type: string;
  readonly ts: number;
  readonly excerpt: string;
  /** Log position; null when the context item carried none. */
  readonly topic: string | null;
  readonly partition: number | null;
  readonly offset: string | null;
}

export interface ConfidenceFactor {
  readonly factor: string;
  /** In hundredths of confidence (integers, so the sum is exact). */
  readonly weight: number;
}

export interface ChainStep {
  readonly step: string;
  readonly evidence: readonly string[];
}

export type Risk = 'low' | 'medium' | 'high';
export type Effort = 'minutes' | 'hours' | 'days';

export interface RemediationStep {
  readonly step: string;
  readonly risk: Risk;
  readonly automatable: boolean;
  readonly effort: Effort;
}

export interface BlastRadius {
  readonly workloads: readonly ResourceRef[];
  readonly pods: readonly ResourceRef[];
  readonly namespaces: readonly string[];
}

export interface RcaReport {
  readonly incidentId: string;
  /** The incident's `updatedAt`: the report describes the incident as of then. */
  readonly asOf: number;
  readonly category: RcaCategory;
  /** A finer reason inside the category (e.g. `not-found`, `insufficient-memory`, `leak`), or null. */
  readonly subtype: string | null;
  readonly rootCause: ResourceRef;
  readonly summary: string;
  /** 0..1, two decimals: the sum of `derivation` weights ÷ 100. */
  readonly confidence: number;
  readonly derivation: readonly ConfidenceFactor[];
  readonly chain: readonly ChainStep[];
  readonly evidence: readonly RcaEvidence[];
  readonly remediation: readonly RemediationStep[];
  readonly blastRadius: BlastRadius;
}
