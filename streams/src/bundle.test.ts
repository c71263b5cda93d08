import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLE_HEADER, BUNDLE_MAX_RECORDS, bundleRecords, isBundle, unbundle } from './bundle.ts';
import { EmbeddedLog } from './embedded/embedded-log.ts';
import type { AppendRecord, LogRecord } from './port.ts';
import { TaskState, foldBatch, type StatefulProcessor } from './runtime/processor.ts';
import { ProcessorRuntime } from './runtime/runtime.ts';

const b = (s: string) => Buffer.from(s);

/** What a reader sees of an appended record (its position is the bundle's). */
function asRead(r: AppendRecord, offset = 0n): LogRecord {
  return {
    topic: 'feed',
    partition: r.partition ?? 0,
    offset,
    key: r.key,
    value: r.value,
    timestamp: r.timestamp ?? 0,
    headers: r.headers ?? {},
  };
}

const show = (r: {
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: Record<string, Buffer>;
}) =>
  JSON.stringify({
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
    ts: r.timestamp,
    headers: Object.fromEntries(
      Object.entries(r.headers ?? {})
        .map(([k, v]) => [k, v.toString()])
        .sort(([a], [c]) => (a! < c! ? -1 : 1)),
    ),
  });

/** Expands whatever `bundleRecords` wrote back into records, as the runtime does before a fold. */
function expand(written: AppendRecord[]): string[] {
  return written.flatMap((w) => {
    const r = asRead(w);
    return (isBundle(r) ? unbundle(r) : [r]).map(show);
  });
}

describe('bundleRecords / unbundle', () => {
  it('packs runs of one key, partition and time and gives back the same records in the same order', () => {
    const rec = (
      key: string,
      ts: number,
      value: string | null,
      headers: Record<string, string> = {},
      partition?: number,
    ) => ({
      key: b(key),
      value: value === null ? null : b(value),
      timestamp: ts,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, b(v)])),
      ...(partition !== undefined ? { partition } : {}),
    });
    const input: AppendRecord[] = [
      rec('c', 1000, 'a', { src: 'metrics', off: '1' }),
      rec('c', 1000, 'b', { src: 'metrics', off: '2' }),
      rec('c', 1000, 'c', { src: 'metrics', off: '3', extra: 'x' }),
      rec('c', 1001, 'd', { src: 'metrics', off: '4' }), // another time: a new run
      rec('c', 1001, 'e', { src: 'kube', off: '5' }),
      rec('c', 1001, null, { src: 'kube', off: '6' }), // a tombstone is never bundled
      rec('c', 1001, 'f', { src: 'kube', off: '7' }),
      rec('d', 1001, 'g', {}), // another key
      rec('d', 1001, 'h', {}, 2), // another partition
      rec('d', 1001, '', {}, 2), // an empty value is a value
    ];
    const written = bundleRecords(input);
    expect(written.map((w) => (w.headers?.[BUNDLE_HEADER] ? 'B' : '-')).join('')).toBe('BB---B');
    expect(expand(written)).toEqual(input.map(show));
    // A header every record of the run has alike is stored once.
    const first = written[0]!;
    expect(first.value!.toString('latin1').split('metrics').length - 1).toBe(1);
    expect(first.timestamp).toBe(1000);
    expect(first.key!.toString()).toBe('c');
  });

  it('keeps a bundle within its limits of records and bytes', () => {
    const n = BUNDLE_MAX_RECORDS * 2 + 5;
    const input = Array.from({ length: n }, (_, i) => ({ key: b('k'), value: b(`v${i}`), timestamp: 5 }));
    const written = bundleRecords(input);
    expect(written.map((w) => unbundle(asRead(w)).length)).toEqual([
      BUNDLE_MAX_RECORDS,
      BUNDLE_MAX_RECORDS,
      5,
    ]);
    expect(expand(written)).toEqual(input.map(show));
    const big = Array.from({ length: 10 }, (_, i) => ({
      key: b('k'),
      value: Buffer.alloc(100_000, i),
      timestamp: 5,
    }));
    const bigWritten = bundleRecords(big);
    expect(bigWritten.length).toBe(5);
    for (const w of bigWritten) expect(w.value!.length).toBeLessThan(256 * 1024);
    expect(expand(bigWritten)).toEqual(big.map(show));
  });

  it('says what is wrong with a bundle it cannot read', () => {
    const [bundle] = bundleRecords([
      { key: b('k'), value: b('one'), timestamp: 1 },
      { key: b('k'), value: b('two'), timestamp: 1 },
    ]);
    const read = asRead(bundle!, 42n);
    const cut = { ...read, value: read.value!.subarray(0, read.value!.length - 2) };
    expect(() => unbundle(cut)).toThrow(/feed\/0\/42 is a bundle .* runs past its end/);
    expect(() => unbundle({ ...read, headers: { [BUNDLE_HEADER]: b('9') } })).toThrow(/version is "9"/);
    expect(() => unbundle({ ...read, value: Buffer.concat([read.value!, b('x')]) })).toThrow(
      /1 bytes follow/,
    );
    try {
      unbundle(cut);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('HETU_INPUT_INVALID');
    }
  });
});

