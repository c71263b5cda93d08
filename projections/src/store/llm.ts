/**
 * The `llm` projection: LLM analyses and answers (hetu.facts.llm-analyses, compacted), the
 * "analysis requested" events (hetu.llm.requests: a request with no outcome yet is pending) and the
 * daily token budget (hetu.facts.llm-usage). Every one of these topics is optional: the projection
 * reads those that exist, and decodes them with the writer's schema, so it works before and after
 * the LLM records settle (fields it does not find are null).
 */
import { keysetPage, Where, type Page } from './page.ts';
import {
  ProjectionStore,
  fromDoc,
  storeFile,
  toDoc,
  type DecodedRecord,
  type ProjectionChange,
} from './store.ts';

export const LLM_ANALYSES_TOPIC = 'hetu.facts.llm-analyses';
export const LLM_REQUESTS_TOPIC = 'hetu.llm.requests';
export const LLM_USAGE_TOPIC = 'hetu.facts.llm-usage';

/** An LLM outcome as decoded (LlmAnalysis.avsc); fields are read defensively. */
export type LlmAnalysisDoc = Record<string, unknown> & {
  readonly id?: string;
  readonly cluster?: string;
  readonly subjectKind?: string;
  readonly subjectId?: string;
  readonly status?: string;
  readonly requestedAt?: number;
};

export interface LlmAnalysisRow {
  readonly key: string;
  readonly cluster: string;
  /** incident, error-group or question. */
  readonly subjectKind: string;
  readonly subjectId: string;
  readonly analysis: LlmAnalysisDoc;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface LlmRequestRow {
  readonly id: string;
  readonly cluster: string;
  readonly subjectKind: string;
  readonly subjectId: string;
  readonly trigger: string;
  readonly requestedAt: number;
  /** True while no outcome (analysis) with the request's id was recorded. */
  readonly pending: boolean;
}

export interface LlmUsageRow {
  readonly day: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly calls: number;
  readonly limit: number;
  readonly ts: number;
}

const s = (v: unknown): string => (typeof v === 'string' ? v : '');
const n = (v: unknown): number =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v ?? 0) || 0;

/** Parses `<cluster>/incident/<id>`, `<cluster>/error-group/<id>`, `<cluster>/question/<incident>/<request>`. */
function parseAnalysisKey(key: string): { cluster: string; kind: string; subject: string } {
  const parts = key.split('/');
  return { cluster: parts[0] ?? '', kind: parts[1] ?? '', subject: parts[2] ?? '' };
}

export class LlmStore extends ProjectionStore {
  readonly topics: readonly string[] = [];
  override readonly optionalTopics = [LLM_ANALYSES_TOPIC, LLM_REQUESTS_TOPIC, LLM_USAGE_TOPIC];

  constructor(dataDir?: string) {
    super('llm', storeFile(dataDir, 'llm'));
    this.init(`
      CREATE TABLE IF NOT EXISTS llm_analyses (
        key TEXT PRIMARY KEY, cluster TEXT NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL,
        request_id TEXT NOT NULL, status TEXT NOT NULL, requested_at INTEGER NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS llm_subject ON llm_analyses (cluster, subject_kind, subject_id, requested_at);
      CREATE INDEX IF NOT EXISTS llm_request ON llm_analyses (request_id);
      CREATE TABLE IF NOT EXISTS llm_requests (
        id TEXT PRIMARY KEY, cluster TEXT NOT NULL, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL,
        trigger TEXT NOT NULL, requested_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS llm_req_subject ON llm_requests (cluster, subject_kind, subject_id);
      CREATE TABLE IF NOT EXISTS llm_usage (
        day TEXT PRIMARY KEY, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, calls INTEGER NOT NULL,
        lim INTEGER NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const pos = { topic: r.topic, partition: r.partition, offset: r.offset };
    if (r.topic === LLM_USAGE_TOPIC) {
      if (r.value === null) {
        this.sql('DELETE FROM llm_usage WHERE day = ?').run(r.key);
        return;
      }
      const u = r.value as Record<string, unknown>;
      this.sql(
        'INSERT OR REPLACE INTO llm_usage (day, input_tokens, output_tokens, calls, lim, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        s(u['day']) || r.key,
        n(u['inputTokens']),
        n(u['outputTokens']),
        n(u['calls']),
        n(u['limit']),
        n(u['ts']),
      );
      changes.push({ ...pos, kind: 'llm-usage', cluster: '', id: r.key, deleted: false });
      return;
    }
    if (r.topic === LLM_REQUESTS_TOPIC) {
      if (r.value === null) return;
      const q = r.value as Record<string, unknown>;
      const id = s(q['id']);
      if (id === '') return;
      if (s(q['trigger']) === 'deleted') {
        this.sql('DELETE FROM llm_requests WHERE cluster = ? AND subject_kind = ? AND subject_id = ?').run(
          s(q['cluster']),
          s(q['subjectKind']),
          s(q['subjectId']),
        );
        return;
      }
      this.sql(
        `INSERT OR REPLACE INTO llm_requests (id, cluster, subject_kind, subject_id, trigger, requested_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        s(q['cluster']),
        s(q['subjectKind']),
        s(q['subjectId']),
        s(q['trigger']),
        n(q['requestedAt'] ?? q['ts']),
      );
      changes.push({
        ...pos,
        kind: 'llm-requested',
        cluster: s(q['cluster']),
        id,
        deleted: false,
        tags: { subjectKind: s(q['subjectKind']), incidentId: s(q['subjectId']) },
      });
      return;
    }
    const k = parseAnalysisKey(r.key);
    if (r.value === null) {
      this.sql('DELETE FROM llm_analyses WHERE key = ?').run(r.key);
      changes.push({
        ...pos,
        kind: 'llm-analysis',
        cluster: k.cluster,
        id: r.key,
        deleted: true,
        tags: { subjectKind: k.kind, incidentId: k.kind === 'error-group' ? null : k.subject },
      });
      return;
    }
    const a = r.value as LlmAnalysisDoc;
    const subjectKind = s(a.subjectKind) || k.kind;
    const subjectId = s(a.subjectId) || k.subject;
    this.sql(
      `INSERT OR REPLACE INTO llm_analyses (key, cluster, subject_kind, subject_id, request_id, status, requested_at, doc,
         src_topic, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.key,
      s(a.cluster) || k.cluster,
      subjectKind,
      subjectId,
      s(a.id),
      s(a.status),
      n(a.requestedAt ?? a['ts']),
      toDoc(a),
      r.topic,
      r.partition,
      r.offset,
    );
    changes.push({
      ...pos,
      kind: 'llm-analysis',
      cluster: s(a.cluster) || k.cluster,
      id: r.key,
      deleted: false,
      tags: {
        subjectKind,
        incidentId: subjectKind === 'error-group' ? null : subjectId,
        status: s(a.status),
      },
    });
  }

  private row = (r: {
    key: string;
    cluster: string;
    subject_kind: string;
    subject_id: string;
    doc: string;
    src_topic: string;
    src_partition: number;
    src_offset: number;
  }): LlmAnalysisRow => ({
    key: r.key,
    cluster: r.cluster,
    subjectKind: r.subject_kind,
    subjectId: r.subject_id,
    analysis: fromDoc<LlmAnalysisDoc>(r.doc),
    topic: r.src_topic,
    partition: r.src_partition,
    offset: String(r.src_offset),
  });

  /**
   * The latest outcome of each subject (one query): `kind` incident or error-group; for `question`
   * every answer about the incident, oldest first.
   */
  analysesOf(kind: string, keys: readonly { cluster: string; id: string }[]): LlmAnalysisRow[][] {
    this.count(`analysesOf:${kind}`);
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT * FROM llm_analyses WHERE subject_kind = ? AND (cluster, subject_id) IN (VALUES ${keys
          .map(() => '(?, ?)')
          .join(', ')}) ORDER BY requested_at, key`,
      )
      .all(kind, ...keys.flatMap((k) => [k.cluster, k.id])) as Parameters<typeof this.row>[0][];
    return keys.map((k) =>
      rows.filter((r) => r.cluster === k.cluster && r.subject_id === k.id).map(this.row),
    );
  }

