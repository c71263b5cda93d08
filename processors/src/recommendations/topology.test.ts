import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  EmbeddedLog,
  ProcessorRuntime,
  ProcessorTestDriver,
  changelogRecords,
  foldBatch,
  type FactRecord,
  type LogRecord,
  type TaskState,
} from '@hetu/streams';
import {
  createMemorySchemaStore,
  createRegistryClient,
  createSerde,
  startEmbeddedRegistry,
  type Command,
  type MetricSampled,
  type WatchObserved,
} from '@hetu/schemas';
import { readRecording } from '@hetu/producers/recording';
import { stateKeys } from './state.ts';
import { CONTAINER_RECORD_BINARY, decodeContainerRecord } from './container-record.ts';
import { SOURCE_TOPIC_HEADER, clusterOfKey, rekeyProcessor } from '../rekey/rekey.ts';
import {
  CLUSTER_FEED_TOPIC,
  COMMANDS_TOPIC,
  RAW_KUBE_TOPIC,
  RAW_METRICS_TOPIC,
  RECOMMENDATIONS_TOPIC,
  parseQuantity,
  recommendationsProcessor,
  type RecommendationRecord,
  type RecommendationsInput,
  type RecommendationsTaskState,
} from './topology.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 8);

/** The test double of the Avro decoder: values are the records as JSON. */
const decode = async (_topic: string, value: Buffer): Promise<unknown> => JSON.parse(value.toString('utf8'));
const decodeCommand = async (r: LogRecord): Promise<Command> =>
  JSON.parse((r.value as Buffer).toString('utf8')) as Command;
const processor = () => recommendationsProcessor({ decode, decodeCommand });

/** One input: a fed raw record, or a command. */
interface In {
  readonly topic: typeof CLUSTER_FEED_TOPIC | typeof COMMANDS_TOPIC;
  readonly source?: string;
  readonly ts: number;
  readonly value: string;
}

const metric = (ts: number, name: string, labels: Record<string, string>, value: number): In => ({
  topic: CLUSTER_FEED_TOPIC,
  source: RAW_METRICS_TOPIC,
  ts,
  value: JSON.stringify({ ts, cluster: 'c1', name, labels, value } satisfies MetricSampled),
});

const watch = (ts: number, type: WatchObserved['type'], object: Record<string, unknown>): In => {
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
  return { topic: CLUSTER_FEED_TOPIC, source: RAW_KUBE_TOPIC, ts, value: JSON.stringify(w) };
};

const command = (
  ts: number,
  recommendationId: string,
  status: string,
  type = 'recommendation.set-status',
): In => ({
  topic: COMMANDS_TOPIC,
  ts,
  value: JSON.stringify({
    id: `cmd-${ts}`,
    ts,
    issuer: 'cli:test',
    type,
    targetIds: [recommendationId],
    payload: JSON.stringify({ recommendationId, status }),
  } satisfies Command),
});

function pod(name: string, resources: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      creationTimestamp: '2026-11-26T07:00:00Z',
      labels: { app: 'api', 'pod-template-hash': '7d4b9c' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d4b9c', controller: true }],
    },
    spec: {
      containers: [
        { name: 'api', image: 'x', resources },
        { name: 'proxy', image: 'y' },
      ],
    },
    status: { phase: 'Running' },
  };
}

function hpa(current: number): Record<string, unknown> {
  return {
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, minReplicas: 2, maxReplicas: 6 },
    status: { currentReplicas: current },
  };
}

const RESOURCES = { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } };
const RIGHTSIZING = 'rightsizing:Deployment/shop/api/api';
const HPA_AT_MAX = 'hpa-at-max:HorizontalPodAutoscaler/shop/api';

