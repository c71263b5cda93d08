import { describe, expect, it } from 'vitest';
import {
  ProcessorTestDriver,
  changelogRecords,
  foldBatch,
  type FactRecord,
  type LogRecord,
  type TaskState,
} from '@hetu/streams';
import { type Command, type RecordTypes } from '@hetu/schemas';
import {
  SOURCE_KEY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
} from '../rekey/rekey.ts';
import type { RcaReportRecord } from '../rca/record.ts';
import type { IncidentRecord } from './record.ts';
import {
  ANOMALIES_SOURCE,
  METRICS_SOURCE,
  CLUSTER_FEED_TOPIC,
  ERROR_GROUPS_SOURCE,
  INCIDENTS_TOPIC,
  INCIDENT_COMMANDS_TOPIC,
  KUBE_SOURCE,
  NODE_HEALTH_SOURCE,
  POD_HEALTH_SOURCE,
  RCA_TOPIC,
  incidentsProcessor,
  withRootCause,
  type IncidentsInput,
  type IncidentsProcessorConfig,
  type IncidentsTaskState,
} from './topology.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 8);

/** The test double of the Avro decoders: every value is its record as JSON. */
const decode = async (_topic: string, value: Buffer): Promise<unknown> => JSON.parse(value.toString('utf8'));
const decodeCommand = async (r: LogRecord): Promise<Command> =>
  JSON.parse((r.value as Buffer).toString('utf8')) as Command;
/** Only the current source topic holds the clock (the unit streams have few records). */
const CONFIG: IncidentsProcessorConfig = { idleRecords: 1 };
const processor = () => incidentsProcessor({ decode, decodeCommand, config: CONFIG });

type Driver = ProcessorTestDriver<IncidentsInput, IncidentsTaskState>;

/** One input: a fact of a source topic (re-keyed into the feed) or a command. */
interface In {
  readonly topic: string;
  readonly ts: number;
  readonly key: string;
  readonly value: unknown;
}

const offsets = new Map<string, number>();
function header(i: In, offset: number): Record<string, Buffer> {
  return {
    [SOURCE_TOPIC_HEADER]: Buffer.from(i.topic),
    [SOURCE_PARTITION_HEADER]: Buffer.from('0'),
    [SOURCE_OFFSET_HEADER]: Buffer.from(String(offset)),
    [SOURCE_KEY_HEADER]: Buffer.from(i.key),
  };
}

/** Source offsets: position of each input in its own topic, numbered per stream. */
function positions(stream: readonly In[]): number[] {
  offsets.clear();
  return stream.map((i) => {
    const o = offsets.get(i.topic) ?? 0;
    offsets.set(i.topic, o + 1);
    return o;
  });
}

function toRecord(i: In, offset: number, feedOffset: bigint): LogRecord {
  const value = i.value === null ? null : Buffer.from(JSON.stringify(i.value));
  if (i.topic === INCIDENT_COMMANDS_TOPIC)
    return {
      topic: i.topic,
      partition: 0,
      offset: feedOffset,
      key: Buffer.from('c1'),
      value,
      timestamp: i.ts,
      headers: {},
    };
  return {
    topic: CLUSTER_FEED_TOPIC,
    partition: 0,
    offset: feedOffset,
    key: Buffer.from('c1'),
    value,
    timestamp: i.ts,
    headers: header(i, offset),
  };
}

async function pipeAll(d: Driver, stream: readonly In[]): Promise<void> {
  const pos = positions(stream);
  for (const [n, i] of stream.entries()) {
    const r = toRecord(i, pos[n] as number, 0n);
    await d.pipe(r.topic, { key: 'c1', value: r.value, timestamp: r.timestamp, headers: r.headers });
  }
}

// ---- builders ----

interface PodOpts {
  ns?: string;
  workload?: string;
  node?: string;
  categories?: string[];
  reasons?: { category: string; reason: string; message?: string; exitCode?: number }[];
  restarts?: number;
}

function podHealth(name: string, ts: number, o: PodOpts = {}): In {
  const ns = o.ns ?? 'shop';
  const v: RecordTypes['PodHealth'] = {
    ts,
    cluster: 'c1',
    namespace: ns,
    name,
    uid: `uid-${name}`,
    node: o.node ?? 'node-1',
    phase: 'Running',
    workload: { kind: 'Deployment', namespace: ns, name: o.workload ?? name.split('-')[0]!, inferred: false },
    categories: o.categories ?? [],
    reasons: (o.reasons ?? []).map((r) => ({
      category: r.category,
      container: 'app',
      reason: r.reason,
      message: r.message ?? null,
      exitCode: r.exitCode ?? null,
      restartCount: null,
      at: null,
    })),
    restarts: o.restarts ?? 0,
    restartsPerHour: 0,
    ageMs: 60_000,
    evidence: { topic: KUBE_SOURCE, partition: 0, offset: '7', ts, excerpt: `MODIFIED Pod ${ns}/${name}` },
  };
  return { topic: POD_HEALTH_SOURCE, ts, key: `c1/${ns}/${name}`, value: v };
}

function nodeHealth(name: string, ts: number, notReady = false): In {
  const v: RecordTypes['NodeHealth'] = {
    ts,
    cluster: 'c1',
    name,
    uid: null,
    ready: !notReady,
    unschedulable: false,
    states: notReady ? ['NotReady'] : [],
    reasons: notReady
      ? [
          {
            state: 'NotReady',
            condition: 'Ready',
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: null,
            at: null,
          },
        ]
      : [],
    evidence: { topic: KUBE_SOURCE, partition: 0, offset: '1', ts, excerpt: '' },
  };
  return { topic: NODE_HEALTH_SOURCE, ts, key: `c1/${name}`, value: v };
}

function errorGroup(
  id: string,
  ts: number,
  o: {
    ns: string;
    workload: string;
    title: string;
    level?: string;
    reason?: string;
    first?: number;
    count?: number;
  },
): In {
  const level = o.level ?? 'error';
  const v = {
    id,
    fingerprint: id,
    faultKey: id,
    cluster: 'c1',
    namespace: o.ns,
    workload: o.workload,
    title: o.title,
    exceptionType: null,
    reason: o.reason ?? 'error',
    level,
    severityRank: level === 'fatal' || level === 'panic' ? 5 : level === 'error' ? 4 : 3,
    firstSeen: o.first ?? ts,
    lastSeen: ts,
    count: o.count ?? 1,
    ownCount: o.count ?? 1,
    status: 'open',
    regressed: false,
    regressedAt: null,
    resolvedAt: null,
    statusChangedAt: null,
    lastPod: `${o.workload}-x`,
    lastContainer: 'app',
    lastUrl: null,
    bestSample: null,
    bestSampleScore: 0,
    occurrences: [],
    countersAt: ts,
    count1m: 1,
    count5m: 1,
    count1h: 1,
    count24h: 1,
    sparkline: [],
    spike: false,
    mergedInto: null,
    mergedChildren: [],
  };
  return { topic: ERROR_GROUPS_SOURCE, ts, key: id, value: v };
}

