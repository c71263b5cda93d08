import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  StageWorker,
  analysisStages,
  analyze,
  analyzeOn,
  createAnalysisTopics,
  ingest,
  printAnalysis,
  runStagesOnTwoThreads,
  splitTasks,
} from './analyze.ts';
import { toJson } from '../output.ts';
import { openBackend } from '../backend.ts';
import { parseGlobalConfig } from '../config.ts';
import { STAGE_OUTPUTS, recordsByTask, runStage, stageDependencies } from '../stages.ts';
import { factDigest } from '../digest.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-analyze-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh embedded log in `dir/<name>` opened for two threads, with a stage worker when asked. */
async function twoThreadLog(name: string, withWorker: boolean) {
  const data = join(dir, name);
  const writeLock = new SharedArrayBuffer(4);
  const backend = await openBackend(parseGlobalConfig({ dataDir: data, output: 'json' }, {}), { writeLock });
  return { data, writeLock, backend, worker: withWorker ? new StageWorker() : undefined };
}

interface Incident {
  status: string;
  severity: string;
  rca: {
    category: string;
    summary: string;
    rootCause: { kind: string; namespace: string; name: string };
  } | null;
}

interface Scenario {
  id: string;
  window: { from: string; to: string };
  expectedCategory: string | null;
  expectedRootCause: { kind: string; namespace: string | null; name: string } | null;
}

/** A recording line: Namespace `name` added in cluster `c` at `ts`. */
function namespaceAdded(ts: string, name: string): string {
  return JSON.stringify({
    ts,
    cluster: 'c',
    kind: 'watch',
    type: 'ADDED',
    object: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, resourceVersion: '1', uid: `u-${name}` },
    },
  });
}
describe('the readable summary of hetu analyze', () => {
  it('shows the lowest namespace scores, the active and most severe incidents and the most frequent error groups first, and says what it left out', () => {
    const score = (scope: string, overall: number) => ({
      scope,
      overall,
      level: 'ok',
      reliability: overall,
      security: overall,
      cost: overall,
      architecture: overall,
    });
    const incident = (n: number, severity: string, status: string, category: string) => ({
      title: `incident ${n}`,
      severity,
      status,
      rca: { category, rootCause: null, summary: `summary ${n}` },
    });
    const incidents = [
      incident(0, 'medium', 'resolved', 'oom'),
      ...Array.from({ length: 22 }, (_, n) =>
        incident(n + 1, n % 2 === 0 ? 'medium' : 'high', 'open', 'app-error'),
      ),
      incident(23, 'critical', 'open', 'node-failure'),
      incident(24, 'critical', 'investigating', 'unknown'),
    ];
    const result = {
      summary: { observations: 5, deadLetters: 0 },
      scores: [
        score('cluster', 50),
        ...Array.from({ length: 12 }, (_, n) => score(`namespace:ns-${String(n).padStart(2, '0')}`, 90 - n)),
        score('workload:ns-00/Deployment/a', 1),
      ],
      errorGroups: [
        {
          title: 'rare',
          count: 2,
          reason: 'error',
          level: 'error',
          status: 'open',
          spike: false,
          workload: null,
        },
        ...['a', 'b', 'c', 'd', 'e'].map((name, n) => ({
          title: `boom ${name}`,
          count: 10 + n,
          reason: 'error',
          level: 'error',
          status: 'open',
          spike: n === 4,
          workload: { kind: 'Deployment', namespace: 'shop', name },
        })),
        {
          title: 'gone',
          count: 99,
          reason: 'error',
          level: 'error',
          status: 'resolved',
          spike: false,
          workload: null,
        },
      ],
      anomalies: [],
      incidents,
      recommendations: [],
    };
    let text = '';
    printAnalysis(
      { write: (t: string) => ((text += t), true) } as unknown as NodeJS.WritableStream,
      result,
      false,
    );
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'observations 5, dead letters 0',
      'score cluster: 50 (ok) — reliability 50, security 50, cost 50, architecture 50',
      'score namespace:ns-11: 79 (ok) — reliability 79, security 79, cost 79, architecture 79',
      'score namespace:ns-10: 80 (ok) — reliability 80, security 80, cost 80, architecture 80',
    ]);
    expect(lines[12]).toBe('  … 2 more namespaces (the lowest scores are above; --json lists every score)');
    expect(lines[13]).toBe(
      '25 incidents, 24 active; root causes: app-error 22, node-failure 1, oom 1, unknown 1 — active first, most severe first:',
    );
    // Critical first (the later opened first), then high, then medium; the resolved one is left out.
    expect(lines.slice(14, 18)).toEqual([
      '  [critical/investigating] incident 24 — unknown: summary 24',
      '  [critical/open] incident 23 — node-failure: summary 23',
      '  [high/open] incident 22 — app-error: summary 22',
      '  [high/open] incident 20 — app-error: summary 20',
    ]);
    expect(lines.slice(33)).toEqual([
      '  [medium/open] incident 9 — app-error: summary 9',
      '  … 5 more incidents (--json lists every incident)',
      // The open ones with the most events (a resolved one is left out).
      'most frequent open error groups:',
      '  14 × [error, spiking] shop/e: boom e',
      '  13 × [error] shop/d: boom d',
      '  12 × [error] shop/c: boom c',
      '  11 × [error] shop/b: boom b',
      '  10 × [error] shop/a: boom a',
      '7 error groups, 0 anomaly episodes, 0 recommendations',
    ]);
  });
});

