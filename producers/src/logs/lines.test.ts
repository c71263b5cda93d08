import { describe, expect, it } from 'vitest';
import {
  advanceCursor,
  LineSplitter,
  parseKubeTimestamp,
  parseLogLine,
  ResumeFilter,
  sinceTimeOf,
  type LogCursor,
} from './lines.ts';

const T = '2026-11-26T08:00:31.123456789Z';
const NS = parseKubeTimestamp(T)!;

describe('log line parsing', () => {
  it('reads the kubelet timestamp to the nanosecond and rounds sinceTime down to the second', () => {
    expect(NS).toBe(1795680031123456789n);
    expect(parseKubeTimestamp('2026-11-26T09:00:31.5+01:00')).toBe(1795680031500000000n);
    expect(parseKubeTimestamp('not a time')).toBe(null);
    expect(sinceTimeOf(NS)).toBe('2026-11-26T08:00:31Z');
  });

  it('splits the timestamp from the text, keeps lines without one, replaces invalid UTF-8', () => {
    expect(parseLogLine(Buffer.from(`${T} hello world\r`), false, 100)).toEqual({
      tsText: T,
      ns: NS,
      ms: 1795680031123,
      text: 'hello world',
      truncated: false,
    });
    const bad = parseLogLine(Buffer.from([0x62, 0xff, 0x20, 0x78]), false, 100);
    expect([bad.tsText, bad.ns, bad.text]).toEqual(['', null, 'b\ufffd x']);
  });

  it('cuts a long line on a character boundary and flags it', () => {
    // 'é' is 2 bytes: 5 of them are 10 bytes; a cap of 7 keeps 3 whole ones
    const p = parseLogLine(Buffer.from(`${T} ééééé`), false, 7);
    expect([p.text, p.truncated]).toEqual(['ééé', true]);
    expect(parseLogLine(Buffer.from(`${T} abc`), true, 7).truncated).toBe(true);
  });

  it('keeps at most keepBytes of a line while splitting a stream', () => {
    const out: [string, boolean][] = [];
    const s = new LineSplitter(4);
    const on = (b: Buffer, cut: boolean) => out.push([b.toString(), cut]);
    s.push(Buffer.from('ab\ncdefg'), on);
    s.push(Buffer.from('hij\nk'), on);
    s.end(on);
    expect(out).toEqual([
      ['ab', false],
      ['cdef', true],
      ['k', false],
    ]);
  });

  it('holds a partial line in a buffer of its own, not in a slab of the shared Buffer pool', () => {
    const held: Buffer[] = [];
    const s = new LineSplitter(100);
    s.push(Buffer.from('a whole line\npart of the next'), () => undefined);
    s.end((b) => held.push(b));
    expect(held.map((b) => b.toString())).toEqual(['part of the next']);
    // a pooled copy (Buffer.from) would be a view of a Buffer.poolSize (64 KiB) ArrayBuffer
    expect(held[0]!.buffer.byteLength).toBe(held[0]!.length);
  });
});

describe('the resume rule', () => {
  const cursor: LogCursor = { ts: T, ns: NS, count: 2 };

  it('skips older lines and the first count lines at the cursor, then emits', () => {
    const f = new ResumeFilter(cursor);
    expect([f.next(NS - 1n), f.next(NS), f.next(NS), f.next(NS), f.next(NS + 1n), f.next(NS)]).toEqual([
      'skip',
      'skip',
      'skip',
      'emit',
      'emit',
      'emit',
    ]);
  });

  it('owes a gap when a newer line comes before the cursor lines were all seen again', () => {
    const f = new ResumeFilter(cursor);
    expect([f.next(NS), f.next(NS + 5n), f.next(NS + 6n)]).toEqual(['skip', 'gap-then-emit', 'emit']);
    expect(new ResumeFilter(null).next(NS)).toBe('emit');
  });

  it('counts lines sharing a timestamp in the cursor, and never moves it back', () => {
    let c = advanceCursor(null, T, NS);
    c = advanceCursor(c, T, NS);
    expect(c).toEqual({ ts: T, ns: NS, count: 2 });
    expect(advanceCursor(c, 'older', NS - 1n)).toBe(c);
    expect(advanceCursor(c, 'newer', NS + 1n)).toEqual({ ts: 'newer', ns: NS + 1n, count: 1 });
  });
});
