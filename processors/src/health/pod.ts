import type { ContainerStateTerminated, ContainerStatus, KubePod } from './kube.ts';
import { parseKubeTime } from './kube.ts';
import type { OwnerLookups, Workload } from './workload.ts';
import { workloadFromNames, workloadOf } from './workload.ts';

/** Pod categories of SPEC §2, in their canonical order (the order `categories` lists them). */
export const POD_CATEGORIES = [
  'completed',
  'evicted',
  'failed',
  'terminating',
  'init-failure',
  'crashloop',
  'imagepull',
  'oomkilled',
  'pending',
  'high-restarts',
] as const;
export type PodCategory = (typeof POD_CATEGORIES)[number];

export interface PodHealthThresholds {
  /** `terminating` when now − deletionTimestamp is strictly more than this. */
  terminatingAfterMs: number;
  /** `pending` when phase is Pending and now − pending-since is at least this. */
  pendingAfterMs: number;
  /** `oomkilled` when now − finishedAt of the OOMKilled termination is at most this. */
  oomWindowMs: number;
  /** `high-restarts` when restarts are strictly more than this. */
  highRestartsAbove: number;
  /** `restartsPerHour` divides by at least this age, so a brand-new pod gives a finite rate. */
  minRateAgeMs: number;
}

export const DEFAULT_POD_HEALTH_THRESHOLDS: PodHealthThresholds = {
  terminatingAfterMs: 5 * 60_000,
  pendingAfterMs: 5 * 60_000,
  oomWindowMs: 60 * 60_000,
  highRestartsAbove: 5,
  minRateAgeMs: 60_000,
};

/**
 * Why a pod is in a category: the status fields that led to it, for evidence and RCA. Only the
 * fields that exist are set. `at` is the timestamp (as served) the rule measured from:
 * deletionTimestamp, finishedAt of a termination, or the time a pod has been pending since.
 */
export interface PodReason {
  category: PodCategory;
  container?: string;
  reason: string;
  message?: string;
  exitCode?: number;
  restartCount?: number;
  at?: string;
}

export interface PodHealth {
  namespace: string;
  name: string;
  phase: string;
  node: string | null;
  workload: Workload;
  categories: PodCategory[];
  reasons: PodReason[];
  /** Sum of restartCount over the regular containers and the sidecar (restartable) init containers. */
  restarts: number;
  /** now − creationTimestamp (else − status.startTime), in ms; null when neither is known. */
  ageMs: number | null;
  /** restarts ÷ age in hours, the age taken as at least `minRateAgeMs`; 0 without restarts. */
  restartsPerHour: number;
}

export interface PodHealthOptions {
  /** Resolve the workload through the owner chain; without them, `workloadFromNames`. */
  lookups?: OwnerLookups;
  thresholds?: Partial<PodHealthThresholds>;
}

const HOUR_MS = 3_600_000;
const INIT_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull']);
const IMAGE_PULL_WAITING = new Set(['ImagePullBackOff', 'ErrImagePull']);

/**
 * The health of one pod at event time `now` (epoch ms), per SPEC §2. Pure: reads only `pod`,
 * `now` and `options`.
 */
export function podHealth(pod: KubePod, now: number, options: PodHealthOptions = {}): PodHealth {
  const t: PodHealthThresholds = { ...DEFAULT_POD_HEALTH_THRESHOLDS, ...options.thresholds };
  const status = pod.status ?? {};
  const phase = status.phase ?? 'Unknown';
  const restarts = countedContainers(pod).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
  const created = parseKubeTime(pod.metadata.creationTimestamp) ?? parseKubeTime(status.startTime);
  const ageMs = created === undefined ? null : now - created;
  const restartsPerHour = restarts === 0 ? 0 : restarts / (Math.max(ageMs ?? 0, t.minRateAgeMs) / HOUR_MS);
  const reasons = classify(pod, phase, restarts, now, t);
  const categories = POD_CATEGORIES.filter((c) => reasons.some((r) => r.category === c));
  return {
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name,
    phase,
    node: pod.spec?.nodeName ?? null,
    workload: options.lookups === undefined ? workloadFromNames(pod) : workloadOf(pod, options.lookups),
    categories,
    reasons,
    restarts,
    ageMs,
    restartsPerHour,
  };
}

