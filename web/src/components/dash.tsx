/**
 * Pieces of the Overview, Drill-down and Settings pages: event times, signed points, panels, the
 * dimension names and the links into the drill-down (its state lives in the URL, see Drill.tsx).
 */
import type { ReactNode } from 'react';
import './dash.css';

export const DIMENSIONS = ['reliability', 'security', 'cost', 'architecture'] as const;
export type DimensionName = (typeof DIMENSIONS)[number];

export const DIMENSION_LABEL: Record<DimensionName, string> = {
  reliability: 'Reliability',
  security: 'Security',
  cost: 'Cost',
  architecture: 'Architecture',
};

export function isDimension(v: string | null): v is DimensionName {
  return v !== null && (DIMENSIONS as readonly string[]).includes(v);
}

/** An event time as UTC: "09:57:08 UTC" on the day of `day` (or no day given), else with the date. */
export function utc(at: string | null | undefined, withDate = false): string {
  if (!at) return '—';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  const iso = d.toISOString();
  return `${withDate ? `${iso.slice(0, 10)} ` : ''}${iso.slice(11, 19)} UTC`;
}

/** An event time in a <time> element, UTC (event times are the cluster's, not this browser's clock). */
export function EventAt({ at, withDate }: { at: string | null | undefined; withDate?: boolean }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={at}>
      {utc(at, withDate)}
    </time>
  );
}

/** Points or a delta with its sign: "−10", "+5", "0" (a true minus sign). */
export function signed(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined) return '—';
  const v = digits ? n.toFixed(digits) : String(Math.round(n));
  if (n > 0) return `+${v}`;
  if (n < 0) return `\u2212${v.slice(1)}`;
  return v;
}

export function Panel({
  title,
  id,
  actions,
  children,
  className,
}: {
  title: string;
  id: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`panel dash-panel${className ? ` ${className}` : ''}`} aria-labelledby={id}>
      <div className="dash-panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export interface DrillState {
  cluster?: string | null;
  scope?: string | null;
  dimension?: string | null;
  rule?: string | null;
  ns?: string | null;
  /** A resource as `Kind/namespace/name` (namespace empty for cluster-wide resources). */
  resource?: string | null;
}

/** The drill-down's URL for a state (only the given levels). */
export function drillHref(s: DrillState): string {
  const p = new URLSearchParams();
  for (const k of ['cluster', 'scope', 'dimension', 'rule', 'ns', 'resource'] as const) {
    const v = s[k];
    if (v) p.set(k, v);
  }
  const q = p.toString();
  return q ? `/drill?${q}` : '/drill';
}

export function resourceKey(r: { kind: string; namespace?: string | null; name: string }): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

export function parseResourceKey(
  key: string | null,
): { kind: string; namespace: string | null; name: string } | null {
  if (!key) return null;
  const [kind, namespace, ...rest] = key.split('/');
  const name = rest.join('/');
  if (!kind || !name) return null;
  return { kind, namespace: namespace ? namespace : null, name };
}

/** A scope's words: "cluster", "namespace shop", "Deployment shop/api". */
export function scopeLabel(scope: string): string {
  if (scope === 'cluster') return 'cluster';
  if (scope.startsWith('namespace:')) return `namespace ${scope.slice('namespace:'.length)}`;
  if (scope.startsWith('workload:')) {
    const [ns, kind, ...name] = scope.slice('workload:'.length).split('/');
    return `${kind} ${ns}/${name.join('/')}`;
  }
  return scope;
}

/** A tone for severity words (chips). */
export function severityTone(s: string | null | undefined): string {
  switch (s) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'medium':
    case 'warn':
    case 'warning':
      return 'degraded';
    default:
      return 'none';
  }
}
