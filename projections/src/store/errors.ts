/**
 * The `errors` projection: error groups (hetu.facts.error-groups, compacted; a tombstone deletes),
 * with indexed columns for the filters (status, workload, namespace, reason, search) and sorts
 * (lastSeen, count, severity, rate5m) of SPEC §4, and the fault roll-up by faultKey.
 */
import type { ErrorGroup } from '@hetu/schemas';
import { keysetPage, Where, type Page } from './page.ts';
import {
  ProjectionStore,
  fromDoc,
  splitKey,
  storeFile,
  toDoc,
  type DecodedRecord,
  type ProjectionChange,
} from './store.ts';

export const ERROR_GROUPS_TOPIC = 'hetu.facts.error-groups';

export interface ErrorGroupRow {
  readonly group: ErrorGroup;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ErrorGroupFilter {
  readonly cluster?: string | null;
  readonly status?: readonly string[] | null;
  readonly workload?: string | null;
  readonly namespace?: string | null;
  readonly reason?: readonly string[] | null;
  readonly level?: readonly string[] | null;
  readonly search?: string | null;
  readonly spike?: boolean | null;
  readonly faultKey?: string | null;
  /** Groups merged into another are hidden unless this is true. */
  readonly includeMerged?: boolean | null;
}

export type ErrorGroupSort = 'lastSeen' | 'count' | 'severity' | 'rate5m';

const SORT_COL: Record<ErrorGroupSort, string> = {
  lastSeen: 'last_seen',
  count: 'count',
  // Severity rank first, then the latest: a fixed-width text key keeps one column for the cursor.
  severity: "printf('%d/%016d', severity_rank, last_seen)",
  rate5m: "printf('%016d/%016d', count5m, last_seen)",
};

export interface ErrorSummaryRow {
  readonly groups: number;
  readonly open: number;
  readonly resolved: number;
  readonly ignored: number;
  readonly regressed: number;
  readonly spiking: number;
  readonly openErrors: number;
  readonly warnings: number;
  readonly occurrences: number;
  readonly count1h: number;
  readonly count24h: number;
  readonly byReason: readonly { key: string; groups: number; occurrences: number }[];
  readonly byNamespace: readonly { key: string; groups: number; occurrences: number }[];
  readonly byWorkload: readonly { key: string; groups: number; occurrences: number }[];
}

export interface FaultRow {
  readonly faultKey: string;
  readonly groups: number;
  readonly workloads: number;
  readonly clusters: readonly string[];
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly title: string;
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

export class ErrorsStore extends ProjectionStore {
  readonly topics = [ERROR_GROUPS_TOPIC];

