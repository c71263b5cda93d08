/**
 * Recommendations (issue F): the summary (open, monthly savings, by type), then each one with
 * current vs suggested, its YAML patch (copy) and accept / dismiss. URL: `?status=open|accepted|
 * dismissed|applied|all`, `&type=…`, `&severity=high,medium,low`, `&q=…`.
 */
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { toggled, withParams } from '../lib/url.ts';
import { Empty, QueryState } from '../components/common.tsx';
import { RecommendationCard, type RecommendationData } from '../components/recommendations-card.tsx';
import { useGql } from '../lib/graphql.ts';

const STATUSES: [string, string, string[] | null][] = [
  ['open', 'Open', ['open']],
  ['accepted', 'Accepted', ['accepted']],
  ['dismissed', 'Dismissed', ['dismissed']],
  ['applied', 'Applied', ['applied']],
  ['all', 'All', null],
];
const SEVERITIES = ['high', 'medium', 'low'];

const QUERY = /* GraphQL */ `
  query Recommendations($filter: RecommendationFilter) {
    recommendationSummary {
      total
      open
      monthlySavings
      byType {
        key
        count
        open
        monthlySavings
      }
      byStatus {
        key
        count
      }
    }
    recommendations(filter: $filter, first: 200) {
      totalCount
      nodes {
        id
        type
        severity
        title
        rationale
        patch
        command
        status
        statusChangedAt
        createdAt
        updatedAt
        closedAt
        target {
          kind
          namespace
          name
          container
        }
        savings {
          monthly
          cpuCores
          memoryBytes
          replicas
        }
        evidence {
          from
          to
          samples
          values {
            name
            value
          }
        }
      }
    }
  }
`;

interface Count {
  key: string;
  count: number;
  open?: number;
  monthlySavings?: number;
}
interface Data {
  recommendationSummary: {
    total: number;
    open: number;
    monthlySavings: number;
    byType: Count[];
    byStatus: Count[];
  };
  recommendations: { totalCount: number; nodes: RecommendationData[] };
}

const money = (v: number) => v.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export default function Recommendations() {
  const [params, setParams] = useSearchParams();
  const status = STATUSES.find(([k]) => k === params.get('status')) ?? STATUSES[0]!;
  const type = params.get('type') ?? '';
  const severity = (params.get('severity') ?? '').split(',').filter((s) => SEVERITIES.includes(s));
  const search = params.get('q') ?? '';
  const [draft, setDraft] = useState(search);

  const filter: Record<string, unknown> = {};
  if (status[2]) filter.status = status[2];
  if (type) filter.type = [type];
  if (severity.length) filter.severity = severity;
  if (search) filter.search = search;
  const q = useGql<Data>('recommendations', QUERY, { filter });

  const link = (changes: Record<string, string | null>) => withParams(params, changes);
  const update = (changes: Record<string, string | null>) =>
    setParams(new URLSearchParams(link(changes).slice(1)));
  const toggleSeverity = (s: string) => update({ severity: toggled(severity, s, SEVERITIES) });

  return (
    <section className="rec-page" aria-labelledby="rec-title-h">
      <h1 id="rec-title-h">Recommendations</h1>
      <QueryState q={q} what="recommendations">
        {(data) => {
          const sum = data.recommendationSummary;
          const byStatus = new Map(sum.byStatus.map((c) => [c.key, c.count]));
          return (
            <>
              <div className="rec-summary" aria-label="Summary" role="group">
                <div className="panel rec-stat">
                  <span className="rec-stat-value" data-testid="rec-open">
                    {sum.open}
                  </span>
                  <span className="muted">open (condition still holds)</span>
                </div>
                <div className="panel rec-stat">
                  <span className="rec-stat-value">{money(sum.monthlySavings)}</span>
                  <span className="muted">
                    monthly savings if applied
                    {sum.monthlySavings === 0 ? ' (configure CPU and memory prices to see savings)' : ''}
                  </span>
                </div>
                <div className="panel rec-stat rec-bytype">
                  <table>
                    <caption>By type</caption>
                    <thead>
                      <tr>
                        <th scope="col">Type</th>
                        <th scope="col">Open</th>
                        <th scope="col">All</th>
                        <th scope="col">Savings / month</th>
                      </tr>
                    </thead>
                    <tbody>
                      {sum.byType.map((c) => (
                        <tr key={c.key}>
                          <th scope="row">
                            <Link to={link({ type: c.key })}>{c.key}</Link>
                          </th>
                          <td>{c.open}</td>
                          <td>{c.count}</td>
                          <td>{money(c.monthlySavings ?? 0)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>

              <div className="an-filters">
                <nav aria-label="Recommendation status" className="inc-tabs">
                  <ul>
                    {STATUSES.map(([key, label]) => (
                      <li key={key}>
                        <Link
                          to={link({ status: key === 'open' ? null : key })}
                          aria-current={status[0] === key ? 'page' : undefined}
                          className={status[0] === key ? 'inc-tab inc-tab-active' : 'inc-tab'}
                        >
                          {label}
                          <span className="inc-count">
                            {' '}
                            {key === 'all' ? sum.total : (byStatus.get(key) ?? 0)}
                          </span>
                        </Link>
                      </li>
                    ))}
                  </ul>
                </nav>
                <span className="rec-type">
                  <label htmlFor="rec-type">Type</label>{' '}
                  <select
                    id="rec-type"
                    value={type}
                    onChange={(e) => update({ type: e.target.value || null })}
                  >
                    <option value="">any</option>
                    {sum.byType.map((c) => (
                      <option key={c.key} value={c.key}>
                        {c.key}
                      </option>
                    ))}
                  </select>
                </span>
                <fieldset className="inc-severity">
                  <legend>Severity</legend>
                  {SEVERITIES.map((s) => (
                    <label key={s}>
                      <input
                        type="checkbox"
                        checked={severity.includes(s)}
                        onChange={() => toggleSeverity(s)}
                      />{' '}
                      {s}
                    </label>
                  ))}
                </fieldset>
                <form
                  role="search"
                  className="inc-search"
                  onSubmit={(e: FormEvent) => {
                    e.preventDefault();
                    update({ q: draft.trim() || null });
                  }}
                >
                  <label htmlFor="rec-search">Search</label>
                  <input
                    id="rec-search"
                    type="search"
                    value={draft}
                    placeholder="title, workload"
                    onChange={(e) => setDraft(e.target.value)}
                  />
                  <button type="submit">Search</button>
                </form>
              </div>

              {data.recommendations.nodes.length === 0 ? (
                <Empty>
                  No {status[0] === 'all' ? '' : `${status[0]} `}recommendations
                  {type || severity.length || search ? ' match these filters' : ''}.
                </Empty>
              ) : (
                <div className="rec-list">
                  {data.recommendations.nodes.map((r) => (
                    <RecommendationCard key={r.id} r={r} />
                  ))}
                </div>
              )}
            </>
          );
        }}
      </QueryState>
    </section>
  );
}
