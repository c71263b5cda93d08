/**
 * Workloads (issue F): every kind hetu keeps (workloads by kind, pods, services, nodes, namespaces), a
 * namespace filter and a search, per-kind columns, and a side panel with the pods and their
 * container states and the tabs summary / YAML / events / score impact. Everything is in the URL:
 * `?kind=Deployment&ns=shop&q=api&sel=shop/Deployment/api&tab=events`.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { Chip, Empty, QueryState, ScoreValue, SelectField } from '../components/common.tsx';
import { POD_FIELDS, WorkloadPanel, type PodData } from '../components/workloads-detail.tsx';
import { useGql } from '../lib/graphql.ts';

/** The kinds the page lists: `workloads` is every workload kind, bare pods included. */
const KINDS: [string, string][] = [
  ['workloads', 'All workloads'],
  ['Deployment', 'Deployments'],
  ['StatefulSet', 'StatefulSets'],
  ['DaemonSet', 'DaemonSets'],
  ['ReplicaSet', 'ReplicaSets'],
  ['Job', 'Jobs'],
  ['CronJob', 'CronJobs'],
  ['Pod', 'Bare pods'],
  ['pods', 'Pods'],
  ['services', 'Services'],
  ['nodes', 'Nodes'],
  ['namespaces', 'Namespaces'],
];
const PAGE = 100;

interface WorkloadRow {
  kind: string;
  namespace: string;
  name: string;
  observed: boolean;
  desiredReplicas: number | null;
  readyReplicas: number | null;
  availableReplicas: number | null;
  schedule: string | null;
  images: string[];
  podCount: number;
  unhealthyPods: number;
  pods: PodData[];
}

interface ListData {
  workloads: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: WorkloadRow[];
  };
}

const LIST_QUERY = `query WorkloadList($filter: WorkloadFilter, $first: Int, $after: String) {
  workloads(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      kind namespace name observed desiredReplicas readyReplicas availableReplicas schedule images podCount unhealthyPods
      pods { ${POD_FIELDS} }
    }
  }
}`;

const NAMESPACES_QUERY = `query WorkloadNamespaces {
  scores(scopeType: namespace, first: 500) { nodes { namespace overall noData } }
}`;

interface NamespacesData {
  scores: { nodes: { namespace: string | null; overall: number | null; noData: boolean }[] };
}

const NODES_QUERY = `query WorkloadNodes {
  nodes {
    name ready unschedulable states ts
    reasons { state condition status reason message }
    impact { scope title points share dimension }
  }
}`;

interface NodeRow {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  states: string[];
  ts: string;
  reasons: {
    state: string;
    condition: string;
    status: string;
    reason: string | null;
    message: string | null;
  }[];
  impact: { scope: string; title: string; points: number; share: number; dimension: string }[];
}

function useWorkloadParams() {
  const [params, setParams] = useSearchParams();
  const kindParam = params.get('kind') ?? 'workloads';
  const state = {
    kind: KINDS.some(([k]) => k === kindParam) ? kindParam : 'workloads',
    ns: params.get('ns') ?? '',
    q: params.get('q') ?? '',
    sel: params.get('sel') ?? '',
    pod: params.get('pod') ?? '',
    node: params.get('node') ?? '',
    tab: params.get('tab') ?? 'summary',
    cursors: (params.get('cursors') ?? '').split(',').filter(Boolean),
  };
  const update = (changes: Record<string, string | null>, keepPage = false) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === '') next.delete(k);
        else next.set(k, v);
      }
      if (!keepPage) next.delete('cursors');
      return next;
    });
  return { ...state, update };
}

type Params = ReturnType<typeof useWorkloadParams>;

export default function Workloads() {
  const p = useWorkloadParams();
  const [selNs, selKind, ...selName] = p.sel.split('/');
  const hasSel = Boolean(p.sel && selNs && selKind && selName.length);
  return (
    <div className="wl-page">
      <h1>Workloads</h1>
      <KindNav p={p} />
      <Filters p={p} />
      <div className={`wl-layout${hasSel ? ' wl-layout-split' : ''}`}>
        <section aria-label={KINDS.find(([k]) => k === p.kind)?.[1] ?? 'Workloads'} className="wl-list">
          {p.kind === 'nodes' ? (
            <NodesTable p={p} />
          ) : p.kind === 'namespaces' ? (
            <NamespacesTable p={p} />
          ) : p.kind === 'services' ? (
            <ServicesTable p={p} />
          ) : (
            <WorkloadsTable p={p} />
          )}
        </section>
        {hasSel ? (
          <WorkloadPanel
            ns={selNs!}
            kind={selKind!}
            name={selName.join('/')}
            tab={p.tab}
            pod={p.pod}
            onTab={(tab) => p.update({ tab }, true)}
            onClose={() => p.update({ sel: null, pod: null, tab: null }, true)}
          />
        ) : null}
      </div>
    </div>
  );
}

