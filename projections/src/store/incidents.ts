/**
 * The `incidents` projection: incidents (hetu.facts.incidents) and their deterministic RCA
 * (hetu.facts.rca), both compacted and keyed `<cluster>/<incident id>`; tombstones delete.
 */
import type { Incident, RcaReport } from '@hetu/schemas';
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

export const INCIDENTS_TOPIC = 'hetu.facts.incidents';
export const RCA_TOPIC = 'hetu.facts.rca';

export interface IncidentRow {
  readonly incident: Incident;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RcaRow {
  readonly report: RcaReport;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface IncidentFilter {
  readonly cluster?: string | null;
  readonly status?: readonly string[] | null;
  readonly severity?: readonly string[] | null;
  readonly namespace?: string | null;
  /** A workload name its signals touch. */
  readonly workload?: string | null;
  readonly search?: string | null;
}

const SEVERITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };

export class IncidentsStore extends ProjectionStore {
  readonly topics = [INCIDENTS_TOPIC, RCA_TOPIC];

  constructor(dataDir?: string) {
    super('incidents', storeFile(dataDir, 'incidents'));
    this.init(`
      CREATE TABLE IF NOT EXISTS incidents (
        cluster TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL, opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        namespaces TEXT NOT NULL, workloads TEXT NOT NULL, search TEXT NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS inc_opened ON incidents (opened_at);
      CREATE INDEX IF NOT EXISTS inc_id ON incidents (id);
      CREATE TABLE IF NOT EXISTS rca (
        cluster TEXT NOT NULL, incident_id TEXT NOT NULL, category TEXT NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, incident_id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rca_id ON rca (incident_id);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const [cluster, id] = splitKey(r.key);
    const base = { cluster, id, topic: r.topic, partition: r.partition, offset: r.offset };
    if (r.topic === RCA_TOPIC) {
      if (r.value === null) {
        this.sql('DELETE FROM rca WHERE cluster = ? AND incident_id = ?').run(cluster, id);
        changes.push({ ...base, kind: 'rca', deleted: true, tags: { incidentId: id } });
        return;
      }
      const rep = r.value as RcaReport;
      this.sql(
        `INSERT OR REPLACE INTO rca (cluster, incident_id, category, doc, src_topic, src_partition, src_offset)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(rep.cluster, rep.incidentId, rep.category, toDoc(rep), r.topic, r.partition, r.offset);
      changes.push({ ...base, kind: 'rca', deleted: false, tags: { incidentId: rep.incidentId } });
      return;
    }
    if (r.value === null) {
      this.sql('DELETE FROM incidents WHERE cluster = ? AND id = ?').run(cluster, id);
      changes.push({ ...base, kind: 'incident', deleted: true, tags: { incidentId: id } });
      return;
    }
    const i = r.value as Incident;
    const workloads = i.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`);
    const search = [i.title, ...workloads, ...i.nodes].join('\n').toLowerCase();
    this.sql(
      `INSERT OR REPLACE INTO incidents (cluster, id, status, severity, severity_rank, opened_at, updated_at,
         namespaces, workloads, search, doc, src_topic, src_partition, src_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      i.cluster,
      i.id,
      i.status,
      i.severity,
      SEVERITY_RANK[i.severity] ?? 0,
      i.openedAt,
      i.updatedAt,
      `\n${i.namespaces.join('\n')}\n`,
      `\n${i.workloads.map((w) => w.name).join('\n')}\n`,
      search,
      toDoc(i),
      r.topic,
      r.partition,
      r.offset,
    );
    changes.push({ ...base, kind: 'incident', deleted: false, tags: { incidentId: i.id, status: i.status } });
  }

  private row = (r: {
    doc: string;
    src_topic: string;
    src_partition: number;
    src_offset: number;
  }): IncidentRow => ({
    incident: fromDoc<Incident>(r.doc),
    topic: r.src_topic,
    partition: r.src_partition,
    offset: String(r.src_offset),
  });

  /** Incidents, newest opened first. */
  list(filter: IncidentFilter, first: number, after?: string | null): Page<IncidentRow> {
    this.count('list');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .in('status', filter.status)
      .in('severity', filter.severity)
      .like('search', filter.search);
    if (filter.namespace) w.add('instr(namespaces, ?) > 0', `\n${filter.namespace}\n`);
    if (filter.workload) w.add('instr(workloads, ?) > 0', `\n${filter.workload}\n`);
    return this.docPage({
      from: 'incidents',
      where: w,
      sort: { col: 'opened_at', desc: true },
      tie: "cluster || '/' || id",
      first,
      after,
      map: this.row,
    });
  }

  byIds(keys: readonly { cluster: string | null; id: string }[]): (IncidentRow | null)[] {
    this.count('byIds');
    return this.rowsByIds('incidents', keys, this.row);
  }

  /** RCA reports of several incidents at once (one query), in the order asked. */
  rcaOf(keys: readonly { cluster: string; incidentId: string }[]): (RcaRow | null)[] {
    this.count('rcaOf');
    if (keys.length === 0) return [];
    const ids = [...new Set(keys.map((k) => k.incidentId))];
    const rows = this.db
      .prepare(
        `SELECT cluster, incident_id, doc, src_topic, src_partition, src_offset FROM rca WHERE incident_id IN (${ids
          .map(() => '?')
          .join(', ')})`,
      )
      .all(...ids) as {
      cluster: string;
      incident_id: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    return keys.map((k) => {
      const r = rows.find((x) => x.incident_id === k.incidentId && x.cluster === k.cluster);
      return r
        ? {
            report: fromDoc<RcaReport>(r.doc),
            topic: r.src_topic,
            partition: r.src_partition,
            offset: String(r.src_offset),
          }
        : null;
    });
  }

  /** Incidents touching each workload (`<cluster>/<namespace>/<name>`), one query. */
  byWorkloads(keys: readonly string[]): IncidentRow[][] {
    this.count('byWorkloads');
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        'SELECT cluster, doc, src_topic, src_partition, src_offset FROM incidents ORDER BY opened_at DESC, id',
      )
      .all() as {
      cluster: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    const parsed = rows.map((r) => this.row(r));
    return keys.map((k) =>
      parsed.filter((p) =>
        p.incident.workloads.some((w) => `${p.incident.cluster}/${w.namespace}/${w.name}` === k),
      ),
    );
  }

  /** Open (open or investigating) incidents, and the critical ones among them (overview counts). */
  counts(cluster: string | null): { open: number; critical: number } {
    this.count('counts');
    return this.memo(`counts\u0000${cluster}`, () => {
      const w = new Where().eq('cluster', cluster).add("status IN ('open', 'investigating')");
      return this.db
        .prepare(
          `SELECT COUNT(*) AS open, COALESCE(SUM(severity = 'critical'), 0) AS critical FROM incidents ${w.sql()}`,
        )
        .get(...w.params) as { open: number; critical: number };
    });
  }

  /** Cluster of an incident (to key its commands). */
  clusterOf(cluster: string | null, id: string): string | null {
    this.count('clusterOf');
    const r = this.sql(
      `SELECT cluster FROM incidents WHERE id = ? ${cluster === null ? '' : 'AND cluster = ?'} ORDER BY cluster LIMIT 1`,
    ).get(...(cluster === null ? [id] : [id, cluster])) as { cluster: string } | undefined;
    return r?.cluster ?? null;
  }
}