/** An over-provisioned container (1 core requested, 0.1 used for 61 min), an HPA reaching max, a dismissal. */
function scenario(): In[] {
  const out: In[] = [watch(T0, 'ADDED', pod('api-7d4b9c-a', RESOURCES))];
  for (let i = 0; i <= 61; i++) {
    const labels = { namespace: 'shop', pod: 'api-7d4b9c-a', container: 'api' };
    out.push(metric(T0 + i * MIN, 'cpu_usage_cores', labels, 0.1));
    out.push(metric(T0 + i * MIN, 'memory_working_set_bytes', labels, 200 * 1_048_576));
    if (i === 10) out.push(watch(T0 + i * MIN, 'ADDED', hpa(3)));
    if (i === 20) out.push(watch(T0 + i * MIN, 'MODIFIED', hpa(6)));
    if (i === 30) out.push(metric(T0 + i * MIN, 'http_request_rate', { namespace: 'shop' }, 5));
  }
  out.push(command(T0 + 61 * MIN + 1000, RIGHTSIZING, 'dismissed'));
  out.push(command(T0 + 61 * MIN + 2000, 'rightsizing:Deployment/shop/none/api', 'accepted'));
  out.push(command(T0 + 61 * MIN + 3000, RIGHTSIZING, 'ignored', 'incident.set-status'));
  out.push(watch(T0 + 63 * MIN, 'MODIFIED', hpa(4)));
  out.push(metric(T0 + 64 * MIN, 'node_cpu_utilisation', { node: 'n1' }, 0.5));
  return out;
}

function toRecord(i: In, offset: bigint): LogRecord {
  return {
    topic: i.topic,
    partition: 0,
    offset,
    key: Buffer.from('c1'),
    value: Buffer.from(i.value),
    timestamp: i.ts,
    headers: i.source === undefined ? {} : { [SOURCE_TOPIC_HEADER]: Buffer.from(i.source) },
  };
}

/** The records with the offsets the driver gives them (per topic, from 0). */
function records(ins: readonly In[]): LogRecord[] {
  const next = new Map<string, bigint>();
  return ins.map((i) => {
    const o = next.get(i.topic) ?? 0n;
    next.set(i.topic, o + 1n);
    return toRecord(i, o);
  });
}

type Driver = ProcessorTestDriver<RecommendationsInput, RecommendationsTaskState>;

async function pipeAll(d: Driver, ins: readonly In[]): Promise<void> {
  for (const r of records(ins)) {
    await d.pipe(r.topic, { key: 'c1', value: r.value, timestamp: r.timestamp, headers: r.headers });
  }
}

const facts = (d: Driver) => d.output(RECOMMENDATIONS_TOPIC) as readonly FactRecord[];

/** A fact in one line: key, minute offset, status, closed. */
const brief = (f: FactRecord): string => {
  const v = f.value as RecommendationRecord | null;
  const at = `+${(f.timestamp - T0) / 1000}s`;
  if (v === null) return `${f.key} ${at} tombstone`;
  return `${f.key} ${at} ${v.status}${v.closedAt === null ? '' : ' closed'} updated +${(v.updatedAt - T0) / 1000}s`;
};

describe('parseQuantity', () => {
  it('reads Kubernetes quantities exactly', () => {
    const cases: [unknown, number | null][] = [
      ['100m', 0.1],
      ['0.5', 0.5],
      ['1', 1],
      ['2.5', 2.5],
      ['.5', 0.5],
      ['1500m', 1.5],
      ['250000u', 0.25],
      ['500000000n', 0.5],
      ['128Mi', 134_217_728],
      ['1.5Gi', 1_610_612_736],
      ['1Ki', 1024],
      ['1G', 1_000_000_000],
      ['1k', 1000],
      ['1M', 1_000_000],
      ['1e3', 1000],
      ['1E-3', 0.001],
      ['12e6', 12_000_000],
      ['0.1Gi', 107_374_182.4],
      ['+3', 3],
      ['-1', -1],
      [2, 2],
      ['1K', null],
      ['1mi', null],
      ['', null],
      ['abc', null],
      ['1.2.3', null],
      [null, null],
      [Number.NaN, null],
    ];
    expect(cases.map(([q]) => parseQuantity(q))).toEqual(cases.map(([, v]) => v));
  });
});

