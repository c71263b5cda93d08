// The staged scoring topology (scoring-feed → scoring-namespaces → scoring-cluster) against the
// one-stage reference processor: the same inputs give the same facts, key for key, while no
// namespace task holds another namespace's entries and the cluster stage holds no pod.
import { describe, expect, it } from 'vitest';
import { ProcessorTestDriver, type AppendRecord, type FactRecord, type PipedRecord } from '@hetu/streams';
import type { Incident, NodeHealth, PodHealth, WatchObserved } from '@hetu/schemas';
import {
  SOURCE_KEY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
} from '../rekey/rekey.ts';
import type { ScopeScoreRecord } from './record.ts';
import {
  CLUSTER_FEED_TOPIC,
  FEED_SOURCES,
  ROUND_HEADER,
  SCORE_HISTORY_TOPIC,
  SCORE_PARTIALS_TOPIC,
  SCORES_TOPIC,
  SCORING_CLUSTER_TOPIC,
  SCORING_FEED_TOPIC,
  scoringClusterProcessor,
  scoringFeedProcessor,
  scoringNamespacesProcessor,
  scoringProcessor,
  type ScoringClusterState,
  type ScoringNamespacesState,
} from './topology.ts';

const T0 = Date.UTC(2026, 10, 26, 8);
const S = 1000;
const C = 'c1';

/** Test double of the Avro decoder: values are JSON (longs as strings). */
const decode = async (_topic: string, value: Buffer): Promise<unknown> => JSON.parse(value.toString('utf8'));
const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** One input of the scorer: a record of `source` (its key, its offset there) at event time `ts`. */
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
  const kind = object['kind'] as string;
  const w: WatchObserved = {
    ts,
    cluster: C,
    type,
    apiVersion: 'v1',
    kind,
    namespace: meta.namespace ?? null,
    name: meta.name,
    uid: null,
    resourceVersion: null,
    detail: null,
    object: JSON.stringify(object),
  };
  // The catalogue's keys: `<cluster>/<ns>/<workload>`, cluster-scoped `<cluster>/<Kind>/<name>`.
  const key =
    meta.namespace === undefined ? `${C}/${kind}/${meta.name}` : `${C}/${meta.namespace}/${meta.name}`;
  return feed(FEED_SOURCES.kube, key, ts, w);
}

const SOFT = { containers: [{ name: 'app', image: 'x' }] };
const deployment = (ns: string, name: string, replicas = 2, template: unknown = SOFT) => ({
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas, template: { spec: template } },
});

function podHealth(
  ts: number,
  ns: string,
  name: string,
  workload: string,
  categories: string[],
  at: number,
): In {
  const p: PodHealth = {
    ts,
    cluster: C,
    namespace: ns,
    name,
    uid: null,
    node: 'n1',
    phase: 'Running',
    workload: { kind: 'Deployment', namespace: ns, name: workload, inferred: false },
    categories,
    reasons: [],
    restarts: 0,
    restartsPerHour: 0,
    ageMs: null,
    evidence: {
      topic: 'hetu.raw.kube',
      partition: 2,
      offset: String(at),
      ts,
      excerpt: `MODIFIED Pod ${ns}/${name}`,
    },
  };
  return feed(FEED_SOURCES.podHealth, `${C}/${ns}/${name}`, ts, p);
}

function nodeHealth(ts: number, notReady: boolean): In {
  const n: NodeHealth = {
    ts,
    cluster: C,
    name: 'n1',
    uid: null,
    ready: !notReady,
    unschedulable: false,
    states: notReady ? ['NotReady'] : [],
    reasons: [],
    evidence: { topic: 'hetu.raw.kube', partition: 0, offset: '7', ts, excerpt: 'MODIFIED Node n1' },
  };
  return feed(FEED_SOURCES.nodeHealth, `${C}/n1`, ts, n);
}

function usage(ts: number, ns: string, pod: string, cpu: number): In {
  return feed(FEED_SOURCES.metrics, `${C}/${ns}/${pod}`, ts, {
    ts,
    cluster: C,
    name: 'cpu_usage_cores',
    labels: { namespace: ns, pod, container: 'app' },
    value: cpu,
  });
}

