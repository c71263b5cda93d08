import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../embedded/embedded-log.ts';
import { keyedProcessor } from './processor.ts';
import { ProcessorRuntime } from './runtime.ts';

// `ProcessorRuntimeOptions.changelog: false`: `hetu analyze` on a log it deletes afterwards.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function logWithInput(): Promise<EmbeddedLog> {
  const dir = mkdtempSync(join(tmpdir(), 'hetu-nocl-'));
  dirs.push(dir);
  const log = new EmbeddedLog({ dataDir: dir });
  await log.ensureTopics([
    { name: 'in', partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: 'out', partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  for (let p = 0; p < 2; p++)
    await log.append(
      'in',
      Array.from({ length: 40 }, (_, i) => ({
        key: Buffer.from(`k${i % 3}`),
        value: Buffer.from(`k${i % 3}`),
        timestamp: 1000 + i * 700,
        partition: p,
      })),
    );
  return log;
}

/** Counts each key's records and emits the running count: its state carries across batches. */
const counter = (failEncodes = 0) => {
  let failures = failEncodes;
  return {
    processor: keyedProcessor<string, number>({
      name: 'counter',
      inputs: ['in'],
      changelogTopic: 'counter-changelog',
      encodeState: (v) => Buffer.from(String(v)),
      decodeState: (b) => Number(b.toString()),
      decodeInput: (r) => r.value!.toString(),
      process: (store, key, ctx) => {
        const n = (store.get(key) ?? 0) + 1;
        store.put(key, n);
        ctx.emit('out', { key, value: n, timestamp: ctx.timestamp });
      },
    }),
    // A transient failure after the fold: the batch is retried, which needs the state rebuilt.
    encodeFact: (_topic: string, v: unknown) => {
      if (failures-- > 0) throw Object.assign(new Error('registry unreachable'), { transient: true });
      return Buffer.from(JSON.stringify(v));
    },
  };
};

async function run(log: EmbeddedLog, changelog: boolean, failEncodes = 0): Promise<void> {
  const { processor, encodeFact } = counter(failEncodes);
  const rt = new ProcessorRuntime({ log, processor, encodeFact, changelog, maxBatchRecords: 7 });
  const sub = await rt.start();
  try {
    await sub.whenCaughtUp(30_000);
  } finally {
    await rt.close();
  }
}

async function contents(log: EmbeddedLog, topic: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const p of [0, 1])
    out.push(
      (await log.read(topic, p)).map((r) => `${r.offset} ${r.key?.toString()} ${r.value?.toString()}`),
    );
  return out;
}

describe('a stage without a changelog', () => {
  it('derives the same outputs at the same offsets and writes no changelog record', async () => {
    const withCl = await logWithInput();
    const without = await logWithInput();
    await run(withCl, true);
    await run(without, false);
    const out = await contents(without, 'out');
    // 40 counts and a batch marker per batch of 7 records (or less at a 1 s event-time slot's end).
    expect(out[0]!.filter((l) => !l.endsWith('undefined')).length).toBe(40);
    expect(out).toEqual(await contents(withCl, 'out'));
    // The state carried across batches: k0's 14th record counted 14.
    expect(out[0]!.filter((l) => / k0 14$/.test(l))).toHaveLength(1);
    const changelog = async (log: EmbeddedLog) =>
      (await log.describeTopics(['counter-changelog']))[0]!.partitions.map((p) => Number(p.high));
    expect((await changelog(withCl)).every((n) => n > 0)).toBe(true);
    expect(await changelog(without)).toEqual([0, 0]);
    expect([...(await without.committed('counter', 'in'))]).toEqual([
      [0, 40n],
      [1, 40n],
    ]);
    await withCl.close();
    await without.close();
  });

  it('stops with HETU_RUNTIME_NO_CHANGELOG where a retried batch would need its state rebuilt', async () => {
    const log = await logWithInput();
    await expect(run(log, false, 1)).rejects.toMatchObject({ code: 'HETU_RUNTIME_NO_CHANGELOG' });
    // With its changelog, the same failure is retried from the restored state.
    const other = await logWithInput();
    await run(other, true, 1);
    expect((await contents(other, 'out'))[0]!.filter((l) => l.endsWith(' 14')).length).toBe(1);
    await log.close();
    await other.close();
  });
});
