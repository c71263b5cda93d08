import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded-log.ts';

const DAY = 86_400_000;

describe('embedded retention', () => {
  it('counts retention back from the newest record, so an old recording stays readable', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:', now: () => 1_795_680_000_000 });
    await log.ensureTopics([{ name: 'raw', partitions: 1, cleanupPolicy: 'delete', retentionMs: 7 * DAY }]);
    // A recording from 1970: ten days of one record a day.
    await log.append(
      'raw',
      Array.from({ length: 10 }, (_, d) => ({
        key: null,
        value: Buffer.from(`day${d}`),
        timestamp: d * DAY,
      })),
    );
    log.clean('raw', 0);
    const kept = (await log.read('raw', 0)).map((r) => r.value!.toString());
    // Newest is day 9; 7 days of retention keep days 2..9 (ts ≥ 2·DAY); days 0 and 1 are gone.
    expect(kept).toEqual(['day2', 'day3', 'day4', 'day5', 'day6', 'day7', 'day8', 'day9']);
    const [info] = await log.describeTopics(['raw']);
    expect(info!.partitions[0]).toEqual({ partition: 0, low: 2n, high: 10n });
    await log.close();
  });

  it('never deletes the newest record, so the end offset survives', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:', now: () => 100 * DAY });
    await log.ensureTopics([{ name: 'raw', partitions: 1, cleanupPolicy: 'delete', retentionMs: DAY }]);
    await log.append('raw', [{ key: null, value: Buffer.from('a'), timestamp: 0 }]);
    await log.append('raw', [{ key: null, value: Buffer.from('b'), timestamp: 100 * DAY + 5 }]);
    log.clean('raw', 0);
    expect((await log.read('raw', 0)).map((r) => [r.value!.toString(), r.offset])).toEqual([['b', 1n]]);
    await log.close();
  });

  it('deletes nothing by time without time retention, and still compacts', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:', now: () => 1_795_680_000_000, timeRetention: false });
    await log.ensureTopics([
      { name: 'raw', partitions: 1, cleanupPolicy: 'delete', retentionMs: 7 * DAY },
      { name: 'facts', partitions: 1, cleanupPolicy: 'compact' },
    ]);
    const days = Array.from({ length: 10 }, (_, d) => ({
      key: Buffer.from(`k${d % 2}`),
      value: Buffer.from(`day${d}`),
      timestamp: d * DAY,
    }));
    await log.append('raw', days);
    await log.append('facts', days);
    log.clean('raw', 0);
    log.clean('facts', 0);
    // Every day of the recording stays (with retention, days 0 and 1 went: the test above) …
    expect((await log.read('raw', 0)).map((r) => r.value!.toString())).toEqual(
      days.map((d) => d.value.toString()),
    );
    // … and compaction still keeps the newest record per key.
    expect((await log.read('facts', 0)).map((r) => r.value!.toString())).toEqual(['day8', 'day9']);
    await log.close();
  });
});
