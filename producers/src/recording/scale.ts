/**
 * A large recording for the `hetu analyze` benchmark (issue C, "Bench"): ONE cluster of `pods`
 * pods (default 2 000) in about `pods / 8` Deployments, StatefulSets and DaemonSets over about
 * `pods / 100` namespaces and `pods / 50` nodes, observed until exactly `observations` lines
 * (default 1 000 000) have been produced. Deterministic for a seed: a seeded PRNG, a fixed start
 * time, no wall clock; the same options always give the same bytes.
 *
 * What it holds, in the shapes demo.ts uses (objects as the API server serialises them):
 *  - at the start, ADDED for every object: Namespaces, Nodes, RBAC, ServiceAccounts, policies,
 *    workloads, ReplicaSets (Deployment → ReplicaSet → Pod owner chains), Pods, Services,
 *    Endpoints, HPAs, PVCs;
 *  - every 30 s a scrape of SPEC §1's metric vocabulary: cpu / memory (and throttling, GC pauses
 *    where they apply) per pod, HTTP rate / errors / p95 per Service, node utilisation, PVC
 *    usage, CoreDNS ratios;
 *  - log lines of every pod in its language's format (Node pino JSON, Spring Boot, Go slog,
 *    Python logging, PostgreSQL, Redis, CoreDNS), mostly info, a few errors with stack traces;
 *  - watch updates: node heartbeats, HPA status, occasional liveness-probe restarts with their
 *    Events, and scenarios at fixed fractions of the expected duration: crash-looping pods (one
 *    per language), an OOM-killed pod that then crash-loops, a rollout, an image pull error, an
 *    unschedulable pod, and a database whose readiness fails while its callers log errors.
 *
 * The recording is produced lazily in 30 s windows, so memory stays small at any size.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { HetuError } from '@hetu/streams';
import { formatObservation } from './writer.ts';
import type { Observation } from './writer.ts';
import { prng } from '@hetu/streams';

export const SCALE_CLUSTER = 'scale';
export const SCALE_START_MS = Date.parse('2026-11-26T08:00:00.000Z');
export const SCALE_SEED = 20261127;
export const SCALE_DEFAULT_PODS = 2000;
export const SCALE_DEFAULT_OBSERVATIONS = 1_000_000;

export interface ScaleRecordingOptions {
  /** Pods in the cluster at the start (at least 10); default 2 000. */
  pods?: number;
  /** Exact number of observations (lines); default 1 000 000. */
  observations?: number;
  seed?: number;
  cluster?: string;
  /** Event time of the first observation, epoch ms; default 2026-11-26T08:00:00.000Z. */
  startMs?: number;
}

export interface ScaleRecordingStats {
  observations: number;
  watch: number;
  metric: number;
  log: number;
  /** Event times of the first and last observation (epoch ms). */
  firstTs: number;
  lastTs: number;
  /** Size of the file written. */
  bytes: number;
}

type Json = Record<string, unknown>;
type Lang = 'node' | 'java' | 'go' | 'python' | 'postgres' | 'redis' | 'coredns' | 'agent' | 'none';
type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MI = 1024 ** 2;
const GI = 1024 ** 3;
const SCRAPE_MS = 30 * SEC;
const NODE_CPU = 32;
const NODE_MEM = 128 * GI;
/** Placeholder of metadata.resourceVersion, replaced in output order so versions increase. */
const RV_MARK = '"resourceVersion":"~rv~"';
const SYSTEM_NS = 'kube-system';
const NAMESPACES = [
  'shop',
  'payments',
  'catalog',
  'search',
  'identity',
  'notifications',
  'analytics',
  'ml-serving',
  'ingest',
  'reporting',
  'billing',
  'inventory',
  'shipping',
  'messaging',
  'media',
  'gateway',
  'observability',
  'platform',
  'data',
  'support',
];
const APP_NAMES = [
  'api',
  'web',
  'worker',
  'orders',
  'cart',
  'ledger',
  'indexer',
  'auth',
  'session',
  'recommender',
  'pricing',
  'stock',
  'notifier',
  'mailer',
  'scheduler',
  'reports',
  'exporter',
  'collector',
  'stream',
  'profile',
  'thumbnailer',
  'invoicer',
  'tax',
  'fraud',
  'tracker',
  'reviews',
  'ratings',
  'feed',
  'audit',
  'router',
  'frontend',
  'backoffice',
  'webhooks',
  'quotes',
  'coupons',
];
const LANGS: readonly Lang[] = ['node', 'java', 'go', 'python'];
const PATHS = ['/v1/items', '/v1/items/{id}', '/v1/orders', '/v1/search', '/v1/users/{id}', '/healthz'];

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isoMs = (ms: number): string => new Date(ms).toISOString();
const javaTs = (ms: number): string => isoMs(ms).replace('T', ' ').replace('Z', '');
const pyTs = (ms: number): string => javaTs(ms).replace('.', ',');
const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const className = (name: string): string => name.split('-').map(cap).join('');
const cpuText = (m: number): string => (m % 1000 === 0 ? String(m / 1000) : `${m}m`);
const memText = (mi: number): string => (mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`);

/** A stable pseudo digest (FNV-1a, repeated to `len` hex digits). */
function digest(text: string, len = 64): string {
  let h = 0x811c9dc5;
  let out = '';
  for (let round = 0; out.length < len; round++) {
    for (const ch of `${text}#${round}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, len);
}

// ---------------------------------------------------------------------------------------------
// A min-heap of timed items, ordered by (ts, seq).

interface Timed {
  ts: number;
  seq: number;
}
const before = (x: Timed, y: Timed): boolean => x.ts < y.ts || (x.ts === y.ts && x.seq < y.seq);

