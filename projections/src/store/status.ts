/**
 * The `status` projection: dead letters (hetu.dlq: counts per processor and reason, and the latest
 * 200) and commands (hetu.commands: the latest 500, for the pipeline status and audit).
 */
import type { Command, DeadLetter } from '@hetu/schemas';
import { ProjectionStore, storeFile, type DecodedRecord, type ProjectionChange } from './store.ts';

export const DLQ_TOPIC = 'hetu.dlq';
export const COMMANDS_TOPIC = 'hetu.commands';
const RECENT_DEAD_LETTERS = 200;
const RECENT_COMMANDS = 500;

export interface DeadLetterCount {
  readonly processor: string;
  readonly reasonCode: string;
  readonly count: number;
  readonly lastAt: number;
}

export interface DeadLetterRow {
  readonly ts: number;
  readonly processor: string;
  readonly reasonCode: string;
  readonly message: string;
  readonly sourceTopic: string | null;
  readonly sourcePartition: number | null;
  readonly sourceOffset: string | null;
  readonly sourceFile: string | null;
  readonly sourceLine: string | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface CommandRow {
  readonly id: string;
  readonly ts: number;
  readonly issuer: string;
  readonly type: string;
  readonly targetIds: readonly string[];
  readonly payload: string;
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export class StatusStore extends ProjectionStore {
  readonly topics = [DLQ_TOPIC, COMMANDS_TOPIC];

  constructor(dataDir?: string) {
    super('status', storeFile(dataDir, 'status'));
    this.init(`
      CREATE TABLE IF NOT EXISTS dlq_counts (
        processor TEXT NOT NULL, reason_code TEXT NOT NULL, count INTEGER NOT NULL, last_at INTEGER NOT NULL,
        PRIMARY KEY (processor, reason_code)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS dlq_recent (
        src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (src_partition, src_offset)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS commands (
        src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (src_partition, src_offset)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS commands_ts ON commands (ts);
      CREATE INDEX IF NOT EXISTS commands_id ON commands (id);
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    if (r.value === null) return;
    if (r.topic === DLQ_TOPIC) {
      const d = r.value as DeadLetter;
      this.sql(
        `INSERT INTO dlq_counts (processor, reason_code, count, last_at) VALUES (?, ?, 1, ?)
         ON CONFLICT (processor, reason_code) DO UPDATE SET count = count + 1, last_at = MAX(last_at, excluded.last_at)`,
      ).run(d.processor, d.reasonCode, d.ts);
      const row: DeadLetterRow = {
        ts: d.ts,
        processor: d.processor,
        reasonCode: d.reasonCode,
        message: d.message,
        sourceTopic: d.sourceTopic,
        sourcePartition: d.sourcePartition,
        sourceOffset: d.sourceOffset === null ? null : String(d.sourceOffset),
        sourceFile: d.sourceFile,
        sourceLine: d.sourceLine === null ? null : String(d.sourceLine),
        topic: r.topic,
        partition: r.partition,
        offset: r.offset.toString(),
      };
      this.sql('INSERT OR REPLACE INTO dlq_recent (src_partition, src_offset, doc) VALUES (?, ?, ?)').run(
        r.partition,
        r.offset,
        JSON.stringify(row),
      );
      this.sql(
        `DELETE FROM dlq_recent WHERE (src_partition, src_offset) NOT IN (
           SELECT src_partition, src_offset FROM dlq_recent ORDER BY src_offset DESC, src_partition DESC LIMIT ?)`,
      ).run(RECENT_DEAD_LETTERS);
      changes.push({
        kind: 'dead-letter',
        cluster: '',
        id: `${r.partition}/${r.offset}`,
        deleted: false,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
      });
      return;
    }
    const c = r.value as Command;
    const row: CommandRow = {
      id: c.id,
      ts: c.ts,
      issuer: c.issuer,
      type: c.type,
      targetIds: c.targetIds,
      payload: c.payload,
      key: r.key,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset.toString(),
    };
    this.sql(
      'INSERT OR REPLACE INTO commands (src_partition, src_offset, ts, id, doc) VALUES (?, ?, ?, ?, ?)',
    ).run(r.partition, r.offset, c.ts, c.id, JSON.stringify(row));
    this.sql(
      `DELETE FROM commands WHERE (src_partition, src_offset) NOT IN (
         SELECT src_partition, src_offset FROM commands ORDER BY ts DESC, src_offset DESC LIMIT ?)`,
    ).run(RECENT_COMMANDS);
    changes.push({
      kind: 'command',
      cluster: r.key.split('/')[0] ?? '',
      id: c.id,
      deleted: false,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    });
  }

  deadLetterCounts(): DeadLetterCount[] {
    this.count('deadLetterCounts');
    return (
      this.sql('SELECT * FROM dlq_counts ORDER BY count DESC, processor, reason_code').all() as {
        processor: string;
        reason_code: string;
        count: number;
        last_at: number;
      }[]
    ).map((r) => ({ processor: r.processor, reasonCode: r.reason_code, count: r.count, lastAt: r.last_at }));
  }

  recentDeadLetters(first: number): DeadLetterRow[] {
    this.count('recentDeadLetters');
    return (
      this.sql('SELECT doc FROM dlq_recent ORDER BY src_offset DESC, src_partition DESC LIMIT ?').all(
        first,
      ) as {
        doc: string;
      }[]
    ).map((r) => JSON.parse(r.doc) as DeadLetterRow);
  }

  recentCommands(first: number): CommandRow[] {
    this.count('recentCommands');
    return (
      this.sql('SELECT doc FROM commands ORDER BY ts DESC, src_offset DESC LIMIT ?').all(first) as {
        doc: string;
      }[]
    ).map((r) => JSON.parse(r.doc) as CommandRow);
  }
}