describe('recommendations processor', () => {
  it('recommends rightsizing an over-provisioned container and a larger HPA maximum; applies a status command', async () => {
    const d: Driver = new ProcessorTestDriver(processor());
    await pipeAll(d, scenario());
    expect(d.deadLetters).toEqual([]);
    expect(facts(d).map(brief)).toEqual([
      // HPA at max from +20 min: seen by the evaluation of the next slot (+21 min).
      `c1/${HPA_AT_MAX} +1260s open updated +1260s`,
      // Samples from +0 to +60 min: the 1 h coverage is reached by the sample at +60 min.
      `c1/${RIGHTSIZING} +3600s open updated +3600s`,
      // One more minute of samples: the evidence changed.
      `c1/${RIGHTSIZING} +3660s open updated +3660s`,
      `c1/${RIGHTSIZING} +3661s dismissed updated +3661s`,
      // The HPA left its maximum; the rightsizing evidence counts its 4 replicas now.
      `c1/${HPA_AT_MAX} +3780s open closed updated +3780s`,
      `c1/${RIGHTSIZING} +3780s dismissed updated +3780s`,
    ]);
    const first = facts(d)[1] as FactRecord;
    expect(first).toEqual({
      key: `c1/${RIGHTSIZING}`,
      timestamp: T0 + 60 * MIN,
      value: {
        ts: T0 + 60 * MIN,
        cluster: 'c1',
        id: RIGHTSIZING,
        type: 'rightsizing',
        target: { kind: 'Deployment', namespace: 'shop', name: 'api', container: 'api' },
        severity: 'medium',
        title: 'Right-size container api of Deployment shop/api: CPU over-provisioned',
        rationale:
          'Over 1 h of samples (61 samples, 2026-11-26T08:00:00.000Z to 2026-11-26T09:00:00.000Z), container api ' +
          'of Deployment shop/api used p95 0.1 cores of CPU against a request of 1 core (ratio 0.1: ' +
          'over-provisioned, below 0.30). Suggested: CPU request 150m and limit 150m (request 1.2 × p95, ' +
          'limit 1.5 × p95, rounded up to 50m CPU and 32Mi memory).',
        // Memory (200Mi of 256Mi, ratio 0.78) is inside the band: only CPU is patched.
        patch: [
          'spec:',
          '  template:',
          '    spec:',
          '      containers:',
          '        - name: api',
          '          resources:',
          '            requests:',
          '              cpu: 150m',
          '            limits:',
          '              cpu: 150m',
          '',
        ].join('\n'),
        command: 'kubectl patch deployment api -n shop --type strategic --patch-file patch.yaml',
        savings: null,
        status: 'open',
        statusChangedAt: null,
        createdAt: T0 + 60 * MIN,
        updatedAt: T0 + 60 * MIN,
        closedAt: null,
        evidence: {
          from: T0,
          to: T0 + 60 * MIN,
          samples: 61n,
          values: {
            cpuP95: 0.1,
            cpuRatio: 0.1,
            cpuRequest: 1,
            cpuSamples: 61,
            cpuSuggestedLimitMilli: 150,
            cpuSuggestedRequestMilli: 150,
            replicas: 6,
          },
        },
      } satisfies RecommendationRecord,
    });
    const hpaFact = facts(d)[0]?.value as RecommendationRecord;
    expect([hpaFact.patch, hpaFact.severity, hpaFact.evidence.values]).toEqual([
      'spec:\n  maxReplicas: 9\n',
      'high',
      { current: 6, max: 6, min: 2, suggestedMax: 9 },
    ]);
    const dismissed = facts(d)[3]?.value as RecommendationRecord;
    expect([dismissed.status, dismissed.statusChangedAt]).toEqual(['dismissed', T0 + 61 * MIN + 1000]);
    expect([...d.facts(RECOMMENDATIONS_TOPIC).keys()]).toEqual([`c1/${HPA_AT_MAX}`, `c1/${RIGHTSIZING}`]);
  });

  it('closes the rightsizing recommendation when the Deployment is deleted, and tombstones it 7 days later', async () => {
    const d: Driver = new ProcessorTestDriver(processor());
    const deployment = { kind: 'Deployment', metadata: { name: 'api', namespace: 'shop' } };
    await pipeAll(d, [
      ...scenario(),
      watch(T0 + 65 * MIN, 'DELETED', deployment),
      metric(T0 + 65 * MIN + 7 * 24 * 60 * MIN, 'node_cpu_utilisation', { node: 'n1' }, 0.5),
    ]);
    expect(facts(d).map(brief).slice(6)).toEqual([
      `c1/${RIGHTSIZING} +3900s dismissed closed updated +3900s`,
      // Both closed more than 7 days before the next record: deleted by its evaluation.
      `c1/${HPA_AT_MAX} +608700s tombstone`,
      `c1/${RIGHTSIZING} +608700s tombstone`,
    ]);
    expect(d.facts(RECOMMENDATIONS_TOPIC).size).toBe(0);
  });

  it('dead-letters a malformed status command', async () => {
    const d: Driver = new ProcessorTestDriver(processor());
    await pipeAll(d, [command(T0, RIGHTSIZING, 'done')]);
    expect(d.deadLetters.map((x) => [x.reasonCode, x.message])).toEqual([
      [
        'HETU_INPUT_INVALID_COMMAND',
        `Command cmd-${T0} (recommendation.set-status) has payload.status "done": use open, accepted, dismissed, applied.`,
      ],
    ]);
  });

  it('restored mid-stream from its changelog, continues with the facts of an uninterrupted run', async () => {
    const ins = scenario();
    const recs = records(ins);
    const whole: Driver = new ProcessorTestDriver(processor());
    await pipeAll(whole, ins);
    const expected = facts(whole);
    const cuts = [1, 2, 20, 50, 121, 123, 128, 129, ins.length - 1];
    for (const cut of cuts) {
      const first: Driver = new ProcessorTestDriver(processor());
      await pipeAll(first, ins.slice(0, cut));
      const restored = first.restoredTask();
      const rest = await continueTask(restored, recs.slice(cut));
      expect([...facts(first), ...rest], `cut ${cut}`).toEqual(expected);
      expect(stateJSON(restored.state as RecommendationsTaskState), `cut ${cut}`).toEqual(
        stateJSON(whole.rawState()),
      );
    }
  });

  it('restores container records of format 1 (JSON, as older versions wrote them) as well', async () => {
    const ins = scenario();
    const recs = records(ins);
    const whole: Driver = new ProcessorTestDriver(processor());
    await pipeAll(whole, ins);
    const expected = facts(whole);
    for (const cut of [50, 123, ins.length - 1]) {
      const first: Driver = new ProcessorTestDriver(processor());
      await pipeAll(first, ins.slice(0, cut));
      let containers = 0;
      const old = first.changelog.map((r) => {
        if (r.value === null || r.value[0] !== CONTAINER_RECORD_BINARY) return r;
        containers++;
        const json = Buffer.from(JSON.stringify(decodeContainerRecord(r.value)));
        return { ...r, value: json };
      });
      expect(containers, `cut ${cut}`).toBeGreaterThan(0);
      first.changelog.splice(0, first.changelog.length, ...old);
      const restored = first.restoredTask();
      const rest = await continueTask(restored, recs.slice(cut));
      expect([...facts(first), ...rest], `cut ${cut}`).toEqual(expected);
      expect(stateJSON(restored.state as RecommendationsTaskState), `cut ${cut}`).toEqual(
        stateJSON(whole.rawState()),
      );
    }
  });

  it('gives identical facts and changelog for the same input twice', async () => {
    const a: Driver = new ProcessorTestDriver(processor());
    const b: Driver = new ProcessorTestDriver(processor());
    await pipeAll(a, scenario());
    await pipeAll(b, scenario());
    expect(facts(b)).toEqual(facts(a));
    expect(b.changelog).toEqual(a.changelog);
    expect(a.changelog.length).toBeGreaterThan(0);
  });
});

