import { describe, expect, it } from 'vitest';
import {
  ProcessorTestDriver,
  changelogRecords,
  foldBatch,
  type FactRecord,
  type LogRecord,
  type TaskState,
} from '@hetu/streams';
import { type NodeHealth, type PodHealth, type WatchObserved } from '@hetu/schemas';
import {
  SOURCE_KEY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
} from '../rekey/rekey.ts';
import type { ScopeScoreRecord, ScoreChangedRecord } from './record.ts';
import {
  CLUSTER_FEED_TOPIC,
  FEED_SOURCES,
  SCORES_TOPIC,
  SCORE_HISTORY_TOPIC,
  scoringProcessor,
  type ScoringFeedInput,
  type ScoringState,
} from './topology.ts';

const T0 = Date.UTC(2026, 10, 26, 8);
const S = 1000;

/** The test double of the Avro decoder: values are the records as JSON. */
const decode = async (_topic: string, value: Buffer): Promise<unknown> => JSON.parse(value.toString('utf8'));
const processor = () => scoringProcessor({ decode });
type Driver = ProcessorTestDriver<ScoringFeedInput, ScoringState>;

/** One feed record: a record of `source` (key `sourceKey`, at `offset` there), re-keyed by cluster. */
interface In {
  readonly source: string;
  readonly sourceKey: string;
  readonly offset: number;
  readonly ts: number;
  readonly value: unknown;
}

let offsets = 0;
const feed = (source: string, sourceKey: string, ts: number, value: unknown): In => ({
  source,
  sourceKey,
  offset: offsets++,
  ts,
  value,
});

function watch(ts: number, type: WatchObserved['type'], object: Record<string, unknown>): In {
  const meta = object['metadata'] as { name: string; namespace?: string };
  const w: WatchObserved = {
    ts,
    cluster: 'c1',
    type,
    apiVersion: 'v1',
    kind: object['kind'] as string,
    namespace: meta.namespace ?? null,
    name: meta.name,
    uid: null,
    resourceVersion: null,
    detail: null,
    object: JSON.stringify(object),
  };
  return feed(FEED_SOURCES.kube, `c1/${w.kind}/${meta.namespace ?? ''}/${meta.name}`, ts, w);
}

const HARD_TEMPLATE = {
  securityContext: { runAsNonRoot: true, runAsUser: 1000 },
  containers: [
    {
      name: 'app',
      image: 'x',
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    },
  ],
};

function deployment(
  name: string,
  template: Record<string, unknown> = HARD_TEMPLATE,
): Record<string, unknown> {
  return {
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: { replicas: 2, template: { spec: template } },
  };
}

const nsObject = (kind: string, name: string) => ({ kind, metadata: { name, namespace: 'shop' } });

function podHealth(ts: number, name: string, categories: string[], evidenceOffset: number): In {
  const p: PodHealth = {
    ts,
    cluster: 'c1',
    namespace: 'shop',
    name,
    uid: null,
    node: 'n1',
    phase: 'Running',
    workload: { kind: 'Deployment', namespace: 'shop', name: 'api', inferred: false },
    categories,
    reasons: categories.includes('crashloop')
      ? [
          {
            category: 'crashloop',
            container: 'app',
            reason: 'CrashLoopBackOff',
            message: null,
            exitCode: 1,
            restartCount: null,
            at: null,
          },
        ]
      : [],
    restarts: categories.length === 0 ? 0 : 4,
    restartsPerHour: 0,
    ageMs: null,
    evidence: {
      topic: 'hetu.raw.kube',
      partition: 1,
      offset: String(evidenceOffset),
      ts,
      excerpt: `MODIFIED Pod shop/${name} Running`,
    },
  };
  return feed(FEED_SOURCES.podHealth, `c1/shop/${name}`, ts, p);
}

function nodeHealth(ts: number): In {
  const n: NodeHealth = {
    ts,
    cluster: 'c1',
    name: 'n1',
    uid: null,
    ready: true,
    unschedulable: false,
    states: [],
    reasons: [],
    evidence: { topic: 'hetu.raw.kube', partition: 0, offset: '1', ts, excerpt: 'ADDED Node n1 Ready=True' },
  };
  return feed(FEED_SOURCES.nodeHealth, 'c1/n1', ts, n);
}