function watch(ts: number, type: string, object: Record<string, unknown>): In {
  const meta = object['metadata'] as { name: string; namespace?: string };
  const kind = object['kind'] as string;
  return {
    topic: KUBE_SOURCE,
    ts,
    key: `c1/${meta.namespace ?? ''}/${meta.name}`,
    value: {
      ts,
      cluster: 'c1',
      type,
      apiVersion: 'v1',
      kind,
      namespace: meta.namespace ?? null,
      name: meta.name,
      uid: null,
      resourceVersion: '1',
      detail: null,
      object: JSON.stringify(object),
    },
  };
}

function deployment(
  name: string,
  image: string,
  generation: number,
  ts: number,
  type = 'MODIFIED',
  env?: { name: string; value: string }[],
): In {
  return watch(ts, type, {
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'shop',
      generation,
      annotations: { 'deployment.kubernetes.io/revision': String(generation) },
    },
    spec: { template: { spec: { containers: [{ name: 'app', image, ...(env ? { env } : {}) }] } } },
  });
}

function event(ts: number, type: string, reason: string, pod: string, message: string): In {
  return watch(ts, 'ADDED', {
    kind: 'Event',
    metadata: { name: `${pod}.${ts}`, namespace: 'shop' },
    involvedObject: { kind: 'Pod', namespace: 'shop', name: pod },
    type,
    reason,
    message,
    count: 1,
  });
}

function command(ts: number, id: string, status: string, type = 'incident.set-status'): In {
  const c: Command = {
    id: `cmd-${ts}`,
    ts,
    issuer: 'cli:test',
    type,
    targetIds: [id],
    payload: JSON.stringify({ status }),
  };
  return { topic: INCIDENT_COMMANDS_TOPIC, ts, key: 'c1', value: c };
}

const CRASH = {
  categories: ['crashloop'],
  reasons: [{ category: 'crashloop', reason: 'CrashLoopBackOff', exitCode: 1 }],
  restarts: 3,
};

// ---- reading outputs ----

const out = (d: Driver, topic: string) => d.output(topic) as readonly FactRecord[];

/** One incident fact in one line. */
function incLine(f: FactRecord): string {
  const v = f.value as IncidentRecord | null;
  if (v === null) return `${f.key} tombstone`;
  const sigs = v.signals.map((s) => `${s.source}:${s.key}${s.cleared ? '(cleared)' : ''}`).join(' ');
  return `${f.key} +${(v.updatedAt - T0) / 1000}s ${v.status}${v.resolvedBy ? '/' + v.resolvedBy : ''} ${v.severity} [${sigs}]`;
}

function rcaLine(f: FactRecord): string {
  const v = f.value as RcaReportRecord | null;
  if (v === null) return `${f.key} tombstone`;
  const r = v.rootCause;
  return `${f.key} +${(v.ts - T0) / 1000}s ${v.category}${v.subtype ? '/' + v.subtype : ''} ${r.kind}/${r.namespace}/${r.name} ${v.confidence}`;
}

// ---- scenarios ----

/** A crash-looping pod of shop/api whose logs report a configuration error, then recovering. */
function crashloopStream(): In[] {
  return [
    podHealth('api-1', T0),
    deployment('api', 'reg/api:1', 1, T0, 'ADDED'),
    podHealth('api-1', T0 + MIN, CRASH),
    errorGroup('g-cfg', T0 + MIN + 1000, {
      ns: 'shop',
      workload: 'api',
      title: 'ConfigError: missing required environment variable DB_URL',
      level: 'fatal',
    }),
    event(T0 + MIN + 2000, 'Warning', 'BackOff', 'api-1', 'Back-off restarting failed container app'),
    podHealth('api-1', T0 + 5 * MIN),
  ];
}

/** payments/ledger crash-loops; shop/api's error group names `ledger.payments.svc`. */
function dependencyStream(): In[] {
  return [
    podHealth('ledger-1', T0, { ns: 'payments' }),
    podHealth('api-1', T0),
    podHealth('ledger-1', T0 + MIN, { ns: 'payments', ...CRASH }),
    errorGroup('g-conn', T0 + 2 * MIN, {
      ns: 'shop',
      workload: 'api',
      title: 'POST http://ledger.payments.svc:8080/v1/post failed: connect ECONNREFUSED 10.0.3.7:8080',
      reason: 'error',
    }),
  ];
}

