import { gateBound, planBatch, type MergeQueue } from '../merge.ts';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { partitionForKey } from '../murmur2.ts';
import { HetuError } from '../errors.ts';
import { crashPoint } from '../crash-points.ts';
import { Backoff } from '../backoff.ts';
import { collectingTransaction } from '../batch-transaction.ts';
import type {
  AppendRecord,
  Batch,
  CleanupPolicy,
  EventTimeGate,
  Log,
  LogRecord,
  ReadOptions,
  RecordPosition,
  SubscribeOptions,
  Subscription,
  TopicInfo,
  TopicSpec,
} from '../port.ts';

export interface EmbeddedLogOptions {
  /** Directory holding `log.sqlite`. `:memory:` keeps everything in memory (tests only). */
  readonly dataDir: string;
  /** How often a subscriber looks for records written by another process. Default 200 ms. */
  readonly pollIntervalMs?: number;
  /** Appends per partition between two compaction / retention passes. Default 5 000. */
  readonly cleanEvery?: number;
  /** Clock for retention and tombstone expiry (infrastructure time, not event time). */
  readonly now?: () => number;
  /**
   * A lock shared with the other connections of this process to the same file (threads: a
   * `SharedArrayBuffer` of at least 4 bytes, zeroed, the same for all). Their write transactions
   * then queue on it and start the moment the one before commits, instead of polling SQLite's
   * busy handler, which sleeps up to 100 ms between tries.
   */
  readonly writeLock?: SharedArrayBuffer;
  /**
   * `off` for a log nobody keeps (`hetu analyze` without --data-dir, deleted when it ends): no
   * fsync at all, so a power loss or an OS crash may corrupt the file (a crashed process does not).
   * Default `normal`: SQLite's WAL with synchronous NORMAL, which loses at most the last commits on
   * a power loss and never corrupts. `hetu analyze` of 200 000 observations spent 2.16 s in its
   * 6 590 commits with `normal`, 1.17 s with `off` (2026-11-27, docs/benchmarks.md).
   */
  readonly durability?: 'normal' | 'off';
  /**
   * `false`: time retention deletes nothing (compaction still runs). For `hetu analyze`, whose
   * stages must read the whole recording however far back it starts: with retention, a recording
   * longer than a raw topic's (3 days of logs) lost its start before the stages read it, and how
   * much depended on when cleans ran. Default true.
   */
  readonly timeRetention?: boolean;
}

interface TopicRow {
  name: string;
  partitions: number;
  cleanup: CleanupPolicy;
  retention_ms: number | null;
  delete_retention_ms: number | null;
}

/**
 * A row of `readRange`, read as an array: partition, offset, ts, the byte lengths of key, value and
 * headers (null: the column is NULL), then the three concatenated in one blob.
 */
type RecordArrayRow = [number, number, number, number | null, number | null, number | null, Uint8Array];

/** How long a subscription works off its backlog before it lets the event loop run once. */
const YIELD_EVERY_MS = 10;
/** The headers of every record read without any: one frozen object, not one per record. */
const NO_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({});

// No memory-mapped reads (mmap_size 0): with a 256 MiB map every page read stayed in the process's
// resident set, `hetu analyze` of 200 000 observations peaked at ~875 MiB RSS against ~635 MiB
// without, for the same CPU time (three runs each, 2026-11-27); reads go through SQLite's 64 MiB
// page cache instead.
const SCHEMA = `
PRAGMA page_size = 16384;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
PRAGMA cache_size = -65536;
PRAGMA mmap_size = 0;
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, cleanup TEXT NOT NULL,
  retention_ms INTEGER, delete_retention_ms INTEGER);
CREATE TABLE IF NOT EXISTS partitions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  appends_since_clean INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  key BLOB, value BLOB, ts INTEGER NOT NULL, headers BLOB,
  PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
  grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  PRIMARY KEY (grp, topic, partition)) WITHOUT ROWID;
`;

/**
 * Headers on disk: a version byte 1, then per header its name length (u16), name (UTF-8), value
 * length (u32) and value. (Rows written before this format hold JSON with base64 values.)
 */
function encodeHeaders(headers: Readonly<Record<string, Buffer>> | undefined): Uint8Array | null {
  if (!headers) return null;
  let size = 1;
  let count = 0;
  for (const n in headers) {
    size += 6 + headerName(n).length + headers[n]!.length;
    count++;
  }
  if (count === 0) return null;
  const out = Buffer.allocUnsafe(size);
  out[0] = 1;
  let at = 1;
  for (const n in headers) {
    const name = headerName(n);
    const value = headers[n]!;
    // TypedArray set, not Buffer copy: the same bytes, without copy()'s argument checks (6 % of
    // the feed stage, which writes four headers on each of its records).
    out.writeUInt16BE(name.length, at);
    out.set(name, at + 2);
    at += 2 + name.length;
    out.writeUInt32BE(value.length, at);
    out.set(value, at + 4);
    at += 4 + value.length;
  }
  return out;
}

/** UTF-8 bytes of header names (a few distinct names, on every record of a re-keyed feed). */
const headerNames = new Map<string, Buffer>();
function headerName(name: string): Buffer {
  let b = headerNames.get(name);
  if (b === undefined) {
    b = Buffer.from(name, 'utf8');
    if (headerNames.size < 1024) headerNames.set(name, b);
  }
  return b;
}

/**
 * Decoded header names by their bytes: a re-keyed feed carries the same few names on every record,
 * so each is decoded once (bucketed by length and three bytes, compared byte by byte).
 */
const decodedNames = new Map<number, { bytes: Buffer; name: string }[]>();
let decodedNameCount = 0;
function headerNameAt(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > 128) return buf.toString('utf8', start, end);
  const bucket = (length << 24) ^ (buf[start]! << 16) ^ (buf[start + (length >> 1)]! << 8) ^ buf[end - 1]!;
  const list = decodedNames.get(bucket);
  if (list !== undefined)
    for (const c of list) {
      const b = c.bytes;
      if (b.length !== length) continue;
      let i = 0;
      while (i < length && b[i] === buf[start + i]) i++;
      if (i === length) return c.name;
    }
  const name = buf.toString('utf8', start, end);
  if (decodedNameCount < 1024) {
    decodedNameCount++;
    const entry = { bytes: Buffer.from(buf.subarray(start, end)), name };
    if (list === undefined) decodedNames.set(bucket, [entry]);
    else list.push(entry);
  }
  return name;
}

