/**
 * Drill-down (issue F, SPEC §3): from any score to the observations that made it count, in five
 * levels, all in the URL so every step can be linked:
 *
 *   /drill?scope=cluster                                 1. the scope's score, dimensions, changes
 *   &dimension=reliability                               2. the dimension's rules (points, count, severity)
 *   &rule=crashloop-pods[&ns=shop]                       3. the rule's resources (share, status, detail)
 *   &resource=Pod/shop/api-x2                            4. the resource's impact on every rule, with remediation
 *   &evidence=crashloop-pods                             5. the observations (time, excerpt, log position)
 *
 * `scope` is `cluster`, `namespace:<ns>` or `workload:<ns>/<Kind>/<name>`; `cluster=` picks a cluster
 * when the projections hold several.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Chip, Empty, LevelChip, QueryState, ScoreValue } from '../components/common.tsx';
import {
  DIMENSIONS,
  DIMENSION_LABEL,
  EventAt,
  Panel,
  drillHref,
  isDimension,
  parseResourceKey,
  resourceKey,
  scopeLabel,
  severityTone,
  signed,
  type DimensionName,
  type DrillState,
} from '../components/dash.tsx';
import { useGql, useLive } from '../lib/graphql.ts';

interface RuleRow {
  dimension: string;
  rule: string;
  title: string;
  severity: string;
  points: number;
  count: number;
  perItem: number;
  cap: number;
  totalResources: number;
}

interface ScopeData {
  score: {
    scope: string;
    scopeType: string;
    overall: number | null;
    level: string | null;
    reliability: number | null;
    security: number | null;
    cost: number | null;
    architecture: number | null;
    noData: boolean;
    healthy: boolean;
    ts: string;
    dimensions: { dimension: string; score: number | null; points: number; rules: RuleRow[] }[];
    history: {
      ts: string;
      overallFrom: number | null;
      overallTo: number | null;
      overallDelta: number | null;
      dimensions: { dimension: string; delta: number | null; causes: { delta: number; cause: string }[] }[];
    }[];
  } | null;
}

const RULE_FIELDS = 'dimension rule title severity points count perItem cap totalResources';

const SCOPE = /* GraphQL */ `
  query DrillScope($cluster: String, $scope: String!) {
    score(cluster: $cluster, scope: $scope) {
      scope scopeType overall level reliability security cost architecture noData healthy ts
      dimensions { dimension score points rules { ${RULE_FIELDS} } }
      history(first: 8) {
        ts overallFrom overallTo overallDelta
        dimensions { dimension delta causes { delta cause } }
      }
    }
  }
`;

const SCOPES = /* GraphQL */ `
  query DrillScopes($cluster: String) {
    scores(cluster: $cluster, first: 500) {
      nodes {
        scope
        scopeType
        overall
      }
    }
  }
`;

interface ResourceRow {
  kind: string;
  namespace: string | null;
  name: string;
  status: string;
  detail: string;
  share: number;
}

const RESOURCES = /* GraphQL */ `
  query DrillResources($cluster: String, $scope: String!, $dimension: Dimension, $ns: String) {
    score(cluster: $cluster, scope: $scope) {
      scope
      rules(dimension: $dimension) {
        ${RULE_FIELDS}
        resources(namespace: $ns, first: 500) { kind namespace name status detail share }
      }
    }
  }
`;

interface Evidence {
  ts: string;
  excerpt: string;
  topic: string;
  partition: number;
  offset: string;
}

interface Impact {
  cluster: string;
  scope: string;
  dimension: string;
  rule: string;
  title: string;
  severity: string;
  share: number;
  points: number;
  count: number;
  status: string;
  detail: string;
  remediation: string | null;
  evidence: Evidence[];
}

