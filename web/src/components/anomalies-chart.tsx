/**
 * One anomaly episode: its facts (severity, peak z and score, open/closed, samples) and the chart of
 * its series (read through the log by the API) with the expected band and the anomalous points.
 */
import { useMemo } from 'react';
import { Chip, Empty, QueryState, TimeChart, type ChartSeries } from './common.tsx';
import { EventTime, severityTone, statusTone } from './incidents-command.tsx';
import { expectedBand } from './anomalies-band.ts';
import { useGql } from '../lib/graphql.ts';

export interface AnomalyData {
  id: string;
  seriesKey: string;
  metric: string;
  namespace: string | null;
  status: string;
  openedAt: string;
  lastAnomalousAt: string;
  closedAt: string | null;
  closeReason: string | null;
  peakZ: number;
  peakScore: number;
  peakSeverity: string;
  anomalousSamples: number;
  labels: { name: string; value: string }[];
}

const SERIES = /* GraphQL */ `
  query AnomalySeries($id: ID!) {
    anomaly(id: $id) {
      id
      series(beforeSeconds: 1800, afterSeconds: 600, limit: 500) {
        from
        to
        truncated
        samples {
          ts
          value
        }
      }
    }
  }
`;

interface SeriesData {
  anomaly: {
    id: string;
    series: { from: string; to: string; truncated: boolean; samples: { ts: string; value: number | null }[] };
  } | null;
}

/** A unit for the axis, so large values (bytes, counts) keep readable ticks. */
export function unitFor(metric: string, values: (number | null)[]): { div: number; unit: string } {
  const max = Math.max(0, ...values.map((v) => Math.abs(v ?? 0)));
  if (metric.endsWith('_bytes')) {
    if (max >= 2 ** 30) return { div: 2 ** 30, unit: 'GiB' };
    if (max >= 2 ** 20) return { div: 2 ** 20, unit: 'MiB' };
    return { div: 1, unit: 'bytes' };
  }
  if (max >= 1e9) return { div: 1e9, unit: '×10⁹' };
  if (max >= 1e6) return { div: 1e6, unit: '×10⁶' };
  if (max >= 1e4) return { div: 1e3, unit: '×10³' };
  return { div: 1, unit: '' };
}

function Chart({
  anomaly,
  samples,
}: {
  anomaly: AnomalyData;
  samples: { ts: string; value: number | null }[];
}) {
  const { x, series, count } = useMemo(() => {
    const ts = samples.map((s) => Date.parse(s.ts));
    const values = samples.map((s) => s.value);
    const band = expectedBand({
      ts,
      values,
      openedAt: Date.parse(anomaly.openedAt),
      lastAnomalousAt: Date.parse(anomaly.lastAnomalousAt),
    });
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue('--muted').trim() || '#57606a';
    const critical = css.getPropertyValue('--critical').trim() || '#b42318';
    const { div, unit } = unitFor(anomaly.metric, values);
    const scale = (xs: (number | null)[]) => (div === 1 ? xs : xs.map((v) => (v === null ? null : v / div)));
    const s: ChartSeries[] = [
      { label: unit ? `${anomaly.metric} (${unit})` : anomaly.metric, values: scale(values) },
      { label: 'expected', values: scale(band.expected), stroke: muted, dash: [2, 4] },
      { label: 'band low', values: scale(band.lower), stroke: muted, dash: [6, 4] },
      { label: 'band high', values: scale(band.upper), stroke: muted, dash: [6, 4] },
      { label: 'anomalous', values: scale(band.anomalous), stroke: critical, points: true },
    ];
    return { x: ts.map((t) => t / 1000), series: s, count: band.anomalousCount };
  }, [anomaly, samples]);
  return (
    <>
      <TimeChart
        x={x}
        series={series}
        height={260}
        title={`${anomaly.metric} around the episode: ${samples.length} samples, ${count} anomalous points outside the expected band`}
      />
      <p className="muted an-legend">
        Solid: the series. Dashed: the expected band (rolling mean ± 3 standard deviations of the previous
        normal samples). Dots: {count} anomalous {count === 1 ? 'point' : 'points'} of this episode.
      </p>
    </>
  );
}

export function AnomalyChart({ anomaly }: { anomaly: AnomalyData }) {
  const q = useGql<SeriesData>('anomaly', SERIES, { id: anomaly.id });
  return (
    <section className="panel an-detail" aria-labelledby="an-detail-title" data-anomaly-detail={anomaly.id}>
      <h2 id="an-detail-title">{anomaly.metric}</h2>
      <p className="an-key">
        <code>{anomaly.seriesKey}</code>
      </p>
      <dl className="an-facts">
        <div>
          <dt>Status</dt>
          <dd>
            <Chip tone={statusTone(anomaly.status)}>{anomaly.status}</Chip>
            {anomaly.closeReason ? <span className="muted"> ({anomaly.closeReason})</span> : null}
          </dd>
        </div>
        <div>
          <dt>Severity</dt>
          <dd>
            <Chip tone={severityTone(anomaly.peakSeverity)}>{anomaly.peakSeverity}</Chip>
          </dd>
        </div>
        <div>
          <dt>Peak score</dt>
          <dd>
            {anomaly.peakScore.toFixed(3)} <span className="muted">(z {anomaly.peakZ.toFixed(1)})</span>
          </dd>
        </div>
        <div>
          <dt>Anomalous samples</dt>
          <dd>{anomaly.anomalousSamples}</dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>
            <EventTime at={anomaly.openedAt} />
          </dd>
        </div>
        <div>
          <dt>{anomaly.closedAt ? 'Closed' : 'Last anomalous'}</dt>
          <dd>
            <EventTime at={anomaly.closedAt ?? anomaly.lastAnomalousAt} />
          </dd>
        </div>
      </dl>
      <QueryState q={q} what="the series">
        {({ anomaly: a }) =>
          !a || a.series.samples.length === 0 ? (
            <Empty>
              No samples of this series are left in the log around the episode (retention may have removed
              them).
            </Empty>
          ) : (
            <>
              <Chart anomaly={anomaly} samples={a.series.samples} />
              {a.series.truncated ? (
                <p className="muted">More samples were in the window than shown (the first 500).</p>
              ) : null}
            </>
          )
        }
      </QueryState>
    </section>
  );
}
