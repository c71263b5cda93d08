import { describe, expect, it } from 'vitest';
import type { AppendRecord } from '../port.ts';
import { EmbeddedLog } from './embedded-log.ts';
import { prng } from '../prng.ts';

async function rows(log: EmbeddedLog, topic: string, partitions: number): Promise<string[]> {
  const out: string[] = [];
  for (let p = 0; p < partitions; p++)
    for (const r of await log.read(topic, p))
      out.push(
        `${p}/${r.offset}/${r.key?.toString('hex') ?? '-'}/${r.value?.toString('hex') ?? '-'}/${r.timestamp}`,
      );
  return out;
}

/**
 * A clean after the first one in a process deletes the rows it tracked since (superseded records,
 * tombstones past their retention) instead of scanning the partition: it must delete exactly what
 * the scan deletes, at the same moments (the next clean is due when the appends reach what the
 * last one kept).
 */
describe('embedded clean', () => {
  it('deletes by tracked offsets exactly what the scan deletes', async () => {
    const topics = [
      { name: 'state', partitions: 2, cleanupPolicy: 'compact' as const, deleteRetentionMs: 1000 },
      { name: 'feed', partitions: 2, cleanupPolicy: 'delete' as const },
    ];
    // `tracked` cleans as in production; `scanned` forgets its tracking before every write, so
    // each of its cleans takes the scan (the statements every clean ran before tracking).
    const tracked = new EmbeddedLog({ dataDir: ':memory:', cleanEvery: 20, now: () => 10_000_000 });
    const scanned = new EmbeddedLog({ dataDir: ':memory:', cleanEvery: 20, now: () => 10_000_000 });
    const forget = () => (scanned as unknown as { cleanState: Map<string, unknown> }).cleanState.clear();
    for (const log of [tracked, scanned]) await log.ensureTopics(topics);
    const random = prng(20261126);
    let ts = 0;
    let cleans = 0;
    for (let round = 0; round < 400; round++) {
      const records: AppendRecord[] = [];
      const n = 1 + Math.floor(random() * 12);
      for (let i = 0; i < n; i++) {
        ts += Math.floor(random() * 50);
        const key = Buffer.from(`k${Math.floor(random() * 15)}`);
        const tombstone = random() < 0.2;
        records.push({
          key,
          value: tombstone ? null : Buffer.from(`v${round}.${i}`),
          // Some records come late (older than the newest by more than the tombstone retention).
          timestamp: random() < 0.1 ? Math.max(0, ts - 5000) : ts,
          partition: Math.floor(random() * 2),
        });
      }
      const feed = records.map((r) => ({ ...r, key: random() < 0.5 ? null : r.key }));
      for (const log of [tracked, scanned]) {
        if (log === scanned) forget();
        if (round % 3 === 0) {
          log.commitBatch(
            'g',
            [{ topic: 'feed', partition: 0, next: round }],
            [
              { topic: 'state', records },
              { topic: 'feed', records: feed },
            ],
          );
        } else {
          await log.append('state', records);
          await log.append('feed', feed);
        }
      }
      const [a, b] = [await rows(tracked, 'state', 2), await rows(scanned, 'state', 2)];
      expect(a).toEqual(b);
      expect(await rows(tracked, 'feed', 2)).toEqual(await rows(scanned, 'feed', 2));
      if (round % 50 === 49) {
        forget();
        for (const log of [tracked, scanned]) log.cleanAll();
        cleans++;
        expect(await rows(tracked, 'state', 2)).toEqual(await rows(scanned, 'state', 2));
      }
    }
    // The cleans did delete: superseded records and old tombstones are gone.
    const left = await rows(tracked, 'state', 2);
    expect(cleans).toBe(8);
    expect(left.length).toBeLessThanOrEqual(2 * 15);
    expect(left.some((r) => r.split('/')[3] === '-')).toBe(true);
    await tracked.close();
    await scanned.close();
  });

  it('keeps every record a subscriber has yet to read, on the first clean and the later ones, and compacts it once read', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:', cleanEvery: 5 });
    await log.ensureTopics([
      { name: 'facts', partitions: 1, cleanupPolicy: 'compact' },
      { name: 'unread', partitions: 1, cleanupPolicy: 'compact' },
    ]);
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sub = await log.subscribe({
      group: 'behind',
      topics: ['facts'],
      maxBatchRecords: 1000,
      handler: async (batch) => {
        await held; // the stage is busy elsewhere: it reads nothing until released
        for (const r of batch.records) seen.push(r.value!.toString());
      },
    });
    // 5 keys × 12 versions, 6 appends of 10: a clean after each (the first scans, the rest track).
    const versions: string[] = [];
    for (let a = 0; a < 6; a++) {
      const records: AppendRecord[] = [];
      for (let i = 0; i < 10; i++) {
        const n = a * 10 + i;
        versions.push(`k${n % 5}=${n}`);
        records.push({ key: Buffer.from(`k${n % 5}`), value: Buffer.from(`k${n % 5}=${n}`) });
      }
      await log.append('facts', records);
      await log.append('unread', records);
    }
    // Nobody reads 'unread': compacted to a record per key. 'facts' keeps all 60 for its reader.
    expect((await log.read('unread', 0)).length).toBe(5);
    expect((await log.read('facts', 0)).length).toBe(60);
    release();
    await sub.whenCaughtUp();
    expect(seen).toEqual(versions);
    // Read: the next clean compacts what the reader has passed.
    log.cleanAll();
    expect((await log.read('facts', 0)).map((r) => r.value!.toString())).toEqual(versions.slice(-5));
    await sub.close();
    await log.close();
  });
});
