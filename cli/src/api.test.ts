/**
 * The GraphQL API over the projections of the demo recording's facts: the facts come from a real
 * `hetu analyze` run on an embedded log (once for the file), the projections follow that log, and
 * every query goes through the real fastify app (`app.inject()`) or a listening server (WebSocket
 * subscriptions with a real graphql-ws client). Expected values are read from the facts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { partitionForKey } from '@hetu/streams';
import type { MetricSampled, ScoreChanged, WatchObserved } from '@hetu/schemas';
import { RULES } from '@hetu/processors/scoring';
import { Projections, buildApi, startApiServer, type Api } from '@hetu/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn, runStages, table } from './commands/analyze.ts';
import { feedRecording, processorInfos, ruleHints, runStart } from './commands/start.ts';

const READ = 'read-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hetu-api-test-'));

let backend: Backend;
let projections: Projections;
let api: Api;
type Fact = Record<string, unknown>;
/** A GraphQL answer's data, navigated freely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const facts: Record<string, Map<string, Fact>> = {};

beforeAll(async () => {
  backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'main'), output: 'json' }, {}));
  await analyzeOn(backend, 'demo/demo.jsonl.gz');
  projections = await Projections.start({ log: backend.log, serde: backend.serde });
  await projections.whenCaughtUp(120_000);
  api = await buildApi({
    projections,
    log: backend.log,
    serde: backend.serde,
    auth: { readTokens: [READ], adminTokens: [ADMIN] },
    processors: processorInfos(backend),
    ruleHints: ruleHints(),
    defaultMetrics: false,
  });
  for (const t of [
    'scores',
    'error-groups',
    'anomalies',
    'incidents',
    'rca',
    'recommendations',
    'pod-health',
  ])
    facts[t] = await table(backend, `hetu.facts.${t}`);
}, 240_000);

afterAll(async () => {
  await api?.close();
  await projections?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface GqlResult {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  text: string;
}

async function gql(
  query: string,
  variables: Record<string, unknown> = {},
  opts: { token?: string | null; remoteAddress?: string; app?: Api } = {},
): Promise<GqlResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = opts.token === undefined ? ADMIN : opts.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const res = await (opts.app ?? api).app.inject({
    method: 'POST',
    url: '/graphql',
    headers,
    payload: JSON.stringify({ query, variables }),
    ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
  });
  return { status: res.statusCode, body: res.json(), text: res.body };
}

/** Data of a query that must succeed. */
async function data<T = Json>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await gql(query, variables);
  expect(r.body.errors, r.text).toBeUndefined();
  expect(r.status).toBe(200);
  return r.body.data as T;
}

/** Every record of a topic (all partitions), decoded with its writer's schema; [] when the topic does not exist. */
async function records(topic: string): Promise<{ key: string; value: Fact | null }[]> {
  const out: { key: string; value: Fact | null }[] = [];
  const [info] = await backend.log.describeTopics([topic]);
  for (const p of info?.partitions ?? [])
    for (const r of await backend.log.read(topic, p.partition, { maxRecords: 1_000_000 }))
      out.push({
        key: r.key?.toString() ?? '',
        value:
          r.value === null ? null : ((await backend.serde.decodeWithWriterSchema(r.value)).value as Fact),
      });
  return out;
}