function incident(ts: number, id: string, status: string, workloads: [string, string][]): In {
  const inc: Incident = {
    ts,
    cluster: C,
    id,
    title: `${id} crash-looping`,
    status: status as Incident['status'],
    severity: 'high',
    openedAt: ts,
    lastSignalAt: ts,
    updatedAt: ts,
    resolvedAt: null,
    resolvedBy: null,
    statusChangedAt: null,
    workloads: workloads.map(([namespace, name]) => ({ kind: 'Deployment', namespace, name })),
    nodes: [],
    failedNodes: [],
    namespaces: [...new Set(workloads.map(([ns]) => ns))],
    signals: [],
    omittedSignals: 0,
  } as unknown as Incident;
  return feed(FEED_SOURCES.incidents, `${C}/${id}`, ts, inc);
}

function errorGroup(ts: number, id: string, ns: string, workload: string): In {
  return feed(FEED_SOURCES.errorGroups, `${C}/${id}`, ts, {
    ts,
    cluster: C,
    id,
    namespace: ns,
    workload,
    title: 'TypeError: x is undefined',
    level: 'error',
    status: 'open',
    mergedInto: null,
  });
}

const tick = (ts: number): In =>
  feed(FEED_SOURCES.metrics, `${C}/node/n1`, ts, {
    ts,
    cluster: C,
    name: 'node_cpu_utilisation',
    labels: { node: 'n1' },
    value: 0.5,
  });

/** Two namespaces, cluster-level facts, an incident over both that later leaves one, deletions by id. */
function scenario(): In[] {
  offsets = 0;
  const pod = (ns: string, name: string) => ({
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: '500m', memory: '1Gi' } } }] },
  });
  return [
    watch(T0, 'ADDED', { kind: 'Namespace', metadata: { name: 'shop' } }),
    watch(T0, 'ADDED', { kind: 'Namespace', metadata: { name: 'pay' } }),
    watch(T0, 'ADDED', { kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'shop' } }),
    watch(T0, 'ADDED', {
      kind: 'ClusterRoleBinding',
      metadata: { name: 'ci' },
      roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'pay' }],
    }),
    watch(T0, 'ADDED', { kind: 'Node', metadata: { name: 'n1' } }),
    watch(T0, 'ADDED', deployment('shop', 'api')),
    watch(T0, 'ADDED', deployment('pay', 'ledger', 1)),
    watch(T0, 'ADDED', pod('shop', 'api-1')),
    watch(T0, 'ADDED', pod('pay', 'ledger-1')),
    podHealth(T0, 'shop', 'api-1', 'api', [], 100),
    podHealth(T0, 'pay', 'ledger-1', 'ledger', [], 101),
    nodeHealth(T0, false),
    usage(T0 + 5 * S, 'shop', 'api-1', 0.2),
    usage(T0 + 5 * S, 'pay', 'ledger-1', 0.45),
    tick(T0 + 40 * S),
    podHealth(T0 + 60 * S, 'shop', 'api-1', 'api', ['crashloop'], 142),
    errorGroup(T0 + 62 * S, 'g1', 'pay', 'ledger-1'),
    incident(T0 + 65 * S, 'inc-1', 'open', [
      ['shop', 'api'],
      ['pay', 'ledger'],
    ]),
    usage(T0 + 66 * S, 'shop', 'api-1', 0.6),
    nodeHealth(T0 + 70 * S, true),
    tick(T0 + 100 * S),
    // A repeat (same content, another evidence position) changes nothing: no round at +135 s.
    podHealth(T0 + 105 * S, 'shop', 'api-1', 'api', ['crashloop'], 150),
    // The incident leaves pay; the error group goes (a tombstone keyed by id only).
    incident(T0 + 130 * S, 'inc-1', 'investigating', [['shop', 'api']]),
    feed(FEED_SOURCES.errorGroups, `${C}/g1`, T0 + 131 * S, null),
    watch(T0 + 135 * S, 'DELETED', deployment('pay', 'ledger', 1)),
    tick(T0 + 170 * S),
    // Late (older than the watermark by more than the debounce): a round at once.
    incident(T0 + 20 * S, 'inc-2', 'open', []),
    // Two more, in shop: each a round at the same watermark, each published (the cluster too).
    incident(T0 + 21 * S, 'inc-3', 'open', [['shop', 'api']]),
    incident(T0 + 22 * S, 'inc-4', 'open', [['shop', 'api']]),
    tick(T0 + 171 * S),
  ];
}