class Heap<T extends Timed> {
  private readonly a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  push(x: T): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent] as T;
      if (!before(x, p)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = x;
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && before(a[r] as T, a[l] as T) ? r : l;
      if (!before(a[c] as T, last)) break;
      a[i] = a[c] as T;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

interface Draft extends Timed {
  obs: Observation;
}
interface Action extends Timed {
  run: (ts: number) => void;
}

// ---------------------------------------------------------------------------------------------
// The simulated cluster.

interface NodeSim {
  name: string;
  uid: string;
  index: number;
  ip: string;
  created: number;
  /** Pods (running containers) on the node, for its utilisation. */
  pods: Set<PodSim>;
}

interface ServiceSim {
  name: string;
  uid: string;
  created: number;
  clusterIP: string;
  port: number;
  rate: number;
  err: number;
  p95: number;
  /** Windows of degraded service: error ratio and latency factor. */
  degraded: { from: number; to: number; err: number; latency: number }[];
}

interface WorkloadSim {
  ns: string;
  name: string;
  kind: Kind;
  replicas: number;
  uid: string;
  created: number;
  image: string;
  lang: Lang;
  port?: number;
  cpuReq: number;
  memReq: number;
  cpuLim?: number;
  memLim?: number;
  /** Mean usage as a fraction of requests. */
  cpuUse: number;
  memUse: number;
  securityContext?: Json;
  podSecurityContext: Json;
  hostNetwork: boolean;
  serviceAccount: string;
  env?: Json[];
  readiness: boolean;
  /** Mean seconds between background log lines (0: none). */
  logEvery: number;
  /** Share of background log lines that are errors. */
  errorRate: number;
  gc?: 'go' | 'jvm';
  gcPause: number;
  pvcGi?: number;
  generation: number;
  hash?: string;
  rsName?: string;
  rsUid?: string;
  rsCreated?: number;
  pods: PodSim[];
  service?: ServiceSim;
  hpa?: { uid: string; min: number; max: number; util: number };
  /** The StatefulSet this workload calls (same namespace), if any. */
  dependsOn?: WorkloadSim;
  /** Busy with a scenario (not picked twice). */
  taken: boolean;
  containers: Map<string, Json>;
}

interface Cond {
  status: string;
  at: number;
  reason?: string;
  message?: string;
}

interface PodSim {
  w: WorkloadSim;
  name: string;
  uid: string;
  created: number;
  labels: Record<string, string>;
  owner: { apiVersion: string; kind: string; name: string; uid: string };
  node?: NodeSim;
  ip?: string;
  image: string;
  phase: string;
  conditions: Map<string, Cond>;
  state: Json;
  lastState: Json;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  startTime?: number;
  deletion?: number;
  /** The container runs: metrics and logs are produced. */
  running: boolean;
  gone: boolean;
  /** Background logs stop (a scenario logs for it). */
  quiet: boolean;
  nextLog: number;
  cpu: number;
  mem: number;
  /** Memory grows linearly from `from` at `t0` to `to` at `t1` (the OOM scenario). */
  grow?: { t0: number; t1: number; from: number; to: number };
  pvc?: { name: string; fill: number };
  labelsMetric: Record<string, string>;
  gcLabels?: Record<string, string>;
}

interface Resolved {
  pods: number;
  observations: number;
  seed: number;
  cluster: string;
  startMs: number;
}

function resolve(options: ScaleRecordingOptions): Resolved {
  const pods = options.pods ?? SCALE_DEFAULT_PODS;
  const observations = options.observations ?? SCALE_DEFAULT_OBSERVATIONS;
  const startMs = options.startMs ?? SCALE_START_MS;
  const bad = (what: string): never => {
    throw new HetuError('HETU_RECORDING_BAD_OPTIONS', `The scale recording's ${what}; fix the option.`);
  };
  if (!Number.isInteger(pods) || pods < 10 || pods > 1_000_000) bad(`pods ${pods} is not an integer 10..1e6`);
  if (!Number.isInteger(observations) || observations < 0)
    bad(`observations ${observations} is not an integer ≥ 0`);
  if (!Number.isFinite(startMs)) bad(`startMs ${startMs} is not a time`);
  const cluster = options.cluster ?? SCALE_CLUSTER;
  if (cluster === '') bad('cluster is empty');
  return { pods, observations, seed: options.seed ?? SCALE_SEED, cluster, startMs };
}

class ScaleSim {
  readonly o: Resolved;
  readonly rnd: () => number;
  readonly t0: number;
  private seq = 0;
  private rv = 7_340_000;
  private ipCounter = 300;
  private readonly out = new Heap<Draft>();
  private readonly actions = new Heap<Action>();
  private readonly events = new Map<string, { obj: Json; count: number }>();
  readonly nodes: NodeSim[] = [];
  readonly namespaces: string[] = [];
  readonly workloads: WorkloadSim[] = [];
  readonly pods: PodSim[] = [];
  private readonly nsPolicy = new Map<string, { netpol: boolean; quota: boolean; limits: boolean }>();
  /** Expected duration (ms) of the recording, from the expected observations per window. */
  duration = 0;
  private snapshotLines = 0;

  constructor(o: Resolved) {
    this.o = o;
    this.rnd = prng(o.seed);
    this.t0 = o.startMs;
  }

  // -- randomness ------------------------------------------------------------------------------

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)] as T;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  jitter(ms: number): number {
    return Math.floor(this.rnd() * ms);
  }
  noise(x: number): number {
    return 1 + (this.rnd() * 2 - 1) * x;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.rnd() * 16).toString(16);
    return s;
  }
  uid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[Math.floor(this.rnd() * 4)]}${this.hex(3)}-${this.hex(12)}`;
  }
  /** A k8s-style random suffix (consonants and digits, as generateName uses). */
  suffix(n: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.rnd() * alphabet.length)];
    return s;
  }
  podIP(): string {
    const c = this.ipCounter++;
    return `10.${64 + ((c >> 16) & 63)}.${(c >> 8) & 255}.${c & 255}`;
  }

  // -- output ----------------------------------------------------------------------------------

  private draft(obs: Observation): void {
    this.out.push({ ts: obs.ts, seq: this.seq++, obs });
  }
  watch(ts: number, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Json): void {
    const meta = object['metadata'] as Json;
    meta['resourceVersion'] = '~rv~';
    this.draft({ ts, cluster: this.o.cluster, kind: 'watch', type, object: JSON.stringify(object) });
  }
  metric(ts: number, name: string, labels: Record<string, string>, value: number): void {
    this.draft({ ts, cluster: this.o.cluster, kind: 'metric', name, labels, value });
  }
  log(ts: number, p: PodSim, line: string): void {
    this.draft({
      ts,
      cluster: this.o.cluster,
      kind: 'log',
      namespace: p.w.ns,
      pod: p.name,
      container: p.w.name,
      line,
    });
  }
  logs(ts: number, p: PodSim, lines: readonly string[]): void {
    for (const l of lines) this.log(ts, p, l);
  }
  at(ts: number, run: (ts: number) => void): void {
    this.actions.push({ ts, seq: this.seq++, run });
  }

  /** The next observation with ts before `to`, resourceVersion filled in; undefined when none. */
  next(to: number): Observation | undefined {
    const top = this.out.peek();
    if (top === undefined || top.ts >= to) return undefined;
    this.out.pop();
    const obs = top.obs;
    if (obs.kind === 'watch' && typeof obs.object === 'string') {
      this.rv += 1 + (top.seq % 3);
      obs.object = obs.object.replace(RV_MARK, `"resourceVersion":"${this.rv}"`);
    }
    return obs;
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
        namespace: involved.ns ?? 'default',
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

  podRef(p: PodSim, container = false): Parameters<ScaleSim['event']>[1] {
    const ref = { kind: 'Pod', apiVersion: 'v1', ns: p.w.ns, name: p.name, uid: p.uid };
    return container ? { ...ref, fieldPath: `spec.containers{${p.w.name}}` } : ref;
  }
  kubelet(p: PodSim): { component: string; host?: string } {
    return p.node === undefined ? { component: 'kubelet' } : { component: 'kubelet', host: p.node.name };
  }

  // -- layout ----------------------------------------------------------------------------------

  layout(): void {
    const P = this.o.pods;
    const t0 = this.t0;
    const nodeCount = Math.max(2, Math.round(P / 50));
    for (let i = 0; i < nodeCount; i++) {
      const pool = i % 3 === 2 ? 'highmem-pool' : 'default-pool';
      this.nodes.push({
        name: `gke-${this.o.cluster}-${pool}-${digest(`${pool}${i % 3}`, 8)}-${this.suffix(4)}`,
        uid: this.uid(),
        index: i,
        ip: `10.128.${Math.floor(i / 250)}.${(i % 250) + 2}`,
        created: t0 - 30 * DAY + i * 7 * MIN,
        pods: new Set(),
      });
    }
    const nsCount = Math.max(2, Math.round(P / 100));
    for (let i = 0; i < nsCount; i++) {
      const ns = NAMESPACES[i] ?? `team-${i + 1}`;
      this.namespaces.push(ns);
      this.nsPolicy.set(ns, {
        netpol: this.rnd() < 0.6,
        quota: this.rnd() < 0.7,
        limits: this.rnd() < 0.4,
      });
    }

    // System workloads: DaemonSets on every node, CoreDNS.
    const system: WorkloadSim[] = [];
    const ds = (name: string, ns: string, lang: Lang, image: string, privileged: boolean): void => {
      system.push(
        this.workload({
          ns,
          name,
          kind: 'DaemonSet',
          replicas: nodeCount,
          lang,
          image,
          cpuReq: 100,
          memReq: 128,
          memLim: 256,
          hostNetwork: privileged,
          securityContext: privileged ? { privileged: true } : undefined,
          serviceAccount: name,
          logEvery: lang === 'agent' ? 120 : 0,
          daysAgo: 30,
        }),
      );
    };
    ds('kube-proxy', SYSTEM_NS, 'none', 'registry.k8s.io/kube-proxy:v1.31.4', true);
    const dsPods = (k: number): number => k * nodeCount;
    if (dsPods(3) + 2 <= P / 4) {
      ds('fluent-bit', SYSTEM_NS, 'agent', 'cr.fluentbit.io/fluent/fluent-bit:3.2.2', false);
      ds('node-exporter', SYSTEM_NS, 'none', 'quay.io/prometheus/node-exporter:v1.8.2', true);
    }
    system.push(
      this.workload({
        ns: SYSTEM_NS,
        name: 'coredns',
        kind: 'Deployment',
        replicas: 2,
        lang: 'coredns',
        image: 'registry.k8s.io/coredns/coredns:v1.11.3',
        port: 53,
        cpuReq: 100,
        memReq: 70,
        memLim: 170,
        securityContext: {
          capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        },
        serviceAccount: 'coredns',
        logEvery: 180,
        daysAgo: 30,
      }),
    );
    const systemPods = system.reduce((s, w) => s + w.replicas, 0);
    const remaining = P - systemPods;

    // Application workloads: a few StatefulSets (databases, caches), Deployments for the rest.
    const count = Math.max(this.namespaces.length, Math.round(remaining / 8));
    const used = new Map<string, Set<string>>();
    const apps: WorkloadSim[] = [];
    let stsPods = 0;
    const specs: { ns: string; name: string; kind: Kind; lang: Lang; replicas: number }[] = [];
    for (let i = 0; i < count; i++) {
      const ns = this.namespaces[i % this.namespaces.length] as string;
      const names = used.get(ns) ?? new Set<string>();
      used.set(ns, names);
      // Every other namespace has a database or cache; a few more StatefulSets later (~10 % in all).
      const first = i < this.namespaces.length;
      const stateful = first ? i % 2 === 1 : this.rnd() < 0.05;
      let name: string;
      let lang: Lang;
      if (stateful) {
        lang = this.rnd() < 0.6 ? 'postgres' : 'redis';
        name = lang === 'postgres' ? `${ns}-db` : 'redis';
      } else {
        lang = LANGS[(i + Math.floor(this.rnd() * 4)) % 4] as Lang;
        name = this.pick(APP_NAMES);
      }
      for (let k = 2; names.has(name); k++) name = `${name.replace(/-\d+$/, '')}-${k}`;
      names.add(name);
      const sts = lang === 'postgres' || lang === 'redis';
      const replicas = sts ? this.int(1, 3) : 1;
      if (sts) stsPods += replicas;
      specs.push({ ns, name, kind: sts ? 'StatefulSet' : 'Deployment', lang, replicas });
    }
    // Spread the Deployment pods: every Deployment has one, the rest go by skewed weights.
    const deps = specs.filter((s) => s.kind === 'Deployment');
    let extra = remaining - stsPods - deps.length;
    if (extra < 0) throw new HetuError('HETU_RECORDING_BAD_OPTIONS', `Too few pods (${P}) for the layout.`);
    const weights = deps.map(() => this.pick([1, 1, 1, 2, 2, 3, 4, 6, 8, 12]));
    const total = weights.reduce((a, b) => a + b, 0);
    const shares = weights.map((w) => Math.floor((w * extra) / total));
    for (const [i, s] of deps.entries()) s.replicas += shares[i] as number;
    extra -= shares.reduce((a, b) => a + b, 0);
    for (let i = 0; extra > 0; i = (i + 1) % deps.length, extra--)
      (deps[i] as (typeof deps)[number]).replicas++;

    for (const s of specs) {
      const r = this.rnd();
      const lang = s.lang;
      const port = { node: 3000, java: 8080, go: 8080, python: 8000, postgres: 5432, redis: 6379 }[
        lang as 'node'
      ];
      const sizes = {
        node: { cpu: [100, 200, 250, 500], mem: [256, 384, 512] },
        java: { cpu: [250, 500, 1000], mem: [768, 1024, 2048] },
        go: { cpu: [50, 100, 200], mem: [64, 128, 256] },
        python: { cpu: [100, 250, 500], mem: [256, 512, 1024] },
        postgres: { cpu: [500, 1000, 2000], mem: [1024, 2048, 4096] },
        redis: { cpu: [100, 250], mem: [256, 512, 1024] },
      }[lang as 'node'];
      const cpuReq = this.pick(sizes.cpu);
      const memReq = this.pick(sizes.mem);
      const limited = this.rnd() < 0.6;
      const security: Json | undefined =
        r < 0.7
          ? {
              runAsNonRoot: true,
              runAsUser: 10001,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            }
          : r < 0.85
            ? undefined
            : r < 0.97
              ? { runAsUser: 0 }
              : { privileged: true };
      const worker = s.kind === 'Deployment' && /worker|exporter|collector|scheduler|stream/.test(s.name);
      const w = this.workload({
        ns: s.ns,
        name: s.name,
        kind: s.kind,
        replicas: s.replicas,
        lang,
        image:
          lang === 'postgres'
            ? 'docker.io/library/postgres:16.4'
            : lang === 'redis'
              ? 'docker.io/library/redis:7.4.1'
              : `registry.example.com/${s.ns}/${s.name}:${this.int(1, 5)}.${this.int(0, 20)}.${this.int(0, 9)}`,
        port: worker ? undefined : port,
        cpuReq,
        memReq,
        cpuLim: limited ? cpuReq * 2 : undefined,
        memLim: limited || lang === 'java' ? memReq * 2 : undefined,
        cpuUse: this.pick([0.08, 0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9]) * this.noise(0.1),
        memUse: this.pick([0.2, 0.4, 0.55, 0.7, 0.8]) * this.noise(0.05),
        securityContext: security,
        serviceAccount: this.rnd() < 0.5 ? s.name : 'default',
        env:
          lang === 'postgres'
            ? [
                { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: s.name, key: 'password' } } },
                { name: 'PGDATA', value: '/var/lib/data/pgdata' },
              ]
            : this.rnd() < 0.2
              ? [
                  { name: 'LOG_LEVEL', value: 'info' },
                  {
                    name: 'DB_PASSWORD',
                    valueFrom: { secretKeyRef: { name: `${s.name}-db`, key: 'password' } },
                  },
                ]
              : undefined,
        logEvery:
          lang === 'postgres'
            ? 300
            : lang === 'redis'
              ? 600
              : this.pick([10, 15, 20, 30, 45, 60, 90, 120, 180, 240]),
        errorRate: this.pick([0.002, 0.004, 0.006, 0.01, 0.02]),
        gc: lang === 'go' ? 'go' : lang === 'java' ? 'jvm' : undefined,
        gcPause: lang === 'go' ? 0.0004 : this.rnd() < 0.1 ? 0.14 : 0.012,
        pvcGi: s.kind === 'StatefulSet' ? this.pick([10, 20, 50, 100]) : undefined,
        daysAgo: this.int(1, 60),
      });
      apps.push(w);
    }
    this.workloads.push(...system, ...apps);
    // Callers of each namespace's database or cache.
    for (const w of apps) {
      if (w.kind !== 'Deployment' || w.port === undefined) continue;
      const db = apps.find((d) => d.ns === w.ns && d.kind === 'StatefulSet');
      if (db !== undefined && this.rnd() < 0.7) w.dependsOn = db;
    }
    // Services, HPAs.
    let svc = 0;
    for (const w of this.workloads) {
      if (w.port === undefined || w.kind === 'DaemonSet') continue;
      svc++;
      w.service = {
        name: w.name === 'coredns' ? 'kube-dns' : w.name,
        uid: this.uid(),
        created: w.created,
        clusterIP: w.kind === 'StatefulSet' ? 'None' : `10.96.${Math.floor(svc / 250)}.${(svc % 250) + 2}`,
        port: w.port,
        rate: round4((2 + this.rnd() * 40) * Math.sqrt(w.replicas)),
        err: this.pick([0.0005, 0.001, 0.002, 0.004]),
        p95: this.pick([0.02, 0.05, 0.08, 0.12, 0.25]),
        degraded: [],
      };
      if (w.kind === 'Deployment' && w.ns !== SYSTEM_NS && w.replicas >= 2 && this.rnd() < 0.25) {
        const min = Math.max(1, Math.floor(w.replicas / 2));
        w.hpa = { uid: this.uid(), min, max: this.rnd() < 0.3 ? w.replicas : w.replicas * 2, util: 70 };
      }
    }
    // Pods. The newest nodes (about 1 in 20, added by the autoscaler) hold only DaemonSet pods.
    const busy = this.nodes.length - Math.max(1, Math.round(this.nodes.length / 20));
    let n = this.jitter(busy);
    for (const w of this.workloads) {
      for (let i = 0; i < w.replicas; i++) {
        const node =
          w.kind === 'DaemonSet' ? (this.nodes[i] as NodeSim) : (this.nodes[n++ % busy] as NodeSim);
        const p = this.newPod(w, w.created + this.jitter(w.kind === 'Deployment' ? 3 * DAY : HOUR), i);
        this.existing(p, node);
      }
    }
  }

  workload(s: {
    ns: string;
    name: string;
    kind: Kind;
    replicas: number;
    lang: Lang;
    image: string;
    port?: number;
    cpuReq: number;
    memReq: number;
    cpuLim?: number;
    memLim?: number;
    cpuUse?: number;
    memUse?: number;
    securityContext?: Json;
    hostNetwork?: boolean;
    serviceAccount: string;
    env?: Json[];
    logEvery: number;
    errorRate?: number;
    gc?: 'go' | 'jvm';
    gcPause?: number;
    pvcGi?: number;
    daysAgo: number;
  }): WorkloadSim {
    const w: WorkloadSim = {
      ns: s.ns,
      name: s.name,
      kind: s.kind,
      replicas: s.replicas,
      uid: this.uid(),
      created: this.t0 - s.daysAgo * DAY - this.jitter(DAY),
      image: s.image,
      lang: s.lang,
      cpuReq: s.cpuReq,
      memReq: s.memReq,
      cpuUse: s.cpuUse ?? 0.3,
      memUse: s.memUse ?? 0.5,
      podSecurityContext: {},
      hostNetwork: s.hostNetwork === true,
      serviceAccount: s.serviceAccount,
      readiness: s.port !== undefined && s.lang !== 'coredns',
      logEvery: s.logEvery,
      errorRate: s.errorRate ?? 0.002,
      gcPause: s.gcPause ?? 0,
      generation: 1,
      pods: [],
      taken: false,
      containers: new Map(),
    };
    if (s.port !== undefined) w.port = s.port;
    if (s.cpuLim !== undefined) w.cpuLim = s.cpuLim;
    if (s.memLim !== undefined) w.memLim = s.memLim;
    if (s.securityContext !== undefined) w.securityContext = s.securityContext;
    if (s.env !== undefined) w.env = s.env;
    if (s.gc !== undefined) w.gc = s.gc;
    if (s.pvcGi !== undefined) w.pvcGi = s.pvcGi;
    if (s.kind === 'Deployment') {
      w.hash = this.suffix(10).slice(0, 9 + Math.floor(this.rnd() * 2));
      w.rsName = `${s.name}-${w.hash}`;
      w.rsUid = this.uid();
      w.rsCreated = w.created;
    }
    return w;
  }

  newPod(w: WorkloadSim, created: number, ordinal: number): PodSim {
    const labels: Record<string, string> = { app: w.name };
    let name: string;
    let owner: PodSim['owner'];
    if (w.kind === 'Deployment') {
      labels['pod-template-hash'] = w.hash as string;
      name = `${w.rsName}-${this.suffix(5)}`;
      owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: w.rsName as string, uid: w.rsUid as string };
    } else if (w.kind === 'StatefulSet') {
      name = `${w.name}-${ordinal}`;
      labels['apps.kubernetes.io/pod-index'] = String(ordinal);
      labels['controller-revision-hash'] = `${w.name}-${digest(w.name, 10)}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: w.name, uid: w.uid };
    } else {
      name = `${w.name}-${this.suffix(5)}`;
      labels['controller-revision-hash'] = digest(w.name, 10);
      labels['pod-template-generation'] = '1';
      owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: w.name, uid: w.uid };
    }
    const p: PodSim = {
      w,
      name,
      uid: this.uid(),
      created,
      labels,
      owner,
      image: w.image,
      phase: 'Pending',
      conditions: new Map(),
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      running: false,
      gone: false,
      quiet: false,
      nextLog: 0,
      cpu: (w.cpuReq / 1000) * w.cpuUse * this.noise(0.2),
      mem: w.memReq * MI * w.memUse * this.noise(0.1),
      labelsMetric: { namespace: w.ns, pod: name, container: w.name },
    };
    if (w.gc !== undefined) p.gcLabels = { namespace: w.ns, pod: name, runtime: w.gc };
    if (w.pvcGi !== undefined) p.pvc = { name: `data-${name}`, fill: 0.2 + this.rnd() * 0.6 };
    w.pods.push(p);
    this.pods.push(p);
    return p;
  }

  /** A pod running and ready before the recording starts. */
  existing(p: PodSim, node: NodeSim): void {
    p.node = node;
    p.phase = 'Running';
    p.startTime = p.created + 1500;
    p.ip = p.w.hostNetwork ? node.ip : this.podIP();
    this.setCond(p, 'PodScheduled', 'True', p.created);
    for (const k of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'])
      this.setCond(p, k, 'True', p.created + 5 * SEC);
    const r = this.rnd();
    p.restartCount = r < 0.9 ? 0 : r < 0.99 ? this.int(1, 3) : this.int(6, 9);
    const since = p.restartCount > 0 ? this.t0 - this.jitter(20 * HOUR) - 2 * HOUR : p.created + 3 * SEC;
    if (p.restartCount > 0) {
      p.lastState = {
        terminated: {
          exitCode: 137,
          reason: 'Error',
          startedAt: iso(since - 3 * HOUR),
          finishedAt: iso(since - 1000),
          containerID: `containerd://${this.hex(64)}`,
        },
      };
    }
    p.containerID = `containerd://${this.hex(64)}`;
    p.state = { running: { startedAt: iso(since) } };
    p.ready = true;
    p.started = true;
    p.running = true;
    node.pods.add(p);
    p.nextLog = this.t0 + this.jitter(Math.max(1, p.w.logEvery) * SEC);
  }

  setCond(p: PodSim, type: string, status: string, ts: number, reason?: string, message?: string): void {
    const prior = p.conditions.get(type);
    const c: Cond = { status, at: prior !== undefined && prior.status === status ? prior.at : ts };
    if (reason !== undefined) c.reason = reason;
    if (message !== undefined) c.message = message;
    p.conditions.set(type, c);
  }

  refreshReady(p: PodSim, ts: number): void {
    if (p.ready) {
      this.setCond(p, 'Ready', 'True', ts);
      this.setCond(p, 'ContainersReady', 'True', ts);
    } else {
      const msg = `containers with unready status: [${p.w.name}]`;
      this.setCond(p, 'Ready', 'False', ts, 'ContainersNotReady', msg);
      this.setCond(p, 'ContainersReady', 'False', ts, 'ContainersNotReady', msg);
    }
  }

  // -- objects ---------------------------------------------------------------------------------

  containerSpec(w: WorkloadSim, image: string): Json {
    const cached = w.containers.get(image);
    if (cached !== undefined) return cached;
    const c: Json = { name: w.name, image };
    if (w.port !== undefined)
      c['ports'] = [{ name: w.lang === 'coredns' ? 'dns' : 'http', containerPort: w.port, protocol: 'TCP' }];
    if (w.env !== undefined) c['env'] = w.env;
    const limits: Json = {};
    if (w.cpuLim !== undefined) limits['cpu'] = cpuText(w.cpuLim);
    if (w.memLim !== undefined) limits['memory'] = memText(w.memLim);
    c['resources'] = {
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      requests: { cpu: cpuText(w.cpuReq), memory: memText(w.memReq) },
    };
    if (w.pvcGi !== undefined) c['volumeMounts'] = [{ name: 'data', mountPath: '/var/lib/data' }];
    if (w.readiness && w.port !== undefined) {
      const probe = (path: string, period: number): Json => ({
        httpGet: { path, port: w.port, scheme: 'HTTP' },
        timeoutSeconds: 1,
        periodSeconds: period,
        successThreshold: 1,
        failureThreshold: 3,
      });
      c['livenessProbe'] = probe('/healthz', 10);
      c['readinessProbe'] = probe('/ready', 5);
    }
    c['terminationMessagePath'] = '/dev/termination-log';
    c['terminationMessagePolicy'] = 'File';
    c['imagePullPolicy'] = 'IfNotPresent';
    if (w.securityContext !== undefined) c['securityContext'] = w.securityContext;
    w.containers.set(image, c);
    return c;
  }

  podObject(p: PodSim): Json {
    const w = p.w;
    const metadata: Json = { name: p.name };
    if (w.kind !== 'StatefulSet') metadata['generateName'] = p.name.slice(0, -5);
    metadata['namespace'] = w.ns;
    metadata['uid'] = p.uid;
    metadata['resourceVersion'] = '';
    metadata['creationTimestamp'] = iso(p.created);
    if (p.deletion !== undefined) {
      metadata['deletionTimestamp'] = iso(p.deletion + 30 * SEC);
      metadata['deletionGracePeriodSeconds'] = 30;
    }
    metadata['labels'] = p.labels;
    metadata['ownerReferences'] = [{ ...p.owner, controller: true, blockOwnerDeletion: true }];
    const mount = {
      name: 'kube-api-access',
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    };
    const c = this.containerSpec(w, p.image);
    const spec: Json = {
      volumes:
        p.pvc !== undefined
          ? [{ name: 'data', persistentVolumeClaim: { claimName: p.pvc.name } }, API_ACCESS_VOLUME]
          : [API_ACCESS_VOLUME],
      containers: [{ ...c, volumeMounts: [...((c['volumeMounts'] as Json[] | undefined) ?? []), mount] }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: w.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: w.serviceAccount,
      serviceAccount: w.serviceAccount,
    };
    if (p.node !== undefined) spec['nodeName'] = p.node.name;
    if (w.hostNetwork) spec['hostNetwork'] = true;
    spec['securityContext'] = w.podSecurityContext;
    spec['schedulerName'] = 'default-scheduler';
    spec['tolerations'] = w.kind === 'DaemonSet' ? DAEMONSET_TOLERATIONS : DEFAULT_TOLERATIONS;
    spec['priority'] = w.ns === SYSTEM_NS ? 2000001000 : 0;
    if (w.ns === SYSTEM_NS) spec['priorityClassName'] = 'system-node-critical';
    spec['enableServiceLinks'] = true;
    spec['preemptionPolicy'] = 'PreemptLowerPriority';
    const conditions: Json[] = [];
    for (const t of COND_ORDER) {
      const cond = p.conditions.get(t);
      if (cond === undefined) continue;
      const o: Json = { type: t, status: cond.status, lastProbeTime: null, lastTransitionTime: iso(cond.at) };
      if (cond.reason !== undefined) o['reason'] = cond.reason;
      if (cond.message !== undefined) o['message'] = cond.message;
      conditions.push(o);
    }
    const status: Json = { phase: p.phase, conditions };
    if (p.node !== undefined && p.startTime !== undefined) {
      status['hostIP'] = p.node.ip;
      status['hostIPs'] = [{ ip: p.node.ip }];
      if (p.ip !== undefined) {
        status['podIP'] = p.ip;
        status['podIPs'] = [{ ip: p.ip }];
      }
      status['startTime'] = iso(p.startTime);
      const cs: Json = {
        name: w.name,
        state: p.state,
        lastState: p.lastState,
        ready: p.ready,
        restartCount: p.restartCount,
        image: p.image,
        imageID: p.containerID === undefined ? '' : `${p.image.split(':')[0]}@sha256:${digest(p.image)}`,
      };
      if (p.containerID !== undefined) cs['containerID'] = p.containerID;
      cs['started'] = p.started;
      status['containerStatuses'] = [cs];
    }
    status['qosClass'] = w.cpuLim === w.cpuReq && w.memLim === w.memReq ? 'Guaranteed' : 'Burstable';
    return { kind: 'Pod', apiVersion: 'v1', metadata, spec, status };
  }

  emitPod(ts: number, p: PodSim, type: 'ADDED' | 'MODIFIED' | 'DELETED' = 'MODIFIED'): void {
    this.watch(ts, type, this.podObject(p));
  }

  meta(ns: string | null, name: string, created: number, extra: Json = {}): Json {
    return {
      name,
      ...(ns === null ? {} : { namespace: ns }),
      uid: this.uid(),
      resourceVersion: '',
      creationTimestamp: iso(created),
      ...extra,
    };
  }

  nodeObject(n: NodeSim, heartbeat: number): Json {
    const cond = (type: string, status: string, reason: string, message: string, at: number): Json => ({
      type,
      status,
      lastHeartbeatTime: iso(heartbeat),
      lastTransitionTime: iso(at),
      reason,
      message,
    });
    const pool = n.name.includes('highmem') ? 'highmem-pool' : 'default-pool';
    const zone = `europe-west1-${'bcd'[n.index % 3]}`;
    return {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name: n.name,
        uid: n.uid,
        resourceVersion: '',
        creationTimestamp: iso(n.created),
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'cloud.google.com/gke-nodepool': pool,
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': n.name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': pool === 'highmem-pool' ? 'n2-highmem-32' : 'n2-standard-32',
          'topology.kubernetes.io/region': 'europe-west1',
          'topology.kubernetes.io/zone': zone,
        },
        annotations: {
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: {
        podCIDR: `10.${64 + Math.floor(n.index / 256)}.${n.index % 256}.0/24`,
        podCIDRs: [`10.${64 + Math.floor(n.index / 256)}.${n.index % 256}.0/24`],
        providerID: `gce://hetu-${this.o.cluster}/${zone}/${n.name}`,
      },
      status: {
        capacity: {
          cpu: String(NODE_CPU),
          'ephemeral-storage': '203234776Ki',
          memory: '131912264Ki',
          pods: '110',
        },
        allocatable: {
          cpu: '31850m',
          'ephemeral-storage': '187297934283',
          memory: '123513416Ki',
          pods: '110',
        },
        conditions: [
          cond(
            'MemoryPressure',
            'False',
            'KubeletHasSufficientMemory',
            'kubelet has sufficient memory available',
            n.created,
          ),
          cond(
            'DiskPressure',
            'False',
            'KubeletHasNoDiskPressure',
            'kubelet has no disk pressure',
            n.created,
          ),
          cond(
            'PIDPressure',
            'False',
            'KubeletHasSufficientPID',
            'kubelet has sufficient PID available',
            n.created,
          ),
          cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', n.created + 2 * MIN),
        ],
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: digest(n.name, 32),
          systemUUID: digest(`${n.name}-uuid`, 32),
          bootID: digest(`${n.name}-boot`, 32),
          kernelVersion: '6.6.56+',
          osImage: 'Container-Optimized OS from Google',
          containerRuntimeVersion: 'containerd://1.7.24',
          kubeletVersion: 'v1.31.4-gke.1256000',
          kubeProxyVersion: 'v1.31.4-gke.1256000',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
  }

  podTemplate(w: WorkloadSim, image: string, hash?: string): Json {
    const c = this.containerSpec(w, image);
    const spec: Json = {
      containers: [c],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: w.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      serviceAccountName: w.serviceAccount,
      serviceAccount: w.serviceAccount,
    };
    if (w.hostNetwork) spec['hostNetwork'] = true;
    spec['securityContext'] = w.podSecurityContext;
    spec['schedulerName'] = 'default-scheduler';
    const labels: Json = hash === undefined ? { app: w.name } : { app: w.name, 'pod-template-hash': hash };
    return { metadata: { creationTimestamp: null, labels }, spec };
  }

  workloadObject(w: WorkloadSim, image: string, status: Json): Json {
    const metadata: Json = {
      name: w.name,
      namespace: w.ns,
      uid: w.uid,
      resourceVersion: '',
      generation: w.generation,
      creationTimestamp: iso(w.created),
      labels: { app: w.name },
    };
    if (w.kind === 'Deployment')
      metadata['annotations'] = { 'deployment.kubernetes.io/revision': String(w.generation) };
    const spec: Json = w.kind === 'DaemonSet' ? {} : { replicas: w.replicas };
    spec['selector'] = { matchLabels: { app: w.name } };
    spec['template'] = this.podTemplate(w, image);
    if (w.kind === 'Deployment') {
      spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      spec['revisionHistoryLimit'] = 10;
      spec['progressDeadlineSeconds'] = 600;
    } else if (w.kind === 'StatefulSet') {
      spec['serviceName'] = w.name;
      spec['podManagementPolicy'] = 'OrderedReady';
      spec['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      spec['volumeClaimTemplates'] = [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: `${w.pvcGi ?? 10}Gi` } },
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
    return { kind: w.kind, apiVersion: 'apps/v1', metadata, spec, status };
  }

  deploymentStatus(
    w: WorkloadSim,
    replicas: number,
    updated: number,
    ready: number,
    progressing: Json,
  ): Json {
    const st: Json = {
      observedGeneration: w.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
    };
    if (replicas - ready > 0) st['unavailableReplicas'] = replicas - ready;
    const ok = ready >= Math.max(1, Math.floor(w.replicas * 0.75));
    st['conditions'] = [
      {
        type: 'Available',
        status: ok ? 'True' : 'False',
        lastUpdateTime: iso(w.created + MIN),
        lastTransitionTime: iso(w.created + MIN),
        reason: ok ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message: ok
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      },
      progressing,
    ];
    return st;
  }

  progressing(status: string, reason: string, message: string, ts: number): Json {
    return {
      type: 'Progressing',
      status,
      lastUpdateTime: iso(ts),
      lastTransitionTime: iso(ts),
      reason,
      message,
    };
  }

  workloadStatus(w: WorkloadSim): Json {
    const r = w.replicas;
    if (w.kind === 'Deployment')
      return this.deploymentStatus(
        w,
        r,
        r,
        r,
        this.progressing(
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${w.rsName}" has successfully progressed.`,
          w.created + MIN,
        ),
      );
    if (w.kind === 'StatefulSet') {
      const rev = `${w.name}-${digest(w.name, 10)}`;
      return {
        observedGeneration: 1,
        replicas: r,
        readyReplicas: r,
        currentReplicas: r,
        updatedReplicas: r,
        currentRevision: rev,
        updateRevision: rev,
        collisionCount: 0,
        availableReplicas: r,
      };
    }
    return {
      currentNumberScheduled: r,
      numberMisscheduled: 0,
      desiredNumberScheduled: r,
      numberReady: r,
      observedGeneration: 1,
      updatedNumberScheduled: r,
      numberAvailable: r,
    };
  }

  replicaSetObject(
    w: WorkloadSim,
    rs: { name: string; uid: string; hash: string; image: string; created: number; revision: number },
    replicas: number,
    ready: number,
  ): Json {
    return {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      metadata: {
        name: rs.name,
        namespace: w.ns,
        uid: rs.uid,
        resourceVersion: '',
        generation: rs.revision,
        creationTimestamp: iso(rs.created),
        labels: { app: w.name, 'pod-template-hash': rs.hash },
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(w.replicas),
          'deployment.kubernetes.io/max-replicas': String(
            w.replicas + Math.max(1, Math.ceil(w.replicas / 4)),
          ),
          'deployment.kubernetes.io/revision': String(rs.revision),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: w.name,
            uid: w.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        selector: { matchLabels: { app: w.name, 'pod-template-hash': rs.hash } },
        template: this.podTemplate(w, rs.image, rs.hash),
      },
      status:
        ready > 0
          ? {
              replicas,
              fullyLabeledReplicas: replicas,
              readyReplicas: ready,
              availableReplicas: ready,
              observedGeneration: rs.revision,
            }
          : { replicas, fullyLabeledReplicas: replicas, observedGeneration: rs.revision },
    };
  }

  currentRs(w: WorkloadSim): {
    name: string;
    uid: string;
    hash: string;
    image: string;
    created: number;
    revision: number;
  } {
    return {
      name: w.rsName as string,
      uid: w.rsUid as string,
      hash: w.hash as string,
      image: w.image,
      created: w.rsCreated ?? w.created,
      revision: w.generation,
    };
  }

  endpoints(w: WorkloadSim, svc: ServiceSim): Json {
    const members = w.pods
      .filter((p) => !p.gone && p.ip !== undefined && p.node !== undefined)
      .sort((a, b) => (a.ip as string).localeCompare(b.ip as string));
    const addr = (p: PodSim): Json => ({
      ip: p.ip,
      nodeName: p.node?.name,
      targetRef: { kind: 'Pod', namespace: w.ns, name: p.name, uid: p.uid },
    });
    const ready = members.filter((p) => p.deletion === undefined && p.ready);
    const notReady = members.filter((p) => !(p.deletion === undefined && p.ready));
    const subset: Json = {};
    if (ready.length > 0) subset['addresses'] = ready.map(addr);
    if (notReady.length > 0) subset['notReadyAddresses'] = notReady.map(addr);
    subset['ports'] = [{ name: w.lang === 'coredns' ? 'dns' : 'http', port: svc.port, protocol: 'TCP' }];
    return {
      kind: 'Endpoints',
      apiVersion: 'v1',
      metadata: {
        name: svc.name,
        namespace: w.ns,
        uid: svc.uid,
        resourceVersion: '',
        creationTimestamp: iso(svc.created),
        labels: { app: w.name },
      },
      subsets: members.length === 0 ? [] : [subset],
    };
  }

  emitEndpoints(ts: number, w: WorkloadSim): void {
    if (w.service !== undefined) this.watch(ts, 'MODIFIED', this.endpoints(w, w.service));
  }

  hpaObject(w: WorkloadSim, util: number): Json {
    const h = w.hpa as NonNullable<WorkloadSim['hpa']>;
    const atMax = w.replicas >= h.max;
    const cond = (type: string, status: string, reason: string, message: string): Json => ({
      type,
      status,
      lastTransitionTime: iso(w.created + HOUR),
      reason,
      message,
    });
    return {
      kind: 'HorizontalPodAutoscaler',
      apiVersion: 'autoscaling/v2',
      metadata: {
        name: w.name,
        namespace: w.ns,
        uid: h.uid,
        resourceVersion: '',
        creationTimestamp: iso(w.created + HOUR),
      },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: w.name, apiVersion: 'apps/v1' },
        minReplicas: h.min,
        maxReplicas: h.max,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: h.util } },
          },
        ],
      },
      status: {
        currentReplicas: w.replicas,
        desiredReplicas: w.replicas,
        currentMetrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              current: { averageValue: `${Math.round((util / 100) * w.cpuReq)}m`, averageUtilization: util },
            },
          },
        ],
        conditions: [
          cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size'),
          cond(
            'ScalingActive',
            'True',
            'ValidMetricFound',
            'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
          ),
          atMax
            ? cond(
                'ScalingLimited',
                'True',
                'TooManyReplicas',
                'the desired replica count is more than the maximum replica count',
              )
            : cond(
                'ScalingLimited',
                'False',
                'DesiredWithinRange',
                'the desired count is within the acceptable range',
              ),
        ],
      },
    };
  }

  // -- the snapshot at the start ---------------------------------------------------------------

  snapshot(): void {
    const t0 = this.t0;
    const before = this.seq;
    const all = [SYSTEM_NS, 'kube-public', 'kube-node-lease', 'default', ...this.namespaces];
    for (const ns of all) {
      this.watch(t0, 'ADDED', {
        kind: 'Namespace',
        apiVersion: 'v1',
        metadata: this.meta(null, ns, t0 - (this.namespaces.includes(ns) ? 60 : 90) * DAY, {
          labels: { 'kubernetes.io/metadata.name': ns },
        }),
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    for (const n of this.nodes) this.watch(t0, 'ADDED', this.nodeObject(n, t0 - this.jitter(40 * SEC)));
    const role = (name: string, rules: Json[], builtin: boolean): void =>
      this.watch(t0, 'ADDED', {
        kind: 'ClusterRole',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: this.meta(
          null,
          name,
          t0 - 90 * DAY,
          builtin ? { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } } : {},
        ),
        rules,
      });
    role(
      'cluster-admin',
      [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ],
      true,
    );
    role(
      'view',
      [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'services', 'endpoints'] }],
      true,
    );
    role('platform-operator', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], false);
    role(
      'hetu-collector',
      [
        {
          verbs: ['get', 'list', 'watch'],
          apiGroups: ['', 'apps', 'batch', 'autoscaling'],
          resources: ['*'],
        },
      ],
      false,
    );
    const binding = (name: string, roleName: string, sa: string, ns: string): void =>
      this.watch(t0, 'ADDED', {
        kind: 'ClusterRoleBinding',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: this.meta(null, name, t0 - 20 * DAY),
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      });
    const platformNs = this.namespaces[this.namespaces.length - 1] as string;
    binding('ci-deployer-cluster-admin', 'cluster-admin', 'ci-deployer', platformNs);
    binding('hetu-collector', 'hetu-collector', 'hetu', platformNs);
    for (const ns of [SYSTEM_NS, ...this.namespaces]) {
      const sas = new Set([
        'default',
        ...this.workloads.filter((w) => w.ns === ns).map((w) => w.serviceAccount),
      ]);
      for (const sa of sas)
        this.watch(t0, 'ADDED', {
          kind: 'ServiceAccount',
          apiVersion: 'v1',
          metadata: this.meta(ns, sa, t0 - 30 * DAY),
        });
      const pol = this.nsPolicy.get(ns);
      if (pol === undefined) continue;
      if (pol.netpol)
        this.watch(t0, 'ADDED', {
          kind: 'NetworkPolicy',
          apiVersion: 'networking.k8s.io/v1',
          metadata: this.meta(ns, 'default-deny-ingress', t0 - 30 * DAY),
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        });
      if (pol.quota) {
        const hard = {
          'limits.memory': '256Gi',
          pods: '500',
          'requests.cpu': '64',
          'requests.memory': '128Gi',
        };
        this.watch(t0, 'ADDED', {
          kind: 'ResourceQuota',
          apiVersion: 'v1',
          metadata: this.meta(ns, 'compute', t0 - 30 * DAY),
          spec: { hard },
          status: {
            hard,
            used: {
              pods: String(this.workloads.filter((w) => w.ns === ns).reduce((s, w) => s + w.replicas, 0)),
            },
          },
        });
      }
      if (pol.limits)
        this.watch(t0, 'ADDED', {
          kind: 'LimitRange',
          apiVersion: 'v1',
          metadata: this.meta(ns, 'defaults', t0 - 30 * DAY),
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
    }
    for (const w of this.workloads) {
      this.watch(t0, 'ADDED', this.workloadObject(w, w.image, this.workloadStatus(w)));
      if (w.kind === 'Deployment')
        this.watch(t0, 'ADDED', this.replicaSetObject(w, this.currentRs(w), w.replicas, w.replicas));
      for (const p of w.pods) {
        if (p.pvc !== undefined)
          this.watch(t0, 'ADDED', {
            kind: 'PersistentVolumeClaim',
            apiVersion: 'v1',
            metadata: {
              ...this.meta(w.ns, p.pvc.name, w.created, { labels: { app: w.name } }),
              finalizers: ['kubernetes.io/pvc-protection'],
            },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: `${w.pvcGi}Gi` } },
              volumeName: `pvc-${this.uid()}`,
              storageClassName: 'standard-rwo',
              volumeMode: 'Filesystem',
            },
            status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: `${w.pvcGi}Gi` } },
          });
        this.emitPod(t0, p, 'ADDED');
      }
      const svc = w.service;
      if (svc !== undefined) {
        this.watch(t0, 'ADDED', {
          kind: 'Service',
          apiVersion: 'v1',
          metadata: {
            name: svc.name,
            namespace: w.ns,
            uid: svc.uid,
            resourceVersion: '',
            creationTimestamp: iso(svc.created),
            labels: { app: w.name },
          },
          spec: {
            ports: [
              {
                name: 'http',
                protocol: w.lang === 'coredns' ? 'UDP' : 'TCP',
                port: svc.port,
                targetPort: svc.port,
              },
            ],
            selector: { app: w.name },
            clusterIP: svc.clusterIP,
            clusterIPs: [svc.clusterIP],
            type: 'ClusterIP',
            sessionAffinity: 'None',
            ipFamilies: ['IPv4'],
            ipFamilyPolicy: 'SingleStack',
            internalTrafficPolicy: 'Cluster',
          },
          status: { loadBalancer: {} },
        });
        this.watch(t0, 'ADDED', this.endpoints(w, svc));
      }
      if (w.hpa !== undefined) this.watch(t0, 'ADDED', this.hpaObject(w, Math.round(w.cpuUse * 100)));
    }
    this.snapshotLines = this.seq - before;
  }

  // -- per window ------------------------------------------------------------------------------

  metricSeries(): number {
    let n = 2 + this.nodes.length * 2;
    for (const p of this.pods) {
      if (!p.running) continue;
      n +=
        2 +
        (p.w.cpuLim !== undefined ? 1 : 0) +
        (p.gcLabels !== undefined ? 1 : 0) +
        (p.pvc !== undefined ? 2 : 0);
    }
    for (const w of this.workloads) if (w.service !== undefined) n += 3;
    return n;
  }

  /** Expected duration from the expected observations per 30 s window. */
  estimate(): void {
    let logs = 0;
    for (const p of this.pods)
      if (p.w.logEvery > 0) logs += (SCRAPE_MS / (p.w.logEvery * SEC)) * (1 + p.w.errorRate * 6);
    const watches = this.nodes.length / 10 + this.workloads.filter((w) => w.hpa !== undefined).length / 2 + 2;
    const perWindow = this.metricSeries() + logs + watches;
    const windows = Math.max(8, Math.ceil((this.o.observations - this.snapshotLines) / perWindow));
    this.duration = windows * SCRAPE_MS;
  }

  window(from: number, to: number): void {
    this.scrape(from);
    for (let a = this.actions.peek(); a !== undefined && a.ts < to; a = this.actions.peek()) {
      this.actions.pop();
      a.run(a.ts);
    }
    for (const p of this.pods) this.flushLogs(p, to);
  }

  private wave(t: number, phase: number): number {
    const x = ((t - this.t0) / (40 * MIN) + phase) % 1;
    return 0.85 + 0.3 * Math.abs(x * 2 - 1);
  }

  private scrape(t: number): void {
    const nodeCpu = new Map<NodeSim, number>();
    const nodeMem = new Map<NodeSim, number>();
    for (const p of this.pods) {
      if (!p.running || p.gone) continue;
      const w = p.w;
      let cpu = p.cpu * this.wave(t, (p.created % 997) / 997) * this.noise(0.1);
      if (w.cpuLim !== undefined) cpu = Math.min(cpu, w.cpuLim / 1000);
      let mem = p.mem * this.noise(0.02);
      const g = p.grow;
      if (g !== undefined && t >= g.t0)
        mem = g.from + (g.to - g.from) * Math.min(1, (t - g.t0) / (g.t1 - g.t0)) * this.noise(0.005);
      this.metric(t, 'cpu_usage_cores', p.labelsMetric, round4(cpu));
      this.metric(t, 'memory_working_set_bytes', p.labelsMetric, Math.round(mem));
      if (w.cpuLim !== undefined) {
        const use = cpu / (w.cpuLim / 1000);
        this.metric(
          t,
          'cpu_throttled_ratio',
          p.labelsMetric,
          round4(Math.min(1, Math.max(0, use - 0.6) * 0.8 + 0.005 * this.rnd())),
        );
      }
      if (p.gcLabels !== undefined) {
        const heap = g !== undefined && t >= g.t0 ? (mem - g.from) / Math.max(1, g.to - g.from) : 0;
        this.metric(
          t,
          'gc_pause_seconds',
          p.gcLabels,
          round4(w.gcPause * this.noise(0.3) + 0.3 * heap * heap),
        );
      }
      if (p.pvc !== undefined) {
        const capBytes = (w.pvcGi as number) * GI;
        const fill = Math.min(0.99, p.pvc.fill + ((t - this.t0) / DAY) * 0.01);
        const labels = { namespace: w.ns, persistentvolumeclaim: p.pvc.name };
        this.metric(t, 'pvc_used_bytes', labels, Math.round(capBytes * fill));
        this.metric(t, 'pvc_capacity_bytes', labels, capBytes);
      }
      if (p.node !== undefined) {
        nodeCpu.set(p.node, (nodeCpu.get(p.node) ?? 0) + cpu);
        nodeMem.set(p.node, (nodeMem.get(p.node) ?? 0) + mem);
      }
    }
    for (const w of this.workloads) {
      const s = w.service;
      if (s === undefined) continue;
      const ready = w.pods.filter((p) => !p.gone && p.ready).length;
      let err = s.err * this.noise(0.4);
      let p95 = s.p95 * this.noise(0.15);
      for (const d of s.degraded) {
        if (t < d.from || t >= d.to) continue;
        err = d.err * this.noise(0.15);
        p95 *= d.latency;
      }
      if (ready === 0) err = Math.max(err, 0.95);
      const labels = { namespace: w.ns, service: s.name };
      this.metric(t, 'http_request_rate', labels, round4(s.rate * this.wave(t, 0.3) * this.noise(0.08)));
      this.metric(t, 'http_error_ratio', labels, round4(Math.min(1, err)));
      this.metric(t, 'http_p95_latency_seconds', labels, round4(p95));
    }
    for (const n of this.nodes) {
      const cpu = 0.06 + (nodeCpu.get(n) ?? 0) / NODE_CPU;
      const mem = 0.12 + (nodeMem.get(n) ?? 0) / NODE_MEM;
      this.metric(
        t,
        'node_cpu_utilisation',
        { node: n.name },
        round4(Math.min(0.99, cpu * this.noise(0.03))),
      );
      this.metric(
        t,
        'node_memory_utilisation',
        { node: n.name },
        round4(Math.min(0.99, mem * this.noise(0.01))),
      );
    }
    this.metric(t, 'coredns_nxdomain_ratio', {}, round4(0.065 * this.noise(0.2)));
    this.metric(t, 'coredns_cache_hit_ratio', {}, round4(0.88 * this.noise(0.03)));
  }

  /** Background log lines of the pod before `until`. */
  flushLogs(p: PodSim, until: number): void {
    const w = p.w;
    if (w.logEvery <= 0 || !p.running || p.quiet || p.gone) return;
    const every = w.logEvery * SEC;
    while (p.nextLog < until) {
      const t = p.nextLog;
      if (this.rnd() < w.errorRate) this.logs(t, p, errorLines(this, p, t));
      else this.log(t, p, infoLine(this, p, t));
      p.nextLog = t + Math.max(1, Math.floor(every * (0.5 + this.rnd())));
    }
  }

  // -- life-cycle steps ------------------------------------------------------------------------

  /** The container stops at `ts` (exit code, reason) and waits (`waiting` state). */
  terminate(p: PodSim, ts: number, exitCode: number, reason: string, waiting: Json): void {
    this.flushLogs(p, ts);
    const running = p.state['running'] as Json | undefined;
    p.lastState = {
      terminated: {
        exitCode,
        reason,
        startedAt: running?.['startedAt'] ?? iso(ts),
        finishedAt: iso(ts),
        containerID: p.containerID,
      },
    };
    p.state = waiting;
    const wasReady = p.ready;
    p.ready = false;
    p.started = false;
    p.running = false;
    p.node?.pods.delete(p);
    this.refreshReady(p, ts);
    this.emitPod(ts, p);
    if (wasReady) this.emitEndpoints(ts, p.w);
  }

  /** The container (re)starts at `ts`; it becomes ready `readyAfter` ms later (if still running). */
  start(p: PodSim, ts: number, readyAfter: number, restart: boolean): void {
    if (restart) p.restartCount++;
    p.containerID = `containerd://${this.hex(64)}`;
    p.state = { running: { startedAt: iso(ts) } };
    p.started = true;
    p.running = true;
    p.phase = 'Running';
    p.node?.pods.add(p);
    p.ready = false;
    this.setCond(p, 'PodReadyToStartContainers', 'True', ts);
    this.refreshReady(p, ts);
    this.emitPod(ts, p);
    p.nextLog = ts + 500 + this.jitter(2000);
    const id = p.containerID;
    this.at(ts + readyAfter, (t) => {
      if (p.containerID !== id || !p.running || p.gone) return;
      p.ready = true;
      this.refreshReady(p, t);
      this.emitPod(t, p);
      this.emitEndpoints(t, p.w);
    });
  }

  containerEvents(p: PodSim, ts: number): void {
    this.event(
      ts,
      this.podRef(p, true),
      'Normal',
      'Pulled',
      `Container image "${p.image}" already present on machine`,
      this.kubelet(p),
    );
    this.event(
      ts,
      this.podRef(p, true),
      'Normal',
      'Created',
      `Created container ${p.w.name}`,
      this.kubelet(p),
    );
    this.event(
      ts + 150,
      this.podRef(p, true),
      'Normal',
      'Started',
      `Started container ${p.w.name}`,
      this.kubelet(p),
    );
  }

  backOff(p: PodSim, seconds: number): Json {
    const secs = seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
    return {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${secs} restarting failed container=${p.w.name} pod=${p.name}_${p.w.ns}(${p.uid})`,
      },
    };
  }

  /** A new pod: ADDED Pending, scheduled, containers created; returns when it could start. */
  createPod(p: PodSim, ts: number, node: NodeSim | undefined): number {
    p.phase = 'Pending';
    this.emitPod(ts, p, 'ADDED');
    if (node === undefined) return ts;
    let t = ts + 20 + this.jitter(60);
    p.node = node;
    this.setCond(p, 'PodScheduled', 'True', t);
    this.emitPod(t, p);
    this.event(
      t,
      this.podRef(p),
      'Normal',
      'Scheduled',
      `Successfully assigned ${p.w.ns}/${p.name} to ${node.name}`,
      {
        component: 'default-scheduler',
      },
    );
    t += 200 + this.jitter(400);
    p.startTime = t;
    p.ip = p.w.hostNetwork ? node.ip : this.podIP();
    this.setCond(p, 'Initialized', 'True', t);
    this.setCond(p, 'PodReadyToStartContainers', 'False', t);
    p.state = { waiting: { reason: 'ContainerCreating' } };
    this.refreshReady(p, t);
    this.emitPod(t, p);
    return t + 1000 + this.jitter(2000);
  }

  // -- scenarios -------------------------------------------------------------------------------

  /** A workload not yet used by a scenario, by predicate; marks it taken. */
  take(pred: (w: WorkloadSim) => boolean): WorkloadSim | undefined {
    const candidates = this.workloads.filter((w) => !w.taken && w.ns !== SYSTEM_NS && pred(w));
    if (candidates.length === 0) return undefined;
    const w = this.pick(candidates);
    w.taken = true;
    return w;
  }

  scenarios(): void {
    const D = this.duration;
    const T = (f: number): number => this.t0 + Math.floor(D * f) + this.jitter(20 * SEC);

    // Background: liveness-probe restarts of healthy pods (about one a minute per 2 000 pods) and
    // readiness flaps (three a minute per 2 000 pods).
    const healthy = (p: PodSim): boolean => p.running && !p.gone && !p.quiet && p.w.readiness && !p.w.taken;
    const background = (gap: number, what: (p: PodSim, ts: number) => void): void => {
      const loop = (ts: number): void => {
        const p = this.pick(this.pods);
        if (healthy(p)) what(p, ts);
        this.at(ts + Math.floor(gap * (0.2 + 1.6 * this.rnd())), loop);
      };
      this.at(this.t0 + Math.floor(gap * this.rnd()), loop);
    };
    background((MIN * 2000) / this.o.pods, (p, ts) => this.livenessRestart(p, ts));
    background((20 * SEC * 2000) / this.o.pods, (p, ts) => this.readinessFlap(p, ts));
    // Node heartbeats (status every 5 min), HPA status every minute.
    for (const n of this.nodes) {
      const beat = (ts: number): void => {
        this.watch(ts, 'MODIFIED', this.nodeObject(n, ts));
        this.at(ts + 5 * MIN, beat);
      };
      this.at(this.t0 + this.jitter(5 * MIN), beat);
    }
    for (const w of this.workloads) {
      if (w.hpa === undefined) continue;
      const tick = (ts: number): void => {
        const util = Math.round(w.cpuUse * 100 * this.noise(0.15));
        const h = w.hpa as NonNullable<WorkloadSim['hpa']>;
        const r = this.rnd();
        if (!w.taken && r < 0.06 && w.replicas < h.max) this.scale(w, ts, +1);
        else if (!w.taken && r > 0.94 && w.replicas > h.min) this.scale(w, ts, -1);
        this.watch(ts, 'MODIFIED', this.hpaObject(w, util));
        this.at(ts + MIN + this.jitter(10 * SEC), tick);
      };
      this.at(this.t0 + this.jitter(MIN), tick);
    }

    // Crash-looping pods, one language after another.
    const crashes = Math.min(8, Math.max(1, Math.round(this.o.pods / 400)));
    for (let i = 0; i < crashes; i++) {
      const lang = LANGS[i % LANGS.length] as Lang;
      const w =
        this.take((x) => x.kind === 'Deployment' && x.lang === lang && x.replicas >= 2) ??
        this.take((x) => x.kind === 'Deployment' && LANGS.includes(x.lang));
      const p = w?.pods[0];
      if (p !== undefined) this.at(T(0.12 + 0.05 * i), (ts) => this.crashLoop(p, ts, 0));
    }
    // OOM: memory grows to the limit, OOMKilled, then faster each run, crash-looping.
    const oomW =
      this.take((x) => x.kind === 'Deployment' && x.lang === 'java') ??
      this.take((x) => x.kind === 'Deployment');
    const oomPod = oomW?.pods[0];
    if (oomW !== undefined && oomPod !== undefined) {
      if (oomW.memLim === undefined) {
        oomW.memLim = oomW.memReq * 2;
        oomW.containers.clear();
      }
      const limit = oomW.memLim * MI;
      oomPod.grow = { t0: T(0.08), t1: T(0.3), from: oomPod.mem, to: limit };
      this.at(oomPod.grow.t1, (ts) => this.oomKill(oomPod, ts, 0, limit));
    }
    // A healthy rollout, an image-pull failure, an unschedulable pod.
    const rollW = this.take((x) => x.kind === 'Deployment' && x.replicas >= 3 && x.replicas <= 12);
    if (rollW !== undefined) this.at(T(0.35), (ts) => this.rollout(rollW, ts, false));
    const pullW = this.take((x) => x.kind === 'Deployment' && x.replicas >= 2);
    if (pullW !== undefined) this.at(T(0.45), (ts) => this.rollout(pullW, ts, true));
    const pendingNs = this.pick(this.namespaces);
    this.at(T(0.25), (ts) => this.unschedulable(pendingNs, ts));
    // A database whose readiness fails; its callers log connection errors and their error ratio rises.
    const db = this.take((x) => x.kind === 'StatefulSet' && this.workloads.some((c) => c.dependsOn === x));
    if (db !== undefined) this.dependencyDown(db, T(0.55), T(0.68));
  }

  /** The readiness probe fails for a while: Unhealthy events, unready, ready again. */
  readinessFlap(p: PodSim, ts: number): void {
    const ref = this.podRef(p, true);
    const msg = `Readiness probe failed: Get "http://${p.ip}:${p.w.port}/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
    const fails = this.int(3, 6);
    for (let f = 0; f < fails; f++)
      this.event(ts + f * 5 * SEC, ref, 'Warning', 'Unhealthy', msg, this.kubelet(p));
    const id = p.containerID;
    this.at(ts + 10 * SEC + 100, (t) => {
      if (p.containerID !== id || !p.ready) return;
      p.ready = false;
      this.refreshReady(p, t);
      this.emitPod(t, p);
      this.emitEndpoints(t, p.w);
      this.at(t + fails * 5 * SEC, (r) => {
        if (p.containerID !== id || !p.running || p.gone) return;
        p.ready = true;
        this.refreshReady(p, r);
        this.emitPod(r, p);
        this.emitEndpoints(r, p.w);
      });
    });
  }

  /** The HPA scales the Deployment by one pod, up or down. */
  scale(w: WorkloadSim, ts: number, by: 1 | -1): void {
    const from = w.replicas;
    w.replicas += by;
    const hpaRef = {
      kind: 'HorizontalPodAutoscaler',
      apiVersion: 'autoscaling/v2',
      ns: w.ns,
      name: w.name,
      uid: w.hpa?.uid ?? '',
    };
    this.event(
      ts,
      hpaRef,
      'Normal',
      'SuccessfulRescale',
      `New size: ${w.replicas}; reason: cpu resource utilization (percentage of request) ${by > 0 ? 'above' : 'below'} target`,
      { component: 'horizontal-pod-autoscaler' },
    );
    this.watch(ts + 10, 'MODIFIED', this.workloadObject(w, w.image, this.workloadStatus(w)));
    const rs = this.currentRs(w);
    this.event(
      ts + 20,
      { kind: 'Deployment', apiVersion: 'apps/v1', ns: w.ns, name: w.name, uid: w.uid },
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${by > 0 ? 'up' : 'down'} replica set ${rs.name} from ${from} to ${w.replicas}`,
      { component: 'deployment-controller' },
    );
    this.watch(ts + 20, 'MODIFIED', this.replicaSetObject(w, rs, w.replicas, from));
    if (by < 0) {
      const victim = [...w.pods].reverse().find((p) => !p.gone && p.deletion === undefined);
      if (victim !== undefined) {
        this.event(
          ts + 30,
          { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns: w.ns, name: rs.name, uid: rs.uid },
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${victim.name}`,
          { component: 'replicaset-controller' },
        );
        this.retire(w, victim, ts + 40);
      }
      return;
    }
    const p = this.newPod(w, ts + 40, w.pods.length);
    this.event(
      ts + 40,
      { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns: w.ns, name: rs.name, uid: rs.uid },
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${p.name}`,
      { component: 'replicaset-controller' },
    );
    const busy = this.nodes.length - Math.max(1, Math.round(this.nodes.length / 20));
    const startAt = this.createPod(p, ts + 40, this.nodes[this.jitter(busy)] as NodeSim);
    this.at(startAt, (r) => {
      if (p.gone) return;
      this.containerEvents(p, r);
      this.start(p, r + 150, 8 * SEC + this.jitter(8000), false);
    });
  }

  livenessRestart(p: PodSim, ts: number): void {
    const ref = this.podRef(p, true);
    const src = this.kubelet(p);
    const msg = `Liveness probe failed: Get "http://${p.ip}:${p.w.port}/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
    for (let f = 0; f < 3; f++) this.event(ts + f * 10 * SEC, ref, 'Warning', 'Unhealthy', msg, src);
    const kill = ts + 20 * SEC + 200;
    this.event(
      kill,
      ref,
      'Normal',
      'Killing',
      `Container ${p.w.name} failed liveness probe, will be restarted`,
      src,
    );
    const exit = kill + 30 * SEC;
    this.at(exit, (t) => {
      if (!p.running || p.gone) return;
      this.terminate(p, t, 137, 'Error', { waiting: { reason: 'ContainerCreating' } });
      this.containerEvents(p, t + 800);
      this.at(t + 1000, (s) => this.start(p, s, 15 * SEC + this.jitter(10 * SEC), true));
    });
  }

  crashLoop(p: PodSim, ts: number, run: number): void {
    if (p.gone) return;
    p.quiet = true;
    const backoffs = [0, 10, 20, 40, 80, 160, 300];
    let t = ts;
    if (run > 0) {
      this.containerEvents(p, t);
      t += 150;
      this.start(p, t, 20 * SEC, true);
      this.logs(t + 400, p, [startupLine(this, p, t + 400)]);
    }
    const crash = t + 2000 + this.jitter(6000);
    this.at(crash, (c) => {
      this.logs(c, p, crashLines(this, p, c));
      const exitAt = c + 30;
      const delay = backoffs[Math.min(run + 1, backoffs.length - 1)] as number;
      if (run === 0) {
        this.terminate(p, exitAt, 1, 'Error', { waiting: { reason: 'ContainerCreating' } });
        this.at(exitAt + 1000, (s) => this.crashLoop(p, s, 1));
        return;
      }
      this.terminate(p, exitAt, 1, 'Error', this.backOff(p, delay));
      this.event(
        exitAt + 600,
        this.podRef(p, true),
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${p.w.name} in pod ${p.name}_${p.w.ns}(${p.uid})`,
        this.kubelet(p),
      );
      this.at(exitAt + delay * SEC, (s) => this.crashLoop(p, s, run + 1));
    });
  }

  oomKill(p: PodSim, ts: number, run: number, limit: number): void {
    if (p.gone) return;
    p.quiet = true;
    const node = p.node;
    if (node !== undefined && run < 3) {
      this.event(
        ts + 200,
        { kind: 'Node', apiVersion: 'v1', ns: null, name: node.name, uid: node.uid },
        'Warning',
        'OOMKilling',
        `Memory cgroup out of memory: Killed process ${2000 + this.jitter(30000)} (java) total-vm:${Math.round(limit / 1024 + 3_400_000)}kB, anon-rss:${Math.round(limit / 1024)}kB, file-rss:21504kB, shmem-rss:0kB, UID:10001 pgtables:2660kB oom_score_adj:984`,
        { component: 'kernel-monitor', host: node.name },
      );
    }
    const backoffs = [0, 10, 20, 40, 80, 160, 300];
    const delay = backoffs[Math.min(run, backoffs.length - 1)] as number;
    this.terminate(
      p,
      ts,
      137,
      'OOMKilled',
      run === 0 ? { waiting: { reason: 'ContainerCreating' } } : this.backOff(p, delay),
    );
    if (run > 0)
      this.event(
        ts + 600,
        this.podRef(p, true),
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${p.w.name} in pod ${p.name}_${p.w.ns}(${p.uid})`,
        this.kubelet(p),
      );
    const restartAt = ts + 1000 + delay * SEC;
    this.at(restartAt, (r) => {
      this.containerEvents(p, r);
      const s = r + 150;
      this.start(p, s, 25 * SEC, true);
      this.logs(s + 400, p, [startupLine(this, p, s + 400)]);
      const end = s + 100 * SEC + this.jitter(40 * SEC);
      p.grow = { t0: s, t1: end, from: p.mem * 0.8, to: limit };
      const heapWarn = (t: number): void => {
        if (!p.running || t >= end) return;
        const used = (p.mem * 0.8 + ((limit - p.mem * 0.8) * (t - s)) / (end - s)) / MI;
        this.log(
          t,
          p,
          `${javaTs(t)}  WARN 1 --- [${p.w.name}] [pool-3-thread-2] c.e.${p.w.name}.cache.SessionCache        : session cache holds ${Math.round(used * 340)} entries (${Math.round(used)} MiB heap in use), eviction disabled by cache.evict=false`,
        );
        this.at(t + 15 * SEC, heapWarn);
      };
      this.at(s + 5 * SEC, heapWarn);
      this.at(end, (k) => this.oomKill(p, k, run + 1, limit));
    });
  }

  /** A rolling update: new ReplicaSet, pods replaced one by one; `broken`: the image does not exist. */
  rollout(w: WorkloadSim, ts: number, broken: boolean): void {
    const old = this.currentRs(w);
    w.generation++;
    const tag = broken ? '9.9.9-rc1' : `${this.int(6, 9)}.${this.int(0, 9)}.${this.int(0, 9)}`;
    const image = `${w.image.split(':')[0]}:${tag}`;
    const rs = {
      name: '',
      uid: this.uid(),
      hash: this.suffix(10).slice(0, 9 + Math.floor(this.rnd() * 2)),
      image,
      created: ts + 30,
      revision: w.generation,
    };
    rs.name = `${w.name}-${rs.hash}`;
    const depRef = { kind: 'Deployment', apiVersion: 'apps/v1', ns: w.ns, name: w.name, uid: w.uid };
    const progressing = (t: number): Json =>
      this.progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${rs.name}" is progressing.`, t);
    this.watch(
      ts,
      'MODIFIED',
      this.workloadObject(w, image, this.deploymentStatus(w, w.replicas, 0, w.replicas, progressing(ts))),
    );
    this.watch(ts + 30, 'ADDED', this.replicaSetObject(w, rs, 1, 0));
    this.event(
      ts + 30,
      depRef,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${rs.name} from 0 to 1`,
      { component: 'deployment-controller' },
    );
    const olds = w.pods.filter((p) => !p.gone);
    const step = (i: number, t: number): void => {
      const saved = { rsName: w.rsName, rsUid: w.rsUid, hash: w.hash, image: w.image };
      w.rsName = rs.name;
      w.rsUid = rs.uid;
      w.hash = rs.hash;
      w.image = image;
      const p = this.newPod(w, t + 50, i);
      if (broken) Object.assign(w, saved);
      this.event(
        t + 50,
        { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns: w.ns, name: rs.name, uid: rs.uid },
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${p.name}`,
        { component: 'replicaset-controller' },
      );
      const node = this.nodes[
        (this.nodes.length + i * 7 + this.jitter(this.nodes.length)) % this.nodes.length
      ] as NodeSim;
      const startAt = this.createPod(p, t + 50, node);
      if (broken) {
        this.pullFailure(p, startAt, 0);
        return;
      }
      this.at(startAt, (r) => {
        this.containerEvents(p, r);
        const s = r + 150;
        this.start(p, s, 8 * SEC + this.jitter(4000), false);
        const o = olds[i];
        if (o !== undefined) this.at(s + 12 * SEC, (k) => this.retire(w, o, k));
        this.watch(s + 12 * SEC, 'MODIFIED', this.replicaSetObject(w, rs, i + 1, i + 1));
        this.watch(
          s + 12 * SEC,
          'MODIFIED',
          this.replicaSetObject(w, old, w.replicas - i - 1, w.replicas - i - 1),
        );
        this.event(
          s + 12 * SEC,
          depRef,
          'Normal',
          'ScalingReplicaSet',
          `Scaled down replica set ${old.name} from ${w.replicas - i} to ${w.replicas - i - 1}`,
          { component: 'deployment-controller' },
        );
        if (i + 1 < w.replicas) this.at(s + 15 * SEC, (n) => step(i + 1, n));
        else
          this.watch(
            s + 16 * SEC,
            'MODIFIED',
            this.workloadObject(
              w,
              image,
              this.deploymentStatus(
                w,
                w.replicas,
                w.replicas,
                w.replicas,
                this.progressing(
                  'True',
                  'NewReplicaSetAvailable',
                  `ReplicaSet "${rs.name}" has successfully progressed.`,
                  s + 16 * SEC,
                ),
              ),
            ),
          );
      });
    };
    step(0, ts + 30);
    if (broken) {
      const deadline = ts + 600 * SEC + 1000;
      this.at(deadline, (t) =>
        this.watch(
          t,
          'MODIFIED',
          this.workloadObject(
            w,
            image,
            this.deploymentStatus(
              w,
              w.replicas + 1,
              1,
              w.replicas,
              this.progressing(
                'False',
                'ProgressDeadlineExceeded',
                `ReplicaSet "${rs.name}" has timed out progressing.`,
                t,
              ),
            ),
          ),
        ),
      );
    }
  }

  /** An old pod of a rollout terminates: deletionTimestamp, container exits, DELETED. */
  retire(w: WorkloadSim, p: PodSim, ts: number): void {
    if (p.gone) return;
    p.quiet = true;
    this.event(
      ts,
      this.podRef(p, true),
      'Normal',
      'Killing',
      `Stopping container ${w.name}`,
      this.kubelet(p),
    );
    p.deletion = ts;
    this.flushLogs(p, ts);
    p.ready = false;
    this.refreshReady(p, ts);
    this.emitPod(ts, p);
    this.emitEndpoints(ts, w);
    this.at(ts + 2000, (t) => {
      const running = p.state['running'] as Json | undefined;
      p.state = {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: running?.['startedAt'] ?? iso(t),
          finishedAt: iso(t),
          containerID: p.containerID,
        },
      };
      p.started = false;
      p.running = false;
      p.node?.pods.delete(p);
      this.emitPod(t, p);
    });
    this.at(ts + 4000, (t) => {
      p.gone = true;
      p.phase = 'Succeeded';
      this.emitPod(t, p, 'DELETED');
      this.emitEndpoints(t, w);
    });
  }

  pullFailure(p: PodSim, ts: number, attempt: number): void {
    const ref = this.podRef(p, true);
    const src = this.kubelet(p);
    const repo = p.image.split(':')[0] as string;
    const tag = p.image.split(':')[1] as string;
    this.event(ts, ref, 'Normal', 'Pulling', `Pulling image "${p.image}"`, src);
    const failAt = ts + 1200 + this.jitter(800);
    this.event(
      failAt,
      ref,
      'Warning',
      'Failed',
      `Failed to pull image "${p.image}": rpc error: code = NotFound desc = failed to pull and unpack image "${p.image}": failed to resolve reference "${p.image}": ${repo}:${tag}: not found`,
      src,
    );
    this.event(failAt, ref, 'Warning', 'Failed', 'Error: ErrImagePull', src);
    p.state = {
      waiting: {
        reason: 'ErrImagePull',
        message: `rpc error: code = NotFound desc = failed to pull and unpack image "${p.image}": failed to resolve reference "${p.image}": ${repo}:${tag}: not found`,
      },
    };
    this.refreshReady(p, failAt);
    this.emitPod(failAt, p);
    const backoff = [10, 20, 40, 80, 160, 300][Math.min(attempt, 5)] as number;
    this.at(failAt + 1500, (t) => {
      p.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${p.image}"` } };
      this.emitPod(t, p);
      this.event(t, ref, 'Normal', 'BackOff', `Back-off pulling image "${p.image}"`, src);
      this.event(t, ref, 'Warning', 'Failed', 'Error: ImagePullBackOff', src);
      this.at(t + backoff * SEC, (n) => this.pullFailure(p, n, attempt + 1));
    });
  }

  unschedulable(ns: string, ts: number): void {
    const w = this.workload({
      ns,
      name: 'batch-exporter',
      kind: 'Deployment',
      replicas: 1,
      lang: 'python',
      image: `registry.example.com/${ns}/batch-exporter:1.0.0`,
      cpuReq: 2000,
      memReq: 64 * 1024,
      memLim: 64 * 1024,
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      serviceAccount: 'default',
      logEvery: 60,
      daysAgo: 0,
    });
    w.created = ts;
    w.rsCreated = ts + 20;
    w.taken = true;
    this.workloads.push(w);
    const rs = this.currentRs(w);
    this.watch(
      ts,
      'ADDED',
      this.workloadObject(
        w,
        w.image,
        this.deploymentStatus(
          w,
          1,
          1,
          0,
          this.progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${rs.name}" is progressing.`, ts),
        ),
      ),
    );
    this.watch(ts + 20, 'ADDED', this.replicaSetObject(w, rs, 1, 0));
    this.event(
      ts + 20,
      { kind: 'Deployment', apiVersion: 'apps/v1', ns, name: w.name, uid: w.uid },
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${rs.name} from 0 to 1`,
      { component: 'deployment-controller' },
    );
    const p = this.newPod(w, ts + 40, 0);
    this.event(
      ts + 40,
      { kind: 'ReplicaSet', apiVersion: 'apps/v1', ns, name: rs.name, uid: rs.uid },
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${p.name}`,
      { component: 'replicaset-controller' },
    );
    this.createPod(p, ts + 40, undefined);
    const n = this.nodes.length;
    const msg = `0/${n} nodes are available: ${n} Insufficient memory. preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`;
    this.setCond(p, 'PodScheduled', 'False', ts + 60, 'Unschedulable', msg);
    this.emitPod(ts + 60, p);
    const retry = (t: number): void => {
      this.event(t, this.podRef(p), 'Warning', 'FailedScheduling', msg, { component: 'default-scheduler' });
      this.at(t + 5 * MIN, retry);
    };
    this.at(ts + 60, retry);
  }

  dependencyDown(db: WorkloadSim, from: number, to: number): void {
    const callers = this.workloads.filter((c) => c.dependsOn === db);
    for (const c of callers) c.taken = true;
    const host = `${db.service?.name ?? db.name}.${db.ns}.svc.cluster.local:${db.port ?? 5432}`;
    for (const [k, p] of db.pods.entries()) {
      if (!p.running) continue;
      const start = from + k * 4000;
      const ref = this.podRef(p, true);
      const msg = `Readiness probe failed: dial tcp ${p.ip}:${db.port}: connect: connection refused`;
      for (let t = start; t < to; t += 10 * SEC)
        this.event(t, ref, 'Warning', 'Unhealthy', msg, this.kubelet(p));
      this.at(start + 15 * SEC, (t) => {
        p.ready = false;
        this.refreshReady(p, t);
        this.emitPod(t, p);
        this.emitEndpoints(t, db);
        this.log(t, p, dbErrorLine(p, t));
      });
      this.at(to, (t) => {
        if (!p.running) return;
        p.ready = true;
        this.refreshReady(p, t);
        this.emitPod(t, p);
        this.emitEndpoints(t, db);
      });
    }
    for (const c of callers) {
      c.service?.degraded.push({
        from: from + 20 * SEC,
        to: to + 30 * SEC,
        err: 0.2 + this.rnd() * 0.4,
        latency: 8,
      });
      for (const p of c.pods) {
        const burst = (t: number): void => {
          if (t >= to || p.gone || !p.running) return;
          this.logs(t, p, dependencyLines(this, p, t, host));
          this.at(t + 2000 + this.jitter(4000), burst);
        };
        this.at(from + 20 * SEC + this.jitter(4000), burst);
      }
    }
  }
}

