/**
 * The base of every projection store: one SQLite database (node:sqlite, a file under the data
 * directory or `:memory:`) holding a group of read models and, in the same transaction as their
 * rows, the position (topic, partition, offset) each input partition was applied up to. A record
 * at or below that position is skipped, so delivering a batch twice (a crash between the store's
 * commit and the log's) changes nothing: the fold is idempotent by position, as DESIGN §5 asks.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { crashPoint } from '@hetu/streams';
import { keysetPage, type Page, type SortKey, type Where } from './page.ts';

/** One input record, decoded, as a projection applies it. `value === null` is a tombstone. */
export interface DecodedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: string;
  /** The record's timestamp: event time as the writer gave it, ms since the epoch. */
  readonly timestamp: number;
  readonly value: unknown;
}

/** What a store changed when it applied a record: the API turns these into subscription events. */
export interface ProjectionChange {
  /** What changed, e.g. `score`, `error-group`, `incident`, `rca`, `llm-analysis`. */
  readonly kind: string;
  readonly cluster: string;
  /** The entity's id inside its kind (a scope, a group id, an incident id, …). */
  readonly id: string;
  /** True for a tombstone. */
  readonly deleted: boolean;
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Extra routing facts for subscription filters (namespace, workload, incident id, …). */
  readonly tags?: Readonly<Record<string, string | null>>;
}

/** The position a store applied one input partition up to. */
export interface AppliedPosition {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the last record applied. */
  readonly offset: bigint;
  /** Timestamp of the last record applied. */
  readonly ts: number;
  /** Records applied from this partition since the store was created. */
  readonly records: number;
}

const BASE_SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS store_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, ts INTEGER NOT NULL,
  records INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)) WITHOUT ROWID;
