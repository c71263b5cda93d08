import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  EmbeddedLog,
  ProcessorRuntime,
  ProcessorTestDriver,
  type FactRecord,
  type LogRecord,
} from '@hetu/streams';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  type WatchObserved,
} from '@hetu/schemas';
import { readRecording } from '@hetu/producers/recording';
import {
  KUBE_TOPIC,
  NODE_HEALTH_TOPIC,
  POD_HEALTH_TOPIC,
  kubeProcessor,
  type KubeInput,
  type KubeState,
  type NodeHealthRecord,
  type PodHealthRecord,
} from './topology.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 8);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The test double of the Avro decoder: the record value is the WatchObserved as JSON. */
const decodeWatch = async (r: LogRecord): Promise<WatchObserved> =>
  JSON.parse((r.value as Buffer).toString('utf8')) as WatchObserved;
const processor = () => kubeProcessor({ decodeWatch });

interface Obs {
  readonly ts: number;
  readonly type: WatchObserved['type'];
  readonly object: { kind: string; metadata: { name: string; namespace?: string; uid?: string } };
}

function value(o: Obs): string {
  const w: WatchObserved = {
    ts: o.ts,
    cluster: 'c1',
    type: o.type,
    apiVersion: 'v1',
    kind: o.object.kind,
    namespace: o.object.metadata.namespace ?? null,
    name: o.object.metadata.name,
    uid: o.object.metadata.uid ?? null,
    resourceVersion: null,
    detail: null,
    object: JSON.stringify(o.object),
  };
  return JSON.stringify(w);
}

async function pipeAll(d: ProcessorTestDriver<KubeInput, KubeState>, obs: readonly Obs[]): Promise<void> {
  for (const o of obs) await d.pipe(KUBE_TOPIC, { key: 'k', value: value(o), timestamp: o.ts });
}

interface PodOpts {
  phase?: string;
  created?: number;
  rs?: string;
  hash?: string;
  node?: string;
  waiting?: string;
  restarts?: number;
  last?: { reason: string; exitCode: number; finishedAt: number };
  unschedulable?: boolean;
}

function pod(name: string, o: PodOpts = {}): Obs['object'] {
  const created = o.created ?? T0;
  return {
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      creationTimestamp: iso(created),
      ...(o.hash === undefined ? {} : { labels: { app: 'web', 'pod-template-hash': o.hash } }),
      ...(o.rs === undefined
        ? {}
        : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.rs, controller: true }] }),
    },
    spec: {
      ...(o.node === undefined ? {} : { nodeName: o.node }),
      containers: [{ name: 'app', image: 'x' }],
    },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        o.unschedulable === true
          ? {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              lastTransitionTime: iso(created),
            }
          : { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(created) },
      ],
      ...(o.phase === 'Pending' && o.node === undefined
        ? {}
        : {
            containerStatuses: [
              {
                name: 'app',
                restartCount: o.restarts ?? 0,
                state: o.waiting === undefined ? { running: {} } : { waiting: { reason: o.waiting } },
                ...(o.last === undefined
                  ? {}
                  : {
                      lastState: {
                        terminated: {
                          reason: o.last.reason,
                          exitCode: o.last.exitCode,
                          finishedAt: iso(o.last.finishedAt),
                        },
                      },
                    }),
              },
            ],
          }),
    },
  } as Obs['object'];
}

function replicaSet(name: string, deployment: string | null): Obs['object'] {
  return {
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ...(deployment === null
        ? {}
        : {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, controller: true },
            ],
          }),
    },
  } as Obs['object'];
}

function node(name: string, ready: string, since: number): Obs['object'] {
  return {
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, creationTimestamp: iso(T0 - 60 * MIN) },
    spec: {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready,
          ...(ready === 'True' ? { reason: 'KubeletReady' } : { reason: 'NodeStatusUnknown' }),
          lastTransitionTime: iso(since),
        },
      ],
    },
  } as Obs['object'];
}