/** LLM requests of the log that no recorded outcome answers (the LLM stages may or may not have run). */
async function pendingLlmRequests(): Promise<Fact[]> {
  const answered = new Set(
    (await records('hetu.facts.llm-analyses'))
      .filter((r) => r.value !== null)
      .map((r) => String(r.value!.id)),
  );
  const byId = new Map<string, Fact>();
  for (const r of await records('hetu.llm.requests'))
    if (r.value && r.value.trigger !== 'deleted') byId.set(String(r.value.id), r.value);
  return [...byId.values()].filter((q) => !answered.has(String(q.id)));
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const num = (v: unknown) => Number(v);
const values = (t: string) => [...facts[t]!.values()];

describe('queries answer from the facts of the demo recording', () => {
  it('overview: the cluster score, namespace scores and open problems', async () => {
    const d =
      await data(`{ clusters overview { cluster score { overall level reliability security cost architecture
      noData healthy } namespaces { scope overall } openIncidents criticalIncidents openErrorGroups spikingErrorGroups
      activeAnomalies openRecommendations monthlySavings freshness { caughtUp lag } } }`);
    expect(d.clusters).toEqual(['demo']);
    const o = d.overview;
    expect(o.score).toEqual({
      overall: 42,
      level: 'high',
      reliability: 59,
      security: 0,
      cost: 74,
      architecture: 47,
      noData: false,
      healthy: false,
    });
    const nsFacts = values('scores')
      .filter((s) => s.scopeType === 'namespace')
      .map((s) => ({ scope: s.scope, overall: s.overall }))
      .sort((a, b) => String(a.scope).localeCompare(String(b.scope)));
    expect(o.namespaces).toEqual(nsFacts);
    expect(nsFacts.map((n) => `${n.scope}=${n.overall}`)).toEqual([
      'namespace:default=97',
      'namespace:kube-system=73',
      'namespace:payments=84',
      'namespace:platform=60',
      'namespace:shop=73',
    ]);
    const open = values('incidents').filter((i) => i.status === 'open' || i.status === 'investigating');
    const groups = values('error-groups').filter((g) => g.mergedInto === null);
    expect([o.openIncidents, o.criticalIncidents, o.openErrorGroups, o.spikingErrorGroups]).toEqual([
      open.length,
      open.filter((i) => i.severity === 'critical').length,
      groups.filter((g) => g.status === 'open' && num(g.severityRank) >= 4).length,
      groups.filter((g) => g.spike === true).length,
    ]);
    expect([o.openIncidents, o.criticalIncidents, o.openErrorGroups, o.spikingErrorGroups]).toEqual([
      7, 4, 8, 3,
    ]);
    expect(o.activeAnomalies).toBe(values('anomalies').filter((a) => a.status === 'open').length);
    expect(o.openRecommendations).toBe(
      values('recommendations').filter((r) => r.status === 'open' && r.closedAt === null).length,
    );
    expect(o.monthlySavings).toBe(0); // the demo configures no prices
    expect(o.freshness).toEqual({ caughtUp: true, lag: 0 });
  });

  it('drill-down levels 1–5: score, rules, resources with shares, impact with remediation, evidence in the log', async () => {
    const cluster = facts['scores']!.get('demo/cluster')!;
    const d =
      await data(`{ score { scope ts rules(dimension: reliability) { rule title severity points count perItem cap
      totalResources resources { kind namespace name status detail share } } dimensions { dimension score points } } }`);
    const rel = (cluster.deductions as Fact[]).filter((x) => x.dimension === 'reliability');
    expect(d.score.rules.map((r: Fact) => `${r.rule} ${r.points} (${r.count})`)).toEqual([
      'crashloop-pods -20 (2)',
      'oomkilled-pods -5 (1)',
      'pending-pods -3 (1)',
      'open-error-groups -8 (8)',
      'imagepull-pods -5 (1)',
    ]);
    expect(d.score.rules).toEqual(
      rel.map((x) => ({
        rule: x.rule,
        title: x.title,
        severity: x.severity,
        points: x.points,
        count: x.count,
        perItem: x.perItem,
        cap: x.cap,
        totalResources: x.totalResources,
        resources: (x.resources as Fact[]).map((r) => ({
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          status: r.status,
          detail: r.detail,
          share: r.share,
        })),
      })),
    );
    expect(d.score.dimensions).toEqual([
      { dimension: 'reliability', score: 59, points: -41 },
      { dimension: 'security', score: 0, points: -138 },
      { dimension: 'cost', score: 74, points: -16 },
      { dimension: 'architecture', score: 47, points: -53 },
    ]);
    // Level 3 with a namespace filter; shares are points ÷ count, two decimals.
    const l3 = await data(`{ score { rules(dimension: security) { rule points count
      resources(namespace: "shop") { namespace name share } } } }`);
    const roots = l3.score.rules.find((r: Fact) => r.rule === 'root-containers');
    expect(roots.points).toBe(-30);
    expect(roots.count).toBe(11);
    expect(roots.resources.length).toBeGreaterThan(0);
    for (const r of roots.resources) {
      expect(r.namespace).toBe('shop');
      expect(r.share).toBe(-2.73);
    }
    // Levels 4 and 5 for the crash-looping checkout pod.
    const crash = rel[0]!.resources as Fact[];
    const pod = crash.find((r) => String(r.name).startsWith('checkout-'))!;
    const l4 = await data(
      `query($name: String!) { impact(kind: "Pod", namespace: "shop", name: $name) { scope rule share points count
        status remediation evidence { topic partition offset ts excerpt } } }`,
      { name: pod.name },
    );
    expect(l4.impact.map((i: Fact) => `${i.scope} ${i.rule} ${i.share}`)).toEqual([
      'workload:shop/Deployment/checkout crashloop-pods -10',
      'namespace:shop crashloop-pods -10',
      'cluster crashloop-pods -10',
    ]);
    const hint = RULES.find((r) => r.id === 'crashloop-pods')!.hint;
    for (const i of l4.impact) expect(i.remediation).toBe(hint);
    const ev = l4.impact[2].evidence[0];
    expect(ev).toEqual({
      topic: 'hetu.raw.kube',
      partition: (pod.evidence as Fact[])[0]!.partition,
      offset: String((pod.evidence as Fact[])[0]!.offset),
      ts: iso((pod.evidence as Fact[])[0]!.ts),
      excerpt: (pod.evidence as Fact[])[0]!.excerpt,
    });
    // The evidence's position holds the watch event of that pod.
    const [rec] = await backend.log.read(ev.topic, ev.partition, {
      fromOffset: BigInt(ev.offset),
      maxRecords: 1,
    });
    expect(String(rec!.offset)).toBe(ev.offset);
    const watch: WatchObserved = await backend.serde.decode(rec!.value!, 'WatchObserved');
    expect([watch.kind, watch.namespace, watch.name, iso(watch.ts)]).toEqual([
      'Pod',
      'shop',
      pod.name,
      ev.ts,
    ]);
    expect(watch.object).toContain('CrashLoopBackOff');
  });

  it('level 1 change since an earlier time, and the history with its causes', async () => {
    const since = Date.parse('2026-11-26T08:30:00Z');
    const history: (ScoreChanged & { offset: bigint; partition: number })[] = [];
    const [info] = await backend.log.describeTopics(['hetu.facts.score-history']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.facts.score-history', p.partition, {
        maxRecords: 100_000,
      }))
        if (r.value && r.key?.toString() === 'demo/cluster')
          history.push({
            ...(await backend.serde.decode(r.value, 'ScoreChanged')),
            offset: r.offset,
            partition: p.partition,
          });
    const order = (a: (typeof history)[number], b: (typeof history)[number]) =>
      a.ts - b.ts || a.partition - b.partition || Number(a.offset - b.offset);
    history.sort(order);
    const then = history.filter((h) => h.ts <= since).at(-1)!;
    const latest = history.at(-1)!;
    const d =
      await data(`{ score { overall change(since: "2026-11-26T08:30:00Z") { since overallThen overallNow delta
      levelThen } history(first: 1) { ts overallFrom overallTo overallDelta dimensions { dimension delta causes {
      cause delta rule } } } } scoreHistory(first: 500) { totalCount } }`);
    expect(d.score.change).toEqual({
      since: '2026-11-26T08:30:00.000Z',
      overallThen: then.overallTo,
      overallNow: 42,
      delta: 42 - then.overallTo!,
      levelThen: then.levelTo,
    });
    expect(d.score.history[0]).toEqual({
      ts: iso(latest.ts),
      overallFrom: latest.overallFrom,
      overallTo: latest.overallTo,
      overallDelta: latest.overallDelta,
      dimensions: latest.dimensions.map((x) => ({
        dimension: x.dimension,
        delta: x.delta,
        causes: x.causes.map((c) => ({ cause: c.cause, delta: c.delta, rule: c.rule })),
      })),
    });
    expect(d.scoreHistory.totalCount).toBe(history.length);
  });

  it('error groups: filters, the four sorts, cursor pagination, one group with filtered occurrences, summary, faults', async () => {
    const groups = values('error-groups').filter((g) => g.mergedInto === null);
    const all = await data(`{ errorGroups(first: 500) { totalCount nodes { id count status } } }`);
    expect(all.errorGroups.totalCount).toBe(groups.length);
    expect(groups.length).toBe(12);
    // count sort, paged by 5: every group once, counts not increasing.
    const seen: { id: string; count: number }[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const p: Json = await data(
        `query($after: String) { errorGroups(sort: count, first: 5, after: $after) { pageInfo { hasNextPage endCursor }
          edges { cursor node { id count } } } }`,
        { after },
      );
      seen.push(...p.errorGroups.edges.map((e: Json) => e.node));
      if (!p.errorGroups.pageInfo.hasNextPage) break;
      after = p.errorGroups.pageInfo.endCursor;
    }
    expect(seen.map((g) => g.id).sort()).toEqual(groups.map((g) => String(g.id)).sort());
    expect(seen.map((g) => g.count)).toEqual([...seen.map((g) => g.count)].sort((a, b) => b - a));
    expect(seen[0]!.count).toBe(Math.max(...groups.map((g) => num(g.count))));
    for (const sort of ['lastSeen', 'severity', 'rate5m']) {
      const s = await data(
        `{ errorGroups(sort: ${sort}, first: 500) { nodes { id lastSeen severityRank count5m } } }`,
      );
      const nodes = s.errorGroups.nodes as { lastSeen: string; severityRank: number; count5m: number }[];
      const key = (n: (typeof nodes)[number]) =>
        sort === 'lastSeen'
          ? [Date.parse(n.lastSeen)]
          : sort === 'severity'
            ? [n.severityRank, Date.parse(n.lastSeen)]
            : [n.count5m, Date.parse(n.lastSeen)];
      for (let i = 1; i < nodes.length; i++) {
        const [a, b] = [key(nodes[i - 1]!), key(nodes[i]!)];
        expect(a[0]! > b[0]! || (a[0] === b[0] && (a[1] ?? 0) >= (b[1] ?? 0))).toBe(true);
      }
    }
    const shop = await data(
      `{ errorGroups(filter: { namespace: "shop", status: [open] }, first: 500) { totalCount } }`,
    );
    expect(shop.errorGroups.totalCount).toBe(
      groups.filter((g) => g.namespace === 'shop' && g.status === 'open').length,
    );
    const timeout = await data(`{ errorGroups(filter: { reason: ["timeout"], search: "UPSTREAM TIMED OUT" }) {
      nodes { id title reason workload workloadKind count } } }`);
    const tFacts = groups.filter((g) => g.reason === 'timeout');
    expect(timeout.errorGroups.nodes.map((n: Fact) => n.id)).toEqual(tFacts.map((g) => g.id));
    expect(timeout.errorGroups.nodes[0]).toMatchObject({
      reason: 'timeout',
      workload: 'search',
      workloadKind: 'Deployment',
      count: 192,
    });
    const byWorkload = await data(
      `{ errorGroups(filter: { workload: "search" }, first: 500) { totalCount } }`,
    );
    expect(byWorkload.errorGroups.totalCount).toBe(groups.filter((g) => g.workload === 'search').length);

    // One group, its occurrences filtered by pod, container, time range and text.
    const g = facts['error-groups']!.get(`demo/${tFacts[0]!.id}`)!;
    const occ = g.occurrences as Fact[];
    const pod = String(occ[occ.length - 1]!.pod);
    const from = num(occ[Math.floor(occ.length / 2)]!.ts);
    const one = await data(
      `query($id: ID!, $pod: String, $from: DateTime) { errorGroup(id: $id) { id count faultKey
        all: occurrences { ts } byPod: occurrences(filter: { pod: $pod }) { pod }
        late: occurrences(filter: { from: $from, container: "search" }) { ts container }
        text: occurrences(filter: { search: "DESK LAMP" }) { message }
        fault { faultKey groupCount groups { id } } } }`,
      { id: g.id, pod, from: iso(from) },
    );
    const eg = one.errorGroup;
    expect(eg.all.map((o: Fact) => o.ts)).toEqual([...occ].reverse().map((o) => iso(o.ts)));
    expect(eg.byPod.length).toBe(occ.filter((o) => o.pod === pod).length);
    expect(eg.late.length).toBe(occ.filter((o) => num(o.ts) >= from && o.container === 'search').length);
    expect(eg.text.length).toBe(
      occ.filter((o) => String(o.message).toLowerCase().includes('desk lamp')).length,
    );
    expect(eg.text.length).toBeGreaterThan(0);
    expect(eg.fault).toEqual({
      faultKey: g.faultKey,
      groupCount: groups.filter((x) => x.faultKey === g.faultKey).length,
      groups: groups.filter((x) => x.faultKey === g.faultKey).map((x) => ({ id: x.id })),
    });
    const fault = await data(`query($k: String!) { fault(faultKey: $k) { faultKey count groups { id } } }`, {
      k: g.faultKey,
    });
    expect(fault.fault.count).toBe(
      groups.filter((x) => x.faultKey === g.faultKey).reduce((a, x) => a + num(x.count), 0),
    );

    const sum = await data(`{ errorSummary { groups open openErrors warnings spiking occurrences
      byReason { key groups occurrences } } faults(first: 500) { totalCount } }`);
    expect(sum.errorSummary).toMatchObject({
      groups: 12,
      open: 12,
      openErrors: 8,
      warnings: 4,
      spiking: 3,
      occurrences: groups.reduce((a, x) => a + num(x.count), 0),
    });
    expect(sum.errorSummary.occurrences).toBe(646);
    expect(sum.errorSummary.byReason.find((r: Fact) => r.key === 'timeout')).toEqual({
      key: 'timeout',
      groups: 1,
      occurrences: 192,
    });
    expect(sum.faults.totalCount).toBe(new Set(groups.map((x) => x.faultKey)).size);
  });

  it('anomalies with their series read from hetu.raw.metrics', async () => {
    const eps = values('anomalies');
    const d = await data(`{ anomalies(first: 500) { totalCount nodes { id status metric } }
      open: anomalies(filter: { status: [open] }) { totalCount } }`);
    expect(d.anomalies.totalCount).toBe(eps.length);
    expect(d.open.totalCount).toBe(eps.filter((e) => e.status === 'open').length);
    const ep = eps.find((e) => e.metric === 'memory_working_set_bytes')!;
    const a = await data(
      `query($id: ID!) { anomaly(id: $id) { id metric namespace labels { name value } openedAt closedAt
        series(beforeSeconds: 600, afterSeconds: 300, limit: 5000) { from to truncated samples { ts value position { topic partition offset } } } } }`,
      { id: ep.id },
    );
    const s = a.anomaly.series;
    const from = num(ep.openedAt) - 600_000;
    const to = num(ep.closedAt ?? ep.lastAnomalousAt) + 300_000;
    expect([s.from, s.to, s.truncated]).toEqual([iso(from), iso(to), false]);
    // Every sample of the series in the window, found by scanning the whole topic.
    const labels = ep.labels as Record<string, string>;
    const expected: { ts: string; value: number }[] = [];
    const [info] = await backend.log.describeTopics(['hetu.raw.metrics']);
    for (const p of info!.partitions)
      for (const r of await backend.log.read('hetu.raw.metrics', p.partition, { maxRecords: 1_000_000 })) {
        const m: MetricSampled = await backend.serde.decode(r.value!, 'MetricSampled');
        if (
          m.name === ep.metric &&
          JSON.stringify(m.labels) === JSON.stringify(labels) &&
          m.ts >= from &&
          m.ts <= to
        )
          expected.push({ ts: iso(m.ts), value: m.value });
      }
    expect(s.samples.map((x: Fact) => ({ ts: x.ts, value: x.value }))).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
    expect(a.anomaly.namespace).toBe(labels['namespace']);
  });

  it('incidents with signals, deterministic RCA and the LLM analysis (none recorded: no LLM is configured)', async () => {
    const pending = await pendingLlmRequests();
    const d =
      await data(`{ incidents(first: 20) { totalCount nodes { id status severity title signals { kind count }
      omittedSignals rca { category rootCause { kind namespace name } confidence chain { step } remediation { step } }
      llmAnalysis { status } questions { key } llmPending { id } } }
      open: incidents(filter: { status: [open, investigating] }) { totalCount } }`);
    expect(d.incidents.totalCount).toBe(8);
    expect(d.open.totalCount).toBe(7);
    for (const n of d.incidents.nodes) {
      const f = facts['incidents']!.get(`demo/${n.id}`)!;
      const r = facts['rca']!.get(`demo/${n.id}`)!;
      expect([n.status, n.severity, n.title]).toEqual([f.status, f.severity, f.title]);
      expect(n.signals).toEqual((f.signals as Fact[]).map((x) => ({ kind: x.kind, count: num(x.count) })));
      expect(n.rca).toEqual({
        category: r.category,
        rootCause: r.rootCause,
        confidence: r.confidence,
        chain: (r.chain as Fact[]).map((c) => ({ step: c.step })),
        remediation: (r.remediation as Fact[]).map((c) => ({ step: c.step })),
      });
      expect([n.llmAnalysis, n.questions]).toEqual([null, []]);
      expect(n.llmPending.map((q: Fact) => q.id).sort()).toEqual(
        pending
          .filter(
            (q) => q.subjectId === n.id && (q.subjectKind === 'incident' || q.subjectKind === 'question'),
          )
          .map((q) => q.id)
          .sort(),
      );
    }
    expect(d.incidents.nodes.map((n: Fact) => (n.rca as Fact).category).sort()).toEqual([
      'bad-config',
      'bad-rollout',
      'cpu-saturation',
      'dependency-down',
      'image-pull',
      'node-failure',
      'oom',
      'unschedulable',
    ]);
  });

  it('recommendations and their summary', async () => {
    const recs = values('recommendations');
    const d = await data(`{ recommendationSummary { total open monthlySavings byType { key count open } }
      recommendations(filter: { type: ["rightsizing"] }, first: 500) { totalCount nodes { id type severity target { kind
      namespace name container } evidence { samples values { name value } } } } }`);
    expect(d.recommendationSummary).toEqual({
      total: 12,
      open: 11,
      monthlySavings: 0,
      byType: [
        { key: 'rightsizing', count: 8, open: 8 },
        { key: 'hpa-min-high', count: 2, open: 2 },
        { key: 'gc-pauses', count: 1, open: 0 },
        { key: 'hpa-at-max', count: 1, open: 1 },
      ],
    });
    expect(d.recommendations.totalCount).toBe(recs.filter((r) => r.type === 'rightsizing').length);
    const first = d.recommendations.nodes[0];
    const f = facts['recommendations']!.get(`demo/${first.id}`)!;
    expect(first.target).toEqual(f.target);
    expect(first.evidence.samples).toBe(num((f.evidence as Fact).samples));
    expect(first.evidence.values.map((v: Fact) => v.name)).toEqual(
      Object.keys((f.evidence as Fact).values as Fact).sort(),
    );
  });

  it('workloads by kind and namespace (search) with pods, container states, events and score impact', async () => {
    const d = await data(`{ workloads(first: 500) { totalCount nodes { namespace kind name } } }`);
    expect(d.workloads.nodes.map((w: Fact) => `${w.namespace}/${w.kind}/${w.name}`)).toEqual([
      'kube-system/DaemonSet/kube-proxy',
      'kube-system/Deployment/coredns',
      'payments/Deployment/ledger',
      'payments/StatefulSet/ledger-db',
      'platform/CronJob/db-backup',
      'platform/DaemonSet/node-agent',
      'platform/Deployment/notifier',
      'platform/Deployment/report-builder',
      'shop/Deployment/api',
      'shop/Deployment/cart',
      'shop/Deployment/checkout',
      'shop/Deployment/recommender',
      'shop/Deployment/search',
    ]);
    const q =
      await data(`{ workloads(filter: { namespace: "shop", kind: ["Deployment"], search: "CAR" }) { nodes {
      kind name desiredReplicas podCount unhealthyPods images
      pods { name phase categories reasons { category reason } containers { name state restartCount lastTerminationReason } }
      events(first: 3) { type reason count lastTimestamp involvedObject { kind name } }
      score { scope overall reliability } impact { scope rule share } errorGroups { id } } } }`);
    expect(q.workloads.nodes.length).toBe(1);
    const cart = q.workloads.nodes[0];
    const pods = values('pod-health').filter(
      (p) => (p.workload as Fact).name === 'cart' && p.namespace === 'shop',
    );
    expect([cart.kind, cart.name, cart.podCount, cart.unhealthyPods]).toEqual([
      'Deployment',
      'cart',
      pods.length,
      1,
    ]);
    expect(cart.pods.map((p: Fact) => [p.name, p.phase, p.categories])).toEqual(
      pods.map((p) => [p.name, p.phase, p.categories]),
    );
    expect(cart.pods[0].categories).toEqual(['oomkilled']);
    expect(cart.pods[0].containers[0]).toMatchObject({ name: 'cart', lastTerminationReason: 'OOMKilled' });
    const times = cart.events.map((e: Fact) => Date.parse(String(e.lastTimestamp)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const ws = facts['scores']!.get('demo/workload:shop/Deployment/cart')!;
    expect(cart.score).toEqual({
      scope: 'workload:shop/Deployment/cart',
      overall: ws.overall,
      reliability: ws.reliability,
    });
    expect(cart.impact.map((i: Fact) => `${i.scope} ${i.rule}`)).toContain(
      'workload:shop/Deployment/cart single-replica-workloads',
    );
    expect(cart.errorGroups.map((g: Fact) => g.id).sort()).toEqual(
      values('error-groups')
        .filter((g) => g.workload === 'cart' && g.mergedInto === null)
        .map((g) => g.id)
        .sort(),
    );
    const nodes = await data(`{ nodes { name ready states } }`);
    expect(nodes.nodes.map((n: Fact) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('services with type, cluster IP, ports and selector, as the last watch record of each shows it', async () => {
    const last = new Map<string, Fact | null>();
    for (const r of await records('hetu.raw.kube')) {
      const w = r.value;
      if (w?.kind !== 'Service' || w.object === null) continue;
      last.set(`${w.namespace}/${w.name}`, w.type === 'DELETED' ? null : JSON.parse(String(w.object)));
    }
    const expected = [...last.entries()].filter(([, o]) => o !== null).map(([k]) => k);
    expect(expected.length).toBeGreaterThan(3);
    const d = await data(`{ services(first: 500) { totalCount nodes {
      namespace name type clusterIP ports { name port targetPort protocol nodePort } selector { name value } position { topic } } } }`);
    expect(d.services.nodes.map((x: Fact) => `${x.namespace}/${x.name}`)).toEqual([...expected].sort());
    expect(d.services.totalCount).toBe(expected.length);
    const svc = d.services.nodes.find((x: Fact) => x.namespace === 'shop' && x.name === 'api');
    const spec = (last.get('shop/api') as Json).spec;
    expect(svc).toEqual({
      namespace: 'shop',
      name: 'api',
      type: spec.type,
      clusterIP: spec.clusterIP,
      ports: spec.ports.map((p: Json) => ({
        name: p.name ?? null,
        port: p.port,
        targetPort: String(p.targetPort),
        protocol: p.protocol,
        nodePort: p.nodePort ?? null,
      })),
      selector: Object.entries(spec.selector).map(([name, value]) => ({ name, value })),
      position: { topic: 'hetu.raw.kube' },
    });
    const shop = await data(
      `{ services(namespace: "shop", search: "AP", first: 1) { totalCount nodes { name } pageInfo { hasNextPage } } }`,
    );
    expect(shop.services.totalCount).toBe(
      expected.filter((k) => k.startsWith('shop/') && k.toLowerCase().includes('ap')).length,
    );
    expect(shop.services.nodes.length).toBe(1);
  });

  it('pipeline status, LLM status and freshness', async () => {
    const d = await data(`{ pipeline { log topics { name records } processors { name lag caughtUp }
      groups { kind name lag } projections { name caughtUp lag recordsApplied } deadLetters { total byReason { reasonCode } }
      recentCommands { id } } llm { available budget { used } recorded failed refused pending }
      freshness { caughtUp lag lastEventTime projections { name lastEventTime } } }`);
    const p = d.pipeline;
    expect(p.log).toBe('embedded');
    const byName = new Map(p.topics.map((t: Fact) => [t.name, t.records]));
    expect(byName.get('hetu.raw.kube')).toBe(695);
    expect(byName.get('hetu.raw.logs')).toBe(2965);
    expect(byName.get('hetu.raw.metrics')).toBe(18119);
    expect(p.processors).toEqual(
      [
        'kube',
        'errors',
        'anomalies',
        'feed-by-cluster',
        'incidents',
        'recommendations',
        'scoring-feed',
        'scoring-namespaces',
        'scoring-cluster',
      ].map((name) => ({
        name,
        lag: 0,
        caughtUp: true,
      })),
    );
    expect(p.groups.filter((g: Fact) => g.kind === 'projection').map((g: Fact) => g.name)).toEqual([
      'scores',
      'errors',
      'anomalies',
      'incidents',
      'recommendations',
      'workloads',
      'llm',
      'status',
    ]);
    expect(p.projections.every((x: Fact) => x.caughtUp === true && x.lag === 0)).toBe(true);
    let groupRecords = 0; // records of the topic (its end offsets also count the transactions' markers)
    for (const part of (await backend.log.describeTopics(['hetu.facts.error-groups']))[0]!.partitions)
      groupRecords += (
        await backend.log.read('hetu.facts.error-groups', part.partition, { maxRecords: 1_000_000 })
      ).length;
    expect(p.projections.find((x: Fact) => x.name === 'errors').recordsApplied).toBe(groupRecords);
    expect(p.deadLetters).toEqual({ total: 0, byReason: [] });
    expect(p.recentCommands).toEqual([]);
    const llmTopics = (await backend.log.describeTopics(['hetu.facts.llm-analyses'])).length > 0;
    const outcomes = [...(await table(backend, 'hetu.facts.llm-analyses')).values()];
    const n = (status: string) => outcomes.filter((o) => o.status === status).length;
    expect(d.llm).toEqual({
      available: llmTopics,
      budget: null,
      recorded: n('recorded'),
      failed: n('failed'),
      refused: n('refused'),
      pending: (await pendingLlmRequests()).length,
    });
    expect(d.freshness.caughtUp).toBe(true);
    expect(d.freshness.lag).toBe(0);
    expect(d.freshness.lastEventTime).toBe('2026-11-26T10:00:00.000Z');
  });

  it('a query compiled by graphql-jit answers the same as before', async () => {
    const q = `{ overview { score { overall rules { rule points } } openIncidents } errorGroups(first: 3) { nodes { id count } } }`;
    const first = await data(q);
    for (let i = 0; i < 24; i++) expect(await data(q)).toEqual(first);
  });
});

describe('loaders batch what lists reach into (no N+1)', () => {
  it('ten incidents cost one store call per nested field', async () => {
    const before = api.stats.storeCallsBy();
    const loadersBefore = api.stats.loaderCalls;
    const d =
      await data(`{ incidents(first: 10) { nodes { id rca { category } llmAnalysis { status } questions { key }
      llmPending { id } } } }`);
    expect(d.incidents.nodes.length).toBe(8);
    const after = api.stats.storeCallsBy();
    const delta = Object.fromEntries(
      Object.entries(after)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );
    expect(delta).toEqual({
      'incidents.list': 1,
      'incidents.rcaOf': 1,
      'llm.analysesOf:incident': 1,
      'llm.analysesOf:question': 1,
      'llm.pendingOf': 1,
    });
    expect(api.stats.loaderCalls - loadersBefore).toBe(4);
  });

  it('thirteen workloads with pods, events, scores, impact and error groups cost one store call each', async () => {
    const before = api.stats.storeCallsBy();
    const d =
      await data(`{ workloads(first: 50) { nodes { name pods { name impact { rule } } events { reason }
      score { overall } impact { rule } errorGroups { id workloadKind } } } }`);
    expect(d.workloads.nodes.length).toBe(13);
    const after = api.stats.storeCallsBy();
    const delta = Object.fromEntries(
      Object.entries(after)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );
    expect(delta).toEqual({
      'workloads.list': 1,
      'workloads.podsOf': 1,
      'workloads.eventsOf': 1,
      'scores.scoresOf': 1,
      'scores.impactOf': 2, // workloads' impact, then their pods' impact (one level deeper)
      'errors.byWorkloads': 1,
      'workloads.kindsOf': 1,
    });
  });
});

describe('abuse is refused before any resolver runs', () => {
  const position = `{ topic: "hetu.commands", partition: 0, offset: "0" }`;

  async function refused(
    run: () => Promise<{ status: number; code: string | undefined }>,
    status: number,
    code: string,
  ) {
    const calls = api.stats.resolverCalls;
    const r = await run();
    expect([r.status, r.code]).toEqual([status, code]);
    expect(api.stats.resolverCalls - calls).toBe(0);
  }
  const first = (r: GqlResult) => ({ status: r.status, code: r.body.errors?.[0]?.extensions?.code });

  it('a query 50 levels deep', async () => {
    const deep = `{ ${('after(position: ' + position + ') { ').repeat(49)}clusters${' }'.repeat(49)} }`;
    await refused(async () => first(await gql(deep)), 400, 'HETU_API_QUERY_TOO_DEEP');
  });

  it('1 000 aliases', async () => {
    const q = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: clusters`).join(' ')} }`;
    const r = await gql(q);
    expect(r.body.errors!.map((e) => e.extensions?.code)).toContain('HETU_API_TOO_MANY_ALIASES');
    await refused(async () => first(await gql(q)), 400, 'HETU_API_TOO_MANY_ALIASES');
  });

  it('a batch of 1 000 operations (a batch of 2 runs)', async () => {
    const batch = (n: number) =>
      api.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${READ}` },
        payload: JSON.stringify(Array.from({ length: n }, () => ({ query: '{ clusters }' }))),
      });
    await refused(
      async () => {
        const r = await batch(1000);
        return { status: r.statusCode, code: r.json().errors?.[0]?.extensions?.code };
      },
      400,
      'HETU_API_BATCH_TOO_LARGE',
    );
    const ok = await batch(2);
    expect(ok.json()).toEqual([{ data: { clusters: ['demo'] } }, { data: { clusters: ['demo'] } }]);
  });

  it('no token, a wrong token, a read token for a mutation, from loopback and beyond', async () => {
    await refused(
      async () => first(await gql('{ clusters }', {}, { token: null, remoteAddress: '10.1.2.3' })),
      401,
      'HETU_API_UNAUTHENTICATED',
    );
    await refused(
      async () => first(await gql('{ clusters }', {}, { token: null })),
      401,
      'HETU_API_UNAUTHENTICATED',
    );
    await refused(
      async () => first(await gql('{ clusters }', {}, { token: 'nope' })),
      401,
      'HETU_API_BAD_TOKEN',
    );
    await refused(
      async () => first(await gql('mutation { splitErrorGroup(id: "x") { id } }', {}, { token: READ })),
      403,
      'HETU_API_FORBIDDEN',
    );
    expect((await gql('{ clusters }', {}, { token: READ, remoteAddress: '10.1.2.3' })).body).toEqual({
      data: { clusters: ['demo'] },
    });
    // Without tokens: loopback only.
    const open = await buildApi({
      projections,
      log: backend.log,
      serde: backend.serde,
      defaultMetrics: false,
    });
    try {
      expect((await gql('{ clusters }', {}, { token: null, app: open })).body).toEqual({
        data: { clusters: ['demo'] },
      });
      const calls = api.stats.resolverCalls + open.stats.resolverCalls;
      expect(
        first(await gql('{ clusters }', {}, { token: null, app: open, remoteAddress: '192.0.2.7' })),
      ).toEqual({
        status: 401,
        code: 'HETU_API_UNAUTHENTICATED',
      });
      expect(api.stats.resolverCalls + open.stats.resolverCalls).toBe(calls);
    } finally {
      await open.close();
    }
    await expect(
      startApiServer({ projections, log: backend.log, serde: backend.serde, host: '0.0.0.0', port: 0 }),
    ).rejects.toMatchObject({ code: 'HETU_API_TOKENS_REQUIRED' });
  });

  it('CSRF: a simple-content-type POST, and a mutation over GET', async () => {
    await refused(
      async () => {
        const r = await api.app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${ADMIN}` },
          payload: JSON.stringify({ query: '{ clusters }' }),
        });
        return { status: r.statusCode, code: r.json().errors?.[0]?.extensions?.code };
      },
      400,
      'HETU_API_CSRF',
    );
    await refused(
      async () => {
        const r = await api.app.inject({
          method: 'GET',
          url: `/graphql?query=${encodeURIComponent('mutation { splitErrorGroup(id: "x") { id } }')}`,
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        return { status: r.statusCode, code: r.json().errors?.[0]?.extensions?.code };
      },
      405,
      'HETU_API_METHOD_NOT_ALLOWED',
    );
    const get = await api.app.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('{ clusters }')}`,
      headers: { authorization: `Bearer ${READ}` },
    });
    expect(get.json()).toEqual({ data: { clusters: ['demo'] } });
  });

  it('introspection is off; errors carry a code and never a stack', async () => {
    await refused(
      async () => first(await gql('{ __schema { types { name } } }')),
      400,
      'HETU_API_INTROSPECTION_DISABLED',
    );
    const bad = await gql('{ errorGroups(after: "not-a-cursor") { totalCount } }');
    expect(bad.body.errors!.map((e) => e.extensions?.code)).toEqual(['HETU_API_BAD_CURSOR']);
    expect(bad.text).not.toMatch(/stack|at .*\.ts:\d+/);
    const invalid = await gql('{ nope }');
    expect(first(invalid)).toEqual({ status: 400, code: 'HETU_API_INVALID_QUERY' });
    expect(invalid.text).not.toMatch(/stack/);
  });
});

describe('health, readiness and metrics', () => {
  it('/healthz, /readyz and /metrics (with a token)', async () => {
    expect((await api.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await api.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      ready: true,
      caughtUp: true,
      lag: 0,
      lastEventTime: '2026-11-26T10:00:00.000Z',
    });
    expect((await api.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const m = await api.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${READ}` } });
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('hetu_projection_lag_records{projection="scores"} 0');
    expect(m.body).toMatch(
      /hetu_api_http_requests_total\{method="POST",route="\/graphql",status_code="200"\} \d+/,
    );
    expect(m.body).toMatch(/hetu_api_graphql_operations_total\{operation="query",outcome="ok"\} \d+/);
  });
});

