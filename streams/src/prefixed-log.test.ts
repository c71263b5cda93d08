import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded/embedded-log.ts';
import { prefixedLog } from './prefixed-log.ts';

describe('prefixedLog: a namespace on a shared log', () => {
  it('keeps two namespaces apart while callers use the plain names', async () => {
    const shared = new EmbeddedLog({ dataDir: ':memory:' });
    const [a, b] = [prefixedLog(shared, 'a.'), prefixedLog(shared, 'b.')];
    for (const l of [a, b]) await l.ensureTopics([{ name: 'in', partitions: 1, cleanupPolicy: 'delete' }]);
    await l2(a, 'from-a');
    await l2(b, 'from-b');
    expect((await shared.describeTopics()).map((t) => t.name).sort()).toEqual([
      'a.in',
      'a.out',
      'b.in',
      'b.out',
    ]);
    expect((await a.describeTopics()).map((t) => t.name).sort()).toEqual(['in', 'out']);
    expect((await a.read('out', 0)).map((r) => [r.topic, r.value!.toString()])).toEqual([['out', 'FROM-A']]);
    expect((await b.read('out', 0)).map((r) => [r.topic, r.value!.toString()])).toEqual([['out', 'FROM-B']]);
    // The same group name in two namespaces is two groups.
    expect([...(await a.committed('g', 'in'))]).toEqual([[0, 1n]]);
    expect([...(await shared.committed('b.g', 'b.in'))]).toEqual([[0, 1n]]);
    expect([...(await shared.committed('g', 'a.in'))]).toEqual([]);
    await shared.close();
  });
});

/** Appends one record to `in`, and a group `g` copies it upper-cased to `out`. */
async function l2(log: ReturnType<typeof prefixedLog>, text: string): Promise<void> {
  await log.ensureTopics([{ name: 'out', partitions: 1, cleanupPolicy: 'delete' }]);
  await log.append('in', [{ key: null, value: Buffer.from(text), timestamp: 1 }]);
  const topics: string[] = [];
  const sub = await log.subscribe({
    group: 'g',
    topics: ['in'],
    handler: async (batch, tx) => {
      topics.push(...batch.records.map((r) => r.topic));
      tx.append(
        'out',
        batch.records.map((r) => ({ key: null, value: Buffer.from(r.value!.toString().toUpperCase()) })),
      );
    },
  });
  await sub.whenCaughtUp();
  await sub.close();
  expect(topics).toEqual(['in']);
}
