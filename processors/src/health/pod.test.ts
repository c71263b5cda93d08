import { describe, expect, it } from 'vitest';
import type { ContainerStatus, KubePod, PodHealth } from './index.ts';
import { podHealth } from './index.ts';
import {
  HOUR,
  MINUTE,
  NOW,
  SECOND,
  at,
  crashLoopOomPod,
  evictedPod,
  imagePullPod,
  initFailurePod,
  runningPod,
  succeededJobPod,
  unschedulablePod,
} from './fixtures.ts';

function apiStatus(pod: KubePod): ContainerStatus {
  const s = pod.status?.containerStatuses?.[0];
  if (s === undefined) throw new Error('fixture has no container status');
  return s;
}

/** A running shop/api pod whose container was OOM-killed at `finishedAt` and runs again. */
function recoveredFromOom(finishedAt: string): KubePod {
  const pod = runningPod();
  const s = apiStatus(pod);
  s.restartCount = 1;
  s.lastState = {
    terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-11-26T07:00:08Z', finishedAt },
  };
  return pod;
}

describe('podHealth: a healthy pod', () => {
  it('given a Running pod with ready containers, when assessed, then it is in no category', () => {
    expect(podHealth(runningPod(), NOW)).toEqual<PodHealth>({
      namespace: 'shop',
      name: 'api-7d9f8b6c5d-x2k4q',
      phase: 'Running',
      node: 'worker-1',
      workload: { kind: 'Deployment', namespace: 'shop', name: 'api', inferred: true },
      categories: [],
      reasons: [],
      restarts: 0,
      ageMs: HOUR,
      restartsPerHour: 0,
    });
  });
});

describe('podHealth: exclusive phase categories', () => {
  it('given a Succeeded pod, then completed', () => {
    const h = podHealth(succeededJobPod(), NOW);
    expect(h.categories).toEqual(['completed']);
    expect(h.reasons).toEqual([{ category: 'completed', reason: 'Succeeded' }]);
    expect(h.node).toBe('worker-2');
  });

  it('given a Succeeded pod with a crash-looping container, then only completed', () => {
    const pod = succeededJobPod();
    const s = apiStatus(pod);
    s.restartCount = 9;
    s.state = {
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
    };
    s.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: at(-MINUTE) } };
    const h = podHealth(pod, NOW);
    expect(h.categories).toEqual(['completed']);
    expect(h.restarts).toBe(9);
  });

  it('given a Failed pod with reason Evicted, then evicted, with the kubelet message', () => {
    expect(podHealth(evictedPod(), NOW).reasons).toEqual([
      {
        category: 'evicted',
        reason: 'Evicted',
        message:
          'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. Container api was using 1210Mi, request is 256Mi, has larger consumption of memory. ',
      },
    ]);
  });

  it('given a Failed pod whose container exited 1, then failed, citing the container', () => {
    const pod = succeededJobPod();
    pod.status = { ...pod.status, phase: 'Failed' };
    apiStatus(pod).state = {
      terminated: {
        exitCode: 1,
        reason: 'Error',
        finishedAt: '2026-11-26T00:03:11Z',
        startedAt: '2026-11-26T00:00:04Z',
      },
    };
    const h = podHealth(pod, NOW);
    expect(h.categories).toEqual(['failed']);
    expect(h.reasons).toEqual([
      { category: 'failed', reason: 'Failed' },
      { category: 'failed', container: 'report', reason: 'Error', exitCode: 1, at: '2026-11-26T00:03:11Z' },
    ]);
  });

  it('given a Failed pod with another reason and a deletionTimestamp, then failed, not terminating', () => {
    const pod = evictedPod();
    pod.status = { ...pod.status, reason: 'NodeAffinity', message: 'Pod Predicate NodeAffinity failed' };
    pod.metadata.deletionTimestamp = at(-HOUR);
    const h = podHealth(pod, NOW);
    expect(h.categories).toEqual(['failed']);
    expect(h.reasons).toEqual([
      { category: 'failed', reason: 'NodeAffinity', message: 'Pod Predicate NodeAffinity failed' },
    ]);
  });
});

