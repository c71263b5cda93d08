/**
 * The samples of an anomaly's series around its episode, read from hetu.raw.metrics through the
 * log (not kept in a store): the series' partition is found from its key (the catalogue's metric
 * key, murmur2 like the collectors), the first record of the window by binary search on the
 * records' timestamps, and the window is scanned with a bound.
 */
import type { AnomalyEpisode, MetricSampled, Serde } from '@hetu/schemas';
import { partitionForKey, type Log } from '@hetu/streams';

export const RAW_METRICS_TOPIC = 'hetu.raw.metrics';
/** Records may be up to this much older than the newest one (SPEC §1.1 late tolerance). */
const SLACK_MS = 5_000;

export interface SeriesSample {
  readonly ts: number;
  readonly value: number | null;
  readonly position: { topic: string; partition: number; offset: string };
}

export interface Series {
  readonly from: number;
  readonly to: number;
  readonly samples: readonly SeriesSample[];
  readonly truncated: boolean;
}

/** The key hetu.raw.metrics records of a series carry (topic catalogue). */
export function metricKey(cluster: string, labels: Readonly<Record<string, string>>): string {
  const ns = labels['namespace'];
  if (ns !== undefined) {
    const subject = labels['pod'] ?? labels['service'] ?? labels['persistentvolumeclaim'];
    return subject === undefined ? `${cluster}/${ns}` : `${cluster}/${ns}/${subject}`;
  }
  const node = labels['node'];
  if (node !== undefined) return `${cluster}/node/${node}`;
  return cluster;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export async function readSeries(
  log: Log,
  serde: Serde,
  episode: Pick<
    AnomalyEpisode,
    'cluster' | 'metric' | 'labels' | 'openedAt' | 'lastAnomalousAt' | 'closedAt'
  >,
  opts: { beforeMs: number; afterMs: number; limit: number; maxScan?: number },
): Promise<Series> {
  const from = episode.openedAt - opts.beforeMs;
  const to = (episode.closedAt ?? episode.lastAnomalousAt) + opts.afterMs;
  const [info] = await log.describeTopics([RAW_METRICS_TOPIC]);
  if (!info || info.partitions.length === 0) return { from, to, samples: [], truncated: false };
  const key = Buffer.from(metricKey(episode.cluster, episode.labels));
  const partition = partitionForKey(key, info.partitions.length);
  const p = info.partitions.find((x) => x.partition === partition);
  if (!p || p.high <= p.low) return { from, to, samples: [], truncated: false };
  // First offset whose record is not older than the window (minus the late slack).
  let lo = p.low;
  let hi = p.high;
  while (lo < hi) {
    const mid = lo + (hi - lo) / 2n;
    const [r] = await log.read(RAW_METRICS_TOPIC, partition, {
      fromOffset: mid,
      toOffset: hi,
      maxRecords: 1,
    });
    if (r === undefined) hi = mid;
    else if (r.timestamp < from - SLACK_MS) lo = r.offset + 1n;
    else hi = mid;
  }
  const samples: SeriesSample[] = [];
  const maxScan = opts.maxScan ?? 200_000;
  let scanned = 0;
  let truncated = false;
  let next = lo;
  scan: while (next < p.high) {
    const chunk = await log.read(RAW_METRICS_TOPIC, partition, { fromOffset: next, maxRecords: 2000 });
    if (chunk.length === 0) break;
    for (const r of chunk) {
      next = r.offset + 1n;
      if (++scanned > maxScan) {
        truncated = true;
        break scan;
      }
      if (r.timestamp > to + SLACK_MS) break scan;
      if (r.value === null || r.key === null || !r.key.equals(key)) continue;
      if (r.timestamp < from || r.timestamp > to) continue;
      const m: MetricSampled = await serde.decode(r.value, 'MetricSampled');
      if (m.name !== episode.metric || !sameLabels(m.labels, episode.labels)) continue;
      if (samples.length >= opts.limit) {
        truncated = true;
        break scan;
      }
      samples.push({
        ts: m.ts,
        value: Number.isFinite(m.value) ? m.value : null,
        position: { topic: RAW_METRICS_TOPIC, partition, offset: r.offset.toString() },
      });
    }
  }
  samples.sort((a, b) => a.ts - b.ts);
  return { from, to, samples, truncated };
}