const IMPACT = /* GraphQL */ `
  query DrillImpact($cluster: String, $kind: String!, $namespace: String, $name: String!) {
    impact(cluster: $cluster, kind: $kind, namespace: $namespace, name: $name) {
      cluster
      scope
      dimension
      rule
      title
      severity
      share
      points
      count
      status
      detail
      remediation
      evidence {
        ts
        excerpt
        topic
        partition
        offset
      }
    }
  }
`;

const SCORE_CHANGED = /* GraphQL */ `
  subscription ($cluster: String, $scope: String) {
    scoreChanged(cluster: $cluster, scope: $scope) {
      scope
    }
  }
`;

export default function Drill() {
  const [params] = useSearchParams();
  const state: DrillState = {
    cluster: params.get('cluster'),
    scope: params.get('scope') ?? 'cluster',
    dimension: params.get('dimension'),
    rule: params.get('rule'),
    ns: params.get('ns'),
    resource: params.get('resource'),
  };
  const evidence = params.get('evidence');
  const dimParam = state.dimension ?? null;
  const dimension: DimensionName | null = isDimension(dimParam) ? dimParam : null;
  const resource = parseResourceKey(state.resource ?? null);
  const level = evidence && resource ? 5 : resource ? 4 : state.rule ? 3 : dimension ? 2 : 1;
  const vars = { ...(state.cluster ? { cluster: state.cluster } : {}), scope: state.scope! };
  useLive(SCORE_CHANGED, vars, [['dr-scope'], ['dr-resources'], ['dr-impact']]);
  // Focus the new level's heading when the level changes, so keyboard and screen-reader users follow.
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [level, state.scope]);
  const title =
    level === 1
      ? `Score of the ${scopeLabel(state.scope!)}`
      : level === 2
        ? `${DIMENSION_LABEL[dimension!]} rules in the ${scopeLabel(state.scope!)}`
        : level === 3
          ? `Resources behind the rule ${state.rule}`
          : level === 4
            ? `Impact of ${resource!.kind} ${resource!.namespace ? `${resource!.namespace}/` : ''}${resource!.name}`
            : `Evidence: ${resource!.name} under ${evidence}`;
  return (
    <div className="dr">
      <div className="dash-title">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        <ScopePicker state={state} />
      </div>
      <Crumbs state={state} dimension={dimension} evidence={evidence} />
      {level === 1 ? <ScopeLevel state={state} /> : null}
      {level === 2 ? <DimensionLevel state={state} dimension={dimension!} /> : null}
      {level === 3 ? <RuleLevel state={state} dimension={dimension} /> : null}
      {level >= 4 && resource ? (
        <ResourceLevel state={state} resource={resource} evidence={evidence} />
      ) : null}
    </div>
  );
}

function ScopePicker({ state }: { state: DrillState }) {
  const q = useGql<{ scores: { nodes: { scope: string; scopeType: string; overall: number | null }[] } }>(
    'dr-scopes',
    SCOPES,
    state.cluster ? { cluster: state.cluster } : {},
  );
  const nodes = q.data?.scores.nodes ?? [];
  const current = state.scope ?? 'cluster';
  const options = nodes.some((n) => n.scope === current)
    ? nodes
    : [{ scope: current, scopeType: '', overall: null }, ...nodes];
  return (
    <form className="dash-field" onSubmit={(e) => e.preventDefault()}>
      <label htmlFor="dr-scope">Scope</label>
      <ScopeSelect state={state} options={options.map((n) => n.scope)} current={current} />
    </form>
  );
}

function ScopeSelect({ state, options, current }: { state: DrillState; options: string[]; current: string }) {
  const [, setParams] = useSearchParams();
  return (
    <select
      id="dr-scope"
      value={current}
      onChange={(e) => {
        const next = new URLSearchParams();
        if (state.cluster) next.set('cluster', state.cluster);
        next.set('scope', e.target.value);
        if (state.dimension) next.set('dimension', state.dimension);
        setParams(next);
      }}
    >
      {options.map((s) => (
        <option key={s} value={s}>
          {scopeLabel(s)}
        </option>
      ))}
    </select>
  );
}