describe('podHealth: terminating (deletionTimestamp strictly more than 5 min before now)', () => {
  it('given deletion at exactly now − 5 min, then not terminating', () => {
    const pod = runningPod();
    pod.metadata.deletionTimestamp = at(-5 * MINUTE);
    expect(podHealth(pod, NOW).categories).toEqual([]);
  });

  it('given deletion at now − 5 min − 1 ms, then terminating', () => {
    const pod = runningPod();
    pod.metadata.deletionTimestamp = at(-5 * MINUTE);
    expect(podHealth(pod, NOW + 1).reasons).toEqual([
      { category: 'terminating', reason: 'Terminating', at: '2026-11-26T07:55:00Z' },
    ]);
  });

  it('given a crash-looping pod deleted 10 min ago, then only terminating', () => {
    const pod = crashLoopOomPod();
    pod.metadata.deletionTimestamp = at(-10 * MINUTE);
    pod.metadata.deletionGracePeriodSeconds = 30;
    expect(podHealth(pod, NOW).categories).toEqual(['terminating']);
  });
});

describe('podHealth: container categories', () => {
  it('given a container in CrashLoopBackOff after OOM kills 2 min ago, then crashloop and oomkilled (not high-restarts)', () => {
    const h = podHealth(crashLoopOomPod(), NOW);
    expect(h.categories).toEqual(['crashloop', 'oomkilled']);
    expect(h.reasons).toEqual([
      {
        category: 'crashloop',
        container: 'api',
        reason: 'CrashLoopBackOff',
        message:
          'back-off 5m0s restarting failed container=api pod=api-7d9f8b6c5d-x2k4q_shop(c1a7e0d2-7f43-4b8e-9d1c-2f6b9a3e4d55)',
        exitCode: 137,
      },
      {
        category: 'oomkilled',
        container: 'api',
        reason: 'OOMKilled',
        exitCode: 137,
        at: '2026-11-26T07:58:00Z',
      },
    ]);
    expect(h.restarts).toBe(7);
    expect(h.restartsPerHour).toBe(7);
  });

  it('given a crash loop whose last exit was an ordinary error, then crashloop alone', () => {
    const pod = crashLoopOomPod();
    apiStatus(pod).lastState = { terminated: { exitCode: 1, reason: 'Error', finishedAt: at(-30 * SECOND) } };
    expect(podHealth(pod, NOW).categories).toEqual(['crashloop']);
  });

  it('given a Pending pod whose container is in ImagePullBackOff for 10 min, then imagepull and NOT pending', () => {
    const h = podHealth(imagePullPod(), NOW);
    expect(h.phase).toBe('Pending');
    expect(h.categories).toEqual(['imagepull']);
    expect(h.reasons).toEqual([
      {
        category: 'imagepull',
        container: 'api',
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "registry.example.com/shop/api:1.5.0-rc"',
      },
    ]);
    expect(h.workload).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'api', inferred: true });
  });

  it('given a container in ErrImagePull, then imagepull', () => {
    const pod = imagePullPod();
    apiStatus(pod).state = {
      waiting: {
        reason: 'ErrImagePull',
        message:
          'failed to pull and unpack image "registry.example.com/shop/api:1.5.0-rc": failed to resolve reference "registry.example.com/shop/api:1.5.0-rc": registry.example.com/shop/api:1.5.0-rc: not found',
      },
    };
    expect(podHealth(pod, NOW).categories).toEqual(['imagepull']);
  });

  it('given a running container OOM-killed 59 min ago, then oomkilled', () => {
    expect(podHealth(recoveredFromOom(at(-59 * MINUTE)), NOW).reasons).toEqual([
      {
        category: 'oomkilled',
        container: 'api',
        reason: 'OOMKilled',
        exitCode: 137,
        at: '2026-11-26T07:01:00Z',
      },
    ]);
  });

  it('given a running container OOM-killed exactly 60 min ago, then oomkilled (the hour is inclusive)', () => {
    expect(podHealth(recoveredFromOom(at(-60 * MINUTE)), NOW).categories).toEqual(['oomkilled']);
  });

  it('given a running container OOM-killed 61 min ago, then nothing', () => {
    expect(podHealth(recoveredFromOom(at(-61 * MINUTE)), NOW).categories).toEqual([]);
  });

  it('given an OOMKilled termination without finishedAt, then not oomkilled (its age is unknown)', () => {
    const pod = recoveredFromOom(at(-MINUTE));
    delete apiStatus(pod).lastState?.terminated?.finishedAt;
    expect(podHealth(pod, NOW).categories).toEqual([]);
  });

  it('given an init container that exited 1 (pod Pending for 10 min), then init-failure and not pending', () => {
    const h = podHealth(initFailurePod(), NOW);
    expect(h.categories).toEqual(['init-failure']);
    expect(h.reasons).toEqual([
      {
        category: 'init-failure',
        container: 'migrate',
        reason: 'Error',
        message: 'FATAL: password authentication failed for user "shop"',
        exitCode: 1,
        at: '2026-11-26T07:59:30Z',
      },
    ]);
    expect(h.restarts).toBe(0);
  });

  it('given an init container waiting in CrashLoopBackOff, then init-failure with the last exit code', () => {
    const pod = initFailurePod();
    const s = pod.status?.initContainerStatuses?.[0];
    if (s === undefined) throw new Error('fixture');
    s.state = {
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=migrate' },
    };
    expect(podHealth(pod, NOW).reasons).toEqual([
      {
        category: 'init-failure',
        container: 'migrate',
        reason: 'CrashLoopBackOff',
        message: 'back-off 40s restarting failed container=migrate',
        exitCode: 1,
      },
    ]);
  });

  it('given an init container that failed before but has now completed, then no init-failure', () => {
    const pod = initFailurePod();
    const s = pod.status?.initContainerStatuses?.[0];
    if (s === undefined) throw new Error('fixture');
    s.state = { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at(-10 * SECOND) } };
    pod.status = { ...pod.status, phase: 'Running' };
    expect(podHealth(pod, NOW).categories).toEqual([]);
  });
});