const COND_ORDER = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

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
const DAEMONSET_TOLERATIONS: Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
];

// ---------------------------------------------------------------------------------------------
// Log lines, by language.

function path(sim: ScaleSim): string {
  return sim.pick(PATHS).replace('{id}', String(sim.int(1, 99_999)));
}

function infoLine(sim: ScaleSim, p: PodSim, t: number): string {
  const ms = 2 + Math.floor(sim.rnd() * 80);
  const w = p.w;
  switch (w.lang) {
    case 'node':
      return `{"level":30,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","req":{"method":"GET","url":"${path(sim)}"},"res":{"statusCode":200},"responseTime":${ms},"msg":"request completed"}`;
    case 'java':
      return `${javaTs(t)}  INFO 1 --- [${w.name}] [nio-8080-exec-${sim.int(1, 10)}] c.e.${w.name}.web.RequestLoggingFilter   : GET ${path(sim)} -> 200 in ${ms} ms`;
    case 'go':
      return `time=${isoMs(t)} level=INFO msg="request" method=${sim.rnd() < 0.3 ? 'POST' : 'GET'} path=${path(sim)} status=200 duration_ms=${ms}`;
    case 'python':
      return `${pyTs(t)} INFO ${w.name}.api: GET ${path(sim)} 200 took_ms=${ms}`;
    case 'postgres':
      return `${javaTs(t)} UTC [${sim.int(100, 999)}] LOG:  checkpoint complete: wrote ${sim.int(10, 900)} buffers (${(sim.rnd() * 5).toFixed(1)}%); 0 WAL file(s) added, 0 removed, 1 recycled; write=${(sim.rnd() * 90).toFixed(3)} s, sync=0.004 s, total=${(90 + sim.rnd()).toFixed(3)} s`;
    case 'redis':
      return `1:M ${redisTs(t)} * ${sim.int(10, 100)} changes in 300 seconds. Saving...`;
    case 'coredns':
      return `[INFO] 10.${64 + sim.int(0, 3)}.${sim.int(0, 255)}.${sim.int(2, 250)}:${sim.int(30000, 60000)} - ${sim.int(1, 65535)} "A IN ${sim.pick(['api', 'orders', 'auth', 'redis'])}.${sim.pick(NAMESPACES)}.svc.cluster.local. udp 54 false 512" NOERROR qr,aa,rd 110 0.000${sim.int(100, 900)}s`;
    case 'agent':
      return `[${javaTs(t).replace('.', ' ').slice(0, 19)}] [ info] [output:forward:forward.0] flushed ${sim.int(100, 4000)} records (${sim.int(20, 900)} KiB)`;
    default:
      return `I${isoMs(t).slice(5, 10).replace('-', '')} ${isoMs(t).slice(11, 23)}       1 proxier.go:${sim.int(700, 900)}] "SyncProxyRules complete" elapsed="${sim.int(20, 300)}ms"`;
  }
}