function decodeHeaders(buf: Buffer): Record<string, Buffer> {
  if (buf.length === 0) return {};
  const out: Record<string, Buffer> = {};
  if (buf[0] !== 1) {
    const obj = JSON.parse(buf.toString('utf8')) as Record<string, string>;
    for (const [k, v] of Object.entries(obj)) out[k] = Buffer.from(v, 'base64');
    return out;
  }
  let at = 1;
  while (at < buf.length) {
    const nameLength = buf.readUInt16BE(at);
    const name = headerNameAt(buf, at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const valueLength = buf.readUInt32BE(at);
    out[name] = buf.subarray(at + 4, at + 4 + valueLength);
    at += 4 + valueLength;
  }
  return out;
}

/** A partition's clean, kept current on every append (see `EmbeddedLog.cleanState`). */
interface CleanState {
  /** Rows in the partition. */
  rows: number;
  /** Compacted topics: key (latin1 of its bytes) → offset of its newest record; null: not tracked. */
  keys: Map<string, number> | null;
  /** Offsets of records a newer record of their key replaced since the last clean. */
  superseded: number[];
  /** Newest records of their key that are tombstones: offset → key and time. */
  tombstones: Map<number, { key: string; ts: number }>;
}

/** Notes an appended record in its partition's clean state. */
function track(s: CleanState, key: Buffer | null, tombstone: boolean, offset: number, ts: number): void {
  s.rows++;
  const keys = s.keys;
  if (keys === null) return;
  if (key === null) {
    // A tombstone without a key is deleted by age only, which the scan does: stop tracking keys.
    if (tombstone) s.keys = null;
    return;
  }
  if (!Buffer.isBuffer(key)) {
    s.keys = null;
    return;
  }
  const k = key.toString('latin1');
  const prev = keys.get(k);
  if (prev !== undefined) {
    s.superseded.push(prev);
    s.tombstones.delete(prev);
  }
  keys.set(k, offset);
  if (tombstone) s.tombstones.set(offset, { key: k, ts });
}

/**
 * The embedded log: topics, partitions, offsets, consumer groups, compaction and retention in
 * one SQLite file (Node's built-in `node:sqlite`, no native build). A batch's outputs and its
 * input position are written in one SQLite transaction, so a crash never leaves one without the
 * other. One process owns the data directory for writing; other processes may read it.
 */
export class EmbeddedLog implements Log {
  readonly kind = 'embedded' as const;
  private readonly db: DatabaseSync;
  private readonly opts: Required<Omit<EmbeddedLogOptions, 'dataDir' | 'writeLock' | 'durability'>>;
  private readonly topicCache = new Map<string, TopicRow>();
  private readonly rrCounters = new Map<string, number>();
  private readonly subscriptions = new Set<EmbeddedSubscription>();
  private readonly groups = new Map<string, Set<EmbeddedSubscription>>();
  private readonly partitionLocks = new Map<string, Promise<void>>();
  private closed = false;
  private readonly writeLock: Int32Array | undefined;
  /**
   * Partitions' end offsets and groups' committed positions as last read or written by this
   * connection, by `<topic>\u0000<partition>` and `<group>\u0000<topic>`: the subscriptions' loops
   * ask for them per partition on every pass, and a SQLite read per question cost most of the
   * process's CPU at 1 000 log lines/s (bench/latency.bench.ts). Kept current by this connection's
   * writes, cleared on a rollback and whenever `PRAGMA data_version` says another connection (another
   * process) committed: `refresh()`, at every subscription pass and every public read.
   */
  private readonly ends = new Map<string, number>();
  private readonly commits = new Map<string, Map<number, number>>();
  private dataVersion = -1;
  private readonly st: {
    topic: StatementSync;
    insertTopic: StatementSync;
    insertPartition: StatementSync;
    nextOffset: StatementSync;
    bumpPartition: StatementSync;
    insertRecord: StatementSync;
    readRange: StatementSync;
    low: StatementSync;
    head: StatementSync;
    allTopics: StatementSync;
    committed: StatementSync;
    commit: StatementSync;
    newest: StatementSync;
    deleteAt: StatementSync;
    deleteRange: StatementSync;
    resetClean: StatementSync;
    dataVersion: StatementSync;
  };

  constructor(options: EmbeddedLogOptions) {
    this.writeLock = options.writeLock ? new Int32Array(options.writeLock, 0, 1) : undefined;
    this.opts = {
      pollIntervalMs: options.pollIntervalMs ?? 200,
      cleanEvery: options.cleanEvery ?? 5000,
      now: options.now ?? (() => Date.now()),
      timeRetention: options.timeRetention !== false,
    };
    let file = ':memory:';
    if (options.dataDir !== ':memory:') {
      mkdirSync(options.dataDir, { recursive: true });
      file = join(options.dataDir, 'log.sqlite');
    }
    try {
      this.db = new DatabaseSync(file);
      this.db.exec(SCHEMA);
      if (options.durability === 'off') this.db.exec('PRAGMA synchronous = OFF');
      // Checkpoint the WAL at about 64 MiB, whatever the page size (16 KiB for logs created now).
      const { page_size: pageSize } = this.db.prepare('PRAGMA page_size').get() as { page_size: number };
      this.db.exec(
        `PRAGMA wal_autocheckpoint = ${Math.max(1000, Math.round((64 * 1024 * 1024) / pageSize))}`,
      );
    } catch (err) {
      throw new HetuError(
        'HETU_LOG_OPEN_FAILED',
        `Cannot open the embedded log at ${file} (${(err as Error).message}): check that the data directory is writable and not used by another hetu process.`,
        { cause: err },
      );
    }
    const p = (sql: string) => this.db.prepare(sql);
    // Key, value and headers come back as one blob (SQLite's || copies blob bytes as they are; the
    // CAST makes the text a blob again): node:sqlite allocates an ArrayBuffer per blob it returns,
    // and a read of three cost ~25 % more CPU per row than one of their concatenation (150 000
    // rows of a 40-byte key, 230-byte value and 153-byte headers; 2026-11-27).
    const readRange = p(
      "SELECT partition, offset, ts, octet_length(key), octet_length(value), octet_length(headers), CAST(ifnull(key, x'') || ifnull(value, x'') || ifnull(headers, x'') AS BLOB) FROM records WHERE topic = ? AND partition = ? AND offset >= ? AND offset < ? ORDER BY offset LIMIT ?",
    );
    readRange.setReturnArrays(true);
    this.st = {
      topic: p('SELECT * FROM topics WHERE name = ?'),
      insertTopic: p(
        'INSERT OR IGNORE INTO topics (name, partitions, cleanup, retention_ms, delete_retention_ms) VALUES (?, ?, ?, ?, ?)',
      ),
      insertPartition: p('INSERT OR IGNORE INTO partitions (topic, partition, next_offset) VALUES (?, ?, 0)'),
      nextOffset: p(
        'SELECT next_offset, appends_since_clean FROM partitions WHERE topic = ? AND partition = ?',
      ),
      bumpPartition: p(
        'UPDATE partitions SET next_offset = ?, appends_since_clean = appends_since_clean + ? WHERE topic = ? AND partition = ?',
      ),
      insertRecord: p(
        'INSERT INTO records (topic, partition, offset, key, value, ts, headers) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      readRange,
      low: p('SELECT MIN(offset) AS low FROM records WHERE topic = ? AND partition = ?'),
      head: p(
        'SELECT ts FROM records WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT 1',
      ),
      allTopics: p('SELECT name FROM topics ORDER BY name'),
      committed: p('SELECT partition, offset FROM group_offsets WHERE grp = ? AND topic = ?'),
      commit: p(
        'INSERT INTO group_offsets (grp, topic, partition, offset) VALUES (?, ?, ?, ?) ON CONFLICT (grp, topic, partition) DO UPDATE SET offset = excluded.offset',
      ),
      newest: p('SELECT ts FROM records WHERE topic = ? AND partition = ? ORDER BY offset DESC LIMIT 1'),
      deleteAt: p('DELETE FROM records WHERE topic = ? AND partition = ? AND offset = ?'),
      deleteRange: p('DELETE FROM records WHERE topic = ? AND partition = ? AND offset >= ? AND offset <= ?'),
      resetClean: p('UPDATE partitions SET appends_since_clean = 0 WHERE topic = ? AND partition = ?'),
      dataVersion: p('PRAGMA data_version'),
    };
  }

  /** Drops the cached ends and positions when another connection committed since the last look. */
  refresh(): void {
    const v = (this.st.dataVersion.get() as { data_version: number }).data_version;
    if (v !== this.dataVersion) {
      this.dataVersion = v;
      this.ends.clear();
      this.commits.clear();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new HetuError('HETU_LOG_CLOSED', 'The embedded log is closed.');
  }

  private topicRow(name: string): TopicRow {
    let row = this.topicCache.get(name);
    if (!row) {
      row = this.st.topic.get(name) as TopicRow | undefined;
      if (!row)
        throw new HetuError(
          'HETU_LOG_UNKNOWN_TOPIC',
          `Topic ${name} does not exist: create it with 'hetu topics --create' or check the name.`,
        );
      this.topicCache.set(name, row);
    }
    return row;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    this.transaction(() => {
      for (const s of specs) {
        this.st.insertTopic.run(
          s.name,
          s.partitions,
          s.cleanupPolicy,
          s.retentionMs !== undefined && s.retentionMs >= 0 ? s.retentionMs : null,
          s.deleteRetentionMs ?? null,
        );
        const row = this.st.topic.get(s.name) as unknown as TopicRow;
        for (let p = 0; p < row.partitions; p++) this.st.insertPartition.run(s.name, p);
      }
    });
  }

  async describeTopics(names?: readonly string[]): Promise<TopicInfo[]> {
    this.assertOpen();
    const all = (this.st.allTopics.all() as { name: string }[]).map((r) => r.name);
    const wanted = names ? all.filter((n) => names.includes(n)) : all;
    return wanted.map((name) => {
      const row = this.topicRow(name);
      const partitions = [];
      for (let p = 0; p < row.partitions; p++) {
        const next = (this.st.nextOffset.get(name, p) as { next_offset: number }).next_offset;
        const lowRow = this.st.low.get(name, p) as { low: number | null };
        partitions.push({ partition: p, low: BigInt(lowRow.low ?? next), high: BigInt(next) });
      }
      return {
        name,
        partitions,
        cleanupPolicy: row.cleanup,
        retentionMs: row.retention_ms ?? undefined,
      };
    });
  }

  private transaction<T>(fn: () => T): T {
    const lock = this.writeLock;
    if (lock === undefined) return this.transactionLocked(fn);
    while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1, 1000);
    try {
      return this.transactionLocked(fn);
    } finally {
      Atomics.store(lock, 0, 0);
      Atomics.notify(lock, 0, 1);
    }
  }

  private transactionLocked<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      // Under the write lock: the cached ends must be the file's (another process may have written).
      this.refresh();
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      // What the rolled-back writes did to the in-memory clean state is unknown: rebuild it.
      this.cleanState.clear();
      this.ends.clear();
      this.commits.clear();
      throw err;
    }
  }

  /**
   * Writes records; must run inside a SQLite transaction. Adds their positions to `positions` (when
   * given) and the partitions written to `touched`.
   */
  private appendInTx(
    topic: string,
    records: readonly AppendRecord[],
    touched: Set<string>,
    positions: RecordPosition[] | null,
  ): void {
    const row = this.topicRow(topic);
    // Per partition written, in the order first written: its next offset, records and clean state.
    const parts: ({ next: number; count: number; tracked: CleanState | undefined } | undefined)[] = [];
    const order: number[] = [];
    for (const r of records) {
      let partition = r.partition;
      if (partition === undefined) {
        if (r.key) partition = partitionForKey(r.key, row.partitions);
        else {
          const c = this.rrCounters.get(topic) ?? 0;
          this.rrCounters.set(topic, c + 1);
          partition = c % row.partitions;
        }
      }
      if (partition < 0 || partition >= row.partitions)
        throw new HetuError(
          'HETU_LOG_BAD_PARTITION',
          `Partition ${partition} does not exist in topic ${topic} (it has ${row.partitions}).`,
        );
      let part = parts[partition];
      if (part === undefined) {
        part = parts[partition] = {
          next: this.endOffset(topic, partition),
          count: 0,
          tracked: this.cleanState.get(`${topic}\u0000${partition}`),
        };
        order.push(partition);
      }
      const offset = part.next;
      const ts = r.timestamp ?? this.opts.now();
      this.st.insertRecord.run(topic, partition, offset, r.key, r.value, ts, encodeHeaders(r.headers));
      if (part.tracked !== undefined) track(part.tracked, r.key, r.value === null, offset, ts);
      positions?.push({ topic, partition, offset: BigInt(offset) });
      part.next = offset + 1;
      part.count++;
    }
    for (const partition of order) {
      const part = parts[partition]!;
      this.st.bumpPartition.run(part.next, part.count, topic, partition);
      this.ends.set(`${topic}\u0000${partition}`, part.next);
      touched.add(`${topic}\u0000${partition}`);
    }
  }

  async append(topic: string, records: readonly AppendRecord[]): Promise<RecordPosition[]> {
    this.assertOpen();
    if (records.length === 0) return [];
    const touched = new Set<string>();
    const positions: RecordPosition[] = [];
    this.transaction(() => this.appendInTx(topic, records, touched, positions));
    this.afterAppend(touched);
    return positions;
  }

  /**
   * Stops appends on this connection from cleaning (compacting, expiring) what they touch until
   * the returned function is called; the first append after that cleans what is due. For runs whose
   * later stages read the facts an earlier one wrote after it wrote them all (`hetu analyze`, `hetu
   * replay`): a clean in between would leave them only each key's newest record, where a stage
   * running beside it (`hetu start`) sees every one.
   */
  pauseCleaning(): () => void {
    this.cleaningPaused++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.cleaningPaused--;
    };
  }

  private cleaningPaused = 0;

  private afterAppend(touched: Set<string>, group?: string): void {
    const topics = new Set<string>();
    for (const tp of touched) {
      const [topic, p] = tp.split('\u0000') as [string, string];
      if (this.cleaningPaused > 0) {
        topics.add(topic);
        continue;
      }
      const partition = Number(p);
      const row = this.st.nextOffset.get(topic, partition) as { appends_since_clean: number };
      // Clean once the appends since the last clean are at least what it kept (and cleanEvery):
      // each clean scans the partition, so the work stays linear in what is appended.
      const kept = this.keptAfterClean.get(tp) ?? 0;
      if (row.appends_since_clean >= Math.max(this.opts.cleanEvery, kept)) this.clean(topic, partition);
      topics.add(topic);
    }
    this.wake(topics, group);
  }

  /**
   * Wakes the subscriptions that read one of `topics` and, when given, the other members of
   * `group` (their positions moved). Waking every subscription on every append and commit made
   * each of them re-read all its partitions hundreds of times a second (bench/latency.bench.ts).
   */
  private wake(topics: ReadonlySet<string>, group?: string): void {
    const members = group === undefined ? undefined : this.groups.get(group);
    const wakeGroup = members !== undefined && members.size > 1;
    for (const sub of this.subscriptions)
      if ((wakeGroup && sub.group === group) || sub.topics.some((t) => topics.has(t))) sub.wake();
  }

  /**
   * The lowest offset of a partition that a subscription on this connection has yet to read
   * (MAX_SAFE_INTEGER: none reads it). Compaction deletes nothing from there on, so a stage running
   * behind the one writing its input (`hetu start` after a restart, a slow stage) still reads every
   * record, as it would have reading alongside; records behind every reader are compacted as
   * before. Readers on other connections are not known here.
   */
  private compactionFloor(topic: string, partition: number): number {
    let floor = Number.MAX_SAFE_INTEGER;
    for (const sub of this.subscriptions)
      if (sub.topics.includes(topic)) floor = Math.min(floor, sub.nextToRead(topic, partition));
    return floor;
  }

  /** Records each partition kept at its last clean (in memory: after a restart, cleanEvery rules). */
  private readonly keptAfterClean = new Map<string, number>();

  /**
   * What the next clean of a partition would delete, kept in memory from its first clean in this
   * process on (`track` on every append): the next cleans delete those rows by offset instead of
   * scanning the partition. Dropped on any rolled-back transaction (the next clean rebuilds it).
   */
  private readonly cleanState = new Map<string, CleanState>();

  /**
   * Compaction (keep the newest record per key; drop tombstones older than delete retention)
   * and retention (drop records older than retention) for one partition. Offsets never change.
   * The newest record of the partition is always kept, so its end offset stays derivable.
   */
  clean(topic: string, partition: number): void {
    this.assertOpen();
    const row = this.topicRow(topic);
    const tp = `${topic}\u0000${partition}`;
    this.transaction(() => {
      const next = (this.st.nextOffset.get(topic, partition) as { next_offset: number }).next_offset;
      // Retention counts back from the partition's newest record time (capped by the clock), not
      // from the clock alone: a replayed recording of last month stays readable here, where
      // Kafka (retention by record CreateTime) would delete it at once.
      const newest = (this.st.newest.get(topic, partition) as { ts: number } | undefined)?.ts;
      const now = Math.min(this.opts.now(), newest ?? Number.POSITIVE_INFINITY);
      const compact = row.cleanup.includes('compact');
      const retention = this.opts.timeRetention && row.cleanup.includes('delete') ? row.retention_ms : null;
      const tombstoneAge = row.delete_retention_ms ?? 86_400_000;
      const state = this.cleanState.get(tp);
      const floor = compact ? this.compactionFloor(topic, partition) : Number.MAX_SAFE_INTEGER;
      if (state !== undefined && (!compact || state.keys !== null) && retention === null) {
        // The same rows as the statements below would delete, found without a scan.
        let deleted = 0;
        if (compact) {
          const keys = state.keys!;
          // Runs of consecutive offsets go in one statement each (most of a changelog's superseded
          // rows are consecutive): ~3× less CPU than a statement per row (micro-benchmark,
          // 2026-11-27). A run holds no other row: every offset in it is superseded. Those a
          // reader has yet to read wait for a later clean.
          const sorted = state.superseded.sort((a, b) => a - b);
          let cut = sorted.length;
          while (cut > 0 && sorted[cut - 1]! >= floor) cut--;
          const offsets = sorted.slice(0, cut);
          for (let i = 0; i < offsets.length; ) {
            let j = i;
            while (j + 1 < offsets.length && offsets[j + 1] === offsets[j]! + 1) j++;
            const changes =
              j === i
                ? this.st.deleteAt.run(topic, partition, offsets[i]!).changes
                : this.st.deleteRange.run(topic, partition, offsets[i]!, offsets[j]!).changes;
            deleted += Number(changes);
            i = j + 1;
          }
          state.superseded = sorted.slice(cut);
          for (const [offset, t] of state.tombstones)
            if (t.ts < now - tombstoneAge && offset < next - 1 && offset < floor) {
              deleted += Number(this.st.deleteAt.run(topic, partition, offset).changes);
              state.tombstones.delete(offset);
              keys.delete(t.key);
            }
        }
        state.rows -= deleted;
        this.st.resetClean.run(topic, partition);
        this.keptAfterClean.set(tp, state.rows);
        return;
      }
      this.cleanState.delete(tp);
      if (compact) {
        this.db
          .prepare(
            `DELETE FROM records WHERE topic = ?1 AND partition = ?2 AND key IS NOT NULL AND offset < ?3 AND offset NOT IN (
               SELECT MAX(offset) FROM records WHERE topic = ?1 AND partition = ?2 AND key IS NOT NULL GROUP BY key)`,
          )
          .run(topic, partition, floor);
        this.db
          .prepare(
            'DELETE FROM records WHERE topic = ? AND partition = ? AND value IS NULL AND ts < ? AND offset < ? AND offset < ?',
          )
          .run(topic, partition, now - tombstoneAge, next - 1, floor);
      }
      if (retention !== null) {
        this.db
          .prepare('DELETE FROM records WHERE topic = ? AND partition = ? AND ts < ? AND offset < ?')
          .run(topic, partition, now - retention, next - 1);
      }
      this.st.resetClean.run(topic, partition);
      const { n } = this.db
        .prepare('SELECT COUNT(*) AS n FROM records WHERE topic = ? AND partition = ?')
        .get(topic, partition) as { n: number };
      this.keptAfterClean.set(tp, n);
      // Track what the next cleans will delete (not under retention: that is by time, a scan).
      if (retention !== null) return;
      const tracked: CleanState = { rows: n, keys: null, superseded: [], tombstones: new Map() };
      if (compact) {
        const rows = this.db
          .prepare(
            'SELECT key, offset, value IS NULL AS dead, ts FROM records WHERE topic = ? AND partition = ? AND (key IS NOT NULL OR value IS NULL) ORDER BY offset',
          )
          .all(topic, partition) as { key: Uint8Array | null; offset: number; dead: number; ts: number }[];
        // A tombstone without a key is only ever deleted by age: left to the scan.
        if (rows.some((r) => r.key === null)) return;
        const keys = new Map<string, number>();
        for (const r of rows) {
          const key = Buffer.from(r.key!.buffer, r.key!.byteOffset, r.key!.byteLength).toString('latin1');
          // Kept for a reader behind (the floor): superseded, for a later clean.
          const prev = keys.get(key);
          if (prev !== undefined) {
            tracked.superseded.push(prev);
            tracked.tombstones.delete(prev);
          }
          keys.set(key, r.offset);
          if (r.dead) tracked.tombstones.set(r.offset, { key, ts: r.ts });
        }
        tracked.keys = keys;
      }
      this.cleanState.set(tp, tracked);
    });
  }

  /** Cleans every partition of every topic (compaction and retention). */
  cleanAll(): void {
    for (const { name } of this.st.allTopics.all() as { name: string }[]) {
      const row = this.topicRow(name);
      for (let p = 0; p < row.partitions; p++) this.clean(name, p);
    }
  }

  /** Timestamp of the first record at or after `from` (null if none is left). */
  headTimestamp(topic: string, partition: number, from: number): number | null {
    const row = this.st.head.get(topic, partition, from) as { ts: number } | undefined;
    return row?.ts ?? null;
  }

  /** A partition's end, as of the last `refresh()` and this connection's writes since. */
  endOffset(topic: string, partition: number): number {
    const tp = `${topic}\u0000${partition}`;
    let end = this.ends.get(tp);
    if (end === undefined) {
      end = (this.st.nextOffset.get(topic, partition) as { next_offset: number }).next_offset;
      this.ends.set(tp, end);
    }
    return end;
  }

  partitionCount(topic: string): number {
    return this.topicRow(topic).partitions;
  }

  readRows(topic: string, partition: number, from: number, to: number, max: number): LogRecord[] {
    // Rows as arrays (partition, offset, key, value, ts, headers): no object per row to build.
    const rows = this.st.readRange.all(topic, partition, from, to, max) as unknown as RecordArrayRow[];
    const out: LogRecord[] = new Array<LogRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const bytes = r[6];
      const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const keyLength = r[3];
      const valueLength = r[4];
      const headersLength = r[5];
      const valueAt = keyLength ?? 0;
      const headersAt = valueAt + (valueLength ?? 0);
      out[i] = {
        topic,
        partition: r[0],
        offset: BigInt(r[1]),
        key: keyLength === null ? null : all.subarray(0, keyLength),
        value: valueLength === null ? null : all.subarray(valueAt, headersAt),
        timestamp: r[2],
        headers:
          headersLength === null
            ? NO_HEADERS
            : decodeHeaders(all.subarray(headersAt, headersAt + headersLength)),
      };
    }
    return out;
  }

  async read(topic: string, partition: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.assertOpen();
    this.topicRow(topic);
    this.refresh();
    const end = this.endOffset(topic, partition);
    const to = options.toOffset !== undefined ? Math.min(Number(options.toOffset), end) : end;
    return this.readRows(
      topic,
      partition,
      Number(options.fromOffset ?? 0n),
      to,
      options.maxRecords ?? Number.MAX_SAFE_INTEGER,
    );
  }

  /** A group's positions in a topic (as of the last `refresh()`): read-only, do not change it. */
  committedSync(group: string, topic: string): ReadonlyMap<number, number> {
    const k = `${group}\u0000${topic}`;
    let m = this.commits.get(k);
    if (m === undefined) {
      const rows = this.st.committed.all(group, topic) as { partition: number; offset: number }[];
      m = new Map(rows.map((r) => [r.partition, r.offset]));
      this.commits.set(k, m);
    }
    return m;
  }

  async committed(group: string, topic: string): Promise<Map<number, bigint>> {
    this.assertOpen();
    this.refresh();
    const out = new Map<number, bigint>();
    for (const [p, o] of this.committedSync(group, topic)) out.set(p, BigInt(o));
    return out;
  }

  /** Appends the batch's outputs and commits the group's positions, atomically. */
  commitBatch(
    group: string,
    positions: readonly { topic: string; partition: number; next: number }[],
    outputs: readonly { topic: string; records: readonly AppendRecord[] }[],
  ): void {
    const touched = new Set<string>();
    this.transaction(() => {
      for (const o of outputs) this.appendInTx(o.topic, o.records, touched, null);
      // Like a Kafka transaction's commit marker, a committed batch takes one offset after its
      // records in every partition it wrote: offsets of derived records then match Kafka's.
      for (const tp of touched) {
        const [t, p] = tp.split('\u0000') as [string, string];
        const end = this.endOffset(t, Number(p)) + 1;
        this.st.bumpPartition.run(end, 0, t, Number(p));
        this.ends.set(tp, end);
      }
      if (outputs.length > 0) crashPoint('between-produce-and-commit');
      for (const p of positions) {
        this.st.commit.run(group, p.topic, p.partition, p.next);
        this.commits.get(`${group}\u0000${p.topic}`)?.set(p.partition, p.next);
      }
    });
    this.afterAppend(touched, group);
  }

  /** Serialises batches of one (group, topic, partition) across members during a rebalance. */
  async withPartitionLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.partitionLocks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.partitionLocks.set(key, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.partitionLocks.get(key) === chained) this.partitionLocks.delete(key);
    }
  }

  /**
   * Partitions assigned to a member: partition number p of every subscribed topic goes to member
   * p mod members (co-partitioned, like the Kafka adapter's assigner), so one member owns one task.
   */
  assignment(sub: EmbeddedSubscription): { topic: string; partition: number }[] {
    const members = [...(this.groups.get(sub.group) ?? [])];
    const index = members.indexOf(sub);
    if (index < 0) return [];
    const out: { topic: string; partition: number }[] = [];
    // A single-task group: the first member owns every partition.
    const [first, step] = sub.singleTask ? (index === 0 ? [0, 1] : [Infinity, 1]) : [index, members.length];
    for (const t of [...sub.topics].sort()) {
      const n = this.topicRow(t).partitions;
      for (let p = first; p < n; p += step) out.push({ topic: t, partition: p });
    }
    return out;
  }

  get pollIntervalMs(): number {
    return this.opts.pollIntervalMs;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    for (const t of options.topics) this.topicRow(t);
    if (options.tasks !== undefined && options.singleTask === true)
      throw new HetuError(
        'HETU_LOG_BAD_OPTION',
        `Group ${options.group}: a single-task subscription has one task, 0; it cannot be given a choice of tasks.`,
      );
    const sub = new EmbeddedSubscription(this, options);
    let members = this.groups.get(options.group);
    if (!members) this.groups.set(options.group, (members = new Set()));
    members.add(sub);
    this.subscriptions.add(sub);
    for (const m of members) m.wake(); // the other members pick up the new assignment
    sub.start();
    return sub;
  }

  leave(sub: EmbeddedSubscription): void {
    const members = this.groups.get(sub.group);
    members?.delete(sub);
    this.subscriptions.delete(sub);
    for (const m of members ?? []) m.wake();
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      this.closed = true;
      this.db.close();
    })();
    return this.closing;
  }

  /**
   * Deletes topics (records, partitions, settings) and the positions groups committed in them, in
   * one transaction. A topic a subscription of this process reads is refused; another process that
   * has the data directory open must not use the topics (run it while `hetu start` is stopped).
   */
  async deleteTopics(names: readonly string[]): Promise<void> {
    this.assertOpen();
    const gone = new Set(names);
    for (const sub of this.subscriptions) {
      const busy = sub.topics.find((t) => gone.has(t));
      if (busy !== undefined)
        throw new HetuError(
          'HETU_LOG_TOPIC_IN_USE',
          `Topic ${busy} is read by group ${sub.group} in this process: close that subscription before deleting the topic.`,
        );
    }
    if (gone.size === 0) return;
    this.transaction(() => {
      for (const name of gone) {
        for (const sql of [
          'DELETE FROM records WHERE topic = ?',
          'DELETE FROM partitions WHERE topic = ?',
          'DELETE FROM group_offsets WHERE topic = ?',
          'DELETE FROM topics WHERE name = ?',
        ])
          this.db.prepare(sql).run(name);
      }
    });
    for (const name of gone) {
      this.topicCache.delete(name);
      this.rrCounters.delete(name);
    }
    for (const tp of [...this.keptAfterClean.keys()])
      if (gone.has(tp.slice(0, tp.indexOf('\u0000')))) this.keptAfterClean.delete(tp);
    this.cleanState.clear();
    this.ends.clear();
    this.commits.clear();
  }

  /** Deletes groups' committed positions; a group with a member in this process is refused. */
  async deleteGroups(groups: readonly string[]): Promise<void> {
    this.assertOpen();
    for (const group of groups)
      if ((this.groups.get(group)?.size ?? 0) > 0)
        throw new HetuError(
          'HETU_LOG_GROUP_IN_USE',
          `Consumer group ${group} has a live member in this process: close its subscription before deleting the group.`,
        );
    if (groups.length === 0) return;
    this.transaction(() => {
      for (const group of groups) this.db.prepare('DELETE FROM group_offsets WHERE grp = ?').run(group);
    });
    this.commits.clear();
  }
}