describe('mutations are commands the processors apply', () => {
  it('resolve a group, set an incident and a recommendation status: visible once read after the receipt', async () => {
    const group = values('error-groups').find((g) => g.reason === 'timeout')!;
    const incident = values('incidents').find((i) => i.status === 'open')!;
    const rec = values('recommendations').find((r) => r.type === 'hpa-at-max')!;
    const m = await data(
      `mutation($g: ID!, $i: ID!, $r: ID!) {
        g: setErrorGroupStatus(id: $g, status: resolved) { id type issuer targetIds payload key position { topic partition offset } }
        i: setIncidentStatus(id: $i, status: investigating) { type key payload position { topic partition offset } }
        r: setRecommendationStatus(id: $r, status: dismissed) { type key payload position { topic partition offset } } }`,
      { g: group.id, i: incident.id, r: rec.id },
    );
    const key = `demo/${group.namespace}/${group.workload}`;
    expect(m.g).toMatchObject({
      type: 'error-group.resolve',
      issuer: 'api:admin',
      targetIds: [group.id],
      payload: '{}',
      key,
      position: { topic: 'hetu.commands', partition: partitionForKey(Buffer.from(key), 3) },
    });
    expect(m.i).toMatchObject({
      type: 'incident.set-status',
      key: 'demo',
      payload: '{"status":"investigating"}',
    });
    expect(m.r).toMatchObject({
      type: 'recommendation.set-status',
      key: 'demo',
      payload: JSON.stringify({ recommendationId: rec.id, status: 'dismissed' }),
    });
    // The command is in the log where the receipt says, as a Command record.
    const [cmd] = await backend.log.read('hetu.commands', m.g.position.partition, {
      fromOffset: BigInt(m.g.position.offset),
      maxRecords: 1,
    });
    expect((await backend.serde.decode(cmd!.value!, 'Command')).id).toBe(m.g.id);
    // Before the processors ran, the projections still show the old state.
    const before = await data(`query($g: ID!) { errorGroup(id: $g) { status } }`, { g: group.id });
    expect(before.errorGroup.status).toBe('open');

    await runStages(backend);
    const d = await data(
      `query($p: PositionInput!, $g: ID!, $i: ID!, $r: ID!) { after(position: $p, timeoutMs: 30000) {
        errorGroup(id: $g) { status regressed resolvedAt }
        incident(id: $i) { status statusChangedAt }
        recommendation(id: $r) { status }
        pipeline { recentCommands { type } } } }`,
      { p: m.r.position, g: group.id, i: incident.id, r: rec.id },
    );
    expect(d.after.errorGroup).toMatchObject({ status: 'resolved', regressed: false });
    expect(d.after.incident.status).toBe('investigating');
    expect(d.after.recommendation.status).toBe('dismissed');
    expect(d.after.pipeline.recentCommands.map((c: Fact) => c.type).sort()).toEqual([
      'error-group.resolve',
      'incident.set-status',
      'recommendation.set-status',
    ]);
    const open = await data(`{ overview { openErrorGroups openIncidents } }`);
    expect(open.overview).toEqual({ openErrorGroups: 7, openIncidents: 7 });
  }, 120_000);

  it('a mutation on something unknown fails with a code and writes nothing', async () => {
    const [info] = await backend.log.describeTopics(['hetu.commands']);
    const end = info!.partitions.reduce((a, p) => a + p.high, 0n);
    const r = await gql('mutation { setIncidentStatus(id: "inc-nope", status: resolved) { id } }');
    expect(r.body.errors!.map((e) => e.extensions?.code)).toEqual(['HETU_API_NOT_FOUND']);
    const long = await gql(`mutation($q: String!) { askIncident(incidentId: "x", question: $q) { id } }`, {
      q: 'x'.repeat(2001),
    });
    expect(long.body.errors!.map((e) => e.extensions?.code)).toEqual(['HETU_API_BAD_ARGUMENT']);
    const [after] = await backend.log.describeTopics(['hetu.commands']);
    expect(after!.partitions.reduce((a, p) => a + p.high, 0n)).toBe(end);
  });
});

