/**
 * An incident's signal timeline: every signal in order of first sight, with a bar from its first
 * to its last sighting on the incident's time axis, what it says, and its evidence (log positions).
 */
import { Chip } from './common.tsx';
import { EventTime, severityTone } from './incidents-command.tsx';

export interface SignalData {
  source: string;
  key: string;
  kind: string;
  severity: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  cleared: boolean;
  clearedAt: string | null;
  node: string | null;
  resource: { kind: string; namespace: string; name: string };
  detail: {
    reason: string | null;
    message: string | null;
    container: string | null;
    exitCode: number | null;
    title: string | null;
    metric: string | null;
    value: number | null;
    z: number | null;
    oldImage: string | null;
    newImage: string | null;
  };
  evidence: { topic: string; partition: number; offset: string; ts: string; excerpt: string }[];
}

function describe(s: SignalData): string {
  const d = s.detail;
  if (d.oldImage || d.newImage) return `rollout ${d.oldImage ?? '?'} → ${d.newImage ?? '?'}`;
  if (d.metric)
    return `${d.metric}${d.value !== null ? ` = ${d.value}` : ''}${d.z !== null ? ` (z ${d.z.toFixed(1)})` : ''}`;
  if (d.title) return d.title;
  return [d.reason, d.message, d.exitCode !== null ? `exit ${d.exitCode}` : null].filter(Boolean).join(': ');
}

export function IncidentTimeline({ signals, omitted }: { signals: SignalData[]; omitted: number }) {
  if (signals.length === 0) return <p className="muted">No signals.</p>;
  const sorted = [...signals].sort(
    (a, b) => a.firstSeen.localeCompare(b.firstSeen) || a.key.localeCompare(b.key),
  );
  const t0 = Math.min(...sorted.map((s) => Date.parse(s.firstSeen)));
  const t1 = Math.max(...sorted.map((s) => Date.parse(s.clearedAt ?? s.lastSeen)), t0 + 1000);
  const pct = (t: string) => ((Date.parse(t) - t0) / (t1 - t0)) * 100;
  return (
    <div className="inc-timeline">
      <p className="muted">
        {signals.length} signals from <EventTime at={new Date(t0).toISOString()} /> to{' '}
        <EventTime at={new Date(t1).toISOString()} />
        {omitted ? `; ${omitted} more not kept` : ''}.
      </p>
      <ol className="inc-signals">
        {sorted.map((s) => {
          const left = pct(s.firstSeen);
          const width = Math.max(0.8, pct(s.clearedAt ?? s.lastSeen) - left);
          return (
            <li key={`${s.source}/${s.key}`} className="inc-signal">
              <div className="inc-signal-head">
                <EventTime at={s.firstSeen} /> <Chip tone={severityTone(s.severity)}>{s.severity}</Chip>{' '}
                <strong>{s.kind}</strong>{' '}
                <span>
                  {s.resource.kind} {s.resource.namespace ? `${s.resource.namespace}/` : ''}
                  {s.resource.name}
                </span>
                {s.count > 1 ? <span className="muted"> ×{s.count}</span> : null}
                {s.cleared ? (
                  <span className="muted">
                    {' '}
                    · cleared <EventTime at={s.clearedAt} />
                  </span>
                ) : null}
              </div>
              <div className="inc-signal-bar" aria-hidden="true">
                <span
                  style={{ left: `${left}%`, width: `${width}%` }}
                  className={`inc-bar-${severityTone(s.severity)}`}
                />
              </div>
              <div className="inc-signal-detail">{describe(s)}</div>
              {s.evidence.length ? (
                <details>
                  <summary>Evidence ({s.evidence.length})</summary>
                  <ul>
                    {s.evidence.map((e) => (
                      <li key={`${e.topic}/${e.partition}/${e.offset}`}>
                        <code>
                          {e.topic}/{e.partition}@{e.offset}
                        </code>{' '}
                        <EventTime at={e.ts} /> {e.excerpt}
                      </li>
                    ))}
                  </ul>
                </details>
              ) : null}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