/** Records of a partition read but not yet delivered. */
interface ReadAhead {
  /** The position the rows start at (the group's position when they were read). */
  pos: number;
  rows: LogRecord[];
  /** The offset after the last read (the end when the read came short of the page). */
  readTo: number;
}

class EmbeddedSubscription implements Subscription {
  readonly group: string;
  readonly topics: readonly string[];
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private stopped = false;
  private stopError: unknown;
  private readonly positions = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  /** Set by `wake()`: something this subscription reads changed since its pass began. */
  private woken = false;
  /** Ends the loop's wait, while it waits. */
  private wakeUp: (() => void) | null = null;

  private readonly log: EmbeddedLog;
  private readonly options: SubscribeOptions;
  /** Subscribed topics the gate does not hold back. */
  private readonly ungated: ReadonlySet<string>;
  /** `SubscribeOptions.tasks`: the only tasks this subscription works on (undefined: all it is assigned). */
  private readonly chosen: ReadonlySet<number> | undefined;
  /** The tasks last told to `SubscribeOptions.onAssigned`, as a comma-separated list. */
  private told: string | undefined;

  constructor(log: EmbeddedLog, options: SubscribeOptions) {
    this.log = log;
    this.options = options;
    this.ungated = new Set(options.ungatedTopics ?? []);
    this.chosen = options.tasks === undefined ? undefined : new Set(options.tasks);
    this.group = options.group;
    this.topics = options.topics;
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through whenCaughtUp / done by callers
  }