/** Every changelog value of a task's state, by key (what a full snapshot would write). */
function stateJSON(state: RecommendationsTaskState): Record<string, string | null> {
  const def = processor();
  def.snapshot(state, 'm'); // settles a restored state
  const keys = ['m'];
  for (const [cluster, s] of state.clusters) for (const k of stateKeys(s)) keys.push(`r/${cluster}/${k}`);
  for (const k of state.pods.keys()) keys.push(`p/${k}`);
  for (const k of state.owners.keys()) keys.push(`o/${k}`);
  const out: Record<string, string | null> = {};
  for (const k of keys.sort()) out[k] = def.snapshot(state, k)?.toString('base64') ?? null;
  return {
    ...out,
    pods: JSON.stringify([...state.pods]),
    per: JSON.stringify([...state.podsPerWorkload].sort()),
  };
}

/** Continues a restored task the way the runtime folds, one record per batch; returns its facts. */
async function continueTask(task: TaskState<unknown>, recs: readonly LogRecord[]): Promise<FactRecord[]> {
  const def = processor();
  const out: FactRecord[] = [];
  for (const record of recs) {
    const t = task as TaskState<RecommendationsTaskState>;
    const result = await foldBatch(def, t, [record]);
    changelogRecords(def, t, result, 0);
    task.uncommitted = false;
    for (const r of result.outputs) if (r.topic === RECOMMENDATIONS_TOPIC) out.push(r.record as FactRecord);
  }
  return out;
}

