/**
 * Hostile input never throws, and every pattern and scanner runs in linear time.
 *
 * Time bounds here are sanity bounds only (2 s for work that takes milliseconds): a
 * catastrophic-backtracking pattern on a 50 000-character bait takes minutes, so these tests
 * fail on one, while the bound is generous enough not to flake on a busy machine.
 */
import { describe, expect, it } from 'vitest';
import { ANY_HINT, detect, GC_RE, HTTP_HINT, OOM_RE, TIMEOUT_RE, TRACE_HINT } from './detect.ts';
import { Fingerprinter, fingerprint, MAX_TEMPLATE_TOKEN_CHARS, templateTokens } from './fingerprint.ts';
import { stripHeader } from './header.ts';
import { findTextLevel, TEXT_LEVEL } from './levels.ts';
import { maskTokens } from './mask.ts';
import { parseLine, parseLogfmt, parseOccurrence } from './parse.ts';
import { CONTROL, MAX_LINE_CHARS, sanitizeLine } from './sanitize.ts';
import { analyseStack } from './stack.ts';
import { Stitcher } from './stitch.ts';

const BOUND_MS = 2_000;
const N = 50_000;

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** The whole pipeline on one line: parse, detect, fingerprint (stateless and clustered), stitch. */
function pipeline(line: string): string {
  const p = parseLine(line);
  const d = detect(p);
  const a = fingerprint(p, d);
  const b = new Fingerprinter().fingerprint(p, d);
  const s = new Stitcher();
  s.push({ key: 'k', ts: 0, line });
  s.push({ key: 'k', ts: 1, line });
  const occ = s.flush(Infinity);
  const o = parseOccurrence(occ[0]?.lines ?? []);
  return `${p.format}|${d.kind}|${a.fingerprint.length}|${b.fingerprint.length}|${detect(o).kind}`;
}

