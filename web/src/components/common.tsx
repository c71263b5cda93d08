/**
 * Pieces every page uses: loading, empty and error states, level chips, times, sparklines and a
 * uPlot chart. Pages add their own components next to themselves; what two pages need lives here.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError } from '../lib/graphql.ts';
import { LEVEL_LABEL, levelOf } from '../lib/levels.ts';

export function Loading({ what = 'data' }: { what?: string }) {
  return (
    <p role="status" aria-live="polite" className="state state-loading">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const code = error instanceof ApiError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="state state-error">
      <strong>Could not load this.</strong> {message}
      {code ? <code className="muted"> {code}</code> : null}
      {code === 'HETU_API_UNAUTHENTICATED' || code === 'HETU_API_BAD_TOKEN' ? (
        <>
          {' '}
          <a href="/settings#token">Set an API token in Settings.</a>
        </>
      ) : null}
      {retry ? (
        <button type="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/**
 * The three states of a query in one place: `<QueryState q={q} what="incidents">{(data) => …}</QueryState>`.
 */
export function QueryState<T>({
  q,
  what,
  children,
}: {
  q: { isPending: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  what?: string;
  children: (data: T) => ReactNode;
}) {
  if (q.isPending) return <Loading what={what} />;
  if (q.error) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  if (q.data === undefined) return <Loading what={what} />;
  return <>{children(q.data)}</>;
}

/** A score with its level colour and label (null: no data yet, not healthy). */
export function ScoreValue({ score, label }: { score: number | null | undefined; label?: string }) {
  const level = levelOf(score);
  return (
    <span className={`score level-${level}`} title={LEVEL_LABEL[level]}>
      {label ? <span className="score-label">{label} </span> : null}
      <span className="score-number">{score === null || score === undefined ? '—' : Math.round(score)}</span>
      <span className="visually-hidden"> ({LEVEL_LABEL[level]})</span>
    </span>
  );
}

export function LevelChip({ score }: { score: number | null | undefined }) {
  const level = levelOf(score);
  return <span className={`chip chip-${level}`}>{LEVEL_LABEL[level]}</span>;
}

/** A coloured chip for a severity or status word (critical, high, warning, open, resolved, …). */
export function Chip({ tone, children }: { tone?: string; children: ReactNode }) {
  return <span className={`chip${tone ? ` chip-${tone}` : ''}`}>{children}</span>;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** The wall clock, updated every `everyMs` (for relative times). */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** "3 min ago" with the exact UTC time on hover (and for screen readers, in a <time>). */
export function TimeAgo({ at, now }: { at: string | null | undefined; now?: number }) {
  const wall = useNow();
  if (!at) return <span className="muted">—</span>;
  const t = Date.parse(at);
  if (Number.isNaN(t)) return <span>{at}</span>;
  const diff = (t - (now ?? wall)) / 1000;
  const abs = Math.abs(diff);
  const text =
    abs < 60
      ? rtf.format(Math.round(diff), 'second')
      : abs < 3600
        ? rtf.format(Math.round(diff / 60), 'minute')
        : abs < 86400
          ? rtf.format(Math.round(diff / 3600), 'hour')
          : rtf.format(Math.round(diff / 86400), 'day');
  return (
    <time dateTime={at} title={new Date(t).toISOString()}>
      {text}
    </time>
  );
}

/** A small inline SVG bar sparkline (e.g. an error group's 12 buckets). */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const w = 60;
  const h = 16;
  const max = Math.max(1, ...values);
  const bw = values.length ? w / values.length : w;
  return (
    <svg width={w} height={h} role="img" aria-label={`${label}: ${values.join(', ')}`} className="sparkline">
      {values.map((v, i) => {
        const bh = Math.max(v > 0 ? 1 : 0, (v / max) * h);
        return <rect key={i} x={i * bw + 0.5} y={h - bh} width={Math.max(1, bw - 1)} height={bh} />;
      })}
    </svg>
  );
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** CSS colour; defaults to the accent. */
  stroke?: string;
  /** Draw points only (e.g. anomalous points). */
  points?: boolean;
  /** Fill between this series and the one at `bandWith` (an expected band). */
  dash?: number[];
}

/** A time-series chart (uPlot): x in epoch seconds; one or more series. */
export function TimeChart({
  x,
  series,
  height = 220,
  title,
}: {
  x: number[];
  series: ChartSeries[];
  height?: number;
  title: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const accent = css.getPropertyValue('--accent').trim() || '#0b5cad';
    const text = css.getPropertyValue('--muted').trim() || '#57606a';
    const grid = css.getPropertyValue('--border').trim() || '#d0d7de';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        axes: [axis, axis],
        legend: { show: true },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke ?? accent,
            width: s.points ? 0 : 1.5,
            dash: s.dash,
            points: s.points ? { show: true, size: 7, fill: s.stroke ?? accent } : { show: false },
            spanGaps: false,
          })),
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, height]);
  return <div ref={ref} role="img" aria-label={title} className="chart" />;
}

/** One choice of a SelectField: a value shown as itself, or a [value, label] pair. */
export type SelectOption = string | readonly [value: string, label: string];

/**
 * A labelled `<select>` of the filter bars. `all` adds a first option with the value '' (e.g.
 * "All namespaces"), which the pages read as "no filter".
 */
export function SelectField(p: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly SelectOption[];
  all?: string;
  className?: string;
}) {
  return (
    <div className={p.className ?? 'err-field'}>
      <label htmlFor={p.id}>{p.label}</label>
      <select id={p.id} value={p.value} onChange={(e) => p.onChange(e.target.value)}>
        {p.all !== undefined ? <option value="">{p.all}</option> : null}
        {p.options.map((o) => {
          const [value, label] = typeof o === 'string' ? [o, o] : o;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
    </div>
  );
}