  /** Requests of the subjects with no outcome yet. */
  pendingOf(kinds: readonly string[], keys: readonly { cluster: string; id: string }[]): LlmRequestRow[][] {
    this.count('pendingOf');
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT q.*, NOT EXISTS (SELECT 1 FROM llm_analyses a WHERE a.request_id = q.id) AS pending FROM llm_requests q
         WHERE q.subject_kind IN (${kinds.map(() => '?').join(', ')}) AND (q.cluster, q.subject_id) IN (VALUES ${keys.map(() => '(?, ?)').join(', ')})
         ORDER BY q.requested_at, q.id`,
      )
      .all(...kinds, ...keys.flatMap((k) => [k.cluster, k.id])) as {
      id: string;
      cluster: string;
      subject_kind: string;
      subject_id: string;
      trigger: string;
      requested_at: number;
      pending: number;
    }[];
    return keys.map((k) =>
      rows
        .filter((r) => r.cluster === k.cluster && r.subject_id === k.id && r.pending === 1)
        .map((r) => ({
          id: r.id,
          cluster: r.cluster,
          subjectKind: r.subject_kind,
          subjectId: r.subject_id,
          trigger: r.trigger,
          requestedAt: r.requested_at,
          pending: true,
        })),
    );
  }

  byKey(key: string): LlmAnalysisRow | null {
    this.count('byKey');
    const r = this.sql('SELECT * FROM llm_analyses WHERE key = ?').get(key) as
      | Parameters<typeof this.row>[0]
      | undefined;
    return r ? this.row(r) : null;
  }

  /** Outcomes, newest first. */
  list(
    filter: { cluster?: string | null; status?: readonly string[] | null; subjectKind?: string | null },
    first: number,
    after?: string | null,
  ): Page<LlmAnalysisRow> {
    this.count('list');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .in('status', filter.status)
      .eq('subject_kind', filter.subjectKind);
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
      {
        from: 'llm_analyses',
        select: '*',
        where: w,
        sort: { col: 'requested_at', desc: true },
        tie: 'key',
        first,
        after,
        map: this.row,
      },
    );
  }

  statusCounts(): { status: string; count: number }[] {
    this.count('statusCounts');
    return this.sql(
      'SELECT status, COUNT(*) AS count FROM llm_analyses GROUP BY status ORDER BY status',
    ).all() as {
      status: string;
      count: number;
    }[];
  }

  pendingCount(): number {
    this.count('pendingCount');
    return (
      this.sql(
        'SELECT COUNT(*) AS n FROM llm_requests q WHERE NOT EXISTS (SELECT 1 FROM llm_analyses a WHERE a.request_id = q.id)',
      ).get() as { n: number }
    ).n;
  }

  /** Usage per UTC day, newest first. */
  usage(days: number): LlmUsageRow[] {
    this.count('usage');
    return (
      this.sql('SELECT * FROM llm_usage ORDER BY day DESC LIMIT ?').all(days) as {
        day: string;
        input_tokens: number;
        output_tokens: number;
        calls: number;
        lim: number;
        ts: number;
      }[]
    ).map((r) => ({
      day: r.day,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      calls: r.calls,
      limit: r.lim,
      ts: r.ts,
    }));
  }
}
