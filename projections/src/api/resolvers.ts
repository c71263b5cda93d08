/**
 * Resolvers and loaders of schema.graphql. Lists resolve from one store query; every field that
 * reaches into another store (an incident's RCA, a workload's pods, a resource's impact, …) is a
 * mercurius loader, so a page of N items costs one store call per field, not N. Mutations append a
 * Command to hetu.commands, keyed as the catalogue says, and return its position.
 */
import { randomUUID } from 'node:crypto';
import type { Command, ScopeScore, ScoreChanged, Serde } from '@hetu/schemas';
import { HetuError, type Log } from '@hetu/streams';
import type { ValueNode } from 'graphql';
import { graphql } from './graphql.ts';
import type { FreshnessReport, ProcessorInfo, Projections } from '../projections.ts';
import type { ErrorGroupFilter, ErrorGroupSort } from '../store/errors.ts';
import type { FaultRow } from '../store/errors.ts';
import type { LlmUsageRow } from '../store/llm.ts';
import { pageSize } from '../store/page.ts';
import type { ProjectionChange } from '../store/store.ts';
import type { Principal } from './security.ts';
import { readSeries } from './series.ts';
import {
  anomalyView,
  connection,
  errorGroupView,
  eventView,
  freshnessView,
  impactView,
  incidentView,
  labels,
  llmView,
  nodeView,
  podView,
  position,
  rcaView,
  recommendationView,
  scoreView,
  serviceView,
  workloadView,
  type View,
} from './views.ts';

type ScoreDeduction = ScopeScore['deductions'][number];

const { Kind } = graphql;

export const COMMANDS_TOPIC = 'hetu.commands';
export const MAX_QUESTION_CHARS = 2_000;
export const MAX_WAIT_MS = 30_000;

/** Pub/sub topics the subscriptions listen on. */
export const EVENTS = {
  score: 'hetu.score',
  errorGroup: 'hetu.error-group',
  incident: 'hetu.incident',
  anomaly: 'hetu.anomaly',
  rca: 'hetu.rca',
} as const;

export interface ApiStats {
  /** Resolver (and subscribe) calls of every field with a resolver. */
  resolverCalls: number;
  /** Loader batches run. */
  loaderCalls: number;
  /** Store query calls, summed over the stores. */
  storeCalls(): number;
  /** Store query calls by `<store>.<method>`. */
  storeCallsBy(): Record<string, number>;
}

/** The server's version and LLM setup (Query.about). */
export interface ServerAbout {
  readonly version: string;
  readonly llm: {
    readonly configured: boolean;
    readonly endpoint: string | null;
    readonly model: string | null;
    readonly pseudonymize: boolean;
    readonly dailyTokens: number | null;
  };
}

export interface ResolverDeps {
  readonly projections: Projections;
  readonly log: Log;
  readonly serde: Serde;
  /** Running processors (for `after` waits and pipeline status). */
  readonly processors: readonly ProcessorInfo[];
  /** Remediation hint per rule id (drill-down level 4). */
  readonly hints: ReadonlyMap<string, string>;
  /** What `about` answers: the server's version and LLM setup. */
  readonly about?: ServerAbout;
  /** The event time a command is issued at. */
  readonly commandClock: () => number;
  readonly stats: ApiStats;
}

export interface ApiContext {
  readonly auth?: Principal;
  readonly pubsub?: { subscribe(topic: string | string[]): Promise<unknown> };
}

type Args = Record<string, unknown>;
type Resolver = (parent: View, args: Args, ctx: ApiContext) => unknown;
type LoaderQuery = { obj: View; params: Args };
type Loader = (queries: LoaderQuery[], ctx: ApiContext) => Promise<unknown[]> | unknown[];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const list = (v: unknown): string[] | null => (Array.isArray(v) ? (v as string[]) : null);

function parseTime(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new TypeError(
    `DateTime cannot represent ${JSON.stringify(v)}: use ISO 8601 (e.g. 2026-11-26T08:00:00Z).`,
  );
}

/** ISO 8601 in and out; milliseconds since the epoch accepted as input. */
export const DateTimeScalar = {
  serialize(v: unknown): string {
    if (v instanceof Date) return v.toISOString();
    return new Date(parseTime(v)).toISOString();
  },
  parseValue: parseTime,
  parseLiteral(ast: ValueNode): number {
    if (ast.kind === Kind.STRING) return parseTime(ast.value);
    if (ast.kind === Kind.INT) return parseTime(Number(ast.value));
    throw new TypeError('DateTime is an ISO 8601 string.');
  },
};

/** int64 counters as JSON numbers. */
export const LongScalar = {
  serialize(v: unknown): number {
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw new TypeError(`Long cannot represent ${JSON.stringify(v)}.`);
  },
  parseValue: (v: unknown): number => Number(v),
  parseLiteral: (ast: ValueNode): number => (ast.kind === Kind.INT ? Number(ast.value) : NaN),
};

function dayView(u: LlmUsageRow): View {
  const used = u.inputTokens + u.outputTokens;
  return {
    day: u.day,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    used,
    calls: u.calls,
    limit: u.limit,
    remaining: Math.max(0, u.limit - used),
    exhausted: u.limit > 0 && used >= u.limit,
  };
}

