/**
 * Overview (issue F): what is hurting, why, and what to do. The cluster score and its four
 * dimensions (each a link into the drill-down), the trend with the causes of each change,
 * namespaces ranked worst first, open incidents, top error groups, the latest AI insights and the
 * pipeline's status. Live: `scoreChanged` and `incidentChanged` refetch what is on screen.
 * URL: `/?cluster=<name>` when the projections hold several clusters.
 */
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  Chip,
  Empty,
  LevelChip,
  QueryState,
  ScoreValue,
  Sparkline,
  TimeChart,
} from '../components/common.tsx';
import {
  DIMENSIONS,
  DIMENSION_LABEL,
  EventAt,
  Panel,
  drillHref,
  scopeLabel,
  severityTone,
  signed,
} from '../components/dash.tsx';
import { useGql, useLive } from '../lib/graphql.ts';

interface Score {
  scope: string;
  namespace: string | null;
  overall: number | null;
  level: string | null;
  reliability: number | null;
  security: number | null;
  cost: number | null;
  architecture: number | null;
  noData: boolean;
  healthy: boolean;
  ts: string;
}

interface Cause {
  at: string;
  delta: number;
  cause: string;
  rule: string;
}

interface Change {
  ts: string;
  overallFrom: number | null;
  overallTo: number | null;
  overallDelta: number | null;
  dimensions: {
    dimension: string;
    from: number | null;
    to: number | null;
    delta: number | null;
    causes: Cause[];
  }[];
}

interface OverviewData {
  clusters: string[];
  overview: {
    cluster: string | null;
    openIncidents: number;
    criticalIncidents: number;
    openErrorGroups: number;
    spikingErrorGroups: number;
    activeAnomalies: number;
    openRecommendations: number;
    monthlySavings: number;
    freshness: { caughtUp: boolean; lag: number; lastEventTime: string | null };
    score: Score | null;
    namespaces: Score[];
  };
}

const SCORE_FIELDS = `scope namespace overall level reliability security cost architecture noData healthy ts`;

const OVERVIEW = /* GraphQL */ `
  query Overview($cluster: String) {
    clusters
    overview(cluster: $cluster) {
      cluster
      openIncidents
      criticalIncidents
      openErrorGroups
      spikingErrorGroups
      activeAnomalies
      openRecommendations
      monthlySavings
      freshness { caughtUp lag lastEventTime }
      score { ${SCORE_FIELDS} }
      namespaces { ${SCORE_FIELDS} }
    }
  }
`;

const TREND = /* GraphQL */ `
  query Trend($cluster: String) {
    scoreHistory(cluster: $cluster, scope: "cluster", first: 200) {
      totalCount
      nodes {
        ts
        overallFrom
        overallTo
        overallDelta
        dimensions {
          dimension
          from
          to
          delta
          causes {
            at
            delta
            cause
            rule
          }
        }
      }
    }
  }
`;

const INCIDENTS = /* GraphQL */ `
  query OverviewIncidents($cluster: String) {
    incidents(cluster: $cluster, filter: { status: [open, investigating] }, first: 6) {
      totalCount
      nodes {
        id
        title
        severity
        status
        openedAt
        namespaces
        rca {
          summary
          category
          confidence
        }
      }
    }
  }
`;

const ERRORS = /* GraphQL */ `
  query OverviewErrors($cluster: String) {
    errorGroups(cluster: $cluster, filter: { status: [open] }, sort: count, first: 6) {
      totalCount
      nodes {
        id
        title
        namespace
        workload
        level
        count
        count1h
        spike
        lastSeen
        sparkline
      }
    }
  }
`;

const STATUS = /* GraphQL */ `
  query OverviewStatus {
    llm {
      available
      budget {
        day
        used
        limit
        remaining
        exhausted
      }
      recorded
      failed
      refused
      pending
      recent(first: 4) {
        key
        subjectKind
        subjectId
        status
        answeredAt
        requestedAt
        model
        reason
        message
        incident {
          summary
        }
        errorGroup {
          rootCause
          fix
        }
        answer {
          question
          answer
        }
      }
    }
    pipeline {
      log
      groups {
        name
        kind
        lag
        caughtUp
      }
      deadLetters {
        total
      }
    }
  }
`;

