/**
 * The `recommendations` projection: recommendations (hetu.facts.recommendations, compacted,
 * keyed `<cluster>/<id>`), with the summary of savings by type.
 */
import type { Recommendation } from '@hetu/schemas';
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

export const RECOMMENDATIONS_TOPIC = 'hetu.facts.recommendations';

export interface RecommendationRow {
  readonly recommendation: Recommendation;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RecommendationFilter {
  readonly cluster?: string | null;
  readonly type?: readonly string[] | null;
  readonly status?: readonly string[] | null;
  readonly severity?: readonly string[] | null;
  readonly namespace?: string | null;
  /** true: only those whose condition still holds (closedAt null); false: only closed ones. */
  readonly active?: boolean | null;
  readonly search?: string | null;
}

export interface RecommendationSummaryRow {
  readonly total: number;
  /** Status open and condition still holding. */
  readonly open: number;
  /** Sum of monthly savings of the open ones. */
  readonly monthlySavings: number;
  readonly byType: readonly { key: string; count: number; open: number; monthlySavings: number }[];
  readonly bySeverity: readonly { key: string; count: number; open: number; monthlySavings: number }[];
  readonly byStatus: readonly { key: string; count: number; open: number; monthlySavings: number }[];
}

const SEVERITY_RANK: Record<string, number> = { high: 3, medium: 2, low: 1 };

export class RecommendationsStore extends ProjectionStore {
  readonly topics = [RECOMMENDATIONS_TOPIC];

  constructor(dataDir?: string) {
    super('recommendations', storeFile(dataDir, 'recommendations'));
    this.init(`
      CREATE TABLE IF NOT EXISTS recommendations (
        cluster TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL, namespace TEXT, target_kind TEXT NOT NULL, target_name TEXT NOT NULL,
        closed INTEGER NOT NULL, updated_at INTEGER NOT NULL, monthly REAL NOT NULL, search TEXT NOT NULL,
        doc TEXT NOT NULL, src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rec_id ON recommendations (id);
      CREATE INDEX IF NOT EXISTS rec_target ON recommendations (cluster, namespace, target_name);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const [cluster, id] = splitKey(r.key);
    const base = {
      kind: 'recommendation',
      cluster,
      id,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    };
    if (r.value === null) {
      this.sql('DELETE FROM recommendations WHERE cluster = ? AND id = ?').run(cluster, id);
      changes.push({ ...base, deleted: true });
      return;
    }
    const x = r.value as Recommendation;
    this.sql(
      `INSERT OR REPLACE INTO recommendations (cluster, id, type, status, severity, severity_rank, namespace,
         target_kind, target_name, closed, updated_at, monthly, search, doc, src_topic, src_partition, src_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      x.cluster,
      x.id,
      x.type,
      x.status,
      x.severity,
      SEVERITY_RANK[x.severity] ?? 0,
      x.target.namespace,
      x.target.kind,
      x.target.name,
      x.closedAt === null ? 0 : 1,
      x.updatedAt,
      x.savings?.monthly ?? 0,
      [x.id, x.title, x.type].join('\n').toLowerCase(),
      toDoc(x),
      r.topic,
      r.partition,
      r.offset,
    );
    changes.push({ ...base, deleted: false, tags: { namespace: x.target.namespace } });
  }

  private row = (r: {
    doc: string;
    src_topic: string;
    src_partition: number;
    src_offset: number;
  }): RecommendationRow => ({
    recommendation: fromDoc<Recommendation>(r.doc),
    topic: r.src_topic,
    partition: r.src_partition,
    offset: String(r.src_offset),
  });

  private where(f: RecommendationFilter): Where {
    const w = new Where()
      .eq('cluster', f.cluster)
      .in('type', f.type)
      .in('status', f.status)
      .in('severity', f.severity)
      .eq('namespace', f.namespace)
      .like('search', f.search);
    if (f.active != null) w.add('closed = ?', f.active ? 0 : 1);
    return w;
  }

  /** Recommendations, most severe first, then by id. */
  list(filter: RecommendationFilter, first: number, after?: string | null): Page<RecommendationRow> {
    this.count('list');
    return this.docPage({
      from: 'recommendations',
      where: this.where(filter),
      sort: { col: 'severity_rank', desc: true },
      tie: "cluster || '/' || id",
      first,
      after,
      map: this.row,
    });
  }

  byIds(keys: readonly { cluster: string | null; id: string }[]): (RecommendationRow | null)[] {
    this.count('byIds');
    return this.rowsByIds('recommendations', keys, this.row);
  }

  /** Recommendations targeting each workload (`<cluster>/<namespace>/<name>`), one query. */
  byWorkloads(keys: readonly string[]): RecommendationRow[][] {
    this.count('byWorkloads');
    if (keys.length === 0) return [];
    const uniq = [...new Set(keys)];
    const rows = this.db
      .prepare(
        `SELECT cluster || '/' || COALESCE(namespace, '') || '/' || target_name AS wk, doc, src_topic, src_partition, src_offset
         FROM recommendations WHERE cluster || '/' || COALESCE(namespace, '') || '/' || target_name IN (${uniq
           .map(() => '?')
           .join(', ')}) ORDER BY severity_rank DESC, id`,
      )
      .all(...uniq) as {
      wk: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    return keys.map((k) => rows.filter((r) => r.wk === k).map(this.row));
  }

  summary(filter: RecommendationFilter): RecommendationSummaryRow {
    this.count('summary');
    return this.memo(`summary\u0000${JSON.stringify(filter)}`, () => {
      const w = this.where(filter);
      const openExpr = "(status = 'open' AND closed = 0)";
      const t = this.db
        .prepare(
          `SELECT COUNT(*) AS total, COALESCE(SUM(${openExpr}), 0) AS open,
             COALESCE(SUM(CASE WHEN ${openExpr} THEN monthly ELSE 0 END), 0) AS monthlySavings
           FROM recommendations ${w.sql()}`,
        )
        .get(...w.params) as { total: number; open: number; monthlySavings: number };
      const by = (col: string) =>
        (
          this.db
            .prepare(
              `SELECT ${col} AS key, COUNT(*) AS count, COALESCE(SUM(${openExpr}), 0) AS open,
                 COALESCE(SUM(CASE WHEN ${openExpr} THEN monthly ELSE 0 END), 0) AS monthlySavings
               FROM recommendations ${w.sql()} GROUP BY ${col} ORDER BY count DESC, key`,
            )
            .all(...w.params) as { key: string; count: number; open: number; monthlySavings: number }[]
        ).map((r) => ({ ...r, monthlySavings: Math.round(r.monthlySavings * 100) / 100 }));
      return {
        ...t,
        monthlySavings: Math.round(t.monthlySavings * 100) / 100,
        byType: by('type'),
        bySeverity: by('severity'),
        byStatus: by('status'),
      };
    });
  }

  clusterOf(cluster: string | null, id: string): string | null {
    this.count('clusterOf');
    const r = this.sql(
      `SELECT cluster FROM recommendations WHERE id = ? ${cluster === null ? '' : 'AND cluster = ?'} ORDER BY cluster LIMIT 1`,
    ).get(...(cluster === null ? [id] : [id, cluster])) as { cluster: string } | undefined;
    return r?.cluster ?? null;
  }
}