const facts = (d: ProcessorTestDriver<KubeInput, KubeState>, topic = POD_HEALTH_TOPIC) =>
  d.output(topic) as readonly FactRecord[];

/** A pod fact in one line: key, time offset in s, categories, workload, evidence offset — or tombstone. */
const brief = (f: FactRecord): string => {
  const v = f.value as PodHealthRecord | null;
  if (v === null) return `${f.key} +${(f.timestamp - T0) / 1000}s tombstone`;
  const w = v.workload;
  return `${f.key} +${(f.timestamp - T0) / 1000}s [${v.categories.join(',')}] ${w.kind}/${w.name}${w.inferred ? '?' : ''} r${v.restarts} @${v.evidence.offset}`;
};

const RS = 'web-7d4b9c';
const HASH = '7d4b9c';

/** A mixed stream: a crash-looping pod, a pending pod, a node going NotReady, a late ReplicaSet, a deletion. */
function scenario(): Obs[] {
  return [
    { ts: T0, type: 'ADDED', object: node('node-1', 'True', T0 - 60 * MIN) },
    { ts: T0, type: 'ADDED', object: pod('web-7d4b9c-a', { rs: RS, hash: HASH, node: 'node-1' }) },
    { ts: T0 + 1000, type: 'ADDED', object: pod('db-0', { phase: 'Pending', created: T0 + 1000 }) },
    {
      ts: T0 + 30_000,
      type: 'MODIFIED',
      object: pod('web-7d4b9c-a', {
        rs: RS,
        hash: HASH,
        node: 'node-1',
        waiting: 'CrashLoopBackOff',
        restarts: 1,
        last: { reason: 'OOMKilled', exitCode: 137, finishedAt: T0 + 20_000 },
      }),
    },
    { ts: T0 + 2 * MIN, type: 'MODIFIED', object: node('node-1', 'Unknown', T0 + 2 * MIN) },
    { ts: T0 + 3 * MIN, type: 'ADDED', object: replicaSet(RS, 'web') },
    { ts: T0 + 4 * MIN, type: 'MODIFIED', object: node('node-1', 'Unknown', T0 + 2 * MIN) },
    { ts: T0 + 6 * MIN, type: 'MODIFIED', object: node('node-1', 'Unknown', T0 + 2 * MIN) },
    { ts: T0 + 7 * MIN, type: 'DELETED', object: pod('db-0', { phase: 'Pending', created: T0 + 1000 }) },
    { ts: T0 + 62 * MIN, type: 'MODIFIED', object: node('node-1', 'True', T0 + 62 * MIN) },
  ];
}

