/**
 * The Workloads page's side panel: one workload's pods with their container states, and the detail
 * tabs summary, YAML, events and score impact (the tab is in the URL: `?tab=events`).
 */
import { useId, useRef, type KeyboardEvent } from 'react';
import { Link } from 'react-router';
import { Chip, Empty, QueryState, ScoreValue, TimeAgo } from './common.tsx';
import { useGql } from '../lib/graphql.ts';

export const TABS: [string, string][] = [
  ['summary', 'Summary'],
  ['yaml', 'YAML'],
  ['events', 'Events'],
  ['impact', 'Score impact'],
];

export interface ContainerStateData {
  name: string;
  init: boolean;
  image: string | null;
  ready: boolean;
  restartCount: number;
  state: string;
  reason: string | null;
  message: string | null;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  lastTerminationReason: string | null;
  lastExitCode: number | null;
  lastFinishedAt: string | null;
}

export interface PodData {
  name: string;
  node: string | null;
  phase: string | null;
  categories: string[];
  restarts: number | null;
  restartsPerHour: number | null;
  ageMs: number | null;
  reasons: {
    category: string;
    container: string | null;
    reason: string;
    message: string | null;
    exitCode: number | null;
  }[];
  containers: ContainerStateData[];
}

interface ImpactRow {
  scope: string;
  dimension: string;
  rule: string;
  title: string;
  severity: string;
  points: number;
  share: number;
  detail: string;
  remediation: string | null;
}

interface WorkloadDetailData {
  workload: {
    kind: string;
    namespace: string;
    name: string;
    observed: boolean;
    desiredReplicas: number | null;
    readyReplicas: number | null;
    availableReplicas: number | null;
    images: string[];
    schedule: string | null;
    labels: { name: string; value: string }[];
    createdAt: string | null;
    updatedAt: string;
    podCount: number;
    unhealthyPods: number;
    pods: PodData[];
    events: {
      type: string;
      reason: string;
      message: string;
      count: number;
      involvedObject: { kind: string; name: string };
      lastTimestamp: string;
    }[];
    score: {
      overall: number | null;
      noData: boolean;
      healthy: boolean;
      dimensions: {
        dimension: string;
        score: number | null;
        points: number;
        rules: { rule: string; title: string; severity: string; points: number; count: number }[];
      }[];
    } | null;
    impact: ImpactRow[];
    errorGroups: { id: string; title: string; count: number; status: string }[];
    incidents: { id: string; title: string; status: string; severity: string }[];
    recommendations: { id: string; title: string; status: string }[];
    position: { topic: string; partition: number; offset: string } | null;
  } | null;
}

const CONTAINER_FIELDS = `name init image ready restartCount state reason message exitCode startedAt finishedAt
  lastTerminationReason lastExitCode lastFinishedAt`;
export const POD_FIELDS = `name node phase categories restarts restartsPerHour ageMs
  reasons { category container reason message exitCode } containers { ${CONTAINER_FIELDS} }`;

const DETAIL_QUERY = `query WorkloadDetail($ns: String!, $kind: String!, $name: String!) {
  workload(namespace: $ns, kind: $kind, name: $name) {
    kind namespace name observed desiredReplicas readyReplicas availableReplicas images schedule
    labels { name value } createdAt updatedAt podCount unhealthyPods
    pods { ${POD_FIELDS} }
    events(first: 50) { type reason message count involvedObject { kind name } lastTimestamp }
    score { overall noData healthy dimensions { dimension score points rules { rule title severity points count } } }
    impact { scope dimension rule title severity points share detail remediation }
    errorGroups { id title count status }
    incidents { id title status severity }
    recommendations { id title status }
    position { topic partition offset }
  }
}`;

/** A value as YAML (block style; strings quoted when YAML would read them otherwise). */
export function toYaml(value: unknown, indent = 0): string {
  const pad = '  '.repeat(indent);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    return /^[\w./:@-][\w ./:@()-]*$/.test(value) &&
      !/^(true|false|null|yes|no|~|-?\d[\d.e+-]*)$/i.test(value)
      ? value
      : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value
      .map((v) => {
        const inner = toYaml(v, indent + 1);
        return `\n${pad}- ${typeof v === 'object' && v !== null ? inner.trimStart() : inner}`;
      })
      .join('');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return entries
    .map(([k, v]) => {
      const inner = toYaml(v, indent + 1);
      const block = typeof v === 'object' && v !== null && inner.startsWith('\n');
      return `\n${pad}${k}:${block ? inner : ` ${inner}`}`;
    })
    .join('');
}

