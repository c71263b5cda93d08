import { describe, expect, it } from 'vitest';
import type { KubePod, OwnerLookups, OwnerRef } from './index.ts';
import { workloadFromNames, workloadOf } from './index.ts';
import { at, HOUR, MINUTE, runningPod, succeededJobPod } from './fixtures.ts';

/** Look-ups over a fixed set of known ReplicaSets and Jobs (namespace/name → owner or null). */
function lookups(
  replicaSets: Record<string, OwnerRef | null>,
  jobs: Record<string, OwnerRef | null>,
): OwnerLookups {
  return {
    replicaSetOwner: (ns, name) => replicaSets[`${ns}/${name}`],
    jobOwner: (ns, name) => jobs[`${ns}/${name}`],
  };
}

const NONE = lookups({}, {});

function ownedBy(owner: OwnerRef, name = 'x-0', labels: Record<string, string> = {}): KubePod {
  const pod = runningPod();
  pod.metadata.name = name;
  pod.metadata.labels = labels;
  pod.metadata.ownerReferences = [owner];
  return pod;
}

describe('workloadOf', () => {
  it('given a pod of a ReplicaSet owned by a Deployment, then the Deployment', () => {
    const known = lookups(
      { 'shop/api-7d9f8b6c5d': { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true } },
      {},
    );
    expect(workloadOf(runningPod(), known)).toEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
      inferred: false,
    });
  });

  it('given a pod of a Job owned by a CronJob, then the CronJob', () => {
    const known = lookups(
      {},
      { 'batch/report-29927520': { apiVersion: 'batch/v1', kind: 'CronJob', name: 'report' } },
    );
    expect(workloadOf(succeededJobPod(), known)).toEqual({
      kind: 'CronJob',
      namespace: 'batch',
      name: 'report',
      inferred: false,
    });
  });

  it('given a pod of a known Job without owner, then the Job', () => {
    const known = lookups({}, { 'batch/report-29927520': null });
    expect(workloadOf(succeededJobPod(), known)).toEqual({
      kind: 'Job',
      namespace: 'batch',
      name: 'report-29927520',
      inferred: false,
    });
  });

  it('given a StatefulSet pod, then the StatefulSet', () => {
    const pod = ownedBy(
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'postgres', controller: true },
      'postgres-0',
      {
        'apps.kubernetes.io/pod-index': '0',
        'controller-revision-hash': 'postgres-6c9f7d8b4',
        'statefulset.kubernetes.io/pod-name': 'postgres-0',
      },
    );
    expect(workloadOf(pod, NONE)).toEqual({
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'postgres',
      inferred: false,
    });
  });

  it('given a DaemonSet pod, then the DaemonSet', () => {
    const pod = ownedBy(
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'fluent-bit', controller: true },
      'fluent-bit-8k2xq',
      {
        'controller-revision-hash': '7b6d5c9f8',
        'pod-template-generation': '3',
      },
    );
    expect(workloadOf(pod, NONE)).toEqual({
      kind: 'DaemonSet',
      namespace: 'shop',
      name: 'fluent-bit',
      inferred: false,
    });
  });

  it('given a bare pod, then the pod itself', () => {
    const pod = runningPod();
    pod.metadata.name = 'debug-shell';
    delete pod.metadata.ownerReferences;
    expect(workloadOf(pod, NONE)).toEqual({
      kind: 'Pod',
      namespace: 'shop',
      name: 'debug-shell',
      inferred: false,
    });
  });

  it('given a static pod mirrored with its Node as owner, then the pod itself', () => {
    const pod = ownedBy(
      { apiVersion: 'v1', kind: 'Node', name: 'cp-1', controller: true },
      'kube-apiserver-cp-1',
    );
    pod.metadata.namespace = 'kube-system';
    expect(workloadOf(pod, NONE)).toEqual({
      kind: 'Pod',
      namespace: 'kube-system',
      name: 'kube-apiserver-cp-1',
      inferred: false,
    });
  });

  it('given a known ReplicaSet without a Deployment, then the ReplicaSet', () => {
    const pod = ownedBy(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'legacy-web', controller: true },
      'legacy-web-4kd8s',
    );
    expect(workloadOf(pod, lookups({ 'shop/legacy-web': null }, {}))).toEqual({
      kind: 'ReplicaSet',
      namespace: 'shop',
      name: 'legacy-web',
      inferred: false,
    });
  });

  it('given a ReplicaSet owned by another controller (Argo Rollout), then that controller', () => {
    const pod = ownedBy(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-6f7c9d8b5', controller: true },
      'checkout-6f7c9d8b5-m2x7r',
      { 'rollouts-pod-template-hash': '6f7c9d8b5' },
    );
    const known = lookups(
      {
        'shop/checkout-6f7c9d8b5': { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'checkout' },
      },
      {},
    );
    expect(workloadOf(pod, known)).toEqual({
      kind: 'Rollout',
      namespace: 'shop',
      name: 'checkout',
      inferred: false,
    });
  });

  it('given an unknown ReplicaSet, then the Deployment inferred from the pod-template-hash', () => {
    expect(workloadOf(runningPod(), NONE)).toEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
      inferred: true,
    });
  });

  it('given the controller flag on the second owner reference, then that owner', () => {
    const pod = runningPod();
    pod.metadata.ownerReferences = [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'api-config' },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'api', controller: true },
    ];
    expect(workloadOf(pod, NONE)).toEqual({
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'api',
      inferred: false,
    });
  });
});

describe('workloadFromNames', () => {
  it('given a ReplicaSet named <deployment>-<pod-template-hash>, then that Deployment, inferred', () => {
    expect(workloadFromNames(runningPod())).toEqual({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'api',
      inferred: true,
    });
  });

  it('given a ReplicaSet name not ending in the hash (or no hash label), then the ReplicaSet, inferred', () => {
    const pod = ownedBy(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'legacy-web', controller: true },
      'legacy-web-4kd8s',
    );
    expect(workloadFromNames(pod)).toEqual({
      kind: 'ReplicaSet',
      namespace: 'shop',
      name: 'legacy-web',
      inferred: true,
    });
    pod.metadata.labels = { 'pod-template-hash': '5d4c3b2a1' };
    expect(workloadFromNames(pod).kind).toBe('ReplicaSet');
  });

  it('given a Job named <cronjob>-<scheduled minute> created at that minute, then the CronJob, inferred', () => {
    expect(workloadFromNames(succeededJobPod())).toEqual({
      kind: 'CronJob',
      namespace: 'batch',
      name: 'report',
      inferred: true,
    });
  });

  it('given a Job whose number is no recent minute (backup-20261126), then the Job, inferred', () => {
    const pod = ownedBy(
      { apiVersion: 'batch/v1', kind: 'Job', name: 'backup-20261126', controller: true },
      'backup-20261126-x8v2c',
    );
    expect(workloadFromNames(pod)).toEqual({
      kind: 'Job',
      namespace: 'shop',
      name: 'backup-20261126',
      inferred: true,
    });
  });

  it('given a CronJob Job pod created 24 h after its scheduled minute, then still the CronJob; 24 h + 1 min, the Job', () => {
    const pod = succeededJobPod();
    pod.metadata.creationTimestamp = at(16 * HOUR); // scheduled 2026-11-26T00:00Z = NOW − 8 h
    expect(workloadFromNames(pod).kind).toBe('CronJob');
    pod.metadata.creationTimestamp = at(16 * HOUR + MINUTE);
    expect(workloadFromNames(pod).kind).toBe('Job');
  });
});
