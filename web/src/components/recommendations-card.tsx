/**
 * One recommendation: what, why, current vs suggested (from the evidence values its rule recorded),
 * the YAML patch with a copy button and the kubectl command, the savings, and the status actions
 * (recommendation.set-status commands).
 */
import { useState } from 'react';
import { Chip } from './common.tsx';
import { CommandStatus, EventTime, severityTone, statusTone, useCommand } from './incidents-command.tsx';

export interface RecommendationData {
  id: string;
  type: string;
  severity: string;
  title: string;
  rationale: string;
  patch: string | null;
  command: string | null;
  status: string;
  statusChangedAt: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  target: { kind: string; namespace: string | null; name: string; container: string | null };
  savings: { monthly: number; cpuCores: number; memoryBytes: number; replicas: number } | null;
  evidence: { from: string; to: string; samples: number; values: { name: string; value: number | null }[] };
}

const SET_STATUS = /* GraphQL */ `
  mutation SetRecommendationStatus($id: ID!, $status: RecommendationStatus!) {
    setRecommendationStatus(id: $id, status: $status) {
      id
      type
      position {
        topic
        partition
        offset
      }
    }
  }
`;

const ACTIONS: Record<string, [string, string][]> = {
  open: [
    ['accepted', 'Accept'],
    ['dismissed', 'Dismiss'],
  ],
  accepted: [
    ['applied', 'Mark applied'],
    ['open', 'Reopen'],
  ],
  dismissed: [['open', 'Reopen']],
  applied: [['open', 'Reopen']],
};

const MIB = 1024 * 1024;
const cores = (v: number) => (v < 1 ? `${Math.round(v * 1000)}m` : `${+v.toFixed(3)} cores`);
const milli = (v: number) => `${v}m`;
const mib = (bytes: number) => `${Math.round(bytes / MIB)}Mi`;

/** Rows of "what · current · suggested" for the types whose evidence records both. */
export function comparison(r: RecommendationData): [string, string, string][] {
  const v = new Map(r.evidence.values.map((x) => [x.name, x.value]));
  const n = (k: string) => {
    const x = v.get(k);
    return x === null || x === undefined ? null : x;
  };
  const rows: [string, string, string][] = [];
  if (r.type === 'rightsizing') {
    const cpuReq = n('cpuRequest');
    const cpuSug = n('cpuSuggestedRequestMilli');
    const cpuLim = n('cpuSuggestedLimitMilli');
    const cpuP95 = n('cpuP95');
    if (cpuSug !== null) {
      rows.push(['CPU request', cpuReq !== null ? cores(cpuReq) : '—', milli(cpuSug)]);
      if (cpuLim !== null) rows.push(['CPU limit', '—', milli(cpuLim)]);
      if (cpuP95 !== null) rows.push(['CPU p95 usage', cores(cpuP95), '']);
    }
    const memReq = n('memoryRequest');
    const memSug = n('memorySuggestedRequestMi');
    const memLim = n('memorySuggestedLimitMi');
    const memP95 = n('memoryP95');
    if (memSug !== null) {
      rows.push(['Memory request', memReq !== null ? mib(memReq) : '—', `${memSug}Mi`]);
      if (memLim !== null) rows.push(['Memory limit', '—', `${memLim}Mi`]);
      if (memP95 !== null) rows.push(['Memory p95 usage', mib(memP95), '']);
    }
  } else if (r.type === 'hpa-at-max' && n('suggestedMax') !== null) {
    rows.push(['Max replicas', String(n('max')), String(n('suggestedMax'))]);
    rows.push(['Current replicas', String(n('current')), '']);
  } else if (r.type === 'hpa-min-high' && n('suggestedMin') !== null) {
    rows.push(['Min replicas', String(n('min')), String(n('suggestedMin'))]);
    rows.push(['Current replicas', String(n('current')), '']);
  }
  return rows;
}

async function copyText(text: string, fallback: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallback) return false;
    fallback.select();
    return document.execCommand('copy');
  }
}