function classify(
  pod: KubePod,
  phase: string,
  restarts: number,
  now: number,
  t: PodHealthThresholds,
): PodReason[] {
  const status = pod.status ?? {};
  const init = status.initContainerStatuses ?? [];
  const regular = status.containerStatuses ?? [];

  // 1. Exclusive phase categories.
  if (phase === 'Succeeded') return [reason('completed', { reason: status.reason ?? 'Succeeded' }, status)];
  if (phase === 'Failed') {
    if (status.reason === 'Evicted') return [reason('evicted', { reason: 'Evicted' }, status)];
    const out = [reason('failed', { reason: status.reason ?? 'Failed' }, status)];
    for (const s of [...init, ...regular]) {
      const last = lastTermination(s);
      if (last !== undefined && (last.exitCode ?? 0) !== 0) out.push(terminatedReason('failed', s, last));
    }
    return out;
  }
  const deletion = parseKubeTime(pod.metadata.deletionTimestamp);
  if (deletion !== undefined && now - deletion > t.terminatingAfterMs) {
    return [
      reason('terminating', { reason: 'Terminating', at: pod.metadata.deletionTimestamp ?? undefined }),
    ];
  }

  // 2. Container categories, several at once.
  const out: PodReason[] = [];
  const sidecars = sidecarNames(pod);
  for (const s of init) {
    const waiting = s.state?.waiting;
    const last = lastTermination(s);
    if (waiting?.reason !== undefined && INIT_WAITING.has(waiting.reason)) {
      out.push(waitingReason('init-failure', s, waiting.reason, waiting.message, last));
    } else if (!sidecars.has(s.name) && last !== undefined && (last.exitCode ?? 0) !== 0) {
      out.push(terminatedReason('init-failure', s, last));
    }
  }
  for (const s of regular) {
    const waiting = s.state?.waiting;
    const last = lastTermination(s);
    if (waiting?.reason === 'CrashLoopBackOff') {
      out.push(waitingReason('crashloop', s, waiting.reason, waiting.message, last));
    } else if (waiting?.reason !== undefined && IMAGE_PULL_WAITING.has(waiting.reason)) {
      out.push(waitingReason('imagepull', s, waiting.reason, waiting.message, undefined));
    }
  }
  for (const s of regular) {
    const last = lastTermination(s);
    if (last?.reason !== 'OOMKilled') continue;
    const finished = parseKubeTime(last.finishedAt);
    if (finished !== undefined && now - finished <= t.oomWindowMs)
      out.push(terminatedReason('oomkilled', s, last));
  }
  if (out.length > 0) return sortByCategory(out);

  // 3. Otherwise: pending (for long enough), else high restarts.
  if (phase === 'Pending') {
    const since = pendingSince(pod);
    if (since !== undefined && now - since.time >= t.pendingAfterMs) return pendingReasons(pod, since.text);
  }
  if (restarts > t.highRestartsAbove) {
    return countedContainers(pod)
      .filter((s) => (s.restartCount ?? 0) > 0)
      .map((s) => {
        const last = lastTermination(s);
        const r =
          last === undefined
            ? reason('high-restarts', { reason: 'Restarted' })
            : terminatedReason('high-restarts', s, last);
        r.container = s.name;
        r.restartCount = s.restartCount ?? 0;
        return reorder(r);
      });
  }
  return [];
}

/**
 * The time a Pending pod has been pending since. A pod is Pending from its creation until its
 * containers start, and never returns to Pending, so this is metadata.creationTimestamp; when
 * it is missing, the earliest lastTransitionTime of the pod's conditions, then status.startTime.
 */