/** A pod of Deployment `web` (ReplicaSet web-7d9f8c6b5) with one container `app` and its limits. */
function limitedPod(ts: number, name: string, limits: { cpu: string; memory: string }): In {
  return watch(ts, 'ADDED', {
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      labels: { 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f8c6b5', controller: true }],
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', resources: { limits } }] },
  });
}

function metric(ts: number, name: string, pod: string, value: number): In {
  const v: RecordTypes['MetricSampled'] = {
    ts,
    cluster: 'c1',
    name,
    labels: { namespace: 'shop', pod, container: 'app' },
    value,
  };
  return { topic: METRICS_SOURCE, ts, key: `c1/shop/${pod}`, value: v };
}

/** A pod of Deployment `web` OOM-killed (exit 137) at `ts`. */
function oomKilled(pod: string, ts: number): In {
  return podHealth(pod, ts, {
    workload: 'web',
    categories: ['oomkilled'],
    reasons: [{ category: 'oomkilled', reason: 'OOMKilled', exitCode: 137 }],
  });
}

function anomalyOpened(ts: number, metricName: string, pod: string): In {
  const seriesKey = `c1/${metricName}{container="app",namespace="shop",pod="${pod}"}`;
  const v: RecordTypes['AnomalyEpisode'] = {
    ts,
    id: `an-${metricName}`,
    seriesKey,
    cluster: 'c1',
    metric: metricName,
    labels: { container: 'app', namespace: 'shop', pod },
    status: 'open',
    openedAt: ts,
    lastAnomalousAt: ts,
    closedAt: null,
    closeReason: null,
    peakZ: 9,
    peakScore: 0.9,
    peakSeverity: 'high',
    anomalousSamples: 1,
  };
  return { topic: ANOMALIES_SOURCE, ts, key: `c1/an-${metricName}`, value: v };
}

/** The episode `anomalyOpened` opened, closed at `ts`. */
function anomalyClosed(openedAt: number, ts: number, metricName: string, pod: string): In {
  const opened = anomalyOpened(openedAt, metricName, pod);
  const v = opened.value as RecordTypes['AnomalyEpisode'];
  return {
    ...opened,
    ts,
    value: { ...v, ts, status: 'closed', closedAt: ts, closeReason: 'recovered' },
  };
}

/** shop/api's error naming db.shop.svc: the call relation api → db. */
const dbCallError = (id: string, ts: number, level?: string): In =>
  errorGroup(id, ts, {
    ns: 'shop',
    workload: 'api',
    title: 'GET http://db.shop.svc:5432 failed: connect ECONNREFUSED 10.0.3.9:5432',
    ...(level !== undefined ? { level } : {}),
  });

/** api's and db's pods, then an anomaly of each a second apart: two incidents, nothing links them. */
const apiAndDbAnomalies = (): In[] => [
  podHealth('api-1', T0),
  podHealth('db-1', T0),
  anomalyOpened(T0 + MIN, 'http_error_ratio', 'api-1'),
  anomalyOpened(T0 + MIN + 1000, 'memory_working_set_bytes', 'db-1'),
];

/** The incidents of the driver, and those of shop/api and shop/db among them. */
function apiAndDbIncidents(d: Driver): { incs: IncidentRecord[]; api: IncidentRecord; db: IncidentRecord } {
  const incs = [...d.facts(INCIDENTS_TOPIC).values()] as IncidentRecord[];
  return {
    incs,
    api: incs.find((i) => i.title.includes('shop/api'))!,
    db: incs.find((i) => i.title.includes('shop/db'))!,
  };
}

describe('withRootCause', () => {
  it("adds the innermost 'Caused by:' of a stack to the message", () => {
    const stack = [
      "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'",
      '\tat com.example.reports.Application.main(Application.java:12)',
      'Caused by: java.sql.SQLException: cannot open connection',
      '\tat x.y(Z.java:1)',
      'Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "reports"',
      '\t... 48 common frames omitted',
    ].join('\n');
    expect(withRootCause('Application run failed', stack)).toBe(
      'Application run failed — caused by org.postgresql.util.PSQLException: FATAL: password authentication failed for user "reports"',
    );
    expect(withRootCause(undefined, stack)).toBe(
      'org.postgresql.util.PSQLException: FATAL: password authentication failed for user "reports"',
    );
    expect(withRootCause('boom', 'Error: boom\n    at f (a.js:1:1)')).toBe('boom');
    expect(withRootCause('boom', undefined)).toBe('boom');
  });
});

describe('incidents processor', () => {
  it('a crash-looping pod opens one incident, with its RCA, evidence at the source position', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, crashloopStream());
    const inc = out(d, INCIDENTS_TOPIC);
    const rca = out(d, RCA_TOPIC);
    const id = (inc[0]?.value as IncidentRecord).id;
    expect(inc.map(incLine)).toEqual([
      `c1/${id} +60s open high [pod:crashloop:shop/api-1]`,
      `c1/${id} +61s open high [pod:crashloop:shop/api-1 error-group:g-cfg(cleared)]`,
      `c1/${id} +62s open high [pod:crashloop:shop/api-1 error-group:g-cfg(cleared) event:BackOff:Pod/shop/api-1(cleared)]`,
      `c1/${id} +300s open high [pod:crashloop:shop/api-1(cleared) error-group:g-cfg(cleared) event:BackOff:Pod/shop/api-1(cleared)]`,
    ]);
    expect(rca.map(rcaLine)).toEqual([
      `c1/${id} +60s unknown Deployment/shop/api 0.1`,
      `c1/${id} +61s bad-config/start-error Deployment/shop/api 0.85`,
      `c1/${id} +300s bad-config/start-error Deployment/shop/api 0.85`,
    ]);
    const first = inc[0]?.value as IncidentRecord;
    expect(first.signals[0]?.evidence).toEqual([
      {
        topic: POD_HEALTH_SOURCE,
        partition: 0,
        offset: 1n,
        ts: T0 + MIN,
        excerpt: 'PodHealth shop/api-1 [crashloop]: MODIFIED Pod shop/api-1',
      },
    ]);
    expect(first.title).toBe('crashloop Deployment shop/api: CrashLoopBackOff');
    expect(d.facts(INCIDENTS_TOPIC).size).toBe(1);
  });

  it('reads CPU at the limit from container metrics: a throttling anomaly is cpu-saturation', async () => {
    const d = new ProcessorTestDriver(processor());
    const pod = 'web-7d9f8c6b5-x1';
    const stream: In[] = [limitedPod(T0, pod, { cpu: '500m', memory: '256Mi' })];
    for (let t = 0; t <= 6; t++) {
      stream.push(metric(T0 + t * MIN, 'cpu_usage_cores', pod, t < 3 ? 0.2 : 0.49));
      stream.push(metric(T0 + t * MIN + 1, 'cpu_throttled_ratio', pod, t < 3 ? 0 : 0.4));
    }
    stream.push(anomalyOpened(T0 + 6 * MIN + 2, 'cpu_throttled_ratio', pod));
    await pipeAll(d, stream);
    const report = out(d, RCA_TOPIC).at(-1)?.value as RcaReportRecord;
    expect([report.category, report.subtype, report.summary]).toEqual([
      'cpu-saturation',
      'throttling',
      'Deployment shop/web is CPU-saturated: usage at 98 % of its limit, throttled 40 % of the time, with a cpu_throttled_ratio anomaly.',
    ]);
    // The evidence names the samples at the limit (minutes 3–6), at their source positions.
    expect(
      report.evidence.filter((e) => e.type === 'metric:cpu_usage_cores').map((e) => [e.offset, e.excerpt]),
    ).toEqual([
      [6n, 'cpu_usage_cores 0.49 of 0.5 cores shop/web-7d9f8c6b5-x1/app'],
      [8n, 'cpu_usage_cores 0.49 of 0.5 cores shop/web-7d9f8c6b5-x1/app'],
      [10n, 'cpu_usage_cores 0.49 of 0.5 cores shop/web-7d9f8c6b5-x1/app'],
      [12n, 'cpu_usage_cores 0.49 of 0.5 cores shop/web-7d9f8c6b5-x1/app'],
    ]);
  });

  it('keeps the memory samples of the 30 min before an OOM kill: growth makes it a leak', async () => {
    const d = new ProcessorTestDriver(processor());
    const pod = 'web-7d9f8c6b5-x1';
    const Mi = 1024 * 1024;
    const stream: In[] = [limitedPod(T0, pod, { cpu: '1', memory: '256Mi' })];
    // 100 MiB (below the 40 % kept) then 110 → 250 MiB over 15 minutes.
    stream.push(metric(T0, 'memory_working_set_bytes', pod, 100 * Mi));
    for (let t = 1; t <= 15; t++)
      stream.push(metric(T0 + t * MIN, 'memory_working_set_bytes', pod, (100 + t * 10) * Mi));
    stream.push(oomKilled(pod, T0 + 15 * MIN + 30_000));
    // An hour of low memory after the restart: the samples before the kill stay (pinned).
    for (let t = 16; t <= 75; t++)
      stream.push(metric(T0 + t * MIN, 'memory_working_set_bytes', pod, 30 * Mi));
    stream.push(podHealth(pod, T0 + 76 * MIN, { workload: 'web', categories: ['oomkilled'], restarts: 1 }));
    await pipeAll(d, stream);
    const reports = out(d, RCA_TOPIC).map((f) => f.value as RcaReportRecord);
    expect(reports.map((r) => [r.category, r.subtype, r.summary])).toEqual([
      [
        'oom',
        'leak',
        'Deployment shop/web was OOMKilled after its memory grew from 110 MiB to 250 MiB (limit 256 MiB): likely a memory leak.',
      ],
    ]);
  });

  describe('a leak holds its incident open (a pressure signal)', () => {
    const pod = 'web-7d9f8c6b5-x1';
    const Mi = 1024 * 1024;
    /**
     * A GC-pause anomaly (minutes 2–6) on a pod whose memory climbs 108 → 256 MiB of its 256 MiB
     * (minutes 1–18.5, at 80 % from minute 14); `grow: false`: flat at 128 MiB instead. The
     * anomaly's incident would resolve at minute 16; the kill comes at minute 18.5.
     */
    function leakStream(grow: boolean, afterKill: 'restart' | 'silent'): In[] {
      const stream: In[] = [limitedPod(T0, pod, { cpu: '1', memory: '256Mi' })];
      for (let t = 1; t <= 18; t++) {
        stream.push(metric(T0 + t * MIN, 'memory_working_set_bytes', pod, (grow ? 100 + 8 * t : 128) * Mi));
        if (t === 2) stream.push(anomalyOpened(T0 + 2 * MIN + 1, 'gc_pause_seconds', pod));
        if (t === 6) stream.push(anomalyClosed(T0 + 2 * MIN + 1, T0 + 6 * MIN + 1, 'gc_pause_seconds', pod));
      }
      const kill = T0 + 18 * MIN + 30_000;
      stream.push(oomKilled(pod, kill));
      stream.push(podHealth(pod, kill + 20_000, { workload: 'web', restarts: 1 }));
      // After the restart: low memory every minute, or no sample at all (only other pods' facts).
      for (let t = 19; t <= 50; t++)
        stream.push(
          afterKill === 'restart'
            ? metric(T0 + t * MIN, 'memory_working_set_bytes', pod, 30 * Mi)
            : podHealth('other-1', T0 + t * MIN),
        );
      return stream;
    }
    const run = async (stream: In[]) => {
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, stream);
      return d;
    };
    const id = (d: Driver) => (out(d, INCIDENTS_TOPIC)[0]?.value as IncidentRecord).id;

    it('while memory climbs towards its limit the incident stays open, and the OOM kill joins it', async () => {
      const d = await run(leakStream(true, 'restart'));
      const lines = out(d, INCIDENTS_TOPIC).map(incLine);
      const held = `pressure:memory-growth:shop/${pod}`;
      const anomaly = `anomaly:c1/gc_pause_seconds{container="app",namespace="shop",pod="${pod}"}`;
      expect(lines).toEqual([
        `c1/${id(d)} +120.001s open high [${anomaly}]`,
        `c1/${id(d)} +360.001s open high [${anomaly}(cleared)]`,
        // Minute 14: 212 MiB, 83 % of the limit after steady growth: held (sent again 5 min on
        // while it lasts; the kill comes first). Without it, resolved at minute 16.
        `c1/${id(d)} +840s open high [${anomaly}(cleared) ${held}]`,
        `c1/${id(d)} +1110s open high [${anomaly}(cleared) ${held} pod:oomkilled:shop/${pod}]`,
        `c1/${id(d)} +1130s open high [${anomaly}(cleared) ${held} pod:oomkilled:shop/${pod}(cleared)]`,
        // Minute 19: 30 MiB after the restart, well under the limit: the hold ends…
        `c1/${id(d)} +1140s open high [${anomaly}(cleared) ${held}(cleared) pod:oomkilled:shop/${pod}(cleared)]`,
        // …and 10 min after the last condition cleared it resolves.
        `c1/${id(d)} +1740s resolved/auto high [${anomaly}(cleared) ${held}(cleared) pod:oomkilled:shop/${pod}(cleared)]`,
      ]);
      const v = d.facts(INCIDENTS_TOPIC).get(`c1/${id(d)}`) as IncidentRecord;
      const sig = v.signals.find((s) => s.source === 'pressure');
      expect([sig?.kind, sig?.count, sig?.detail.container, sig?.detail.message]).toEqual([
        'memory-growth',
        1n,
        'app',
        'memory grew from 108 MiB to 212 MiB (83 % of its 256 MiB limit) in 13 min',
      ]);
      // The RCA while held forecast the kill; after it, the kill with the growth before it.
      const summaries = out(d, RCA_TOPIC).map((f) => (f.value as RcaReportRecord).summary);
      expect(summaries).toContain(
        "Deployment shop/web's memory grew from 108 MiB to 212 MiB (83 % of its 256 MiB limit) in 13 min: likely a memory leak, an OOM kill in about 6 min at this rate.",
      );
      expect(summaries.at(-1)).toBe(
        'Deployment shop/web was OOMKilled after its memory grew from 108 MiB to 244 MiB (limit 256 MiB): likely a memory leak.',
      );
    });

    it('without the growth the same anomaly resolves on time and the kill opens another incident', async () => {
      const d = await run(leakStream(false, 'restart'));
      const incs = [...d.facts(INCIDENTS_TOPIC).values()] as IncidentRecord[];
      expect(
        incs.map((i) => [
          (i.openedAt - T0) / 1000,
          i.status,
          i.resolvedAt === null ? null : (i.resolvedAt - T0) / 1000,
        ]),
      ).toEqual([
        [120.001, 'resolved', 960.001],
        [1110, 'resolved', 1730],
      ]);
      expect(incs.flatMap((i) => i.signals).filter((s) => s.source === 'pressure')).toEqual([]);
    });

    it('a held leak whose samples stop is cleared 10 min after it was last sent', async () => {
      const d = await run(leakStream(true, 'silent'));
      const v = d.facts(INCIDENTS_TOPIC).get(`c1/${id(d)}`) as IncidentRecord;
      const sig = v.signals.find((s) => s.source === 'pressure');
      // Sent at minute 14 only (minute 18 is under 5 min on); no sample after the kill.
      expect([sig?.cleared, (sig?.clearedAt ?? 0) - T0]).toEqual([true, 24 * MIN]);
      expect([v.status, v.resolvedBy, (v.resolvedAt ?? 0) - T0]).toEqual(['resolved', 'auto', 34 * MIN]);
    });

    it('a held leak of a pod deleted from the watch (and silent since) is cleared all the same', async () => {
      const stream = leakStream(true, 'silent');
      const gone = limitedPod(T0 + 19 * MIN, pod, { cpu: '1', memory: '256Mi' });
      const at = stream.findIndex((i) => i.ts >= T0 + 19 * MIN);
      stream.splice(at, 0, { ...gone, value: { ...(gone.value as object), type: 'DELETED' } });
      const d = await run(stream);
      const v = d.facts(INCIDENTS_TOPIC).get(`c1/${id(d)}`) as IncidentRecord;
      const sig = v.signals.find((s) => s.source === 'pressure');
      expect([sig?.cleared, (sig?.clearedAt ?? 0) - T0]).toEqual([true, 24 * MIN]);
      expect([v.status, (v.resolvedAt ?? 0) - T0]).toEqual(['resolved', 34 * MIN]);
    });

    it("a held leak whose pod's entry the cap drops is cleared at once", async () => {
      const stream = leakStream(true, 'silent');
      const other = 'api-5f6d7c8b9-y2';
      const at = stream.findIndex((i) => i.ts >= T0 + 20 * MIN);
      // Another pod's memory near its limit takes the one place `maxPods: 1` leaves.
      const otherPod = limitedPod(T0 + 20 * MIN, other, { cpu: '1', memory: '256Mi' });
      stream.splice(
        at,
        0,
        otherPod,
        metric(T0 + 20 * MIN + 1, 'memory_working_set_bytes', other, 200 * 2 ** 20),
      );
      const d = new ProcessorTestDriver(
        incidentsProcessor({ decode, decodeCommand, config: { ...CONFIG, maxPods: 1 } }),
      );
      await pipeAll(d, stream);
      const v = d.facts(INCIDENTS_TOPIC).get(`c1/${id(d)}`) as IncidentRecord;
      const sig = v.signals.find((s) => s.source === 'pressure');
      expect([sig?.cleared, (sig?.clearedAt ?? 0) - T0]).toEqual([true, 20 * MIN + 1]);
      expect([v.status, (v.resolvedAt ?? 0) - T0]).toEqual(['resolved', 30 * MIN + 1]);
    });

    it('restored from its changelog at any record, holds and ends the leak as an uninterrupted run', async () => {
      for (const afterKill of ['restart', 'silent'] as const) {
        const stream = leakStream(true, afterKill);
        const whole = await run(stream);
        await sameAfterRestoreAtEveryRecord(stream, [
          ...whole.output(INCIDENTS_TOPIC),
          ...whole.output(RCA_TOPIC),
        ]);
      }
    });
  });

  it('a healthy stream opens no incident', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      nodeHealth('node-1', T0),
      deployment('web', 'reg/web:1', 1, T0, 'ADDED'),
      podHealth('web-1', T0),
      podHealth('web-2', T0 + 1000),
      event(T0 + 2000, 'Normal', 'Pulled', 'web-1', 'Container image already present'),
      errorGroup('g-warn', T0 + 3000, { ns: 'shop', workload: 'web', title: 'slow request', level: 'warn' }),
      podHealth('web-1', T0 + 10 * MIN),
      nodeHealth('node-1', T0 + 11 * MIN),
    ]);
    expect(out(d, INCIDENTS_TOPIC)).toEqual([]);
    expect(out(d, RCA_TOPIC)).toEqual([]);
  });

  it('a caller failing to reach a crash-looping dependency: one incident, dependency-down rooted at the callee', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, dependencyStream());
    const inc = out(d, INCIDENTS_TOPIC);
    const id = (inc[0]?.value as IncidentRecord).id;
    expect(inc.map(incLine)).toEqual([
      `c1/${id} +60s open high [pod:crashloop:payments/ledger-1]`,
      `c1/${id} +120s open high [pod:crashloop:payments/ledger-1 error-group:g-conn(cleared)]`,
    ]);
    expect(out(d, RCA_TOPIC).map(rcaLine)).toEqual([
      `c1/${id} +60s unknown Deployment/payments/ledger 0.1`,
      `c1/${id} +120s dependency-down Deployment/payments/ledger 0.9`,
    ]);
    const report = d.facts(RCA_TOPIC).get(`c1/${id}`) as RcaReportRecord;
    expect(report.summary).toBe(
      'Deployment payments/ledger is down (crashloop); Deployment shop/api fails calling it.',
    );
    expect(report.blastRadius.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`)).toEqual([
      'Deployment/payments/ledger',
      'Deployment/shop/api',
    ]);
  });

  it("a caller's incident opened before its call was seen names the dependency once it is", async () => {
    // shop/api's anomaly opens an incident; shop/db's anomaly opens another (nothing links them);
    // then api's error names db.shop.svc. db never crashes: its open incident makes it down.
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [...apiAndDbAnomalies(), dbCallError('g-conn', T0 + 2 * MIN)]);
    const { incs, api, db } = apiAndDbIncidents(d);
    expect(incs).toHaveLength(2);
    expect(
      out(d, RCA_TOPIC)
        .filter((f) => f.key === `c1/${api.id}`)
        .map(rcaLine),
    ).toEqual([
      `c1/${api.id} +60s unknown Deployment/shop/api 0.1`,
      // computed again when the call is seen (the error joins db's incident, not api's)
      `c1/${api.id} +120s dependency-down Deployment/shop/db 0.9`,
    ]);
    expect((d.facts(RCA_TOPIC).get(`c1/${api.id}`) as RcaReportRecord).summary).toBe(
      'Deployment shop/db is down (anomaly); Deployment shop/api fails calling it.',
    );
    expect(db.signals.map((s) => s.source + ':' + s.workload?.name)).toEqual([
      'anomaly:db',
      'error-group:api',
    ]);
  });

  describe('a Service stands for the workload its selector selects', () => {
    /** Deployment payments/ledger (pods app=ledger) behind Service ledger-api, then dependencyStream's story through ledger-api. */
    const behindService = (withService = true): In[] => [
      watch(T0, 'ADDED', {
        kind: 'Deployment',
        metadata: { name: 'ledger', namespace: 'payments', generation: 1 },
        spec: {
          template: {
            metadata: { labels: { app: 'ledger', tier: 'backend' } },
            spec: { containers: [{ name: 'app', image: 'reg/ledger:1' }] },
          },
        },
      }),
      ...(withService
        ? [
            watch(T0, 'ADDED', {
              kind: 'Service',
              metadata: { name: 'ledger-api', namespace: 'payments' },
              spec: { selector: { app: 'ledger' } },
            }),
          ]
        : []),
      ...dependencyStream().map((i) =>
        i.topic === ERROR_GROUPS_SOURCE
          ? errorGroup('g-conn', i.ts, {
              ns: 'shop',
              workload: 'api',
              title:
                'POST http://ledger-api.payments.svc:8080/v1/post failed: connect ECONNREFUSED 10.0.3.7:8080',
              reason: 'error',
            })
          : i,
      ),
    ];

    it('a caller failing to reach ledger-api joins ledger’s incident, rooted at Deployment ledger', async () => {
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, behindService());
      const incs = [...d.facts(INCIDENTS_TOPIC).values()] as IncidentRecord[];
      expect(incs).toHaveLength(1);
      expect(out(d, RCA_TOPIC).map(rcaLine).at(-1)).toBe(
        `c1/${incs[0]!.id} +120s dependency-down Deployment/payments/ledger 0.9`,
      );
      // Without the Service the name is taken for a workload's: a Deployment ledger-api no one runs.
      const blind = new ProcessorTestDriver(processor());
      await pipeAll(blind, behindService(false));
      expect(blind.facts(INCIDENTS_TOPIC).size).toBe(2);
    });

    it('a Service named before its workload is known resolves once the template comes', async () => {
      const [tmpl, svc, ...rest] = behindService();
      // The Service and a caller's error naming it first (ledger unknown then), the template after.
      const early = errorGroup('g-early', T0, {
        ns: 'shop',
        workload: 'api',
        title: 'GET http://ledger-api.payments.svc:8080/health failed: timed out',
        level: 'warn',
      });
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, [svc!, early, tmpl!, ...rest]);
      const incs = [...d.facts(INCIDENTS_TOPIC).values()] as IncidentRecord[];
      expect(incs).toHaveLength(1);
      const rca = d.facts(RCA_TOPIC).get(`c1/${incs[0]!.id}`) as RcaReportRecord;
      expect([rca.category, rca.rootCause]).toEqual([
        'dependency-down',
        { kind: 'Deployment', namespace: 'payments', name: 'ledger' },
      ]);
    });

    it("a Service's anomaly is its workload's signal", async () => {
      const d = new ProcessorTestDriver(processor());
      const v = anomalyOpened(T0 + 2 * MIN, 'http_error_ratio', 'x').value as RecordTypes['AnomalyEpisode'];
      await pipeAll(d, [
        ...behindService().slice(0, 5), // up to ledger's crash loop
        {
          topic: ANOMALIES_SOURCE,
          ts: T0 + 2 * MIN,
          key: 'c1/an-svc',
          value: { ...v, id: 'an-svc', labels: { namespace: 'payments', service: 'ledger-api' } },
        },
      ]);
      const incs = [...d.facts(INCIDENTS_TOPIC).values()] as IncidentRecord[];
      expect(incs).toHaveLength(1);
      expect(
        incs[0]!.signals.map((s) => `${s.kind} ${s.resource.kind}/${s.resource.name} ${s.workload?.name}`),
      ).toEqual(['crashloop Pod/ledger-1 ledger', 'anomaly Service/ledger-api ledger']);
    });

    it('restored from its changelog at any record, resolves as an uninterrupted run', async () => {
      const whole = new ProcessorTestDriver(processor());
      await pipeAll(whole, behindService());
      await sameAfterRestoreAtEveryRecord(behindService(), [
        ...whole.output(INCIDENTS_TOPIC),
        ...whole.output(RCA_TOPIC),
      ]);
    });
  });

  describe('calls named in the pod template (env)', () => {
    /** db's and api's templates, api's env naming db (as `name`: db's template is known). */
    const templates = (ts: number, dbUrl = 'postgres://app@db:5432/orders'): In[] => [
      deployment('db', 'reg/db:1', 1, ts, 'ADDED'),
      deployment('api', 'reg/api:1', 1, ts, 'ADDED', [{ name: 'DATABASE_URL', value: dbUrl }]),
    ];

    it("a caller's first failure joins its dependency's incident before any log names it", async () => {
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, [...templates(T0), ...apiAndDbAnomalies()]);
      const { incs } = apiAndDbIncidents(d);
      expect(incs).toHaveLength(1);
      expect(incs[0]!.signals.map((s) => s.source + ':' + s.workload?.name)).toEqual([
        'anomaly:api',
        'anomaly:db',
      ]);
      // The same stream with an env naming nothing hetu knows: two incidents, as without env.
      const other = new ProcessorTestDriver(processor());
      await pipeAll(other, [
        ...templates(T0, 'postgres://app@pg-external:5432/orders'),
        ...apiAndDbAnomalies(),
      ]);
      expect(apiAndDbIncidents(other).incs).toHaveLength(2);
    });

    const DAY = 24 * 60 * MIN;
    /** A day after T0: db's anomaly, then api's. */
    const late = (): In[] => [
      podHealth('api-1', T0 + DAY + 5 * MIN),
      podHealth('db-1', T0 + DAY + 5 * MIN),
      anomalyOpened(T0 + DAY + 6 * MIN, 'memory_working_set_bytes', 'db-1'),
      anomalyOpened(T0 + DAY + 6 * MIN + 1000, 'http_error_ratio', 'api-1'),
    ];
    /** The templates seen once, then the anomalies a day later (the edge expired by then). */
    const dayLater = (): In[] => [...templates(T0), podHealth('api-1', T0 + DAY), ...late()];

    it("the caller's signals keep the edge past the 24 h an unseen call lasts", async () => {
      // api's signal draws the expired edge again from the template it holds.
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, dayLater());
      expect(apiAndDbIncidents(d).incs).toHaveLength(1);
      // A call seen only in a log a day before is gone by then (the rule the env edge escapes).
      const logged = new ProcessorTestDriver(processor());
      await pipeAll(logged, [
        podHealth('api-1', T0),
        podHealth('db-1', T0),
        dbCallError('g-warn', T0, 'warn'),
        podHealth('api-1', T0 + DAY),
        ...late(),
      ]);
      expect(apiAndDbIncidents(logged).incs).toHaveLength(2);
    });

    it('restored from its changelog at any record, links as an uninterrupted run', async () => {
      // (a day later: what links them then is the env the restored template holds)
      const stream = dayLater();
      const whole = new ProcessorTestDriver(processor());
      await pipeAll(whole, stream);
      expect(apiAndDbIncidents(whole).incs).toHaveLength(1);
      await sameAfterRestoreAtEveryRecord(stream, [
        ...whole.output(INCIDENTS_TOPIC),
        ...whole.output(RCA_TOPIC),
      ]);
    });
  });

  it("a caller's RCA is computed again when its dependency's own incident changes", async () => {
    // api's and db's anomalies open two incidents; a warning (no signal) of api naming
    // db.shop.svc gives the call; then db's pod crash-loops, which changes db's incident only.
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      ...apiAndDbAnomalies(),
      dbCallError('g-warn', T0 + 2 * MIN, 'warn'),
      podHealth('db-1', T0 + 3 * MIN, CRASH),
    ]);
    const { api, db } = apiAndDbIncidents(d);
    expect(db.signals.map((s) => s.kind)).toEqual(['anomaly', 'crashloop']);
    expect(api.signals.map((s) => s.kind)).toEqual(['anomaly']);
    const apiRcas = out(d, RCA_TOPIC)
      .filter((f) => f.key === `c1/${api.id}`)
      .map((f) => f.value as RcaReportRecord);
    expect(apiRcas.map((r) => `+${(r.ts - T0) / 1000}s ${r.category} ${r.summary}`)).toEqual([
      '+60s unknown No known failure pattern matched the signals of Deployment shop/api (anomaly).',
      '+120s dependency-down Deployment shop/db is down (anomaly); Deployment shop/api fails calling it.',
      // db's incident changed: api's incident did not, its RCA is computed again.
      '+180s dependency-down Deployment shop/db is down (anomaly, crashloop); Deployment shop/api fails calling it.',
    ]);
  });

  it("a dependency's failure that cleared before the caller's incident opened does not make it down", async () => {
    // db's anomaly opens an incident (held until it auto-resolves); api's anomaly opens another
    // later, and api's error then names db.shop.svc. db counts as down for api only while its
    // anomaly was still open when api's incident opened.
    const categoryOfApi = async (dbRecovered: boolean) => {
      const d = new ProcessorTestDriver(processor());
      await pipeAll(d, [
        podHealth('api-1', T0),
        podHealth('db-1', T0),
        anomalyOpened(T0 + MIN, 'memory_working_set_bytes', 'db-1'),
        ...(dbRecovered ? [anomalyClosed(T0 + MIN, T0 + 2 * MIN, 'memory_working_set_bytes', 'db-1')] : []),
        anomalyOpened(T0 + 4 * MIN, 'http_error_ratio', 'api-1'),
        dbCallError('g-conn', T0 + 5 * MIN),
      ]);
      const { incs, api, db } = apiAndDbIncidents(d);
      // db's incident is still held either way (an incident resolves 10 min after its signals clear).
      expect([incs.length, db.status]).toEqual([2, 'open']);
      const r = d.facts(RCA_TOPIC).get(`c1/${api.id}`) as RcaReportRecord;
      return `${r.category} ${r.rootCause.kind}/${r.rootCause.namespace}/${r.rootCause.name}`;
    };
    expect(await categoryOfApi(false)).toBe('dependency-down Deployment/shop/db');
    expect(await categoryOfApi(true)).not.toMatch(/^dependency-down/);
  });

  it('auto-resolves 10 min after every signal cleared (inclusive), by the feed clock', async () => {
    const d = new ProcessorTestDriver(processor());
    const stream = crashloopStream();
    await pipeAll(d, [
      ...stream,
      podHealth('other-1', T0 + 15 * MIN - 1),
      podHealth('other-1', T0 + 15 * MIN, { restarts: 1 }),
    ]);
    const lines = out(d, INCIDENTS_TOPIC).map(incLine);
    const id = (out(d, INCIDENTS_TOPIC)[0]?.value as IncidentRecord).id;
    expect(lines.slice(4)).toEqual([
      `c1/${id} +900s resolved/auto high [pod:crashloop:shop/api-1(cleared) error-group:g-cfg(cleared) event:BackOff:Pod/shop/api-1(cleared)]`,
    ]);
    const v = d.facts(INCIDENTS_TOPIC).get(`c1/${id}`) as IncidentRecord;
    expect([v.resolvedAt, v.resolvedBy, v.updatedAt]).toEqual([T0 + 15 * MIN, 'auto', T0 + 15 * MIN]);
    // The report did not change (only asOf would have): no new RCA fact.
    expect(out(d, RCA_TOPIC).map(rcaLine).at(-1)).toBe(
      `c1/${id} +300s bad-config/start-error Deployment/shop/api 0.85`,
    );
  });

  it('applies incident.set-status commands and ignores other command types', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, dependencyStream());
    const id = (out(d, INCIDENTS_TOPIC)[0]?.value as IncidentRecord).id;
    const before = out(d, INCIDENTS_TOPIC).length;
    await pipeAll(d, [
      command(T0 + 3 * MIN, id, 'investigating'),
      command(T0 + 4 * MIN, id, 'resolved', 'error-group.resolve'),
      command(T0 + 5 * MIN, 'inc-unknown', 'resolved'),
      command(T0 + 6 * MIN, id, 'dismissed'),
    ]);
    expect(
      out(d, INCIDENTS_TOPIC)
        .slice(before)
        .map((f) => {
          const v = f.value as IncidentRecord;
          return [
            v.status,
            v.statusChangedAt! - T0,
            v.resolvedAt === null ? null : v.resolvedAt - T0,
            v.resolvedBy,
          ];
        }),
    ).toEqual([
      ['investigating', 3 * MIN, null, null],
      ['dismissed', 6 * MIN, 6 * MIN, 'user'],
    ]);
  });

  it('records a rollout (image old → new) as context: a crash right after is a bad rollout', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      deployment('checkout', 'reg/checkout:v1.4.2', 1, T0, 'ADDED'),
      podHealth('checkout-a', T0),
      deployment('checkout', 'reg/checkout:v1.5.0', 2, T0 + MIN),
      podHealth('checkout-b', T0 + 2 * MIN, CRASH),
    ]);
    const inc = d.facts(INCIDENTS_TOPIC);
    expect(inc.size).toBe(1);
    const v = [...inc.values()][0] as IncidentRecord;
    expect(v.signals.map((s) => [s.source, s.key, s.detail.oldImage, s.detail.newImage])).toEqual([
      ['pod', 'crashloop:shop/checkout-b', null, null],
      ['rollout', 'Deployment/shop/checkout@2', 'reg/checkout:v1.4.2', 'reg/checkout:v1.5.0'],
    ]);
    expect(out(d, RCA_TOPIC).map(rcaLine)).toEqual([
      `c1/${v.id} +120s bad-rollout Deployment/shop/checkout 0.75`,
    ]);
  });

  it('publishes tombstones on both topics for an incident deleted by the cap', async () => {
    const d = new ProcessorTestDriver(
      incidentsProcessor({ decode, decodeCommand, config: { ...CONFIG, incidents: { maxIncidents: 1 } } }),
    );
    await pipeAll(d, [
      podHealth('api-1', T0, CRASH),
      podHealth('web-1', T0 + MIN, { node: 'node-2', ...CRASH }),
    ]);
    const first = (out(d, INCIDENTS_TOPIC)[0]?.value as IncidentRecord).id;
    const second = (out(d, INCIDENTS_TOPIC)[2]?.value as IncidentRecord).id;
    expect(out(d, INCIDENTS_TOPIC).map(incLine)).toEqual([
      `c1/${first} +0s open high [pod:crashloop:shop/api-1]`,
      `c1/${first} tombstone`,
      `c1/${second} +60s open high [pod:crashloop:shop/web-1]`,
    ]);
    expect(out(d, RCA_TOPIC).map(rcaLine)).toEqual([
      `c1/${first} +0s unknown Deployment/shop/api 0.1`,
      `c1/${first} tombstone`,
      `c1/${second} +60s unknown Deployment/shop/web 0.1`,
    ]);
    expect(out(d, RCA_TOPIC)[1]?.timestamp).toBe(T0 + MIN);
  });

  it('restored mid-stream from its changelog, continues with the facts of an uninterrupted run', async () => {
    const stream = [
      ...dependencyStream(),
      command(T0 + 3 * MIN, 'inc-x', 'investigating'),
      nodeHealth('node-1', T0 + 3 * MIN),
      deployment('api', 'reg/api:1', 1, T0 + 3 * MIN, 'ADDED'),
      deployment('api', 'reg/api:2', 2, T0 + 4 * MIN),
      podHealth('ledger-1', T0 + 5 * MIN, { ns: 'payments' }),
      nodeHealth('node-1', T0 + 6 * MIN, true),
      podHealth('api-1', T0 + 7 * MIN, { node: 'node-1', ...CRASH }),
      nodeHealth('node-1', T0 + 9 * MIN),
      podHealth('api-1', T0 + 10 * MIN),
      podHealth('zzz-1', T0 + 40 * MIN),
    ];
    const whole = new ProcessorTestDriver(processor());
    await pipeAll(whole, stream);
    const expected = [...whole.output(INCIDENTS_TOPIC), ...whole.output(RCA_TOPIC)];
    const id = 'inc-921eff55e64badc2';
    const sigs = (extra: string) =>
      `pod:crashloop:payments/ledger-1(cleared) error-group:g-conn(cleared) rollout:Deployment/shop/api@2(cleared)${extra}`;
    expect(whole.output(INCIDENTS_TOPIC).map((f) => incLine(f as FactRecord))).toEqual([
      `c1/${id} +60s open high [pod:crashloop:payments/ledger-1]`,
      `c1/${id} +120s open high [pod:crashloop:payments/ledger-1 error-group:g-conn(cleared)]`,
      `c1/${id} +240s open high [pod:crashloop:payments/ledger-1 error-group:g-conn(cleared) rollout:Deployment/shop/api@2(cleared)]`,
      `c1/${id} +300s open high [${sigs('')}]`,
      `c1/${id} +360s open critical [${sigs(' node:NotReady:node-1')}]`,
      `c1/${id} +420s open critical [${sigs(' node:NotReady:node-1 pod:crashloop:shop/api-1')}]`,
      `c1/${id} +540s open critical [${sigs(' node:NotReady:node-1(cleared) pod:crashloop:shop/api-1')}]`,
      `c1/${id} +600s open critical [${sigs(' node:NotReady:node-1(cleared) pod:crashloop:shop/api-1(cleared)')}]`,
      `c1/${id} +1200s resolved/auto critical [${sigs(' node:NotReady:node-1(cleared) pod:crashloop:shop/api-1(cleared)')}]`,
    ]);
    expect(whole.output(RCA_TOPIC).map((f) => rcaLine(f as FactRecord))).toEqual([
      `c1/${id} +60s unknown Deployment/payments/ledger 0.1`,
      `c1/${id} +120s dependency-down Deployment/payments/ledger 0.9`,
      `c1/${id} +300s dependency-down Deployment/payments/ledger 0.9`,
      `c1/${id} +360s node-failure/not-ready Node//node-1 0.75`,
      `c1/${id} +420s node-failure/not-ready Node//node-1 0.75`,
      `c1/${id} +540s node-failure/not-ready Node//node-1 0.75`,
      `c1/${id} +600s node-failure/not-ready Node//node-1 0.75`,
      `c1/${id} +1200s node-failure/not-ready Node//node-1 0.75`,
    ]);
    await sameAfterRestoreAtEveryRecord(stream, expected);
  });

  it('gives identical facts and changelog for the same input twice', async () => {
    const stream = [...crashloopStream(), ...dependencyStream().map((i) => ({ ...i, ts: i.ts + 20 * MIN }))];
    const a = new ProcessorTestDriver(processor());
    const b = new ProcessorTestDriver(processor());
    await pipeAll(a, stream);
    await pipeAll(b, stream);
    expect(b.output(INCIDENTS_TOPIC)).toEqual(a.output(INCIDENTS_TOPIC));
    expect(b.output(RCA_TOPIC)).toEqual(a.output(RCA_TOPIC));
    expect(b.changelog).toEqual(a.changelog);
    expect(a.output(INCIDENTS_TOPIC).length).toBeGreaterThan(0);
  });
});