function redisTs(t: number): string {
  const d = new Date(t);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    d.getUTCMonth()
  ];
  return `${String(d.getUTCDate()).padStart(2, '0')} ${mon} ${d.getUTCFullYear()} ${isoMs(t).slice(11, 23)}`;
}

function startupLine(sim: ScaleSim, p: PodSim, t: number): string {
  const w = p.w;
  switch (w.lang) {
    case 'node':
      return `{"level":30,"time":${t},"pid":1,"hostname":"${p.name}","msg":"server listening on 0.0.0.0:${w.port ?? 3000}"}`;
    case 'java':
      return `${javaTs(t)}  INFO 1 --- [${w.name}] [           main] c.e.${w.name}.Application               : Starting Application v${p.image.split(':')[1]} using Java 21.0.5 with PID 1`;
    case 'go':
      return `time=${isoMs(t)} level=INFO msg="starting" version=${p.image.split(':')[1]} go=go1.23.4`;
    case 'python':
      return `[${isoMs(t).replace('T', ' ').slice(0, 19)} +0000] [1] [INFO] Starting gunicorn 23.0.0`;
    default:
      return `${javaTs(t)} starting ${w.name} (${sim.hex(7)})`;
  }
}

/** A background error of the pod's language, with its stack trace (one line per log line). */
function errorLines(sim: ScaleSim, p: PodSim, t: number): string[] {
  const w = p.w;
  const Cls = className(w.name);
  const variant = sim.rnd() < 0.7 ? 0 : 1;
  switch (w.lang) {
    case 'node':
      return [
        variant === 0
          ? `{"level":50,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","err":{"type":"TypeError","message":"Cannot read properties of undefined (reading 'id')","stack":"TypeError: Cannot read properties of undefined (reading 'id')\\n    at ${Cls}Service.total (/app/dist/services/${w.name}.js:88:31)\\n    at ${Cls}Controller.get (/app/dist/controllers/${w.name}.js:41:27)\\n    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)"},"msg":"request failed"}`
          : `{"level":50,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","err":{"type":"Error","message":"Request failed with status code 503","stack":"AxiosError: Request failed with status code 503\\n    at settle (/app/node_modules/axios/dist/node/axios.cjs:2019:12)\\n    at IncomingMessage.handleStreamEnd (/app/node_modules/axios/dist/node/axios.cjs:3135:11)"},"msg":"upstream call failed"}`,
      ];
    case 'java':
      return variant === 0
        ? [
            `${javaTs(t)} ERROR 1 --- [${w.name}] [nio-8080-exec-${sim.int(1, 10)}] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.NullPointerException] with root cause`,
            `java.lang.NullPointerException: Cannot invoke "com.example.${w.name}.model.Customer.getId()" because "order.customer" is null`,
            `\tat com.example.${w.name}.service.${Cls}Service.total(${Cls}Service.java:${sim.int(40, 200)})`,
            `\tat com.example.${w.name}.web.${Cls}Controller.get(${Cls}Controller.java:57)`,
            '\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
            '\t... 87 common frames omitted',
          ]
        : [
            `${javaTs(t)}  WARN 1 --- [${w.name}] [nio-8080-exec-${sim.int(1, 10)}] o.h.engine.jdbc.spi.SqlExceptionHelper   : SQL Error: 0, SQLState: 40001`,
            `${javaTs(t)} ERROR 1 --- [${w.name}] [nio-8080-exec-${sim.int(1, 10)}] o.h.engine.jdbc.spi.SqlExceptionHelper   : ERROR: could not serialize access due to concurrent update`,
          ];
    case 'go':
      return [
        variant === 0
          ? `time=${isoMs(t)} level=ERROR msg="request failed" path=${path(sim)} err="context deadline exceeded" duration_ms=${sim.int(5000, 5100)}`
          : `time=${isoMs(t)} level=ERROR msg="publish failed" topic=${w.name}-events err="kafka: client has run out of available brokers to talk to: EOF"`,
      ];
    case 'python':
      return variant === 0
        ? [
            `${pyTs(t)} ERROR ${w.name}.api: Exception on ${path(sim)} [GET]`,
            'Traceback (most recent call last):',
            '  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 1511, in wsgi_app',
            '    response = self.full_dispatch_request()',
            `  File "/app/${w.name.replace(/-/g, '_')}/views.py", line 88, in get_item`,
            '    return jsonify(item.to_dict())',
            `  File "/app/${w.name.replace(/-/g, '_')}/models.py", line 41, in to_dict`,
            '    "owner": self.owner["id"],',
            "KeyError: 'id'",
          ]
        : [`${pyTs(t)} WARNING ${w.name}.cache: redis timeout after 1.0s, serving stale entry`];
    case 'postgres':
      return [
        `${javaTs(t)} UTC [${sim.int(100, 999)}] ERROR:  deadlock detected`,
        `${javaTs(t)} UTC [${sim.int(100, 999)}] DETAIL:  Process ${sim.int(1000, 9999)} waits for ShareLock on transaction ${sim.int(100000, 999999)}; blocked by process ${sim.int(1000, 9999)}.`,
      ];
    default:
      return [`${javaTs(t)} warning: slow operation took ${sim.int(1000, 5000)} ms`];
  }
}