function Crumbs({
  state,
  dimension,
  evidence,
}: {
  state: DrillState;
  dimension: string | null;
  evidence: string | null;
}) {
  const base = { cluster: state.cluster, scope: state.scope };
  const items: [string, ReactNode][] = [[drillHref(base), `Score: ${scopeLabel(state.scope ?? 'cluster')}`]];
  if (dimension) items.push([drillHref({ ...base, dimension }), DIMENSION_LABEL[dimension as 'cost']]);
  if (state.rule)
    items.push([drillHref({ ...base, dimension, rule: state.rule, ns: state.ns }), `Rule ${state.rule}`]);
  const r = parseResourceKey(state.resource ?? null);
  if (r) items.push([drillHref(state), `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`]);
  if (evidence && r) items.push([`${drillHref(state)}&evidence=${encodeURIComponent(evidence)}`, 'Evidence']);
  return (
    <nav aria-label="Drill-down levels" className="dr-crumbs">
      <ol>
        {items.map(([href, label], i) => (
          <li key={href}>
            {i === items.length - 1 ? (
              <span aria-current="page">{label}</span>
            ) : (
              <Link to={href}>{label}</Link>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

function ScopeLevel({ state }: { state: DrillState }) {
  const q = useGql<ScopeData>('dr-scope', SCOPE, {
    ...(state.cluster ? { cluster: state.cluster } : {}),
    scope: state.scope,
  });
  return (
    <QueryState q={q} what="the score">
      {(d) => {
        const s = d.score;
        if (!s)
          return (
            <Empty>
              No score for the {scopeLabel(state.scope ?? 'cluster')}: hetu has observed nothing there (yet).
              Pick another scope above.
            </Empty>
          );
        return (
          <>
            <section className="panel ov-hero" aria-label="Score">
              <div className="ov-overall" data-testid="drill-overall">
                <span className="ov-overall-label">Overall</span>
                <ScoreValue score={s.overall} />
                <LevelChip score={s.overall} />
              </div>
              <ul className="ov-dims" aria-label="Dimensions">
                {DIMENSIONS.map((dim) => {
                  const dd = s.dimensions.find((x) => x.dimension === dim);
                  return (
                    <li key={dim}>
                      <Link
                        to={drillHref({ ...state, dimension: dim, rule: null, resource: null, ns: null })}
                        className="ov-dim"
                        aria-label={`${DIMENSION_LABEL[dim]} ${s[dim] ?? 'no data'}, ${dd?.rules.length ?? 0} rules: drill down`}
                      >
                        <span className="ov-dim-label">{DIMENSION_LABEL[dim]}</span>
                        <ScoreValue score={s[dim]} />
                        <span className="muted">
                          {signed(dd?.points ?? 0)} pts · {dd?.rules.length ?? 0} rules
                        </span>
                      </Link>
                    </li>
                  );
                })}
              </ul>
              <p className="muted dr-ts">
                computed at <EventAt at={s.ts} withDate />
                {s.healthy ? ' · observed and healthy: no deductions' : ''}
              </p>
            </section>
            <div className="dr-grid">
              <Panel title="Every deduction" id="dr-all-h">
                <RulesTable
                  rules={s.dimensions.flatMap((dd) => dd.rules)}
                  state={state}
                  showDimension
                  empty="No rule deducts points here."
                />
              </Panel>
              <Panel title="Recent changes" id="dr-hist-h">
                {s.history.length === 0 ? (
                  <Empty>The score has not changed since it was first computed.</Empty>
                ) : (
                  <ol className="ov-changes">
                    {s.history.map((c, i) => (
                      <li key={`${c.ts}-${i}`}>
                        <span className={`ov-delta ${(c.overallDelta ?? 0) < 0 ? 'down' : 'up'}`}>
                          {signed(c.overallDelta)}
                        </span>{' '}
                        <EventAt at={c.ts} /> → {c.overallTo ?? '—'}
                        <ul>
                          {c.dimensions.flatMap((dd) =>
                            dd.causes.map((cause, j) => (
                              <li key={`${dd.dimension}-${j}`}>
                                <span className="muted">{dd.dimension}</span> {signed(cause.delta)}:{' '}
                                {cause.cause}
                              </li>
                            )),
                          )}
                        </ul>
                      </li>
                    ))}
                  </ol>
                )}
              </Panel>
            </div>
          </>
        );
      }}
    </QueryState>
  );
}

function RulesTable({
  rules,
  state,
  showDimension,
  empty,
}: {
  rules: RuleRow[];
  state: DrillState;
  showDimension?: boolean;
  empty: string;
}) {
  if (rules.length === 0) return <Empty>{empty}</Empty>;
  const sorted = [...rules].sort((a, b) => a.points - b.points || a.rule.localeCompare(b.rule));
  return (
    <div className="dash-table-wrap">
      <table className="dash-table" data-testid="drill-rules">
        <caption className="visually-hidden">Rules that deduct points, most points first</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            {showDimension ? (
              <th scope="col" className="dash-hide-narrow">
                Dimension
              </th>
            ) : null}
            <th scope="col">Severity</th>
            <th scope="col" className="num">
              Points
            </th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col" className="num dash-hide-narrow">
              Per item / cap
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={`${r.dimension}-${r.rule}`}>
              <th scope="row">
                <Link
                  to={drillHref({ ...state, dimension: r.dimension, rule: r.rule, resource: null, ns: null })}
                >
                  {r.title}
                </Link>
                <div className="muted dr-id">{r.rule}</div>
              </th>
              {showDimension ? <td className="dash-hide-narrow">{r.dimension}</td> : null}
              <td>
                <Chip tone={severityTone(r.severity)}>{r.severity}</Chip>
              </td>
              <td className="num">{signed(r.points)}</td>
              <td className="num">{r.count}</td>
              <td className="num dash-hide-narrow">
                {signed(-Math.abs(r.perItem))} / {signed(-Math.abs(r.cap))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DimensionLevel({ state, dimension }: { state: DrillState; dimension: string }) {
  const q = useGql<ScopeData>('dr-scope', SCOPE, {
    ...(state.cluster ? { cluster: state.cluster } : {}),
    scope: state.scope,
  });
  return (
    <QueryState q={q} what="the rules">
      {(d) => {
        const dd = d.score?.dimensions.find((x) => x.dimension === dimension);
        if (!d.score || !dd)
          return <Empty>No score for the {scopeLabel(state.scope ?? 'cluster')} yet.</Empty>;
        return (
          <Panel
            title={`${DIMENSION_LABEL[dimension as 'cost']}: ${dd.score ?? '—'} (${signed(dd.points)} points)`}
            id="dr-dim-h"
          >
            <RulesTable
              rules={dd.rules}
              state={state}
              empty={`No ${dimension} rule deducts points in the ${scopeLabel(state.scope ?? 'cluster')}.`}
            />
          </Panel>
        );
      }}
    </QueryState>
  );
}

function RuleLevel({ state, dimension }: { state: DrillState; dimension: string | null }) {
  const [, setParams] = useSearchParams();
  const q = useGql<{ score: { scope: string; rules: (RuleRow & { resources: ResourceRow[] })[] } | null }>(
    'dr-resources',
    RESOURCES,
    {
      ...(state.cluster ? { cluster: state.cluster } : {}),
      scope: state.scope,
      ...(dimension ? { dimension } : {}),
      ...(state.ns ? { ns: state.ns } : {}),
    },
  );
  const all = useGql<{ score: { rules: (RuleRow & { resources: ResourceRow[] })[] } | null }>(
    'dr-resources',
    RESOURCES,
    {
      ...(state.cluster ? { cluster: state.cluster } : {}),
      scope: state.scope,
      ...(dimension ? { dimension } : {}),
    },
  );
  const namespaces = [
    ...new Set(
      (all.data?.score?.rules.find((r) => r.rule === state.rule)?.resources ?? [])
        .map((r) => r.namespace)
        .filter((n): n is string => !!n),
    ),
  ].sort();
  if (state.ns && !namespaces.includes(state.ns)) namespaces.unshift(state.ns);
  return (
    <QueryState q={q} what="the resources">
      {(d) => {
        const rule = d.score?.rules.find((r) => r.rule === state.rule);
        if (!d.score || !rule)
          return (
            <Empty>
              The rule {state.rule} deducts nothing in the {scopeLabel(state.scope ?? 'cluster')} now.{' '}
              <Link to={drillHref({ cluster: state.cluster, scope: state.scope, dimension })}>
                Back to the rules
              </Link>
            </Empty>
          );
        const sorted = [...rule.resources].sort((a, b) => a.share - b.share || a.name.localeCompare(b.name));
        return (
          <Panel
            title={`${rule.title}: ${signed(rule.points)} points, ${rule.count} counted`}
            id="dr-rule-h"
            actions={<Chip tone={severityTone(rule.severity)}>{rule.severity}</Chip>}
          >
            <p className="muted">
              {signed(-Math.abs(rule.perItem))} per item, at most {signed(-Math.abs(rule.cap))}. Each
              resource&apos;s share is the rule&apos;s points ÷ its count.{' '}
              {rule.totalResources > rule.resources.length && !state.ns
                ? `Showing the ${rule.resources.length} the score lists of ${rule.totalResources}.`
                : null}
            </p>
            <form className="dash-field dr-filter" onSubmit={(e) => e.preventDefault()}>
              <label htmlFor="dr-ns">Namespace</label>
              <select
                id="dr-ns"
                value={state.ns ?? ''}
                onChange={(e) => {
                  const next = new URLSearchParams();
                  for (const [k, v] of Object.entries({ ...state, ns: e.target.value || null }))
                    if (v) next.set(k, v);
                  setParams(next);
                }}
              >
                <option value="">All namespaces</option>
                {namespaces.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </form>
            {sorted.length === 0 ? (
              <Empty>No resource of this rule in namespace {state.ns}.</Empty>
            ) : (
              <div className="dash-table-wrap">
                <table className="dash-table" data-testid="drill-resources">
                  <caption className="visually-hidden">
                    Resources behind the rule, largest share first
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Resource</th>
                      <th scope="col" className="num">
                        Share
                      </th>
                      <th scope="col">Status</th>
                      <th scope="col">Detail</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sorted.map((r) => (
                      <tr key={resourceKey(r)}>
                        <th scope="row">
                          <Link
                            to={drillHref({ ...state, dimension: rule.dimension, resource: resourceKey(r) })}
                          >
                            {r.namespace ? `${r.namespace}/` : ''}
                            {r.name}
                          </Link>
                          <div className="muted dr-id">{r.kind}</div>
                        </th>
                        <td className="num">{signed(r.share, 2)}</td>
                        <td>
                          <Chip>{r.status}</Chip>
                        </td>
                        <td className="dr-detail">{r.detail}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Panel>
        );
      }}
    </QueryState>
  );
}

function ResourceLevel({
  state,
  resource,
  evidence,
}: {
  state: DrillState;
  resource: { kind: string; namespace: string | null; name: string };
  evidence: string | null;
}) {
  const q = useGql<{ impact: Impact[] }>('dr-impact', IMPACT, {
    ...(state.cluster ? { cluster: state.cluster } : {}),
    kind: resource.kind,
    ...(resource.namespace ? { namespace: resource.namespace } : {}),
    name: resource.name,
  });
  return (
    <QueryState q={q} what="the resource's impact">
      {(d) => {
        if (d.impact.length === 0)
          return (
            <Empty>
              {resource.kind} {resource.name} counts in no rule now: it may have recovered.{' '}
              <Link to={drillHref({ ...state, resource: null })}>Back to the rule</Link>
            </Empty>
          );
        // One rule per row; its scopes (workload, namespace, cluster) as a list.
        const byRule = new Map<string, Impact[]>();
        for (const i of d.impact) byRule.set(i.rule, [...(byRule.get(i.rule) ?? []), i]);
        if (evidence) {
          const rows = byRule.get(evidence);
          if (!rows)
            return (
              <Empty>
                {resource.name} does not count under {evidence} now.{' '}
                <Link to={drillHref(state)}>Back to its impact</Link>
              </Empty>
            );
          return <EvidenceLevel impact={rows[0]!} />;
        }
        return (
          <Panel title="Every rule it counts in, with what to do" id="dr-impact-h">
            <ul className="dr-impacts" data-testid="drill-impact">
              {[...byRule.entries()].map(([rule, rows]) => {
                const first = rows[0]!;
                return (
                  <li key={rule} className="dr-impact">
                    <h3>
                      {first.title} <Chip tone={severityTone(first.severity)}>{first.severity}</Chip>
                    </h3>
                    <p className="muted">
                      {first.dimension} · {first.status} · {first.detail}
                    </p>
                    <table className="dash-table dr-scopes">
                      <caption className="visually-hidden">Its share of the rule at each scope</caption>
                      <thead>
                        <tr>
                          <th scope="col">Scope</th>
                          <th scope="col" className="num">
                            Its share
                          </th>
                          <th scope="col" className="num">
                            Rule points
                          </th>
                          <th scope="col" className="num">
                            Count
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {rows.map((r) => (
                          <tr key={r.scope}>
                            <th scope="row">
                              <Link
                                to={drillHref({
                                  cluster: state.cluster,
                                  scope: r.scope,
                                  dimension: r.dimension,
                                  rule: r.rule,
                                })}
                              >
                                {scopeLabel(r.scope)}
                              </Link>
                            </th>
                            <td className="num">{signed(r.share, 2)}</td>
                            <td className="num">{signed(r.points)}</td>
                            <td className="num">{r.count}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                    {first.remediation ? (
                      <div className="dr-remedy">
                        <strong>What to do:</strong> <Remediation text={first.remediation} />
                      </div>
                    ) : (
                      <p className="muted">No remediation hint (the API runs without rule hints).</p>
                    )}
                    <Link
                      to={`${drillHref(state)}&evidence=${encodeURIComponent(rule)}`}
                      className="dr-evidence-link"
                    >
                      Evidence ({first.evidence.length} observation{first.evidence.length === 1 ? '' : 's'})
                    </Link>
                  </li>
                );
              })}
            </ul>
          </Panel>
        );
      }}
    </QueryState>
  );
}

/** A remediation paragraph: `code` spans as <code>. */
function Remediation({ text }: { text: string }) {
  const parts = text.split('`');
  return <>{parts.map((p, i) => (i % 2 === 1 ? <code key={i}>{p}</code> : <span key={i}>{p}</span>))}</>;
}

function EvidenceLevel({ impact }: { impact: Impact }) {
  const rows = [...impact.evidence].sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  return (
    <Panel title={`Why it counts under ${impact.title}`} id="dr-ev-h">
      <p className="muted">
        {impact.status} · {impact.detail}. The observations that made it count, newest first, with their place
        in the log.
      </p>
      {rows.length === 0 ? (
        <Empty>No observation is kept for this rule (derived from other facts, e.g. a recommendation).</Empty>
      ) : (
        <ol className="dr-evidence" data-testid="drill-evidence">
          {rows.map((e) => (
            <li key={`${e.topic}-${e.partition}-${e.offset}`}>
              <div className="dr-ev-head">
                <EventAt at={e.ts} withDate />{' '}
                <span className="muted">
                  {e.topic} · partition {e.partition} · offset {e.offset}
                </span>
              </div>
              <pre className="dr-excerpt">{e.excerpt}</pre>
            </li>
          ))}
        </ol>
      )}
    </Panel>
  );
}
