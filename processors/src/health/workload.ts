import type { KubePod, OwnerRef } from './kube.ts';
import { parseKubeTime } from './kube.ts';

/**
 * The workload a pod belongs to (SPEC §2 "Workload identity"). `inferred` is true when the
 * answer rests on naming conventions rather than on a known owner chain (see
 * `workloadFromNames`); it may change once the ReplicaSet or Job is observed.
 */
export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  inferred: boolean;
}

/**
 * Owner look-ups for the intermediate controllers, answered from the observed ReplicaSets and
 * Jobs. Each returns the controller owner of the named object: an `OwnerRef` when it has one,
 * `null` when the object is known and has no owner (a bare ReplicaSet or Job), `undefined`
 * when the object is not known (yet) — then the names decide (`workloadFromNames`).
 */
export interface OwnerLookups {
  replicaSetOwner(namespace: string, name: string): OwnerRef | null | undefined;
  jobOwner(namespace: string, name: string): OwnerRef | null | undefined;
}

/**
 * A CronJob names its Jobs `<cronjob>-<scheduled time in Unix minutes>`. The name heuristic
 * accepts the numeric suffix as such only if the scheduled time lies at most this long before
 * the pod's creation (and at most `CRONJOB_SKEW_MS` after it), so `backup-20261126` is not
 * mistaken for a CronJob's Job.
 */
export const CRONJOB_MAX_LAG_MS = 24 * 60 * 60_000;
export const CRONJOB_SKEW_MS = 60_000;

/**
 * The pod's controlling owner: the owner reference marked `controller: true`, else the first
 * owner reference (some operators omit the flag), else none.
 */
export function controllerOwner(pod: KubePod): OwnerRef | undefined {
  const refs = pod.metadata.ownerReferences ?? [];
  return refs.find((r) => r.controller === true) ?? refs[0];
}

/**
 * The pod's top owner through the owner chain: ReplicaSet → its controller (a Deployment, or
 * e.g. an Argo Rollout) if it has one, else the ReplicaSet; Job → its controller (a CronJob)
 * if any, else the Job; StatefulSet, DaemonSet and any other controller owner as itself. A pod
 * with no owner, or a static pod's mirror (owned by its Node), is its own workload (kind Pod).
 * When the ReplicaSet or Job is not known yet, falls back to `workloadFromNames`.
 */
export function workloadOf(pod: KubePod, lookups: OwnerLookups): Workload {
  const namespace = pod.metadata.namespace ?? '';
  const owner = controllerOwner(pod);
  if (owner === undefined || owner.kind === 'Node') return self(pod);
  if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
    const up =
      owner.kind === 'ReplicaSet'
        ? lookups.replicaSetOwner(namespace, owner.name)
        : lookups.jobOwner(namespace, owner.name);
    if (up === undefined) return workloadFromNames(pod);
    if (up === null) return { kind: owner.kind, namespace, name: owner.name, inferred: false };
    return { kind: up.kind, namespace, name: up.name, inferred: false };
  }
  return { kind: owner.kind, namespace, name: owner.name, inferred: false };
}

/**
 * The workload guessed from names alone, for a pod whose ReplicaSet or Job is not known (yet):
 * - ReplicaSet owner whose name ends in `-<pod-template-hash label>` → Deployment named by the
 *   rest (the Deployment controller names its ReplicaSets `<deployment>-<hash>` and stamps the
 *   hash on the pods); otherwise the ReplicaSet itself;
 * - Job owner named `<prefix>-<digits>` whose digits, read as Unix minutes, fall within
 *   [creation − 24 h, creation + 1 min] of the pod's creationTimestamp → CronJob `<prefix>`;
 *   otherwise the Job itself.
 * Both are marked `inferred: true`. Other owners behave as in `workloadOf` (`inferred: false`).
 */
export function workloadFromNames(pod: KubePod): Workload {
  const namespace = pod.metadata.namespace ?? '';
  const owner = controllerOwner(pod);
  if (owner === undefined || owner.kind === 'Node') return self(pod);
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata.labels?.['pod-template-hash'];
    const suffix = `-${hash ?? ''}`;
    if (
      hash !== undefined &&
      hash !== '' &&
      owner.name.endsWith(suffix) &&
      owner.name.length > suffix.length
    ) {
      return { kind: 'Deployment', namespace, name: owner.name.slice(0, -suffix.length), inferred: true };
    }
    return { kind: 'ReplicaSet', namespace, name: owner.name, inferred: true };
  }
  if (owner.kind === 'Job') {
    const cronJob = cronJobFromJobName(owner.name, parseKubeTime(pod.metadata.creationTimestamp));
    if (cronJob !== undefined) return { kind: 'CronJob', namespace, name: cronJob, inferred: true };
    return { kind: 'Job', namespace, name: owner.name, inferred: true };
  }
  return { kind: owner.kind, namespace, name: owner.name, inferred: false };
}

const JOB_NAME = /^(.+)-(\d+)$/;

function cronJobFromJobName(jobName: string, podCreated: number | undefined): string | undefined {
  if (podCreated === undefined) return undefined;
  const m = JOB_NAME.exec(jobName);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  const scheduled = Number(m[2]) * 60_000;
  const lag = podCreated - scheduled;
  return lag >= -CRONJOB_SKEW_MS && lag <= CRONJOB_MAX_LAG_MS ? m[1] : undefined;
}

function self(pod: KubePod): Workload {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name, inferred: false };
}