  constructor(dataDir?: string) {
    super('errors', storeFile(dataDir, 'errors'));
    this.init(`
      CREATE TABLE IF NOT EXISTS error_groups (
        cluster TEXT NOT NULL, id TEXT NOT NULL, namespace TEXT NOT NULL, workload TEXT NOT NULL,
        fingerprint TEXT NOT NULL, fault_key TEXT NOT NULL, reason TEXT NOT NULL, level TEXT NOT NULL,
        severity_rank INTEGER NOT NULL, status TEXT NOT NULL, regressed INTEGER NOT NULL, spike INTEGER NOT NULL,
        merged_into TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
        count5m INTEGER NOT NULL, count1h INTEGER NOT NULL, count24h INTEGER NOT NULL, title TEXT NOT NULL,
        search TEXT NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS eg_last_seen ON error_groups (last_seen);
      CREATE INDEX IF NOT EXISTS eg_count ON error_groups (count);
      CREATE INDEX IF NOT EXISTS eg_workload ON error_groups (cluster, namespace, workload);
      CREATE INDEX IF NOT EXISTS eg_fault ON error_groups (fault_key);
      CREATE INDEX IF NOT EXISTS eg_id ON error_groups (id);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const [cluster, id] = splitKey(r.key);
    const base = {
      kind: 'error-group',
      cluster,
      id,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    };
    if (r.value === null) {
      const old = this.sql('SELECT namespace, workload FROM error_groups WHERE cluster = ? AND id = ?').get(
        cluster,
        id,
      ) as { namespace: string; workload: string } | undefined;
      this.sql('DELETE FROM error_groups WHERE cluster = ? AND id = ?').run(cluster, id);
      changes.push({
        ...base,
        deleted: true,
        tags: { namespace: old?.namespace ?? null, workload: old?.workload ?? null },
      });
      return;
    }
    const g = r.value as ErrorGroup;
    const search = [
      g.title,
      g.exceptionType ?? '',
      g.reason,
      g.workload,
      g.namespace,
      g.fingerprint,
      g.lastUrl ?? '',
    ]
      .join('\n')
      .toLowerCase();
    this.sql(
      `INSERT OR REPLACE INTO error_groups (cluster, id, namespace, workload, fingerprint, fault_key, reason, level,
         severity_rank, status, regressed, spike, merged_into, first_seen, last_seen, count, count5m, count1h, count24h,
         title, search, doc, src_topic, src_partition, src_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      g.cluster,
      g.id,
      g.namespace,
      g.workload,
      g.fingerprint,
      g.faultKey,
      g.reason,
      g.level,
      g.severityRank,
      g.status,
      g.regressed ? 1 : 0,
      g.spike ? 1 : 0,
      g.mergedInto,
      g.firstSeen,
      g.lastSeen,
      num(g.count),
      num(g.count5m),
      num(g.count1h),
      num(g.count24h),
      g.title,
      search,
      toDoc(g),
      r.topic,
      r.partition,
      r.offset,
    );
    changes.push({ ...base, deleted: false, tags: { namespace: g.namespace, workload: g.workload } });
  }

  private where(f: ErrorGroupFilter): Where {
    const w = new Where()
      .eq('cluster', f.cluster)
      .in('status', f.status)
      .eq('workload', f.workload)
      .eq('namespace', f.namespace)
      .in('reason', f.reason)
      .in('level', f.level)
      .eq('fault_key', f.faultKey)
      .like('search', f.search);
    if (f.spike != null) w.add('spike = ?', f.spike ? 1 : 0);
    if (f.includeMerged !== true) w.add('merged_into IS NULL');
    return w;
  }

  private row = (r: {
    doc: string;
    src_topic: string;
    src_partition: number;
    src_offset: number;
  }): ErrorGroupRow => ({
    group: fromDoc<ErrorGroup>(r.doc),
    topic: r.src_topic,
    partition: r.src_partition,
    offset: String(r.src_offset),
  });

  list(
    filter: ErrorGroupFilter,
    sort: ErrorGroupSort,
    first: number,
    after?: string | null,
  ): Page<ErrorGroupRow> {
    this.count('list');
    return this.docPage({
      from: 'error_groups',
      where: this.where(filter),
      sort: { col: SORT_COL[sort], desc: true },
      tie: "cluster || '/' || id",
      first,
      after,
      map: this.row,
    });
  }

  /** Groups by id (one query), in the order asked; a null cluster matches any cluster. */
  byIds(keys: readonly { cluster: string | null; id: string }[]): (ErrorGroupRow | null)[] {
    this.count('byIds');
    return this.rowsByIds('error_groups', keys, this.row);
  }

  /** Groups of several workloads at once (one query): key `<cluster>/<namespace>/<workload>`. */
  byWorkloads(keys: readonly string[]): ErrorGroupRow[][] {
    this.count('byWorkloads');
    if (keys.length === 0) return [];
    const uniq = [...new Set(keys)];
    const rows = this.db
      .prepare(
        `SELECT cluster || '/' || namespace || '/' || workload AS wk, doc, src_topic, src_partition, src_offset
         FROM error_groups WHERE merged_into IS NULL AND cluster || '/' || namespace || '/' || workload IN (${uniq
           .map(() => '?')
           .join(', ')}) ORDER BY last_seen DESC, id`,
      )
      .all(...uniq) as {
      wk: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    const by = new Map<string, ErrorGroupRow[]>();
    for (const r of rows) {
      let l = by.get(r.wk);
      if (!l) by.set(r.wk, (l = []));
      l.push(this.row(r));
    }
    return keys.map((k) => by.get(k) ?? []);
  }

  /** Unmerged groups of several faults at once (one query), most occurrences first. */
  byFaultKeys(keys: readonly { cluster: string | null; faultKey: string }[]): ErrorGroupRow[][] {
    this.count('byFaultKeys');
    if (keys.length === 0) return [];
    const uniq = [...new Set(keys.map((k) => k.faultKey))];
    const rows = this.db
      .prepare(
        `SELECT cluster, fault_key, doc, src_topic, src_partition, src_offset FROM error_groups
         WHERE merged_into IS NULL AND fault_key IN (${uniq.map(() => '?').join(', ')}) ORDER BY count DESC, cluster, id`,
      )
      .all(...uniq) as {
      cluster: string;
      fault_key: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    return keys.map((k) =>
      rows
        .filter((r) => r.fault_key === k.faultKey && (k.cluster === null || r.cluster === k.cluster))
        .map(this.row),
    );
  }

  summary(filter: {
    cluster?: string | null;
    namespace?: string | null;
    workload?: string | null;
  }): ErrorSummaryRow {
    this.count('summary');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .eq('namespace', filter.namespace)
      .eq('workload', filter.workload)
      .add('merged_into IS NULL');
    const t = this.db
      .prepare(
        `SELECT COUNT(*) AS groups,
           COALESCE(SUM(status = 'open'), 0) AS open, COALESCE(SUM(status = 'resolved'), 0) AS resolved,
           COALESCE(SUM(status = 'ignored'), 0) AS ignored, COALESCE(SUM(regressed), 0) AS regressed,
           COALESCE(SUM(spike), 0) AS spiking,
           COALESCE(SUM(status = 'open' AND severity_rank >= 4), 0) AS openErrors,
           COALESCE(SUM(severity_rank = 3), 0) AS warnings,
           COALESCE(SUM(count), 0) AS occurrences, COALESCE(SUM(count1h), 0) AS count1h,
           COALESCE(SUM(count24h), 0) AS count24h
         FROM error_groups ${w.sql()}`,
      )
      .get(...w.params) as Omit<ErrorSummaryRow, 'byReason' | 'byNamespace' | 'byWorkload'>;
    const by = (col: string) =>
      this.db
        .prepare(
          `SELECT ${col} AS key, COUNT(*) AS groups, SUM(count) AS occurrences FROM error_groups ${w.sql()}
           GROUP BY ${col} ORDER BY occurrences DESC, key`,
        )
        .all(...w.params) as { key: string; groups: number; occurrences: number }[];
    return {
      ...t,
      byReason: by('reason'),
      byNamespace: by('namespace'),
      byWorkload: by("namespace || '/' || workload"),
    };
  }

  /** Faults (groups sharing a faultKey across workloads and clusters), most occurrences first. */
  faults(
    filter: { cluster?: string | null; faultKeys?: readonly string[] | null },
    first: number,
    after?: string | null,
  ): Page<FaultRow> {
    this.count('faults');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .in('fault_key', filter.faultKeys)
      .add('merged_into IS NULL');
    const from = `(SELECT fault_key, COUNT(*) AS groups, COUNT(DISTINCT cluster || '/' || namespace || '/' || workload) AS workloads,
        group_concat(DISTINCT cluster) AS clusters, SUM(count) AS total, MIN(first_seen) AS first_seen,
        MAX(last_seen) AS last_seen, MIN(title) AS title FROM error_groups ${w.sql()} GROUP BY fault_key)`;
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...w.params, ...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...w.params, ...p) as { n: number }).n,
      {
        from,
        select: 'fault_key, groups, workloads, clusters, total, first_seen, last_seen, title',
        where: new Where(),
        sort: { col: "printf('%016d', total)", desc: true },
        tie: 'fault_key',
        first,
        after,
        map: (r: {
          fault_key: string;
          groups: number;
          workloads: number;
          clusters: string;
          total: number;
          first_seen: number;
          last_seen: number;
          title: string;
        }): FaultRow => ({
          faultKey: r.fault_key,
          groups: r.groups,
          workloads: r.workloads,
          clusters: r.clusters.split(',').sort(),
          count: r.total,
          firstSeen: r.first_seen,
          lastSeen: r.last_seen,
          title: r.title,
        }),
      },
    );
  }