/** What a crash-looping container writes before it exits, by language. */
function crashLines(sim: ScaleSim, p: PodSim, t: number): string[] {
  const w = p.w;
  const Cls = className(w.name);
  const mod = w.name.replace(/-/g, '_');
  switch (w.lang) {
    case 'java':
      return [
        `${javaTs(t)} ERROR 1 --- [${w.name}] [           main] o.s.boot.SpringApplication               : Application run failed`,
        `org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource' defined in class path resource [com/example/${w.name}/config/DataSourceConfig.class]: Failed to instantiate [javax.sql.DataSource]: Factory method 'dataSource' threw exception with message: password authentication failed for user "${w.name}"`,
        '\tat org.springframework.beans.factory.support.ConstructorResolver.instantiate(ConstructorResolver.java:657)',
        '\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.createBean(AbstractAutowireCapableBeanFactory.java:522)',
        `\tat com.example.${w.name}.Application.main(Application.java:12)`,
        `Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "${w.name}"`,
        '\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)',
        '\t... 48 common frames omitted',
      ];
    case 'go':
      return [
        'panic: runtime error: invalid memory address or nil pointer dereference',
        `[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x${sim.hex(6)}]`,
        '',
        'goroutine 1 [running]:',
        `github.com/example/${w.name}/internal/config.(*Loader).Apply(0x0, {0xc0001a2f00, 0x2, 0x2})`,
        '\t/src/internal/config/loader.go:88 +0x3a',
        'main.main()',
        '\t/src/cmd/server/main.go:41 +0x1c5',
      ];
    case 'python':
      return [
        'Traceback (most recent call last):',
        `  File "/app/${mod}/main.py", line 14, in <module>`,
        '    settings = Settings.from_env()',
        `  File "/app/${mod}/settings.py", line 52, in from_env`,
        '    raise ConfigError(f"missing required env {name}")',
        `${mod}.settings.ConfigError: missing required env ${w.name.toUpperCase().replace(/-/g, '_')}_API_URL`,
      ];
    default:
      return [
        `/app/dist/server.js:${sim.int(20, 60)}`,
        '    throw new Error(`unsupported config version ${cfg.version}`);',
        '    ^',
        '',
        'Error: unsupported config version 3',
        `    at loadConfig (/app/dist/config.js:27:11)`,
        `    at ${Cls}Server.start (/app/dist/server.js:41:18)`,
        '    at Object.<anonymous> (/app/dist/main.js:8:5)',
        '',
        'Node.js v22.11.0',
      ];
  }
}