/** A healthy shop at T0; a tick moves event time on without changing anything. */
function baseline(): In[] {
  return [
    watch(T0, 'ADDED', { kind: 'Namespace', metadata: { name: 'shop' } }),
    watch(T0, 'ADDED', nsObject('NetworkPolicy', 'deny')),
    watch(T0, 'ADDED', nsObject('ResourceQuota', 'quota')),
    watch(T0, 'ADDED', nsObject('LimitRange', 'limits')),
    watch(T0, 'ADDED', deployment('api')),
    podHealth(T0, 'api-1', [], 10),
    podHealth(T0, 'api-2', [], 11),
    nodeHealth(T0),
  ];
}

const tick = (ts: number): In =>
  feed(FEED_SOURCES.metrics, 'c1/x', ts, {
    ts,
    cluster: 'c1',
    name: 'node_cpu_utilisation',
    labels: { node: 'n1' },
    value: 0.5,
  });

/** Healthy; a pod starts crash-looping at +120 s; a privileged Deployment at +200 s; deleted at +300 s. */
function scenario(): In[] {
  offsets = 0;
  return [
    ...baseline(),
    tick(T0 + 40 * S),
    podHealth(T0 + 120 * S, 'api-2', ['crashloop'], 42),
    tick(T0 + 155 * S),
    watch(
      T0 + 200 * S,
      'ADDED',
      deployment('admin', {
        ...HARD_TEMPLATE,
        containers: [
          {
            name: 'app',
            image: 'x',
            securityContext: {
              privileged: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
            },
          },
        ],
      }),
    ),
    tick(T0 + 240 * S),
    watch(T0 + 300 * S, 'DELETED', deployment('admin')),
    tick(T0 + 340 * S),
  ];
}

function toRecord(i: In, offset: bigint): LogRecord {
  return {
    topic: CLUSTER_FEED_TOPIC,
    partition: 0,
    offset,
    key: Buffer.from('c1'),
    value: i.value === null ? null : Buffer.from(JSON.stringify(i.value)),
    timestamp: i.ts,
    headers: {
      [SOURCE_TOPIC_HEADER]: Buffer.from(i.source),
      [SOURCE_PARTITION_HEADER]: Buffer.from('0'),
      [SOURCE_OFFSET_HEADER]: Buffer.from(String(i.offset)),
      [SOURCE_KEY_HEADER]: Buffer.from(i.sourceKey),
    },
  };
}

async function pipeAll(d: Driver, ins: readonly In[]): Promise<void> {
  let o = 0n;
  for (const i of ins) {
    const r = toRecord(i, o++);
    await d.pipe(r.topic, { key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers });
  }
}

const scoreFacts = (d: Driver) => d.output(SCORES_TOPIC) as readonly FactRecord[];
const historyFacts = (d: Driver) => d.output(SCORE_HISTORY_TOPIC) as readonly FactRecord[];

/** A score fact in one line: key, seconds after T0, overall and the four dimensions. */
function brief(f: FactRecord): string {
  const v = f.value as ScopeScoreRecord | null;
  const at = `+${(f.timestamp - T0) / S}s`;
  if (v === null) return `${f.key} ${at} tombstone`;
  return `${f.key} ${at} ${v.overall} r${v.reliability} s${v.security} c${v.cost} a${v.architecture}`;
}