describe('kube processor', () => {
  it('publishes crashloop with the evidence of the event that entered it', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, scenario().slice(0, 4));
    const out = facts(d);
    expect(out.map(brief)).toEqual([
      'c1/shop/web-7d4b9c-a +0s [] Deployment/web? r0 @1',
      'c1/shop/db-0 +1s [] Pod/db-0 r0 @2',
      'c1/shop/web-7d4b9c-a +30s [crashloop,oomkilled] Deployment/web? r1 @3',
    ]);
    const v = out[2]?.value as PodHealthRecord;
    expect(v.evidence).toEqual({
      topic: KUBE_TOPIC,
      partition: 0,
      offset: '3',
      ts: T0 + 30_000,
      excerpt:
        'MODIFIED Pod shop/web-7d4b9c-a Running: app waiting CrashLoopBackOff (restarts 1, last OOMKilled exit 137)',
    });
    expect(v.reasons).toEqual([
      {
        category: 'crashloop',
        container: 'app',
        reason: 'CrashLoopBackOff',
        message: null,
        exitCode: 137,
        restartCount: null,
        at: null,
      },
      {
        category: 'oomkilled',
        container: 'app',
        reason: 'OOMKilled',
        message: null,
        exitCode: 137,
        restartCount: null,
        at: iso(T0 + 20_000),
      },
    ]);
    expect(v).toMatchObject({
      node: 'node-1',
      phase: 'Running',
      restarts: 1,
      ageMs: 30_000,
      restartsPerHour: 60,
    });
  });

  it('publishes pending exactly when 5 min of event time have passed, moved by other objects; re-resolves the workload; tombstones', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, scenario());
    expect(facts(d).map(brief)).toEqual([
      'c1/shop/web-7d4b9c-a +0s [] Deployment/web? r0 @1',
      'c1/shop/db-0 +1s [] Pod/db-0 r0 @2',
      'c1/shop/web-7d4b9c-a +30s [crashloop,oomkilled] Deployment/web? r1 @3',
      // The ReplicaSet arrives: the pod is re-published with the resolved workload, same evidence.
      'c1/shop/web-7d4b9c-a +180s [crashloop,oomkilled] Deployment/web r1 @3',
      // db-0 was created at +1 s: pending from +301 s, seen at the first record at or after it.
      'c1/shop/db-0 +360s [pending] Pod/db-0 r0 @2',
      'c1/shop/db-0 +420s tombstone',
      // The OOM kill at +20 s leaves the 1 h window at +3620.001 s: seen at the next record (+62 min).
      // Categories changed by time alone: the evidence is the pod's latest watch event (offset 3).
      'c1/shop/web-7d4b9c-a +3720s [crashloop] Deployment/web r1 @3',
    ]);
    expect(d.facts(POD_HEALTH_TOPIC).size).toBe(1);
  });

  it('publishes pending at exactly 5 min (inclusive), not at 4 min 59.999 s', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      { ts: T0, type: 'ADDED', object: pod('p', { phase: 'Pending', unschedulable: true }) },
      { ts: T0 + 5 * MIN - 1, type: 'ADDED', object: node('node-9', 'True', T0 - MIN) },
    ]);
    expect(facts(d).map(brief)).toEqual(['c1/shop/p +0s [] Pod/p r0 @0']);
    await pipeAll(d, [{ ts: T0 + 5 * MIN, type: 'MODIFIED', object: node('node-9', 'True', T0 - MIN) }]);
    expect(facts(d).map(brief)).toEqual([
      'c1/shop/p +0s [] Pod/p r0 @0',
      'c1/shop/p +300s [pending] Pod/p r0 @0',
    ]);
    expect((facts(d)[1]?.value as PodHealthRecord).reasons[0]?.reason).toBe('Unschedulable');
  });

  it('publishes a node NotReady 60 s after Ready left True, then Ready again, and tombstones a deleted node', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      { ts: T0, type: 'ADDED', object: node('n1', 'True', T0 - MIN) },
      { ts: T0 + 10_000, type: 'MODIFIED', object: node('n1', 'Unknown', T0 + 10_000) },
      { ts: T0 + 69_999, type: 'ADDED', object: pod('x') },
      { ts: T0 + 70_000, type: 'MODIFIED', object: pod('x') },
      { ts: T0 + 90_000, type: 'MODIFIED', object: node('n1', 'True', T0 + 90_000) },
      { ts: T0 + 95_000, type: 'DELETED', object: node('n1', 'True', T0 + 90_000) },
    ]);
    const nodes = facts(d, NODE_HEALTH_TOPIC).map((f) => {
      const v = f.value as NodeHealthRecord | null;
      return v === null
        ? `${f.key} +${(f.timestamp - T0) / 1000}s tombstone`
        : `${f.key} +${(f.timestamp - T0) / 1000}s ready=${v.ready} [${v.states.join(',')}] @${v.evidence.offset}`;
    });
    expect(nodes).toEqual([
      'c1/n1 +0s ready=true [] @0',
      // States unchanged ([] → []): the evidence stays that of the last change of states.
      'c1/n1 +10s ready=false [] @0',
      'c1/n1 +70s ready=false [NotReady] @1',
      'c1/n1 +90s ready=true [] @4',
      'c1/n1 +95s tombstone',
    ]);
    expect((facts(d, NODE_HEALTH_TOPIC)[2]?.value as NodeHealthRecord).reasons).toEqual([
      {
        state: 'NotReady',
        condition: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: null,
        at: iso(T0 + 10_000),
      },
    ]);
  });

  it('a bare ReplicaSet arriving after its pod makes the ReplicaSet the workload', async () => {
    const d = new ProcessorTestDriver(processor());
    await pipeAll(d, [
      { ts: T0, type: 'ADDED', object: pod('web-7d4b9c-a', { rs: RS, hash: HASH }) },
      { ts: T0 + 1000, type: 'ADDED', object: replicaSet(RS, null) },
      { ts: T0 + 2000, type: 'MODIFIED', object: replicaSet(RS, null) },
    ]);
    expect(facts(d).map(brief)).toEqual([
      'c1/shop/web-7d4b9c-a +0s [] Deployment/web? r0 @0',
      'c1/shop/web-7d4b9c-a +1s [] ReplicaSet/web-7d4b9c r0 @0',
    ]);
  });

  it('restored mid-stream from its changelog, continues with the facts of an uninterrupted run', async () => {
    const obs = scenario();
    const whole = new ProcessorTestDriver(processor());
    await pipeAll(whole, obs);
    const expected = facts(whole);
    for (let cut = 1; cut < obs.length; cut++) {
      const first = new ProcessorTestDriver(processor());
      await pipeAll(first, obs.slice(0, cut));
      const second = first.restart();
      await pipeAll(second, obs.slice(cut));
      expect([...facts(first), ...facts(second)]).toEqual(expected);
      expect(stateJSON(second.rawState())).toEqual(stateJSON(whole.rawState()));
    }
  });

  it('gives identical facts and changelog for the same input twice', async () => {
    const a = new ProcessorTestDriver(processor());
    const b = new ProcessorTestDriver(processor());
    await pipeAll(a, scenario());
    await pipeAll(b, scenario());
    expect(facts(b)).toEqual(facts(a));
    expect(facts(b, NODE_HEALTH_TOPIC)).toEqual(facts(a, NODE_HEALTH_TOPIC));
    expect(b.changelog).toEqual(a.changelog);
  });

  it('dead-letters a record without a value or with a broken object', async () => {
    const d = new ProcessorTestDriver(processor());
    await d.pipe(KUBE_TOPIC, { key: 'k', value: null, timestamp: T0 });
    const broken = JSON.parse(value({ ts: T0, type: 'ADDED', object: pod('x') })) as WatchObserved;
    await d.pipe(KUBE_TOPIC, { key: 'k', value: JSON.stringify({ ...broken, object: '{' }), timestamp: T0 });
    expect(d.deadLetters.map((x) => [x.reasonCode, x.message])).toEqual([
      ['HETU_INPUT_INVALID', 'Record hetu.raw.kube/0/0 has no value, so it holds no WatchObserved.'],
      [
        'HETU_INPUT_INVALID',
        'Watch record hetu.raw.kube/0/1 (ADDED Pod) holds an object that is not JSON, so the kube processor cannot read it.',
      ],
    ]);
  });
});

