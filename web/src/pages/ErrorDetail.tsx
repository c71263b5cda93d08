/**
 * Error detail (issue F): one group's stats, its stack trace (or sample), its occurrences with
 * filters in the URL (`?from=…&to=…&pod=…&container=…&oq=…`), the AI analysis card, the context panel
 * (incidents, recommendations, groups sharing the faultKey) and merge / split.
 */
import { useId } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { Chip, Empty, QueryState, SelectField, Sparkline, TimeAgo } from '../components/common.tsx';
import {
  AiAnalysisCard,
  ContextPanel,
  MergeSplit,
  type FaultData,
  type LlmErrorAnalysis,
} from '../components/errors-detail.tsx';
import {
  ERROR_GROUP_FIELDS,
  ErrorLevelChip,
  Rates,
  StatusAction,
  StatusChip,
  useLiveErrors,
  type ErrorGroupRow,
} from '../components/errors-shared.tsx';
import { useGql } from '../lib/graphql.ts';

/** How many occurrences a group keeps (SPEC §4): the list can never be longer. */
const KEPT_OCCURRENCES = 50;

interface Occurrence {
  ts: string;
  pod: string;
  container: string;
  level: string;
  message: string;
  hasStack: boolean;
  url: string | null;
  requestId: string | null;
  traceId: string | null;
}

interface DetailData {
  llm: { available: boolean };
  errorGroup:
    | (Omit<ErrorGroupRow, 'bestSample'> & {
        cluster: string;
        ownCount: number;
        count1m: number;
        count24h: number;
        countersAt: string;
        regressedAt: string | null;
        resolvedAt: string | null;
        statusChangedAt: string | null;
        bestSample: {
          ts: string;
          pod: string;
          container: string;
          exceptionType: string | null;
          message: string;
          stack: string | null;
          url: string | null;
          requestId: string | null;
          traceId: string | null;
          truncated: boolean;
        } | null;
        occurrences: Occurrence[];
        kept: { pod: string; container: string }[];
        fault: FaultData | null;
        llmAnalysis: LlmErrorAnalysis | null;
      })
    | null;
}

const DETAIL_QUERY = `query ErrorGroupDetail($id: ID!, $occ: OccurrenceFilter) {
  llm { available }
  errorGroup(id: $id) {
    ${ERROR_GROUP_FIELDS}
    cluster ownCount count1m count24h countersAt regressedAt resolvedAt statusChangedAt
    bestSample { ts pod container exceptionType message stack url requestId traceId truncated }
    occurrences(filter: $occ, first: ${KEPT_OCCURRENCES}) { ts pod container level message hasStack url requestId traceId }
    kept: occurrences(first: ${KEPT_OCCURRENCES}) { pod container }
    fault { faultKey title groupCount workloads clusters count groups { id title workload namespace cluster status count lastSeen } }
    llmAnalysis {
      id status reason code message model requestedAt answeredAt citationsValid
      errorGroup { rootCause impact fix severity confidence }
      position { topic partition offset }
    }
  }
}`;

