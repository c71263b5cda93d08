import { describe, expect, it } from 'vitest';
import { classify, detect, GC_RE, OOM_RE, PHRASES, TIMEOUT_RE } from './detect.ts';
import { parseLine, parseOccurrence } from './parse.ts';

function d(line: string): [string | undefined, string, string] {
  const r = detect(parseLine(line));
  return [r.reason, r.level, r.kind];
}

describe('detect — reasons', () => {
  it.each([
    ['\tat com.example.Foo.bar(Foo.java:10)', 'exception.java', 'error', 'error'],
    ['\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)', 'exception.java', 'error', 'error'],
    ['panic: assignment to entry in nil map', 'panic.go', 'panic', 'error'],
    ['goroutine 7 [running]:', 'panic.go', 'panic', 'error'],
    ['Traceback (most recent call last):', 'exception.python', 'error', 'error'],
    ['  File "/app/x.py", line 3, in main', 'exception.python', 'error', 'error'],
    [
      'System.NullReferenceException: Object reference not set to an instance of an object.',
      'exception.dotnet',
      'error',
      'error',
    ],
    [
      '{"level":"error","msg":"boom","stack":"Error: boom\\n    at f (/app/a.js:1:2)"}',
      'exception.node',
      'error',
      'error',
    ],
    ['2024-05-01 10:00:00 INFO upstream request timed out after 30s', 'timeout', 'error', 'error'],
    ['2024-05-01 10:00:00 INFO context deadline exceeded', 'timeout', 'error', 'error'],
    ['WARN read tcp 10.0.0.1:443: i/o timeout', 'timeout', 'warn', 'warning'],
    ['kernel: Out of memory: Killed process 1234 (java)', 'oom', 'error', 'error'],
    ['Container api was OOMKilled', 'oom', 'error', 'error'],
    ['{"level":"info","msg":"GET /api","status":502}', 'http.5xx', 'error', 'error'],
    ['10.0.0.1 - - [01/May/2024:10:00:00 +0000] "GET /api HTTP/1.1" 503 12', 'http.5xx', 'error', 'error'],
    ['INFO upstream responded status=504', 'http.5xx', 'error', 'error'],
    ['INFO upstream responded with status code 500', 'http.5xx', 'error', 'error'],
    ['[Full GC (Allocation Failure)  2048K->1024K(4096K), 0.2345 secs]', 'gc.pressure', 'error', 'error'],
    ['INFO GC overhead limit exceeded', 'gc.pressure', 'error', 'error'],
    ['ERROR something failed', 'error', 'error', 'error'],
    ['FATAL cannot start', 'error', 'fatal', 'error'],
    ['level=error msg="write failed"', 'error', 'error', 'error'],
  ])('%s → %s', (line, reason, level, kind) => {
    expect(d(line)).toEqual([reason, level, kind]);
  });

  it.each([
    ['WARN disk almost full', 'warn', 'warning'],
    ['INFO all good', 'info', 'none'],
    ['DEBUG details', 'debug', 'none'],
    ['TRACE entering', 'trace', 'none'],
    ['plain line without level', 'unknown', 'none'],
    ['INFO Setting connection timeout to 30s', 'info', 'none'],
    ['INFO status=200 path=/healthz', 'info', 'none'],
    ['INFO served 5003 requests', 'info', 'none'],
    ['{"level":"info","msg":"boom","stack":"Error: boom\\n    at f (/app/a.js:1:2)"}', 'info', 'none'],
  ])('%s → no reason, %s, %s', (line, level, kind) => {
    expect(d(line)).toEqual([undefined, level, kind]);
  });

  it('takes the first reason in SPEC order', () => {
    // A Java trace whose message also says "timed out" is exception.java.
    const p = parseOccurrence([
      'ERROR query timed out',
      'java.sql.SQLTimeoutException: x',
      '\tat a.B.c(B.java:1)',
    ]);
    expect(detect(p).reason).toBe('exception.java');
    // A timeout that also has a 5xx status is a timeout.
    expect(d('{"level":"error","msg":"upstream timed out","status":504}')[0]).toBe('timeout');
  });

  it('a Node stack counts only at error level, or unlevelled under an Error header', () => {
    const lines = ['TypeError: x is not a function', '    at main (/app/index.js:3:9)'];
    expect(detect(parseOccurrence(lines)).reason).toBe('exception.node');
    expect(
      detect(parseOccurrence(['INFO some note', '    at main (/app/index.js:3:9)'])).reason,
    ).toBeUndefined();
  });

  it('classify gives the kind', () => {
    expect(classify(parseLine('ERROR x'))).toBe('error');
    expect(classify(parseLine('WARN x'))).toBe('warning');
    expect(classify(parseLine('INFO x'))).toBe('none');
  });

  it('every phrase is found by its expression, as a word start only', () => {
    expect(PHRASES.timeout.filter((p) => !TIMEOUT_RE.test(`x ${p.toUpperCase()} y`))).toEqual([]);
    expect(PHRASES.oom.filter((p) => !OOM_RE.test(`x ${p} y`))).toEqual([]);
    expect(PHRASES.gc.filter((p) => !GC_RE.test(`(${p})`))).toEqual([]);
    expect([PHRASES.timeout.length, PHRASES.oom.length, PHRASES.gc.length]).toEqual([18, 13, 12]);
    expect(TIMEOUT_RE.test('sometimed out')).toBe(false);
    expect(TIMEOUT_RE.test('request.timed out')).toBe(true);
  });
});