  start(): void {
    void this.loop().then(
      () => this.resolveDone(),
      (err) => {
        this.stopError = err;
        this.stopped = true;
        this.log.leave(this);
        this.notifyWaiters();
        this.rejectDone(err);
      },
    );
  }

  /** Where this subscription's group reads `topic`'s partition from next (nothing before it is unread). */
  nextToRead(topic: string, partition: number): number {
    return this.startPosition(topic, partition);
  }

  private startPosition(topic: string, partition: number): number {
    const committed = this.log.committedSync(this.group, topic).get(partition);
    if (committed !== undefined) return committed;
    return this.options.fromBeginning === false ? this.log.endOffset(topic, partition) : 0;
  }

  /**
   * Delivers batches task by task (one partition number of every subscribed topic, or every
   * partition for a single-task group). Within a task the partitions are merged by event time, as
   * Kafka Streams does: the next batch comes from the partition whose next record is oldest, and
   * stops before a record newer than the other partitions' heads, so a processor joining several
   * inputs sees them in timestamp order (ties: topic name, then partition). A partition with
   * nothing pending does not hold the others back. The Kafka adapter merges the same way.
   */
  private async loop(): Promise<void> {
    const max = this.options.maxBatchRecords ?? 500;
    const gate = this.options.gate;
    const stopWatching = gate?.onMove(() => this.wake());
    try {
      await this.passes(max, gate);
    } finally {
      stopWatching?.();
    }
  }