/** `2026-11-26T08:00` (a datetime-local value, read as UTC) → ISO, or null. */
function utcInput(v: string | null): string | null {
  if (!v) return null;
  const t = Date.parse(`${v}Z`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export default function ErrorDetail() {
  useLiveErrors();
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const occ = {
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    pod: params.get('pod') ?? '',
    container: params.get('container') ?? '',
    search: params.get('oq') ?? '',
  };
  const filter: Record<string, string> = {};
  const from = utcInput(occ.from);
  const to = utcInput(occ.to);
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (occ.pod) filter.pod = occ.pod;
  if (occ.container) filter.container = occ.container;
  if (occ.search) filter.search = occ.search;
  const q = useGql<DetailData>('errorGroup', DETAIL_QUERY, { id, occ: filter });
  const set = (k: string, v: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (v) next.set(k, v);
        else next.delete(k);
        return next;
      },
      { replace: true },
    );

  return (
    <div className="err-detail">
      <p>
        <Link to="/errors">← Errors</Link>
      </p>
      <QueryState q={q} what="the error group">
        {(d) => {
          const g = d.errorGroup;
          if (!g)
            return (
              <>
                <h1>Error group not found</h1>
                <Empty>
                  No error group has the id <code>{id}</code> in the projections: it may have been deleted, or
                  the link is from another cluster. <Link to="/errors">See every group</Link>.
                </Empty>
              </>
            );
          const filtered = Object.keys(filter).length > 0;
          return (
            <>
              <header className="err-detail-head">
                <div className="err-row-head">
                  <ErrorLevelChip level={g.level} />
                  <h1 className="err-detail-title">{g.title}</h1>
                  {g.spike ? <span className="err-spike">SPIKE</span> : null}
                </div>
                <div className="err-chips">
                  {g.exceptionType ? <span className="err-exception">{g.exceptionType}</span> : null}
                  <Link
                    className="chip"
                    to={`/errors?namespace=${encodeURIComponent(g.namespace)}&workload=${encodeURIComponent(g.workload)}`}
                  >
                    {g.workloadKind ?? 'workload'} {g.namespace}/{g.workload}
                  </Link>
                  <Chip>{g.reason}</Chip>
                  <StatusChip status={g.status} regressed={g.regressed} />
                  <StatusAction id={g.id} status={g.status} title={g.title} />
                </div>
              </header>
              <div className="err-detail-grid">
                <div className="err-detail-main">
                  <section className="panel" aria-label="Statistics">
                    <h2>Stats</h2>
                    <dl className="err-stats">
                      <div>
                        <dt>Occurrences</dt>
                        <dd>
                          {g.count}
                          {g.count !== g.ownCount ? <span className="muted"> ({g.ownCount} own)</span> : null}
                        </dd>
                      </div>
                      <div>
                        <dt>Rate</dt>
                        <dd>
                          <Rates count5m={g.count5m} count1h={g.count1h} />
                        </dd>
                      </div>
                      <div>
                        <dt>Last 24 h</dt>
                        <dd>{g.count24h}</dd>
                      </div>
                      <div>
                        <dt>Last hour, per 5 min</dt>
                        <dd>
                          <Sparkline values={g.sparkline} label="Occurrences per 5 minutes, last hour" />
                        </dd>
                      </div>
                      <div>
                        <dt>First seen</dt>
                        <dd>
                          <TimeAgo at={g.firstSeen} />
                        </dd>
                      </div>
                      <div>
                        <dt>Last seen</dt>
                        <dd>
                          <TimeAgo at={g.lastSeen} />
                        </dd>
                      </div>
                      <div>
                        <dt>Last pod</dt>
                        <dd>
                          {g.lastPod} / {g.lastContainer}
                        </dd>
                      </div>
                      <div>
                        <dt>Fingerprint</dt>
                        <dd>
                          <code>{g.fingerprint}</code>
                        </dd>
                      </div>
                    </dl>
                  </section>
                  <section className="panel" aria-labelledby="err-sample">
                    <h2 id="err-sample">{g.bestSample?.stack ? 'Stack trace' : 'Sample'}</h2>
                    {g.bestSample ? (
                      <>
                        <p className="muted">
                          Best sample from {g.bestSample.pod} / {g.bestSample.container},{' '}
                          <TimeAgo at={g.bestSample.ts} />
                          {g.bestSample.url ? ` · ${g.bestSample.url}` : ''}
                          {g.bestSample.requestId ? ` · request ${g.bestSample.requestId}` : ''}
                          {g.bestSample.traceId ? ` · trace ${g.bestSample.traceId}` : ''}
                        </p>
                        <pre
                          className="err-pre"
                          tabIndex={0}
                          aria-label={g.bestSample.stack ? 'Stack trace' : 'Sample message'}
                        >
                          {g.bestSample.stack
                            ? `${g.bestSample.message}\n${g.bestSample.stack}`
                            : g.bestSample.message}
                        </pre>
                        {g.bestSample.truncated ? (
                          <p role="note" className="muted">
                            The sample was truncated when it was collected (lines are capped at 16 KiB, traces
                            at 200 lines).
                          </p>
                        ) : null}
                      </>
                    ) : (
                      <Empty>No sample kept for this group.</Empty>
                    )}
                  </section>
                  <section className="panel" aria-labelledby="err-occurrences">
                    <h2 id="err-occurrences">Occurrences</h2>
                    <OccurrenceFilters occ={occ} kept={g.kept} set={set} />
                    {g.ownCount > KEPT_OCCURRENCES ? (
                      <p role="note" className="err-notice">
                        Showing the latest {KEPT_OCCURRENCES} of {g.ownCount} occurrences: hetu keeps the
                        latest {KEPT_OCCURRENCES} of each group (the counts above are exact).
                      </p>
                    ) : null}
                    <p className="muted" aria-live="polite">
                      {g.occurrences.length} shown{filtered ? ` of the ${g.kept.length} kept (filtered)` : ''}
                    </p>
                    {g.occurrences.length === 0 ? (
                      <Empty>No occurrence matches these filters.</Empty>
                    ) : (
                      <div
                        className="err-table-wrap"
                        role="region"
                        aria-label="Occurrences (scrolls sideways)"
                      >
                        <table className="err-occ-table">
                          <caption className="visually-hidden">Occurrences, newest first</caption>
                          <thead>
                            <tr>
                              <th scope="col">Time (UTC)</th>
                              <th scope="col">Pod / container</th>
                              <th scope="col">Level</th>
                              <th scope="col">Message</th>
                            </tr>
                          </thead>
                          <tbody>
                            {g.occurrences.map((o, i) => (
                              <tr key={`${o.ts}-${i}`}>
                                <td>
                                  <time dateTime={o.ts}>{o.ts.replace('T', ' ').replace('Z', '')}</time>
                                </td>
                                <td>
                                  {o.pod} / {o.container}
                                </td>
                                <td>{o.level}</td>
                                <td className="err-occ-message">
                                  {o.message}
                                  {o.hasStack ? <Chip>stack</Chip> : null}
                                  {o.url ? <div className="muted">{o.url}</div> : null}
                                  {o.requestId || o.traceId ? (
                                    <div className="muted">
                                      {o.requestId ? `request ${o.requestId} ` : ''}
                                      {o.traceId ? `trace ${o.traceId}` : ''}
                                    </div>
                                  ) : null}
                                </td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </div>
                    )}
                  </section>
                  <AiAnalysisCard a={g.llmAnalysis} llmAvailable={d.llm.available} />
                  <MergeSplit
                    id={g.id}
                    namespace={g.namespace}
                    workload={g.workload}
                    mergedInto={g.mergedInto}
                    mergedChildren={g.mergedChildren}
                  />
                </div>
                <ContextPanel
                  groupId={g.id}
                  namespace={g.namespace}
                  workload={g.workload}
                  workloadKind={g.workloadKind}
                  fault={g.fault}
                />
              </div>
            </>
          );
        }}
      </QueryState>
    </div>
  );
}

function OccurrenceFilters({
  occ,
  kept,
  set,
}: {
  occ: { from: string; to: string; pod: string; container: string; search: string };
  kept: { pod: string; container: string }[];
  set: (k: string, v: string) => void;
}) {
  const id = useId();
  const pods = [...new Set([...kept.map((k) => k.pod), ...(occ.pod ? [occ.pod] : [])])].sort();
  const containers = [
    ...new Set([...kept.map((k) => k.container), ...(occ.container ? [occ.container] : [])]),
  ].sort();
  return (
    <form className="err-filters" aria-label="Filter occurrences" onSubmit={(e) => e.preventDefault()}>
      <div className="err-field">
        <label htmlFor={`${id}-from`}>From (UTC)</label>
        <input
          id={`${id}-from`}
          type="datetime-local"
          value={occ.from}
          onChange={(e) => set('from', e.target.value)}
        />
      </div>
      <div className="err-field">
        <label htmlFor={`${id}-to`}>To (UTC)</label>
        <input
          id={`${id}-to`}
          type="datetime-local"
          value={occ.to}
          onChange={(e) => set('to', e.target.value)}
        />
      </div>
      <SelectField
        id={`${id}-pod`}
        label="Pod"
        value={occ.pod}
        onChange={(v) => set('pod', v)}
        options={pods}
        all="All pods"
      />
      <SelectField
        id={`${id}-container`}
        label="Container"
        value={occ.container}
        onChange={(v) => set('container', v)}
        options={containers}
        all="All containers"
      />
      <div className="err-field err-search">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          defaultValue={occ.search}
          placeholder="message or URL"
          onKeyDown={(e) => {
            if (e.key === 'Enter') set('oq', e.currentTarget.value);
          }}
          onBlur={(e) => set('oq', e.currentTarget.value)}
        />
      </div>
    </form>
  );
}