describe('a fold over bundles', () => {
  const seen: string[] = [];
  const def: StatefulProcessor<string, string[]> = {
    name: 'reader',
    inputs: ['feed'],
    changelogTopic: 'reader-changelog',
    decodeInput: (r) => {
      if (r.value?.toString() === 'bad')
        throw Object.assign(new Error('bad value'), { code: 'HETU_INPUT_INVALID' });
      return `${r.value?.toString()}@${r.timestamp}/${r.headers['off']?.toString()}`;
    },
    init: () => [],
    restore: () => undefined,
    process: (state, input, ctx) => {
      state.push(input);
      seen.push(`${input} w${ctx.watermark}`);
    },
    snapshot: () => null,
  };

  it('folds the records a bundle holds, dead-letters a bad one alone, and skips a re-delivered bundle', async () => {
    seen.length = 0;
    const input: AppendRecord[] = ['a', 'bad', 'c'].map((v, i) => ({
      key: b('k'),
      value: b(v),
      timestamp: 7000,
      headers: { off: b(String(i)) },
    }));
    const [bundle] = bundleRecords(input);
    const task = new TaskState<string[]>([]);
    const result = await foldBatch(def, task, [asRead(bundle!, 3n)]);
    expect(task.state).toEqual(['a@7000/0', 'c@7000/2']);
    expect(
      result.deadLetters.map((d) => [d.value?.toString(), d.source.offset, d.headers['off']?.toString()]),
    ).toEqual([['bad', 3n, '1']]);
    expect(task.watermark).toBe(7000);
    const again = await foldBatch(def, task, [asRead(bundle!, 3n)]);
    expect(again.skipped).toBe(1);
    expect(task.state.length).toBe(2);
  });

  it('dead-letters a bundle it cannot read, whole, and goes on', async () => {
    const [bundle] = bundleRecords([
      { key: b('k'), value: b('x'), timestamp: 1 },
      { key: b('k'), value: b('y'), timestamp: 1 },
    ]);
    const broken = asRead({ ...bundle!, value: bundle!.value!.subarray(0, 5) }, 0n);
    const next = asRead({ key: b('k'), value: b('z'), timestamp: 2, headers: { off: b('9') } }, 1n);
    const task = new TaskState<string[]>([]);
    const result = await foldBatch(def, task, [broken, next]);
    expect(result.deadLetters.length).toBe(1);
    expect(result.deadLetters[0]!.message).toMatch(/is a bundle .*cannot be read/);
    expect(task.state).toEqual(['z@2/9']);
  });
});

describe('a stage writing bundles, on the embedded log', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes a row per run, and the stage reading it derives what it derives from unbundled records', async () => {
    const outputsOf = async (bundled: boolean) => {
      const dir = mkdtempSync(join(tmpdir(), 'hetu-bundle-'));
      dirs.push(dir);
      const log = new EmbeddedLog({ dataDir: dir });
      await log.ensureTopics(
        ['in', 'feed', 'out'].map((name) => ({
          name,
          partitions: 1,
          cleanupPolicy: 'delete' as const,
          retentionMs: -1,
        })),
      );
      // 3 scrapes of 300 samples each (one time per scrape), with a few other records between.
      const input: AppendRecord[] = [];
      for (let s = 0; s < 3; s++) {
        input.push({ key: b('event'), value: b(`event ${s}`), timestamp: 10_000 * s + 5 });
        for (let i = 0; i < 300; i++)
          input.push({ key: b('sample'), value: b(`s${s}.${i}`), timestamp: 10_000 * s + 500 });
      }
      await log.append('in', input);
      // A copying stage (as the cluster feed) and a stage reading what it wrote.
      const copier: StatefulProcessor<LogRecord, null> = {
        name: 'copier',
        inputs: ['in'],
        changelogTopic: 'copier-changelog',
        ...(bundled ? { bundled: ['feed'] } : {}),
        decodeInput: (r) => r,
        init: () => null,
        restore: () => undefined,
        process: (_s, r, ctx) =>
          ctx.emit('feed', {
            key: b('cluster'),
            value: r.value,
            timestamp: r.timestamp,
            headers: { from: b(`in/${r.offset}`), kind: r.key! },
          }),
        snapshot: () => null,
      };
      const reader: StatefulProcessor<string, { n: number }> = {
        name: 'reader',
        inputs: ['feed'],
        changelogTopic: 'reader-changelog',
        decodeInput: (r) =>
          `${r.value?.toString()} ${r.headers['from']?.toString()} ${r.headers['kind']?.toString()}`,
        init: () => ({ n: 0 }),
        restore: (s, _k, v) => {
          if (v) s.n = Number(v.toString());
        },
        process: (s, input, ctx) => {
          s.n++;
          ctx.changed('n');
          ctx.emit('out', { key: b('k'), value: b(`${s.n} ${input}`), timestamp: ctx.timestamp });
        },
        snapshot: (s) => b(String(s.n)),
      };
      for (const processor of [copier, reader]) {
        const rt = new ProcessorRuntime({ log, processor: processor as StatefulProcessor<unknown, unknown> });
        const sub = await rt.start();
        await sub.whenCaughtUp(30_000);
        await rt.close();
      }
      const feedRows = (await log.read('feed', 0, { maxRecords: 10_000 })).length;
      const out = (await log.read('out', 0, { maxRecords: 10_000 })).map((r) => `${r.timestamp} ${r.value}`);
      await log.close();
      return { feedRows, out };
    };
    const plain = await outputsOf(false);
    const packed = await outputsOf(true);
    expect(plain.feedRows).toBe(903);
    // Per scrape: the event alone, then its 300 samples in one bundle (a batch holds at most 500).
    expect(packed.feedRows).toBe(6);
    expect(packed.out.length).toBe(903);
    expect(packed.out).toEqual(plain.out);
  });
});