/** Tabs with the arrow keys moving between them (WAI-ARIA tabs pattern). */
export function Tabs({
  tabs,
  current,
  onPick,
  label,
  idBase,
}: {
  tabs: [string, string][];
  current: string;
  onPick: (tab: string) => void;
  label: string;
  idBase: string;
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const n = tabs.length;
    const to = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i + n - 1) % n : -1;
    if (to < 0) return;
    e.preventDefault();
    onPick(tabs[to]![0]);
    refs.current[to]?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="wl-tabs">
      {tabs.map(([key, text], i) => (
        <button
          key={key}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`${idBase}-tab-${key}`}
          aria-selected={current === key}
          aria-controls={`${idBase}-panel`}
          tabIndex={current === key ? 0 : -1}
          onClick={() => onPick(key)}
          onKeyDown={(e) => onKey(e, i)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}

/** A pod's containers: state, readiness, restarts and the last termination. */
export function ContainerStates({ pod }: { pod: PodData }) {
  return (
    <div className="wl-table-wrap" role="region" aria-label={`Containers of ${pod.name} (scrolls sideways)`}>
      <table className="wl-containers">
        <caption className="visually-hidden">Containers of {pod.name}</caption>
        <thead>
          <tr>
            <th scope="col">Container</th>
            <th scope="col">State</th>
            <th scope="col">Ready</th>
            <th scope="col">Restarts</th>
            <th scope="col">Last termination</th>
          </tr>
        </thead>
        <tbody>
          {pod.containers.map((c) => (
            <tr key={`${c.init}-${c.name}`}>
              <th scope="row">
                {c.name}
                {c.init ? <span className="muted"> (init)</span> : null}
                {c.image ? <div className="muted wl-image">{c.image}</div> : null}
              </th>
              <td>
                <Chip tone={c.state === 'running' ? 'ok' : c.state === 'waiting' ? 'high' : 'none'}>
                  {c.state}
                </Chip>
                {c.reason ? <div>{c.reason}</div> : null}
                {c.exitCode !== null ? <div className="muted">exit {c.exitCode}</div> : null}
              </td>
              <td>{c.ready ? 'yes' : 'no'}</td>
              <td>{c.restartCount}</td>
              <td>
                {c.lastTerminationReason ? (
                  <>
                    {c.lastTerminationReason}
                    {c.lastExitCode !== null ? ` (exit ${c.lastExitCode})` : ''}{' '}
                    <TimeAgo at={c.lastFinishedAt} />
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PodCard({ pod, highlight }: { pod: PodData; highlight?: boolean }) {
  return (
    <li
      className={`wl-pod${highlight ? ' wl-pod-highlight' : ''}`}
      aria-current={highlight ? 'true' : undefined}
    >
      <div className="wl-pod-head">
        <strong>{pod.name}</strong>{' '}
        <Chip tone={pod.categories.length ? 'high' : 'ok'}>{pod.phase ?? 'unknown'}</Chip>
        {pod.categories.map((c) => (
          <Chip key={c} tone="critical">
            {c}
          </Chip>
        ))}
        <span className="muted">
          {' '}
          node {pod.node ?? '—'} · {pod.restarts ?? 0} restarts
        </span>
      </div>
      {pod.reasons.length ? (
        <ul className="wl-reasons">
          {pod.reasons.map((r, i) => (
            <li key={i}>
              {r.category}: {r.reason}
              {r.container ? ` (${r.container})` : ''}
              {r.message ? <span className="muted"> — {r.message}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      <ContainerStates pod={pod} />
    </li>
  );
}

/** The side panel of a workload: pods with container states, then the four tabs. */
export function WorkloadPanel({
  ns,
  kind,
  name,
  tab,
  pod,
  onTab,
  onClose,
}: {
  ns: string;
  kind: string;
  name: string;
  tab: string;
  pod: string;
  onTab: (tab: string) => void;
  onClose: () => void;
}) {
  const idBase = useId();
  const q = useGql<WorkloadDetailData>('workload', DETAIL_QUERY, { ns, kind, name });
  const current = TABS.some(([k]) => k === tab) ? tab : 'summary';
  return (
    <aside className="wl-panel panel" aria-labelledby={`${idBase}-title`}>
      <div className="wl-panel-head">
        <h2 id={`${idBase}-title`}>
          <span className="muted">{kind}</span> {ns}/{name}
        </h2>
        <button type="button" onClick={onClose} aria-label={`Close the panel of ${name}`}>
          Close
        </button>
      </div>
      <QueryState q={q} what={`${kind} ${name}`}>
        {(d) => {
          const w = d.workload;
          if (!w)
            return (
              <Empty>
                {kind} {ns}/{name} is not in the projections (deleted, or a link from another cluster).
              </Empty>
            );
          return (
            <>
              <section aria-label={`Pods of ${name}`}>
                <h3>
                  Pods ({w.podCount}
                  {w.unhealthyPods ? `, ${w.unhealthyPods} unhealthy` : ''})
                </h3>
                {w.pods.length === 0 ? (
                  <Empty>No pods right now.</Empty>
                ) : (
                  <ul className="wl-pods">
                    {w.pods.map((p) => (
                      <PodCard key={p.name} pod={p} highlight={p.name === pod} />
                    ))}
                  </ul>
                )}
              </section>
              <Tabs
                tabs={TABS}
                current={current}
                onPick={onTab}
                label={`Details of ${name}`}
                idBase={idBase}
              />
              <div
                role="tabpanel"
                id={`${idBase}-panel`}
                aria-labelledby={`${idBase}-tab-${current}`}
                className="wl-tabpanel"
                tabIndex={0}
              >
                {current === 'summary' ? <Summary w={w} /> : null}
                {current === 'yaml' ? <YamlView w={w} /> : null}
                {current === 'events' ? <Events events={w.events} /> : null}
                {current === 'impact' ? <Impact w={w} /> : null}
              </div>
            </>
          );
        }}
      </QueryState>
    </aside>
  );
}

type W = NonNullable<WorkloadDetailData['workload']>;

function Summary({ w }: { w: W }) {
  return (
    <>
      <dl className="wl-facts">
        <dt>Score</dt>
        <dd>
          {w.score ? <ScoreValue score={w.score.overall} /> : <span className="muted">no score yet</span>}
        </dd>
        {w.desiredReplicas !== null ? (
          <>
            <dt>Replicas</dt>
            <dd>
              {w.readyReplicas ?? 0}/{w.desiredReplicas} ready, {w.availableReplicas ?? 0} available
            </dd>
          </>
        ) : null}
        {w.schedule ? (
          <>
            <dt>Schedule</dt>
            <dd>
              <code>{w.schedule}</code>
            </dd>
          </>
        ) : null}
        <dt>Images</dt>
        <dd>{w.images.length ? w.images.join(', ') : '—'}</dd>
        <dt>Created</dt>
        <dd>
          <TimeAgo at={w.createdAt} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <TimeAgo at={w.updatedAt} />
        </dd>
        {!w.observed ? (
          <>
            <dt>Object</dt>
            <dd>a bare pod: no controller owns it</dd>
          </>
        ) : null}
      </dl>
      <h3>Error groups</h3>
      {w.errorGroups.length === 0 ? (
        <Empty>No error groups.</Empty>
      ) : (
        <ul className="wl-links">
          {w.errorGroups.map((g) => (
            <li key={g.id}>
              <Link to={`/errors/${encodeURIComponent(g.id)}`}>{g.title}</Link>{' '}
              <span className="muted">
                {g.count}× · {g.status}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3>Incidents</h3>
      {w.incidents.length === 0 ? (
        <Empty>No incidents.</Empty>
      ) : (
        <ul className="wl-links">
          {w.incidents.map((i) => (
            <li key={i.id}>
              <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link>{' '}
              <span className="muted">
                {i.severity} · {i.status}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3>Recommendations</h3>
      {w.recommendations.length === 0 ? (
        <Empty>No recommendations.</Empty>
      ) : (
        <ul className="wl-links">
          {w.recommendations.map((r) => (
            <li key={r.id}>
              {r.title} <span className="muted">· {r.status}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function YamlView({ w }: { w: W }) {
  const doc = {
    kind: w.kind,
    metadata: {
      namespace: w.namespace,
      name: w.name,
      labels: Object.fromEntries(w.labels.map((l) => [l.name, l.value])),
      creationTimestamp: w.createdAt,
    },
    spec: {
      ...(w.desiredReplicas !== null ? { replicas: w.desiredReplicas } : {}),
      ...(w.schedule ? { schedule: w.schedule } : {}),
      images: w.images,
    },
    status: {
      readyReplicas: w.readyReplicas,
      availableReplicas: w.availableReplicas,
      pods: w.pods.map((p) => ({ name: p.name, phase: p.phase, node: p.node, restarts: p.restarts })),
    },
  };
  return (
    <>
      <p className="muted">
        The fields hetu keeps of the object (not the full manifest; Secrets and env values are never
        collected)
        {w.position ? `, from ${w.position.topic}/${w.position.partition}@${w.position.offset}` : ''}.
      </p>
      <pre className="wl-yaml" aria-label={`YAML of ${w.name}`}>
        {toYaml(doc).trimStart()}
      </pre>
    </>
  );
}

function Events({ events }: { events: W['events'] }) {
  if (events.length === 0) return <Empty>No Kubernetes events about it or its pods.</Empty>;
  return (
    <div className="wl-table-wrap" role="region" aria-label="Events (scrolls sideways)">
      <table>
        <caption className="visually-hidden">Kubernetes events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Last seen</th>
            <th scope="col">Type</th>
            <th scope="col">Reason</th>
            <th scope="col">Object</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={i}>
              <td>
                <TimeAgo at={e.lastTimestamp} />
              </td>
              <td>
                <Chip tone={e.type === 'Warning' ? 'warning' : undefined}>{e.type}</Chip>
              </td>
              <td>
                {e.reason}
                {e.count > 1 ? <span className="muted"> ×{e.count}</span> : null}
              </td>
              <td>
                {e.involvedObject.kind}/{e.involvedObject.name}
              </td>
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Impact({ w }: { w: W }) {
  const rules = (w.score?.dimensions ?? []).flatMap((d) =>
    d.rules.map((r) => ({ ...r, dimension: d.dimension })),
  );
  return (
    <>
      <h3>Its score</h3>
      {!w.score || w.score.noData ? (
        <Empty>No score for this workload yet.</Empty>
      ) : (
        <>
          <p>
            <ScoreValue score={w.score.overall} label="Overall" />{' '}
            {w.score.dimensions.map((d) => (
              <span key={d.dimension} className="wl-dim">
                <ScoreValue score={d.score} label={d.dimension} />
              </span>
            ))}
          </p>
          {rules.length === 0 ? (
            <Empty>No rule deducts points from it.</Empty>
          ) : (
            <ul className="wl-links">
              {rules.map((r) => (
                <li key={`${r.dimension}-${r.rule}`}>
                  <strong>{r.points}</strong> {r.title}{' '}
                  <span className="muted">
                    ({r.dimension}, {r.count}×)
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <h3>What it costs higher scopes</h3>
      {w.impact.length === 0 ? (
        <Empty>It moves no rule at any scope.</Empty>
      ) : (
        <ul className="wl-links">
          {w.impact.map((r, i) => (
            <li key={i}>
              <strong>{r.share.toFixed(1)}</strong> of {r.points} points · {r.title}{' '}
              <span className="muted">
                ({r.scope}, {r.dimension})
              </span>
              {r.remediation ? <div className="muted">{r.remediation}</div> : null}
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link to={`/drill?scope=${encodeURIComponent(`workload:${w.namespace}/${w.kind}/${w.name}`)}`}>
          Drill into its score
        </Link>
      </p>
    </>
  );
}