/** Continues a restored task from stream[fromIndex] the way the runtime folds, one record per batch. */
/**
 * Restored from its changelog after each record of `stream` and continued, a task publishes
 * exactly `expected` (the incident facts, then the RCA facts, of an uninterrupted run).
 */
async function sameAfterRestoreAtEveryRecord(stream: readonly In[], expected: readonly unknown[]) {
  for (let cut = 1; cut < stream.length; cut++) {
    const first = new ProcessorTestDriver(processor());
    await pipeAll(first, stream.slice(0, cut));
    const rest = await continueTask(first.restoredTask(), stream, cut);
    expect([
      ...first.output(INCIDENTS_TOPIC),
      ...rest.filter((r) => r.topic === INCIDENTS_TOPIC).map((r) => r.record),
      ...first.output(RCA_TOPIC),
      ...rest.filter((r) => r.topic === RCA_TOPIC).map((r) => r.record),
    ]).toEqual(expected);
  }
}

async function continueTask(task: TaskState<unknown>, stream: readonly In[], fromIndex: number) {
  const def = processor();
  const pos = positions(stream);
  const outs: { topic: string; record: unknown }[] = [];
  const feedOffsets = new Map<string, bigint>();
  for (const [n, i] of stream.entries()) {
    const topic = i.topic === INCIDENT_COMMANDS_TOPIC ? INCIDENT_COMMANDS_TOPIC : CLUSTER_FEED_TOPIC;
    const o = feedOffsets.get(topic) ?? 0n;
    feedOffsets.set(topic, o + 1n);
    if (n < fromIndex) continue;
    const record = toRecord(i, pos[n] as number, o);
    const result = await foldBatch(def, task as TaskState<IncidentsTaskState>, [record]);
    changelogRecords(def, task as TaskState<IncidentsTaskState>, result, 0);
    task.uncommitted = false;
    outs.push(...result.outputs);
  }
  return outs;
}
