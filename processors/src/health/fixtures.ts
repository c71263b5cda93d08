/**
 * Test fixtures: pods and nodes as `kubectl get … -o json` shows them (trimmed of nothing the
 * API would not serve). Each call returns a fresh deep copy, so tests may mutate it.
 */
import type { KubeNode, KubePod } from './kube.ts';

/** 2026-11-26T08:00:00Z, the "now" of most tests. */
export const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** RFC 3339 text of NOW + offset ms, as the API serialises metav1.Time (second precision). */
export function at(offsetMs: number): string {
  return new Date(NOW + offsetMs).toISOString().replace(/\.000Z$/, 'Z');
}

const RUNNING_API_POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    creationTimestamp: '2026-11-26T07:00:00Z',
    generateName: 'api-7d9f8b6c5d-',
    labels: { app: 'api', 'pod-template-hash': '7d9f8b6c5d' },
    name: 'api-7d9f8b6c5d-x2k4q',
    namespace: 'shop',
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        blockOwnerDeletion: true,
        controller: true,
        kind: 'ReplicaSet',
        name: 'api-7d9f8b6c5d',
        uid: '5b0f3c9e-2d4a-4f61-9a0e-8e1f3f6a7c21',
      },
    ],
    resourceVersion: '48213',
    uid: 'c1a7e0d2-7f43-4b8e-9d1c-2f6b9a3e4d55',
  },
  spec: {
    containers: [
      {
        image: 'registry.example.com/shop/api:1.4.2',
        imagePullPolicy: 'IfNotPresent',
        name: 'api',
        ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
        resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    nodeName: 'worker-1',
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    serviceAccountName: 'api',
    terminationGracePeriodSeconds: 30,
  },
  status: {
    conditions: [
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:03Z',
        status: 'True',
        type: 'PodReadyToStartContainers',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:01Z',
        status: 'True',
        type: 'Initialized',
      },
      { lastProbeTime: null, lastTransitionTime: '2026-11-26T07:00:09Z', status: 'True', type: 'Ready' },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:09Z',
        status: 'True',
        type: 'ContainersReady',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:00Z',
        status: 'True',
        type: 'PodScheduled',
      },
    ],
    containerStatuses: [
      {
        containerID: 'containerd://9f2c4e1b7a3d5f6e8c0b2a4d6f8e0c2b4a6d8f0e2c4b6a8d0f2e4c6b8a0d2f4e',
        image: 'registry.example.com/shop/api:1.4.2',
        imageID:
          'registry.example.com/shop/api@sha256:3b1f6a9c2e4d7f8a0b5c6d1e9f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a',
        lastState: {},
        name: 'api',
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: '2026-11-26T07:00:08Z' } },
      },
    ],
    hostIP: '10.0.1.11',
    hostIPs: [{ ip: '10.0.1.11' }],
    phase: 'Running',
    podIP: '10.244.1.23',
    podIPs: [{ ip: '10.244.1.23' }],
    qosClass: 'Burstable',
    startTime: '2026-11-26T07:00:00Z',
  },
};

/** A healthy Running pod of Deployment shop/api (ReplicaSet api-7d9f8b6c5d), created 1 h before NOW. */
export function runningPod(): KubePod {
  return structuredClone(RUNNING_API_POD) as KubePod;
}

/**
 * Pod of shop/api crash-looping after OOM kills: 7 restarts, the last one killed at NOW − 2 min.
 */
export function crashLoopOomPod(): KubePod {
  const pod = runningPod();
  pod.status = {
    ...pod.status,
    conditions: [
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:03Z',
        status: 'True',
        type: 'PodReadyToStartContainers',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:01Z',
        status: 'True',
        type: 'Initialized',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:58:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'Ready',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:58:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'ContainersReady',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:00:00Z',
        status: 'True',
        type: 'PodScheduled',
      },
    ],
    containerStatuses: [
      {
        containerID: 'containerd://1e3c5a7b9d0f2e4c6a8b0d2f4e6c8a0b2d4f6e8c0a2b4d6f8e0c2a4b6d8f0e2c',
        image: 'registry.example.com/shop/api:1.4.2',
        imageID:
          'registry.example.com/shop/api@sha256:3b1f6a9c2e4d7f8a0b5c6d1e9f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a',
        lastState: {
          terminated: {
            containerID: 'containerd://1e3c5a7b9d0f2e4c6a8b0d2f4e6c8a0b2d4f6e8c0a2b4d6f8e0c2a4b6d8f0e2c',
            exitCode: 137,
            finishedAt: '2026-11-26T07:58:00Z',
            reason: 'OOMKilled',
            startedAt: '2026-11-26T07:55:41Z',
          },
        },
        name: 'api',
        ready: false,
        restartCount: 7,
        started: false,
        state: {
          waiting: {
            message:
              'back-off 5m0s restarting failed container=api pod=api-7d9f8b6c5d-x2k4q_shop(c1a7e0d2-7f43-4b8e-9d1c-2f6b9a3e4d55)',
            reason: 'CrashLoopBackOff',
          },
        },
      },
    ],
  };
  return pod;
}