describe('hetu analyze', () => {
  it('replays the demo recording through every stage, the same on two threads as on one, and names the root causes', async () => {
    const events: string[] = [];
    const progress = {
      stage: (n: string) => events.push(`+${n}`),
      stageDone: (n: string) => events.push(`-${n}`),
    };
    const first = toJson((await analyze('demo/demo.jsonl.gz', { progress })).result);
    const counted = new Map<string, [number, number]>();
    const second = toJson(
      (
        await analyze('demo/demo.jsonl.gz', {
          threads: 1,
          progress: { records: (stage, done, total) => counted.set(stage, [done, total]) },
        })
      ).result,
    );
    expect(second).toBe(first); // byte-identical
    // The LLM requests stage (run apart from the others) reports its records too. A bar's length
    // counts offsets, batch markers included, so it may end short of its length.
    expect(counted.get('llm-requests')![0]).toBeGreaterThan(0);
    for (const [stage, [done, total]] of counted) expect([stage, done <= total]).toEqual([stage, true]);
    // Two at once from the start: the ready stage with the most input (anomalies) on one thread, the
    // next (errors) on the other, before either ends.
    expect(events.slice(0, 2)).toEqual(['+anomalies', '+errors']);

    const r = JSON.parse(first) as {
      summary: { observations: number; deadLetters: number };
      scores: {
        scope: string;
        overall: number;
        reliability: number;
        security: number;
        cost: number;
        architecture: number;
        deductions: { dimension: string; rule: string; points: number; count: number }[];
      }[];
      errorGroups: unknown[];
      incidents: (Incident & {
        openedAt: string;
        signals: { kind: string; source: string; resource: { name: string } }[];
      })[];
      recommendations: { id: string; severity: string; status: string }[];
    };
    expect(r.summary).toEqual({ observations: 21_779, deadLetters: 0, deadLettersByReason: {} });
    const cluster = r.scores.find((s) => s.scope === 'cluster')!;
    expect([
      cluster.overall,
      cluster.reliability,
      cluster.security,
      cluster.cost,
      cluster.architecture,
    ]).toEqual([42, 59, 0, 74, 47]);
    expect(cluster.deductions.map((d) => `${d.dimension} ${d.rule} ${d.points} (${d.count})`)).toEqual([
      'reliability crashloop-pods -20 (2)',
      'reliability oomkilled-pods -5 (1)',
      'reliability pending-pods -3 (1)',
      'reliability open-error-groups -8 (8)',
      'reliability imagepull-pods -5 (1)',
      'security privileged-containers -30 (2)',
      'security root-containers -30 (11)',
      'security host-namespaces -20 (2)',
      'security cluster-admin-bindings -10 (1)',
      'security secrets-in-env -15 (3)',
      'security namespaces-without-network-policy -10 (2)',
      'security writable-root-filesystem -10 (11)',
      'security missing-security-context -10 (7)',
      'security wildcard-rbac -3 (1)',
      'cost rightsizing-opportunities -16 (8)',
      'architecture active-anomalies -10 (2)',
      'architecture open-incidents -14 (7)',
      'architecture namespaces-without-resourcequota -10 (2)',
      'architecture namespaces-without-limitrange -9 (3)',
      'architecture single-replica-workloads -10 (5)',
    ]);

    // demo/scenarios.json: did an incident opened in each scenario's window get the expected
    // category and root cause (for scenarios without one: how many incidents opened in it)?
    const { scenarios } = JSON.parse(readFileSync('demo/scenarios.json', 'utf8')) as {
      scenarios: Scenario[];
    };
    const verdict = Object.fromEntries(
      scenarios.map((sc) => {
        const [from, to] = [Date.parse(sc.window.from), Date.parse(sc.window.to)];
        const opened = r.incidents.filter(
          (i) => Date.parse(i.openedAt) >= from && Date.parse(i.openedAt) < to,
        );
        if (sc.expectedCategory === null) return [sc.id, `${opened.length} opened`];
        const e = sc.expectedRootCause!;
        const hit = opened.some(
          (i) =>
            i.rca?.category === sc.expectedCategory &&
            i.rca.rootCause.kind === e.kind &&
            i.rca.rootCause.namespace === (e.namespace ?? '') &&
            i.rca.rootCause.name === e.name,
        );
        return [sc.id, hit ? 'found' : 'missed'];
      }),
    );
    expect(verdict).toEqual({
      'healthy-start': '0 opened',
      'memory-leak': 'found',
      'bad-rollout': 'found',
      'dependency-down': 'found',
      'image-pull': 'found',
      unschedulable: 'found',
      'node-not-ready': 'found',
      'missing-config': 'found',
      'error-storm': 'found',
      // Posture findings, not an incident: its window is the whole recording.
      'security-posture': '8 opened',
    });
    expect(
      r.incidents.map((i) => [
        i.openedAt.slice(11, 19),
        i.status,
        i.rca?.category,
        i.rca?.rootCause.kind,
        i.rca?.rootCause.namespace,
        i.rca?.rootCause.name,
      ]),
    ).toEqual([
      // The growing memory opens an incident (GC-pause anomalies); once their episodes close, the
      // memory climbing towards its limit (a pressure signal from 08:24) holds it open, so the OOM
      // kill at 08:31:40 and the crash loop after it join it: one incident for the whole leak.
      ['08:10:30', 'open', 'oom', 'Deployment', 'shop', 'cart'],
      ['08:45:16', 'open', 'bad-rollout', 'Deployment', 'shop', 'checkout'],
      // The ledger outage, with shop/api's latency anomaly of the same second: api's template
      // names `ledger.payments.svc` in its env (LEDGER_URL), which links them before any log does.
      ['09:00:00', 'resolved', 'dependency-down', 'Deployment', 'payments', 'ledger'],
      ['09:25:02', 'open', 'image-pull', 'Deployment', 'shop', 'recommender'],
      ['09:30:00', 'open', 'unschedulable', 'Deployment', 'platform', 'report-builder'],
      // Opened by the pods' NodeNotReady events, joined by the node's NotReady state a minute on.
      ['09:35:40', 'open', 'node-failure', 'Node', '', 'node-2'],
      ['09:52:03', 'open', 'bad-config', 'Deployment', 'platform', 'notifier'],
      ['09:55:00', 'open', 'cpu-saturation', 'Deployment', 'shop', 'search'],
    ]);
    // The RCA reads resource pressure from the container metrics: the leak before the OOM kill,
    // and CPU at the limit for the storm.
    const summaries = r.incidents.map((i) => i.rca?.summary ?? '');
    expect(summaries[2]).toBe(
      'Deployment payments/ledger is down (crashloop), likely from CPU saturation; Deployment shop/api fails calling it.',
    );
    const outage = r.incidents[2]!.signals.filter((s) => s.source === 'anomaly').map((s) => s.resource.name);
    expect([...new Set(outage)]).toEqual([
      'ledger-942kmt7ks8-l4lqk',
      'ledger-942kmt7ks8-9pzkf',
      'ledger',
      'api',
    ]);
    expect(summaries[0]).toBe(
      'Deployment shop/cart was OOMKilled after its memory grew from 264 MiB to 510 MiB (limit 512 MiB): likely a memory leak.',
    );
    const cart = r.incidents[0]!.signals.map((s) => s.kind);
    expect(cart.slice(0, 4)).toEqual(['anomaly', 'anomaly', 'memory-growth', 'oomkilled']);
    expect(summaries[7]).toBe(
      'Deployment shop/search is CPU-saturated: usage at 99 % of its limit, throttled 65 % of the time, with a cpu_throttled_ratio/http_p95_latency_seconds anomaly.',
    );
    expect([r.scores.length, r.errorGroups.length]).toEqual([21, 12]);
    expect(r.recommendations.map((x) => `${x.id} ${x.severity} ${x.status}`)).toEqual([
      'gc-pauses:Deployment/shop/cart high open',
      'hpa-at-max:HorizontalPodAutoscaler/shop/search high open',
      'hpa-min-high:HorizontalPodAutoscaler/shop/api low open',
      'hpa-min-high:HorizontalPodAutoscaler/shop/search low open',
      'rightsizing:DaemonSet/kube-system/kube-proxy/kube-proxy medium open',
      'rightsizing:Deployment/kube-system/coredns/coredns medium open',
      'rightsizing:Deployment/payments/ledger/ledger high open',
      'rightsizing:Deployment/shop/api/api high open',
      'rightsizing:Deployment/shop/cart/cart high open',
      'rightsizing:Deployment/shop/checkout/checkout high open',
      'rightsizing:Deployment/shop/search/search high open',
      'rightsizing:StatefulSet/payments/ledger-db/ledger-db high open',
    ]);
  }, 180_000);

  it('writes the changelogs in a kept data directory and derives the same facts without them', async () => {
    const kept = join(dir, 'kept');
    const bare = join(dir, 'bare');
    const withChangelogs = toJson((await analyze('demo/demo.jsonl.gz', { dataDir: kept })).result);
    const without = toJson(
      (await analyze('demo/demo.jsonl.gz', { dataDir: bare, changelogs: false })).result,
    );
    expect(without).toBe(withChangelogs); // byte-identical
    // One thread runs the stages, the LLM requests stage last, another way (analyzeOn).
    const bareOne = join(dir, 'bare-one-thread');
    const oneThread = toJson(
      (await analyze('demo/demo.jsonl.gz', { dataDir: bareOne, changelogs: false, threads: 1 })).result,
    );
    expect(oneThread).toBe(withChangelogs);
    const stateRecords = async (d: string) => {
      const backend = await openBackend(parseGlobalConfig({ dataDir: d, output: 'json' }, {}));
      try {
        const topics = (await backend.log.describeTopics()).filter((t) => t.name.startsWith('hetu.state.'));
        return Object.fromEntries(
          topics.map((t) => [t.name, t.partitions.reduce((n, p) => n + Number(p.high), 0)]),
        );
      } finally {
        await backend.close();
      }
    };
    const on = await stateRecords(kept);
    const off = await stateRecords(bare);
    const offOne = await stateRecords(bareOne);
    expect(Object.keys(off).sort()).toEqual(Object.keys(on).sort());
    for (const [topic, n] of Object.entries(on))
      expect([topic, n > 0, off[topic], offOne[topic]]).toEqual([topic, true, 0, 0]);
  }, 180_000);

  it('hands every stage every fact the stages before it wrote, however often the log cleans', async () => {
    // A log that compacts after every 5 appends to a partition: had it cleaned while the stages ran,
    // the feed would have read only each pod's, group's and episode's newest fact, where `hetu
    // start` (stages side by side) sees every one.
    const reference = toJson((await analyze('demo/demo.jsonl.gz', { threads: 1 })).result);
    const data = join(dir, 'cleans-often');
    const backend = await openBackend(parseGlobalConfig({ dataDir: data, output: 'json' }, {}), {
      durability: 'off',
      timeRetention: false,
      cleanEvery: 5,
    });
    try {
      const often = toJson(
        (await analyzeOn(backend, 'demo/demo.jsonl.gz', undefined, undefined, false)).result,
      );
      expect(often).toBe(reference);
      // The same on two threads: neither connection cleans while the stages run.
      const twoThreads = toJson(
        (await analyze('demo/demo.jsonl.gz', { threads: 2, cleanEvery: 5, changelogs: false })).result,
      );
      expect(twoThreads).toBe(reference);
      // Paused only while it ran: the next append cleans what is due.
      const [pods] = await backend.log.describeTopics(['hetu.facts.pod-health']);
      const p = pods!.partitions.find((x) => x.high - x.low > 10n)!;
      const before = await backend.log.read('hetu.facts.pod-health', p.partition);
      await backend.log.append('hetu.facts.pod-health', [
        { key: before.at(-1)!.key, value: before.at(-1)!.value, partition: p.partition },
      ]);
      const after = await backend.log.read('hetu.facts.pod-health', p.partition);
      expect(after.length).toBeLessThan(before.length);
    } finally {
      await backend.close();
    }
  }, 180_000);

  it('reads the whole of a recording longer than the raw topics keep (4 days of logs; logs are kept 3)', async () => {
    const file = join(dir, 'long.jsonl');
    const start = Date.parse('2026-11-20T00:00:00.000Z');
    const lines: string[] = [];
    // One pod (one partition: cleans run every 5 000 appends to it), an error every 30 s for 100 h.
    for (let i = 0; i < 12_000; i++) {
      const ts = new Date(start + i * 30_000).toISOString();
      lines.push(
        JSON.stringify({
          ts,
          cluster: 'c',
          kind: 'log',
          namespace: 'shop',
          pod: 'api-7d9f-x2',
          container: 'api',
          line: `${ts} ERROR payment ${i} failed: card declined`,
        }),
      );
    }
    writeFileSync(file, lines.join('\n'));
    const { summary, result } = await analyze(file, { threads: 1 });
    expect(summary.observations).toBe(12_000);
    const groups = (result as { errorGroups: { count: number; firstSeen: string }[] }).errorGroups;
    // Every line counted from the first on (the last waits for its container's next line: a stack
    // trace might follow it).
    expect(groups.map((g) => [g.count, g.firstSeen])).toEqual([[11_999, '2026-11-20T00:00:00.000Z']]);
  }, 120_000);

  it('counts malformed and late lines as dead letters and goes on', async () => {
    const file = join(dir, 'bad.jsonl');
    const ok = namespaceAdded;
    writeFileSync(
      file,
      [
        ok('2026-11-26T08:00:00.000Z', 'a'),
        '{not json',
        JSON.stringify({ ts: '2026-11-26T08:00:01.000Z', cluster: 'c', kind: 'telemetry' }),
        JSON.stringify({ ts: '2026-11-26T08:00:02.000Z', cluster: 'c', kind: 'log', namespace: 'x' }),
        ok('2026-11-26T08:00:10.000Z', 'b'),
        ok('2026-11-26T08:00:04.000Z', 'late'),
        ok('2026-11-26T08:00:11.000Z', 'c'),
      ].join('\n'),
    );
    const { summary, result } = await analyze(file);
    expect(summary).toEqual({
      observations: 3,
      deadLetters: 4,
      deadLettersByReason: {
        HETU_RECORDING_INVALID_JSON: 1,
        HETU_RECORDING_UNKNOWN_KIND: 1,
        HETU_RECORDING_MISSING_FIELD: 1,
        HETU_RECORDING_LATE: 1,
      },
    });
    expect((result as { incidents: unknown[] }).incidents).toEqual([]);
  }, 60_000);

  it('declares every topic each stage writes, so the stages run beside each other are independent', async () => {
    const data = join(dir, 'outputs');
    const backend = await openBackend(parseGlobalConfig({ dataDir: data, output: 'json' }, {}));
    const written = new Map<string, Set<string>>();
    try {
      await createAnalysisTopics(backend);
      await ingest(backend, 'demo/demo.jsonl.gz');
      for (const [name, p] of analysisStages(backend, true)) {
        const topics = new Set<string>();
        written.set(name, topics);
        await runStage(backend, p, (info) => Object.keys(info.outputs).forEach((t) => topics.add(t)));
      }
    } finally {
      await backend.close();
    }
    // Every stage writes something on the demo, and only topics it declares.
    for (const [name, topics] of written) {
      expect([name, topics.size > 0]).toEqual([name, true]);
      expect([name, [...topics].filter((t) => !STAGE_OUTPUTS[name]!.includes(t))]).toEqual([name, []]);
    }
    expect([...written.keys()].sort()).toEqual(Object.keys(STAGE_OUTPUTS).sort());
  }, 120_000);

  it('derives the same facts with every stage of several tasks run in two parts, each on its own connection', async () => {
    const runAll = async (name: string, split: boolean) => {
      const data = join(dir, name);
      const backend = await openBackend(parseGlobalConfig({ dataDir: data, output: 'json' }, {}));
      const second = await openBackend(parseGlobalConfig({ dataDir: data, output: 'json' }, {}));
      const parts: string[] = [];
      try {
        await createAnalysisTopics(backend);
        await ingest(backend, 'demo/demo.jsonl.gz');
        const mine = new Map(analysisStages(second, true));
        for (const [stage, p] of analysisStages(backend, true)) {
          const halves = split ? splitTasks(p, await recordsByTask(backend, p)) : undefined;
          if (!halves) await runStage(backend, p);
          else {
            // As the two threads run them: at the same time, on two connections.
            parts.push(`${stage} ${JSON.stringify(halves)}`);
            await Promise.all([
              runStage(backend, p, undefined, halves[0]),
              runStage(second, mine.get(stage)!, undefined, halves[1]),
            ]);
          }
        }
        return { digest: await factDigest(backend), parts };
      } finally {
        await second.close();
        await backend.close();
      }
    };
    const whole = await runAll('whole', false);
    const split = await runAll('split', true);
    // The demo's stages with input in more than one task; single-task ones never split.
    expect(split.parts.map((p) => p.split(' ')[0])).toEqual([
      'kube',
      'errors',
      'anomalies',
      'scoring-namespaces',
    ]);
    expect(split.digest).toEqual(whole.digest);
    expect(Object.values(whole.digest).filter((d) => d.entries > 0).length).toBeGreaterThan(5);
  }, 300_000);

  it('splits a stage that alone is ready, with both threads free, between them, and derives what it derives whole', async () => {
    const run = async (name: string, twoThreads: boolean) => {
      const { data, writeLock, backend, worker } = await twoThreadLog(name, twoThreads);
      const splits: { stage: string; main: number[]; worker: number[] }[] = [];
      try {
        await createAnalysisTopics(backend);
        await ingest(backend, 'demo/demo.jsonl.gz');
        // kube alone: nothing runs beside it, so the scheduler splits it.
        const stages = analysisStages(backend, true).filter(([n]) => n === 'kube');
        if (worker) {
          await worker.open(data, writeLock, 'normal');
          await runStagesOnTwoThreads(backend, stages, worker, {
            split: (stage, main, other) => splits.push({ stage, main: [...main], worker: [...other] }),
          });
        } else await runStage(backend, stages[0]![1]);
        return { digest: await factDigest(backend), splits };
      } finally {
        await worker?.close();
        await backend.close();
      }
    };
    const split = await run('scheduler-split', true);
    const whole = await run('scheduler-whole', false);
    expect(split.splits).toHaveLength(1);
    const [{ stage, main, worker }] = split.splits as [(typeof split.splits)[0]];
    expect(stage).toBe('kube');
    expect(main.length).toBeGreaterThan(0);
    expect(worker.length).toBeGreaterThan(0);
    expect([...main, ...worker].sort()).toEqual([0, 1, 2]);
    expect(split.digest).toEqual(whole.digest);
    expect(split.digest['hetu.facts.pod-health']!.entries).toBeGreaterThan(0);
  }, 300_000);

  it('splits tasks by their records, the biggest first to the lighter part, and not a single task', () => {
    expect(
      splitTasks(
        {},
        new Map([
          [0, 10],
          [1, 30],
          [2, 25],
        ]),
      ),
    ).toEqual([[1], [0, 2]]);
    expect(
      splitTasks(
        {},
        new Map([
          [0, 5],
          [1, 5],
          [2, 5],
          [3, 5],
        ]),
      ),
    ).toEqual([
      [0, 2],
      [1, 3],
    ]);
    // All the input in one task: nothing to share.
    expect(
      splitTasks(
        {},
        new Map([
          [0, 0],
          [1, 900],
          [2, 0],
        ]),
      ),
    ).toBeUndefined();
    expect(
      splitTasks(
        { singleTask: true },
        new Map([
          [0, 10],
          [1, 10],
        ]),
      ),
    ).toBeUndefined();
  });

  it('runs a stage only after the stages whose topics it reads or writes', async () => {
    const backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'deps'), output: 'json' }, {}));
    try {
      const deps = stageDependencies(analysisStages(backend, true));
      expect(Object.fromEntries([...deps].map(([k, v]) => [k, [...v].sort()]))).toEqual({
        kube: [],
        errors: [],
        anomalies: [],
        feed: ['anomalies', 'errors', 'kube'],
        incidents: ['feed'],
        recommendations: ['feed'],
        'scoring-feed': ['feed', 'incidents', 'recommendations'],
        'scoring-namespaces': ['scoring-feed'],
        'scoring-cluster': ['scoring-feed', 'scoring-namespaces'],
        'llm-requests': ['feed', 'incidents'],
      });
    } finally {
      await backend.close();
    }
    // Two writers of one topic, or a writer of what another reads, never run at once.
    const stage = (inputs: string[]) => ({ inputs });
    expect(
      stageDependencies([
        ['scoring-namespaces', stage(['x'])],
        ['scoring-cluster', stage(['y'])],
      ]).get('scoring-cluster'),
    ).toEqual(new Set(['scoring-namespaces']));
    expect(() => stageDependencies([['nope', stage([])]])).toThrow(/nope has no outputs in STAGE_OUTPUTS/);
  });

  it('ingests on two threads into the same log as on one: this thread reads, the worker appends', async () => {
    const run = async (name: string, twoThreads: boolean) => {
      const { data, writeLock, backend, worker } = await twoThreadLog(name, twoThreads);
      try {
        await createAnalysisTopics(backend);
        let summary;
        if (worker) {
          await worker.open(data, writeLock, 'normal');
          summary = await ingest(backend, 'demo/demo.jsonl.gz', undefined, (t, r) => worker.append(t, r));
          await worker.appended();
        } else summary = await ingest(backend, 'demo/demo.jsonl.gz');
        // Every record of every raw partition, in offset order, with its key, value and time.
        const rows: string[] = [];
        for (const info of await backend.log.describeTopics([
          'hetu.raw.kube',
          'hetu.raw.metrics',
          'hetu.raw.logs',
        ]))
          for (const p of info.partitions) {
            const got = await backend.log.read(info.name, p.partition, {
              fromOffset: p.low,
              toOffset: p.high,
            });
            for (const r of got)
              rows.push(
                `${r.topic}/${r.partition}/${r.offset} ${r.timestamp} ${r.key?.toString('hex')} ${r.value?.toString('hex')}`,
              );
          }
        return { summary, rows };
      } finally {
        await worker?.close();
        await backend.close();
      }
    };
    const two = await run('ingest-two', true);
    const one = await run('ingest-one', false);
    expect(two.summary.observations).toBeGreaterThan(10_000);
    expect(two.rows).toHaveLength(two.summary.observations);
    expect(two).toEqual(one);
  }, 300_000);

  it('reports an append the worker could not make, with the log’s code and sentence', async () => {
    const { data, writeLock, backend } = await twoThreadLog('append-fails', false);
    const worker = new StageWorker();
    try {
      await createAnalysisTopics(backend);
      await worker.open(data, writeLock, 'normal');
      await worker.append('hetu.raw.logs', [
        { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 },
      ]);
      await worker.append('no.such.topic', [
        { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 2 },
      ]);
      await expect(worker.appended()).rejects.toMatchObject({
        code: 'HETU_LOG_UNKNOWN_TOPIC',
        message: expect.stringContaining('no.such.topic') as unknown,
      });
      // The batch before it is in the log; nothing more is taken.
      const [logs] = await backend.log.describeTopics(['hetu.raw.logs']);
      expect(logs!.partitions.reduce((n, p) => n + Number(p.high - p.low), 0)).toBe(1);
      await expect(worker.append('hetu.raw.logs', [{ key: null, value: null }])).rejects.toMatchObject({
        code: 'HETU_LOG_UNKNOWN_TOPIC',
      });
    } finally {
      await worker.close();
      await backend.close();
    }
  }, 60_000);

  it('fails the ingest when the worker it appends through could not open, with the open’s sentence', async () => {
    const file = join(dir, 'not-a-directory-either');
    writeFileSync(file, 'x');
    const worker = new StageWorker();
    try {
      // As analyze does: batches are posted while the open is under way.
      const opened = worker.open(join(file, 'data'), new SharedArrayBuffer(4), 'normal');
      opened.catch(() => undefined);
      await worker.append('hetu.raw.logs', [
        { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 },
      ]);
      await expect(worker.appended()).rejects.toMatchObject({ code: 'ENOTDIR' });
      await expect(opened).rejects.toMatchObject({ code: 'ENOTDIR' });
    } finally {
      await worker.close();
    }
  });

  it('reports a failure of the second thread with its code and sentence', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const worker = new StageWorker();
    try {
      // The data directory cannot be made under a file: the worker's own error comes back.
      await expect(worker.open(join(file, 'data'), new SharedArrayBuffer(4), 'normal')).rejects.toMatchObject(
        {
          code: 'ENOTDIR',
          message: expect.stringContaining('not a directory') as unknown,
        },
      );
      // A worker that could not open refuses what follows with that error.
      await expect(worker.run('kube')).rejects.toMatchObject({ code: 'ENOTDIR' });
      await expect(
        worker.append('hetu.raw.logs', [{ key: null, value: null, timestamp: 3 }]),
      ).rejects.toMatchObject({ code: 'ENOTDIR' });
    } finally {
      await worker.close();
    }
  });

  it('prints JSON with the global -o json as with --json, and a table without either', () => {
    const file = join(dir, 'tiny.jsonl');
    writeFileSync(file, namespaceAdded('2026-11-26T08:00:00.000Z', 'a'));
    const run = (args: string[]) =>
      spawnSync(join('node_modules', '.bin', 'node'), ['cli/src/main.ts', ...args], { encoding: 'utf8' });
    const flag = run(['analyze', file, '--json']);
    const global = run(['-o', 'json', 'analyze', file]);
    const table = run(['analyze', file]);
    expect([flag.status, global.status, table.status]).toEqual([0, 0, 0]);
    expect((JSON.parse(flag.stdout) as { summary: { observations: number } }).summary.observations).toBe(1);
    expect(global.stdout).toBe(flag.stdout);
    expect(table.stdout.startsWith('observations 1, dead letters 0\n')).toBe(true);
  }, 60_000);

  it('refuses a thread count other than 1 or 2 in one sentence', () => {
    const r = spawnSync(
      join('node_modules', '.bin', 'node'),
      ['cli/src/main.ts', 'analyze', 'demo/demo.jsonl.gz', '--threads', '3'],
      { encoding: 'utf8' },
    );
    expect([r.status, r.stderr.trim()]).toEqual([2, 'hetu: --threads must be 1 or 2, not 3.']);
  });
});