const SCORE_CHANGED = /* GraphQL */ `
  subscription ($cluster: String) {
    scoreChanged(cluster: $cluster, scope: "cluster") {
      scope
    }
  }
`;
const INCIDENT_CHANGED = /* GraphQL */ `
  subscription ($cluster: String) {
    incidentChanged(cluster: $cluster) {
      id
    }
  }
`;

export default function Overview() {
  const [params, setParams] = useSearchParams();
  const cluster = params.get('cluster');
  const vars = cluster ? { cluster } : {};
  const q = useGql<OverviewData>('ov-score', OVERVIEW, vars);
  useLive(SCORE_CHANGED, vars, [['ov-score'], ['ov-trend']]);
  useLive(INCIDENT_CHANGED, vars, [['ov-incidents'], ['ov-score']]);
  const name = q.data?.overview.cluster ?? cluster;
  return (
    <div className="ov">
      <div className="dash-title">
        <h1>{name ? `Cluster ${name}` : 'Overview'}</h1>
        {q.data && q.data.clusters.length > 1 ? (
          <label className="dash-field">
            Cluster{' '}
            <select
              value={cluster ?? q.data.overview.cluster ?? ''}
              onChange={(e) => setParams(e.target.value ? { cluster: e.target.value } : {})}
            >
              {q.data.clusters.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
        ) : null}
        {q.data?.overview.freshness ? (
          <p className="muted dash-asof">
            Data as of <EventAt at={q.data.overview.freshness.lastEventTime} withDate />
            {q.data.overview.freshness.caughtUp
              ? ''
              : ` · catching up (${q.data.overview.freshness.lag} behind)`}
          </p>
        ) : null}
      </div>
      <QueryState q={q} what="the cluster score">
        {(d) =>
          d.overview.score === null ? (
            <Empty>
              No scores yet: hetu has not observed this cluster. Start it with a Kubernetes context, or
              without one to play the demo recording.
            </Empty>
          ) : (
            <>
              <ScoreHero score={d.overview.score} cluster={cluster} />
              <Counts o={d.overview} />
            </>
          )
        }
      </QueryState>
      <div className="ov-grid">
        <Trend cluster={cluster} />
        <Panel title="Namespaces, worst first" id="ov-ns-h" className="ov-ns">
          <QueryState q={q} what="namespaces">
            {(d) => <Namespaces rows={d.overview.namespaces} cluster={cluster} />}
          </QueryState>
        </Panel>
        <Incidents cluster={cluster} />
        <Errors cluster={cluster} />
        <Status />
      </div>
    </div>
  );
}

function ScoreHero({ score, cluster }: { score: Score; cluster: string | null }) {
  return (
    <section className="panel ov-hero" aria-label="Cluster score">
      <Link
        to={drillHref({ cluster, scope: 'cluster' })}
        className="ov-overall"
        data-testid="cluster-score"
        aria-label={`Cluster score ${score.overall ?? 'no data'}: drill down`}
      >
        <span className="ov-overall-label">Cluster score</span>
        <ScoreValue score={score.overall} />
        <LevelChip score={score.overall} />
      </Link>
      <ul className="ov-dims" aria-label="Dimensions">
        {DIMENSIONS.map((dim) => (
          <li key={dim}>
            <Link
              to={drillHref({ cluster, scope: 'cluster', dimension: dim })}
              className="ov-dim"
              aria-label={`${DIMENSION_LABEL[dim]} ${score[dim] ?? 'no data'}: drill down`}
            >
              <span className="ov-dim-label">{DIMENSION_LABEL[dim]}</span>
              <ScoreValue score={score[dim]} />
              <LevelChip score={score[dim]} />
            </Link>
          </li>
        ))}
      </ul>
      {score.healthy ? <p className="ov-healthy">Observed and healthy: no deductions.</p> : null}
    </section>
  );
}

function Counts({ o }: { o: OverviewData['overview'] }) {
  const items: [string, string, number, string | null][] = [
    [
      '/incidents',
      'Open incidents',
      o.openIncidents,
      o.criticalIncidents ? `${o.criticalIncidents} critical` : null,
    ],
    [
      '/errors',
      'Open error groups',
      o.openErrorGroups,
      o.spikingErrorGroups ? `${o.spikingErrorGroups} spiking` : null,
    ],
    ['/anomalies', 'Active anomalies', o.activeAnomalies, null],
    [
      '/recommendations',
      'Open recommendations',
      o.openRecommendations,
      o.monthlySavings > 0 ? `$${o.monthlySavings.toFixed(0)}/month to save` : null,
    ],
  ];
  return (
    <ul className="ov-counts" aria-label="Open problems">
      {items.map(([to, label, n, note]) => (
        <li key={to}>
          <Link to={to} className="ov-count">
            <span className="ov-count-n">{n}</span> <span>{label}</span>
            {note ? <span className="ov-count-note">{note}</span> : null}
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Trend({ cluster }: { cluster: string | null }) {
  const q = useGql<{ scoreHistory: { totalCount: number; nodes: Change[] } }>(
    'ov-trend',
    TREND,
    cluster ? { cluster } : {},
  );
  const chart = useMemo(() => {
    const nodes = q.data?.scoreHistory.nodes ?? [];
    // Oldest first; the last value at each instant (several changes can share an event time).
    const byTs = new Map<number, number | null>();
    for (const n of [...nodes].reverse()) byTs.set(Math.floor(Date.parse(n.ts) / 1000), n.overallTo);
    const x = [...byTs.keys()].sort((a, b) => a - b);
    return { x, series: [{ label: 'Cluster score', values: x.map((t) => byTs.get(t) ?? null) }] };
  }, [q.data]);
  return (
    <Panel title="Trend and what changed" id="ov-trend-h" className="ov-trend">
      <QueryState q={q} what="the score history">
        {(d) =>
          d.scoreHistory.nodes.length === 0 ? (
            <Empty>No changes yet: the cluster score has not moved.</Empty>
          ) : (
            <>
              {chart.x.length > 1 ? (
                <TimeChart
                  x={chart.x}
                  series={chart.series}
                  height={180}
                  title="Cluster score over event time"
                />
              ) : null}
              <h3 className="dash-sub">Latest changes</h3>
              <ol className="ov-changes">
                {d.scoreHistory.nodes.slice(0, 6).map((c, i) => (
                  <li key={`${c.ts}-${i}`}>
                    <span className={`ov-delta ${(c.overallDelta ?? 0) < 0 ? 'down' : 'up'}`}>
                      {signed(c.overallDelta)}
                    </span>{' '}
                    <EventAt at={c.ts} /> → {c.overallTo ?? '—'}
                    <ul>
                      <Causes change={c} />
                    </ul>
                  </li>
                ))}
              </ol>
              <p className="muted">
                {d.scoreHistory.totalCount} changes in all;{' '}
                <Link to={drillHref({ cluster, scope: 'cluster' })}>drill into the score</Link>.
              </p>
            </>
          )
        }
      </QueryState>
    </Panel>
  );
}

/** A change's causes: the first three (each cut at 160 characters), then how many more. */
function Causes({ change }: { change: Change }) {
  const all = change.dimensions.flatMap((dim) =>
    dim.causes.map((cause) => ({ dim: dim.dimension, ...cause })),
  );
  return (
    <>
      {all.slice(0, 3).map((cause, j) => (
        <li key={j} title={cause.cause.length > 160 ? cause.cause : undefined}>
          <span className="muted">{cause.dim}</span> {signed(cause.delta)}:{' '}
          {cause.cause.length > 160 ? `${cause.cause.slice(0, 159)}…` : cause.cause}
        </li>
      ))}
      {all.length > 3 ? <li className="muted">and {all.length - 3} more (see the drill-down)</li> : null}
    </>
  );
}

function Namespaces({ rows, cluster }: { rows: Score[]; cluster: string | null }) {
  if (rows.length === 0) return <Empty>No namespaces scored yet.</Empty>;
  const sorted = [...rows].sort(
    (a, b) => (a.overall ?? 101) - (b.overall ?? 101) || a.scope.localeCompare(b.scope),
  );
  return (
    <div className="dash-table-wrap">
      <table className="dash-table">
        <caption className="visually-hidden">Namespaces by overall score, lowest first</caption>
        <thead>
          <tr>
            <th scope="col">Namespace</th>
            <th scope="col">Overall</th>
            {DIMENSIONS.map((d) => (
              <th scope="col" key={d} className="dash-hide-narrow">
                {DIMENSION_LABEL[d]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((s) => (
            <tr key={s.scope}>
              <th scope="row">
                <Link
                  to={drillHref({ cluster, scope: s.scope })}
                  aria-label={`${scopeLabel(s.scope)}: drill down`}
                >
                  {s.namespace ?? s.scope}
                </Link>
              </th>
              <td>
                <ScoreValue score={s.overall} /> <LevelChip score={s.overall} />
              </td>
              {DIMENSIONS.map((d) => (
                <td key={d} className="dash-hide-narrow">
                  <Link
                    to={drillHref({ cluster, scope: s.scope, dimension: d })}
                    className="ov-score-link"
                    aria-label={`${s.namespace ?? s.scope} ${DIMENSION_LABEL[d]} ${s[d] ?? 'no data'}: drill down`}
                  >
                    <ScoreValue score={s[d]} />
                  </Link>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface IncidentRow {
  id: string;
  title: string;
  severity: string;
  status: string;
  openedAt: string;
  namespaces: string[];
  rca: { summary: string; category: string; confidence: number } | null;
}

function Incidents({ cluster }: { cluster: string | null }) {
  const q = useGql<{ incidents: { totalCount: number; nodes: IncidentRow[] } }>(
    'ov-incidents',
    INCIDENTS,
    cluster ? { cluster } : {},
  );
  return (
    <Panel
      title="Open incidents"
      id="ov-inc-h"
      className="ov-incidents"
      actions={<Link to="/incidents">All incidents</Link>}
    >
      <QueryState q={q} what="incidents">
        {(d) =>
          d.incidents.nodes.length === 0 ? (
            <Empty>No open incidents.</Empty>
          ) : (
            <ul className="ov-list" data-testid="overview-incidents">
              {d.incidents.nodes.map((i) => (
                <li key={i.id}>
                  <Chip tone={severityTone(i.severity)}>{i.severity}</Chip>{' '}
                  <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link>
                  <div className="muted ov-meta">
                    opened <EventAt at={i.openedAt} /> · {i.status}
                    {i.namespaces.length ? ` · ${i.namespaces.join(', ')}` : ''}
                  </div>
                  {i.rca ? (
                    <p className="ov-why">
                      <strong>Why:</strong> {i.rca.summary}{' '}
                      <span className="muted">({Math.round(i.rca.confidence * 100)} % confidence)</span>
                    </p>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
    </Panel>
  );
}

interface ErrorRow {
  id: string;
  title: string;
  namespace: string;
  workload: string;
  level: string;
  count: number;
  count1h: number;
  spike: boolean;
  lastSeen: string;
  sparkline: number[];
}

function Errors({ cluster }: { cluster: string | null }) {
  const q = useGql<{ errorGroups: { totalCount: number; nodes: ErrorRow[] } }>(
    'ov-errors',
    ERRORS,
    cluster ? { cluster } : {},
  );
  return (
    <Panel
      title="Top error groups"
      id="ov-err-h"
      className="ov-errors"
      actions={<Link to="/errors">All error groups</Link>}
    >
      <QueryState q={q} what="error groups">
        {(d) =>
          d.errorGroups.nodes.length === 0 ? (
            <Empty>No open error groups.</Empty>
          ) : (
            <ul className="ov-list">
              {d.errorGroups.nodes.map((g) => (
                <li key={g.id}>
                  <Chip
                    tone={severityTone(g.level === 'fatal' || g.level === 'panic' ? 'critical' : g.level)}
                  >
                    {g.level}
                  </Chip>{' '}
                  <Link to={`/errors/${encodeURIComponent(g.id)}`}>{g.title}</Link>
                  {g.spike ? <Chip tone="high">spiking</Chip> : null}
                  <div className="muted ov-meta">
                    {g.namespace}/{g.workload} · {g.count} in all · last <EventAt at={g.lastSeen} />{' '}
                    <Sparkline values={g.sparkline} label="Occurrences per bucket" />
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
    </Panel>
  );
}

interface StatusData {
  llm: {
    available: boolean;
    budget: { day: string; used: number; limit: number; remaining: number; exhausted: boolean } | null;
    recorded: number;
    failed: number;
    refused: number;
    pending: number;
    recent: {
      key: string;
      subjectKind: string;
      subjectId: string;
      status: string | null;
      answeredAt: string | null;
      requestedAt: string | null;
      model: string | null;
      reason: string | null;
      message: string | null;
      incident: { summary: string | null } | null;
      errorGroup: { rootCause: string | null; fix: string | null } | null;
      answer: { question: string | null; answer: string | null } | null;
    }[];
  };
  pipeline: {
    log: string;
    groups: { name: string; kind: string; lag: number; caughtUp: boolean }[];
    deadLetters: { total: number };
  };
}

function subjectHref(kind: string, id: string): string {
  return kind === 'incident' ? `/incidents/${encodeURIComponent(id)}` : `/errors/${encodeURIComponent(id)}`;
}

function Status() {
  const q = useGql<StatusData>('ov-status', STATUS, {}, { refetchInterval: 15_000 });
  return (
    <>
      <Panel title="Latest AI insights" id="ov-ai-h" className="ov-ai">
        <QueryState q={q} what="AI insights">
          {(d) =>
            d.llm.recent.length === 0 ? (
              <Empty>
                No LLM analyses yet.{' '}
                {d.llm.budget === null
                  ? 'The LLM second opinion is optional: set HETU_LLM_BASE_URL and HETU_LLM_MODEL before hetu start; root causes come from the deterministic RCA meanwhile (see each incident).'
                  : null}{' '}
                <Link to="/settings">Settings</Link>
              </Empty>
            ) : (
              <ul className="ov-list">
                {d.llm.recent.map((a) => (
                  <li key={a.key}>
                    <Chip tone={a.status === 'recorded' ? 'ok' : a.status === 'failed' ? 'critical' : 'none'}>
                      {a.status ?? 'pending'}
                    </Chip>{' '}
                    <Link to={subjectHref(a.subjectKind, a.subjectId)}>
                      {a.subjectKind} {a.subjectId}
                    </Link>
                    <p className="ov-why">
                      {a.incident?.summary ??
                        a.errorGroup?.rootCause ??
                        a.answer?.answer ??
                        a.message ??
                        a.reason ??
                        'No text.'}
                    </p>
                    <div className="muted ov-meta">
                      {a.model ? `${a.model} · ` : ''}
                      <EventAt at={a.answeredAt ?? a.requestedAt} />
                    </div>
                  </li>
                ))}
              </ul>
            )
          }
        </QueryState>
      </Panel>
      <Panel
        title="Pipeline"
        id="ov-pipe-h"
        className="ov-pipeline"
        actions={<Link to="/settings">Status</Link>}
      >
        <QueryState q={q} what="the pipeline status">
          {(d) => {
            const lag = d.pipeline.groups.reduce((a, g) => a + g.lag, 0);
            const behind = d.pipeline.groups.filter((g) => !g.caughtUp);
            const b = d.llm.budget;
            return (
              <dl className="dash-facts" data-testid="pipeline-status">
                <dt>Lag</dt>
                <dd>
                  {lag} records{' '}
                  {behind.length === 0 ? (
                    <Chip tone="ok">caught up</Chip>
                  ) : (
                    <Chip tone="degraded">{behind.map((g) => `${g.kind} ${g.name}`).join(', ')} behind</Chip>
                  )}
                </dd>
                <dt>Dead letters</dt>
                <dd>
                  {d.pipeline.deadLetters.total}{' '}
                  {d.pipeline.deadLetters.total > 0 ? <Link to="/settings#dead-letters">see why</Link> : null}
                </dd>
                <dt>LLM budget</dt>
                <dd>
                  {b ? (
                    <>
                      {b.used.toLocaleString('en')} of {b.limit.toLocaleString('en')} tokens used on {b.day}
                      {b.exhausted ? (
                        <>
                          {' '}
                          <Chip tone="critical">exhausted</Chip>
                        </>
                      ) : null}
                    </>
                  ) : (
                    <span className="muted">no LLM calls today</span>
                  )}
                </dd>
                <dt>Log</dt>
                <dd>{d.pipeline.log}</dd>
              </dl>
            );
          }}
        </QueryState>
      </Panel>
    </>
  );
}