describe('podHealth: pending (Pending, no container category, for at least 5 min since creation)', () => {
  it('given an unschedulable pod created 4 min 59 s ago, then not pending', () => {
    expect(podHealth(unschedulablePod(at(-(5 * MINUTE - SECOND))), NOW).categories).toEqual([]);
  });

  it('given an unschedulable pod created exactly 5 min ago, then pending, with the scheduler message', () => {
    const h = podHealth(unschedulablePod(at(-5 * MINUTE)), NOW);
    expect(h.categories).toEqual(['pending']);
    expect(h.node).toBeNull();
    expect(h.reasons).toEqual([
      {
        category: 'pending',
        reason: 'Unschedulable',
        message:
          '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        at: '2026-11-26T07:55:00Z',
      },
    ]);
  });

  it('given a scheduled pod stuck in ContainerCreating for 6 min, then pending citing the waiting reason', () => {
    const pod = imagePullPod();
    apiStatus(pod).state = { waiting: { reason: 'ContainerCreating' } };
    pod.metadata.creationTimestamp = at(-6 * MINUTE);
    expect(podHealth(pod, NOW).reasons).toEqual([
      { category: 'pending', container: 'api', reason: 'ContainerCreating', at: '2026-11-26T07:54:00Z' },
    ]);
  });

  it('given no creationTimestamp, then pending since the earliest condition transition', () => {
    const pod = unschedulablePod(at(-5 * MINUTE));
    delete pod.metadata.creationTimestamp;
    expect(podHealth(pod, NOW).categories).toEqual(['pending']);
    expect(podHealth(pod, NOW - 1).categories).toEqual([]);
  });

  it('given no time at all, then never pending', () => {
    const pod = unschedulablePod(at(-HOUR));
    delete pod.metadata.creationTimestamp;
    pod.status = { phase: 'Pending' };
    expect(podHealth(pod, NOW).categories).toEqual([]);
  });
});

