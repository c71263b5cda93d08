import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGlobalConfig } from '../config.ts';
import { createCatalogueTopics, openBackend, type Backend } from '../backend.ts';
import { DEMO_RECORDING, feedRecording } from './start.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-feed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every raw record as `topic/partition key value-bytes`, in log order. */
async function raw(b: Backend): Promise<string[]> {
  const out: string[] = [];
  for (const info of await b.log.describeTopics(['hetu.raw.kube', 'hetu.raw.metrics', 'hetu.raw.logs']))
    for (const p of info.partitions)
      for (const r of await b.log.read(info.name, p.partition))
        out.push(`${info.name}/${p.partition} ${r.key?.toString()} ${r.value?.toString('base64')}`);
  return out;
}

describe('hetu start feeding a recording', () => {
  it('goes on where it stopped after a restart: every line once, as one uninterrupted feed', async () => {
    const open = async (name: string) => {
      const b = await openBackend(parseGlobalConfig({ dataDir: join(dir, name) }, {}));
      await createCatalogueTopics(b.log);
      return b;
    };
    const clean = await open('clean');
    const whole = await feedRecording(clean, DEMO_RECORDING, { speed: Infinity, maxBatch: 500 });
    const want = await raw(clean);
    await clean.close();
    expect(whole.skipped).toBe(0);
    expect(want.length).toBe(21_779);

    // Stopped after a few appends (the abort signal), the process and its log closed, started again.
    const stopped = await open('stopped');
    const stop = new AbortController();
    let appends = 0;
    const append = stopped.log.append.bind(stopped.log);
    stopped.log.append = async (topic, records) => {
      const r = await append(topic, records);
      if (++appends === 7) stop.abort();
      return r;
    };
    const first = await feedRecording(stopped, DEMO_RECORDING, {
      speed: Infinity,
      maxBatch: 500,
      signal: stop.signal,
    });
    await stopped.close();
    const again = await open('stopped');
    const second = await feedRecording(again, DEMO_RECORDING, { speed: Infinity, maxBatch: 500 });
    const got = await raw(again);
    await again.close();
    expect(first.observations).toBeLessThan(21_779);
    expect(second.skipped).toBeGreaterThan(0);
    expect(second.skipped + second.observations).toBe(21_779);
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
  }, 120_000);

  it('says when raw input is complete below a time: every line older than it is in the log', async () => {
    const b = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'frontier') }, {}));
    await createCatalogueTopics(b.log);
    const appended: number[] = [];
    const append = b.log.append.bind(b.log);
    b.log.append = async (topic, records) => {
      const r = await append(topic, records);
      if (topic.startsWith('hetu.raw.')) for (const x of records) appended.push(x.timestamp!);
      return r;
    };
    // Paced on a clock the test moves: each wait flushes, then says so.
    let clock = 0;
    const complete: { t: number; appended: number }[] = [];
    const summary = await feedRecording(b, DEMO_RECORDING, {
      speed: 60,
      maxBatch: 500,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      onComplete: (t) => complete.push({ t, appended: appended.length }),
    });
    await b.close();
    expect(summary.observations).toBe(21_779);
    expect(complete.length).toBeGreaterThan(100);
    expect(complete[complete.length - 1]!.t).toBe(Infinity);
    for (const [i, c] of complete.entries()) {
      // Only forward, and when said, every line older than t was appended (and none later than
      // those appended then is older).
      if (i > 0) expect(c.t).toBeGreaterThanOrEqual(complete[i - 1]!.t);
      const older = appended.filter((ts) => ts < c.t).length;
      expect([c.t, older]).toEqual([c.t, appended.slice(0, c.appended).filter((ts) => ts < c.t).length]);
    }
  }, 120_000);

  it('does not say the recording is complete when it stopped early', async () => {
    const b = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'frontier-stopped') }, {}));
    await createCatalogueTopics(b.log);
    const stop = new AbortController();
    const complete: number[] = [];
    await feedRecording(b, DEMO_RECORDING, {
      speed: Infinity,
      maxBatch: 500,
      signal: stop.signal,
      onComplete: (t) => {
        complete.push(t);
        if (complete.length === 3) stop.abort();
      },
    });
    await b.close();
    expect(complete.length).toBe(3);
    expect(complete.every((t) => Number.isFinite(t))).toBe(true);
  }, 120_000);
});