export function pendingSince(pod: KubePod): { time: number; text: string } | undefined {
  const candidates: (string | null | undefined)[] = [pod.metadata.creationTimestamp];
  const conditionTimes = (pod.status?.conditions ?? [])
    .map((c) => ({ text: c.lastTransitionTime, time: parseKubeTime(c.lastTransitionTime) }))
    .filter((c) => c.time !== undefined)
    .sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  candidates.push(conditionTimes[0]?.text, pod.status?.startTime);
  for (const text of candidates) {
    const time = parseKubeTime(text);
    if (time !== undefined && typeof text === 'string') return { time, text };
  }
  return undefined;
}

function pendingReasons(pod: KubePod, since: string): PodReason[] {
  const status = pod.status ?? {};
  const scheduled = (status.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled !== undefined && scheduled.status !== 'True') {
    return [
      reason('pending', {
        reason: scheduled.reason ?? 'Unschedulable',
        message: scheduled.message,
        at: since,
      }),
    ];
  }
  const out: PodReason[] = [];
  for (const s of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const waiting = s.state?.waiting;
    if (waiting?.reason !== undefined) {
      out.push(
        reorder({
          category: 'pending',
          container: s.name,
          reason: waiting.reason,
          message: waiting.message,
          at: since,
        }),
      );
    }
  }
  return out.length > 0
    ? out
    : [reason('pending', { reason: status.reason ?? 'Pending', message: status.message, at: since })];
}

/** The container's most recent termination: its current state if terminated, else its last state. */
function lastTermination(s: ContainerStatus): ContainerStateTerminated | undefined {
  return s.state?.terminated ?? s.lastState?.terminated;
}

/** Regular containers plus sidecar init containers (restartPolicy Always), as kubectl counts restarts. */
function countedContainers(pod: KubePod): ContainerStatus[] {
  const sidecars = sidecarNames(pod);
  const init = (pod.status?.initContainerStatuses ?? []).filter((s) => sidecars.has(s.name));
  return [...(pod.status?.containerStatuses ?? []), ...init];
}

function sidecarNames(pod: KubePod): Set<string> {
  return new Set(
    (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
}

function waitingReason(
  category: PodCategory,
  s: ContainerStatus,
  why: string,
  message: string | undefined,
  last: ContainerStateTerminated | undefined,
): PodReason {
  return reorder({ category, container: s.name, reason: why, message, exitCode: last?.exitCode });
}

function terminatedReason(
  category: PodCategory,
  s: ContainerStatus,
  last: ContainerStateTerminated,
): PodReason {
  return reorder({
    category,
    container: s.name,
    reason: last.reason ?? (last.exitCode === 0 ? 'Completed' : 'Error'),
    message: last.message,
    exitCode: last.exitCode,
    at: last.finishedAt ?? undefined,
  });
}

function reason(
  category: PodCategory,
  fields: { reason: string; message?: string | undefined; at?: string | undefined },
  status?: { message?: string },
): PodReason {
  return reorder({ category, ...fields, message: fields.message ?? status?.message });
}

type LoosePodReason = { [K in keyof PodReason]?: PodReason[K] | undefined } & Pick<
  PodReason,
  'category' | 'reason'
>;

/** Fixed key order and no undefined-valued keys, so the JSON of a PodHealth is byte-stable. */
function reorder(r: LoosePodReason): PodReason {
  const out: PodReason =
    r.container === undefined
      ? { category: r.category, reason: r.reason }
      : { category: r.category, container: r.container, reason: r.reason };
  if (r.message !== undefined && r.message !== '') out.message = r.message;
  if (r.exitCode !== undefined) out.exitCode = r.exitCode;
  if (r.restartCount !== undefined) out.restartCount = r.restartCount;
  if (r.at !== undefined) out.at = r.at;
  return out;
}

function sortByCategory(reasons: PodReason[]): PodReason[] {
  const rank = (c: PodCategory): number => POD_CATEGORIES.indexOf(c);
  return reasons
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r.category) - rank(b.r.category) || a.i - b.i)
    .map((x) => x.r);
}
