/**
 * Errors (issue F): summary cards, distribution by reason, top workloads, the filtered and sorted
 * list of error groups with their status actions. Every filter, the sort, the page size and the
 * page live in the URL (`?status=open&namespace=shop&workload=api&reason=timeout&q=ledger&sort=count&size=25`).
 */
import { useEffect, useId, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Chip, Empty, QueryState, SelectField, Sparkline, TimeAgo } from '../components/common.tsx';
import {
  ERROR_GROUP_FIELDS,
  ErrorLevelChip,
  Rates,
  StatusAction,
  StatusChip,
  SUMMARY_QUERY,
  useLiveErrors,
  type CountBy,
  type ErrorGroupRow,
  type ErrorSummaryData,
} from '../components/errors-shared.tsx';
import { useGql } from '../lib/graphql.ts';

const SORTS: [string, string][] = [
  ['lastSeen', 'Last seen'],
  ['count', 'Count'],
  ['rate5m', 'Rate (5 min)'],
  ['severity', 'Severity'],
];
const SIZES = [10, 25, 50, 100];
const STATUSES: [string, string][] = [
  ['open', 'Open'],
  ['resolved', 'Resolved'],
  ['ignored', 'Ignored'],
  ['all', 'All'],
];

const LIST_QUERY = `query ErrorGroups($filter: ErrorGroupFilter, $sort: ErrorGroupSort, $first: Int, $after: String) {
  errorGroups(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ${ERROR_GROUP_FIELDS} }
  }
}`;

interface ListData {
  errorGroups: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: ErrorGroupRow[];
  };
}

/** The page's state, read from and written to the URL. */
function useErrorParams() {
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? 'open';
  const sortParam = params.get('sort') ?? 'lastSeen';
  const sort = SORTS.some(([s]) => s === sortParam) ? sortParam : 'lastSeen';
  const sizeParam = Number(params.get('size') ?? 25);
  const size = SIZES.includes(sizeParam) ? sizeParam : 25;
  const state = {
    status,
    namespace: params.get('namespace') ?? '',
    workload: params.get('workload') ?? '',
    reason: params.get('reason') ?? '',
    q: params.get('q') ?? '',
    sort,
    size,
    /** Cursors of the pages before this one, oldest first; the last is this page's `after`. */
    cursors: (params.get('cursors') ?? '').split(',').filter(Boolean),
  };
  /** Changes some parameters; any change but the page itself goes back to the first page. */
  const update = (changes: Record<string, string | null>, keepPage = false) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === '') next.delete(k);
          else next.set(k, v);
        }
        if (!keepPage) next.delete('cursors');
        return next;
      },
      { replace: false },
    );
  };
  return { ...state, update };
}

export default function Errors() {
  useLiveErrors();
  const p = useErrorParams();
  const summary = useGql<{ errorSummary: ErrorSummaryData }>('errorSummary', SUMMARY_QUERY, {
    namespace: p.namespace || null,
    workload: p.workload || null,
  });
  const filter: Record<string, unknown> = {};
  if (p.status !== 'all') filter.status = [p.status];
  if (p.namespace) filter.namespace = p.namespace;
  if (p.workload) filter.workload = p.workload;
  if (p.reason) filter.reason = [p.reason];
  if (p.q) filter.search = p.q;
  const list = useGql<ListData>('errorGroups', LIST_QUERY, {
    filter,
    sort: p.sort,
    first: p.size,
    after: p.cursors.at(-1) ?? null,
  });

  return (
    <div className="err-page">
      <h1>Errors</h1>
      <QueryState q={summary} what="the error summary">
        {(d) => <SummaryPanel s={d.errorSummary} onFilter={p.update} />}
      </QueryState>
      <Filters p={p} summary={summary.data?.errorSummary} />
      <section aria-labelledby="err-list-heading" className="err-list-section">
        <h2 id="err-list-heading">Error groups</h2>
        <QueryState q={list} what="error groups">
          {(d) => (
            <>
              <p className="muted" aria-live="polite">
                {d.errorGroups.totalCount} group{d.errorGroups.totalCount === 1 ? '' : 's'} match
                {p.cursors.length ? ` · page ${p.cursors.length + 1}` : ''}
              </p>
              {d.errorGroups.nodes.length === 0 ? (
                <Empty>
                  No error groups match these filters.{' '}
                  {p.status === 'open' ? 'Resolved and ignored groups are under Status: All.' : ''}
                </Empty>
              ) : (
                <ul className="err-list">
                  {d.errorGroups.nodes.map((g) => (
                    <ErrorRow key={g.id} g={g} onFilter={p.update} />
                  ))}
                </ul>
              )}
              <nav aria-label="Pages of error groups" className="err-pager">
                <button
                  type="button"
                  disabled={p.cursors.length === 0}
                  onClick={() => p.update({ cursors: p.cursors.slice(0, -1).join(',') }, true)}
                >
                  Previous page
                </button>
                <button
                  type="button"
                  disabled={!d.errorGroups.pageInfo.hasNextPage || !d.errorGroups.pageInfo.endCursor}
                  onClick={() =>
                    p.update(
                      { cursors: [...p.cursors, d.errorGroups.pageInfo.endCursor ?? ''].join(',') },
                      true,
                    )
                  }
                >
                  Next page
                </button>
              </nav>
            </>
          )}
        </QueryState>
      </section>
    </div>
  );
}