function dbErrorLine(p: PodSim, t: number): string {
  return p.w.lang === 'redis'
    ? `1:M ${redisTs(t)} # Max number of clients reached`
    : `${javaTs(t)} UTC [${(t % 900) + 100}] FATAL:  sorry, too many clients already`;
}

/** A caller's error when its database is unreachable. */
function dependencyLines(sim: ScaleSim, p: PodSim, t: number, host: string): string[] {
  const w = p.w;
  const Cls = className(w.name);
  switch (w.lang) {
    case 'node':
      return [
        `{"level":50,"time":${t},"pid":1,"hostname":"${p.name}","reqId":"req-${sim.hex(6)}","err":{"type":"Error","message":"connect ECONNREFUSED ${host}","stack":"Error: connect ECONNREFUSED ${host}\\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)","code":"ECONNREFUSED"},"msg":"query failed"}`,
      ];
    case 'java':
      return [
        `${javaTs(t)} ERROR 1 --- [${w.name}] [nio-8080-exec-${sim.int(1, 10)}] c.e.${w.name}.web.${Cls}Controller         : query failed`,
        'org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection',
        `\tat com.example.${w.name}.repository.${Cls}Repository.findById(${Cls}Repository.java:61)`,
        `Caused by: java.net.ConnectException: Connection refused (${host})`,
        '\tat java.base/sun.nio.ch.Net.connect0(Native Method)',
        '\t... 12 common frames omitted',
      ];
    case 'go':
      return [
        `time=${isoMs(t)} level=ERROR msg="query failed" err="dial tcp ${host}: connect: connection refused"`,
      ];
    default:
      return [
        `${pyTs(t)} ERROR ${w.name}.db: query failed`,
        'Traceback (most recent call last):',
        `  File "/app/${w.name.replace(/-/g, '_')}/db.py", line 30, in fetch`,
        '    conn = pool.getconn()',
        `psycopg.OperationalError: connection failed: connection to server at "${host}" failed: Connection refused`,
      ];
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The observations of the scale recording, in recording order (non-decreasing ts), exactly
 * `observations` of them. Lazy: memory stays small at any size.
 */
export function* generateScaleObservations(options: ScaleRecordingOptions = {}): Generator<Observation> {
  const o = resolve(options);
  if (o.observations === 0) return;
  const sim = new ScaleSim(o);
  sim.layout();
  sim.snapshot();
  sim.estimate();
  sim.scenarios();
  let n = 0;
  for (let from = o.startMs; ; from += SCRAPE_MS) {
    const to = from + SCRAPE_MS;
    sim.window(from, to);
    for (let obs = sim.next(to); obs !== undefined; obs = sim.next(to)) {
      yield obs;
      if (++n === o.observations) return;
    }
  }
}

/** The scale recording's lines (SPEC §1.1), each without its line break. */
export function* generateScaleRecording(options: ScaleRecordingOptions = {}): Generator<string> {
  for (const obs of generateScaleObservations(options)) yield formatObservation(obs);
}

/**
 * Writes the scale recording to `path` (gzip when it ends in `.gz`): the lines of
 * `formatObservation` (the recording writer's format), written in 256 KiB chunks.
 */
export async function writeScaleRecording(
  path: string,
  options: ScaleRecordingOptions = {},
): Promise<ScaleRecordingStats> {
  const stats: ScaleRecordingStats = {
    observations: 0,
    watch: 0,
    metric: 0,
    log: 0,
    firstTs: 0,
    lastTs: 0,
    bytes: 0,
  };
  function* chunks(): Generator<string> {
    let parts: string[] = [];
    let size = 0;
    for (const obs of generateScaleObservations(options)) {
      if (stats.observations === 0) stats.firstTs = obs.ts;
      stats.lastTs = obs.ts;
      stats.observations++;
      stats[obs.kind]++;
      const line = `${formatObservation(obs)}\n`;
      parts.push(line);
      size += line.length;
      if (size >= 256 * 1024) {
        yield parts.join('');
        parts = [];
        size = 0;
      }
    }
    if (parts.length > 0) yield parts.join('');
  }
  const source = Readable.from(chunks());
  if (path.endsWith('.gz')) await pipeline(source, createGzip(), createWriteStream(path));
  else await pipeline(source, createWriteStream(path));
  stats.bytes = (await stat(path)).size;
  return stats;
}