describe('recommendations processor on the embedded log with the schema registry', () => {
  it('turns the demo recording, re-keyed by cluster, into recommendations', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const closers: (() => Promise<void>)[] = [() => log.close(), () => registry.close()];
    try {
      const serde = createSerde(createRegistryClient({ url: registry.url }));
      await log.ensureTopics([
        { name: RAW_KUBE_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: RAW_METRICS_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: CLUSTER_FEED_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: COMMANDS_TOPIC, partitions: 3, cleanupPolicy: 'delete' },
        { name: RECOMMENDATIONS_TOPIC, partitions: 3, cleanupPolicy: 'compact' },
      ]);
      const recording = fileURLToPath(new URL('../../../demo/demo.jsonl.gz', import.meta.url));
      const appended = { [RAW_KUBE_TOPIC]: 0, [RAW_METRICS_TOPIC]: 0 };
      for await (const item of readRecording(recording)) {
        if (item.kind !== 'observation') continue;
        let bytes: Buffer;
        if (item.topic === RAW_KUBE_TOPIC)
          bytes = await serde.encode(item.topic, 'WatchObserved', item.value);
        else if (item.topic === RAW_METRICS_TOPIC)
          bytes = await serde.encode(item.topic, 'MetricSampled', item.value);
        else continue;
        await log.append(item.topic, [
          { key: Buffer.from(item.key), value: bytes, timestamp: item.value.ts },
        ]);
        appended[item.topic]++;
      }
      expect(appended).toEqual({ [RAW_KUBE_TOPIC]: 695, [RAW_METRICS_TOPIC]: 18_119 });
      const feed = new ProcessorRuntime({
        log,
        processor: rekeyProcessor({
          name: 'feed-by-cluster',
          inputs: [RAW_METRICS_TOPIC, RAW_KUBE_TOPIC],
          output: CLUSTER_FEED_TOPIC,
          keyOf: clusterOfKey,
          singleTask: true,
        }),
      });
      closers.push(() => feed.close());
      await (await feed.start()).whenCaughtUp(120_000);
      const runtime = new ProcessorRuntime({
        log,
        processor: recommendationsProcessor({
          decode: (topic, value) =>
            topic === RAW_METRICS_TOPIC
              ? serde.decode(value, 'MetricSampled')
              : serde.decode(value, 'WatchObserved'),
          decodeCommand: (r) => serde.decode(r.value as Buffer, 'Command'),
        }),
        encodeFact: (topic, v) => serde.encode(topic, 'Recommendation', v as RecommendationRecord),
      });
      closers.push(() => runtime.close());
      await (await runtime.start()).whenCaughtUp(120_000);

      const last = new Map<string, RecommendationRecord | null>();
      let total = 0;
      for (let p = 0; p < 3; p++) {
        for (const r of await log.read(RECOMMENDATIONS_TOPIC, p)) {
          total++;
          const key = r.key?.toString('utf8') ?? '';
          last.set(key, r.value === null ? null : await serde.decode(r.value, 'Recommendation'));
        }
      }
      const summary = [...last]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([k, v]) =>
          v === null ? `${k} tombstone` : `${k} ${v.severity}${v.closedAt === null ? '' : ' closed'}`,
        );
      const dlq = await log.read('hetu.dlq', 0);
      expect(dlq.length).toBe(0);
      // The re-key stage is one task over every partition, merged by event time: the feed is in
      // recording order.
      expect(summary).toEqual([
        'demo/gc-pauses:Deployment/shop/cart high closed',
        'demo/hpa-at-max:HorizontalPodAutoscaler/shop/search high',
        'demo/hpa-min-high:HorizontalPodAutoscaler/shop/api low',
        'demo/hpa-min-high:HorizontalPodAutoscaler/shop/search low',
        'demo/rightsizing:DaemonSet/kube-system/kube-proxy/kube-proxy medium',
        'demo/rightsizing:Deployment/kube-system/coredns/coredns medium',
        'demo/rightsizing:Deployment/payments/ledger/ledger high',
        'demo/rightsizing:Deployment/shop/api/api high',
        'demo/rightsizing:Deployment/shop/cart/cart high',
        'demo/rightsizing:Deployment/shop/checkout/checkout high',
        'demo/rightsizing:Deployment/shop/search/search high',
        'demo/rightsizing:StatefulSet/payments/ledger-db/ledger-db high',
      ]);
      expect(total).toBe(433); // every upsert (open rightsizing facts are re-sent as evidence grows) and close
    } finally {
      for (const c of closers.reverse()) await c();
    }
  });
});
