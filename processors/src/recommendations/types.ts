/**
 * Types of the recommendations fold (SPEC §8, bounds SPEC §9). Every time is event time in
 * milliseconds since the epoch.
 */

export const RECOMMENDATION_TYPES = [
  'rightsizing',
  'hpa-at-max',
  'hpa-min-high',
  'idle-node',
  'node-memory-pressure',
  'coredns-nxdomain',
  'coredns-cache',
  'gc-pauses',
] as const;
export type RecommendationType = (typeof RECOMMENDATION_TYPES)[number];

export type RecommendationSeverity = 'low' | 'medium' | 'high';
export const RECOMMENDATION_STATUSES = ['open', 'accepted', 'dismissed', 'applied'] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];

/** A workload (top owner, SPEC §2) in a namespace. */
export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface RecommendationTarget {
  readonly kind: string;
  /** null for cluster-scoped objects (Node). */
  readonly namespace: string | null;
  readonly name: string;
  readonly container?: string;
}

/** Requests and limits of one container: CPU in cores, memory in bytes; null when not set. */
export interface ContainerResources {
  readonly cpuRequest: number | null;
  readonly memoryRequest: number | null;
  readonly cpuLimit: number | null;
  readonly memoryLimit: number | null;
  /** Pods of the workload, for savings (default 1; an HPA's current replicas win). */
  readonly replicas?: number;
}

export interface HpaObservation {
  readonly namespace: string;
  readonly name: string;
  /** scaleTargetRef. */
  readonly target: { readonly kind: string; readonly name: string };
  readonly min: number;
  readonly max: number;
  readonly current: number;
}

/** One metric sample of SPEC §1's vocabulary. */
export interface MetricSample {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
  /** Event time, epoch ms. */
  readonly ts: number;
}

export interface Evidence {
  /** Event-time window the numbers come from. */
  readonly from: number;
  readonly to: number;
  readonly samples: number;
  /** The figures the rule compared (names per type, see docs/recommendations.md). */
  readonly values: Readonly<Record<string, number>>;
}

export interface Savings {
  /** Per month (hoursPerMonth), in the price's currency, rounded to cents. */
  readonly monthly: number;
  /** Requests freed per pod (≥ 0). */
  readonly cpuCores: number;
  readonly memoryBytes: number;
  readonly replicas: number;
  readonly hoursPerMonth: number;
}

export interface Recommendation {
  /** `<type>:<target key>`: stable across recomputation. */
  readonly id: string;
  readonly type: RecommendationType;
  readonly target: RecommendationTarget;
  readonly severity: RecommendationSeverity;
  readonly title: string;
  readonly rationale: string;
  /** Strategic-merge patch (YAML) for `command`, or null where no object patch fits. */
  readonly patch: string | null;
  readonly command: string | null;
  readonly savings: Savings | null;
  readonly status: RecommendationStatus;
  readonly statusChangedAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the condition stopped holding; null while it holds. */
  readonly closedAt: number | null;
  readonly evidence: Evidence;
}

export type RecommendationChange =
  | { readonly type: 'upsert'; readonly recommendation: Recommendation }
  | { readonly type: 'delete'; readonly id: string; readonly reason: 'expired' | 'cap' };

export interface StatusCommand {
  readonly recommendationId: string;
  readonly status: RecommendationStatus;
  readonly ts: number;
}

export interface StepResult {
  readonly changes: RecommendationChange[];
  /** State keys whose record changed (a runtime writes `stateRecord(state, key)`; null = tombstone). */
  readonly stateKeys: string[];
}

export interface Prices {
  /** Per core-hour. */
  readonly cpuCoreHour: number;
  /** Per GiB-hour. */
  readonly memoryGiBHour: number;
}
