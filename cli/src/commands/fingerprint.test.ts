/**
 * `runFingerprint` (cli/src/commands/fingerprint.ts), the engine of `hetu fingerprint`.
 * (Kept here with the code it drives; it imports the CLI module, processors code does not.)
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runFingerprint } from './fingerprint.ts';

interface Row {
  fingerprint: string;
  template: string;
  level: string;
  reason: string;
}

/** A slow sink: one chunk at a time, each acknowledged on a later turn of the event loop. */
function slowSink(chunks: string[]): Writable {
  return new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      setImmediate(cb);
    },
  });
}

async function run(input: 'content' | 'raw', text: string): Promise<{ lines: number; rows: Row[] }> {
  const chunks: string[] = [];
  const { lines } = await runFingerprint({ input, in: Readable.from([text]), out: slowSink(chunks) });
  const rows = chunks
    .join('')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Row);
  return { lines, rows };
}

describe('runFingerprint', () => {
  it('writes one JSON object per line, in order, for every line', async () => {
    const { lines, rows } = await run(
      'raw',
      [
        '2024-05-01 10:00:00 ERROR [main] Connection to 10.0.0.1:5432 refused',
        '2024-05-01 10:00:01 INFO [main] started in 250ms',
        '',
        '2024-05-01 10:00:02 ERROR [main] Connection to 10.0.0.9:5432 refused',
        '2024-05-01 10:00:03 INFO request timed out',
      ].join('\r\n'),
    );
    expect(lines).toBe(5);
    expect(rows.map((r) => [r.template, r.level, r.reason])).toEqual([
      ['Connection to <ip> refused', 'error', 'error'],
      ['started in <dur>', 'info', 'none'],
      ['', 'unknown', 'none'],
      ['Connection to <ip> refused', 'error', 'error'],
      ['request timed out', 'error', 'timeout'],
    ]);
    expect(rows[3]?.fingerprint).toBe(rows[0]?.fingerprint);
    expect(rows.every((r) => /^[0-9a-f]{16}$/.test(r.fingerprint))).toBe(true);
  });

  it('content input keeps the whole line as the message', async () => {
    const { rows } = await run('content', 'INFO 12 jobs done\n');
    expect(rows.map((r) => [r.template, r.level])).toEqual([['INFO <num> jobs done', 'info']]);
  });

  it('waits for a slow output (backpressure) and loses nothing', async () => {
    const n = 20_000;
    const text = Array.from(
      { length: n },
      (_, i) => `user u${i} logged in from 10.0.${i % 256}.${i % 7}`,
    ).join('\n');
    const { lines, rows } = await run('content', text);
    expect(lines).toBe(n);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.fingerprint)).size).toBe(1);
    expect(rows[n - 1]?.template).toBe('user <*> logged in from <ip>');
  });

  it('is deterministic across runs', async () => {
    const text = 'a 1\nb 2\na 3\nc d e\n';
    expect(await run('content', text)).toEqual(await run('content', text));
  });

  it('reads a stream that arrives in pieces', async () => {
    const input = new PassThrough();
    const chunks: string[] = [];
    const done = runFingerprint({ input: 'content', in: input, out: slowSink(chunks) });
    input.write('first li');
    input.write('ne 1\nsecond line 2\n');
    input.end('third');
    expect(await done).toEqual({ lines: 3 });
    expect(chunks.join('').split('\n').filter(Boolean)).toHaveLength(3);
  });
});