  private async passes(max: number, gate: EventTimeGate | undefined): Promise<void> {
    let yielded = performance.now();
    while (!this.stopped && !this.log.isClosed) {
      let progressed = false;
      this.woken = false;
      this.log.refresh();
      // The gate's bound at the start of the pass: a pass that finds nothing to do below it has
      // processed every record older than it (a later, higher bound only lets more through).
      // Floored to a slot start as the planner floors it, so `reached` says what was processed.
      const bound = gateBound(gate?.bound() ?? Infinity, this.options.slotMs);
      const tasks = new Map<number, { topic: string; partition: number }[]>();
      for (const tp of this.log.assignment(this)) {
        const id = this.singleTask ? 0 : tp.partition;
        if (this.chosen !== undefined && !this.chosen.has(id)) continue;
        let list = tasks.get(id);
        if (!list) tasks.set(id, (list = []));
        list.push(tp);
      }
      if (this.options.onAssigned !== undefined) {
        const owned = [...tasks.keys()].sort((x, y) => x - y);
        const list = owned.join(',');
        if (list !== this.told) {
          this.told = list;
          this.options.onAssigned(owned);
        }
      }
      for (const [task, tps] of tasks) {
        if (this.stopped) break;
        const did = await this.step(task, tps, max, bound);
        progressed ||= did;
        // Nothing of this task below the bound is left: every such record is processed.
        if (!did && !this.stopped && gate?.reachedTask !== undefined) gate.reachedTask(task, bound);
        // A backlog is worked off in promise continuations only, which never let the event loop
        // run: timers, sockets and worker messages (an HTTP request to the API of `hetu start`,
        // the other thread of `hetu analyze` saying it is done) would wait for the whole backlog.
        if (performance.now() - yielded >= YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          yielded = performance.now();
        }
      }
      if (!progressed && !this.stopped && gate !== undefined) gate.reached(bound);
      this.notifyWaiters();
      if (!progressed && !this.stopped && !this.woken) await this.sleep(this.log.pollIntervalMs);
    }
  }

