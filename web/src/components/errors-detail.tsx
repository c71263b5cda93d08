/**
 * Pieces of the Error detail page: the AI analysis card, the context panel (incidents,
 * recommendations, groups sharing the faultKey) and merge / split.
 */
import { useId, useState } from 'react';
import { Link } from 'react-router';
import { Chip, Empty, QueryState, TimeAgo } from './common.tsx';
import { StatusChip, useErrorCommand, type Position } from './errors-shared.tsx';
import { useGql } from '../lib/graphql.ts';

export interface LlmErrorAnalysis {
  id: string | null;
  status: string | null;
  reason: string | null;
  code: string | null;
  message: string | null;
  model: string | null;
  requestedAt: string | null;
  answeredAt: string | null;
  citationsValid: boolean | null;
  errorGroup: {
    rootCause: string | null;
    impact: string | null;
    fix: string | null;
    severity: string | null;
    confidence: number | null;
  } | null;
  position: Position;
}

export interface FaultData {
  faultKey: string;
  title: string;
  groupCount: number;
  workloads: number;
  clusters: string[];
  count: number;
  groups: {
    id: string;
    title: string;
    workload: string;
    namespace: string;
    cluster: string;
    status: string;
    count: number;
    lastSeen: string;
  }[];
}

const SEVERITY_TONE: Record<string, string> = {
  critical: 'critical',
  high: 'high',
  medium: 'warning',
  low: 'none',
};

/**
 * The LLM's analysis of the group: root cause, impact, fix, severity, a confidence bar and links to
 * what it was given (the best sample and the latest occurrences; the analysis itself sits at a log
 * position). Without one it says why (no LLM configured, or none asked yet).
 */
export function AiAnalysisCard({ a, llmAvailable }: { a: LlmErrorAnalysis | null; llmAvailable: boolean }) {
  const headingId = useId();
  return (
    <section className="panel err-ai" aria-labelledby={headingId}>
      <h2 id={headingId}>AI analysis</h2>
      {!a ? (
        <Empty>
          {llmAvailable
            ? 'No analysis of this group yet: the LLM worker analyses a group when it spikes or regresses.'
            : 'No AI analysis: no LLM is configured (set HETU_LLM_BASE_URL and HETU_LLM_MODEL for hetu start). The deterministic facts above do not depend on it.'}
        </Empty>
      ) : !a.errorGroup ? (
        <div role="note" className="state state-error">
          The last request {a.status ?? 'failed'}
          {a.reason ? ` (${a.reason})` : ''}: {a.message ?? a.code ?? 'no answer'}
        </div>
      ) : (
        <>
          <dl className="err-facts">
            <dt>Root cause</dt>
            <dd>{a.errorGroup.rootCause ?? '—'}</dd>
            <dt>Impact</dt>
            <dd>{a.errorGroup.impact ?? '—'}</dd>
            <dt>Fix</dt>
            <dd>{a.errorGroup.fix ?? '—'}</dd>
            <dt>Severity</dt>
            <dd>
              {a.errorGroup.severity ? (
                <Chip tone={SEVERITY_TONE[a.errorGroup.severity] ?? 'none'}>{a.errorGroup.severity}</Chip>
              ) : (
                '—'
              )}
            </dd>
            <dt>Confidence</dt>
            <dd>
              <ConfidenceBar value={a.errorGroup.confidence} />
            </dd>
          </dl>
          <p className="muted">
            Evidence: <a href="#err-sample">the best sample</a> and{' '}
            <a href="#err-occurrences">the latest occurrences</a> · {a.model ?? 'model unknown'} · answered{' '}
            <TimeAgo at={a.answeredAt} /> · log position{' '}
            <code>
              {a.position.topic}/{a.position.partition}@{a.position.offset}
            </code>
            {a.citationsValid === false ? ' · it cited evidence that does not exist' : ''}
          </p>
        </>
      )}
    </section>
  );
}

