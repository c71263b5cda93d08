/**
 * Incidents (issue F): the list by status, newest opened first, live — a new incident or a status
 * change arrives over the `incidentChanged` subscription and refetches the list (no reload).
 * Filters live in the URL: `?status=active|open|investigating|resolved|dismissed|all`,
 * `&severity=critical,high`, `&q=search`.
 */
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Chip, Empty, QueryState } from '../components/common.tsx';
import { EventTime, severityTone, statusTone } from '../components/incidents-command.tsx';
import { useGql, useLive } from '../lib/graphql.ts';
import { toggled, withParams } from '../lib/url.ts';

const TABS: [string, string, string[] | null][] = [
  ['active', 'Active', ['open', 'investigating']],
  ['open', 'Open', ['open']],
  ['investigating', 'Investigating', ['investigating']],
  ['resolved', 'Resolved', ['resolved']],
  ['dismissed', 'Dismissed', ['dismissed']],
  ['all', 'All', null],
];
const SEVERITIES = ['critical', 'high', 'medium', 'low'];

const LIST = /* GraphQL */ `
  query Incidents($filter: IncidentFilter) {
    incidents(filter: $filter, first: 200) {
      totalCount
      nodes {
        id
        title
        status
        severity
        openedAt
        lastSignalAt
        namespaces
        workloads {
          kind
          namespace
          name
        }
        rca {
          category
          confidence
        }
      }
    }
    active: incidents(filter: { status: [open, investigating] }, first: 1) {
      totalCount
    }
    open: incidents(filter: { status: [open] }, first: 1) {
      totalCount
    }
    investigating: incidents(filter: { status: [investigating] }, first: 1) {
      totalCount
    }
    resolved: incidents(filter: { status: [resolved] }, first: 1) {
      totalCount
    }
    dismissed: incidents(filter: { status: [dismissed] }, first: 1) {
      totalCount
    }
    all: incidents(first: 1) {
      totalCount
    }
  }
`;

const CHANGED = /* GraphQL */ `
  subscription {
    incidentChanged {
      id
    }
  }
`;

interface Row {
  id: string;
  title: string;
  status: string;
  severity: string;
  openedAt: string;
  lastSignalAt: string;
  namespaces: string[];
  workloads: { kind: string; namespace: string; name: string }[];
  rca: { category: string; confidence: number } | null;
}
type Data = { incidents: { totalCount: number; nodes: Row[] } } & Record<string, { totalCount: number }>;

export default function Incidents() {
  const [params, setParams] = useSearchParams();
  const tab = TABS.find(([k]) => k === params.get('status')) ?? TABS[0]!;
  const severity = (params.get('severity') ?? '').split(',').filter((s) => SEVERITIES.includes(s));
  const search = params.get('q') ?? '';
  const [draft, setDraft] = useState(search);

  const filter: Record<string, unknown> = {};
  if (tab[2]) filter.status = tab[2];
  if (severity.length) filter.severity = severity;
  if (search) filter.search = search;
  const q = useGql<Data>('incidents', LIST, { filter });
  useLive(CHANGED, {}, [['incidents']]);

  const update = (key: string, value: string | null) =>
    setParams(new URLSearchParams(withParams(params, { [key]: value }).slice(1)));
  const toggleSeverity = (s: string) => update('severity', toggled(severity, s, SEVERITIES));
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    update('q', draft.trim() || null);
  };

  return (
    <section className="inc-page" aria-labelledby="inc-title">
      <h1 id="inc-title">Incidents</h1>
      <nav aria-label="Incident status" className="inc-tabs">
        <ul>
          {TABS.map(([key, label]) => (
            <li key={key}>
              <Link
                to={`?${new URLSearchParams({ ...Object.fromEntries(params), status: key }).toString()}`}
                aria-current={tab[0] === key ? 'page' : undefined}
                className={tab[0] === key ? 'inc-tab inc-tab-active' : 'inc-tab'}
              >
                {label}
                {q.data ? <span className="inc-count"> {q.data[key]?.totalCount ?? 0}</span> : null}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="inc-filters">
        <fieldset className="inc-severity">
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s}>
              <input type="checkbox" checked={severity.includes(s)} onChange={() => toggleSeverity(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <form role="search" onSubmit={onSearch} className="inc-search">
          <label htmlFor="inc-search-input">Search</label>
          <input
            id="inc-search-input"
            type="search"
            value={draft}
            placeholder="title, workload, namespace"
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit">Search</button>
        </form>
      </div>
      <QueryState q={q} what="incidents">
        {(data) =>
          data.incidents.nodes.length === 0 ? (
            <Empty>
              No {tab[0] === 'all' ? '' : `${tab[1].toLowerCase()} `}incidents
              {severity.length || search ? ' match these filters' : ''}. Incidents open when pods fail, nodes
              go NotReady, anomalies or error spikes appear.
            </Empty>
          ) : (
            <div className="inc-table-wrap">
              <table className="inc-table">
                <caption className="visually-hidden">
                  {tab[1]} incidents, newest opened first ({data.incidents.totalCount})
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Severity</th>
                    <th scope="col">Incident</th>
                    <th scope="col">Status</th>
                    <th scope="col">Root cause</th>
                    <th scope="col">Opened</th>
                    <th scope="col">Last signal</th>
                  </tr>
                </thead>
                <tbody>
                  {data.incidents.nodes.map((i) => (
                    <tr key={i.id} data-incident-id={i.id}>
                      <td>
                        <Chip tone={severityTone(i.severity)}>{i.severity}</Chip>
                      </td>
                      <td>
                        <Link to={`/incidents/${encodeURIComponent(i.id)}`} className="inc-title-link">
                          {i.title}
                        </Link>
                        <div className="muted inc-where">
                          {i.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`).join(', ') ||
                            i.namespaces.join(', ')}
                        </div>
                      </td>
                      <td>
                        <Chip tone={statusTone(i.status)}>{i.status}</Chip>
                      </td>
                      <td>
                        {i.rca ? (
                          <>
                            {i.rca.category}{' '}
                            <span className="muted">({Math.round(i.rca.confidence * 100)} %)</span>
                          </>
                        ) : (
                          <span className="muted">pending</span>
                        )}
                      </td>
                      <td>
                        <EventTime at={i.openedAt} />
                      </td>
                      <td>
                        <EventTime at={i.lastSignalAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
    </section>
  );
}
