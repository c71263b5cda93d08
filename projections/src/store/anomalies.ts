/**
 * The `anomalies` projection: anomaly episodes (hetu.facts.anomalies, compacted; tombstones delete
 * closed episodes after their retention). The samples around an episode are not stored here: the
 * API reads them from hetu.raw.metrics through the log (series.ts).
 */
import type { AnomalyEpisode } from '@hetu/schemas';
import { Where, type Page } from './page.ts';
import {
  ProjectionStore,
  fromDoc,
  splitKey,
  storeFile,
  toDoc,
  type DecodedRecord,
  type ProjectionChange,
} from './store.ts';

export const ANOMALIES_TOPIC = 'hetu.facts.anomalies';

export interface AnomalyRow {
  readonly episode: AnomalyEpisode;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface AnomalyFilter {
  readonly cluster?: string | null;
  readonly status?: readonly string[] | null;
  readonly metric?: readonly string[] | null;
  readonly namespace?: string | null;
  readonly severity?: readonly string[] | null;
  /** Matches the series key (metric and labels). */
  readonly search?: string | null;
}

export class AnomaliesStore extends ProjectionStore {
  readonly topics = [ANOMALIES_TOPIC];

  constructor(dataDir?: string) {
    super('anomalies', storeFile(dataDir, 'anomalies'));
    this.init(`
      CREATE TABLE IF NOT EXISTS anomalies (
        cluster TEXT NOT NULL, id TEXT NOT NULL, metric TEXT NOT NULL, status TEXT NOT NULL, namespace TEXT,
        severity TEXT NOT NULL, opened_at INTEGER NOT NULL, series TEXT NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS an_opened ON anomalies (opened_at);
      CREATE INDEX IF NOT EXISTS an_id ON anomalies (id);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const [cluster, id] = splitKey(r.key);
    const base = { kind: 'anomaly', cluster, id, topic: r.topic, partition: r.partition, offset: r.offset };
    if (r.value === null) {
      this.sql('DELETE FROM anomalies WHERE cluster = ? AND id = ?').run(cluster, id);
      changes.push({ ...base, deleted: true });
      return;
    }
    const e = r.value as AnomalyEpisode;
    this.sql(
      `INSERT OR REPLACE INTO anomalies (cluster, id, metric, status, namespace, severity, opened_at, series, doc,
         src_topic, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.cluster,
      e.id,
      e.metric,
      e.status,
      e.labels['namespace'] ?? null,
      e.peakSeverity,
      e.openedAt,
      e.seriesKey.toLowerCase(),
      toDoc(e),
      r.topic,
      r.partition,
      r.offset,
    );
    changes.push({
      ...base,
      deleted: false,
      tags: { namespace: e.labels['namespace'] ?? null, status: e.status },
    });
  }

  private row = (r: {
    doc: string;
    src_topic: string;
    src_partition: number;
    src_offset: number;
  }): AnomalyRow => ({
    episode: fromDoc<AnomalyEpisode>(r.doc),
    topic: r.src_topic,
    partition: r.src_partition,
    offset: String(r.src_offset),
  });

  /** Episodes, newest opened first. */
  list(filter: AnomalyFilter, first: number, after?: string | null): Page<AnomalyRow> {
    this.count('list');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .in('status', filter.status)
      .in('metric', filter.metric)
      .eq('namespace', filter.namespace)
      .in('severity', filter.severity)
      .like('series', filter.search);
    return this.docPage({
      from: 'anomalies',
      where: w,
      sort: { col: 'opened_at', desc: true },
      tie: "cluster || '/' || id",
      first,
      after,
      map: this.row,
    });
  }

  byIds(keys: readonly { cluster: string | null; id: string }[]): (AnomalyRow | null)[] {
    this.count('byIds');
    return this.rowsByIds('anomalies', keys, this.row);
  }

  /** Open episodes (overview count). */
  openCount(cluster: string | null): number {
    this.count('openCount');
    return this.memo(`openCount\u0000${cluster}`, () => {
      const w = new Where().eq('cluster', cluster).add("status = 'open'");
      return (
        this.db.prepare(`SELECT COUNT(*) AS n FROM anomalies ${w.sql()}`).get(...w.params) as { n: number }
      ).n;
    });
  }
}
