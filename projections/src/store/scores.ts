/**
 * The `scores` projection: the current score of every scope (hetu.facts.scores, compacted) with an
 * index of the resources each rule lists (for drill-down level 4, impact), and the score history
 * (hetu.facts.score-history, one row per change, kept 30 days of event time).
 */
import type { ScopeScore, ScoreChanged } from '@hetu/schemas';
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

type ScoreDeduction = ScopeScore['deductions'][number];

export const SCORES_TOPIC = 'hetu.facts.scores';
export const SCORE_HISTORY_TOPIC = 'hetu.facts.score-history';
const HISTORY_TTL_MS = 30 * 24 * 3600 * 1000;

export interface ScoreRow {
  readonly score: ScopeScore;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface HistoryRow {
  readonly change: ScoreChanged;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** One rule at one scope a resource contributes to (SPEC §3.6 level 4). */
export interface ImpactRow {
  readonly cluster: string;
  readonly scope: string;
  readonly deduction: ScoreDeduction;
  /** The resource as the rule lists it at this scope, or at a narrower one. */
  readonly resource: ScoreDeduction['resources'][number];
  /** The resource's share of the rule's points at this scope: points ÷ count, two decimals. */
  readonly share: number;
}

export interface ScoreFilter {
  readonly cluster?: string | null;
  readonly scopeType?: string | null;
  readonly namespace?: string | null;
}

const DIMENSION_ORDER = ['reliability', 'security', 'cost', 'architecture'];

/** A scope's rank for ordering impacts: workload, namespace, cluster. */
function scopeRank(scope: string): number {
  return scope.startsWith('workload:') ? 0 : scope.startsWith('namespace:') ? 1 : 2;
}

/** points ÷ count, two decimals (SPEC §3.6 level 3). */
export function shareOf(points: number, count: number): number {
  return count === 0 ? 0 : Math.round((points / count) * 100) / 100;
}

/** The namespace of a `namespace:<ns>` or `workload:<ns>/<Kind>/<name>` scope. */
export function namespaceOfScope(scope: string): string | null {
  if (scope.startsWith('namespace:')) return scope.slice('namespace:'.length);
  if (scope.startsWith('workload:')) {
    const rest = scope.slice('workload:'.length);
    const i = rest.indexOf('/');
    return i < 0 ? null : rest.slice(0, i);
  }
  return null;
}

export class ScoresStore extends ProjectionStore {
  readonly topics = [SCORES_TOPIC, SCORE_HISTORY_TOPIC];

  constructor(dataDir?: string) {
    super('scores', storeFile(dataDir, 'scores'));
    this.init(`
      CREATE TABLE IF NOT EXISTS scores (
        cluster TEXT NOT NULL, scope TEXT NOT NULL, scope_type TEXT NOT NULL, namespace TEXT,
        workload_kind TEXT, workload_name TEXT, no_data INTEGER NOT NULL, overall INTEGER, ts INTEGER NOT NULL,
        doc TEXT NOT NULL, src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, scope)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS scores_by_type ON scores (scope_type, namespace);
      CREATE TABLE IF NOT EXISTS score_resources (
        cluster TEXT NOT NULL, scope TEXT NOT NULL, rule TEXT NOT NULL,
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (cluster, scope, rule, kind, namespace, name)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS score_resources_by_resource ON score_resources (cluster, kind, namespace, name);
      CREATE TABLE IF NOT EXISTS score_history (
        src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL, cluster TEXT NOT NULL, scope TEXT NOT NULL,
        ts INTEGER NOT NULL, overall_delta INTEGER, doc TEXT NOT NULL,
        PRIMARY KEY (src_partition, src_offset)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS score_history_by_scope ON score_history (cluster, scope, ts);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    const [cluster, scope] = splitKey(r.key);
    const base = { cluster, id: scope, topic: r.topic, partition: r.partition, offset: r.offset };
    if (r.topic === SCORE_HISTORY_TOPIC) {
      if (r.value === null) return;
      const c = r.value as ScoreChanged;
      this.sql(
        `INSERT OR REPLACE INTO score_history (src_partition, src_offset, cluster, scope, ts, overall_delta, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(r.partition, r.offset, c.cluster, c.scope, c.ts, c.overallDelta, toDoc(c));
      this.sql('DELETE FROM score_history WHERE cluster = ? AND scope = ? AND ts < ?').run(
        c.cluster,
        c.scope,
        c.ts - HISTORY_TTL_MS,
      );
      changes.push({ ...base, kind: 'score-history', deleted: false });
      return;
    }
    this.sql('DELETE FROM score_resources WHERE cluster = ? AND scope = ?').run(cluster, scope);
    if (r.value === null) {
      this.sql('DELETE FROM scores WHERE cluster = ? AND scope = ?').run(cluster, scope);
      changes.push({ ...base, kind: 'score', deleted: true });
      return;
    }
    const s = r.value as ScopeScore;
    this.sql(
      `INSERT OR REPLACE INTO scores (cluster, scope, scope_type, namespace, workload_kind, workload_name, no_data,
         overall, ts, doc, src_topic, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      s.cluster,
      s.scope,
      s.scopeType,
      s.namespace,
      s.workloadKind,
      s.workloadName,
      s.noData ? 1 : 0,
      s.overall,
      s.ts,
      toDoc(s),
      r.topic,
      r.partition,
      r.offset,
    );
    const ins = this.sql(
      'INSERT OR IGNORE INTO score_resources (cluster, scope, rule, kind, namespace, name) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const d of s.deductions)
      for (const res of d.resources)
        ins.run(s.cluster, s.scope, d.rule, res.kind, res.namespace ?? '', res.name);
    changes.push({ ...base, kind: 'score', deleted: false, tags: { namespace: s.namespace } });
  }

  private row(r: { doc: string; src_topic: string; src_partition: number; src_offset: number }): ScoreRow {
    return {
      score: fromDoc<ScopeScore>(r.doc),
      topic: r.src_topic,
      partition: r.src_partition,
      offset: String(r.src_offset),
    };
  }

  /** Clusters with at least one score. */
  clusters(): string[] {
    this.count('clusters');
    return this.memo('clusters', () =>
      (this.sql('SELECT DISTINCT cluster FROM scores ORDER BY cluster').all() as { cluster: string }[]).map(
        (r) => r.cluster,
      ),
    );
  }

  /** The scores of several scopes at once (one query), in the order asked; null where there is none. */
  scoresOf(keys: readonly { cluster: string; scope: string }[]): (ScoreRow | null)[] {
    this.count('scoresOf');
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT cluster, scope, doc, src_topic, src_partition, src_offset FROM scores WHERE (cluster, scope) IN (VALUES ${keys
          .map(() => '(?, ?)')
          .join(', ')})`,
      )
      .all(...keys.flatMap((k) => [k.cluster, k.scope])) as {
      cluster: string;
      scope: string;
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    const by = new Map(rows.map((r) => [`${r.cluster}\u0000${r.scope}`, r]));
    return keys.map((k) => {
      const r = by.get(`${k.cluster}\u0000${k.scope}`);
      return r ? this.row(r) : null;
    });
  }

  list(filter: ScoreFilter, first: number, after?: string | null): Page<ScoreRow> {
    this.count('list');
    return this.memo(`list\u0000${JSON.stringify([filter, first, after ?? null])}`, () => {
      const w = new Where()
        .eq('cluster', filter.cluster)
        .eq('scope_type', filter.scopeType)
        .eq('namespace', filter.namespace);
      return keysetPage(
        (sql, p) => this.db.prepare(sql).all(...p) as never[],
        (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
        {
          from: 'scores',
          select: 'doc, src_topic, src_partition, src_offset',
          where: w,
          sort: { col: 'cluster || char(31) || scope', desc: false },
          tie: 'scope',
          first,
          after,
          map: (r: { doc: string; src_topic: string; src_partition: number; src_offset: number }) =>
            this.row(r),
        },
      );
    });
  }

  /** Score changes of a scope in a time range, newest first. */
  history(
    cluster: string,
    scope: string,
    range: { from?: number | null; to?: number | null },
    first: number,
    after?: string | null,
  ): Page<HistoryRow> {
    this.count('history');
    const w = new Where().eq('cluster', cluster).eq('scope', scope);
    if (range.from != null) w.add('ts >= ?', range.from);
    if (range.to != null) w.add('ts <= ?', range.to);
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
      {
        from: 'score_history',
        select: 'doc, src_partition, src_offset',
        where: w,
        // ts then position: printf keeps the order of equal times by offset.
        sort: { col: "printf('%016d/%04d/%016d', ts, src_partition, src_offset)", desc: true },
        tie: "printf('%04d/%016d', src_partition, src_offset)",
        first,
        after,
        map: (r: { doc: string; src_partition: number; src_offset: number }) => ({
          change: fromDoc<ScoreChanged>(r.doc),
          topic: SCORE_HISTORY_TOPIC,
          partition: r.src_partition,
          offset: String(r.src_offset),
        }),
      },
    );
  }

  /** The latest change at or before `at`: the scope's score then (null when none was recorded). */
  changeAt(cluster: string, scope: string, at: number): ScoreChanged | null {
    this.count('changeAt');
    const r = this.sql(
      `SELECT doc FROM score_history WHERE cluster = ? AND scope = ? AND ts <= ?
       ORDER BY ts DESC, src_partition DESC, src_offset DESC LIMIT 1`,
    ).get(cluster, scope, at) as { doc: string } | undefined;
    return r ? fromDoc<ScoreChanged>(r.doc) : null;
  }

  /** `changeAt` for several scopes at once (one store call). */
  changesAt(keys: readonly { cluster: string; scope: string; at: number }[]): (ScoreChanged | null)[] {
    this.count('changesAt');
    const q = this.sql(
      `SELECT doc FROM score_history WHERE cluster = ? AND scope = ? AND ts <= ?
       ORDER BY ts DESC, src_partition DESC, src_offset DESC LIMIT 1`,
    );
    return keys.map((k) => {
      const r = q.get(k.cluster, k.scope, k.at) as { doc: string } | undefined;
      return r ? fromDoc<ScoreChanged>(r.doc) : null;
    });
  }

  /** The latest `first` changes of several scopes at once (one store call), newest first. */
  historiesOf(keys: readonly { cluster: string; scope: string; first: number }[]): HistoryRow[][] {
    this.count('historiesOf');
    const q = this.sql(
      `SELECT doc, src_partition, src_offset FROM score_history WHERE cluster = ? AND scope = ?
       ORDER BY ts DESC, src_partition DESC, src_offset DESC LIMIT ?`,
    );
    return keys.map((k) =>
      (
        q.all(k.cluster, k.scope, k.first) as { doc: string; src_partition: number; src_offset: number }[]
      ).map((r) => ({
        change: fromDoc<ScoreChanged>(r.doc),
        topic: SCORE_HISTORY_TOPIC,
        partition: r.src_partition,
        offset: String(r.src_offset),
      })),
    );
  }

  /**
   * Drill-down level 4 for several resources at once: every rule, at every scope, that the
   * resource contributes to. A rule lists at most 10 resources per scope, so a resource listed at a
   * narrow scope (its workload, its namespace) also counts at the wider scopes that hold it, with
   * the share of the rule's points there. Ordered workload, namespace, cluster, then rule order.
   */
  impactOf(
    refs: readonly { cluster: string; kind: string; namespace: string | null; name: string }[],
  ): ImpactRow[][] {
    this.count('impactOf');
    const find = this.sql(
      'SELECT scope, rule FROM score_resources WHERE cluster = ? AND kind = ? AND namespace = ? AND name = ?',
    );
    const docs = new Map<string, ScopeScore | null>();
    const scoreOf = (cluster: string, scope: string): ScopeScore | null => {
      const k = `${cluster}\u0000${scope}`;
      if (!docs.has(k)) {
        const r = this.sql('SELECT doc FROM scores WHERE cluster = ? AND scope = ?').get(cluster, scope) as
          | { doc: string }
          | undefined;
        docs.set(k, r ? fromDoc<ScopeScore>(r.doc) : null);
      }
      return docs.get(k) ?? null;
    };
    return refs.map((ref) => {
      const listed = find.all(ref.cluster, ref.kind, ref.namespace ?? '', ref.name) as {
        scope: string;
        rule: string;
      }[];
      const wanted = new Map<string, { scope: string; rule: string; listedAt: string }>();
      for (const l of listed) {
        const scopes = [l.scope];
        const ns = namespaceOfScope(l.scope);
        if (l.scope.startsWith('workload:') && ns !== null) scopes.push(`namespace:${ns}`);
        if (l.scope !== 'cluster') scopes.push('cluster');
        for (const s of scopes) {
          const k = `${s}\u0000${l.rule}`;
          const prev = wanted.get(k);
          if (prev === undefined) wanted.set(k, { scope: s, rule: l.rule, listedAt: l.scope });
          else if (s === l.scope) wanted.set(k, { scope: s, rule: l.rule, listedAt: s });
        }
      }
      const out: ImpactRow[] = [];
      for (const w of wanted.values()) {
        const score = scoreOf(ref.cluster, w.scope);
        const d = score?.deductions.find((x) => x.rule === w.rule);
        if (!d) continue;
        const listing =
          d.resources.find(
            (x) => x.kind === ref.kind && (x.namespace ?? null) === ref.namespace && x.name === ref.name,
          ) ??
          scoreOf(ref.cluster, w.listedAt)
            ?.deductions.find((x) => x.rule === w.rule)
            ?.resources.find(
              (x) => x.kind === ref.kind && (x.namespace ?? null) === ref.namespace && x.name === ref.name,
            );
        if (!listing) continue;
        out.push({
          cluster: ref.cluster,
          scope: w.scope,
          deduction: d,
          resource: listing,
          share: shareOf(d.points, d.count),
        });
      }
      return out.sort(
        (a, b) =>
          scopeRank(a.scope) - scopeRank(b.scope) ||
          (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0) ||
          DIMENSION_ORDER.indexOf(a.deduction.dimension) - DIMENSION_ORDER.indexOf(b.deduction.dimension) ||
          ruleIndex(scoreOf(a.cluster, a.scope), a.deduction.rule) -
            ruleIndex(scoreOf(b.cluster, b.scope), b.deduction.rule),
      );
    });
  }
}

function ruleIndex(score: ScopeScore | null, rule: string): number {
  return score?.deductions.findIndex((d) => d.rule === rule) ?? 0;
}