function headers(i: In): Record<string, Buffer> {
  return {
    [SOURCE_TOPIC_HEADER]: Buffer.from(i.source),
    [SOURCE_PARTITION_HEADER]: Buffer.from('0'),
    [SOURCE_OFFSET_HEADER]: Buffer.from(String(i.offset)),
    [SOURCE_KEY_HEADER]: Buffer.from(i.sourceKey),
  };
}
const valueOf = (i: In) => (i.value === null ? null : json(i.value));

/** The one-stage reference: every input through the cluster feed. */
async function reference(ins: readonly In[]): Promise<ProcessorTestDriver<unknown, unknown>> {
  const d = new ProcessorTestDriver(scoringProcessor({ decode }) as never);
  for (const i of ins)
    await d.pipe(CLUSTER_FEED_TOPIC, { key: C, value: valueOf(i), timestamp: i.ts, headers: headers(i) });
  return d as ProcessorTestDriver<unknown, unknown>;
}

const partitionOf = (key: string): number => (key === `${C}/pay` ? 1 : 0);

/** A routed record as piped into the namespace stage: `shop` and `pay` on different partitions (tasks). */
const routedRecord = (r: AppendRecord) => ({
  key: r.key,
  value: r.value,
  timestamp: r.timestamp ?? 0,
  headers: r.headers ?? {},
  partition: partitionOf(r.key!.toString()),
});

interface Staged {
  router: ProcessorTestDriver<unknown, unknown>;
  namespaces: ProcessorTestDriver<unknown, ScoringNamespacesState>;
  cluster: ProcessorTestDriver<unknown, ScoringClusterState>;
  routed: AppendRecord[];
  /** The cluster stage's input, merged by event time. */
  merged: { topic: string; rec: PipedRecord }[];
}

/** The three stages, each run to the end of its input (as `hetu analyze` runs them). */
async function staged(ins: readonly In[]): Promise<Staged> {
  const router = new ProcessorTestDriver(scoringFeedProcessor({ decode }) as never) as ProcessorTestDriver<
    unknown,
    unknown
  >;
  for (const i of ins)
    await router.pipe(CLUSTER_FEED_TOPIC, {
      key: C,
      value: valueOf(i),
      timestamp: i.ts,
      headers: headers(i),
    });
  const routed = router.output(SCORING_FEED_TOPIC) as AppendRecord[];
  const namespaces = new ProcessorTestDriver(
    scoringNamespacesProcessor({ decode }) as never,
  ) as ProcessorTestDriver<unknown, ScoringNamespacesState>;
  for (const r of routed) await namespaces.pipe(SCORING_FEED_TOPIC, routedRecord(r));
  const cluster = new ProcessorTestDriver(
    scoringClusterProcessor({ decode }) as never,
  ) as ProcessorTestDriver<unknown, ScoringClusterState>;
  // The single task's event-time merge of the partials and the cluster topic (stable by time).
  const partials = (namespaces.output(SCORE_PARTIALS_TOPIC) as FactRecord[]).map((f) => ({
    topic: SCORE_PARTIALS_TOPIC,
    rec: {
      key: f.key,
      value: f.value === null ? null : json(f.value),
      timestamp: f.timestamp,
    } as PipedRecord,
  }));
  const own = (router.output(SCORING_CLUSTER_TOPIC) as AppendRecord[]).map((r) => ({
    topic: SCORING_CLUSTER_TOPIC,
    rec: { key: r.key, value: r.value, timestamp: r.timestamp ?? 0, headers: r.headers ?? {} } as PipedRecord,
  }));
  const merged: { topic: string; rec: PipedRecord }[] = [];
  let a = 0;
  let b = 0;
  while (a < partials.length || b < own.length) {
    const p = partials[a];
    const o = own[b];
    if (o === undefined || (p !== undefined && p.rec.timestamp <= o.rec.timestamp))
      merged.push(partials[a++]!);
    else merged.push(own[b++]!);
  }
  for (const m of merged) await cluster.pipe(m.topic, m.rec);
  return { router, namespaces, cluster, routed, merged };
}

/** Facts of a topic as `key → values in order` (the order per key is what consumers see). */
function perKey(
  ...drivers: ProcessorTestDriver<unknown, unknown>[]
): (topic: string) => Record<string, string[]> {
  return (topic) => {
    const out: Record<string, string[]> = {};
    for (const d of drivers)
      for (const f of d.output(topic) as FactRecord[])
        (out[f.key] ??= []).push(`${f.timestamp} ${json(f.value)}`);
    return out;
  };
}