function ConfidenceBar({ value }: { value: number | null }) {
  if (value === null) return <span className="muted">—</span>;
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span className="err-confidence">
      <progress max={100} value={pct} aria-label={`Confidence ${pct}%`} />
      <span>{pct}%</span>
    </span>
  );
}

interface ContextData {
  workload?: {
    incidents: { id: string; title: string; status: string; severity: string; openedAt: string }[];
    recommendations: { id: string; title: string; status: string; severity: string }[];
  } | null;
  incidents?: { nodes: { id: string; title: string; status: string; severity: string; openedAt: string }[] };
}

const CONTEXT_BY_WORKLOAD = `query ErrorContext($ns: String!, $kind: String!, $name: String!) {
  workload(namespace: $ns, kind: $kind, name: $name) {
    incidents { id title status severity openedAt }
    recommendations { id title status severity }
  }
}`;
const CONTEXT_BY_NAME = `query ErrorContextByName($ns: String!, $name: String!) {
  incidents(filter: { namespace: $ns, workload: $name }, first: 20) { nodes { id title status severity openedAt } }
}`;

/** Incidents and recommendations of the group's workload, and the groups sharing its faultKey. */
export function ContextPanel({
  groupId,
  namespace,
  workload,
  workloadKind,
  fault,
}: {
  groupId: string;
  namespace: string;
  workload: string;
  workloadKind: string | null;
  fault: FaultData | null;
}) {
  const q = useGql<ContextData>(
    'errorContext',
    workloadKind ? CONTEXT_BY_WORKLOAD : CONTEXT_BY_NAME,
    workloadKind ? { ns: namespace, kind: workloadKind, name: workload } : { ns: namespace, name: workload },
  );
  const siblings = (fault?.groups ?? []).filter((g) => g.id !== groupId);
  return (
    <aside className="err-context" aria-label="Context">
      <section className="panel">
        <h2>Incidents</h2>
        <QueryState q={q} what="incidents">
          {(d) => {
            const incidents = d.workload?.incidents ?? d.incidents?.nodes ?? [];
            return incidents.length === 0 ? (
              <Empty>No incident involves {workload}.</Empty>
            ) : (
              <ul className="err-links">
                {incidents.map((i) => (
                  <li key={i.id}>
                    <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link>{' '}
                    <Chip>{i.status}</Chip> <Chip tone={SEVERITY_TONE[i.severity]}>{i.severity}</Chip>
                  </li>
                ))}
              </ul>
            );
          }}
        </QueryState>
      </section>
      <section className="panel">
        <h2>Recommendations</h2>
        <QueryState q={q} what="recommendations">
          {(d) => {
            const recs = d.workload?.recommendations ?? [];
            return recs.length === 0 ? (
              <Empty>No recommendation for {workload}.</Empty>
            ) : (
              <ul className="err-links">
                {recs.map((r) => (
                  <li key={r.id}>
                    <Link to={`/recommendations?q=${encodeURIComponent(r.title)}`}>{r.title}</Link>{' '}
                    <Chip>{r.status}</Chip>
                  </li>
                ))}
              </ul>
            );
          }}
        </QueryState>
      </section>
      <section className="panel">
        <h2>Same fault elsewhere</h2>
        <p className="muted">
          faultKey <code>{fault?.faultKey ?? '—'}</code>
          {fault
            ? ` · ${fault.groupCount} groups in ${fault.workloads} workloads, ${fault.count} occurrences`
            : ''}
        </p>
        {siblings.length === 0 ? (
          <Empty>No other group shares this faultKey.</Empty>
        ) : (
          <ul className="err-links">
            {siblings.map((g) => (
              <li key={g.id}>
                <Link to={`/errors/${encodeURIComponent(g.id)}`}>
                  {g.namespace}/{g.workload}
                </Link>{' '}
                <StatusChip status={g.status} /> <span className="muted">{g.count}×</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </aside>
  );
}

interface Candidate {
  id: string;
  title: string;
  count: number;
  status: string;
  mergedInto: string | null;
}

const CANDIDATES = `query ErrorMergeCandidates($ns: String!, $wl: String!) {
  errorGroups(filter: { namespace: $ns, workload: $wl, status: [open, resolved, ignored], includeMerged: true }, first: 200) {
    nodes { id title count status mergedInto }
  }
}`;
const MERGE = `mutation MergeErrorGroups($target: ID!, $sources: [ID!]!) {
  mergeErrorGroups(target: $target, sources: $sources) { id position { topic partition offset } }
}`;
const SPLIT = `mutation SplitErrorGroup($id: ID!) {
  splitErrorGroup(id: $id) { id position { topic partition offset } }
}`;

/**
 * Merge other groups of the same workload into this one (merges stay in one workload: the command
 * goes to the workload's partition), or split merged groups off again.
 */
export function MergeSplit({
  id,
  namespace,
  workload,
  mergedInto,
  mergedChildren,
}: {
  id: string;
  namespace: string;
  workload: string;
  mergedInto: string | null;
  mergedChildren: string[];
}) {
  const headingId = useId();
  const q = useGql<{ errorGroups: { nodes: Candidate[] } }>('errorMergeCandidates', CANDIDATES, {
    ns: namespace,
    wl: workload,
  });
  const merge = useErrorCommand<{ target: string; sources: string[] }>(MERGE, 'mergeErrorGroups');
  const split = useErrorCommand<{ id: string }>(SPLIT, 'splitErrorGroup');
  const [picked, setPicked] = useState<string[]>([]);
  const titles = new Map((q.data?.errorGroups.nodes ?? []).map((g) => [g.id, g.title]));
  const candidates = (q.data?.errorGroups.nodes ?? []).filter((g) => g.id !== id && !g.mergedInto);
  const busy = merge.isPending || split.isPending;
  const error = merge.error ?? split.error;
  return (
    <section className="panel err-merge" aria-labelledby={headingId}>
      <h2 id={headingId}>Merge and split</h2>
      {mergedInto ? (
        <p>
          This group is merged into{' '}
          <Link to={`/errors/${encodeURIComponent(mergedInto)}`}>{titles.get(mergedInto) ?? mergedInto}</Link>
          .{' '}
          <button type="button" disabled={busy} onClick={() => split.mutate({ id })}>
            Split this group off
          </button>
        </p>
      ) : null}
      {mergedChildren.length ? (
        <>
          <h3>Merged into this group</h3>
          <ul className="err-links">
            {mergedChildren.map((c) => (
              <li key={c}>
                <Link to={`/errors/${encodeURIComponent(c)}`}>{titles.get(c) ?? c}</Link>{' '}
                <button
                  type="button"
                  disabled={busy}
                  aria-label={`Split ${titles.get(c) ?? c} off`}
                  onClick={() => split.mutate({ id: c })}
                >
                  Split off
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {!mergedInto ? (
        <QueryState q={q} what="groups of this workload">
          {() =>
            candidates.length === 0 ? (
              <Empty>No other group of {workload} to merge.</Empty>
            ) : (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  if (picked.length)
                    merge.mutate({ target: id, sources: picked }, { onSuccess: () => setPicked([]) });
                }}
              >
                <fieldset>
                  <legend>Other groups of {workload}: merge into this one</legend>
                  {candidates.map((c) => (
                    <label key={c.id} className="err-check">
                      <input
                        type="checkbox"
                        checked={picked.includes(c.id)}
                        onChange={(e) =>
                          setPicked(e.target.checked ? [...picked, c.id] : picked.filter((x) => x !== c.id))
                        }
                      />{' '}
                      {c.title}{' '}
                      <span className="muted">
                        ({c.count}×, {c.status})
                      </span>
                    </label>
                  ))}
                </fieldset>
                <button type="submit" disabled={busy || picked.length === 0}>
                  Merge {picked.length || ''} into this group
                </button>
              </form>
            )
          }
        </QueryState>
      ) : null}
      {busy ? (
        <p role="status" className="muted">
          Waiting for the command to reach the projections…
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="err-inline-error">
          {error.message}
        </p>
      ) : null}
    </section>
  );
}