/** The state as plain data (entries in their order; the schedule is derived). */
function stateJSON(state: KubeState) {
  const def = processor();
  def.snapshot(state, 'm'); // settles a restored state
  return {
    pods: [...state.pods],
    nodes: [...state.nodes],
    owners: [...state.owners],
    syncs: [...state.syncs],
    podsByOwner: [...state.podsByOwner].map(([k, v]) => [k, [...v].sort()]).sort(),
    seq: state.seq,
  };
}

describe('kube processor on the embedded log with the schema registry', () => {
  it('folds the demo recording into PodHealth and NodeHealth facts', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const closers: (() => Promise<void>)[] = [() => log.close(), () => registry.close()];
    try {
      const serde = createSerde(createRegistryClient({ url: registry.url }));
      await log.ensureTopics([
        { name: KUBE_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: POD_HEALTH_TOPIC, partitions: 3, cleanupPolicy: 'compact' },
        { name: NODE_HEALTH_TOPIC, partitions: 3, cleanupPolicy: 'compact' },
      ]);
      const recording = fileURLToPath(new URL('../../../demo/demo.jsonl.gz', import.meta.url));
      let watches = 0;
      for await (const item of readRecording(recording)) {
        if (item.kind !== 'observation' || item.topic !== KUBE_TOPIC) continue;
        const bytes = await serde.encode(KUBE_TOPIC, 'WatchObserved', item.value);
        await log.append(KUBE_TOPIC, [
          { key: Buffer.from(item.key), value: bytes, timestamp: item.value.ts },
        ]);
        watches++;
      }
      expect(watches).toBe(695);
      const runtime = new ProcessorRuntime({
        log,
        processor: kubeProcessor({ decodeWatch: (r) => serde.decode(r.value as Buffer, 'WatchObserved') }),
        encodeFact: (topic, v) =>
          topic === POD_HEALTH_TOPIC
            ? serde.encode(topic, 'PodHealth', v as PodHealthRecord)
            : serde.encode(topic, 'NodeHealth', v as NodeHealthRecord),
      });
      closers.push(() => runtime.close());
      const sub = await runtime.start();
      await sub.whenCaughtUp(60_000);

      /** Per key: how many facts carried each category, and the last value (null: tombstone). */
      const read = async (topic: string, record: 'PodHealth' | 'NodeHealth') => {
        const counts = new Map<string, Record<string, number>>();
        const last = new Map<string, PodHealthRecord | NodeHealthRecord | null>();
        let total = 0;
        for (let p = 0; p < 3; p++) {
          for (const r of await log.read(topic, p)) {
            const key = r.key?.toString() ?? '';
            total++;
            if (r.value === null) {
              last.set(key, null);
              continue;
            }
            const v = (await serde.decode(r.value, record)) as PodHealthRecord | NodeHealthRecord;
            last.set(key, v);
            const c = counts.get(key) ?? {};
            for (const x of 'categories' in v ? v.categories : v.states) c[x] = (c[x] ?? 0) + 1;
            counts.set(key, c);
          }
        }
        return { counts, last, total };
      };
      const pods = await read(POD_HEALTH_TOPIC, 'PodHealth');
      const nodes = await read(NODE_HEALTH_TOPIC, 'NodeHealth');
      const podSummary = (name: string) => {
        const v = pods.last.get(`demo/${name}`) as PodHealthRecord | null | undefined;
        return {
          counts: pods.counts.get(`demo/${name}`),
          final: v === undefined ? 'absent' : v === null ? 'tombstone' : v.categories,
          workload: v === undefined || v === null ? null : `${v.workload.kind}/${v.workload.name}`,
        };
      };
      expect({
        cart: podSummary('shop/cart-zf5hg2bp46-f2vtd'),
        checkout: podSummary('shop/checkout-s25vwv6b2r-r7t5p'),
        recommender: podSummary('shop/recommender-9nndjr22f-jpzz9'),
        notifier: podSummary('platform/notifier-d789pgsk2-mc7d7'),
        node2: {
          counts: nodes.counts.get('demo/node-2'),
          final: (nodes.last.get('demo/node-2') as NodeHealthRecord).states,
        },
        totals: [pods.total, nodes.total],
      }).toEqual({
        // OOM-killed at 08:31:40, then crash-looping: oomkilled in every fact of the kill's hour.
        cart: { counts: { crashloop: 15, oomkilled: 32 }, final: ['oomkilled'], workload: 'Deployment/cart' },
        // Between back-offs (running, > 5 restarts) the bad rollout's pod is high-restarts.
        checkout: {
          counts: { crashloop: 19, 'high-restarts': 14 },
          final: ['crashloop'],
          workload: 'Deployment/checkout',
        },
        recommender: { counts: { imagepull: 22 }, final: ['imagepull'], workload: 'Deployment/recommender' },
        notifier: { counts: { crashloop: 5 }, final: ['crashloop'], workload: 'Deployment/notifier' },
        node2: { counts: { NotReady: 1 }, final: [] },
        totals: [171, 6],
      });
    } finally {
      for (const c of closers.reverse()) await c();
    }
  });
});