`;

/** JSON with int64 values (bigint) as decimal strings and byte arrays left out. */
export function toDoc(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return undefined;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}

export function fromDoc<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Where a store keeps its database: a directory, or nothing for memory. */
export function storeFile(dataDir: string | undefined, name: string): string {
  if (dataDir === undefined || dataDir === ':memory:') return ':memory:';
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, `${name}.sqlite`);
}

/** A stored document with the position of the record it came from. */
export interface DocRow {
  readonly doc: string;
  readonly src_topic: string;
  readonly src_partition: number;
  readonly src_offset: number;
}

export abstract class ProjectionStore {
  /** The projection group's name (also its database file's name). */
  readonly name: string;
  readonly db: DatabaseSync;
  /** A random id kept in the store: the consumer group is named after it, so a new store rebuilds. */
  readonly storeId: string;
  /** Topics the store needs. */
  abstract readonly topics: readonly string[];
  /** Topics read when they exist (e.g. LLM topics that may not be created yet). */
  readonly optionalTopics: readonly string[] = [];
  /** Calls of each query method, for tests that check loaders batch (no N+1). */
  readonly calls = new Map<string, number>();
  /** Records skipped because they were at or below the applied position. */
  skipped = 0;
  private readonly st: {
    applied: StatementSync;
    setApplied: StatementSync;
    allApplied: StatementSync;
  };
  private readonly cache = new Map<string, StatementSync>();

  constructor(name: string, file: string) {
    this.name = name;
    this.db = new DatabaseSync(file);
    this.db.exec(BASE_SCHEMA);
    this.st = {
      applied: this.db.prepare('SELECT offset FROM applied WHERE topic = ? AND partition = ?'),
      setApplied: this.db.prepare(
        `INSERT INTO applied (topic, partition, offset, ts, records) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (topic, partition) DO UPDATE SET offset = excluded.offset,
           ts = MAX(applied.ts, excluded.ts), records = applied.records + 1`,
      ),
      allApplied: this.db.prepare(
        'SELECT topic, partition, offset, ts, records FROM applied ORDER BY topic, partition',
      ),
    };
    const row = this.db.prepare("SELECT v FROM store_meta WHERE k = 'id'").get() as { v: string } | undefined;
    if (row) this.storeId = row.v;
    else {
      this.storeId = randomUUID();
      this.db.prepare("INSERT INTO store_meta (k, v) VALUES ('id', ?)").run(this.storeId);
    }
  }

  /** Creates the store's own tables; called once by the subclass constructor. */
  protected init(schema: string): void {
    this.db.exec(schema);
  }

  /** A cached prepared statement. */
  protected sql(text: string): StatementSync {
    let s = this.cache.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.cache.set(text, s);
    }
    return s;
  }

  /** Bumped by every applied batch: answers memoised with `memo` are good until it moves. */
  private version = 0;
  private readonly memos = new Map<string, { version: number; value: unknown }>();

  /**
   * The value of `compute` for `key`, computed again only after the store applied new records:
   * for whole-table answers every request asks for (the clusters, counts of the overview).
   */
  protected memo<T>(key: string, compute: () => T): T {
    const m = this.memos.get(key);
    if (m !== undefined && m.version === this.version) return m.value as T;
    const value = compute();
    if (this.memos.size >= 1000) this.memos.clear();
    this.memos.set(key, { version: this.version, value });
    return value;
  }

  /**
   * Rows of `table` by id, in the order asked (null where there is none; a null cluster matches
   * any), in one query: the loaders' batch read.
   */
  protected rowsByIds<T>(
    table: string,
    keys: readonly { cluster: string | null; id: string }[],
    map: (row: DocRow) => T,
  ): (T | null)[] {
    if (keys.length === 0) return [];
    const ids = [...new Set(keys.map((k) => k.id))];
    const rows = this.db
      .prepare(
        `SELECT cluster, id, doc, src_topic, src_partition, src_offset FROM ${table}
         WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY cluster`,
      )
      .all(...ids) as unknown as (DocRow & { cluster: string; id: string })[];
    return keys.map((k) => {
      const r = rows.find((x) => x.id === k.id && (k.cluster === null || x.cluster === k.cluster));
      return r ? map(r) : null;
    });
  }

  /** A keyset page of a table's documents (`keysetPage` on this store's database). */
  protected docPage<T>(opts: {
    readonly from: string;
    readonly where: Where;
    readonly sort: SortKey;
    readonly tie: string;
    readonly first: number;
    readonly after: string | null | undefined;
    readonly map: (row: DocRow) => T;
  }): Page<T> {
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
      { ...opts, select: 'doc, src_topic, src_partition, src_offset' },
    );
  }

  /** Counts a call of a query method (see `calls`). */
  protected count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  /** Applies one record: upserts or deletes rows, and says what changed. */
  protected abstract applyRecord(record: DecodedRecord, changes: ProjectionChange[]): void;

  /**
   * Applies records in one transaction with their positions. A record at or below the applied
   * position of its partition is skipped. Returns what changed.
   */
  applyBatch(records: readonly DecodedRecord[]): ProjectionChange[] {
    const changes: ProjectionChange[] = [];
    const last = new Map<string, bigint>();
    this.db.exec('BEGIN');
    try {
      for (const r of records) {
        const tp = `${r.topic}\u0000${r.partition}`;
        let applied = last.get(tp);
        if (applied === undefined) {
          const row = this.st.applied.get(r.topic, r.partition) as { offset: number } | undefined;
          applied = row ? BigInt(row.offset) : -1n;
        }
        if (r.offset <= applied) {
          this.skipped++;
          continue;
        }
        this.applyRecord(r, changes);
        this.st.setApplied.run(r.topic, r.partition, r.offset, r.timestamp);
        last.set(tp, r.offset);
      }
      if (last.size > 0) crashPoint('projection-write');
      this.db.exec('COMMIT');
      if (changes.length > 0 || last.size > 0) {
        this.version++;
        this.memos.clear();
      }
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    return changes;
  }

  /** Positions applied per input partition. */
  applied(): AppliedPosition[] {
    return (
      this.st.allApplied.all() as {
        topic: string;
        partition: number;
        offset: number;
        ts: number;
        records: number;
      }[]
    ).map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: BigInt(r.offset),
      ts: r.ts,
      records: r.records,
    }));
  }

  /** Newest record timestamp applied, or null before the first record. */
  lastEventTime(): number | null {
    let max: number | null = null;
    for (const a of this.applied()) if (max === null || a.ts > max) max = a.ts;
    return max;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/** `<cluster>/<rest>` → [cluster, rest]; a key without `/` is all cluster. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? [key, ''] : [key.slice(0, i), key.slice(i + 1)];
}