describe('subscriptions over WebSocket (graphql-transport-ws)', () => {
  let url: string;
  let clients: Client[] = [];
  beforeAll(async () => {
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
    url = address.replace(/^http/, 'ws') + '/graphql';
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    clients = [];
  });
  const client = (token: string | null) => {
    const c = createClient({
      url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    clients.push(c);
    return c;
  };
  const activeSubscriptions = async () => (await api.metrics.subscriptions.get()).values[0]?.value ?? 0;
  async function until(ok: () => Promise<boolean>, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setImmediate(r));
    }
  }

  it('error group and incident changes reach subscribers when the projections apply them (no polling)', async () => {
    const group = values('error-groups').find((g) => g.workload === 'checkout')!;
    const incident = values('incidents').find((i) => i.status === 'open' && i.id !== undefined)!;
    const c = client(READ);
    const received: Fact[] = [];
    /** Resolves with the first event `pick` accepts (or an error), pushed by the server. */
    const watch = (
      query: string,
      variables: Record<string, unknown>,
      field: string,
      pick: (e: Fact) => boolean,
    ) => {
      let done!: (v: Fact) => void;
      const seen = new Promise<Fact>((r) => (done = r));
      const stop = c.subscribe(
        { query, variables },
        {
          next: (v) => {
            const e = (v.data as Fact)[field] as Fact;
            received.push(e);
            if (pick(e)) done(e);
          },
          error: (e) => done({ error: String(e) }),
          complete: () => undefined,
        },
      );
      return { seen, stop };
    };
    const base = await activeSubscriptions();
    const groups = watch(
      `subscription($ns: String, $w: String) { errorGroupChanged(namespace: $ns, workload: $w) {
        cluster id deleted position { topic } group { id status statusChangedAt } } }`,
      { ns: group.namespace, w: group.workload },
      'errorGroupChanged',
      (e) => e.id === group.id,
    );
    const incidents = watch(
      `subscription($id: ID) { incidentChanged(id: $id) { cluster id deleted position { topic } incident { status } } }`,
      { id: incident.id },
      'incidentChanged',
      (e) => (e.incident as Fact | null)?.status === 'resolved',
    );
    await until(async () => (await activeSubscriptions()) === base + 2);
    await data(
      `mutation($g: ID!, $i: ID!) { g: setErrorGroupStatus(id: $g, status: ignored) { id }
        i: setIncidentStatus(id: $i, status: resolved) { id } }`,
      { g: group.id, i: incident.id },
    );
    await runStages(backend);
    expect(await groups.seen).toMatchObject({
      cluster: 'demo',
      id: group.id,
      deleted: false,
      position: { topic: 'hetu.facts.error-groups' },
      group: { id: group.id, status: 'ignored' },
    });
    expect(await incidents.seen).toEqual({
      cluster: 'demo',
      id: incident.id,
      deleted: false,
      position: { topic: 'hetu.facts.incidents' },
      incident: { status: 'resolved' },
    });
    expect(received.every((x) => x.deleted === false && x.cluster === 'demo')).toBe(true);
    groups.stop();
    incidents.stop();
  }, 120_000);

  it('without tokens, a loopback client subscribes with no token at all', async () => {
    const open = await buildApi({
      projections,
      log: backend.log,
      serde: backend.serde,
      defaultMetrics: false,
    });
    try {
      const base = (await open.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
      const acked = new Promise<unknown>((resolve) => {
        const c = createClient({
          url: `${base}/graphql`,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: false,
          on: { connected: (_socket, payload) => resolve(payload ?? 'ack'), closed: (e) => resolve(e) },
        });
        clients.push(c);
      });
      expect(await acked).toBe('ack');
    } finally {
      for (const c of clients) await c.dispose();
      clients = [];
      await open.close();
    }
  });

  it('a subscription without a token is refused at connection_init, with no resolver run', async () => {
    const calls = api.stats.resolverCalls;
    const ws = new WebSocket(url, 'graphql-transport-ws');
    const messages: string[] = [];
    const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
    ws.addEventListener('message', (m) => messages.push(String(m.data)));
    await new Promise((r) => ws.addEventListener('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    ws.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: 'subscription { scoreChanged { scope } }' },
      }),
    );
    await closed;
    expect(messages.map((m) => JSON.parse(m).type)).not.toContain('connection_ack');
    expect(messages.map((m) => JSON.parse(m).type)).not.toContain('next');
    expect(api.stats.resolverCalls - calls).toBe(0);
  });

  it('an expensive subscription document, and one with too many aliases, are refused with no resolver run', async () => {
    const c = client(ADMIN);
    const calls = api.stats.resolverCalls;
    const attempt = (query: string) =>
      new Promise<unknown>((resolve) => {
        c.subscribe(
          { query },
          { next: () => resolve('next'), error: (e) => resolve(e), complete: () => resolve('complete') },
        );
      });
    const costly =
      await attempt(`subscription { scoreChanged { score { rules { resources(first: 500) { impact {
      evidence { topic partition offset ts excerpt } } } } history(first: 500) { dimensions { causes { cause
      entered { kind namespace name } left { kind namespace name } } } } } } }`);
    expect((costly as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe(
      'HETU_API_QUERY_TOO_COSTLY',
    );
    const aliases = await attempt(
      `subscription { ${Array.from({ length: 1000 }, (_, i) => `a${i}: scoreChanged { scope }`).join(' ')} }`,
    );
    expect((aliases as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe(
      'HETU_API_TOO_MANY_ALIASES',
    );
    expect(api.stats.resolverCalls - calls).toBe(0);
  });
});

describe('hetu start', () => {
  it('feeds a recording as event time passes (speed 10: 70 s of events in 7 s)', async () => {
    const b = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'feed'), output: 'json' }, {}));
    try {
      await b.log.ensureTopics([
        { name: 'hetu.raw.metrics', partitions: 3, cleanupPolicy: 'delete' },
        { name: 'hetu.dlq', partitions: 1, cleanupPolicy: 'delete' },
      ]);
      const line = (s: number, v: number) =>
        JSON.stringify({
          ts: new Date(Date.parse('2026-11-26T08:00:00Z') + s * 1000).toISOString(),
          cluster: 'c',
          kind: 'metric',
          name: 'cpu_usage_cores',
          labels: { namespace: 'n', pod: 'p', container: 'c' },
          value: v,
        });
      const file = join(dir, 'feed.jsonl');
      writeFileSync(file, [line(0, 1), line(10, 2), line(10, 3), 'not json', line(70, 4)].join('\n') + '\n');
      let clock = 1_000_000;
      const sleeps: number[] = [];
      const s = await feedRecording(b, file, {
        speed: 10,
        now: () => clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      });
      expect(sleeps).toEqual([1000, 6000]);
      expect(s).toEqual({
        observations: 4,
        deadLetters: 1,
        appends: 4,
        firstTs: Date.parse('2026-11-26T08:00:00Z'),
        lastTs: Date.parse('2026-11-26T08:01:10Z'),
        skipped: 0,
      });
      const [m] = await b.log.describeTopics(['hetu.raw.metrics']);
      expect(m!.partitions.reduce((a, p) => a + p.high, 0n)).toBe(4n);
    } finally {
      await b.close();
    }
  });

  it('runs the log, the stages, the projections and the API in one process, and stops', async () => {
    const out: string[] = [];
    const ac = new AbortController();
    let listening!: (url: string) => void;
    const urlP = new Promise<string>((r) => (listening = r));
    const done = runStart(parseGlobalConfig({ dataDir: join(dir, 'start'), output: 'table' }, {}), {
      out: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
      signal: ac.signal,
      demo: false,
      port: 0,
      onListening: (u) => listening(u),
    });
    const url = await Promise.race([
      urlP,
      done.then(() => Promise.reject(new Error('hetu start stopped early'))),
    ]);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ clusters pipeline { processors { name } } }' }),
    });
    expect(await r.json()).toEqual({
      data: {
        clusters: [],
        pipeline: {
          processors: [
            'kube',
            'errors',
            'anomalies',
            'feed-by-cluster',
            'incidents',
            'recommendations',
            'scoring-feed',
            'scoring-namespaces',
            'scoring-cluster',
          ].map((name) => ({ name })),
        },
      },
    });
    ac.abort();
    await done;
    expect(out.join('')).toMatch(/GraphQL API: http:\/\/127\.0\.0\.1:\d+\/graphql/);
  }, 60_000);
});