  /** Cluster, namespace, workload and fact partition of groups, to key and route commands. */
  routeOf(
    cluster: string | null,
    id: string,
  ): { cluster: string; namespace: string; workload: string; partition: number } | null {
    this.count('routeOf');
    const r = this.sql(
      `SELECT cluster, namespace, workload, src_partition FROM error_groups WHERE id = ? ${cluster === null ? '' : 'AND cluster = ?'}
       ORDER BY cluster LIMIT 1`,
    ).get(...(cluster === null ? [id] : [id, cluster])) as
      | { cluster: string; namespace: string; workload: string; src_partition: number }
      | undefined;
    return r
      ? { cluster: r.cluster, namespace: r.namespace, workload: r.workload, partition: r.src_partition }
      : null;
  }

  /** Open groups at error level or above, spiking groups (overview counts). */
  counts(cluster: string | null): { open: number; spiking: number } {
    this.count('counts');
    return this.memo(`counts\u0000${cluster}`, () => {
      const w = new Where().eq('cluster', cluster).add('merged_into IS NULL');
      const r = this.db
        .prepare(
          `SELECT COALESCE(SUM(status = 'open' AND severity_rank >= 4), 0) AS open, COALESCE(SUM(spike), 0) AS spiking
           FROM error_groups ${w.sql()}`,
        )
        .get(...w.params) as { open: number; spiking: number };
      return r;
    });
  }
}