function SummaryPanel({
  s,
  onFilter,
}: {
  s: ErrorSummaryData;
  onFilter: (c: Record<string, string | null>) => void;
}) {
  const reasons = [...s.byReason].sort((a, b) => b.occurrences - a.occurrences || a.key.localeCompare(b.key));
  const workloads = [...s.byWorkload].sort((a, b) => b.occurrences - a.occurrences).slice(0, 5);
  const top = reasons[0];
  return (
    <>
      <section aria-label="Error summary" className="err-cards">
        <Card label="Groups" value={s.groups} note={`${s.warnings} warnings`} />
        <Card label="Occurrences" value={s.occurrences} note={`${s.count1h} in the last hour`} />
        <Card label="Open" value={s.open} note={`${s.spiking} spiking · ${s.regressed} regressed`} />
        <Card
          label="Most common reason"
          value={top ? top.key : '—'}
          note={top ? `${top.occurrences} occurrences in ${top.groups} groups` : 'no errors yet'}
        />
      </section>
      <div className="err-dist">
        <Distribution
          title="By reason"
          rows={reasons}
          label={(r) => r.key}
          onPick={(r) => onFilter({ reason: r.key })}
          pickLabel={(r) => `Show reason ${r.key}`}
        />
        <Distribution
          title="Top workloads"
          rows={workloads}
          label={(r) => r.key}
          onPick={(r) => {
            const [ns, ...rest] = r.key.split('/');
            onFilter({ namespace: ns ?? null, workload: rest.join('/') });
          }}
          pickLabel={(r) => `Show workload ${r.key}`}
        />
      </div>
    </>
  );
}

function Card({ label, value, note }: { label: string; value: number | string; note: string }) {
  return (
    <div className="panel err-card">
      <div className="muted err-card-label">{label}</div>
      <div className="err-card-value">{value}</div>
      <div className="muted err-card-note">{note}</div>
    </div>
  );
}