function faultView(f: FaultRow, cluster: string | null): View {
  return {
    faultKey: f.faultKey,
    title: f.title,
    groupCount: f.groups,
    workloads: f.workloads,
    clusters: f.clusters,
    count: f.count,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    cluster,
  };
}

function historyView(h: { change: ScoreChanged; topic: string; partition: number; offset: string }): View {
  return { ...h.change, position: position(h) };
}

function freshnessReportView(f: FreshnessReport): View {
  return {
    caughtUp: f.caughtUp,
    lag: f.lag,
    lastEventTime: f.lastEventTime,
    projections: f.projections.map(freshnessView),
  };
}

function requireAdmin(ctx: ApiContext): Principal {
  const who = ctx.auth;
  if (!who || who.role !== 'admin')
    throw new HetuError(
      'HETU_API_FORBIDDEN',
      'Mutations need an admin token; this request has a read-only one.',
    );
  return who;
}

function notFound(what: string): HetuError {
  return new HetuError(
    'HETU_API_NOT_FOUND',
    `${what} is not in the projections (it may have expired, or the cluster is wrong).`,
  );
}

/** Builds the resolvers, loaders and the change publisher over the projections. */
export function createResolvers(deps: ResolverDeps): {
  resolvers: Record<string, unknown>;
  loaders: Record<string, Record<string, Loader>>;
  publisher: (
    publish: (topic: string, payload: unknown) => void,
  ) => (changes: readonly ProjectionChange[]) => void;
} {
  const { projections, log, serde } = deps;
  const s = projections.stores;

  const clusters = (): string[] => [...new Set([...s.scores.clusters(), ...s.workloads.clusters()])].sort();
  const oneCluster = (arg: unknown): string | null => {
    if (typeof arg === 'string' && arg !== '') return arg;
    const all = clusters();
    if (all.length <= 1) return all[0] ?? null;
    throw new HetuError(
      'HETU_API_CLUSTER_REQUIRED',
      `The projections hold several clusters (${all.join(', ')}): pass the cluster argument.`,
    );
  };
  const anyCluster = (arg: unknown): string | null => (typeof arg === 'string' && arg !== '' ? arg : null);
  const freshnessOne = async (name: string) => {
    const f = await projections.freshness([name]);
    return freshnessView(f.projections[0]!);
  };

  const deductionsOf = (sc: View): ScoreDeduction[] => {
    const cluster = sc['cluster'] as string;
    return ((sc['deductions'] as ScoreDeduction[] | undefined) ?? []).map((d) => ({
      ...d,
      resources: d.resources.map((r) => ({ ...r, cluster })),
    }));
  };

  // ----- commands -----
  const appendCommand = async (
    ctx: ApiContext,
    c: { type: string; targetIds: string[]; payload: Record<string, unknown>; key: string },
  ): Promise<View> => {
    const who = requireAdmin(ctx);
    const command: Command = {
      id: randomUUID(),
      ts: deps.commandClock(),
      issuer: `api:${who.name}`,
      type: c.type,
      targetIds: c.targetIds,
      payload: JSON.stringify(c.payload),
    };
    const value = await serde.encode(COMMANDS_TOPIC, 'Command', command);
    const [pos] = await log.append(COMMANDS_TOPIC, [
      { key: Buffer.from(c.key), value, timestamp: command.ts },
    ]);
    return {
      ...command,
      key: c.key,
      position: { topic: COMMANDS_TOPIC, partition: pos!.partition, offset: pos!.offset.toString() },
    };
  };
  const groupRoute = (cluster: unknown, id: string) => {
    const r = s.errors.routeOf(anyCluster(cluster), id);
    if (!r) throw notFound(`Error group ${id}`);
    return r;
  };

  const Query: Record<string, Resolver> = {
    clusters: () => clusters(),
    overview: async (_p, a) => {
      const c = oneCluster(a['cluster']);
      const [score] = c ? s.scores.scoresOf([{ cluster: c, scope: 'cluster' }]) : [null];
      const namespaces = s.scores.list({ cluster: c, scopeType: 'namespace' }, 500).items.map(scoreView);
      const inc = s.incidents.counts(c);
      const eg = s.errors.counts(c);
      const rec = s.recommendations.summary({ cluster: c });
      return {
        cluster: c,
        score: score ? scoreView(score) : null,
        namespaces,
        openIncidents: inc.open,
        criticalIncidents: inc.critical,
        openErrorGroups: eg.open,
        spikingErrorGroups: eg.spiking,
        activeAnomalies: s.anomalies.openCount(c),
        openRecommendations: rec.open,
        monthlySavings: rec.monthlySavings,
        freshness: freshnessReportView(await projections.freshness()),
      };
    },
    score: (_p, a) => {
      const c = oneCluster(a['cluster']);
      if (c === null) return null;
      const [r] = s.scores.scoresOf([{ cluster: c, scope: String(a['scope']) }]);
      return r ? scoreView(r) : null;
    },
    scores: (_p, a) =>
      connection(
        s.scores.list(
          {
            cluster: anyCluster(a['cluster']),
            scopeType: str(a['scopeType']),
            namespace: str(a['namespace']),
          },
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        scoreView,
        'scores',
      ),
    scoreHistory: (_p, a) => {
      const c = oneCluster(a['cluster']) ?? '';
      return connection(
        s.scores.history(
          c,
          String(a['scope']),
          { from: num(a['from']), to: num(a['to']) },
          pageSize(num(a['first']), 100),
          str(a['after']),
        ),
        historyView,
        'scores',
      );
    },
    impact: (_p, a) => {
      const c = oneCluster(a['cluster']);
      if (c === null) return [];
      const [rows] = s.scores.impactOf([
        { cluster: c, kind: String(a['kind']), namespace: str(a['namespace']), name: String(a['name']) },
      ]);
      return (rows ?? []).map((i) => impactView(i, deps.hints));
    },
    errorGroups: (_p, a) => {
      const f = (a['filter'] ?? {}) as Record<string, unknown>;
      const filter: ErrorGroupFilter = {
        cluster: anyCluster(a['cluster']),
        status: list(f['status']),
        workload: str(f['workload']),
        namespace: str(f['namespace']),
        reason: list(f['reason']),
        level: list(f['level']),
        search: str(f['search']),
        spike: typeof f['spike'] === 'boolean' ? f['spike'] : null,
        includeMerged: f['includeMerged'] === true,
      };
      return connection(
        s.errors.list(
          filter,
          (a['sort'] ?? 'lastSeen') as ErrorGroupSort,
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        errorGroupView,
        'errors',
      );
    },
    errorGroup: (_p, a) => {
      const [r] = s.errors.byIds([{ cluster: anyCluster(a['cluster']), id: String(a['id']) }]);
      return r ? errorGroupView(r) : null;
    },
    errorSummary: (_p, a) => ({
      ...s.errors.summary({
        cluster: anyCluster(a['cluster']),
        namespace: str(a['namespace']),
        workload: str(a['workload']),
      }),
      projection: 'errors',
    }),
    fault: (_p, a) => {
      const c = anyCluster(a['cluster']);
      const [f] = s.errors.faults({ cluster: c, faultKeys: [String(a['faultKey'])] }, 1).items;
      return f ? faultView(f, c) : null;
    },
    faults: (_p, a) => {
      const c = anyCluster(a['cluster']);
      return connection(
        s.errors.faults({ cluster: c }, pageSize(num(a['first'])), str(a['after'])),
        (f) => faultView(f, c),
        null,
      );
    },
    anomalies: (_p, a) => {
      const f = (a['filter'] ?? {}) as Record<string, unknown>;
      return connection(
        s.anomalies.list(
          {
            cluster: anyCluster(a['cluster']),
            status: list(f['status']),
            metric: list(f['metric']),
            namespace: str(f['namespace']),
            severity: list(f['severity']),
            search: str(f['search']),
          },
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        anomalyView,
        'anomalies',
      );
    },
    anomaly: (_p, a) => {
      const [r] = s.anomalies.byIds([{ cluster: anyCluster(a['cluster']), id: String(a['id']) }]);
      return r ? anomalyView(r) : null;
    },
    incidents: (_p, a) => {
      const f = (a['filter'] ?? {}) as Record<string, unknown>;
      return connection(
        s.incidents.list(
          {
            cluster: anyCluster(a['cluster']),
            status: list(f['status']),
            severity: list(f['severity']),
            namespace: str(f['namespace']),
            workload: str(f['workload']),
            search: str(f['search']),
          },
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        incidentView,
        'incidents',
      );
    },
    incident: (_p, a) => {
      const [r] = s.incidents.byIds([{ cluster: anyCluster(a['cluster']), id: String(a['id']) }]);
      return r ? incidentView(r) : null;
    },
    recommendations: (_p, a) => {
      const f = (a['filter'] ?? {}) as Record<string, unknown>;
      return connection(
        s.recommendations.list(recFilter(a['cluster'], f), pageSize(num(a['first'])), str(a['after'])),
        recommendationView,
        'recommendations',
      );
    },
    recommendation: (_p, a) => {
      const [r] = s.recommendations.byIds([{ cluster: anyCluster(a['cluster']), id: String(a['id']) }]);
      return r ? recommendationView(r) : null;
    },
    recommendationSummary: (_p, a) =>
      s.recommendations.summary(recFilter(a['cluster'], (a['filter'] ?? {}) as Record<string, unknown>)),
    workloads: (_p, a) => {
      const f = (a['filter'] ?? {}) as Record<string, unknown>;
      return connection(
        s.workloads.list(
          {
            cluster: anyCluster(a['cluster']),
            kind: list(f['kind']),
            namespace: str(f['namespace']),
            search: str(f['search']),
            unhealthy: typeof f['unhealthy'] === 'boolean' ? f['unhealthy'] : null,
          },
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        workloadView,
        'workloads',
      );
    },
    services: (_p, a) =>
      connection(
        s.workloads.services(
          { cluster: anyCluster(a['cluster']), namespace: str(a['namespace']), search: str(a['search']) },
          pageSize(num(a['first'])),
          str(a['after']),
        ),
        serviceView,
        'workloads',
      ),
    workload: (_p, a) => {
      const [r] = s.workloads.workloadsOf([
        {
          cluster: anyCluster(a['cluster']),
          namespace: String(a['namespace']),
          kind: String(a['kind']),
          name: String(a['name']),
        },
      ]);
      return r ? workloadView(r) : null;
    },
    pod: (_p, a) => {
      const r = s.workloads.pod(anyCluster(a['cluster']), String(a['namespace']), String(a['name']));
      return r ? podView(r) : null;
    },
    nodes: (_p, a) => s.workloads.nodes(anyCluster(a['cluster'])).map(nodeView),
    pipeline: () => ({}),
    llm: () => ({ available: projections.groups().some((g) => g.store === 'llm' && g.topics.length > 0) }),
    freshness: async () => freshnessReportView(await projections.freshness()),
    about: () =>
      deps.about ?? {
        version: 'unknown',
        llm: { configured: false, endpoint: null, model: null, pseudonymize: false, dailyTokens: null },
      },
    after: async (_p, a) => {
      const pos = a['position'] as { topic: string; partition: number; offset: string };
      const timeoutMs = num(a['timeoutMs']) ?? 5000;
      if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_WAIT_MS)
        throw new HetuError(
          'HETU_API_BAD_ARGUMENT',
          `timeoutMs must be an integer from 0 to ${MAX_WAIT_MS}.`,
        );
      if (!/^\d+$/.test(pos.offset))
        throw new HetuError(
          'HETU_API_BAD_ARGUMENT',
          'position.offset must be a decimal offset, as a receipt gives it.',
        );
      await projections.waitFor(
        { topic: pos.topic, partition: pos.partition, offset: BigInt(pos.offset) },
        { timeoutMs, processors: deps.processors },
      );
      return {};
    },
  };

  function recFilter(cluster: unknown, f: Record<string, unknown>) {
    return {
      cluster: anyCluster(cluster),
      type: list(f['type']),
      status: list(f['status']),
      severity: list(f['severity']),
      namespace: str(f['namespace']),
      active: typeof f['active'] === 'boolean' ? f['active'] : null,
      search: str(f['search']),
    };
  }

  const Mutation: Record<string, Resolver> = {
    setErrorGroupStatus: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['id']);
      const r = groupRoute(a['cluster'], id);
      const verb = { open: 'reopen', resolved: 'resolve', ignored: 'ignore' }[String(a['status'])];
      return appendCommand(ctx, {
        type: `error-group.${verb}`,
        targetIds: [id],
        payload: {},
        key: `${r.cluster}/${r.namespace}/${r.workload}`,
      });
    },
    mergeErrorGroups: (_p, a, ctx) => {
      requireAdmin(ctx);
      const target = String(a['target']);
      const sources = [...new Set((a['sources'] as string[]).filter((x) => x !== target))];
      if (sources.length === 0)
        throw new HetuError(
          'HETU_API_BAD_ARGUMENT',
          'Merging needs at least one source group other than the target.',
        );
      const t = groupRoute(a['cluster'], target);
      for (const id of sources) {
        const r = groupRoute(t.cluster, id);
        if (r.partition !== t.partition)
          throw new HetuError(
            'HETU_API_BAD_ARGUMENT',
            `Group ${id} (${r.namespace}/${r.workload}) is held by another task than ${target} (${t.namespace}/${t.workload}): only groups of one partition can be merged.`,
          );
      }
      return appendCommand(ctx, {
        type: 'error-group.merge',
        targetIds: [target, ...sources],
        payload: { target },
        key: `${t.cluster}/${t.namespace}/${t.workload}`,
      });
    },
    splitErrorGroup: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['id']);
      const r = groupRoute(a['cluster'], id);
      return appendCommand(ctx, {
        type: 'error-group.split',
        targetIds: [id],
        payload: {},
        key: `${r.cluster}/${r.namespace}/${r.workload}`,
      });
    },
    setIncidentStatus: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['id']);
      const c = s.incidents.clusterOf(anyCluster(a['cluster']), id);
      if (c === null) throw notFound(`Incident ${id}`);
      return appendCommand(ctx, {
        type: 'incident.set-status',
        targetIds: [id],
        payload: { status: String(a['status']) },
        key: c,
      });
    },
    regenerateRca: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['incidentId']);
      const c = s.incidents.clusterOf(anyCluster(a['cluster']), id);
      if (c === null) throw notFound(`Incident ${id}`);
      return appendCommand(ctx, { type: 'incident.regenerate', targetIds: [id], payload: {}, key: c });
    },
    askIncident: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['incidentId']);
      const question = String(a['question']).trim();
      if (question === '' || question.length > MAX_QUESTION_CHARS)
        throw new HetuError(
          'HETU_API_BAD_ARGUMENT',
          `A question has 1 to ${MAX_QUESTION_CHARS} characters; this one has ${question.length}.`,
        );
      const c = s.incidents.clusterOf(anyCluster(a['cluster']), id);
      if (c === null) throw notFound(`Incident ${id}`);
      return appendCommand(ctx, { type: 'incident.ask', targetIds: [id], payload: { question }, key: c });
    },
    setRecommendationStatus: (_p, a, ctx) => {
      requireAdmin(ctx);
      const id = String(a['id']);
      const c = s.recommendations.clusterOf(anyCluster(a['cluster']), id);
      if (c === null) throw notFound(`Recommendation ${id}`);
      return appendCommand(ctx, {
        type: 'recommendation.set-status',
        targetIds: [id],
        payload: { recommendationId: id, status: String(a['status']) },
        key: c,
      });
    },
  };

  const DIMENSIONS = ['reliability', 'security', 'cost', 'architecture'] as const;

  const types: Record<string, Record<string, Resolver>> = {
    ScopeScore: {
      healthy: (sc) => sc['noData'] === false && ((sc['deductions'] as unknown[]) ?? []).length === 0,
      dimensions: (sc) => {
        const ds = deductionsOf(sc);
        return DIMENSIONS.map((dimension) => {
          const rules = ds.filter((d) => d.dimension === dimension);
          return {
            dimension,
            score: (sc as unknown as ScopeScore)[dimension],
            points: rules.reduce((acc, d) => acc + d.points, 0),
            rules,
          };
        });
      },
      rules: (sc, a) =>
        deductionsOf(sc).filter((d) => a['dimension'] == null || d.dimension === a['dimension']),
    },
    Deduction: {
      resources: (d, a) => {
        const ns = str(a['namespace']);
        const first = pageSize(num(a['first']), 10);
        return ((d['resources'] as View[]) ?? [])
          .filter((r) => ns === null || r['namespace'] === ns)
          .slice(0, first);
      },
    },
    ScoreEvent: {
      score: (e) => {
        if (e['deleted']) return null;
        const [r] = s.scores.scoresOf([{ cluster: String(e['cluster']), scope: String(e['scope']) }]);
        return r ? scoreView(r) : null;
      },
    },
    ScopeScoreConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    ScoreChangeConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    ErrorGroupConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    AnomalyConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    IncidentConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    RecommendationConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    WorkloadConnection: { freshness: (c) => freshnessOne(String(c['projection'])) },
    ErrorSummary: { freshness: (c) => freshnessOne(String(c['projection'])) },
    ErrorGroup: {
      occurrences: (g, a) => {
        const f = (a['filter'] ?? {}) as Record<string, unknown>;
        const from = num(f['from']);
        const to = num(f['to']);
        const search = str(f['search'])?.toLowerCase() ?? null;
        const first = pageSize(num(a['first']));
        return [...((g['occurrences'] as View[]) ?? [])]
          .reverse()
          .filter(
            (o) =>
              (from === null || (o['ts'] as number) >= from) &&
              (to === null || (o['ts'] as number) <= to) &&
              (f['pod'] == null || o['pod'] === f['pod']) &&
              (f['container'] == null || o['container'] === f['container']) &&
              (search === null ||
                String(o['message']).toLowerCase().includes(search) ||
                String(o['url'] ?? '')
                  .toLowerCase()
                  .includes(search)),
          )
          .slice(0, first);
      },
    },
    ErrorGroupEvent: {
      group: (e) => {
        if (e['deleted']) return null;
        const [r] = s.errors.byIds([{ cluster: String(e['cluster']), id: String(e['id']) }]);
        return r ? errorGroupView(r) : null;
      },
    },
    Anomaly: {
      labels: (x) => labels(x['labels'] as Record<string, string>),
      namespace: (x) => (x['labels'] as Record<string, string>)['namespace'] ?? null,
      series: async (x, a) => {
        const before = num(a['beforeSeconds']) ?? 1800;
        const after = num(a['afterSeconds']) ?? 600;
        const limit = num(a['limit']) ?? 500;
        if (before < 0 || before > 86_400 || after < 0 || after > 86_400 || limit < 1 || limit > 5000)
          throw new HetuError(
            'HETU_API_BAD_ARGUMENT',
            'beforeSeconds and afterSeconds are 0 to 86 400, limit 1 to 5 000.',
          );
        return readSeries(log, serde, x as never, { beforeMs: before * 1000, afterMs: after * 1000, limit });
      },
    },
    AnomalyEvent: {
      anomaly: (e) => {
        if (e['deleted']) return null;
        const [r] = s.anomalies.byIds([{ cluster: String(e['cluster']), id: String(e['id']) }]);
        return r ? anomalyView(r) : null;
      },
    },
    Incident: {
      signals: (i, a) => ((i['signals'] as unknown[]) ?? []).slice(0, pageSize(num(a['first']), 200)),
    },
    IncidentEvent: {
      incident: (e) => {
        if (e['deleted']) return null;
        const [r] = s.incidents.byIds([{ cluster: String(e['cluster']), id: String(e['id']) }]);
        return r ? incidentView(r) : null;
      },
    },
    RcaProgressEvent: {
      rca: (e) => {
        if (e['deleted'] || e['kind'] !== 'rca') return null;
        const [r] = s.incidents.rcaOf([
          { cluster: String(e['cluster']), incidentId: String(e['incidentId']) },
        ]);
        return r ? rcaView(r) : null;
      },
      llmAnalysis: (e) => {
        if (e['deleted'] || typeof e['llmKey'] !== 'string') return null;
        const r = s.llm.byKey(e['llmKey']);
        return r ? llmView(r) : null;
      },
    },
    Recommendation: {},
    PipelineStatus: {
      log: () => log.kind,
      topics: async () =>
        (await log.describeTopics()).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partition: p.partition,
            low: p.low.toString(),
            high: p.high.toString(),
          })),
          records: t.partitions.reduce((acc, p) => acc + (p.high - p.low), 0n),
          cleanupPolicy: t.cleanupPolicy,
          retentionMs: t.retentionMs ?? null,
        })),
      groups: async () => [...(await groupStatus('processor')), ...(await groupStatus('projection'))],
      processors: () => groupStatus('processor'),
      projections: async () => (await projections.freshness()).projections.map(freshnessView),
      deadLetters: () => ({}),
      recentCommands: (_p, a) =>
        s.status.recentCommands(pageSize(num(a['first']), 20)).map((c) => ({
          ...c,
          position: { topic: c.topic, partition: c.partition, offset: c.offset },
        })),
    },
    DeadLetters: {
      total: () => s.status.deadLetterCounts().reduce((acc, c) => acc + c.count, 0),
      byReason: () => s.status.deadLetterCounts(),
      recent: (_p, a) =>
        s.status.recentDeadLetters(pageSize(num(a['first']), 20)).map((d) => ({
          ...d,
          position: { topic: d.topic, partition: d.partition, offset: d.offset },
        })),
    },
    LlmStatus: {
      budget: () => {
        const [u] = s.llm.usage(1);
        return u ? dayView(u) : null;
      },
      days: (_p, a) => s.llm.usage(pageSize(num(a['last']), 7)).map(dayView),
      recorded: () => s.llm.statusCounts().find((c) => c.status === 'recorded')?.count ?? 0,
      failed: () => s.llm.statusCounts().find((c) => c.status === 'failed')?.count ?? 0,
      refused: () => s.llm.statusCounts().find((c) => c.status === 'refused')?.count ?? 0,
      pending: () => s.llm.pendingCount(),
      recent: (_p, a) => s.llm.list({}, pageSize(num(a['first']), 10)).items.map(llmView),
      freshness: () => freshnessOne('llm'),
    },
    Workload: {
      labels: (w) => w['labels'],
    },
  };

  async function groupStatus(kind: 'processor' | 'projection'): Promise<View[]> {
    const groups =
      kind === 'processor'
        ? deps.processors.map((p) => ({ group: p.name, name: p.name, topics: p.inputs }))
        : projections.groups().map((g) => ({ group: g.group, name: g.store, topics: g.topics }));
    const topics = [...new Set(groups.flatMap((g) => g.topics))];
    const infos = new Map((await log.describeTopics(topics)).map((t) => [t.name, t]));
    const out: View[] = [];
    for (const g of groups) {
      const partitions: View[] = [];
      let lag = 0n;
      for (const t of g.topics) {
        const committed = await log.committed(g.group, t);
        for (const p of infos.get(t)?.partitions ?? []) {
          const c = committed.get(p.partition);
          const from = c === undefined || c < p.low ? p.low : c;
          const l = p.high > from ? p.high - from : 0n;
          lag += l;
          partitions.push({
            topic: t,
            partition: p.partition,
            committed: c === undefined ? null : c.toString(),
            end: p.high.toString(),
            lag: l,
          });
        }
      }
      out.push({
        group: g.group,
        kind,
        name: g.name,
        topics: g.topics,
        lag,
        caughtUp: lag === 0n,
        partitions,
      });
    }
    return out;
  }

  // ----- loaders: one store call per field per request -----
  const resourceRef = (o: View, kind: string) => ({
    cluster: String(o['cluster']),
    kind,
    namespace: (o['namespace'] as string | null) ?? null,
    name: String(o['name']),
  });
  const workloadKey = (w: View) => `${w['cluster']}/${w['namespace']}/${w['name']}`;
  const loaders: Record<string, Record<string, Loader>> = {
    ScopeScore: {
      change: (qs) => {
        const keys = qs.map((q) => ({
          cluster: String(q.obj['cluster']),
          scope: String(q.obj['scope']),
          at: num(q.params['since']) ?? 0,
        }));
        return s.scores.changesAt(keys).map((prev, i) => {
          const now = (qs[i]!.obj['overall'] as number | null) ?? null;
          const then = prev?.overallTo ?? null;
          return {
            since: keys[i]!.at,
            overallThen: then,
            overallNow: now,
            delta: now !== null && then !== null ? now - then : null,
            levelThen: prev?.levelTo ?? null,
          };
        });
      },
      history: (qs) =>
        s.scores
          .historiesOf(
            qs.map((q) => ({
              cluster: String(q.obj['cluster']),
              scope: String(q.obj['scope']),
              first: pageSize(num(q.params['first']), 20),
            })),
          )
          .map((rows) => rows.map(historyView)),
    },
    ScoreResource: {
      impact: (qs) =>
        s.scores
          .impactOf(qs.map((q) => resourceRef(q.obj, String(q.obj['kind']))))
          .map((rows) => rows.map((r) => impactView(r, deps.hints))),
    },
    ErrorGroup: {
      workloadKind: (qs) =>
        s.workloads.kindsOf(qs.map((q) => workloadKey({ ...q.obj, name: q.obj['workload'] }))),
      fault: (qs) => {
        const keys = [...new Set(qs.map((q) => String(q.obj['faultKey'])))];
        const rows = s.errors.faults({ faultKeys: keys }, Math.min(500, keys.length)).items;
        const by = new Map(rows.map((f) => [f.faultKey, f]));
        return qs.map((q) => {
          const f = by.get(String(q.obj['faultKey']));
          return f ? faultView(f, null) : null;
        });
      },
      llmAnalysis: (qs) =>
        s.llm
          .analysesOf(
            'error-group',
            qs.map((q) => ({ cluster: String(q.obj['cluster']), id: String(q.obj['id']) })),
          )
          .map((rows) => (rows.length ? llmView(rows[rows.length - 1]!) : null)),
    },
    Fault: {
      groups: (qs) =>
        s.errors
          .byFaultKeys(
            qs.map((q) => ({
              cluster: (q.obj['cluster'] as string | null) ?? null,
              faultKey: String(q.obj['faultKey']),
            })),
          )
          .map((rows) => rows.map(errorGroupView)),
    },
    Incident: {
      rca: (qs) =>
        s.incidents
          .rcaOf(qs.map((q) => ({ cluster: String(q.obj['cluster']), incidentId: String(q.obj['id']) })))
          .map((r) => (r ? rcaView(r) : null)),
      llmAnalysis: (qs) =>
        s.llm
          .analysesOf(
            'incident',
            qs.map((q) => ({ cluster: String(q.obj['cluster']), id: String(q.obj['id']) })),
          )
          .map((rows) => (rows.length ? llmView(rows[rows.length - 1]!) : null)),
      questions: (qs) =>
        s.llm
          .analysesOf(
            'question',
            qs.map((q) => ({ cluster: String(q.obj['cluster']), id: String(q.obj['id']) })),
          )
          .map((rows) => rows.map(llmView)),
      llmPending: (qs) =>
        s.llm.pendingOf(
          ['incident', 'question'],
          qs.map((q) => ({ cluster: String(q.obj['cluster']), id: String(q.obj['id']) })),
        ),
    },
    Workload: {
      pods: (qs) => podsOf(qs).map((ps) => ps.map(podView)),
      podCount: (qs) => podsOf(qs).map((ps) => ps.length),
      unhealthyPods: (qs) =>
        podsOf(qs).map((ps) => ps.filter((p) => (p.health?.categories.length ?? 0) > 0).length),
      events: (qs) => {
        const firsts = qs.map((q) => pageSize(num(q.params['first']), 20));
        const rows = s.workloads.eventsOf(
          qs.map((q) => ({
            cluster: String(q.obj['cluster']),
            namespace: String(q.obj['namespace']),
            name: String(q.obj['name']),
          })),
          Math.max(...firsts),
        );
        return rows.map((r, i) => r.slice(0, firsts[i]).map(eventView));
      },
      score: (qs) =>
        s.scores
          .scoresOf(
            qs.map((q) => ({
              cluster: String(q.obj['cluster']),
              scope: `workload:${q.obj['namespace']}/${q.obj['kind']}/${q.obj['name']}`,
            })),
          )
          .map((r) => (r ? scoreView(r) : null)),
      impact: (qs) =>
        s.scores
          .impactOf(qs.map((q) => resourceRef(q.obj, String(q.obj['kind']))))
          .map((rows) => rows.map((r) => impactView(r, deps.hints))),
      errorGroups: (qs) =>
        s.errors.byWorkloads(qs.map((q) => workloadKey(q.obj))).map((rows) => rows.map(errorGroupView)),
      incidents: (qs) =>
        s.incidents.byWorkloads(qs.map((q) => workloadKey(q.obj))).map((rows) => rows.map(incidentView)),
      recommendations: (qs) =>
        s.recommendations
          .byWorkloads(qs.map((q) => workloadKey(q.obj)))
          .map((rows) => rows.map(recommendationView)),
    },
    Pod: {
      impact: (qs) =>
        s.scores
          .impactOf(qs.map((q) => resourceRef(q.obj, 'Pod')))
          .map((rows) => rows.map((r) => impactView(r, deps.hints))),
    },
    Node: {
      impact: (qs) =>
        s.scores
          .impactOf(qs.map((q) => ({ ...resourceRef(q.obj, 'Node'), namespace: null })))
          .map((rows) => rows.map((r) => impactView(r, deps.hints))),
    },
  };

  function podsOf(qs: LoaderQuery[]) {
    return s.workloads.podsOf(
      qs.map((q) => ({
        cluster: String(q.obj['cluster']),
        namespace: String(q.obj['namespace']),
        kind: String(q.obj['kind']),
        name: String(q.obj['name']),
      })),
    );
  }

  // ----- subscriptions -----
  const subscribeTo =
    (topic: string) =>
    (_root: unknown, _args: Args, ctx: ApiContext): Promise<unknown> => {
      if (!ctx.pubsub)
        throw new HetuError('HETU_API_NO_SUBSCRIPTIONS', 'Subscriptions run over WebSocket only.');
      return ctx.pubsub.subscribe(topic);
    };
  const field = (payload: unknown, name: string) => ((payload as Record<string, View>)[name] ?? {}) as View;
  const eq = (want: unknown, got: unknown) => want === undefined || want === null || want === got;
  const Subscription = {
    scoreChanged: {
      subscribe: withFilter(subscribeTo(EVENTS.score), (p, a) => {
        const e = field(p, 'scoreChanged');
        return eq(a['cluster'], e['cluster']) && eq(a['scope'], e['scope']);
      }),
    },
    errorGroupChanged: {
      subscribe: withFilter(subscribeTo(EVENTS.errorGroup), (p, a) => {
        const e = field(p, 'errorGroupChanged');
        return (
          eq(a['cluster'], e['cluster']) &&
          eq(a['namespace'], e['namespace']) &&
          eq(a['workload'], e['workload'])
        );
      }),
    },
    incidentChanged: {
      subscribe: withFilter(subscribeTo(EVENTS.incident), (p, a) => {
        const e = field(p, 'incidentChanged');
        return eq(a['cluster'], e['cluster']) && eq(a['id'], e['id']);
      }),
    },
    anomalyChanged: {
      subscribe: withFilter(subscribeTo(EVENTS.anomaly), (p, a) => {
        const e = field(p, 'anomalyChanged');
        return eq(a['cluster'], e['cluster']) && eq(a['namespace'], e['namespace']);
      }),
    },
    rcaProgress: {
      subscribe: withFilter(subscribeTo(EVENTS.rca), (p, a) => {
        const e = field(p, 'rcaProgress');
        return eq(a['cluster'], e['cluster']) && eq(a['incidentId'], e['incidentId']);
      }),
    },
  };

  const publisher =
    (publish: (topic: string, payload: unknown) => void) =>
    (changes: readonly ProjectionChange[]): void => {
      for (const c of changes) {
        const pos = { topic: c.topic, partition: c.partition, offset: c.offset.toString() };
        const base = { cluster: c.cluster, deleted: c.deleted, position: pos };
        const tag = (k: string) => c.tags?.[k] ?? null;
        switch (c.kind) {
          case 'score':
            publish(EVENTS.score, { scoreChanged: { ...base, scope: c.id, namespace: tag('namespace') } });
            break;
          case 'error-group':
            publish(EVENTS.errorGroup, {
              errorGroupChanged: {
                ...base,
                id: c.id,
                namespace: tag('namespace'),
                workload: tag('workload'),
              },
            });
            break;
          case 'incident':
            publish(EVENTS.incident, { incidentChanged: { ...base, id: c.id } });
            break;
          case 'anomaly':
            publish(EVENTS.anomaly, { anomalyChanged: { ...base, id: c.id, namespace: tag('namespace') } });
            break;
          case 'rca':
            publish(EVENTS.rca, { rcaProgress: { ...base, incidentId: c.id, kind: 'rca' } });
            break;
          case 'llm-analysis':
          case 'llm-requested': {
            const incidentId = tag('incidentId');
            if (incidentId === null) break;
            const kind =
              c.kind === 'llm-requested'
                ? 'llm-requested'
                : tag('subjectKind') === 'question'
                  ? 'llm-answer'
                  : 'llm-analysis';
            publish(EVENTS.rca, {
              rcaProgress: { ...base, incidentId, kind, llmKey: c.kind === 'llm-analysis' ? c.id : null },
            });
            break;
          }
          default:
            break;
        }
      }
    };

  // ----- count every resolver call -----
  const count = <F extends (...args: never[]) => unknown>(fn: F): F =>
    ((...args: Parameters<F>) => {
      deps.stats.resolverCalls++;
      return fn(...args);
    }) as F;
  const countAll = (o: Record<string, Resolver>) =>
    Object.fromEntries(Object.entries(o).map(([k, f]) => [k, count(f)]));
  const resolvers: Record<string, unknown> = {
    DateTime: DateTimeScalar,
    Long: LongScalar,
    Query: countAll(Query),
    Mutation: countAll(Mutation),
    Subscription: Object.fromEntries(
      Object.entries(Subscription).map(([k, v]) => [k, { subscribe: count(v.subscribe) }]),
    ),
  };
  for (const [t, fields] of Object.entries(types))
    if (Object.keys(fields).length) resolvers[t] = countAll(fields);
  const countedLoaders: Record<string, Record<string, Loader>> = {};
  for (const [t, fields] of Object.entries(loaders)) {
    countedLoaders[t] = Object.fromEntries(
      Object.entries(fields).map(([k, f]) => [
        k,
        async (qs: LoaderQuery[], ctx: ApiContext) => {
          deps.stats.loaderCalls++;
          deps.stats.resolverCalls++;
          return f(qs, ctx);
        },
      ]),
    );
  }
  return { resolvers, loaders: countedLoaders, publisher };
}

/** mercurius' withFilter without importing mercurius here: an async iterator filtered per event. */
function withFilter(
  subscribe: (root: unknown, args: Args, ctx: ApiContext) => Promise<unknown>,
  filter: (payload: unknown, args: Args) => boolean,
): (root: unknown, args: Args, ctx: ApiContext) => Promise<AsyncIterable<unknown>> {
  return async (root, args, ctx) => {
    const source = (await subscribe(root, args, ctx)) as AsyncIterable<unknown> & {
      return?: () => unknown;
    };
    const it = source[Symbol.asyncIterator]();
    return {
      [Symbol.asyncIterator]() {
        return {
          async next(): Promise<IteratorResult<unknown>> {
            for (;;) {
              const r = await it.next();
              if (r.done) return r;
              if (filter(r.value, args)) return r;
            }
          },
          async return(): Promise<IteratorResult<unknown>> {
            await it.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  };
}