/** A pod of shop/api 1.5.0 stuck pulling a mistyped tag since NOW − 10 min: phase Pending. */
export function imagePullPod(): KubePod {
  const pod = runningPod();
  pod.metadata.name = 'api-5c8d9e7f6b-q7w2e';
  pod.metadata.labels = { app: 'api', 'pod-template-hash': '5c8d9e7f6b' };
  pod.metadata.creationTimestamp = '2026-11-26T07:50:00Z';
  pod.metadata.ownerReferences = [
    {
      apiVersion: 'apps/v1',
      blockOwnerDeletion: true,
      controller: true,
      kind: 'ReplicaSet',
      name: 'api-5c8d9e7f6b',
      uid: '0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a',
    },
  ];
  pod.status = {
    conditions: [
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:02Z',
        status: 'True',
        type: 'PodReadyToStartContainers',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        status: 'True',
        type: 'Initialized',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'Ready',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'ContainersReady',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        status: 'True',
        type: 'PodScheduled',
      },
    ],
    containerStatuses: [
      {
        image: 'registry.example.com/shop/api:1.5.0-rc',
        imageID: '',
        lastState: {},
        name: 'api',
        ready: false,
        restartCount: 0,
        started: false,
        state: {
          waiting: {
            message: 'Back-off pulling image "registry.example.com/shop/api:1.5.0-rc"',
            reason: 'ImagePullBackOff',
          },
        },
      },
    ],
    phase: 'Pending',
    qosClass: 'Burstable',
    startTime: '2026-11-26T07:50:00Z',
  };
  return pod;
}

/** A pod of shop/api that no node can fit, created at `created` (no nodeName, no container statuses). */
export function unschedulablePod(created: string): KubePod {
  const pod = runningPod();
  pod.metadata.name = 'api-7d9f8b6c5d-z9m3p';
  pod.metadata.creationTimestamp = created;
  delete pod.spec?.nodeName;
  pod.status = {
    conditions: [
      {
        lastProbeTime: null,
        lastTransitionTime: created,
        message:
          '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        reason: 'Unschedulable',
        status: 'False',
        type: 'PodScheduled',
      },
    ],
    phase: 'Pending',
    qosClass: 'Burstable',
  };
  return pod;
}

/** A pod of shop/api whose init container `migrate` exited 1 at NOW − 30 s; created NOW − 10 min. */
export function initFailurePod(): KubePod {
  const pod = runningPod();
  pod.metadata.creationTimestamp = '2026-11-26T07:50:00Z';
  pod.spec = {
    ...pod.spec,
    initContainers: [{ name: 'migrate', image: 'registry.example.com/shop/api-migrate:1.4.2' }],
  };
  pod.status = {
    conditions: [
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:02Z',
        status: 'True',
        type: 'PodReadyToStartContainers',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        message: 'containers with incomplete status: [migrate]',
        reason: 'ContainersNotInitialized',
        status: 'False',
        type: 'Initialized',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'Ready',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        message: 'containers with unready status: [api]',
        reason: 'ContainersNotReady',
        status: 'False',
        type: 'ContainersReady',
      },
      {
        lastProbeTime: null,
        lastTransitionTime: '2026-11-26T07:50:00Z',
        status: 'True',
        type: 'PodScheduled',
      },
    ],
    initContainerStatuses: [
      {
        containerID: 'containerd://7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c',
        image: 'registry.example.com/shop/api-migrate:1.4.2',
        imageID:
          'registry.example.com/shop/api-migrate@sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d',
        lastState: {
          terminated: {
            containerID: 'containerd://2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d',
            exitCode: 1,
            finishedAt: '2026-11-26T07:58:10Z',
            reason: 'Error',
            startedAt: '2026-11-26T07:58:09Z',
          },
        },
        name: 'migrate',
        ready: false,
        restartCount: 3,
        started: false,
        state: {
          terminated: {
            containerID: 'containerd://7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c',
            exitCode: 1,
            finishedAt: '2026-11-26T07:59:30Z',
            message: 'FATAL: password authentication failed for user "shop"',
            reason: 'Error',
            startedAt: '2026-11-26T07:59:29Z',
          },
        },
      },
    ],
    containerStatuses: [
      {
        image: 'registry.example.com/shop/api:1.4.2',
        imageID: '',
        lastState: {},
        name: 'api',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'PodInitializing' } },
      },
    ],
    phase: 'Pending',
    qosClass: 'Burstable',
    startTime: '2026-11-26T07:50:00Z',
  };
  return pod;
}