describe('scoring processor', () => {
  it('scores a healthy cluster, then a crash-looping pod (−10) and a privileged Deployment (−15), with history', async () => {
    const d: Driver = new ProcessorTestDriver(processor());
    await pipeAll(d, scenario());
    expect(scoreFacts(d).map(brief)).toEqual([
      // First scoring at +40 s (the changes of T0 + 30 s of debounce): everything 100.
      'c1/cluster +40s 100 r100 s100 c100 a100',
      'c1/namespace:shop +40s 100 r100 s100 c100 a100',
      'c1/workload:shop/Deployment/api +40s 100 r100 s100 c100 a100',
      // api-2 crash-loops from +120 s: reliability −10 at its workload, namespace and cluster.
      'c1/cluster +155s 96 r90 s100 c100 a100',
      'c1/namespace:shop +155s 96 r90 s100 c100 a100',
      'c1/workload:shop/Deployment/api +155s 96 r90 s100 c100 a100',
      // A privileged Deployment: security −15 at its scopes (a new workload scope).
      'c1/cluster +240s 92 r90 s85 c100 a100',
      'c1/namespace:shop +240s 92 r90 s85 c100 a100',
      'c1/workload:shop/Deployment/admin +240s 95 r100 s85 c100 a100',
      // Deleted: its scope is tombstoned, the others recover.
      'c1/cluster +340s 96 r90 s100 c100 a100',
      'c1/namespace:shop +340s 96 r90 s100 c100 a100',
      'c1/workload:shop/Deployment/admin +340s tombstone',
    ]);

    const crash = scoreFacts(d)[5]!.value as ScopeScoreRecord;
    expect(crash.deductions).toEqual([
      {
        dimension: 'reliability',
        rule: 'crashloop-pods',
        title: 'Pods in CrashLoopBackOff',
        severity: 'high',
        points: -10,
        count: 1,
        perItem: 10,
        cap: 30,
        resources: [
          {
            kind: 'Pod',
            namespace: 'shop',
            name: 'api-2',
            status: 'crashloop',
            detail: 'app: CrashLoopBackOff, exit 1',
            share: -10,
            // The pod-health fact's own evidence: the watch event that showed the crash loop.
            evidence: [
              {
                topic: 'hetu.raw.kube',
                partition: 1,
                offset: 42n,
                ts: T0 + 120 * S,
                excerpt: 'MODIFIED Pod shop/api-2 Running',
              },
            ],
          },
        ],
        totalResources: 1,
      },
    ]);
    const priv = scoreFacts(d)[8]!.value as ScopeScoreRecord;
    expect(
      priv.deductions.map((x) => [
        x.rule,
        x.points,
        x.resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`),
      ]),
    ).toEqual([['privileged-containers', -15, ['Deployment shop/admin']]]);
    expect(priv.deductions[0]!.resources[0]!.evidence).toEqual([
      {
        topic: 'hetu.raw.kube',
        partition: 0,
        offset: 11n,
        ts: T0 + 200 * S,
        excerpt: 'ADDED Deployment shop/admin',
      },
    ]);

    const history = historyFacts(d).map((f) => f.value as ScoreChangedRecord);
    const crashEntry = history.find(
      (h) => h.scope === 'workload:shop/Deployment/api' && h.ts === T0 + 155 * S,
    )!;
    expect(crashEntry).toEqual({
      ts: T0 + 155 * S,
      cluster: 'c1',
      scope: 'workload:shop/Deployment/api',
      overallFrom: 100,
      overallTo: 96,
      overallDelta: -4,
      levelFrom: 'ok',
      levelTo: 'ok',
      dimensions: [
        {
          dimension: 'reliability',
          from: 100,
          to: 90,
          delta: -10,
          causes: [
            {
              at: T0 + 155 * S,
              delta: -10,
              cause: 'pod shop/api-2 entered crashloop',
              rule: 'crashloop-pods',
              entered: [{ kind: 'Pod', namespace: 'shop', name: 'api-2' }],
              left: [],
            },
          ],
        },
      ],
    });
    // One history entry per published change (the first ones from "never scored").
    expect(historyFacts(d).map((f) => `${f.key} +${(f.timestamp - T0) / S}s`)).toEqual(
      scoreFacts(d).map((f) => `${f.key} +${(f.timestamp - T0) / S}s`),
    );
    const gone = history[history.length - 1]!;
    expect([gone.scope, gone.overallFrom, gone.overallTo, gone.dimensions[1]!.causes[0]!.cause]).toEqual([
      'workload:shop/Deployment/admin',
      95,
      null,
      'deployment shop/admin left privileged-containers',
    ]);
  });

  it('debounces: two changes within 30 s of event time give one rescoring', async () => {
    offsets = 0;
    const d: Driver = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      ...baseline(),
      tick(T0 + 40 * S),
      podHealth(T0 + 100 * S, 'api-1', ['crashloop'], 50),
      podHealth(T0 + 110 * S, 'api-2', ['crashloop'], 51),
      tick(T0 + 129 * S),
    ]);
    expect(scoreFacts(d).length).toBe(3); // only the first scoring: +129 s is within 30 s of +100 s
    await pipeAll(d, [tick(T0 + 130 * S)]);
    const wl = scoreFacts(d)
      .filter((f) => f.key === 'c1/workload:shop/Deployment/api')
      .map(brief);
    expect(wl).toEqual([
      'c1/workload:shop/Deployment/api +40s 100 r100 s100 c100 a100',
      'c1/workload:shop/Deployment/api +130s 93 r80 s100 c100 a100',
    ]);
    const last = historyFacts(d)
      .filter((f) => f.key === 'c1/workload:shop/Deployment/api')
      .at(-1)!.value as ScoreChangedRecord;
    expect(last.dimensions[0]!.causes.map((c) => c.cause)).toEqual([
      'pod shop/api-1 entered crashloop; pod shop/api-2 entered crashloop',
    ]);
  });

  it('does not publish a scope with no data as 100', async () => {
    offsets = 0;
    const d: Driver = new ProcessorTestDriver(processor());
    await pipeAll(d, [nodeHealth(T0), tick(T0 + 31 * S)]);
    // Only a node: the cluster has data, no namespace or workload does.
    expect(scoreFacts(d).map(brief)).toEqual(['c1/cluster +31s 100 r100 s100 c100 a100']);
    const e: Driver = new ProcessorTestDriver(processor());
    await pipeAll(e, [tick(T0), tick(T0 + 60 * S)]);
    expect(scoreFacts(e)).toEqual([]);
  });

  it('measures cost from the mean usage of the last hour against requests', async () => {
    offsets = 0;
    const d: Driver = new ProcessorTestDriver(processor());
    const pod = {
      kind: 'Pod',
      metadata: { name: 'api-1', namespace: 'shop' },
      spec: { containers: [{ name: 'app', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] },
      status: { phase: 'Running' },
    };
    const sample = (ts: number, name: string, value: number) =>
      feed(FEED_SOURCES.metrics, 'c1/shop/api-1', ts, {
        ts,
        cluster: 'c1',
        name,
        labels: { namespace: 'shop', pod: 'api-1', container: 'app' },
        value,
      });
    const ins: In[] = [...baseline(), watch(T0, 'ADDED', pod)];
    // CPU 0.1 then 0.3 cores (mean 0.2 = ratio 0.4 → efficiency 66.67); memory 0.75 GiB (ratio 0.75 → 100).
    ins.push(
      sample(T0 + 10 * S, 'cpu_usage_cores', 0.1),
      sample(T0 + 10 * S, 'memory_working_set_bytes', 0.75 * 2 ** 30),
    );
    ins.push(
      sample(T0 + 70 * S, 'cpu_usage_cores', 0.3),
      sample(T0 + 70 * S, 'memory_working_set_bytes', 0.75 * 2 ** 30),
    );
    ins.push(tick(T0 + 101 * S));
    await pipeAll(d, ins);
    const last = scoreFacts(d)
      .filter((f) => f.key === 'c1/workload:shop/Deployment/api')
      .at(-1)!.value as ScopeScoreRecord;
    expect(last.efficiency).toEqual({
      cpuRatio: 0.4,
      memoryRatio: 0.75,
      storageRatio: null,
      cpu: 66.67,
      memory: 100,
      storage: 100,
      base: 87,
    });
    expect(last.cost).toBe(87);
  });

  it('restored mid-stream from its changelog, continues with the facts of an uninterrupted run', async () => {
    const ins = scenario();
    const whole: Driver = new ProcessorTestDriver(processor());
    await pipeAll(whole, ins);
    const expected = [...scoreFacts(whole), ...historyFacts(whole)];
    for (const cut of [1, 5, 8, 9, 10, 11, 13, 14]) {
      const first: Driver = new ProcessorTestDriver(processor());
      await pipeAll(first, ins.slice(0, cut));
      const restored = first.restoredTask();
      const rest = await continueTask(restored, ins.slice(cut), BigInt(cut));
      const scores = [
        ...scoreFacts(first),
        ...rest.filter((r) => r.topic === SCORES_TOPIC).map((r) => r.record),
      ];
      const history = [
        ...historyFacts(first),
        ...rest.filter((r) => r.topic === SCORE_HISTORY_TOPIC).map((r) => r.record),
      ];
      expect([...scores, ...history], `cut ${cut}`).toEqual(expected);
      expect(stateJSON(restored.state as ScoringState), `cut ${cut}`).toEqual(stateJSON(whole.rawState()));
    }
  });

  it('deletes on tombstones, and scores a late incident and recommendation at once', async () => {
    offsets = 0;
    const d: Driver = new ProcessorTestDriver(processor());
    const incident = (ts: number, status: string) =>
      feed(FEED_SOURCES.incidents, 'c1/inc-1', ts, {
        ts,
        cluster: 'c1',
        id: 'inc-1',
        title: 'shop/api crash-looping',
        status,
        severity: 'high',
        openedAt: ts,
        lastSignalAt: ts,
        updatedAt: ts,
        resolvedAt: null,
        resolvedBy: null,
        statusChangedAt: null,
        workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'api' }],
        nodes: [],
        failedNodes: [],
        namespaces: ['shop'],
        signals: [],
        omittedSignals: 0,
      });
    const recommendation = (ts: number) =>
      feed(FEED_SOURCES.recommendations, 'c1/rightsizing:Deployment/shop/api/app', ts, {
        ts,
        cluster: 'c1',
        id: 'rightsizing:Deployment/shop/api/app',
        type: 'rightsizing',
        target: { kind: 'Deployment', namespace: 'shop', name: 'api', container: 'app' },
        severity: 'medium',
        title: 'Lower the CPU request of shop/api app',
        rationale: '',
        patch: null,
        command: null,
        savings: null,
        status: 'open',
        statusChangedAt: null,
        createdAt: ts,
        updatedAt: ts,
        closedAt: null,
        evidence: { from: ts, to: ts, samples: 60, values: {} },
      });
    await pipeAll(d, [
      ...baseline(),
      podHealth(T0 + 10 * S, 'api-2', ['crashloop'], 42),
      tick(T0 + 40 * S),
      feed(FEED_SOURCES.podHealth, 'c1/shop/api-2', T0 + 50 * S, null),
      tick(T0 + 200 * S),
      // Late (older than the watermark by more than the debounce): each scored at once.
      incident(T0 + 20 * S, 'open'),
      recommendation(T0 + 21 * S),
    ]);
    expect(
      scoreFacts(d)
        .filter((f) => f.key === 'c1/workload:shop/Deployment/api')
        .map(brief),
    ).toEqual([
      'c1/workload:shop/Deployment/api +40s 96 r90 s100 c100 a100',
      'c1/workload:shop/Deployment/api +200s 100 r100 s100 c100 a100',
      'c1/workload:shop/Deployment/api +200s 99 r100 s100 c100 a98',
      'c1/workload:shop/Deployment/api +200s 99 r100 s100 c98 a98',
    ]);
    const last = scoreFacts(d).at(-1)!.value as ScopeScoreRecord;
    expect(
      last.deductions.map((x) => [
        x.rule,
        x.points,
        x.resources.map((r) => `${r.kind} ${r.name}: ${r.detail}`),
      ]),
    ).toEqual([
      [
        'rightsizing-opportunities',
        -2,
        ['Recommendation rightsizing:Deployment/shop/api/app: Lower the CPU request of shop/api app'],
      ],
      ['open-incidents', -2, ['Incident inc-1: high: shop/api crash-looping']],
    ]);
  });

  it('gives identical facts and changelog for the same input twice', async () => {
    const a: Driver = new ProcessorTestDriver(processor());
    const b: Driver = new ProcessorTestDriver(processor());
    await pipeAll(a, scenario());
    await pipeAll(b, scenario());
    expect(scoreFacts(b)).toEqual(scoreFacts(a));
    expect(historyFacts(b)).toEqual(historyFacts(a));
    expect(b.changelog).toEqual(a.changelog);
    expect(a.changelog.length).toBeGreaterThan(0);
  });
});

/** A task's state as canonical JSON (entries and scores in key order). */
function stateJSON(state: ScoringState): string {
  const sorted = <V>(m: ReadonlyMap<string, V>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(
    [...state.clusters.keys()].sort().map((name) => {
      const c = state.clusters.get(name)!;
      return [name, c.dirtySince, sorted(c.entries), sorted(c.scores)];
    }),
  );
}

/** Continues a restored task the way the runtime folds, one record per batch. */
async function continueTask(
  task: TaskState<unknown>,
  ins: readonly In[],
  from: bigint,
): Promise<{ topic: string; record: FactRecord }[]> {
  const def = processor();
  const out: { topic: string; record: FactRecord }[] = [];
  let o = from;
  for (const i of ins) {
    const t = task as TaskState<ScoringState>;
    const result = await foldBatch(def, t, [toRecord(i, o++)]);
    changelogRecords(def, t, result, 0);
    task.uncommitted = false;
    for (const r of result.outputs) out.push({ topic: r.topic, record: r.record as FactRecord });
  }
  return out;
}