describe('podHealth: high-restarts (more than 5)', () => {
  function restarted(count: number): KubePod {
    const pod = runningPod();
    const s = apiStatus(pod);
    s.restartCount = count;
    s.lastState = { terminated: { exitCode: 2, reason: 'Error', finishedAt: '2026-11-26T07:40:00Z' } };
    return pod;
  }

  it('given 5 restarts, then nothing', () => {
    const h = podHealth(restarted(5), NOW);
    expect(h.categories).toEqual([]);
    expect(h.restarts).toBe(5);
    expect(h.restartsPerHour).toBe(5);
  });

  it('given 6 restarts, then high-restarts citing the container', () => {
    expect(podHealth(restarted(6), NOW).reasons).toEqual([
      {
        category: 'high-restarts',
        container: 'api',
        reason: 'Error',
        exitCode: 2,
        restartCount: 6,
        at: '2026-11-26T07:40:00Z',
      },
    ]);
  });

  it('given 6 restarts on a pod Pending for 5 min, then pending only', () => {
    const pod = imagePullPod();
    const s = apiStatus(pod);
    s.state = { waiting: { reason: 'ContainerCreating' } };
    s.restartCount = 6;
    pod.metadata.creationTimestamp = at(-5 * MINUTE);
    expect(podHealth(pod, NOW).categories).toEqual(['pending']);
  });
});

describe('podHealth: restarts and restartsPerHour', () => {
  it('given two containers and a sidecar init container, then restarts sum them but not plain init containers', () => {
    const pod = runningPod();
    pod.spec = {
      ...pod.spec,
      initContainers: [
        { name: 'migrate', image: 'registry.example.com/shop/api-migrate:1.4.2' },
        { name: 'envoy', image: 'envoyproxy/envoy:v1.36.2', restartPolicy: 'Always' },
      ],
    };
    pod.status = {
      ...pod.status,
      initContainerStatuses: [
        { name: 'migrate', restartCount: 4, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'envoy', restartCount: 1, state: { running: { startedAt: '2026-11-26T07:10:00Z' } } },
      ],
      containerStatuses: [
        { name: 'api', restartCount: 2, state: { running: { startedAt: '2026-11-26T07:20:00Z' } } },
        { name: 'metrics', restartCount: 1, state: { running: { startedAt: '2026-11-26T07:30:00Z' } } },
      ],
    };
    pod.metadata.creationTimestamp = at(-2 * HOUR);
    const h = podHealth(pod, NOW);
    expect(h.restarts).toBe(4);
    expect(h.restartsPerHour).toBe(2);
    expect(h.categories).toEqual([]);
  });

  it('given a pod created at now with 3 restarts, then the age counts as 1 min: 180 per hour', () => {
    const pod = runningPod();
    apiStatus(pod).restartCount = 3;
    pod.metadata.creationTimestamp = at(0);
    const h = podHealth(pod, NOW);
    expect(h.ageMs).toBe(0);
    expect(h.restartsPerHour).toBe(180);
  });

  it('given neither creationTimestamp nor startTime, then ageMs is null and the age counts as 1 min', () => {
    const pod = runningPod();
    apiStatus(pod).restartCount = 2;
    delete pod.metadata.creationTimestamp;
    delete pod.status?.startTime;
    const h = podHealth(pod, NOW);
    expect(h.ageMs).toBeNull();
    expect(h.restartsPerHour).toBe(120);
  });
});

describe('podHealth: options', () => {
  it('given owner look-ups, then the workload comes from the owner chain', () => {
    const h = podHealth(runningPod(), NOW, {
      lookups: {
        replicaSetOwner: (ns, name) =>
          ns === 'shop' && name === 'api-7d9f8b6c5d'
            ? { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }
            : undefined,
        jobOwner: () => undefined,
      },
    });
    expect(h.workload).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'api', inferred: false });
  });

  it('given a lower high-restarts threshold, then it applies', () => {
    const pod = runningPod();
    apiStatus(pod).restartCount = 3;
    expect(podHealth(pod, NOW, { thresholds: { highRestartsAbove: 2 } }).categories).toEqual([
      'high-restarts',
    ]);
  });

  it('is deterministic: the same input gives byte-identical JSON', () => {
    expect(JSON.stringify(podHealth(crashLoopOomPod(), NOW))).toBe(
      JSON.stringify(podHealth(crashLoopOomPod(), NOW)),
    );
  });
});
