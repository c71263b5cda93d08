import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded-log.ts';

describe('embedded log: a task merges its topics by event time', () => {
  it('delivers the records of two topics of one partition in timestamp order', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([
      { name: 'kube', partitions: 1, cleanupPolicy: 'delete' },
      { name: 'metrics', partitions: 1, cleanupPolicy: 'delete' },
    ]);
    // All of kube first, then all of metrics: appended order differs from event-time order.
    await log.append(
      'kube',
      [10, 20, 30, 40].map((t) => ({ key: null, value: Buffer.from(`k${t}`), timestamp: t })),
    );
    await log.append(
      'metrics',
      [5, 15, 25, 35, 45].map((t) => ({ key: null, value: Buffer.from(`m${t}`), timestamp: t })),
    );
    const seen: string[] = [];
    const sub = await log.subscribe({
      group: 'g',
      topics: ['kube', 'metrics'],
      handler: async (b) => {
        seen.push(...b.records.map((r) => r.value!.toString()));
      },
    });
    await sub.whenCaughtUp();
    expect(seen).toEqual(['m5', 'k10', 'm15', 'k20', 'm25', 'k30', 'm35', 'k40', 'm45']);
    await sub.close();
    await log.close();
  });
});