export function RecommendationCard({ r }: { r: RecommendationData }) {
  const setStatus = useCommand(SET_STATUS, [['recommendations']]);
  const [copied, setCopied] = useState<string | null>(null);
  const rows = comparison(r);
  const headingId = `rec-${r.id.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  return (
    <article className="panel rec-card" aria-labelledby={headingId} data-recommendation-id={r.id}>
      <header className="rec-head">
        <h2 id={headingId} className="rec-title">
          {r.title}
        </h2>
        <div className="rec-chips">
          <Chip tone={severityTone(r.severity)}>{r.severity}</Chip> <Chip>{r.type}</Chip>{' '}
          <span data-testid="recommendation-status">
            <Chip tone={statusTone(r.status)}>{r.status}</Chip>
          </span>
          {r.closedAt ? <Chip>condition cleared</Chip> : null}
        </div>
      </header>
      <p className="rec-target muted">
        {r.target.kind} {r.target.namespace ? `${r.target.namespace}/` : ''}
        {r.target.name}
        {r.target.container ? ` · container ${r.target.container}` : ''} · seen{' '}
        <EventTime at={r.evidence.from} /> to <EventTime at={r.evidence.to} /> ({r.evidence.samples} samples)
      </p>
      <p>{r.rationale}</p>
      {rows.length ? (
        <table className="rec-compare">
          <caption className="visually-hidden">Current and suggested values</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Current</th>
              <th scope="col">Suggested</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([what, cur, sug]) => (
              <tr key={what}>
                <th scope="row">{what}</th>
                <td>{cur}</td>
                <td>{sug ? <strong>{sug}</strong> : <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <dl className="rec-values">
          {r.evidence.values.map((x) => (
            <div key={x.name}>
              <dt>{x.name}</dt>
              <dd>{x.value === null ? '—' : +x.value.toFixed(4)}</dd>
            </div>
          ))}
        </dl>
      )}
      {r.savings && r.savings.monthly > 0 ? (
        <p className="rec-savings">
          Saves <strong>{r.savings.monthly.toFixed(2)}</strong> per month
          {r.savings.cpuCores ? ` (${+r.savings.cpuCores.toFixed(3)} cores` : ' ('}
          {r.savings.memoryBytes ? `, ${mib(r.savings.memoryBytes)}` : ''} × {r.savings.replicas} replicas)
        </p>
      ) : null}
      {r.patch ? (
        <div className="rec-patch">
          <div className="rec-patch-head">
            <span id={`${headingId}-patch`}>YAML patch</span>
            <button
              type="button"
              aria-label={`Copy the YAML patch of ${r.title}`}
              onClick={(e) => {
                const ta = e.currentTarget.parentElement?.parentElement?.querySelector('textarea') ?? null;
                void copyText(r.patch ?? '', ta).then((ok) =>
                  setCopied(ok ? 'Copied.' : 'Copy failed: select the text.'),
                );
              }}
            >
              Copy
            </button>
            <span role="status" aria-live="polite" className="muted">
              {copied}
            </span>
          </div>
          <pre className="rec-yaml" aria-labelledby={`${headingId}-patch`}>
            <code>{r.patch}</code>
          </pre>
          <textarea className="visually-hidden" readOnly value={r.patch} tabIndex={-1} aria-hidden="true" />
          {r.command ? (
            <p className="muted">
              Apply with <code>{r.command}</code>
            </p>
          ) : null}
        </div>
      ) : null}
      <div className="inc-actions" role="group" aria-label={`Status of ${r.title}`}>
        {(ACTIONS[r.status] ?? []).map(([status, label]) => (
          <button
            key={status}
            type="button"
            disabled={setStatus.isPending}
            onClick={() => setStatus.mutate({ id: r.id, status })}
          >
            {label}
          </button>
        ))}
        <CommandStatus m={setStatus} pending="Saving…" done="Status saved." />
      </div>
    </article>
  );
}
