/**
 * Anomalies (issue F): anomaly episodes, newest opened first, and for the selected one its series
 * around the episode with the expected band and the anomalous points, severity, peak score and
 * whether it is open or closed. Live over `anomalyChanged`. URL: `?status=open|closed|all`,
 * `&severity=critical,high,medium`, `&namespace=…`, `&q=…`, `&id=<episode>` (the selected one).
 */
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { toggled, withParams } from '../lib/url.ts';
import { Chip, Empty, QueryState } from '../components/common.tsx';
import { EventTime, severityTone, statusTone } from '../components/incidents-command.tsx';
import { AnomalyChart, type AnomalyData } from '../components/anomalies-chart.tsx';
import { useGql, useLive } from '../lib/graphql.ts';

const STATUSES: [string, string, string[] | null][] = [
  ['all', 'All', null],
  ['open', 'Open', ['open']],
  ['closed', 'Closed', ['closed']],
];
const SEVERITIES = ['critical', 'high', 'medium'];

export const ANOMALY_FIELDS = `
  id
  seriesKey
  metric
  namespace
  status
  openedAt
  lastAnomalousAt
  closedAt
  closeReason
  peakZ
  peakScore
  peakSeverity
  anomalousSamples
  labels {
    name
    value
  }
`;

const LIST = /* GraphQL */ `
  query Anomalies($filter: AnomalyFilter) {
    anomalies(filter: $filter, first: 200) {
      totalCount
      nodes {
        ${ANOMALY_FIELDS}
      }
    }
  }
`;

const CHANGED = /* GraphQL */ `
  subscription {
    anomalyChanged {
      id
    }
  }
`;

export default function Anomalies() {
  const [params, setParams] = useSearchParams();
  const status = STATUSES.find(([k]) => k === params.get('status')) ?? STATUSES[0]!;
  const severity = (params.get('severity') ?? '').split(',').filter((s) => SEVERITIES.includes(s));
  const namespace = params.get('namespace') ?? '';
  const search = params.get('q') ?? '';
  const selected = params.get('id');
  const [draft, setDraft] = useState(search);

  const filter: Record<string, unknown> = {};
  if (status[2]) filter.status = status[2];
  if (severity.length) filter.severity = severity;
  if (namespace) filter.namespace = namespace;
  if (search) filter.search = search;
  const q = useGql<{ anomalies: { totalCount: number; nodes: AnomalyData[] } }>('anomalies', LIST, {
    filter,
  });
  useLive(CHANGED, {}, [['anomalies'], ['anomaly']]);

  const link = (changes: Record<string, string | null>) => withParams(params, changes);
  const update = (changes: Record<string, string | null>) =>
    setParams(new URLSearchParams(link(changes).slice(1)));
  const toggleSeverity = (s: string) => update({ severity: toggled(severity, s, SEVERITIES) });

  return (
    <section className="an-page" aria-labelledby="an-title">
      <h1 id="an-title">Anomalies</h1>
      <div className="an-filters">
        <nav aria-label="Anomaly status" className="inc-tabs">
          <ul>
            {STATUSES.map(([key, label]) => (
              <li key={key}>
                <Link
                  to={link({ status: key === 'all' ? null : key })}
                  aria-current={status[0] === key ? 'page' : undefined}
                  className={status[0] === key ? 'inc-tab inc-tab-active' : 'inc-tab'}
                >
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <fieldset className="inc-severity">
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s}>
              <input type="checkbox" checked={severity.includes(s)} onChange={() => toggleSeverity(s)} /> {s}
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
          <label htmlFor="an-search">Search series</label>
          <input
            id="an-search"
            type="search"
            value={draft}
            placeholder="metric or label"
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit">Search</button>
        </form>
        <label className="an-ns">
          Namespace{' '}
          <input
            type="text"
            defaultValue={namespace}
            key={namespace}
            placeholder="any"
            onKeyDown={(e) => {
              if (e.key === 'Enter') update({ namespace: e.currentTarget.value.trim() || null });
            }}
            onBlur={(e) => {
              if (e.currentTarget.value.trim() !== namespace)
                update({ namespace: e.currentTarget.value.trim() || null });
            }}
          />
        </label>
      </div>
      <QueryState q={q} what="anomalies">
        {({ anomalies }) => {
          if (anomalies.nodes.length === 0)
            return (
              <Empty>
                No {status[0] === 'all' ? '' : `${status[0]} `}anomaly episodes
                {severity.length || namespace || search ? ' match these filters' : ''}. Episodes open when a
                metric series leaves its expected range.
              </Empty>
            );
          const current = anomalies.nodes.find((a) => a.id === selected) ?? anomalies.nodes[0]!;
          return (
            <div className="an-layout">
              <div className="an-list-wrap">
                <p className="muted">{anomalies.totalCount} episodes, newest opened first</p>
                <ul className="an-list" aria-label="Anomaly episodes">
                  {anomalies.nodes.map((a) => (
                    <li key={a.id}>
                      <Link
                        to={link({ id: a.id })}
                        replace
                        className={a.id === current.id ? 'an-item an-item-active' : 'an-item'}
                        aria-current={a.id === current.id ? 'true' : undefined}
                        data-anomaly-id={a.id}
                      >
                        <span className="an-item-head">
                          <Chip tone={severityTone(a.peakSeverity)}>{a.peakSeverity}</Chip>{' '}
                          <Chip tone={statusTone(a.status)}>{a.status}</Chip> <strong>{a.metric}</strong>
                        </span>
                        <span className="an-item-labels muted">
                          {a.labels.map((l) => `${l.name}=${l.value}`).join(' ')}
                        </span>
                        <span className="an-item-time muted">
                          opened <EventTime at={a.openedAt} /> · peak score {a.peakScore.toFixed(2)}
                        </span>
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
              <AnomalyChart anomaly={current} />
            </div>
          );
        }}
      </QueryState>
    </section>
  );
}