  /** An append to one of its topics, a change of its group or `close()` ends the loop's wait. */
  wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Waits until woken, or `ms` (records another process appended are seen by polling). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  get singleTask(): boolean {
    return this.options.singleTask === true;
  }

  /** Rows of each partition read ahead of its position: `pos` is the position they start at. */
  private readonly readAhead = new Map<string, ReadAhead>();

  /** Reads the next page of a partition into its read-ahead. */
  private readPage(topic: string, partition: number, buf: ReadAhead, end: number, page: number): void {
    const rows = this.log.readRows(topic, partition, buf.readTo, end, page);
    buf.rows.push(...rows);
    buf.readTo = rows.length < page ? end : Number(rows[rows.length - 1]!.offset) + 1;
  }

  /** One batch of one task; false when none of its partitions has anything new. */
  private async step(
    task: number,
    tps: readonly { topic: string; partition: number }[],
    max: number,
    bound: number,
  ): Promise<boolean> {
    const ungated = this.ungated;
    const planning = { bound, ...(this.options.slotMs !== undefined ? { slotMs: this.options.slotMs } : {}) };
    const lockKey = `${this.group}\u0000task\u0000${task}`;
    // Read-ahead page per partition: a task of many partitions reads little of each at a time.
    const page = Math.max(16, Math.min(max, Math.ceil((4 * max) / tps.length)));
    return this.log.withPartitionLock(lockKey, async () => {
      if (this.stopped || this.log.isClosed) return false;
      // Pending records of each partition, read ahead a page at a time and kept between batches
      // (re-read positions: another member may have moved them).
      const queues: (MergeQueue<LogRecord> & { buf: ReadAhead; end: number })[] = [];
      for (const { topic, partition } of tps) {
        const k = `${topic}\u0000${partition}`;
        const from = this.startPosition(topic, partition);
        const end = this.log.endOffset(topic, partition);
        this.positions.set(k, from);
        let buf = this.readAhead.get(k);
        if (buf === undefined || buf.pos !== from)
          this.readAhead.set(k, (buf = { pos: from, rows: [], readTo: from }));
        if (from >= end) continue;
        if (buf.rows.length === 0) this.readPage(topic, partition, buf, end, page);
        queues.push({
          topic,
          partition,
          get records() {
            return buf.rows;
          },
          get complete() {
            return buf.readTo >= end;
          },
          ...(ungated.has(topic) ? { ungated: true } : {}),
          buf,
          end,
        });
      }
      if (queues.length === 0) return false;
      let plan = planBatch(queues, max, planning);
      while (plan === 'wait') {
        // A partition ran out of read-ahead: read the next page of every short one, plan again.
        for (const q of queues)
          if (!q.complete && q.buf.rows.length < max) this.readPage(q.topic, q.partition, q.buf, q.end, page);
        plan = planBatch(queues, max, planning);
      }
      const records: LogRecord[] = [];
      const next = new Map<number, number>();
      const used = new Map<number, number>();
      for (const run of plan) {
        const q = queues[run.queue]!;
        records.push(...q.records.slice(run.from, run.from + run.count));
        const n = run.from + run.count;
        used.set(run.queue, n);
        // All read and all taken: move past what follows the last record (batch markers).
        next.set(
          run.queue,
          n === q.records.length && q.complete ? q.buf.readTo : Number(q.records[n - 1]!.offset) + 1,
        );
      }
      // A partition whose pending offsets hold no record (compacted away, or batch markers) moves
      // to its end with the batch.
      for (const [i, q] of queues.entries())
        if (q.records.length === 0 && q.complete) next.set(i, q.buf.readTo);
      for (const [i, n] of used) {
        const b = queues[i]!.buf;
        b.rows.splice(0, n);
        b.pos = next.get(i)!;
      }
      for (const q of queues) if (q.records.length === 0 && q.complete) q.buf.pos = q.buf.readTo;
      const positions = [...next].map(([i, n]) => ({
        topic: queues[i]!.topic,
        partition: queues[i]!.partition,
        next: n,
      }));
      if (records.length === 0) {
        // Nothing below the gate and no empty stretch to move past: nothing to do.
        if (positions.length === 0) return false;
        this.log.commitBatch(this.group, positions, []);
        for (const p of positions) this.positions.set(`${p.topic}\u0000${p.partition}`, p.next);
        return true;
      }
      await this.deliver({ task, records }, positions);
      return true;
    });
  }

