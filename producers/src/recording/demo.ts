/**
 * The demo recording (issue C item 6): two hours of a small cluster with ten scenarios, generated
 * deterministically (a seeded PRNG, a fixed start time, no wall clock). `scripts/gen-demo.ts` writes
 * it to `demo/`; docs/recording.md describes the scenarios. Objects are built in the key order the
 * API server serialises them in (`kind`, `apiVersion`, `metadata`, `spec`, `status`; Go struct
 * field order inside), and `resourceVersion`s are assigned in output order, so they increase.
 */
import { formatObservation } from './writer.ts';
import type { Observation } from './writer.ts';
import { prng } from '@hetu/streams';

export const DEMO_CLUSTER = 'demo';
export const DEMO_START_MS = Date.parse('2026-11-26T08:00:00.000Z');
export const DEMO_DURATION_MS = 2 * 60 * 60_000;
export const DEMO_SEED = 20261126;

type Json = Record<string, unknown>;

const MIN = 60_000;
const SEC = 1000;
const GI = 1024 ** 3;
const MI = 1024 ** 2;
const T0 = DEMO_START_MS;
const at = (h: number, m: number, s = 0): number =>
  Date.parse('2026-11-26T00:00:00.000Z') + ((h * 60 + m) * 60 + s) * SEC;
const iso = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('.000Z', 'Z')
    .replace(/\.\d{3}Z$/, 'Z');
const isoMs = (ms: number): string => new Date(ms).toISOString();

export interface DemoScenario {
  id: string;
  title: string;
  /** RFC 3339 start and end of the window in which the scenario's observations begin and peak. */
  window: { from: string; to: string };
  /** Expected root-cause category (issue C's names), null for the healthy stretch and posture. */
  expectedCategory:
    | 'oom'
    | 'bad-config'
    | 'dependency-down'
    | 'bad-rollout'
    | 'image-pull'
    | 'unschedulable'
    | 'node-failure'
    | 'probe-failure'
    | 'volume-mount'
    | 'cpu-saturation'
    | null;
  /** The resource RCA should name as root cause; null when no incident is expected. */
  expectedRootCause: { kind: string; namespace: string | null; name: string } | null;
  /** Workloads/nodes whose signals belong to the scenario. */
  affected: string[];
  description: string;
}

export interface DemoRecording {
  /** The observations in recording order (non-decreasing ts). */
  observations: Observation[];
  /** The recording as bytes: one line per observation, each ending in `\n`. */
  text: string;
  scenarios: DemoScenario[];
}

// ---------------------------------------------------------------------------------------------
// The simulation

interface Draft {
  ts: number;
  seq: number;
  obs: Observation;
  /** For watch drafts: the object, whose metadata.resourceVersion is filled in output order. */
  object?: Json;
}

interface Container {
  name: string;
  image: string;
  imageID: string;
  ports?: Json[];
  env?: Json[];
  resources: { requests: { cpu: string; memory: string }; limits?: { cpu?: string; memory?: string } };
  securityContext?: Json;
  readinessProbe?: Json;
  livenessProbe?: Json;
  args?: string[];
  volumeMounts?: Json[];
}

interface CState {
  state: Json;
  lastState: Json;
  ready: boolean;
  restartCount: number;
  started: boolean;
  containerID?: string;
  /** Simulation: when the current run started (for memory growth). */
  runningSince?: number;
}

interface Cond {
  status: string;
  at: number;
  reason?: string;
  message?: string;
}

interface PodSim {
  ns: string;
  name: string;
  uid: string;
  created: number;
  app: string;
  labels: Record<string, string>;
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  node?: string;
  containers: Container[];
  status: CState[];
  phase: string;
  conditions: Map<string, Cond>;
  podIP?: string;
  startTime?: number;
  deletion?: number;
  serviceAccount: string;
  hostNetwork: boolean;
  podSecurityContext: Json;
  volumes: Json[];
  tolerations: Json[];
  /** Simulation: the metric and log profile. */
  profile: Profile;
  gone: boolean;
}

interface Profile {
  cpu: number;
  memory: number;
  lang: 'node' | 'java' | 'go' | 'python' | 'postgres' | 'coredns' | 'agent' | 'none';
  service?: string;
  /** Seconds between background log lines. */
  logEvery: number;
  gc?: 'go' | 'jvm';
}

class Sim {
  readonly drafts: Draft[] = [];
  private seq = 0;
  readonly rnd: () => number;
  private ipCounter = 10;
  readonly pods = new Map<string, PodSim>();
  private readonly events = new Map<string, { obj: Json; count: number }>();
  readonly services = new Map<
    string,
    { ns: string; name: string; selector: Record<string, string>; port: number; uid: string; created: number }
  >();

  constructor(seed: number) {
    this.rnd = prng(seed);
  }

  uid(): string {
    const h = (n: number): string => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(this.rnd() * 16).toString(16);
      return s;
    };
    return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[Math.floor(this.rnd() * 4)]}${h(3)}-${h(12)}`;
  }

  /** A k8s-style random suffix (consonants and digits, as the apiserver's generateName uses). */
  suffix(n: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.rnd() * alphabet.length)];
    return s;
  }

  hash(): string {
    return this.suffix(10).slice(0, 9 + Math.floor(this.rnd() * 2));
  }

  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.rnd() * 16).toString(16);
    return s;
  }

  ip(): string {
    this.ipCounter++;
    return `10.244.${Math.floor(this.ipCounter / 250)}.${this.ipCounter % 250}`;
  }

  jitter(ms: number): number {
    return Math.floor(this.rnd() * ms);
  }

  watch(ts: number, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Json): void {
    const copy = structuredClone(object);
    this.drafts.push({
      ts,
      seq: this.seq++,
      obs: { ts, cluster: DEMO_CLUSTER, kind: 'watch', type, object: copy },
      object: copy,
    });
  }

  metric(ts: number, name: string, labels: Record<string, string>, value: number): void {
    this.drafts.push({
      ts,
      seq: this.seq++,
      obs: { ts, cluster: DEMO_CLUSTER, kind: 'metric', name, labels, value },
    });
  }

  log(ts: number, pod: PodSim, line: string, container?: string): void {
    this.drafts.push({
      ts,
      seq: this.seq++,
      obs: {
        ts,
        cluster: DEMO_CLUSTER,
        kind: 'log',
        namespace: pod.ns,
        pod: pod.name,
        container: container ?? pod.containers[0]?.name ?? pod.app,
        line,
      },
    });
  }

  /** A core/v1 Event; a repeat (same object, reason, message) bumps count and lastTimestamp. */
  event(
    ts: number,
    involved: {
      kind: string;
      apiVersion: string;
      ns: string | null;
      name: string;
      uid: string;
      fieldPath?: string;
    },
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: { component: string; host?: string },
  ): void {
    const key = `${involved.uid}|${reason}|${message}`;
    const prior = this.events.get(key);
    if (prior !== undefined) {
      prior.count++;
      prior.obj['count'] = prior.count;
      prior.obj['lastTimestamp'] = iso(ts);
      this.watch(ts, 'MODIFIED', prior.obj);
      return;
    }
    const ns = involved.ns ?? 'default';
    const involvedObject: Json = { kind: involved.kind };
    if (involved.ns !== null) involvedObject['namespace'] = involved.ns;
    involvedObject['name'] = involved.name;
    involvedObject['uid'] = involved.uid;
    involvedObject['apiVersion'] = involved.apiVersion;
    if (involved.fieldPath !== undefined) involvedObject['fieldPath'] = involved.fieldPath;
    const obj: Json = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        name: `${involved.name}.${this.hex(16)}`,
        namespace: ns,
        uid: this.uid(),
        resourceVersion: '',
        creationTimestamp: iso(ts),
      },
      involvedObject,
      reason,
      message,
      source,
      firstTimestamp: iso(ts),
      lastTimestamp: iso(ts),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    this.events.set(key, { obj, count: 1 });
    this.watch(ts, 'ADDED', obj);
  }

  // -- pods ------------------------------------------------------------------------------------

  podObject(p: PodSim): Json {
    const metadata: Json = { name: p.name };
    if (p.owner !== undefined && p.owner.kind === 'ReplicaSet')
      metadata['generateName'] = p.name.slice(0, -5);
    else if (p.owner !== undefined && p.owner.kind !== 'StatefulSet')
      metadata['generateName'] = p.name.slice(0, -5);
    metadata['namespace'] = p.ns;
    metadata['uid'] = p.uid;
    metadata['resourceVersion'] = '';
    metadata['creationTimestamp'] = iso(p.created);
    if (p.deletion !== undefined) {
      metadata['deletionTimestamp'] = iso(p.deletion + 30 * SEC);
      metadata['deletionGracePeriodSeconds'] = 30;
    }
    metadata['labels'] = p.labels;
    if (p.owner !== undefined) {
      metadata['ownerReferences'] = [
        {
          apiVersion: p.owner.apiVersion,
          kind: p.owner.kind,
          name: p.owner.name,
          uid: p.owner.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
    }
    const spec: Json = {
      volumes: p.volumes,
      containers: p.containers.map((c) => {
        const o: Json = { name: c.name, image: c.image };
        if (c.args !== undefined) o['args'] = c.args;
        if (c.ports !== undefined) o['ports'] = c.ports;
        if (c.env !== undefined) o['env'] = c.env;
        o['resources'] = c.resources;
        o['volumeMounts'] = [
          ...(c.volumeMounts ?? []),
          {
            name: 'kube-api-access',
            readOnly: true,
            mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
          },
        ];
        if (c.livenessProbe !== undefined) o['livenessProbe'] = c.livenessProbe;
        if (c.readinessProbe !== undefined) o['readinessProbe'] = c.readinessProbe;
        o['terminationMessagePath'] = '/dev/termination-log';
        o['terminationMessagePolicy'] = 'File';
        o['imagePullPolicy'] = 'IfNotPresent';
        if (c.securityContext !== undefined) o['securityContext'] = c.securityContext;
        return o;
      }),
      restartPolicy: p.owner?.kind === 'Job' ? 'OnFailure' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: p.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: p.serviceAccount,
      serviceAccount: p.serviceAccount,
    };
    if (p.node !== undefined) spec['nodeName'] = p.node;
    if (p.hostNetwork) spec['hostNetwork'] = true;
    spec['securityContext'] = p.podSecurityContext;
    spec['schedulerName'] = 'default-scheduler';
    spec['tolerations'] = p.tolerations;
    spec['priority'] = 0;
    spec['enableServiceLinks'] = true;
    spec['preemptionPolicy'] = 'PreemptLowerPriority';

    const order = [
      'DisruptionTarget',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ];
    const conditions = order
      .filter((t) => p.conditions.has(t))
      .map((t) => {
        const c = p.conditions.get(t) as Cond;
        const o: Json = { type: t, status: c.status, lastProbeTime: null, lastTransitionTime: iso(c.at) };
        if (c.reason !== undefined) o['reason'] = c.reason;
        if (c.message !== undefined) o['message'] = c.message;
        return o;
      });
    const status: Json = { phase: p.phase, conditions };
    if (p.node !== undefined && p.startTime !== undefined) {
      const hostIP = nodeIP(p.node);
      status['hostIP'] = hostIP;
      status['hostIPs'] = [{ ip: hostIP }];
      const podIP = p.hostNetwork ? hostIP : p.podIP;
      if (podIP !== undefined) {
        status['podIP'] = podIP;
        status['podIPs'] = [{ ip: podIP }];
      }
      status['startTime'] = iso(p.startTime);
      status['containerStatuses'] = p.containers.map((c, i) => {
        const s = p.status[i] as CState;
        const o: Json = {
          name: c.name,
          state: s.state,
          lastState: s.lastState,
          ready: s.ready,
          restartCount: s.restartCount,
          image: c.image,
        };
        o['imageID'] = s.containerID === undefined ? '' : c.imageID;
        if (s.containerID !== undefined) o['containerID'] = s.containerID;
        o['started'] = s.started;
        return o;
      });
    }
    status['qosClass'] = qos(p.containers);
    return { kind: 'Pod', apiVersion: 'v1', metadata, spec, status };
  }

  emitPod(ts: number, p: PodSim, type: 'ADDED' | 'MODIFIED' | 'DELETED' = 'MODIFIED'): void {
    this.watch(ts, type, this.podObject(p));
  }

  podRef(
    p: PodSim,
    container?: string,
  ): { kind: string; apiVersion: string; ns: string; name: string; uid: string; fieldPath?: string } {
    return container === undefined
      ? { kind: 'Pod', apiVersion: 'v1', ns: p.ns, name: p.name, uid: p.uid }
      : {
          kind: 'Pod',
          apiVersion: 'v1',
          ns: p.ns,
          name: p.name,
          uid: p.uid,
          fieldPath: `spec.containers{${container}}`,
        };
  }

  setCond(p: PodSim, type: string, status: string, ts: number, reason?: string, message?: string): void {
    const prior = p.conditions.get(type);
    const c: Cond = { status, at: prior !== undefined && prior.status === status ? prior.at : ts };
    if (reason !== undefined) c.reason = reason;
    if (message !== undefined) c.message = message;
    p.conditions.set(type, c);
  }

  refreshReady(p: PodSim, ts: number): void {
    const allReady = p.status.every((s) => s.ready);
    const notReady = p.containers.filter((_, i) => !(p.status[i] as CState).ready).map((c) => c.name);
    const msg = `containers with unready status: [${notReady.join(' ')}]`;
    if (allReady) {
      this.setCond(p, 'Ready', 'True', ts);
      this.setCond(p, 'ContainersReady', 'True', ts);
    } else {
      this.setCond(p, 'Ready', 'False', ts, 'ContainersNotReady', msg);
      this.setCond(p, 'ContainersReady', 'False', ts, 'ContainersNotReady', msg);
    }
  }

  /** The pod appears (ADDED, Pending), is scheduled, pulls and starts; returns when it runs. */
  createPod(
    p: PodSim,
    ts: number,
    opts: { schedule?: boolean; start?: boolean; events?: boolean } = {},
  ): number {
    this.pods.set(`${p.ns}/${p.name}`, p);
    const node = p.node;
    p.node = undefined;
    p.phase = 'Pending';
    this.emitPod(ts, p, 'ADDED');
    if (opts.schedule === false || node === undefined) return ts;
    let t = ts + 20 + this.jitter(60);
    p.node = node;
    this.setCond(p, 'PodScheduled', 'True', t);
    this.emitPod(t, p);
    if (opts.events !== false) {
      this.event(
        t,
        this.podRef(p),
        'Normal',
        'Scheduled',
        `Successfully assigned ${p.ns}/${p.name} to ${node}`,
        { component: 'default-scheduler' },
      );
    }
    t += 200 + this.jitter(400);
    p.startTime = t;
    p.podIP = this.ip();
    this.setCond(p, 'Initialized', 'True', t);
    for (let i = 0; i < p.containers.length; i++) {
      const s = p.status[i] as CState;
      s.state = { waiting: { reason: 'ContainerCreating' } };
    }
    this.setCond(p, 'PodReadyToStartContainers', 'False', t);
    this.refreshReady(p, t);
    this.emitPod(t, p);
    if (opts.start === false) return t;
    return this.startContainers(p, t + 1000 + this.jitter(2000), opts.events !== false);
  }

  startContainers(p: PodSim, ts: number, events = true): number {
    let t = ts;
    for (let i = 0; i < p.containers.length; i++) {
      const c = p.containers[i] as Container;
      if (events) {
        this.event(
          t,
          this.podRef(p, c.name),
          'Normal',
          'Pulled',
          `Container image "${c.image}" already present on machine`,
          { component: 'kubelet', host: p.node },
        );
        this.event(t, this.podRef(p, c.name), 'Normal', 'Created', `Created container ${c.name}`, {
          component: 'kubelet',
          host: p.node,
        });
        this.event(t + 150, this.podRef(p, c.name), 'Normal', 'Started', `Started container ${c.name}`, {
          component: 'kubelet',
          host: p.node,
        });
      }
      this.runContainer(p, i, t + 150);
    }
    t += 300;
    p.phase = 'Running';
    this.setCond(p, 'PodReadyToStartContainers', 'True', t);
    this.emitPod(t, p);
    return t;
  }

  runContainer(p: PodSim, i: number, ts: number): void {
    const s = p.status[i] as CState;
    s.containerID = `containerd://${this.hex(64)}`;
    s.state = { running: { startedAt: iso(ts) } };
    s.started = true;
    s.runningSince = ts;
    s.ready = (p.containers[i] as Container).readinessProbe === undefined;
    this.refreshReady(p, ts);
  }

  /** The container becomes ready (readiness probe passed). */
  ready(p: PodSim, ts: number, value = true): void {
    for (const s of p.status) if (s.state['running'] !== undefined) s.ready = value;
    this.refreshReady(p, ts);
    this.emitPod(ts, p);
    this.emitEndpointsFor(p, ts);
  }

  /** The container exits; `backoff` false means it is restarted at once (first crash). */
  terminate(p: PodSim, i: number, ts: number, exitCode: number, reason: string): void {
    const s = p.status[i] as CState;
    const running = s.state['running'] as Json | undefined;
    s.lastState = {
      terminated: {
        exitCode,
        reason,
        startedAt: running?.['startedAt'] ?? iso(ts),
        finishedAt: iso(ts),
        containerID: s.containerID,
      },
    };
    s.state = { waiting: { reason: 'CrashLoopBackOff', message: '' } };
    s.ready = false;
    s.started = false;
    s.runningSince = undefined;
    this.refreshReady(p, ts);
  }

  backOffMessage(p: PodSim, i: number, seconds: number): string {
    const c = p.containers[i] as Container;
    const secs = seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
    return `back-off ${secs} restarting failed container=${c.name} pod=${p.name}_${p.ns}(${p.uid})`;
  }

  /** After `terminate`: the pod as the kubelet reports it right after the exit, before any restart. */
  emitExited(p: PodSim, i: number, ts: number): void {
    const s = p.status[i] as CState;
    const waiting = s.state;
    s.state = s.lastState;
    s.lastState = {};
    this.emitPod(ts, p);
    s.lastState = s.state;
    s.state = waiting;
  }

  restart(p: PodSim, i: number, ts: number): void {
    const s = p.status[i] as CState;
    s.restartCount++;
    this.runContainer(p, i, ts);
  }

  // -- services and endpoints --------------------------------------------------------------------

  emitEndpointsFor(p: PodSim, ts: number): void {
    for (const svc of this.services.values()) {
      if (svc.ns !== p.ns) continue;
      if (!Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v)) continue;
      this.watch(ts, 'MODIFIED', this.endpoints(svc));
    }
  }

  endpoints(svc: {
    ns: string;
    name: string;
    selector: Record<string, string>;
    port: number;
    uid: string;
    created: number;
  }): Json {
    const members = [...this.pods.values()]
      .filter((p) => !p.gone && p.ns === svc.ns && p.podIP !== undefined && p.node !== undefined)
      .filter((p) => Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v))
      .sort((a, b) => (a.podIP as string).localeCompare(b.podIP as string));
    const addr = (p: PodSim): Json => ({
      ip: p.podIP,
      nodeName: p.node,
      targetRef: { kind: 'Pod', namespace: p.ns, name: p.name, uid: p.uid },
    });
    const ready = members.filter((p) => p.deletion === undefined && p.status.every((s) => s.ready));
    const notReady = members.filter((p) => !ready.includes(p));
    const subset: Json = {};
    if (ready.length > 0) subset['addresses'] = ready.map(addr);
    if (notReady.length > 0) subset['notReadyAddresses'] = notReady.map(addr);
    subset['ports'] = [{ name: 'http', port: svc.port, protocol: 'TCP' }];
    return {
      kind: 'Endpoints',
      apiVersion: 'v1',
      metadata: {
        name: svc.name,
        namespace: svc.ns,
        uid: svc.uid,
        resourceVersion: '',
        creationTimestamp: iso(svc.created),
        labels: { app: svc.name },
      },
      subsets: members.length === 0 ? [] : [subset],
    };
  }
}