describe('hostile input', () => {
  it('invalid UTF-8 (decoded to U+FFFD) parses', () => {
    const line = Buffer.from([
      0x45, 0x52, 0x52, 0x4f, 0x52, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x20, 0x78,
    ]).toString('utf8');
    expect(line).toBe('ERROR \ufffd\ufffd\ufffd( x');
    const p = parseLine(line);
    expect([p.level, p.message]).toEqual(['error', '\ufffd\ufffd\ufffd( x']);
    expect(fingerprint(p).template).toBe('\ufffd\ufffd\ufffd( x');
  });

  it('NUL and binary bytes become blanks', () => {
    let bin = '';
    for (let b = 0; b < 256; b++) bin += String.fromCharCode(b);
    const p = parseLine('ERROR \u0000boom\u0000 ' + bin);
    expect(p.level).toBe('error');
    expect(CONTROL.test(p.line)).toBe(false);
    expect(p.message.slice(0, 4)).toBe('boom');
    expect(pipeline(bin)).toBe('text|none|16|16|none');
  });

  it('a 1 MiB line is cut to the first 16 Ki characters and says so', () => {
    const line = 'ERROR ' + 'x'.repeat(1 << 20);
    const p = parseLine(line);
    expect([p.truncated, p.line.length, p.level]).toEqual([true, MAX_LINE_CHARS, 'error']);
    const r = timed(() => pipeline(line));
    expect(r.value).toBe('text|error|16|16|error');
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  it('a 1 MiB line of tokens is capped in its template', () => {
    const line = 'a1 '.repeat(350_000);
    const p = parseLine(line);
    expect(p.truncated).toBe(true);
    expect(fingerprint(p).template).toBe('<*> a'); // the cut leaves the first half of a token
    const words = parseLine('w '.repeat(350_000));
    expect(fingerprint(words).template.split(' ').length).toBe(513);
  });

  it('10 000-deep JSON is read as text, never a throw', () => {
    const objects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const arrays = '['.repeat(10_000) + ']'.repeat(10_000);
    expect([parseLine(objects).format, parseLine(objects).truncated]).toEqual(['text', true]);
    expect([parseLine(arrays).format, parseLine(arrays).truncated]).toEqual(['text', true]);
    expect(pipeline(objects)).toBe('text|none|16|16|none');
    // Deep JSON that fits in 16 Ki characters parses (V8's JSON.parse is not recursive).
    const fits = '{"level":"error","msg":"deep","x":' + '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000) + '}';
    expect([parseLine(fits).format, parseLine(fits).level, parseLine(fits).message]).toEqual([
      'json',
      'error',
      'deep',
    ]);
  });

  it('ANSI escapes are stripped', () => {
    const p = parseLine(
      '\u001b[2m2024-05-01T10:00:00Z\u001b[0m \u001b[31mERROR\u001b[0m \u001b]0;title\u0007boom \u001b[1;31mfailed\u001b[m',
    );
    expect([p.level, p.message]).toEqual(['error', 'boom failed']);
    expect(sanitizeLine('\u009b31mred\u001b[').text).toBe('red');
  });

  it('lone surrogates, a cut surrogate pair and empty input', () => {
    expect(pipeline('\ud800 ERROR \udc00')).toBe('text|error|16|16|error');
    const cut = 'x'.repeat(MAX_LINE_CHARS - 1) + '\ud83d\ude00';
    expect(sanitizeLine(cut).text.length).toBe(MAX_LINE_CHARS - 1);
    expect(pipeline('')).toBe('text|none|16|16|none');
    expect(fingerprint(parseLine('')).template).toBe('');
  });

  it('non-string input is coerced, not thrown on', () => {
    expect(parseLine(42 as unknown as string).message).toBe('42');
  });
});

/** 50 000-character bait strings for backtracking and quadratic scans. */
const BAITS: Record<string, string> = {
  letters: 'a'.repeat(N),
  digits: '1'.repeat(N),
  spaces: ' '.repeat(N) + 'x',
  dotsDigits: '1.'.repeat(N / 2),
  colons: '1:'.repeat(N / 2),
  dashes: 'a-'.repeat(N / 2),
  quotes: '" '.repeat(N / 2),
  openQuotes: '"a'.repeat(N / 2),
  angles: '<'.repeat(N),
  anglesWords: '<a '.repeat(N / 3),
  brackets: '['.repeat(N),
  braces: '{"'.repeat(N / 2),
  equals: 'a=1,'.repeat(N / 4),
  slashes: '/1'.repeat(N / 2),
  urls: 'http://a/1?b=1&'.repeat(N / 15),
  levels: 'INFOINFO'.repeat(N / 8),
  levelWords: 'WARNING '.repeat(N / 8),
  timeouts: 'timtimeou'.repeat(N / 9),
  status: 'status=5'.repeat(N / 8),
  frames: '\tat a.b('.repeat(N / 8),
  goFrames: 'a.b('.repeat(N / 4),
  hexes: '0x'.repeat(N / 2),
  ips: '1.1.1.1:'.repeat(N / 8),
  ipv6: 'a:'.repeat(N / 2),
  emails: 'a@'.repeat(N / 2),
  pods: 'a-b2c4d-'.repeat(N / 8),
  control: '\u0001'.repeat(N),
  ansi: '\u001b['.repeat(N / 2),
  headers: '2024-05-01 '.repeat(N / 11),
};

describe('linear time on bait (sanity bound 2 s each)', () => {
  it.each(Object.entries(BAITS))('%s: every scanner', (_name, bait) => {
    const r = timed(() => {
      maskTokens(bait);
      stripHeader(bait);
      parseLogfmt(bait);
      analyseStack(bait.split('\n'));
      analyseStack([bait]);
      findTextLevel(bait);
      return pipeline(bait);
    });
    expect(r.value.split('|')).toHaveLength(5);
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  it('the clustering stays linear on a full leaf of long tokens', () => {
    const f = new Fingerprinter();
    const r = timed(() => {
      for (let i = 0; i < 300; i++)
        f.fingerprint(parseLine(`x${'<'.repeat(2000)}${i % 2 === 0 ? 'a' : 'b'}.${i} y`));
    });
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  it('a token over 256 characters is cut in the template, so a leaf of long distinct tokens stays cheap', () => {
    expect(templateTokens(parseLine('ERROR ' + 'a'.repeat(20_000) + '!'))).toEqual([
      'a'.repeat(MAX_TEMPLATE_TOKEN_CHARS) + '<…>',
    ]);
    expect(templateTokens(parseLine('ERROR x' + '\ud83d\ude00'.repeat(200)))[0]!.length).toBe(
      MAX_TEMPLATE_TOKEN_CHARS + 2,
    ); // 'x' + 127 whole pairs, never half of one
    // 300 one-token lines of 6 000–6 600 characters, each different (before the cap: ~30 ms a line)
    const f = new Fingerprinter();
    const r = timed(() => {
      for (let i = 0; i < 300; i++) f.fingerprint(parseLine(`ERROR ${'a@'.repeat(3000 + i)}!`));
    });
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  it.each([
    ['CONTROL', CONTROL, ['a'.repeat(N), ' \t'.repeat(N / 2)], false],
    ['TEXT_LEVEL', TEXT_LEVEL, ['INFOINFO'.repeat(N / 8), 'WARNIN_'.repeat(N / 7), 'A'.repeat(N)], false],
    [
      'TIMEOUT_RE',
      TIMEOUT_RE,
      ['timed oX'.repeat(N / 8), 'atimed out'.repeat(N / 10), 'deadline '.repeat(N / 9)],
      false,
    ],
    ['OOM_RE', OOM_RE, ['out of memor'.repeat(N / 12), 'xoomkilled'.repeat(N / 10)], false],
    ['GC_RE', GC_RE, ['gc '.repeat(N / 3), 'concurrent mode '.repeat(N / 16)], false],
    [
      'ANY_HINT',
      ANY_HINT,
      ['timed oX'.repeat(N / 8), 'statuX'.repeat(N / 6), 'concurrent mod'.repeat(N / 14)],
      false,
    ],
    ['HTTP_HINT', HTTP_HINT, ['statuX'.repeat(N / 6), 'http'.repeat(N / 4)], false],
    ['TRACE_HINT', TRACE_HINT, ['System'.repeat(N / 6), 'Microsoft'.repeat(N / 9), 'x'.repeat(N)], false],
  ] as const)('%s', (_name, re, baits, expected) => {
    for (const bait of baits) {
      const r = timed(() => re.test(bait));
      expect(r.value).toBe(expected);
      expect(r.ms).toBeLessThan(BOUND_MS);
    }
  });
});