  private async deliver(
    batch: Batch,
    positions: readonly { topic: string; partition: number; next: number }[],
  ): Promise<void> {
    const backoff = new Backoff(100, 5000);
    for (let attempt = 1; ; attempt++) {
      const { tx, outputs, committed } = collectingTransaction();
      try {
        await this.options.handler(batch, tx);
        this.log.commitBatch(this.group, positions, outputs);
        for (const p of positions) this.positions.set(`${p.topic}\u0000${p.partition}`, p.next);
        committed();
        return;
      } catch (err) {
        const decision = this.options.onError?.(err, batch, attempt) ?? 'retry';
        if (decision === 'stop' || this.stopped) {
          this.stopped = true;
          throw err;
        }
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
  }

  private notifyWaiters(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The first input partition short of `target`, said in words (undefined: caught up). */
  private behind(target: Map<string, number>): string | undefined {
    for (const [tp, end] of target) {
      const [topic, p] = tp.split('\u0000') as [string, string];
      const committed = this.log.committedSync(this.group, topic).get(Number(p));
      const pos = committed ?? this.positions.get(tp);
      if (pos === undefined ? end === 0 : pos >= end) continue;
      return `${topic} partition ${p} is at offset ${pos ?? 'none'} committed of ${end}`;
    }
    return undefined;
  }

  whenCaughtUp(timeoutMs = 60_000): Promise<void> {
    if (!this.log.isClosed) this.log.refresh();
    const target = new Map<string, number>();
    for (const t of this.topics) {
      for (let p = 0; p < this.log.partitionCount(t); p++)
        if (this.chosen === undefined || this.chosen.has(p))
          target.set(`${t}\u0000${p}`, this.log.endOffset(t, p));
    }
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.stopError !== undefined) {
          cleanup();
          reject(this.stopError);
        } else if (this.behind(target) === undefined) {
          cleanup();
          resolve();
        } else if (this.stopped) {
          cleanup();
          reject(
            new HetuError('HETU_LOG_SUBSCRIPTION_CLOSED', 'The subscription closed before it caught up.'),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new HetuError(
            'HETU_LOG_CATCH_UP_TIMEOUT',
            `Group ${this.group} did not catch up with ${this.topics.join(', ')} within ${timeoutMs} ms: ` +
              `${this.log.isClosed ? 'the log closed' : (this.behind(target) ?? 'it caught up as the time ran out')}.`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      this.done.then(check, check);
      check();
    });
  }

  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.log.leave(this);
      this.wake();
    }
    await this.done.catch(() => undefined);
    this.notifyWaiters();
  }
}
