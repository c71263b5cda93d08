import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded-log.ts';

// The embedded log keeps partitions' ends and groups' positions in memory (one SQLite read per
// partition per subscription pass was most of the CPU at 1 000 log lines/s). Another connection
// to the same file (another process) must still see every change: these open two.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function twoConnections(): [EmbeddedLog, EmbeddedLog] {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-embedded-conn-'));
  dirs.push(dir);
  return [new EmbeddedLog({ dataDir: dir }), new EmbeddedLog({ dataDir: dir, pollIntervalMs: 20 })];
}

const rec = (v: string) => ({ key: Buffer.from(v), value: Buffer.from(v), timestamp: 1 });

describe('embedded log across connections', () => {
  it("delivers to a subscriber on another connection what the first appends, and shows each the other's positions", async () => {
    const [writer, reader] = twoConnections();
    await writer.ensureTopics([{ name: 't', partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 }]);
    const seen: string[] = [];
    await writer.append('t', [rec('a'), rec('b'), rec('c')]);
    const sub = await reader.subscribe({
      group: 'g',
      topics: ['t'],
      fromBeginning: true,
      handler: async (batch) => {
        for (const r of batch.records) seen.push(r.value!.toString());
      },
    });
    await sub.whenCaughtUp(10_000);
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    // Appended by the other connection after the reader cached the ends: found by its poll.
    await writer.append('t', [rec('d'), rec('e')]);
    await sub.whenCaughtUp(10_000);
    expect([...seen].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // The reader's commits are seen by the writer's connection.
    const ends = (await writer.describeTopics(['t']))[0]!.partitions.map((p) => p.high);
    const committed = await writer.committed('g', 't');
    expect([0, 1].map((p) => committed.get(p) ?? 0n)).toEqual(ends);
    await sub.close();
    await reader.close();
    await writer.close();
  });

  it('appends after the last record another connection wrote, though it had read the end before', async () => {
    const [a, b] = twoConnections();
    await a.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
    await a.append('t', [rec('a1')]);
    expect((await b.read('t', 0)).map((r) => r.value!.toString())).toEqual(['a1']); // b knows end 1
    await a.append('t', [rec('a2'), rec('a3')]);
    const positions = await b.append('t', [rec('b1')]);
    expect(positions.map((p) => p.offset)).toEqual([3n]);
    expect((await a.read('t', 0)).map((r) => `${r.offset}:${r.value!.toString()}`)).toEqual([
      '0:a1',
      '1:a2',
      '2:a3',
      '3:b1',
    ]);
    await a.close();
    await b.close();
  });
});
