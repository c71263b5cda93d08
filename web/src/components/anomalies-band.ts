/**
 * The expected band of an anomaly chart, computed in the browser from the samples the API returns
 * around the episode (docs/dashboard-pages.md, "Anomalies"): SPEC §5's reference detector, a
 * rolling mean ± 3 sample standard deviations of the previous (at most 60) normal samples, shown
 * from 10 samples on. Samples of the episode (openedAt … lastAnomalousAt) that fall outside the
 * band, and the sample that opened the episode, are the anomalous points; anomalous samples are
 * not learned, so the band keeps showing what was normal before.
 */
export interface BandInput {
  ts: number[];
  values: (number | null)[];
  openedAt: number;
  lastAnomalousAt: number;
}

export interface Band {
  lower: (number | null)[];
  upper: (number | null)[];
  expected: (number | null)[];
  anomalous: (number | null)[];
  anomalousCount: number;
}

const WINDOW = 60;
const MIN = 10;
const K = 3;

export function expectedBand({ ts, values, openedAt, lastAnomalousAt }: BandInput): Band {
  const lower: (number | null)[] = [];
  const upper: (number | null)[] = [];
  const expected: (number | null)[] = [];
  const anomalous: (number | null)[] = [];
  const window: number[] = [];
  let anomalousCount = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const v = values[i] ?? null;
    let lo: number | null = null;
    let hi: number | null = null;
    let mean: number | null = null;
    if (window.length >= MIN) {
      const m = window.reduce((a, b) => a + b, 0) / window.length;
      const sd = Math.sqrt(window.reduce((a, b) => a + (b - m) * (b - m), 0) / (window.length - 1));
      mean = m;
      lo = m - K * sd;
      hi = m + K * sd;
    }
    lower.push(lo);
    upper.push(hi);
    expected.push(mean);
    const inEpisode = t >= openedAt && t <= lastAnomalousAt;
    const outside = v !== null && lo !== null && hi !== null && (v < lo || v > hi);
    const isAnomalous = v !== null && inEpisode && (outside || t === openedAt);
    anomalous.push(isAnomalous ? v : null);
    if (isAnomalous) anomalousCount++;
    if (v !== null && !isAnomalous) {
      window.push(v);
      if (window.length > WINDOW) window.shift();
    }
  }
  return { lower, upper, expected, anomalous, anomalousCount };
}