function nodeIP(node: string): string {
  return `10.0.1.${10 + Number(node.replace('node-', ''))}`;
}

function qos(containers: Container[]): string {
  const guaranteed = containers.every(
    (c) =>
      c.resources.limits?.cpu === c.resources.requests.cpu &&
      c.resources.limits?.memory === c.resources.requests.memory,
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const API_ACCESS_VOLUME: Json = {
  name: 'kube-api-access',
  projected: {
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
    defaultMode: 420,
  },
};

const DEFAULT_TOLERATIONS: Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

// ---------------------------------------------------------------------------------------------
// Workloads

interface AppSpec {
  ns: string;
  name: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  replicas: number;
  image: string;
  profile: Profile;
  nodes: string[];
  port?: number;
  cpuReq: string;
  cpuLim?: string;
  memReq: string;
  memLim?: string;
  env?: Json[];
  securityContext?: Json;
  podSecurityContext?: Json;
  hostNetwork?: boolean;
  serviceAccount?: string;
  readiness?: boolean;
  extraLabels?: Record<string, string>;
  pvc?: string;
  createdDaysAgo: number;
}

interface WorkloadSim {
  spec: AppSpec;
  uid: string;
  obj: Json;
  rsUid?: string;
  rsName?: string;
  hash?: string;
  rsObj?: Json;
  pods: PodSim[];
}

function container(spec: AppSpec, image = spec.image): Container {
  const c: Container = {
    name: spec.name,
    image,
    imageID: `${image.split(':')[0]}@sha256:${fakeDigest(image)}`,
    resources: {
      requests: { cpu: spec.cpuReq, memory: spec.memReq },
      ...(spec.cpuLim !== undefined || spec.memLim !== undefined
        ? {
            limits: {
              ...(spec.cpuLim !== undefined ? { cpu: spec.cpuLim } : {}),
              ...(spec.memLim !== undefined ? { memory: spec.memLim } : {}),
            },
          }
        : {}),
    },
  };
  if (spec.port !== undefined) c.ports = [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }];
  if (spec.env !== undefined) c.env = spec.env;
  if (spec.readiness === true && spec.port !== undefined) {
    const probe = (path: string, period: number, failure: number): Json => ({
      httpGet: { path, port: spec.port, scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: period,
      successThreshold: 1,
      failureThreshold: failure,
    });
    c.livenessProbe = probe('/healthz', 10, 3);
    c.readinessProbe = probe('/ready', 5, 3);
  }
  if (spec.securityContext !== undefined) c.securityContext = spec.securityContext;
  if (spec.pvc !== undefined) c.volumeMounts = [{ name: 'data', mountPath: '/var/lib/data' }];
  return c;
}

function fakeDigest(image: string): string {
  // A stable pseudo digest from the image name (FNV-1a, repeated to 64 hex).
  let h = 0x811c9dc5;
  let out = '';
  for (let round = 0; out.length < 64; round++) {
    for (const ch of `${image}#${round}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 64);
}

// ---------------------------------------------------------------------------------------------

/** Generates the demo recording. Pure: the same seed always gives the same bytes. */
export function generateDemo(seed = DEMO_SEED): DemoRecording {
  const sim = new Sim(seed);
  const END = T0 + DEMO_DURATION_MS;
  const created = (days: number, extraMin = 0): number => T0 - days * 24 * 60 * MIN + extraMin * MIN;
  const rv = (): string => '';

  // -- cluster-scoped objects ----------------------------------------------------------------
  const nodes = ['node-1', 'node-2', 'node-3'];
  const nodeUids = new Map<string, string>();
  const nodeObject = (
    name: string,
    ready: { status: string; reason: string; message: string; at: number },
    taints: Json[],
    heartbeat: number,
  ): Json => {
    let uid = nodeUids.get(name);
    if (uid === undefined) {
      uid = sim.uid();
      nodeUids.set(name, uid);
    }
    const cond = (type: string, status: string, reason: string, message: string, tr: number): Json => ({
      type,
      status,
      lastHeartbeatTime: iso(heartbeat),
      lastTransitionTime: iso(tr),
      reason,
      message,
    });
    const unknown = ready.status === 'Unknown';
    const pressure = (type: string, okReason: string, okMsg: string): Json =>
      unknown
        ? cond(type, 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.', ready.at)
        : cond(type, 'False', okReason, okMsg, created(30));
    const spec: Json = {
      podCIDR: `10.244.${nodes.indexOf(name)}.0/24`,
      podCIDRs: [`10.244.${nodes.indexOf(name)}.0/24`],
      providerID: `gce://hetu-demo/europe-west1-b/${name}`,
    };
    if (taints.length > 0) spec['taints'] = taints;
    return {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name,
        uid,
        resourceVersion: rv(),
        creationTimestamp: iso(created(30)),
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': 'e2-standard-4',
          'topology.kubernetes.io/region': 'europe-west1',
          'topology.kubernetes.io/zone': `europe-west1-${'bcd'[nodes.indexOf(name)]}`,
        },
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec,
      status: {
        capacity: { cpu: '4', 'ephemeral-storage': '101203600Ki', memory: '16393216Ki', pods: '110' },
        allocatable: { cpu: '3920m', 'ephemeral-storage': '93268327789', memory: '13662080Ki', pods: '110' },
        conditions: [
          pressure('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          pressure('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          pressure('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          cond('Ready', ready.status, ready.reason, ready.message, ready.at),
        ],
        addresses: [
          { type: 'InternalIP', address: nodeIP(name) },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: fakeDigest(name).slice(0, 32),
          systemUUID: fakeDigest(`${name}-uuid`).slice(0, 32),
          bootID: fakeDigest(`${name}-boot`).slice(0, 32),
          kernelVersion: '6.6.56+',
          osImage: 'Container-Optimized OS from Google',
          containerRuntimeVersion: 'containerd://1.7.24',
          kubeletVersion: 'v1.31.4',
          kubeProxyVersion: 'v1.31.4',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
  };
  const readyOk = {
    status: 'True',
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status',
    at: created(30) + 2 * MIN,
  };
  for (const n of nodes) sim.watch(T0, 'ADDED', nodeObject(n, readyOk, [], T0 - 17 * SEC));

  const namespaces = ['default', 'kube-system', 'shop', 'payments', 'platform'];
  for (const ns of namespaces) {
    sim.watch(T0, 'ADDED', {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name: ns,
        uid: sim.uid(),
        resourceVersion: rv(),
        creationTimestamp: iso(created(ns === 'default' || ns === 'kube-system' ? 30 : 21)),
        labels: { 'kubernetes.io/metadata.name': ns },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  // RBAC: the usual roles, one wildcard role, one ServiceAccount bound to cluster-admin.
  const clusterRole = (
    name: string,
    rules: Json[],
    labels?: Record<string, string>,
    annotations?: Record<string, string>,
  ): Json => ({
    kind: 'ClusterRole',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: {
      name,
      uid: sim.uid(),
      resourceVersion: rv(),
      creationTimestamp: iso(created(name.startsWith('hetu') || name.startsWith('platform') ? 14 : 30)),
      ...(labels !== undefined ? { labels } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
    },
    rules,
  });
  sim.watch(
    T0,
    'ADDED',
    clusterRole(
      'cluster-admin',
      [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ],
      { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    ),
  );
  sim.watch(
    T0,
    'ADDED',
    clusterRole(
      'view',
      [
        {
          verbs: ['get', 'list', 'watch'],
          apiGroups: [''],
          resources: ['pods', 'services', 'endpoints', 'persistentvolumeclaims', 'configmaps'],
        },
      ],
      { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
    ),
  );
  sim.watch(
    T0,
    'ADDED',
    clusterRole('platform-operator', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], {
      team: 'platform',
    }),
  );
  sim.watch(
    T0,
    'ADDED',
    clusterRole('hetu-collector', [
      {
        verbs: ['get', 'list', 'watch'],
        apiGroups: [''],
        resources: [
          'pods',
          'nodes',
          'namespaces',
          'events',
          'services',
          'endpoints',
          'persistentvolumeclaims',
          'resourcequotas',
          'limitranges',
          'serviceaccounts',
        ],
      },
      { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
      {
        verbs: ['get', 'list', 'watch'],
        apiGroups: ['apps'],
        resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
      },
      { verbs: ['get', 'list', 'watch'], apiGroups: ['batch'], resources: ['jobs', 'cronjobs'] },
      {
        verbs: ['get', 'list', 'watch'],
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
      },
      { verbs: ['get', 'list', 'watch'], apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'] },
      {
        verbs: ['get', 'list', 'watch'],
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterroles', 'clusterrolebindings'],
      },
    ]),
  );
  const binding = (name: string, role: string, subjects: Json[]): Json => ({
    kind: 'ClusterRoleBinding',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name, uid: sim.uid(), resourceVersion: rv(), creationTimestamp: iso(created(14)) },
    subjects,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  });
  sim.watch(
    T0,
    'ADDED',
    binding('ci-deployer-cluster-admin', 'cluster-admin', [
      { kind: 'ServiceAccount', name: 'ci-deployer', namespace: 'platform' },
    ]),
  );
  sim.watch(
    T0,
    'ADDED',
    binding('hetu-collector', 'hetu-collector', [
      { kind: 'ServiceAccount', name: 'hetu', namespace: 'platform' },
    ]),
  );

  // -- namespaced policy objects -----------------------------------------------------------
  const meta = (ns: string, name: string, days: number, labels?: Record<string, string>): Json => ({
    name,
    namespace: ns,
    uid: sim.uid(),
    resourceVersion: rv(),
    creationTimestamp: iso(created(days)),
    ...(labels !== undefined ? { labels } : {}),
  });
  for (const [ns, sas] of [
    ['default', ['default']],
    ['kube-system', ['default', 'coredns', 'kube-proxy']],
    ['shop', ['default', 'api', 'checkout']],
    ['payments', ['default', 'ledger']],
    ['platform', ['default', 'ci-deployer', 'hetu', 'node-agent']],
  ] as const) {
    for (const sa of sas)
      sim.watch(T0, 'ADDED', { kind: 'ServiceAccount', apiVersion: 'v1', metadata: meta(ns, sa, 21) });
  }
  // NetworkPolicies: payments default-deny plus an allow from shop; shop one; platform and kube-system none.
  sim.watch(T0, 'ADDED', {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('payments', 'default-deny', 20),
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  });
  sim.watch(T0, 'ADDED', {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('payments', 'allow-shop-to-ledger', 20),
    spec: {
      podSelector: { matchLabels: { app: 'ledger' } },
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
      policyTypes: ['Ingress'],
    },
  });
  sim.watch(T0, 'ADDED', {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('shop', 'api-ingress', 20),
    spec: {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ ports: [{ protocol: 'TCP', port: 3000 }] }],
      policyTypes: ['Ingress'],
    },
  });
  // Quotas: shop and payments; LimitRange: payments only.
  for (const [ns, cpu, mem] of [
    ['shop', '16', '32Gi'],
    ['payments', '8', '16Gi'],
  ] as const) {
    sim.watch(T0, 'ADDED', {
      kind: 'ResourceQuota',
      apiVersion: 'v1',
      metadata: meta(ns, 'compute', 20),
      spec: { hard: { 'limits.memory': mem, pods: '50', 'requests.cpu': cpu, 'requests.memory': mem } },
      status: {
        hard: { 'limits.memory': mem, pods: '50', 'requests.cpu': cpu, 'requests.memory': mem },
        used:
          ns === 'shop'
            ? { 'limits.memory': '4864Mi', pods: '9', 'requests.cpu': '2100m', 'requests.memory': '3Gi' }
            : { 'limits.memory': '3Gi', pods: '3', 'requests.cpu': '1500m', 'requests.memory': '2560Mi' },
      },
    });
  }
  sim.watch(T0, 'ADDED', {
    kind: 'LimitRange',
    apiVersion: 'v1',
    metadata: meta('payments', 'defaults', 20),
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '512Mi' },
          defaultRequest: { cpu: '100m', memory: '128Mi' },
        },
      ],
    },
  });

  // -- workloads -----------------------------------------------------------------------------
  const svcPort = (s: AppSpec): number => s.port ?? 8080;
  const apps: AppSpec[] = [
    {
      ns: 'kube-system',
      name: 'coredns',
      kind: 'Deployment',
      replicas: 2,
      image: 'registry.k8s.io/coredns/coredns:v1.11.3',
      profile: { cpu: 0.008, memory: 22 * MI, lang: 'coredns', logEvery: 240 },
      nodes: ['node-1', 'node-2'],
      port: 53,
      cpuReq: '100m',
      memReq: '70Mi',
      memLim: '170Mi',
      serviceAccount: 'coredns',
      createdDaysAgo: 30,
      extraLabels: { 'k8s-app': 'kube-dns' },
      securityContext: {
        capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      },
    },
    {
      ns: 'kube-system',
      name: 'kube-proxy',
      kind: 'DaemonSet',
      replicas: 3,
      image: 'registry.k8s.io/kube-proxy:v1.31.4',
      profile: { cpu: 0.004, memory: 18 * MI, lang: 'none', logEvery: 0 },
      nodes,
      cpuReq: '100m',
      memReq: '64Mi',
      serviceAccount: 'kube-proxy',
      hostNetwork: true,
      securityContext: { privileged: true },
      createdDaysAgo: 30,
    },
    {
      ns: 'platform',
      name: 'node-agent',
      kind: 'DaemonSet',
      replicas: 3,
      image: 'registry.example.com/platform/node-agent:0.9.3',
      profile: { cpu: 0.02, memory: 48 * MI, lang: 'agent', logEvery: 300 },
      nodes,
      cpuReq: '50m',
      memReq: '64Mi',
      memLim: '128Mi',
      serviceAccount: 'node-agent',
      hostNetwork: true,
      securityContext: { privileged: true, runAsUser: 0 },
      createdDaysAgo: 14,
    },
    {
      ns: 'shop',
      name: 'api',
      kind: 'Deployment',
      replicas: 2,
      image: 'registry.example.com/shop/api:2.3.1',
      profile: { cpu: 0.18, memory: 180 * MI, lang: 'node', service: 'api', logEvery: 45 },
      nodes: ['node-1', 'node-2'],
      port: 3000,
      cpuReq: '250m',
      cpuLim: '1',
      memReq: '256Mi',
      memLim: '512Mi',
      serviceAccount: 'api',
      readiness: true,
      createdDaysAgo: 12,
      env: [
        { name: 'NODE_ENV', value: 'production' },
        { name: 'LEDGER_URL', value: 'http://ledger.payments.svc:8080' },
      ],
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    },
    {
      ns: 'shop',
      name: 'cart',
      kind: 'Deployment',
      replicas: 1,
      image: 'registry.example.com/shop/cart:3.0.7',
      profile: { cpu: 0.12, memory: 260 * MI, lang: 'java', service: 'cart', logEvery: 60, gc: 'jvm' },
      nodes: ['node-3'],
      port: 8080,
      cpuReq: '200m',
      cpuLim: '1',
      memReq: '384Mi',
      memLim: '512Mi',
      readiness: true,
      createdDaysAgo: 9,
      securityContext: { runAsUser: 0 },
    },
    {
      ns: 'shop',
      name: 'checkout',
      kind: 'Deployment',
      replicas: 2,
      image: 'registry.example.com/shop/checkout:v1.4.2',
      profile: { cpu: 0.09, memory: 64 * MI, lang: 'go', service: 'checkout', logEvery: 50, gc: 'go' },
      nodes: ['node-1', 'node-3'],
      port: 8080,
      cpuReq: '100m',
      cpuLim: '500m',
      memReq: '128Mi',
      memLim: '256Mi',
      serviceAccount: 'checkout',
      readiness: true,
      createdDaysAgo: 6,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false },
    },
    {
      ns: 'shop',
      name: 'search',
      kind: 'Deployment',
      replicas: 2,
      image: 'registry.example.com/shop/search:1.12.0',
      profile: { cpu: 0.3, memory: 300 * MI, lang: 'python', service: 'search', logEvery: 40 },
      nodes: ['node-2', 'node-3'],
      port: 8000,
      cpuReq: '500m',
      cpuLim: '1',
      memReq: '512Mi',
      memLim: '768Mi',
      readiness: true,
      createdDaysAgo: 11,
    },
    {
      ns: 'payments',
      name: 'ledger',
      kind: 'Deployment',
      replicas: 2,
      image: 'registry.example.com/payments/ledger:5.2.0',
      profile: { cpu: 0.22, memory: 420 * MI, lang: 'java', service: 'ledger', logEvery: 55, gc: 'jvm' },
      nodes: ['node-1', 'node-3'],
      port: 8080,
      cpuReq: '500m',
      cpuLim: '1',
      memReq: '768Mi',
      memLim: '1Gi',
      serviceAccount: 'ledger',
      readiness: true,
      createdDaysAgo: 8,
      env: [
        { name: 'SPRING_PROFILES_ACTIVE', value: 'prod' },
        { name: 'DB_HOST', value: 'ledger-db.payments.svc' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'ledger-db', key: 'password' } } },
      ],
    },
    {
      ns: 'payments',
      name: 'ledger-db',
      kind: 'StatefulSet',
      replicas: 1,
      image: 'docker.io/library/postgres:16.4',
      profile: { cpu: 0.15, memory: 900 * MI, lang: 'postgres', logEvery: 600 },
      nodes: ['node-3'],
      port: 5432,
      cpuReq: '500m',
      cpuLim: '2',
      memReq: '1Gi',
      memLim: '2Gi',
      createdDaysAgo: 20,
      pvc: 'data',
      env: [
        { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'ledger-db', key: 'password' } } },
        { name: 'PGDATA', value: '/var/lib/data/pgdata' },
      ],
    },
  ];

  const workloads = new Map<string, WorkloadSim>();
  const selectorLabels = (s: AppSpec): Record<string, string> => ({ app: s.name, ...(s.extraLabels ?? {}) });

  const workloadObject = (w: WorkloadSim, ts: number, status: Json): Json => {
    const s = w.spec;
    const generation = (w.obj['__generation'] as number | undefined) ?? 1;
    const template = podTemplate(w, (w.obj['__image'] as string | undefined) ?? s.image);
    const metadata: Json = {
      name: s.name,
      namespace: s.ns,
      uid: w.uid,
      resourceVersion: '',
      generation,
      creationTimestamp: iso(created(s.createdDaysAgo)),
      labels: { app: s.name },
    };
    if (s.kind === 'Deployment')
      metadata['annotations'] = { 'deployment.kubernetes.io/revision': String(generation) };
    const spec: Json = s.kind === 'DaemonSet' ? {} : { replicas: s.replicas };
    spec['selector'] = { matchLabels: selectorLabels(s) };
    spec['template'] = template;
    if (s.kind === 'Deployment') {
      spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      spec['revisionHistoryLimit'] = 10;
      spec['progressDeadlineSeconds'] = 600;
    } else if (s.kind === 'StatefulSet') {
      spec['serviceName'] = s.name;
      spec['podManagementPolicy'] = 'OrderedReady';
      spec['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      spec['volumeClaimTemplates'] = [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: '20Gi' } },
            storageClassName: 'standard-rwo',
            volumeMode: 'Filesystem',
          },
        },
      ];
      spec['revisionHistoryLimit'] = 10;
    } else {
      spec['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      spec['revisionHistoryLimit'] = 10;
    }
    void ts;
    return { kind: s.kind, apiVersion: 'apps/v1', metadata, spec, status };
  };

  const podTemplate = (w: WorkloadSim, image: string): Json => {
    const s = w.spec;
    const c = container(s, image);
    const cont: Json = { name: c.name, image: c.image };
    if (c.ports !== undefined) cont['ports'] = c.ports;
    if (c.env !== undefined) cont['env'] = c.env;
    cont['resources'] = c.resources;
    if (c.volumeMounts !== undefined) cont['volumeMounts'] = c.volumeMounts;
    if (c.livenessProbe !== undefined) cont['livenessProbe'] = c.livenessProbe;
    if (c.readinessProbe !== undefined) cont['readinessProbe'] = c.readinessProbe;
    cont['terminationMessagePath'] = '/dev/termination-log';
    cont['terminationMessagePolicy'] = 'File';
    cont['imagePullPolicy'] = 'IfNotPresent';
    if (c.securityContext !== undefined) cont['securityContext'] = c.securityContext;
    const spec: Json = {
      containers: [cont],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: s.hostNetwork === true ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
    };
    if (s.serviceAccount !== undefined) {
      spec['serviceAccountName'] = s.serviceAccount;
      spec['serviceAccount'] = s.serviceAccount;
    }
    if (s.hostNetwork === true) spec['hostNetwork'] = true;
    spec['securityContext'] = s.podSecurityContext ?? {};
    spec['schedulerName'] = 'default-scheduler';
    return { metadata: { creationTimestamp: null, labels: selectorLabels(s) }, spec };
  };

  const replicaSetObject = (
    w: WorkloadSim,
    rsName: string,
    rsUid: string,
    hash: string,
    image: string,
    revision: number,
    createdAt: number,
    replicas: number,
    ready: number,
  ): Json => {
    const tpl = podTemplate(w, image);
    (tpl['metadata'] as Json)['labels'] = { ...selectorLabels(w.spec), 'pod-template-hash': hash };
    return {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      metadata: {
        name: rsName,
        namespace: w.spec.ns,
        uid: rsUid,
        resourceVersion: '',
        generation: replicas === w.spec.replicas ? 1 : 2,
        creationTimestamp: iso(createdAt),
        labels: { ...selectorLabels(w.spec), 'pod-template-hash': hash },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(w.spec.replicas),
          'deployment.kubernetes.io/max-replicas': String(w.spec.replicas + 1),
          'deployment.kubernetes.io/revision': String(revision),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: w.spec.name,
            uid: w.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        selector: { matchLabels: { ...selectorLabels(w.spec), 'pod-template-hash': hash } },
        template: tpl,
      },
      status:
        ready > 0
          ? {
              replicas,
              fullyLabeledReplicas: replicas,
              readyReplicas: ready,
              availableReplicas: ready,
              observedGeneration: replicas === w.spec.replicas ? 1 : 2,
            }
          : { replicas, fullyLabeledReplicas: replicas, observedGeneration: 1 },
    };
  };

  const deploymentStatus = (
    w: WorkloadSim,
    replicas: number,
    updated: number,
    ready: number,
    conds: Json[],
  ): Json => {
    const generation = (w.obj['__generation'] as number | undefined) ?? 1;
    const st: Json = {
      observedGeneration: generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
    };
    if (replicas - ready > 0) st['unavailableReplicas'] = replicas - ready;
    st['conditions'] = conds;
    return st;
  };
  const depCond = (
    type: string,
    status: string,
    reason: string,
    message: string,
    update: number,
    transition: number,
  ): Json => ({
    type,
    status,
    lastUpdateTime: iso(update),
    lastTransitionTime: iso(transition),
    reason,
    message,
  });

  const newPod = (
    w: WorkloadSim,
    node: string,
    opts: {
      image?: string;
      hash?: string;
      rsName?: string;
      rsUid?: string;
      ordinal?: number;
      createdAt: number;
      profile?: Profile;
      spec?: AppSpec;
    },
  ): PodSim => {
    const s = opts.spec ?? w.spec;
    let name: string;
    let owner: PodSim['owner'];
    const labels: Record<string, string> = { ...selectorLabels(s) };
    if (s.kind === 'Deployment') {
      const hash = opts.hash ?? (w.hash as string);
      labels['pod-template-hash'] = hash;
      name = `${opts.rsName ?? w.rsName}-${sim.suffix(5)}`;
      owner = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: opts.rsName ?? (w.rsName as string),
        uid: opts.rsUid ?? (w.rsUid as string),
      };
    } else if (s.kind === 'StatefulSet') {
      name = `${s.name}-${opts.ordinal ?? 0}`;
      labels['apps.kubernetes.io/pod-index'] = String(opts.ordinal ?? 0);
      labels['controller-revision-hash'] = `${s.name}-${sim.hash()}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: s.name, uid: w.uid };
    } else {
      name = `${s.name}-${sim.suffix(5)}`;
      labels['controller-revision-hash'] = fakeDigest(s.name).slice(0, 10);
      labels['pod-template-generation'] = '1';
      owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: s.name, uid: w.uid };
    }
    const c = container(s, opts.image ?? s.image);
    const volumes: Json[] =
      s.pvc !== undefined
        ? [{ name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } }, API_ACCESS_VOLUME]
        : [API_ACCESS_VOLUME];
    const tolerations =
      s.kind === 'DaemonSet'
        ? [
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
          ]
        : DEFAULT_TOLERATIONS;
    return {
      ns: s.ns,
      name,
      uid: sim.uid(),
      created: opts.createdAt,
      app: s.name,
      labels,
      owner,
      node,
      containers: [c],
      status: [
        {
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
          ready: false,
          restartCount: 0,
          started: false,
        },
      ],
      phase: 'Pending',
      conditions: new Map(),
      serviceAccount: s.serviceAccount ?? 'default',
      hostNetwork: s.hostNetwork === true,
      podSecurityContext: s.podSecurityContext ?? {},
      volumes,
      tolerations,
      profile: opts.profile ?? s.profile,
      gone: false,
    };
  };

  /**
   * A new single-replica Deployment as the API shows it being created: the Deployment, its
   * ReplicaSet `rsDelay` ms later with the ScalingReplicaSet event, and a pod `podDelay` ms after
   * the Deployment with the SuccessfulCreate event. Returns the pod, not yet created.
   */
  const newDeploymentPod = (
    w: WorkloadSim,
    at: number,
    rsDelay: number,
    podDelay: number,
    node: string,
  ): PodSim => {
    const { spec } = w;
    const d0 = workloadObject(w, at, {});
    (d0['metadata'] as Json)['creationTimestamp'] = iso(at);
    sim.watch(at, 'ADDED', d0);
    sim.watch(
      at + rsDelay,
      'ADDED',
      replicaSetObject(w, w.rsName!, w.rsUid!, w.hash!, spec.image, 1, at + rsDelay, 1, 0),
    );
    sim.event(
      at + rsDelay,
      { kind: 'Deployment', apiVersion: 'apps/v1', ns: spec.ns, name: spec.name, uid: w.uid },
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${w.rsName} from 0 to 1`,
      { component: 'deployment-controller' },
    );
    const p = newPod(w, node, { createdAt: at + podDelay });
    sim.event(
      at + podDelay,
      { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns: spec.ns, name: w.rsName!, uid: w.rsUid! },
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${p.name}`,
      { component: 'replicaset-controller' },
    );
    return p;
  };

  /** An existing, healthy pod at T0 (created before the recording started). */
  const existingPod = (p: PodSim, createdAt: number): void => {
    p.created = createdAt;
    p.phase = 'Running';
    p.startTime = createdAt + 1500;
    p.podIP = p.hostNetwork ? undefined : sim.ip();
    sim.setCond(p, 'PodScheduled', 'True', createdAt);
    for (const k of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'])
      sim.setCond(p, k, 'True', createdAt + 5 * SEC);
    p.status = p.containers.map(() => ({
      state: { running: { startedAt: iso(createdAt + 3 * SEC) } },
      lastState: {},
      ready: true,
      restartCount: 0,
      started: true,
      containerID: `containerd://${sim.hex(64)}`,
      runningSince: T0 - 10 * MIN,
    }));
    sim.pods.set(`${p.ns}/${p.name}`, p);
    sim.watch(T0, 'ADDED', sim.podObject(p));
  };

  for (const s of apps) {
    const w: WorkloadSim = { spec: s, uid: sim.uid(), obj: {}, pods: [] };
    workloads.set(`${s.ns}/${s.name}`, w);
    const since = created(s.createdDaysAgo);
    let status: Json;
    if (s.kind === 'Deployment') {
      w.hash = sim.hash();
      w.rsName = `${s.name}-${w.hash}`;
      w.rsUid = sim.uid();
      status = deploymentStatus(w, s.replicas, s.replicas, s.replicas, [
        depCond(
          'Available',
          'True',
          'MinimumReplicasAvailable',
          'Deployment has minimum availability.',
          since + MIN,
          since + MIN,
        ),
        depCond(
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${w.rsName}" has successfully progressed.`,
          since + MIN,
          since,
        ),
      ]);
    } else if (s.kind === 'StatefulSet') {
      const rev = `${s.name}-${sim.hash()}`;
      status = {
        observedGeneration: 1,
        replicas: s.replicas,
        readyReplicas: s.replicas,
        currentReplicas: s.replicas,
        updatedReplicas: s.replicas,
        currentRevision: rev,
        updateRevision: rev,
        collisionCount: 0,
        availableReplicas: s.replicas,
      };
    } else {
      status = {
        currentNumberScheduled: 3,
        numberMisscheduled: 0,
        desiredNumberScheduled: 3,
        numberReady: 3,
        observedGeneration: 1,
        updatedNumberScheduled: 3,
        numberAvailable: 3,
      };
    }
    w.obj = { __generation: 1, __image: s.image };
    sim.watch(T0, 'ADDED', workloadObject(w, T0, status));
    if (s.kind === 'Deployment') {
      w.rsObj = replicaSetObject(
        w,
        w.rsName as string,
        w.rsUid as string,
        w.hash as string,
        s.image,
        1,
        since,
        s.replicas,
        s.replicas,
      );
      sim.watch(T0, 'ADDED', w.rsObj);
    }
    if (s.pvc !== undefined) {
      sim.watch(T0, 'ADDED', {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        metadata: {
          ...meta(s.ns, `data-${s.name}-0`, s.createdDaysAgo, { app: s.name }),
          annotations: {
            'pv.kubernetes.io/bind-completed': 'yes',
            'pv.kubernetes.io/bound-by-controller': 'yes',
            'volume.kubernetes.io/storage-provisioner': 'pd.csi.storage.gke.io',
          },
          finalizers: ['kubernetes.io/pvc-protection'],
        },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '20Gi' } },
          volumeName: `pvc-${sim.uid()}`,
          storageClassName: 'standard-rwo',
          volumeMode: 'Filesystem',
        },
        status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '20Gi' } },
      });
    }
    for (let i = 0; i < s.replicas; i++) {
      const p = newPod(w, s.nodes[i % s.nodes.length] as string, { ordinal: i, createdAt: since });
      existingPod(p, since + i * 7 * SEC + (s.kind === 'Deployment' ? 0 : 0));
      w.pods.push(p);
    }
    if (s.port !== undefined && s.kind !== 'DaemonSet') {
      const svc = {
        ns: s.ns,
        name: s.name,
        selector: selectorLabels(s),
        port: svcPort(s),
        uid: sim.uid(),
        created: since,
      };
      sim.services.set(`${s.ns}/${s.name}`, svc);
      const name = s.name === 'coredns' ? 'kube-dns' : s.name;
      const headless = s.kind === 'StatefulSet';
      const ip = headless ? 'None' : `10.96.${10 + apps.indexOf(s)}.${20 + apps.indexOf(s) * 3}`;
      sim.watch(T0, 'ADDED', {
        kind: 'Service',
        apiVersion: 'v1',
        metadata: {
          name,
          namespace: s.ns,
          uid: sim.uid(),
          resourceVersion: '',
          creationTimestamp: iso(since),
          labels: { app: s.name },
        },
        spec: {
          ports: [
            {
              name: s.name === 'coredns' ? 'dns' : 'http',
              protocol: s.name === 'coredns' ? 'UDP' : 'TCP',
              port: s.name === 'coredns' ? 53 : s.kind === 'StatefulSet' ? 5432 : 8080,
              targetPort: svcPort(s),
            },
          ],
          selector: selectorLabels(s),
          clusterIP: ip,
          clusterIPs: [ip],
          type: 'ClusterIP',
          sessionAffinity: 'None',
          ipFamilies: ['IPv4'],
          ipFamilyPolicy: 'SingleStack',
          internalTrafficPolicy: 'Cluster',
        },
        status: { loadBalancer: {} },
      });
      if (s.name === 'coredns') svc.name = 'kube-dns';
      const ep = sim.endpoints(svc);
      sim.watch(T0, 'ADDED', ep);
    }
  }
  // HPAs for shop/api and shop/search.
  const hpa = (name: string, min: number, max: number, current: number, replicas: number): Json => ({
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    metadata: meta('shop', name, 10),
    spec: {
      scaleTargetRef: { kind: 'Deployment', name, apiVersion: 'apps/v1' },
      minReplicas: min,
      maxReplicas: max,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
    status: {
      currentReplicas: replicas,
      desiredReplicas: replicas,
      currentMetrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            current: { averageValue: `${Math.round(current * 5)}m`, averageUtilization: current },
          },
        },
      ],
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          lastTransitionTime: iso(created(10)),
          reason: 'ReadyForNewScale',
          message: 'recommended size matches current size',
        },
        {
          type: 'ScalingActive',
          status: 'True',
          lastTransitionTime: iso(created(10)),
          reason: 'ValidMetricFound',
          message:
            'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
        },
        {
          type: 'ScalingLimited',
          status: 'False',
          lastTransitionTime: iso(created(10)),
          reason: 'DesiredWithinRange',
          message: 'the desired count is within the acceptable range',
        },
      ],
    },
  });
  sim.watch(T0, 'ADDED', hpa('api', 2, 6, 72, 2));
  const searchHpa = hpa('search', 2, 2, 60, 2);
  sim.watch(T0, 'ADDED', searchHpa);
  sim.watch(T0, 'ADDED', {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    metadata: { ...meta('platform', 'reports', 7), finalizers: ['kubernetes.io/pvc-protection'] },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
      volumeName: `pvc-${sim.uid()}`,
      storageClassName: 'standard-rwo',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } },
  });

  const W = (id: string): WorkloadSim => workloads.get(id) as WorkloadSim;
  const cart = W('shop/cart');
  const checkout = W('shop/checkout');
  const ledger = W('payments/ledger');
  const api = W('shop/api');
  const search = W('shop/search');

  // The CronJob platform/db-backup, every 30 min; each run is a Job with one pod that succeeds.
  const cronUid = sim.uid();
  const cronJob = (last?: number, lastOk?: number): Json => ({
    kind: 'CronJob',
    apiVersion: 'batch/v1',
    metadata: {
      name: 'db-backup',
      namespace: 'platform',
      uid: cronUid,
      resourceVersion: '',
      generation: 1,
      creationTimestamp: iso(created(7)),
      labels: { app: 'db-backup' },
    },
    spec: {
      schedule: '*/30 * * * *',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      jobTemplate: {
        metadata: { creationTimestamp: null },
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { creationTimestamp: null, labels: { app: 'db-backup' } },
            spec: {
              containers: [
                {
                  name: 'backup',
                  image: 'registry.example.com/platform/pg-backup:1.4.0',
                  args: ['--target', 'ledger-db.payments.svc'],
                  resources: { requests: { cpu: '100m', memory: '128Mi' } },
                  imagePullPolicy: 'IfNotPresent',
                },
              ],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    },
    status: {
      ...(last !== undefined ? { lastScheduleTime: iso(last) } : {}),
      ...(lastOk !== undefined ? { lastSuccessfulTime: iso(lastOk) } : {}),
    },
  });
  sim.watch(T0, 'ADDED', cronJob(T0 - 30 * MIN, T0 - 28 * MIN));
  const backupSpec: AppSpec = {
    ns: 'platform',
    name: 'db-backup',
    kind: 'Deployment',
    replicas: 1,
    image: 'registry.example.com/platform/pg-backup:1.4.0',
    profile: { cpu: 0.05, memory: 40 * MI, lang: 'none', logEvery: 0 },
    nodes: ['node-1'],
    cpuReq: '100m',
    memReq: '128Mi',
    createdDaysAgo: 7,
  };
  for (let t = T0 + 30 * MIN; t < END; t += 30 * MIN) {
    const jobName = `db-backup-${Math.floor(t / MIN)}`;
    const jobUid = sim.uid();
    const job = (done?: number): Json => ({
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: {
        name: jobName,
        namespace: 'platform',
        uid: jobUid,
        resourceVersion: '',
        generation: 1,
        creationTimestamp: iso(t),
        labels: {
          'batch.kubernetes.io/controller-uid': jobUid,
          'batch.kubernetes.io/job-name': jobName,
          'controller-uid': jobUid,
          'job-name': jobName,
        },
        annotations: {
          'batch.kubernetes.io/cronjob-scheduled-timestamp': iso(t),
          'batch.kubernetes.io/job-tracking': '',
        },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'db-backup',
            uid: cronUid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        parallelism: 1,
        completions: 1,
        activeDeadlineSeconds: 1800,
        backoffLimit: 2,
        completionMode: 'NonIndexed',
        suspend: false,
      },
      status:
        done === undefined
          ? { startTime: iso(t), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} }
          : {
              conditions: [
                {
                  type: 'SuccessCriteriaMet',
                  status: 'True',
                  lastProbeTime: iso(done),
                  lastTransitionTime: iso(done),
                  reason: 'CompletionsReached',
                  message: 'Reached expected number of succeeded pods',
                },
                {
                  type: 'Complete',
                  status: 'True',
                  lastProbeTime: iso(done),
                  lastTransitionTime: iso(done),
                  reason: 'CompletionsReached',
                  message: 'Reached expected number of succeeded pods',
                },
              ],
              startTime: iso(t),
              completionTime: iso(done),
              succeeded: 1,
              terminating: 0,
              uncountedTerminatedPods: {},
              ready: 0,
            },
    });
    sim.watch(t, 'ADDED', job());
    sim.watch(t + 5, 'MODIFIED', cronJob(t, t - 28 * MIN));
    sim.event(
      t,
      { kind: 'CronJob', apiVersion: 'batch/v1', ns: 'platform', name: 'db-backup', uid: cronUid },
      'Normal',
      'SuccessfulCreate',
      `Created job ${jobName}`,
      { component: 'cronjob-controller' },
    );
    const pod = newPod({ spec: backupSpec, uid: jobUid, obj: {}, pods: [] }, 'node-1', {
      createdAt: t + 40,
      spec: backupSpec,
    });
    pod.name = `${jobName}-${sim.suffix(5)}`;
    pod.owner = { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid };
    pod.labels = {
      'batch.kubernetes.io/controller-uid': jobUid,
      'batch.kubernetes.io/job-name': jobName,
      'controller-uid': jobUid,
      'job-name': jobName,
      app: 'db-backup',
    };
    pod.containers = [
      {
        name: 'backup',
        image: 'registry.example.com/platform/pg-backup:1.4.0',
        imageID: `registry.example.com/platform/pg-backup@sha256:${fakeDigest('pg-backup')}`,
        args: ['--target', 'ledger-db.payments.svc'],
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
      },
    ];
    sim.event(
      t + 40,
      { kind: 'Job', apiVersion: 'batch/v1', ns: 'platform', name: jobName, uid: jobUid },
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${pod.name}`,
      { component: 'job-controller' },
    );
    const started = sim.createPod(pod, t + 40);
    const logTimes = [started + 200, started + 1300, started + 47_000, started + 48_000];
    sim.log(
      logTimes[0] as number,
      pod,
      `{"level":"info","ts":"${isoMs(logTimes[0] as number)}","msg":"starting backup","target":"ledger-db.payments.svc","format":"custom"}`,
      'backup',
    );
    sim.log(
      logTimes[1] as number,
      pod,
      `{"level":"info","ts":"${isoMs(logTimes[1] as number)}","msg":"pg_dump running","database":"ledger"}`,
      'backup',
    );
    sim.log(
      logTimes[2] as number,
      pod,
      `{"level":"info","ts":"${isoMs(logTimes[2] as number)}","msg":"uploaded","object":"s3://hetu-demo-backups/ledger/${iso(t)}.dump","bytes":${183_000_000 + Math.floor(sim.rnd() * 4_000_000)}}`,
      'backup',
    );
    const done = started + 48_500;
    const s0 = pod.status[0] as CState;
    s0.state = {
      terminated: {
        exitCode: 0,
        reason: 'Completed',
        startedAt: iso(started - 150),
        finishedAt: iso(done),
        containerID: s0.containerID,
      },
    };
    s0.ready = false;
    s0.started = false;
    pod.phase = 'Succeeded';
    sim.setCond(pod, 'PodReadyToStartContainers', 'False', done + 900);
    sim.setCond(pod, 'Ready', 'False', done, 'PodCompleted');
    sim.setCond(pod, 'ContainersReady', 'False', done, 'PodCompleted');
    pod.gone = true;
    sim.emitPod(done, pod);
    sim.watch(done + 1000, 'MODIFIED', job(done + 1000));
    sim.event(
      done + 1000,
      { kind: 'Job', apiVersion: 'batch/v1', ns: 'platform', name: jobName, uid: jobUid },
      'Normal',
      'Completed',
      'Job completed',
      { component: 'job-controller' },
    );
    sim.event(
      done + 1100,
      { kind: 'CronJob', apiVersion: 'batch/v1', ns: 'platform', name: 'db-backup', uid: cronUid },
      'Normal',
      'SawCompletedJob',
      `Saw completed job: ${jobName}, condition: Complete`,
      { component: 'cronjob-controller' },
    );
    sim.watch(done + 1100, 'MODIFIED', cronJob(t, done + 1000));
  }

  // ---------------------------------------------------------------------------------------------
  // Scenario (a): memory leak in shop/cart, OOMKilled, then CrashLoopBackOff.
  const cartPod = cart.pods[0] as PodSim;
  const CART_LEAK_FROM = at(8, 10);
  const CART_LIMIT = 512 * MI;
  const cartOoms: number[] = [];
  {
    // First run: grows from 260 Mi at 08:10 to the limit at 08:31:40.
    let t = at(8, 31, 40);
    const runs: { start: number; end: number }[] = [{ start: CART_LEAK_FROM, end: t }];
    const backoffs = [10, 20, 40, 80, 160, 300, 300, 300, 300, 300, 300, 300];
    let i = 0;
    while (t < END) {
      cartOoms.push(t);
      sim.terminate(cartPod, 0, t, 137, 'OOMKilled');
      const delay = backoffs[Math.min(i, backoffs.length - 1)] as number;
      if (i === 0) {
        // The first restart is immediate: no back-off yet.
        sim.emitExited(cartPod, 0, t + 200);
        sim.restart(cartPod, 0, t + 1200);
        sim.emitPod(t + 1200, cartPod);
        sim.event(
          t + 1200,
          sim.podRef(cartPod, 'cart'),
          'Normal',
          'Pulled',
          'Container image "registry.example.com/shop/cart:3.0.7" already present on machine',
          { component: 'kubelet', host: 'node-3' },
        );
        sim.event(t + 1200, sim.podRef(cartPod, 'cart'), 'Normal', 'Created', 'Created container cart', {
          component: 'kubelet',
          host: 'node-3',
        });
        sim.event(t + 1350, sim.podRef(cartPod, 'cart'), 'Normal', 'Started', 'Started container cart', {
          component: 'kubelet',
          host: 'node-3',
        });
        sim.ready(cartPod, t + 25 * SEC);
      } else {
        const st = cartPod.status[0] as CState;
        st.state = {
          waiting: { reason: 'CrashLoopBackOff', message: sim.backOffMessage(cartPod, 0, delay) },
        };
        sim.emitPod(t + 900, cartPod);
        sim.emitEndpointsFor(cartPod, t + 900);
        sim.event(
          t + 900,
          sim.podRef(cartPod, 'cart'),
          'Warning',
          'BackOff',
          'Back-off restarting failed container cart in pod ' + `${cartPod.name}_shop(${cartPod.uid})`,
          { component: 'kubelet', host: 'node-3' },
        );
        const restartAt = t + delay * SEC;
        if (restartAt >= END) break;
        sim.restart(cartPod, 0, restartAt);
        sim.emitPod(restartAt, cartPod);
        sim.event(
          restartAt,
          sim.podRef(cartPod, 'cart'),
          'Normal',
          'Pulled',
          'Container image "registry.example.com/shop/cart:3.0.7" already present on machine',
          { component: 'kubelet', host: 'node-3' },
        );
        if (restartAt + 25 * SEC < END) sim.ready(cartPod, restartAt + 25 * SEC);
        t = restartAt;
      }
      if (i === 0) t += 1200;
      // Each later run leaks faster (a cache warmed from the persisted session store): 100 s to the limit.
      const end = t + 100 * SEC + sim.jitter(20 * SEC);
      runs.push({ start: t, end });
      t = end;
      i++;
    }
    cartPod.profile = { ...cartPod.profile };
    (cartPod as PodSim & { runs?: { start: number; end: number }[] }).runs = runs;
    // The kernel OOM killer's node events.
    for (const oom of cartOoms.slice(0, 3)) {
      sim.event(
        oom + 300,
        { kind: 'Node', apiVersion: 'v1', ns: null, name: 'node-3', uid: nodeUids.get('node-3') as string },
        'Warning',
        'OOMKilling',
        `Memory cgroup out of memory: Killed process ${2000 + Math.floor(sim.rnd() * 5000)} (java) total-vm:3894432kB, anon-rss:524288kB, file-rss:21504kB, shmem-rss:0kB, UID:0 pgtables:1660kB oom_score_adj:984`,
        { component: 'kernel-monitor', host: 'node-3' },
      );
    }
  }
  const cartMemory = (t: number): number | undefined => {
    const runs = (cartPod as PodSim & { runs?: { start: number; end: number }[] }).runs ?? [];
    if (t < CART_LEAK_FROM) return 255 * MI + sim.rnd() * 10 * MI;
    for (const r of runs) {
      if (t >= r.start && t < r.end) {
        const f = (t - r.start) / (r.end - r.start);
        const from = r.start === CART_LEAK_FROM ? 262 * MI : 210 * MI;
        return Math.min(
          CART_LIMIT - 2 * MI,
          from +
            (CART_LIMIT - from) * Math.pow(f, r.start === CART_LEAK_FROM ? 1.15 : 0.8) +
            sim.rnd() * 3 * MI,
        );
      }
    }
    return undefined;
  };

  // Scenario (b): bad rollout of shop/checkout v1.4.2 → v1.5.0 at 08:45.
  const ROLLOUT = at(8, 45);
  const newHash = sim.hash();
  const newRsName = `checkout-${newHash}`;
  const newRsUid = sim.uid();
  const newImage = 'registry.example.com/shop/checkout:v1.5.0';
  let checkoutNewPod: PodSim | undefined;
  {
    checkout.obj['__generation'] = 2;
    checkout.obj['__image'] = newImage;
    const since = created(6);
    sim.watch(
      ROLLOUT,
      'MODIFIED',
      workloadObject(
        checkout,
        ROLLOUT,
        deploymentStatus(checkout, 2, 0, 2, [
          depCond(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            since + MIN,
            since + MIN,
          ),
          depCond(
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `ReplicaSet "${checkout.rsName}" has successfully progressed.`,
            since + MIN,
            since,
          ),
        ]),
      ),
    );
    const rs = replicaSetObject(checkout, newRsName, newRsUid, newHash, newImage, 2, ROLLOUT + 30, 1, 0);
    sim.watch(ROLLOUT + 30, 'ADDED', rs);
    sim.event(
      ROLLOUT + 30,
      { kind: 'Deployment', apiVersion: 'apps/v1', ns: 'shop', name: 'checkout', uid: checkout.uid },
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${newRsName} from 0 to 1`,
      { component: 'deployment-controller' },
    );
    const progressing = (ts: number): Json =>
      deploymentStatus(checkout, 3, 1, 2, [
        depCond(
          'Available',
          'True',
          'MinimumReplicasAvailable',
          'Deployment has minimum availability.',
          since + MIN,
          since + MIN,
        ),
        depCond(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `ReplicaSet "${newRsName}" is progressing.`,
          ts,
          since,
        ),
      ]);
    sim.watch(ROLLOUT + 60, 'MODIFIED', workloadObject(checkout, ROLLOUT + 60, progressing(ROLLOUT + 60)));
    const p = newPod(checkout, 'node-3', {
      image: newImage,
      hash: newHash,
      rsName: newRsName,
      rsUid: newRsUid,
      createdAt: ROLLOUT + 50,
    });
    checkout.pods.push(p);
    checkoutNewPod = p;
    sim.event(
      ROLLOUT + 50,
      { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns: 'shop', name: newRsName, uid: newRsUid },
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${p.name}`,
      { component: 'replicaset-controller' },
    );
    sim.createPod(p, ROLLOUT + 50, { start: false });
    sim.event(ROLLOUT + 1500, sim.podRef(p, 'checkout'), 'Normal', 'Pulling', `Pulling image "${newImage}"`, {
      component: 'kubelet',
      host: 'node-3',
    });
    sim.event(
      ROLLOUT + 6200,
      sim.podRef(p, 'checkout'),
      'Normal',
      'Pulled',
      `Successfully pulled image "${newImage}" in 4.7s (4.7s including waiting). Image size: 21468711 bytes.`,
      { component: 'kubelet', host: 'node-3' },
    );
    // Starts, logs a few lines, panics on the first request that touches the new discount code path.
    let t = ROLLOUT + 6500;
    const backoffs = [0, 10, 20, 40, 80, 160, 300];
    for (let run = 0; t < END; run++) {
      if (run === 0) {
        sim.event(t, sim.podRef(p, 'checkout'), 'Normal', 'Created', 'Created container checkout', {
          component: 'kubelet',
          host: 'node-3',
        });
        sim.event(t + 120, sim.podRef(p, 'checkout'), 'Normal', 'Started', 'Started container checkout', {
          component: 'kubelet',
          host: 'node-3',
        });
        sim.runContainer(p, 0, t + 120);
        p.phase = 'Running';
        sim.setCond(p, 'PodReadyToStartContainers', 'True', t + 120);
      } else {
        sim.restart(p, 0, t);
      }
      sim.emitPod(t + 130, p);
      sim.log(
        t + 300,
        p,
        `time=${isoMs(t + 300)} level=info msg="starting checkout" version=v1.5.0 commit=9f3c2ab go=go1.23.4`,
      );
      sim.log(
        t + 320,
        p,
        `time=${isoMs(t + 320)} level=info msg="connected to payments" target=ledger.payments.svc:8080`,
      );
      sim.log(t + 340, p, `time=${isoMs(t + 340)} level=info msg="listening" addr=:8080`);
      const crash = t + 9000 + sim.jitter(6000);
      sim.log(
        crash - 5,
        p,
        `time=${isoMs(crash - 5)} level=info msg="request" method=POST path=/v1/checkout cart_id=c-${sim.hex(8)}`,
      );
      for (const line of goPanic()) sim.log(crash, p, line);
      sim.terminate(p, 0, crash + 20, 2, 'Error');
      if (run === 0) {
        sim.emitExited(p, 0, crash + 20);
        t = crash + 1100;
        continue;
      }
      const delay = backoffs[Math.min(run, backoffs.length - 1)] as number;
      (p.status[0] as CState).state = {
        waiting: { reason: 'CrashLoopBackOff', message: sim.backOffMessage(p, 0, delay) },
      };
      sim.emitPod(crash + 900, p);
      sim.event(
        crash + 900,
        sim.podRef(p, 'checkout'),
        'Warning',
        'BackOff',
        `Back-off restarting failed container checkout in pod ${p.name}_shop(${p.uid})`,
        { component: 'kubelet', host: 'node-3' },
      );
      t = crash + delay * SEC;
    }
    // progressDeadlineSeconds (600) passes without progress.
    const DEADLINE = ROLLOUT + 600 * SEC + 1000;
    sim.watch(
      DEADLINE,
      'MODIFIED',
      workloadObject(
        checkout,
        DEADLINE,
        deploymentStatus(checkout, 3, 1, 2, [
          depCond(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            since + MIN,
            since + MIN,
          ),
          depCond(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            `ReplicaSet "${newRsName}" has timed out progressing.`,
            DEADLINE,
            DEADLINE,
          ),
        ]),
      ),
    );
  }

  // Scenario (c): payments/ledger goes unhealthy 09:00 (thread pool exhausted), readiness fails,
  // then liveness, restarts, CrashLoopBackOff; shop/api fails calling ledger.payments.svc; recovers 09:20.
  const LEDGER_DOWN = at(9, 0);
  const LEDGER_UP = at(9, 20);
  const ledgerDown = (t: number): boolean => t >= LEDGER_DOWN && t < LEDGER_UP;
  {
    for (const [k, p] of ledger.pods.entries()) {
      const t0 = LEDGER_DOWN + k * 4000;
      sim.log(
        t0 - 20_000,
        p,
        `${javaTs(t0 - 20_000)}  WARN 1 --- [ledger] [pool-2-thread-1] c.e.p.ledger.PostingService           : posting queue depth 1843 above high-water mark 1000`,
      );
      sim.log(
        t0,
        p,
        `${javaTs(t0)} ERROR 1 --- [ledger] [nio-8080-exec-9] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception`,
      );
      for (const l of javaTrace(
        'java.util.concurrent.RejectedExecutionException: Task java.util.concurrent.FutureTask@5b2c9e1d rejected from java.util.concurrent.ThreadPoolExecutor@3f4a7c21[Running, pool size = 200, active threads = 200, queued tasks = 5000, completed tasks = 1882211]',
        [
          'java.base/java.util.concurrent.ThreadPoolExecutor$AbortPolicy.rejectedExecution(ThreadPoolExecutor.java:2081)',
          'java.base/java.util.concurrent.ThreadPoolExecutor.reject(ThreadPoolExecutor.java:841)',
          'java.base/java.util.concurrent.ThreadPoolExecutor.execute(ThreadPoolExecutor.java:1376)',
          'com.example.payments.ledger.PostingService.submit(PostingService.java:88)',
          'com.example.payments.ledger.LedgerController.post(LedgerController.java:57)',
        ],
      ))
        sim.log(t0 + 1, p, l);
      // Readiness fails from 09:00:15, three failures in a row make it unready.
      for (let t = t0 + 15_000; t < t0 + 5 * MIN; t += 5000) {
        sim.event(
          t,
          sim.podRef(p, 'ledger'),
          'Warning',
          'Unhealthy',
          'Readiness probe failed: Get "http://' +
            p.podIP +
            ':8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
          { component: 'kubelet', host: p.node },
        );
      }
      sim.ready(p, t0 + 25_000, false);
      // Liveness fails three times (period 10 s), the kubelet kills the container: exit 143.
      for (const [restart, killAt] of [at(9, 3, 10), at(9, 6, 40), at(9, 9, 55), at(9, 13, 30)].entries()) {
        const kill = killAt + k * 4000;
        for (let f = 0; f < 3; f++) {
          sim.event(
            kill - (3 - f) * 10_000,
            sim.podRef(p, 'ledger'),
            'Warning',
            'Unhealthy',
            `Liveness probe failed: Get "http://${p.podIP}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
            { component: 'kubelet', host: p.node },
          );
        }
        sim.event(
          kill,
          sim.podRef(p, 'ledger'),
          'Normal',
          'Killing',
          'Container ledger failed liveness probe, will be restarted',
          { component: 'kubelet', host: p.node },
        );
        sim.terminate(p, 0, kill + 30_000, 143, 'Error');
        const delay = [0, 10, 20, 40][restart] as number;
        if (restart === 0) sim.emitExited(p, 0, kill + 30_000);
        else {
          (p.status[0] as CState).state = {
            waiting: { reason: 'CrashLoopBackOff', message: sim.backOffMessage(p, 0, delay) },
          };
          sim.emitPod(kill + 30_500, p);
          sim.event(
            kill + 30_500,
            sim.podRef(p, 'ledger'),
            'Warning',
            'BackOff',
            `Back-off restarting failed container ledger in pod ${p.name}_payments(${p.uid})`,
            { component: 'kubelet', host: p.node },
          );
        }
        const re = kill + 30_000 + delay * SEC + 1000;
        sim.restart(p, 0, re);
        sim.emitPod(re, p);
        sim.log(
          re + 2000,
          p,
          `${javaTs(re + 2000)}  INFO 1 --- [ledger] [           main] c.e.payments.ledger.LedgerApplication    : Starting LedgerApplication v5.2.0 using Java 21.0.5 with PID 1`,
        );
        sim.log(
          re + 9000,
          p,
          `${javaTs(re + 9000)}  INFO 1 --- [ledger] [           main] c.e.payments.ledger.LedgerApplication    : Started LedgerApplication in 6.912 seconds (process running for 7.4)`,
        );
        sim.log(
          re + 12_000,
          p,
          `${javaTs(re + 12_000)}  WARN 1 --- [ledger] [pool-2-thread-4] c.e.p.ledger.PostingService           : replaying 5000 queued postings from journal`,
        );
        if (re + 20_000 < LEDGER_UP) {
          sim.log(
            re + 20_000,
            p,
            `${javaTs(re + 20_000)} ERROR 1 --- [ledger] [pool-2-thread-4] c.e.p.ledger.PostingService           : posting worker stalled: lock wait timeout on account 4411-0093 after 15000 ms`,
          );
        }
      }
      // The fix lands (journal drained): ready again at 09:20.
      sim.log(
        LEDGER_UP - 1000,
        p,
        `${javaTs(LEDGER_UP - 1000)}  INFO 1 --- [ledger] [pool-2-thread-4] c.e.p.ledger.PostingService           : journal replay complete, queue depth 0`,
      );
      sim.ready(p, LEDGER_UP + k * 4000, true);
    }
    // Callers: shop/api.
    for (const p of api.pods) {
      for (
        let t = LEDGER_DOWN + 20_000 + sim.jitter(3000);
        t < LEDGER_UP + 10_000;
        t += 6000 + sim.jitter(9000)
      ) {
        const refused = t > at(9, 3, 40);
        const line = refused
          ? `{"level":50,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","err":{"type":"Error","message":"connect ECONNREFUSED 10.96.17.41:8080","stack":"Error: connect ECONNREFUSED 10.96.17.41:8080\\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)","errno":-111,"code":"ECONNREFUSED","syscall":"connect","address":"10.96.17.41","port":8080},"msg":"ledger call failed: POST http://ledger.payments.svc:8080/v1/postings"}`
          : `{"level":50,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","err":{"type":"TimeoutError","message":"The operation was aborted due to timeout","stack":"TimeoutError: The operation was aborted due to timeout\\n    at new DOMException (node:internal/per_context/domexception:53:5)\\n    at AbortSignal.timeout (node:internal/abort_controller:141:14)\\n    at LedgerClient.post (/app/dist/clients/ledger.js:41:27)","name":"TimeoutError","code":23},"msg":"ledger call failed: POST http://ledger.payments.svc:8080/v1/postings timed out after 5000ms"}`;
        sim.log(t, p, line);
      }
    }
  }

  // Scenario (d): image pull error — shop/recommender created at 09:25 with a tag that does not exist.
  const PULL = at(9, 25);
  {
    const spec: AppSpec = {
      ns: 'shop',
      name: 'recommender',
      kind: 'Deployment',
      replicas: 1,
      image: 'registry.example.com/shop/recommender:2.0.0-rc1',
      profile: { cpu: 0.1, memory: 100 * MI, lang: 'python', logEvery: 0 },
      nodes: ['node-1'],
      port: 8080,
      cpuReq: '100m',
      cpuLim: '500m',
      memReq: '256Mi',
      memLim: '512Mi',
      readiness: true,
      createdDaysAgo: 0,
    };
    const w: WorkloadSim = { spec, uid: sim.uid(), obj: { __generation: 1, __image: spec.image }, pods: [] };
    w.hash = sim.hash();
    w.rsName = `recommender-${w.hash}`;
    w.rsUid = sim.uid();
    const depCreated = (s: number): Json => {
      const o = workloadObject(
        w,
        s,
        deploymentStatus(w, 1, 1, 0, [
          depCond(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            s,
            s,
          ),
          depCond(
            'Progressing',
            'True',
            'ReplicaSetUpdated',
            `ReplicaSet "${w.rsName}" is progressing.`,
            s,
            s,
          ),
        ]),
      );
      (o['metadata'] as Json)['creationTimestamp'] = iso(PULL);
      return o;
    };
    const p = newDeploymentPod(w, PULL, 20, 40, 'node-1');
    sim.createPod(p, PULL + 40, { start: false });
    sim.watch(PULL + 100, 'MODIFIED', depCreated(PULL + 100));
    const img = spec.image;
    const failMsg = `Failed to pull image "${img}": Error response from daemon: manifest for ${img} not found: manifest unknown: manifest unknown`;
    let t = PULL + 1500;
    const backs = [10, 20, 40, 80, 160, 300];
    for (let n = 0; t < END; n++) {
      sim.event(t, sim.podRef(p, 'recommender'), 'Normal', 'Pulling', `Pulling image "${img}"`, {
        component: 'kubelet',
        host: 'node-1',
      });
      sim.event(t + 900, sim.podRef(p, 'recommender'), 'Warning', 'Failed', failMsg, {
        component: 'kubelet',
        host: 'node-1',
      });
      sim.event(t + 900, sim.podRef(p, 'recommender'), 'Warning', 'Failed', 'Error: ErrImagePull', {
        component: 'kubelet',
        host: 'node-1',
      });
      (p.status[0] as CState).state = {
        waiting: {
          reason: 'ErrImagePull',
          message: `manifest for ${img} not found: manifest unknown: manifest unknown`,
        },
      };
      sim.emitPod(t + 950, p);
      const back = backs[Math.min(n, backs.length - 1)] as number;
      (p.status[0] as CState).state = {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${img}"` },
      };
      sim.emitPod(t + 2000, p);
      sim.event(
        t + 2000,
        sim.podRef(p, 'recommender'),
        'Normal',
        'BackOff',
        `Back-off pulling image "${img}"`,
        { component: 'kubelet', host: 'node-1' },
      );
      sim.event(t + 2000, sim.podRef(p, 'recommender'), 'Warning', 'Failed', 'Error: ImagePullBackOff', {
        component: 'kubelet',
        host: 'node-1',
      });
      t += 2000 + back * SEC;
    }
    const progressDeadline = PULL + 600 * SEC + 200;
    const dl = workloadObject(
      w,
      progressDeadline,
      deploymentStatus(w, 1, 1, 0, [
        depCond(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
          PULL + 100,
          PULL + 100,
        ),
        depCond(
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${w.rsName}" has timed out progressing.`,
          progressDeadline,
          progressDeadline,
        ),
      ]),
    );
    (dl['metadata'] as Json)['creationTimestamp'] = iso(PULL);
    sim.watch(progressDeadline, 'MODIFIED', dl);
  }

  // Scenario (e): unschedulable — platform/report-builder asks for 20 GiB at 09:30.
  const UNSCHED = at(9, 30);
  {
    const spec: AppSpec = {
      ns: 'platform',
      name: 'report-builder',
      kind: 'Deployment',
      replicas: 1,
      image: 'registry.example.com/platform/report-builder:0.4.1',
      profile: { cpu: 0, memory: 0, lang: 'none', logEvery: 0 },
      nodes: ['node-1'],
      cpuReq: '2',
      memReq: '20Gi',
      memLim: '20Gi',
      createdDaysAgo: 0,
    };
    const w: WorkloadSim = { spec, uid: sim.uid(), obj: { __generation: 1, __image: spec.image }, pods: [] };
    w.hash = sim.hash();
    w.rsName = `report-builder-${w.hash}`;
    w.rsUid = sim.uid();
    const p = newDeploymentPod(w, UNSCHED, 25, 45, 'node-1');
    p.node = undefined;
    sim.createPod(p, UNSCHED + 45, { schedule: false });
    const msg =
      '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    sim.setCond(p, 'PodScheduled', 'False', UNSCHED + 60, 'Unschedulable', msg);
    sim.emitPod(UNSCHED + 60, p);
    for (let t = UNSCHED + 60; t < END; t += 5 * MIN) {
      sim.event(t, sim.podRef(p), 'Warning', 'FailedScheduling', msg, { component: 'default-scheduler' });
    }
  }

  // Scenario (f): node-2 stops posting status at 09:35 (Ready → Unknown); its pods go unready,
  // are marked for deletion after 300 s and replaced elsewhere; the node returns at 09:50.
  const NODE_DOWN = at(9, 35);
  const NODE_UNKNOWN = NODE_DOWN + 40 * SEC;
  const NODE_BACK = at(9, 50);
  const node2Down = (t: number): boolean => t >= NODE_DOWN && t < NODE_BACK;
  {
    const unknownReady = {
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      at: NODE_UNKNOWN,
    };
    const taints = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: iso(NODE_UNKNOWN) },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(NODE_UNKNOWN + 100) },
    ];
    sim.watch(NODE_UNKNOWN, 'MODIFIED', nodeObject('node-2', unknownReady, [], NODE_DOWN - 10 * SEC));
    sim.watch(
      NODE_UNKNOWN + 100,
      'MODIFIED',
      nodeObject('node-2', unknownReady, taints, NODE_DOWN - 10 * SEC),
    );
    const n2 = {
      kind: 'Node',
      apiVersion: 'v1',
      ns: null,
      name: 'node-2',
      uid: nodeUids.get('node-2') as string,
    };
    sim.event(NODE_UNKNOWN, n2, 'Normal', 'NodeNotReady', 'Node node-2 status is now: NodeNotReady', {
      component: 'node-controller',
    });
    const onNode2 = [...sim.pods.values()].filter(
      (p) => p.node === 'node-2' && !p.gone && p.phase === 'Running',
    );
    for (const p of onNode2) {
      sim.setCond(p, 'Ready', 'False', NODE_UNKNOWN + 200);
      for (const s of p.status) s.ready = false;
      sim.emitPod(NODE_UNKNOWN + 200, p);
      sim.event(NODE_UNKNOWN + 200, sim.podRef(p), 'Warning', 'NodeNotReady', 'Node is not ready', {
        component: 'node-controller',
      });
      sim.emitEndpointsFor(p, NODE_UNKNOWN + 300);
    }
    // NoExecute after tolerationSeconds 300: controller-owned pods (not DaemonSet) are deleted.
    const EVICT = NODE_UNKNOWN + 100 + 300 * SEC;
    for (const p of onNode2) {
      if (p.owner?.kind === 'DaemonSet') continue;
      sim.event(
        EVICT,
        sim.podRef(p),
        'Normal',
        'TaintManagerEviction',
        `Marking for deletion Pod ${p.ns}/${p.name}`,
        { component: 'taint-eviction-controller' },
      );
      p.deletion = EVICT;
      sim.setCond(
        p,
        'DisruptionTarget',
        'True',
        EVICT,
        'DeletionByTaintManager',
        'Taint manager: deleting due to NoExecute taint',
      );
      sim.emitPod(EVICT, p);
      // A replacement on another node.
      const w = [...workloads.values()].find((x) => x.pods.includes(p));
      if (w === undefined || w.spec.kind !== 'Deployment') continue;
      const target = p.app === 'search' ? 'node-1' : 'node-3';
      const isNew = p.labels['pod-template-hash'] !== w.hash;
      const q = newPod(
        w,
        target,
        isNew
          ? { image: newImage, hash: newHash, rsName: newRsName, rsUid: newRsUid, createdAt: EVICT + 200 }
          : { createdAt: EVICT + 200 },
      );
      w.pods.push(q);
      sim.event(
        EVICT + 200,
        {
          kind: 'ReplicaSet',
          apiVersion: 'apps/v1',
          ns: p.ns,
          name: q.owner?.name as string,
          uid: q.owner?.uid as string,
        },
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${q.name}`,
        { component: 'replicaset-controller' },
      );
      if (isNew) {
        // The checkout v1.5.0 replacement crash-loops like its predecessor (kept simple: it stays waiting).
        sim.createPod(q, EVICT + 200, { start: false });
        (q.status[0] as CState).state = {
          waiting: { reason: 'CrashLoopBackOff', message: sim.backOffMessage(q, 0, 10) },
        };
        (q.status[0] as CState).restartCount = 1;
        (q.status[0] as CState).lastState = {
          terminated: {
            exitCode: 2,
            reason: 'Error',
            startedAt: iso(EVICT + 6000),
            finishedAt: iso(EVICT + 16_000),
            containerID: `containerd://${sim.hex(64)}`,
          },
        };
        (q.status[0] as CState).containerID = `containerd://${sim.hex(64)}`;
        q.phase = 'Running';
        sim.emitPod(EVICT + 17_000, q);
        for (const line of goPanic()) sim.log(EVICT + 16_000, q, line);
        q.profile = { ...q.profile, cpu: 0, memory: 0, lang: 'none' };
        (q as PodSim & { dead?: boolean }).dead = true;
        continue;
      }
      const running = sim.createPod(q, EVICT + 200);
      sim.ready(q, running + 8000);
    }
    // The node returns: Ready True, taints removed, terminating pods finish deleting.
    const back = {
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
      at: NODE_BACK,
    };
    sim.watch(NODE_BACK, 'MODIFIED', nodeObject('node-2', back, [], NODE_BACK));
    sim.event(NODE_BACK, n2, 'Normal', 'NodeReady', 'Node node-2 status is now: NodeReady', {
      component: 'kubelet',
      host: 'node-2',
    });
    for (const p of onNode2) {
      if (p.deletion !== undefined) {
        p.gone = true;
        sim.emitPod(NODE_BACK + 2000, p, 'MODIFIED');
        sim.emitPod(NODE_BACK + 2500, p, 'DELETED');
        sim.emitEndpointsFor(p, NODE_BACK + 2600);
      } else {
        for (const s of p.status) s.ready = true;
        sim.refreshReady(p, NODE_BACK + 3000);
        sim.emitPod(NODE_BACK + 3000, p);
        sim.emitEndpointsFor(p, NODE_BACK + 3000);
      }
    }
  }

  // Scenario (g): platform/notifier created at 09:52 without SMTP_HOST: exits 1 at start.
  const NOTIFIER = at(9, 52);
  {
    const spec: AppSpec = {
      ns: 'platform',
      name: 'notifier',
      kind: 'Deployment',
      replicas: 1,
      image: 'registry.example.com/platform/notifier:1.0.0',
      profile: { cpu: 0, memory: 0, lang: 'none', logEvery: 0 },
      nodes: ['node-3'],
      port: 8080,
      cpuReq: '50m',
      memReq: '64Mi',
      memLim: '128Mi',
      createdDaysAgo: 0,
      env: [
        { name: 'SMTP_PORT', value: '587' },
        { name: 'SMTP_PASSWORD', valueFrom: { secretKeyRef: { name: 'smtp', key: 'password' } } },
      ],
    };
    const w: WorkloadSim = { spec, uid: sim.uid(), obj: { __generation: 1, __image: spec.image }, pods: [] };
    w.hash = sim.hash();
    w.rsName = `notifier-${w.hash}`;
    w.rsUid = sim.uid();
    const p = newDeploymentPod(w, NOTIFIER, 20, 40, 'node-3');
    let t = sim.createPod(p, NOTIFIER + 40);
    const backs = [0, 10, 20, 40, 80, 160, 300];
    for (let run = 0; t < END; run++) {
      if (run > 0) {
        sim.restart(p, 0, t);
        sim.emitPod(t, p);
      }
      sim.log(t + 400, p, `${pyTs(t + 400)} INFO notifier.main: starting notifier 1.0.0 (python 3.12.7)`);
      sim.log(t + 420, p, `${pyTs(t + 420)} CRITICAL notifier.config: FATAL missing required env SMTP_HOST`);
      sim.log(t + 421, p, 'Traceback (most recent call last):');
      sim.log(t + 421, p, '  File "/app/notifier/main.py", line 14, in <module>');
      sim.log(t + 421, p, '    settings = load_settings()');
      sim.log(t + 421, p, '  File "/app/notifier/config.py", line 31, in load_settings');
      sim.log(t + 421, p, '    raise ConfigError("missing required env SMTP_HOST")');
      sim.log(t + 421, p, 'notifier.config.ConfigError: missing required env SMTP_HOST');
      const exit = t + 600;
      sim.terminate(p, 0, exit, 1, 'Error');
      const delay = backs[Math.min(run + 1, backs.length - 1)] as number;
      if (run === 0) {
        sim.emitExited(p, 0, exit);
        t = exit + 1000;
        continue;
      }
      (p.status[0] as CState).state = {
        waiting: { reason: 'CrashLoopBackOff', message: sim.backOffMessage(p, 0, delay) },
      };
      sim.emitPod(exit + 800, p);
      sim.event(
        exit + 800,
        sim.podRef(p, 'notifier'),
        'Warning',
        'BackOff',
        `Back-off restarting failed container notifier in pod ${p.name}_platform(${p.uid})`,
        { component: 'kubelet', host: 'node-3' },
      );
      t = exit + delay * SEC;
    }
  }

  // Scenario (h): an error storm in shop/search 09:55–09:59: traffic ×5, CPU at the limit, timeouts.
  const STORM_FROM = at(9, 55);
  const STORM_TO = at(9, 59, 30);
  const storm = (t: number): boolean => t >= STORM_FROM && t < STORM_TO;
  {
    const alive = (): PodSim[] => search.pods.filter((p) => !p.gone && p.deletion === undefined);
    let n = 0;
    for (let t = STORM_FROM + 2000; t < STORM_TO; t += 400 + sim.jitter(700)) {
      const pods = alive();
      const p = pods[n++ % pods.length] as PodSim;
      const kind = sim.rnd();
      if (kind < 0.55) {
        sim.log(
          t,
          p,
          `${pyTs(t)} ERROR search.api: query failed q="${pick(sim, QUERIES)}" took_ms=${5000 + Math.floor(sim.rnd() * 40)} error="upstream timed out after 5000 ms (search-index.shop.svc:9200)"`,
        );
      } else if (kind < 0.8) {
        sim.log(t, p, `${pyTs(t)} ERROR search.api: Exception on /v1/search [GET]`);
        for (const l of [
          'Traceback (most recent call last):',
          '  File "/usr/local/lib/python3.12/site-packages/urllib3/connectionpool.py", line 536, in _make_request',
          '    response = conn.getresponse()',
          '  File "/app/search/engine.py", line 88, in query',
          '    resp = self.session.post(self.url, json=body, timeout=5)',
          "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='search-index.shop.svc', port=9200): Read timed out. (read timeout=5)",
        ])
          sim.log(t, p, l);
      } else {
        sim.log(
          t,
          p,
          `{"level":"warning","logger":"gunicorn.error","ts":"${isoMs(t)}","msg":"WORKER TIMEOUT (pid:${40 + Math.floor(sim.rnd() * 30)})"}`,
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Background: metrics every 30 s and healthy logs.
  const services = ['api', 'cart', 'checkout', 'search', 'ledger'];
  const wave = (t: number): number => 1 + 0.15 * Math.sin(((t - T0) / (60 * MIN)) * Math.PI * 2);
  for (let t = T0 + 30 * SEC; t <= END; t += 30 * SEC) {
    const n = (k: number): number => 1 + (sim.rnd() - 0.5) * k;
    for (const node of nodes) {
      if (node === 'node-2' && node2Down(t)) continue;
      const base = node === 'node-3' ? 0.46 : node === 'node-1' ? 0.38 : 0.33;
      sim.metric(
        t,
        'node_cpu_utilisation',
        { node },
        round4(base * wave(t) * n(0.08) + (storm(t) && node !== 'node-1' ? 0.2 : 0)),
      );
      sim.metric(t, 'node_memory_utilisation', { node }, round4((node === 'node-3' ? 0.62 : 0.51) * n(0.02)));
    }
    for (const p of [...sim.pods.values()]) {
      if (p.gone || p.node === undefined || p.phase !== 'Running') continue;
      if (p.node === 'node-2' && node2Down(t)) continue;
      if ((p as PodSim & { dead?: boolean }).dead === true) continue;
      if (p.profile.cpu === 0) continue;
      if (p.startTime === undefined || t < p.startTime + 5 * SEC) continue;
      if (p.deletion !== undefined && t >= p.deletion) continue;
      if (p === checkoutNewPod) continue;
      const c = p.containers[0] as Container;
      const labels = { namespace: p.ns, pod: p.name, container: c.name };
      let cpu = p.profile.cpu * wave(t) * n(0.2);
      let mem = p.profile.memory * n(0.02);
      let throttled = 0.01 * n(1);
      if (p === cartPod) {
        const m = cartMemory(t);
        if (m === undefined) continue;
        mem = m;
      }
      if (p.app === 'ledger' && ledgerDown(t)) {
        cpu = 0.95 * n(0.05);
        throttled = 0.35 * n(0.2);
        mem = 0.93 * GI * n(0.02);
      }
      if (p.app === 'search' && storm(t)) {
        cpu = 0.99 * n(0.01);
        throttled = 0.62 * n(0.1);
      }
      sim.metric(t, 'cpu_usage_cores', labels, round4(cpu));
      sim.metric(t, 'memory_working_set_bytes', labels, Math.round(mem));
      sim.metric(t, 'cpu_throttled_ratio', labels, round4(Math.min(1, throttled)));
      if (p.profile.gc !== undefined) {
        const pause =
          p.profile.gc === 'go'
            ? 0.0004 * n(0.4)
            : p === cartPod && t > CART_LEAK_FROM
              ? 0.02 + 0.35 * Math.max(0, (mem - 300 * MI) / (CART_LIMIT - 300 * MI))
              : 0.012 * n(0.3);
        sim.metric(
          t,
          'gc_pause_seconds',
          { namespace: p.ns, pod: p.name, runtime: p.profile.gc },
          round4(pause),
        );
      }
    }
    for (const s of services) {
      const ns = s === 'ledger' ? 'payments' : 'shop';
      let rate = { api: 42, cart: 18, checkout: 6, search: 25, ledger: 9 }[s] as number;
      let err = 0.002;
      let p95 = { api: 0.12, cart: 0.05, checkout: 0.09, search: 0.18, ledger: 0.04 }[s] as number;
      if (s === 'search' && storm(t)) {
        rate *= 5;
        err = 0.31;
        p95 = 4.8;
      }
      if ((s === 'ledger' || s === 'api') && ledgerDown(t)) {
        err = s === 'ledger' ? 0.64 : 0.22;
        p95 = s === 'ledger' ? 5 : 2.6;
      }
      if (s === 'cart' && cartOoms.some((o) => o <= t)) {
        err = 0.05;
      }
      if (s === 'checkout' && t > ROLLOUT + 7000) err = 0.004;
      sim.metric(t, 'http_request_rate', { namespace: ns, service: s }, round4(rate * wave(t) * n(0.1)));
      sim.metric(t, 'http_error_ratio', { namespace: ns, service: s }, round4(err * n(0.3)));
      sim.metric(t, 'http_p95_latency_seconds', { namespace: ns, service: s }, round4(p95 * n(0.15)));
    }
    const used = 6.2 * GI + ((t - T0) / DEMO_DURATION_MS) * 0.4 * GI;
    sim.metric(
      t,
      'pvc_used_bytes',
      { namespace: 'payments', persistentvolumeclaim: 'data-ledger-db-0' },
      Math.round(used),
    );
    sim.metric(
      t,
      'pvc_capacity_bytes',
      { namespace: 'payments', persistentvolumeclaim: 'data-ledger-db-0' },
      20 * GI,
    );
    sim.metric(
      t,
      'pvc_used_bytes',
      { namespace: 'platform', persistentvolumeclaim: 'reports' },
      Math.round(1.1 * GI),
    );
    sim.metric(t, 'pvc_capacity_bytes', { namespace: 'platform', persistentvolumeclaim: 'reports' }, 5 * GI);
    sim.metric(t, 'coredns_nxdomain_ratio', {}, round4(0.031 * n(0.2)));
    sim.metric(t, 'coredns_cache_hit_ratio', {}, round4(0.87 * n(0.03)));
  }

  // Healthy background logs, by language.
  for (const p of [...sim.pods.values()]) {
    if (p.profile.logEvery <= 0) continue;
    for (
      let t = T0 + sim.jitter(p.profile.logEvery * SEC);
      t < END;
      t += Math.floor(p.profile.logEvery * SEC * (0.5 + sim.rnd()))
    ) {
      if (p.gone && p.deletion === undefined) break;
      if (p.created > t) continue;
      if (p.deletion !== undefined && t > p.deletion) break;
      if (p.node === 'node-2' && node2Down(t)) continue;
      if (p.app === 'ledger' && ledgerDown(t)) continue;
      if (p === cartPod && cartMemory(t) === undefined) continue;
      if (p.app === 'search' && storm(t)) continue;
      const line = healthyLine(sim, p, t, p === cartPod ? cartMemory(t) : undefined);
      if (line !== undefined) sim.log(t, p, line);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Order, resourceVersions, text.
  const drafts = sim.drafts.filter((d) => d.ts <= END).sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  let resourceVersion = 48_213_000;
  const observations: Observation[] = [];
  const lines: string[] = [];
  for (const d of drafts) {
    if (d.object !== undefined) {
      resourceVersion += 1 + Math.floor((d.seq * 7919) % 13);
      (d.object['metadata'] as Json)['resourceVersion'] = String(resourceVersion);
      const text = JSON.stringify(d.object);
      const obs: Observation = { ...(d.obs as Extract<Observation, { kind: 'watch' }>), object: text };
      observations.push(obs);
      lines.push(formatObservation(obs));
    } else {
      observations.push(d.obs);
      lines.push(formatObservation(d.obs));
    }
  }
  return {
    observations,
    text: `${lines.join('\n')}\n`,
    scenarios: scenarios(cartPod.name, checkoutNewPod?.name ?? ''),
  };
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

function pick<T>(sim: Sim, xs: readonly T[]): T {
  return xs[Math.floor(sim.rnd() * xs.length)] as T;
}

const QUERIES = [
  'running shoes',
  'rain jacket',
  'usb-c cable',
  'espresso',
  'yoga mat',
  'headphones',
  'desk lamp',
  'backpack',
];
const PATHS = [
  '/api/products',
  '/api/products/184',
  '/api/cart',
  '/api/search?q=shoes',
  '/api/orders/7781',
  '/healthz',
];

function javaTs(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
function pyTs(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
}

function javaTrace(head: string, frames: string[]): string[] {
  return [head, ...frames.map((f) => `\tat ${f}`), '\t... 87 common frames omitted'];
}

function goPanic(): string[] {
  return [
    'panic: runtime error: invalid memory address or nil pointer dereference',
    '[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8d2f1a]',
    '',
    'goroutine 87 [running]:',
    'github.com/example/shop/checkout/internal/pricing.(*Engine).ApplyDiscount(0x0, {0xc0001a2f00, 0x2, 0x2})',
    '\t/src/internal/pricing/discount.go:142 +0x3a',
    'github.com/example/shop/checkout/internal/api.(*Handler).Checkout(0xc000182000, {0xb41e28, 0xc0002a4000}, 0xc0002b6000)',
    '\t/src/internal/api/checkout.go:77 +0x1c5',
    'net/http.HandlerFunc.ServeHTTP(0xc0001b0e40?, {0xb41e28?, 0xc0002a4000?}, 0x0?)',
    '\t/usr/local/go/src/net/http/server.go:2220 +0x29',
    'created by net/http.(*Server).Serve in goroutine 1',
    '\t/usr/local/go/src/net/http/server.go:3360 +0x485',
  ];
}

function healthyLine(sim: Sim, p: PodSim, t: number, cartMem: number | undefined): string | undefined {
  const ms = 3 + Math.floor(sim.rnd() * 60);
  switch (p.profile.lang) {
    case 'node':
      return `{"level":30,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","req":{"method":"GET","url":"${pick(sim, PATHS)}"},"res":{"statusCode":200},"responseTime":${ms},"msg":"request completed"}`;
    case 'java':
      if (p.app === 'cart' && cartMem !== undefined && cartMem > 380 * MI && sim.rnd() < 0.6) {
        return `${javaTs(t)}  WARN 1 --- [cart] [pool-3-thread-2] c.e.shop.cart.SessionCache            : session cache holds ${Math.round(cartMem / 2900)} entries (${Math.round(cartMem / MI)} MiB heap in use), eviction disabled by cart.cache.evict=false`;
      }
      return `${javaTs(t)}  INFO 1 --- [${p.app}] [nio-8080-exec-${1 + Math.floor(sim.rnd() * 9)}] c.e.${p.app === 'cart' ? 'shop.cart.CartController  ' : 'payments.ledger.LedgerApi'}       : ${p.app === 'cart' ? 'GET /v1/cart' : 'POST /v1/postings'} -> 200 in ${ms} ms`;
    case 'go':
      return `time=${isoMs(t)} level=info msg="request" method=${sim.rnd() < 0.3 ? 'POST' : 'GET'} path=/v1/checkout status=200 duration_ms=${ms}`;
    case 'python':
      return `${pyTs(t)} INFO search.api: query q="${pick(sim, QUERIES)}" hits=${Math.floor(sim.rnd() * 200)} took_ms=${ms}`;
    case 'postgres':
      return `${javaTs(t)} UTC [${100 + Math.floor(sim.rnd() * 50)}] LOG:  checkpoint complete: wrote ${Math.floor(sim.rnd() * 900)} buffers (${(sim.rnd() * 5).toFixed(1)}%); 0 WAL file(s) added, 0 removed, 1 recycled; write=${(sim.rnd() * 90).toFixed(3)} s, sync=0.004 s, total=${(90 + sim.rnd()).toFixed(3)} s`;
    case 'coredns':
      return `[INFO] 10.244.${Math.floor(sim.rnd() * 3)}.${10 + Math.floor(sim.rnd() * 40)}:${30000 + Math.floor(sim.rnd() * 30000)} - ${Math.floor(sim.rnd() * 65535)} "A IN ledger.payments.svc.cluster.local. udp 54 false 512" NOERROR qr,aa,rd 110 0.000${100 + Math.floor(sim.rnd() * 800)}s`;
    case 'agent':
      return `ts=${isoMs(t)} level=info caller=collector.go:212 msg="scrape complete" node=${p.node} duration_seconds=${(0.05 + sim.rnd() * 0.1).toFixed(3)} samples=${1800 + Math.floor(sim.rnd() * 300)}`;
    default:
      return undefined;
  }
}

function scenarios(cartPodName: string, checkoutPodName: string): DemoScenario[] {
  const w = (from: string, to: string): { from: string; to: string } => ({
    from: `2026-11-26T${from}:00.000Z`,
    to: `2026-11-26T${to}:00.000Z`,
  });
  return [
    {
      id: 'healthy-start',
      title: 'A healthy stretch',
      window: w('08:00', '08:10'),
      expectedCategory: null,
      expectedRootCause: null,
      affected: [],
      description:
        'Every pod running and ready, steady metrics, only informational logs: no incident should open.',
    },
    {
      id: 'memory-leak',
      title: 'Memory leak in shop/cart',
      window: w('08:10', '08:40'),
      expectedCategory: 'oom',
      expectedRootCause: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      affected: ['shop/Deployment/cart', `shop/Pod/${cartPodName}`],
      description:
        'memory_working_set_bytes of cart grows from ~262 MiB toward its 512 Mi limit from 08:10 (session cache WARN logs, rising JVM GC pauses); OOMKilled (exit 137) at 08:31:40, restarted, killed again faster, then CrashLoopBackOff with BackOff events until the end.',
    },
    {
      id: 'bad-rollout',
      title: 'Bad rollout of shop/checkout',
      window: w('08:45', '09:00'),
      expectedCategory: 'bad-rollout',
      expectedRootCause: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
      affected: ['shop/Deployment/checkout', `shop/Pod/${checkoutPodName}`],
      description:
        'Deployment checkout changes image v1.4.2 → v1.5.0 at 08:45 (generation 2, new ReplicaSet); the new pod panics (Go nil pointer dereference) within seconds of starting, exit 2, CrashLoopBackOff; old pods keep serving; ProgressDeadlineExceeded after 600 s.',
    },
    {
      id: 'dependency-down',
      title: 'payments/ledger down, shop/api failing',
      window: w('09:00', '09:20'),
      expectedCategory: 'dependency-down',
      expectedRootCause: { kind: 'Deployment', namespace: 'payments', name: 'ledger' },
      affected: ['payments/Deployment/ledger', 'shop/Deployment/api'],
      description:
        'ledger rejects work (RejectedExecutionException), readiness then liveness probes fail (Unhealthy events), the kubelet restarts it (exit 143) into CrashLoopBackOff; shop/api logs timeouts then ECONNREFUSED calling ledger.payments.svc; error ratios of both rise; ledger recovers at 09:20.',
    },
    {
      id: 'image-pull',
      title: 'Image pull error in shop/recommender',
      window: w('09:25', '09:35'),
      expectedCategory: 'image-pull',
      expectedRootCause: { kind: 'Deployment', namespace: 'shop', name: 'recommender' },
      affected: ['shop/Deployment/recommender'],
      description:
        'New Deployment recommender with image tag 2.0.0-rc1 that does not exist: ErrImagePull → ImagePullBackOff, Failed events with "manifest unknown" (not found, not unauthorised).',
    },
    {
      id: 'unschedulable',
      title: 'Unschedulable platform/report-builder',
      window: w('09:30', '09:40'),
      expectedCategory: 'unschedulable',
      expectedRootCause: { kind: 'Deployment', namespace: 'platform', name: 'report-builder' },
      affected: ['platform/Deployment/report-builder'],
      description:
        'A pod requesting 20Gi memory stays Pending; FailedScheduling every 5 min: "0/3 nodes are available: 3 Insufficient memory. ...".',
    },
    {
      id: 'node-not-ready',
      title: 'node-2 NotReady',
      window: w('09:35', '09:52'),
      expectedCategory: 'node-failure',
      expectedRootCause: { kind: 'Node', namespace: null, name: 'node-2' },
      affected: [
        'Node/node-2',
        'shop/Deployment/api',
        'shop/Deployment/search',
        'shop/Deployment/checkout',
        'kube-system/Deployment/coredns',
      ],
      description:
        'node-2 stops posting status at 09:35: Ready Unknown (NodeStatusUnknown) at 09:35:40, unreachable taints, its pods unready (NodeNotReady events), non-DaemonSet pods marked for deletion after 300 s and replaced on node-1/node-3; the node returns Ready at 09:50.',
    },
    {
      id: 'missing-config',
      title: 'platform/notifier crashes at start',
      window: w('09:52', '10:00'),
      expectedCategory: 'bad-config',
      expectedRootCause: { kind: 'Deployment', namespace: 'platform', name: 'notifier' },
      affected: ['platform/Deployment/notifier'],
      description:
        'New Deployment notifier logs "FATAL missing required env SMTP_HOST" (Python traceback, ConfigError), exits 1 within a second, CrashLoopBackOff.',
    },
    {
      id: 'error-storm',
      title: 'Error storm in shop/search',
      window: w('09:55', '10:00'),
      expectedCategory: 'cpu-saturation',
      expectedRootCause: { kind: 'Deployment', namespace: 'shop', name: 'search' },
      affected: ['shop/Deployment/search'],
      description:
        'Traffic ×5 from 09:55 to 09:59:30: CPU at its 1-core limit, throttling ~0.6, p95 latency ~4.8 s, error ratio ~0.3, and hundreds of timeout log lines (Python tracebacks, gunicorn WORKER TIMEOUT).',
    },
    {
      id: 'security-posture',
      title: 'Security-posture problems',
      window: w('08:00', '10:00'),
      expectedCategory: null,
      expectedRootCause: null,
      affected: [
        'platform/DaemonSet/node-agent',
        'kube-system/DaemonSet/kube-proxy',
        'payments/Deployment/ledger',
        'payments/StatefulSet/ledger-db',
        'shop/Deployment/cart',
        'shop/Deployment/search',
        'ClusterRoleBinding/ci-deployer-cluster-admin',
        'ClusterRole/platform-operator',
      ],
      description:
        'Present throughout: privileged + hostNetwork + runAsUser 0 (platform/node-agent), privileged hostNetwork kube-proxy, runAsUser 0 (shop/cart), secretKeyRef env (payments/ledger, payments/ledger-db, platform/notifier), no securityContext (shop/search, payments/ledger, payments/ledger-db), ServiceAccount platform/ci-deployer bound to cluster-admin, wildcard ClusterRole platform-operator; namespaces platform and kube-system without NetworkPolicy, platform without ResourceQuota, only payments with a LimitRange.',
    },
  ];
}