function Distribution({
  title,
  rows,
  label,
  onPick,
  pickLabel,
}: {
  title: string;
  rows: CountBy[];
  label: (r: CountBy) => string;
  onPick: (r: CountBy) => void;
  pickLabel: (r: CountBy) => string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.occurrences));
  return (
    <section className="panel err-dist-panel" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <Empty>Nothing yet.</Empty>
      ) : (
        <ul className="err-bars">
          {rows.map((r) => (
            <li key={r.key}>
              <button
                type="button"
                className="err-bar-button"
                aria-label={pickLabel(r)}
                onClick={() => onPick(r)}
              >
                <span className="err-bar-label">{label(r)}</span>
                <span className="err-bar-track" aria-hidden="true">
                  <span className="err-bar-fill" style={{ width: `${(r.occurrences / max) * 100}%` }} />
                </span>
                <span className="err-bar-value">
                  {r.occurrences} <span className="muted">({r.groups})</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Filters({
  p,
  summary,
}: {
  p: ReturnType<typeof useErrorParams>;
  summary: ErrorSummaryData | undefined;
}) {
  const id = useId();
  const [search, setSearch] = useState(p.q);
  const [shownQ, setShownQ] = useState(p.q);
  if (shownQ !== p.q) {
    // The URL changed (back button, a link): show its search.
    setShownQ(p.q);
    setSearch(p.q);
  }
  const update = useRef(p.update);
  useEffect(() => {
    update.current = p.update;
  });
  // Search applies 300 ms after the last key stroke (or at once with Enter).
  useEffect(() => {
    if (search === p.q) return;
    const t = setTimeout(() => update.current({ q: search }), 300);
    return () => clearTimeout(t);
  }, [search, p.q]);
  const namespaces = (summary?.byNamespace ?? []).map((c) => c.key);
  if (p.namespace && !namespaces.includes(p.namespace)) namespaces.push(p.namespace);
  const workloads = [
    ...new Set(
      (summary?.byWorkload ?? [])
        .filter((c) => !p.namespace || c.key.startsWith(`${p.namespace}/`))
        .map((c) => c.key.slice(c.key.indexOf('/') + 1)),
    ),
  ];
  if (p.workload && !workloads.includes(p.workload)) workloads.push(p.workload);
  const reasons = (summary?.byReason ?? []).map((c) => c.key);
  if (p.reason && !reasons.includes(p.reason)) reasons.push(p.reason);
  const any = p.status !== 'open' || p.namespace || p.workload || p.reason || p.q;
  return (
    <form
      className="err-filters panel"
      aria-label="Filter and sort error groups"
      onSubmit={(e) => {
        e.preventDefault();
        p.update({ q: search });
      }}
    >
      <SelectField
        id={`${id}-status`}
        label="Status"
        value={p.status}
        onChange={(v) => p.update({ status: v })}
        options={STATUSES}
      />
      <SelectField
        id={`${id}-ns`}
        label="Namespace"
        value={p.namespace}
        onChange={(v) => p.update({ namespace: v, workload: null })}
        options={namespaces}
        all="All namespaces"
      />
      <SelectField
        id={`${id}-wl`}
        label="Workload"
        value={p.workload}
        onChange={(v) => p.update({ workload: v })}
        options={workloads}
        all="All workloads"
      />
      <SelectField
        id={`${id}-reason`}
        label="Reason"
        value={p.reason}
        onChange={(v) => p.update({ reason: v })}
        options={reasons}
        all="All reasons"
      />
      <div className="err-field err-search">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          value={search}
          placeholder="title, exception, URL…"
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <SelectField
        id={`${id}-sort`}
        label="Sort by"
        value={p.sort}
        onChange={(v) => p.update({ sort: v })}
        options={SORTS}
      />
      <SelectField
        id={`${id}-size`}
        label="Per page"
        value={String(p.size)}
        onChange={(v) => p.update({ size: v })}
        options={SIZES.map(String)}
      />
      {any ? (
        <button
          type="button"
          onClick={() => p.update({ status: null, namespace: null, workload: null, reason: null, q: null })}
        >
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

function ErrorRow({
  g,
  onFilter,
}: {
  g: ErrorGroupRow;
  onFilter: (c: Record<string, string | null>) => void;
}) {
  const [open, setOpen] = useState(false);
  const detailsId = useId();
  return (
    <li className={`err-row panel err-row-${g.status}`} data-testid="error-row" data-group-id={g.id}>
      <div className="err-row-main">
        <div className="err-row-head">
          <ErrorLevelChip level={g.level} />
          <Link to={`/errors/${encodeURIComponent(g.id)}`} className="err-title">
            {g.title}
          </Link>
          {g.spike ? (
            <span className="err-spike" title="count5m ≥ 3 and well above the hour's rate">
              SPIKE
            </span>
          ) : null}
        </div>
        {g.exceptionType ? <div className="err-exception">{g.exceptionType}</div> : null}
        <div className="err-chips">
          <button
            type="button"
            className="chip err-chip-button"
            aria-label={`Filter by workload ${g.namespace}/${g.workload}`}
            onClick={() => onFilter({ namespace: g.namespace, workload: g.workload })}
          >
            {g.workload}
          </button>
          <button
            type="button"
            className="chip err-chip-button"
            aria-label={`Filter by namespace ${g.namespace}`}
            onClick={() => onFilter({ namespace: g.namespace })}
          >
            ns {g.namespace}
          </button>
          <button
            type="button"
            className="chip err-chip-button"
            aria-label={`Filter by reason ${g.reason}`}
            onClick={() => onFilter({ reason: g.reason })}
          >
            {g.reason}
          </button>
          {g.status !== 'open' || g.regressed ? (
            <StatusChip status={g.status} regressed={g.regressed} />
          ) : null}
          {g.mergedChildren.length ? <Chip>{g.mergedChildren.length} merged</Chip> : null}
        </div>
      </div>
      <dl className="err-row-times">
        <dt>First seen</dt>
        <dd>
          <TimeAgo at={g.firstSeen} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <TimeAgo at={g.lastSeen} />
        </dd>
      </dl>
      <div className="err-row-rate">
        <Rates count5m={g.count5m} count1h={g.count1h} />
        <Sparkline values={g.sparkline} label="Occurrences per 5 minutes, last hour" />
      </div>
      <div className="err-row-count" aria-label={`${g.count} occurrences`}>
        {g.count}
      </div>
      <div className="err-row-actions">
        <StatusAction id={g.id} status={g.status} title={g.title} />
        <button
          type="button"
          aria-expanded={open}
          aria-controls={detailsId}
          aria-label={`${open ? 'Hide' : 'Show'} details of ${g.title}`}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Less' : 'More'}
        </button>
      </div>
      {open ? (
        <div id={detailsId} className="err-row-details">
          <dl className="err-facts">
            <dt>Last pod</dt>
            <dd>
              {g.lastPod} / {g.lastContainer}
            </dd>
            {g.lastUrl ? (
              <>
                <dt>Last URL</dt>
                <dd>{g.lastUrl}</dd>
              </>
            ) : null}
            <dt>Fingerprint</dt>
            <dd>
              <code>{g.fingerprint}</code>
            </dd>
          </dl>
          {g.bestSample ? (
            <pre className="err-pre" tabIndex={0} aria-label="Best sample">
              {g.bestSample.stack ?? g.bestSample.message}
            </pre>
          ) : null}
          <Link to={`/errors/${encodeURIComponent(g.id)}`}>Open the group</Link>
        </div>
      ) : null}
    </li>
  );
}
