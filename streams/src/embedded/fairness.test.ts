import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freshLog(options: { durability?: 'normal' | 'off' } = {}): EmbeddedLog {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-embedded-fair-'));
  dirs.push(dir);
  return new EmbeddedLog({ dataDir: dir, ...options });
}

describe('embedded log and the event loop', () => {
  // `hetu start` serves the API from the thread its stages run on, and `hetu analyze` learns from
  // a message that its other thread is done: a backlog worked off in promise continuations alone
  // would hold both until its end.
  it('lets timers run while a subscription works off a backlog', async () => {
    const log = freshLog();
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
    const total = 3000;
    await log.append(
      't',
      Array.from({ length: total }, (_, i) => ({ key: null, value: Buffer.from(String(i)), timestamp: i })),
    );
    let handled = 0;
    // One record a batch: 3 000 transactions, far more than the 10 ms after which it yields.
    const sub = await log.subscribe({
      group: 'g',
      topics: ['t'],
      fromBeginning: true,
      maxBatchRecords: 1,
      handler: async (batch) => {
        handled += batch.records.length;
      },
    });
    const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(handled), 0));
    await sub.whenCaughtUp(60_000);
    expect(handled).toBe(total);
    expect(atTimer).toBeLessThan(total);
    await sub.close();
    await log.close();
  });
});

describe('embedded log durability', () => {
  const synchronous = (log: EmbeddedLog) =>
    (
      (log as unknown as { db: DatabaseSync }).db.prepare('PRAGMA synchronous').get() as {
        synchronous: number;
      }
    ).synchronous;

  it('fsyncs as SQLite NORMAL by default and not at all when told the log is not kept', async () => {
    const kept = freshLog();
    const scratch = freshLog({ durability: 'off' });
    expect(synchronous(kept)).toBe(1); // NORMAL
    expect(synchronous(scratch)).toBe(0); // OFF
    await kept.close();
    await scratch.close();
  });
});