describe('staged scoring', () => {
  it('publishes exactly the facts of the one-stage scorer, key for key', async () => {
    const ref = perKey(await reference(scenario()));
    const s = await staged(scenario());
    const got = perKey(s.namespaces as never, s.cluster as never);
    expect(got(SCORES_TOPIC)).toEqual(ref(SCORES_TOPIC));
    expect(got(SCORE_HISTORY_TOPIC)).toEqual(ref(SCORE_HISTORY_TOPIC));
    expect(Object.keys(got(SCORES_TOPIC)).sort()).toEqual([
      'c1/cluster',
      'c1/namespace:pay',
      'c1/namespace:shop',
      'c1/workload:pay/Deployment/ledger',
      'c1/workload:shop/Deployment/api',
    ]);
  });

  it('counts an incident over two namespaces once at the cluster, and moves it when it leaves one', async () => {
    const s = await staged(scenario());
    const scores = (d: ProcessorTestDriver<unknown, unknown>, key: string) =>
      (d.output(SCORES_TOPIC) as FactRecord[])
        .filter((f) => f.key === key && f.value !== null)
        .map((f) => f.value as ScopeScoreRecord);
    const rule = (r: ScopeScoreRecord, id: string) => r.deductions.find((d) => d.rule === id);
    const cluster = scores(s.cluster as never, 'c1/cluster');
    // At +100 s: inc-1 touches shop and pay, 2 points once; the node NotReady; cluster-admin binding.
    const at100 = cluster.find((r) => r.ts === T0 + 100 * S)!;
    expect(rule(at100, 'open-incidents')).toMatchObject({ points: -2, count: 1, totalResources: 1 });
    expect(rule(at100, 'not-ready-nodes')).toMatchObject({ points: -15, count: 1 });
    expect(rule(at100, 'cluster-admin-bindings')).toMatchObject({ points: -10, count: 1 });
    const pay = scores(s.namespaces as never, 'c1/namespace:pay');
    expect(rule(pay.find((r) => r.ts === T0 + 100 * S)!, 'open-incidents')?.count).toBe(1);
    // Left pay at +130 s (the router sends pay a tombstone of it): pay no longer counts it.
    expect(rule(pay.at(-1)!, 'open-incidents')).toBeUndefined();
    // shop: inc-1, then the late inc-3 and inc-4, each in its own round at +170 s (three entries).
    const shop = scores(s.namespaces as never, 'c1/namespace:shop').filter((r) => r.ts === T0 + 170 * S);
    expect(shop.map((r) => rule(r, 'open-incidents')?.count)).toEqual([1, 2, 3]);
    // The cluster publishes each of those rounds too; the scope-less inc-2 counts there only.
    const at170 = cluster.filter((r) => r.ts === T0 + 170 * S);
    expect(at170.map((r) => rule(r, 'open-incidents')?.count)).toEqual([1, 2, 3, 4]);
    expect(rule(cluster.at(-1)!, 'open-incidents')).toMatchObject({ count: 4, points: -8 });
    // The error group's tombstone (keyed by id only) reached pay: its group is gone there.
    expect(rule(pay.at(-1)!, 'open-error-groups')).toBeUndefined();
    expect(rule(pay.find((r) => r.ts === T0 + 100 * S)!, 'open-error-groups')?.count).toBe(1);
  });

  it('keeps each namespace in its own task and no pod in the cluster stage; evidence points at the observations', async () => {
    const s = await staged(scenario());
    const held = (p: number) => [...s.namespaces.rawState(p).namespaces.keys()].sort();
    expect(held(0)).toEqual(['c1/shop']);
    expect(held(1)).toEqual(['c1/pay']);
    const c = s.cluster.rawState().clusters.get(C)!;
    expect([...c.entries.keys()].sort()).toEqual([
      `i/${C}/${C}/inc-2`,
      'n/c1/n1',
      'o/c1/ClusterRoleBinding//ci',
    ]);
    expect([...c.partials.keys()].sort()).toEqual(['pay', 'shop']);
    // The repeated pod health was not passed on (the entry, and its evidence, stay as they were).
    const apiHealth = s.routed.filter(
      (r) =>
        r.headers?.[SOURCE_KEY_HEADER]?.toString() === `${C}/shop/api-1` &&
        r.headers[SOURCE_TOPIC_HEADER]?.toString() === FEED_SOURCES.podHealth,
    );
    expect(apiHealth.map((r) => r.headers![SOURCE_OFFSET_HEADER]!.toString())).toEqual(['9', '15']);
    // The round markers: one per namespace and one for the cluster per round, the cluster's 1 ms later.
    const markers = s.routed.filter((r) => r.headers?.[ROUND_HEADER] !== undefined);
    expect(markers.map((r) => `${r.key} +${((r.timestamp ?? 0) - T0) / S}s`)).toEqual([
      'c1/pay +40s',
      'c1/shop +40s',
      'c1/pay +100s',
      'c1/shop +100s',
      'c1/pay +170s',
      'c1/shop +170s',
      'c1/pay +170s',
      'c1/shop +170s',
      'c1/pay +170s',
      'c1/shop +170s',
      'c1/pay +170s',
      'c1/shop +170s',
    ]);
    // The crash-looping pod's evidence is the pod-health fact's own (the watch event), and the
    // Deployment's is its raw record, through both re-keys.
    const shop = (s.namespaces.output(SCORES_TOPIC) as FactRecord[])
      .filter((f) => f.key === 'c1/workload:shop/Deployment/api' && f.value !== null)
      .at(-1)!.value as ScopeScoreRecord;
    const crash = shop.deductions.find((d) => d.rule === 'crashloop-pods')!;
    expect(crash.resources[0]!.evidence).toEqual([
      {
        topic: 'hetu.raw.kube',
        partition: 2,
        offset: 142n,
        ts: T0 + 60 * S,
        excerpt: 'MODIFIED Pod shop/api-1',
      },
    ]);
    const root = shop.deductions.find((d) => d.rule === 'root-containers')!;
    expect(root.resources[0]!.evidence[0]).toMatchObject({ topic: 'hetu.raw.kube', offset: 5n, ts: T0 });
  });

  it('restarted from their changelogs mid-stream, the stages continue with the facts of an uninterrupted run', async () => {
    const ins = scenario();
    const whole = await staged(ins);
    const expected = perKey(whole.namespaces as never)(SCORES_TOPIC);
    for (const cut of [3, 13, 16, 21, 22, 27, 30]) {
      // The router restarted after `cut` inputs.
      const first = new ProcessorTestDriver(scoringFeedProcessor({ decode }) as never);
      for (const i of ins.slice(0, cut))
        await first.pipe(CLUSTER_FEED_TOPIC, {
          key: C,
          value: valueOf(i),
          timestamp: i.ts,
          headers: headers(i),
        });
      const second = first.restart();
      for (const i of ins.slice(cut))
        await second.pipe(CLUSTER_FEED_TOPIC, {
          key: C,
          value: valueOf(i),
          timestamp: i.ts,
          headers: headers(i),
        });
      const routed = [
        ...first.output(SCORING_FEED_TOPIC),
        ...second.output(SCORING_FEED_TOPIC),
      ] as AppendRecord[];
      expect(
        routed.map((r) => `${r.key} ${r.timestamp} ${r.value?.toString()}`),
        `router cut ${cut}`,
      ).toEqual(whole.routed.map((r) => `${r.key} ${r.timestamp} ${r.value?.toString()}`));
      // The namespace stage restarted after `cut` routed records.
      const n1 = new ProcessorTestDriver(scoringNamespacesProcessor({ decode }) as never);
      const pipe = (d: typeof n1, r: AppendRecord) => d.pipe(SCORING_FEED_TOPIC, routedRecord(r));
      for (const r of routed.slice(0, cut)) await pipe(n1, r);
      const n2 = n1.restart();
      for (const r of routed.slice(cut)) await pipe(n2, r);
      expect(perKey(n1 as never, n2 as never)(SCORES_TOPIC), `namespaces cut ${cut}`).toEqual(expected);
    }
  });

  it('gives identical facts and changelogs for the same input twice', async () => {
    const a = await staged(scenario());
    const b = await staged(scenario());
    for (const k of ['router', 'namespaces', 'cluster'] as const)
      expect(b[k].changelog).toEqual(a[k].changelog);
    expect(perKey(b.cluster as never)(SCORES_TOPIC)).toEqual(perKey(a.cluster as never)(SCORES_TOPIC));
  });

  it('the cluster stage restarted from its changelog anywhere, partials waiting included, goes on as if uninterrupted', async () => {
    const whole = await staged(scenario());
    const expected = perKey(whole.cluster as never)(SCORES_TOPIC);
    const newCluster = () =>
      new ProcessorTestDriver(scoringClusterProcessor({ decode }) as never) as ProcessorTestDriver<
        unknown,
        ScoringClusterState
      >;
    let waiting = 0;
    for (let cut = 1; cut < whole.merged.length; cut++) {
      const c1 = newCluster();
      for (const m of whole.merged.slice(0, cut)) await c1.pipe(m.topic, m.rec);
      const pending = [...c1.rawState().clusters.values()].flatMap((c) => c.pending);
      if (pending.length > 0) waiting++;
      // Every waiting partial has a changelog record of its own.
      const keys = new Set(c1.changelog.filter((r) => r.value !== null).map((r) => r.key!.toString()));
      for (const p of pending) expect(keys.has(`Q/${C}/${p.n}`), `cut ${cut}`).toBe(true);
      const c2 = c1.restart();
      for (const m of whole.merged.slice(cut)) await c2.pipe(m.topic, m.rec);
      expect(perKey(c1 as never, c2 as never)(SCORES_TOPIC), `cut ${cut}`).toEqual(expected);
    }
    expect(waiting).toBeGreaterThan(0);
  });

  it('reads the waiting partials of an older changelog (one Q/<cluster> record) and rewrites them one key each', async () => {
    const whole = await staged(scenario());
    const expected = perKey(whole.cluster as never)(SCORES_TOPIC);
    for (let cut = 1; cut < whole.merged.length; cut++) {
      const c1 = new ProcessorTestDriver(scoringClusterProcessor({ decode }) as never) as ProcessorTestDriver<
        unknown,
        ScoringClusterState
      >;
      for (const m of whole.merged.slice(0, cut)) await c1.pipe(m.topic, m.rec);
      const pending = c1.rawState().clusters.get(C)?.pending ?? [];
      if (pending.length === 0) continue;
      // The changelog as the previous version wrote it: the waiting list under one key.
      const legacy = c1.changelog.filter((r) => !r.key!.toString().startsWith('Q/'));
      legacy.push({
        key: Buffer.from(`Q/${C}`),
        value: Buffer.from(
          JSON.stringify({
            v: 1,
            value: pending.map((p) => ({ namespace: p.namespace, round: p.round, partial: p.partial })),
          }),
        ),
      });
      c1.changelog.splice(0, c1.changelog.length, ...legacy);
      const c2 = c1.restart();
      const before = c2.changelog.length;
      for (const m of whole.merged.slice(cut)) await c2.pipe(m.topic, m.rec);
      expect(perKey(c1 as never, c2 as never)(SCORES_TOPIC), `cut ${cut}`).toEqual(expected);
      // The old key is deleted at the cluster's next input.
      const written = c2.changelog.slice(before).map((r) => `${r.key!.toString()} ${r.value === null}`);
      expect(written, `cut ${cut}`).toContain(`Q/${C} true`);
      return;
    }
    throw new Error('the scenario never had partials waiting');
  });

  it('keeps each waiting partial in a changelog record of its own, however many namespaces wait', async () => {
    const whole = await staged(scenario());
    const sample = whole.merged.find((m) => m.topic === SCORE_PARTIALS_TOPIC && m.rec.value)!;
    const d = new ProcessorTestDriver(scoringClusterProcessor({ decode }) as never) as ProcessorTestDriver<
      unknown,
      ScoringClusterState
    >;
    const many = 500;
    for (let i = 0; i < many; i++) await d.pipe(SCORE_PARTIALS_TOPIC, { ...sample.rec, key: `${C}/ns-${i}` });
    expect(d.rawState().clusters.get(C)!.pending.length).toBe(many);
    const records = d.changelog.filter((r) => r.key!.toString().startsWith('Q/') && r.value !== null);
    expect(records.length).toBe(many);
    // One partial's size each (a single record of all 500 was what passed Kafka's 1 MiB limit).
    const one = Buffer.byteLength(String(sample.rec.value));
    for (const r of records) expect(r.value!.length).toBeLessThan(one + 200);
  });
});