/** A pod of shop/api evicted by the kubelet for memory pressure. */
export function evictedPod(): KubePod {
  const pod = runningPod();
  pod.status = {
    message:
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. Container api was using 1210Mi, request is 256Mi, has larger consumption of memory. ',
    phase: 'Failed',
    reason: 'Evicted',
    startTime: '2026-11-26T07:00:00Z',
  };
  return pod;
}

/** A finished pod of CronJob batch/report (Job report-29927520, scheduled 2026-11-26T00:00:00Z). */
export function succeededJobPod(): KubePod {
  return structuredClone({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      creationTimestamp: '2026-11-26T00:00:00Z',
      generateName: 'report-29927520-',
      labels: {
        'batch.kubernetes.io/controller-uid': '6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
        'batch.kubernetes.io/job-name': 'report-29927520',
        'controller-uid': '6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
        'job-name': 'report-29927520',
      },
      name: 'report-29927520-8hx5v',
      namespace: 'batch',
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          blockOwnerDeletion: true,
          controller: true,
          kind: 'Job',
          name: 'report-29927520',
          uid: '6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
        },
      ],
      resourceVersion: '39120',
      uid: 'a3b4c5d6-e7f8-4a9b-8c0d-1e2f3a4b5c6d',
    },
    spec: {
      containers: [{ image: 'registry.example.com/batch/report:2.0.1', name: 'report' }],
      nodeName: 'worker-2',
      restartPolicy: 'OnFailure',
    },
    status: {
      conditions: [
        {
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T00:03:12Z',
          status: 'False',
          type: 'PodReadyToStartContainers',
        },
        {
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T00:00:01Z',
          reason: 'PodCompleted',
          status: 'True',
          type: 'Initialized',
        },
        {
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T00:03:11Z',
          reason: 'PodCompleted',
          status: 'False',
          type: 'Ready',
        },
        {
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T00:03:11Z',
          reason: 'PodCompleted',
          status: 'False',
          type: 'ContainersReady',
        },
        {
          lastProbeTime: null,
          lastTransitionTime: '2026-11-26T00:00:00Z',
          status: 'True',
          type: 'PodScheduled',
        },
      ],
      containerStatuses: [
        {
          containerID: 'containerd://4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c',
          image: 'registry.example.com/batch/report:2.0.1',
          imageID:
            'registry.example.com/batch/report@sha256:0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b',
          lastState: {},
          name: 'report',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              containerID: 'containerd://4c6e8a0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c',
              exitCode: 0,
              finishedAt: '2026-11-26T00:03:11Z',
              reason: 'Completed',
              startedAt: '2026-11-26T00:00:04Z',
            },
          },
        },
      ],
      hostIP: '10.0.1.12',
      phase: 'Succeeded',
      podIP: '10.244.2.40',
      qosClass: 'BestEffort',
      startTime: '2026-11-26T00:00:00Z',
    },
  }) as KubePod;
}

/** Node worker-1 (Ready since 2026-11-20), with all conditions a kubelet reports. */
export function readyNode(): KubeNode {
  return structuredClone({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      creationTimestamp: '2026-11-20T09:00:00Z',
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': 'worker-1',
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm6i.large',
      },
      name: 'worker-1',
      resourceVersion: '48110',
      uid: 'e2d3c4b5-a6f7-4e8d-9c0b-1a2f3e4d5c6b',
    },
    spec: { podCIDR: '10.244.1.0/24', providerID: 'aws:///eu-west-1a/i-0a1b2c3d4e5f6a7b8' },
    status: {
      conditions: [
        {
          lastHeartbeatTime: '2026-11-26T07:59:40Z',
          lastTransitionTime: '2026-11-20T09:00:00Z',
          message: 'kubelet has sufficient memory available',
          reason: 'KubeletHasSufficientMemory',
          status: 'False',
          type: 'MemoryPressure',
        },
        {
          lastHeartbeatTime: '2026-11-26T07:59:40Z',
          lastTransitionTime: '2026-11-20T09:00:00Z',
          message: 'kubelet has no disk pressure',
          reason: 'KubeletHasNoDiskPressure',
          status: 'False',
          type: 'DiskPressure',
        },
        {
          lastHeartbeatTime: '2026-11-26T07:59:40Z',
          lastTransitionTime: '2026-11-20T09:00:00Z',
          message: 'kubelet has sufficient PID available',
          reason: 'KubeletHasSufficientPID',
          status: 'False',
          type: 'PIDPressure',
        },
        {
          lastHeartbeatTime: '2026-11-26T07:59:40Z',
          lastTransitionTime: '2026-11-20T09:00:20Z',
          message: 'kubelet is posting ready status',
          reason: 'KubeletReady',
          status: 'True',
          type: 'Ready',
        },
      ],
      nodeInfo: { kubeletVersion: 'v1.34.1', containerRuntimeVersion: 'containerd://2.1.4' },
    },
  }) as KubeNode;
}
