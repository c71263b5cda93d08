import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded/embedded-log.ts';
import { groupProgress } from './progress.ts';

describe('groupProgress', () => {
  it("sums a group's committed positions and the ends over every partition of the topics", async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([
      { name: 'a', partitions: 2, cleanupPolicy: 'delete' },
      { name: 'b', partitions: 1, cleanupPolicy: 'delete' },
    ]);
    const rec = (partition: number) => ({ key: null, value: Buffer.from('x'), partition });
    await log.append('a', [rec(0), rec(0), rec(1)]);
    await log.append('b', [rec(0)]);
    expect(await groupProgress(log, 'g', ['a', 'b'])).toEqual({ committed: 0n, end: 4n });
    const seen: number[] = [];
    const sub = await log.subscribe({
      group: 'g',
      topics: ['a'],
      handler: async (batch) => void seen.push(batch.records.length),
    });
    await sub.whenCaughtUp(10_000);
    await sub.close();
    expect(await groupProgress(log, 'g', ['a'])).toEqual({ committed: 3n, end: 3n });
    expect(await groupProgress(log, 'g', ['a', 'b'])).toEqual({ committed: 3n, end: 4n });
    await log.close();
  });
});
