import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog, type AppendRecord, type Log } from '@hetu/streams';
import { boundedAppendLog } from './append.ts';

const rec = (i: number, bytes: number): AppendRecord => ({
  key: Buffer.from('k'),
  value: Buffer.alloc(bytes, 48 + (i % 10)),
  headers: { n: Buffer.from(String(i)) },
});

describe('boundedAppendLog', () => {
  let log: EmbeddedLog;
  afterEach(async () => log?.close());

  /** The embedded log with another `append` (a fault injected in front of it). */
  const withAppend = (append: Log['append']): Log => Object.assign(Object.create(log) as Log, { append });

  async function values(l: Log): Promise<string[]> {
    return (await l.read('t', 0)).map((r) => r.headers['n']!.toString());
  }

  it('writes a batch over the bound as several appends, in order, with every position', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    const calls: number[] = [];
    const counting = withAppend((t, rs) => (calls.push(rs.length), log.append(t, rs)));
    const l = boundedAppendLog(counting, { maxRequestBytes: 4096, signal: new AbortController().signal });
    const rs = Array.from({ length: 50 }, (_, i) => rec(i, 1000));
    const pos = await l.append('t', rs);
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(50);
    expect(pos.map((p) => p.offset)).toEqual(rs.map((_, i) => BigInt(i)));
    expect(await values(log)).toEqual(rs.map((_, i) => String(i)));
  });

  it('retries a failed later request itself, so nothing is written twice; the first failing fails the call', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    let call = 0;
    const errors: (string | null)[] = [];
    // the second request fails once (a broker hiccup), everything else goes through
    const flaky = withAppend(async (t, rs) => {
      call++;
      if (call === 2) throw new Error('broker hiccup');
      return log.append(t, rs);
    });
    const l = boundedAppendLog(flaky, {
      maxRequestBytes: 2500,
      signal: new AbortController().signal,
      onRetry: (e) => errors.push(e),
    });
    const rs = Array.from({ length: 6 }, (_, i) => rec(i, 1000));
    await l.append('t', rs);
    expect(await values(log)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(errors).toEqual(['broker hiccup', null]);

    const first = withAppend(async () => {
      throw new Error('down');
    });
    await expect(
      boundedAppendLog(first, { maxRequestBytes: 2500, signal: new AbortController().signal }).append(
        't',
        rs,
      ),
    ).rejects.toThrow('down');
    expect(await values(log)).toHaveLength(6);
  }, 20_000);

  it('gives up on a failing remainder once aborted', async () => {
    log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    let call = 0;
    const failingLater = withAppend(async (t, rs) =>
      ++call === 1 ? log.append(t, rs) : Promise.reject(new Error('too large')),
    );
    const stop = new AbortController();
    const l = boundedAppendLog(failingLater, { maxRequestBytes: 2500, signal: stop.signal });
    const pending = l.append(
      't',
      Array.from({ length: 4 }, (_, i) => rec(i, 1000)),
    );
    setTimeout(() => stop.abort(), 50);
    await expect(pending).rejects.toThrow('too large');
    expect(await values(log)).toEqual(['0', '1']);
  });
});