function KindNav({ p }: { p: Params }) {
  return (
    <nav aria-label="Kinds" className="wl-kinds">
      <ul>
        {KINDS.map(([k, label]) => (
          <li key={k}>
            <button
              type="button"
              aria-pressed={p.kind === k}
              onClick={() => p.update({ kind: k === 'workloads' ? null : k, node: null })}
            >
              {label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Filters({ p }: { p: Params }) {
  const id = useId();
  const ns = useGql<NamespacesData>('workloadNamespaces', NAMESPACES_QUERY);
  const [search, setSearch] = useState(p.q);
  const [shownQ, setShownQ] = useState(p.q);
  if (shownQ !== p.q) {
    setShownQ(p.q);
    setSearch(p.q);
  }
  const update = useRef(p.update);
  useEffect(() => {
    update.current = p.update;
  });
  useEffect(() => {
    if (search === p.q) return;
    const t = setTimeout(() => update.current({ q: search }), 300);
    return () => clearTimeout(t);
  }, [search, p.q]);
  const names = (ns.data?.scores.nodes ?? []).map((n) => n.namespace).filter((n): n is string => Boolean(n));
  if (p.ns && !names.includes(p.ns)) names.push(p.ns);
  names.sort();
  return (
    <form
      className="wl-filters panel"
      aria-label="Filter"
      onSubmit={(e) => {
        e.preventDefault();
        p.update({ q: search });
      }}
    >
      <SelectField
        className="wl-field"
        id={`${id}-ns`}
        label="Namespace"
        value={p.ns}
        onChange={(v) => p.update({ ns: v })}
        options={names}
        all="All namespaces"
      />
      <div className="wl-field wl-search">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          value={search}
          placeholder="name, namespace or kind"
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      {p.ns || p.q ? (
        <button type="button" onClick={() => p.update({ ns: null, q: null })}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function Pager({
  p,
  hasNext,
  endCursor,
  what,
}: {
  p: Params;
  hasNext: boolean;
  endCursor: string | null;
  what: string;
}) {
  if (p.cursors.length === 0 && !hasNext) return null;
  return (
    <nav aria-label={`Pages of ${what}`} className="wl-pager">
      <button
        type="button"
        disabled={p.cursors.length === 0}
        onClick={() => p.update({ cursors: p.cursors.slice(0, -1).join(',') }, true)}
      >
        Previous page
      </button>
      <button
        type="button"
        disabled={!hasNext || !endCursor}
        onClick={() => p.update({ cursors: [...p.cursors, endCursor ?? ''].join(',') }, true)}
      >
        Next page
      </button>
    </nav>
  );
}

const readyOf = (pod: PodData) => {
  const main = pod.containers.filter((c) => !c.init);
  return `${main.filter((c) => c.ready).length}/${main.length}`;
};
const restartsOf = (w: WorkloadRow) => w.pods.reduce((n, pod) => n + (pod.restarts ?? 0), 0);
const age = (ms: number | null) => {
  if (ms === null) return '—';
  const m = ms / 60_000;
  return m < 60 ? `${Math.round(m)}m` : m < 1440 ? `${Math.round(m / 60)}h` : `${Math.round(m / 1440)}d`;
};

function WorkloadsTable({ p }: { p: Params }) {
  const pods = p.kind === 'pods';
  const filter: Record<string, unknown> = {};
  if (!pods && p.kind !== 'workloads') filter.kind = [p.kind];
  if (p.ns) filter.namespace = p.ns;
  if (p.q && !pods) filter.search = p.q;
  const q = useGql<ListData>('workloads', LIST_QUERY, {
    filter,
    first: PAGE,
    after: p.cursors.at(-1) ?? null,
  });
  const select = (w: WorkloadRow, pod?: string) =>
    p.update({ sel: `${w.namespace}/${w.kind}/${w.name}`, pod: pod ?? null }, true);
  const isSel = (w: WorkloadRow) => p.sel === `${w.namespace}/${w.kind}/${w.name}`;
  return (
    <QueryState q={q} what="workloads">
      {(d) => {
        const rows = d.workloads.nodes;
        if (pods) {
          const needle = p.q.toLowerCase();
          const list = rows
            .flatMap((w) => w.pods.map((pod) => ({ w, pod })))
            .filter(
              ({ w, pod }) =>
                !needle || `${w.namespace}/${pod.name}/${w.name}`.toLowerCase().includes(needle),
            );
          return (
            <>
              <p className="muted" aria-live="polite">
                {list.length} pod{list.length === 1 ? '' : 's'}
              </p>
              {list.length === 0 ? (
                <Empty>No pods match.</Empty>
              ) : (
                <div className="wl-table-wrap" role="region" aria-label="Pods (scrolls sideways)">
                  <table className="wl-table">
                    <caption className="visually-hidden">Pods</caption>
                    <thead>
                      <tr>
                        <th scope="col">Pod</th>
                        <th scope="col">Namespace</th>
                        <th scope="col">Workload</th>
                        <th scope="col">Ready</th>
                        <th scope="col">Status</th>
                        <th scope="col">Restarts</th>
                        <th scope="col">Node</th>
                        <th scope="col">Age</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map(({ w, pod }) => (
                        <tr key={`${w.namespace}/${pod.name}`} aria-selected={isSel(w) && p.pod === pod.name}>
                          <th scope="row">
                            <button
                              type="button"
                              className="wl-link-button"
                              onClick={() => select(w, pod.name)}
                            >
                              {pod.name}
                            </button>
                          </th>
                          <td>{w.namespace}</td>
                          <td>
                            {w.kind}/{w.name}
                          </td>
                          <td>{readyOf(pod)}</td>
                          <td>
                            <Chip tone={pod.categories.length ? 'high' : 'ok'}>{pod.phase ?? 'unknown'}</Chip>{' '}
                            {pod.categories.map((c) => (
                              <Chip key={c} tone="critical">
                                {c}
                              </Chip>
                            ))}
                          </td>
                          <td>{pod.restarts ?? 0}</td>
                          <td>{pod.node ?? '—'}</td>
                          <td>{age(pod.ageMs)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <Pager
                p={p}
                hasNext={d.workloads.pageInfo.hasNextPage}
                endCursor={d.workloads.pageInfo.endCursor}
                what="pods"
              />
            </>
          );
        }
        const replicas = ['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'workloads'].includes(
          p.kind,
        );
        return (
          <>
            <p className="muted" aria-live="polite">
              {d.workloads.totalCount} workload{d.workloads.totalCount === 1 ? '' : 's'}
            </p>
            {rows.length === 0 ? (
              <Empty>
                No {KINDS.find(([k]) => k === p.kind)?.[1].toLowerCase() ?? 'workloads'} match
                {p.ns ? ` in ${p.ns}` : ''}
                {p.q ? ` for “${p.q}”` : ''}.
              </Empty>
            ) : (
              <div className="wl-table-wrap" role="region" aria-label="Workloads (scrolls sideways)">
                <table className="wl-table">
                  <caption className="visually-hidden">{KINDS.find(([k]) => k === p.kind)?.[1]}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Namespace</th>
                      {p.kind === 'workloads' ? <th scope="col">Kind</th> : null}
                      {replicas ? <th scope="col">Ready</th> : null}
                      {p.kind === 'CronJob' ? <th scope="col">Schedule</th> : null}
                      <th scope="col">Pods</th>
                      <th scope="col">Restarts</th>
                      <th scope="col">Nodes</th>
                      <th scope="col">Images</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((w) => (
                      <tr key={`${w.namespace}/${w.kind}/${w.name}`} aria-selected={isSel(w)}>
                        <th scope="row">
                          <button
                            type="button"
                            className="wl-link-button"
                            aria-label={`Open ${w.kind} ${w.namespace}/${w.name}`}
                            onClick={() => select(w)}
                          >
                            {w.name}
                          </button>
                        </th>
                        <td>{w.namespace}</td>
                        {p.kind === 'workloads' ? <td>{w.kind}</td> : null}
                        {replicas ? (
                          <td>
                            {w.desiredReplicas !== null
                              ? `${w.readyReplicas ?? 0}/${w.desiredReplicas}`
                              : '—'}
                          </td>
                        ) : null}
                        {p.kind === 'CronJob' ? (
                          <td>
                            <code>{w.schedule ?? '—'}</code>
                          </td>
                        ) : null}
                        <td>
                          {w.podCount}
                          {w.unhealthyPods ? (
                            <>
                              {' '}
                              <Chip tone="critical">{w.unhealthyPods} unhealthy</Chip>
                            </>
                          ) : null}
                        </td>
                        <td>{restartsOf(w)}</td>
                        <td>
                          {[...new Set(w.pods.map((pod) => pod.node).filter(Boolean))].join(', ') || '—'}
                        </td>
                        <td className="wl-image">{w.images.join(', ') || '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <Pager
              p={p}
              hasNext={d.workloads.pageInfo.hasNextPage}
              endCursor={d.workloads.pageInfo.endCursor}
              what="workloads"
            />
          </>
        );
      }}
    </QueryState>
  );
}

function NodesTable({ p }: { p: Params }) {
  const q = useGql<{ nodes: NodeRow[] }>('nodes', NODES_QUERY);
  return (
    <QueryState q={q} what="nodes">
      {(d) => {
        const needle = p.q.toLowerCase();
        const nodes = d.nodes.filter((n) => !needle || n.name.toLowerCase().includes(needle));
        const picked = nodes.find((n) => n.name === p.node);
        return nodes.length === 0 ? (
          <Empty>No nodes{needle ? ` match “${p.q}”` : ' observed yet'}.</Empty>
        ) : (
          <>
            <div className="wl-table-wrap" role="region" aria-label="Nodes (scrolls sideways)">
              <table className="wl-table">
                <caption className="visually-hidden">Nodes</caption>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">Ready</th>
                    <th scope="col">Schedulable</th>
                    <th scope="col">States</th>
                    <th scope="col">Score impact</th>
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((n) => (
                    <tr key={n.name} aria-selected={n.name === p.node}>
                      <th scope="row">
                        <button
                          type="button"
                          className="wl-link-button"
                          aria-label={`Show node ${n.name}`}
                          onClick={() => p.update({ node: n.name }, true)}
                        >
                          {n.name}
                        </button>
                      </th>
                      <td>
                        <Chip tone={n.ready ? 'ok' : 'critical'}>{n.ready ? 'Ready' : 'NotReady'}</Chip>
                      </td>
                      <td>{n.unschedulable ? 'cordoned' : 'yes'}</td>
                      <td>
                        {n.states.length ? n.states.join(', ') : <span className="muted">healthy</span>}
                      </td>
                      <td>
                        {n.impact.length ? `${n.impact.length} rules` : <span className="muted">none</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {picked ? (
              <section className="panel wl-node" aria-label={`Node ${picked.name}`}>
                <h2>Node {picked.name}</h2>
                {picked.reasons.length === 0 ? (
                  <Empty>No unhealthy condition.</Empty>
                ) : (
                  <ul className="wl-links">
                    {picked.reasons.map((r, i) => (
                      <li key={i}>
                        {r.state}: {r.condition}={r.status} {r.reason ?? ''}
                        {r.message ? <span className="muted"> — {r.message}</span> : null}
                      </li>
                    ))}
                  </ul>
                )}
                <h3>Score impact</h3>
                {picked.impact.length === 0 ? (
                  <Empty>It moves no rule at any scope.</Empty>
                ) : (
                  <ul className="wl-links">
                    {picked.impact.map((r, i) => (
                      <li key={i}>
                        <strong>{r.share.toFixed(1)}</strong> of {r.points} · {r.title}{' '}
                        <span className="muted">
                          ({r.scope}, {r.dimension})
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            ) : null}
          </>
        );
      }}
    </QueryState>
  );
}

function NamespacesTable({ p }: { p: Params }) {
  const scores = useGql<NamespacesData>('workloadNamespaces', NAMESPACES_QUERY);
  const list = useGql<ListData>('workloads', LIST_QUERY, { filter: {}, first: 500, after: null });
  return (
    <QueryState q={list} what="namespaces">
      {(d) => {
        const by = new Map<string, { workloads: number; pods: number; unhealthy: number }>();
        for (const w of d.workloads.nodes) {
          const a = by.get(w.namespace) ?? { workloads: 0, pods: 0, unhealthy: 0 };
          a.workloads += 1;
          a.pods += w.podCount;
          a.unhealthy += w.unhealthyPods;
          by.set(w.namespace, a);
        }
        for (const s of scores.data?.scores.nodes ?? [])
          if (s.namespace && !by.has(s.namespace))
            by.set(s.namespace, { workloads: 0, pods: 0, unhealthy: 0 });
        const score = new Map((scores.data?.scores.nodes ?? []).map((s) => [s.namespace, s.overall]));
        const needle = p.q.toLowerCase();
        const names = [...by.keys()].filter((n) => !needle || n.toLowerCase().includes(needle)).sort();
        return names.length === 0 ? (
          <Empty>No namespaces{needle ? ` match “${p.q}”` : ' observed yet'}.</Empty>
        ) : (
          <div className="wl-table-wrap" role="region" aria-label="Namespaces (scrolls sideways)">
            <table className="wl-table">
              <caption className="visually-hidden">Namespaces</caption>
              <thead>
                <tr>
                  <th scope="col">Namespace</th>
                  <th scope="col">Score</th>
                  <th scope="col">Workloads</th>
                  <th scope="col">Pods</th>
                  <th scope="col">Unhealthy pods</th>
                </tr>
              </thead>
              <tbody>
                {names.map((n) => {
                  const a = by.get(n)!;
                  return (
                    <tr key={n}>
                      <th scope="row">
                        <button
                          type="button"
                          className="wl-link-button"
                          aria-label={`Show the workloads of ${n}`}
                          onClick={() => p.update({ kind: null, ns: n, q: null })}
                        >
                          {n}
                        </button>
                      </th>
                      <td>
                        <ScoreValue score={score.get(n) ?? null} />
                      </td>
                      <td>{a.workloads}</td>
                      <td>{a.pods}</td>
                      <td>{a.unhealthy}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        );
      }}
    </QueryState>
  );
}

const SERVICES_QUERY = `query WorkloadServices($ns: String, $q: String, $first: Int, $after: String) {
  services(namespace: $ns, search: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { namespace name type clusterIP externalName ports { name port targetPort protocol nodePort } selector { name value } }
  }
}`;

interface ServiceData {
  services: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: {
      namespace: string;
      name: string;
      type: string;
      clusterIP: string | null;
      externalName: string | null;
      ports: {
        name: string | null;
        port: number;
        targetPort: string | null;
        protocol: string;
        nodePort: number | null;
      }[];
      selector: { name: string; value: string }[];
    }[];
  };
}

function ServicesTable({ p }: { p: Params }) {
  const q = useGql<ServiceData>('services', SERVICES_QUERY, {
    ns: p.ns || null,
    q: p.q || null,
    first: PAGE,
    after: p.cursors.at(-1) ?? null,
  });
  return (
    <QueryState q={q} what="services">
      {(d) => (
        <>
          <p className="muted" aria-live="polite">
            {d.services.totalCount} service{d.services.totalCount === 1 ? '' : 's'}
          </p>
          {d.services.nodes.length === 0 ? (
            <Empty>
              No services{p.ns ? ` in ${p.ns}` : ''}
              {p.q ? ` match “${p.q}”` : ''}.
            </Empty>
          ) : (
            <div className="wl-table-wrap" role="region" aria-label="Services (scrolls sideways)">
              <table className="wl-table">
                <caption className="visually-hidden">Services</caption>
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">Namespace</th>
                    <th scope="col">Type</th>
                    <th scope="col">Cluster IP</th>
                    <th scope="col">Ports</th>
                    <th scope="col">Selector</th>
                  </tr>
                </thead>
                <tbody>
                  {d.services.nodes.map((svc) => (
                    <tr key={`${svc.namespace}/${svc.name}`}>
                      <th scope="row">{svc.name}</th>
                      <td>{svc.namespace}</td>
                      <td>{svc.type}</td>
                      <td>{svc.clusterIP ?? svc.externalName ?? '—'}</td>
                      <td>
                        {svc.ports
                          .map(
                            (pt) =>
                              `${pt.name ? `${pt.name} ` : ''}${pt.port}${pt.targetPort ? `→${pt.targetPort}` : ''}/${pt.protocol}${pt.nodePort ? ` (node ${pt.nodePort})` : ''}`,
                          )
                          .join(', ') || '—'}
                      </td>
                      <td>
                        {svc.selector.length ? (
                          svc.selector.map((l) => <Chip key={l.name}>{`${l.name}=${l.value}`}</Chip>)
                        ) : (
                          <span className="muted">none</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            p={p}
            hasNext={d.services.pageInfo.hasNextPage}
            endCursor={d.services.pageInfo.endCursor}
            what="services"
          />
        </>
      )}
    </QueryState>
  );
}
