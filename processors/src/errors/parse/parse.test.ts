import { describe, expect, it } from 'vitest';
import { stripHeader } from './header.ts';
import { normaliseLevel } from './levels.ts';
import { parseLine, parseLogfmt, parseOccurrence } from './parse.ts';

describe('parseLine — JSON', () => {
  it('reads the SPEC field aliases', () => {
    const p = parseLine(
      JSON.stringify({
        severity: 'ERROR',
        message: 'payment failed',
        err: 'card declined',
        stack_trace: 'Error: x\n    at f (/a.js:1:2)',
        traceId: 't-1',
        req_id: 'r-1',
        uri: '/pay',
        statusCode: 502,
      }),
    );
    expect(p).toEqual({
      format: 'json',
      level: 'error',
      message: 'payment failed',
      error: 'card declined',
      stack: 'Error: x\n    at f (/a.js:1:2)',
      traceId: 't-1',
      requestId: 'r-1',
      url: '/pay',
      status: 502,
      truncated: false,
      line: p.line,
    });
  });

  it.each([
    [{ level: 'warn', msg: 'a' }, 'warn', 'a'],
    [{ lvl: 'dbg', message: 'b' }, 'debug', 'b'],
    [{ level: 50, error_message: 'c' }, 'error', 'c'],
    [{ level: 'CRITICAL', msg: 'd' }, 'fatal', 'd'],
    [{ msg: 'e' }, 'unknown', 'e'],
  ])('%j → level %s, message %s', (obj, level, message) => {
    const p = parseLine(JSON.stringify(obj));
    expect([p.format, p.level, p.message]).toEqual(['json', level, message]);
  });

  it('reads a structured error object', () => {
    const p = parseLine(
      '{"level":"error","error":{"type":"TimeoutError","message":"deadline","stack":"TimeoutError: deadline"}}',
    );
    expect([p.message, p.error, p.errorType, p.stack]).toEqual([
      'deadline',
      'deadline',
      'TimeoutError',
      'TimeoutError: deadline',
    ]);
  });

  it('reads JSON after a container runtime header', () => {
    const p = parseLine('2024-05-01T10:00:00.123456789Z stdout F {"level":"info","msg":"ready"}');
    expect([p.format, p.level, p.message]).toEqual(['json', 'info', 'ready']);
  });

  it('reads a status given as a string, ignores one out of range', () => {
    expect(parseLine('{"msg":"x","status":"503"}').status).toBe(503);
    expect(parseLine('{"msg":"x","status":"ok"}').status).toBeUndefined();
    expect(parseLine('{"msg":"x","status":42}').status).toBeUndefined();
  });

  it('falls back to text for arrays and malformed JSON', () => {
    expect(parseLine('[1,2,3]').format).toBe('text');
    expect(parseLine('{"level":"error", "msg": broken}').format).toBe('text');
  });
});

describe('parseLine — logfmt', () => {
  it('reads level= and msg= lines with quoted values and escapes', () => {
    const p = parseLine(
      'ts=2024-05-01T10:00:00Z level=error msg="write \\"x\\" failed" err="disk full" status=507 trace_id=abc',
    );
    expect([p.format, p.level, p.message, p.error, p.status, p.traceId]).toEqual([
      'logfmt',
      'error',
      'write "x" failed',
      'disk full',
      507,
      'abc',
    ]);
  });

  it('parses pairs and bare keys, keeping the first of a repeated key', () => {
    expect({ ...parseLogfmt('a=1 b="two words" flag a=3') }).toEqual({ a: '1', b: 'two words', flag: true });
    expect(parseLogfmt('no pairs here')).toBeUndefined();
  });

  it('needs level= or msg= as a key', () => {
    expect(parseLine('xlevel=error happened').format).toBe('text');
  });
});

describe('parseLine — plain text', () => {
  it.each([
    [
      '2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: Created MRAppMaster',
      'info',
      'org.apache.Foo: Created MRAppMaster',
    ],
    [
      '2015-07-29 17:41:44,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:Foo@774] - Notification time out: 3200',
      'warn',
      'Notification time out: 3200',
    ],
    [
      '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating',
      'info',
      'dfs.DataNode$PacketResponder: PacketResponder 1 terminating',
    ],
    [
      '17/06/09 20:10:40 ERROR executor.Executor: Exception in task 1.0',
      'error',
      'executor.Executor: Exception in task 1.0',
    ],
    [
      'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; user=root',
      'unknown',
      'authentication failure; user=root',
    ],
    [
      '03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs',
      'debug',
      'WindowManager: printFreezingDisplayLogs',
    ],
    [
      '2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack',
      'info',
      'CBS    Loaded Servicing Stack',
    ],
    [
      '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected',
      'info',
      'instruction cache parity error corrected',
    ],
    [
      '2026-11-26 08:21:55.333  WARN 1 --- [cart] [pool-3-thread-2] c.e.shop.cart.SessionCache            : session cache holds 141063 entries',
      'warn',
      'session cache holds 141063 entries',
    ],
    [
      '2026-11-26T09:00:00.000Z ERROR 1 --- [ledger] [nio-8080-exec-9] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception',
      'error',
      'Servlet.service() threw exception',
    ],
    [
      '2026-11-26 08:00:02.000  INFO 7 --- [           main] c.e.payments.LedgerApplication : Started LedgerApplication',
      'info',
      'Started LedgerApplication',
    ],
    // Not Spring Boot's layout: no `---`, or no ` : ` after the logger.
    ['2026-11-26 08:00:00 WARN 1 -- [main] x : y', 'warn', '1 -- [main] x : y'],
    ['2026-11-26 08:00:00 WARN 1 --- [main] no separator here', 'warn', '1 --- [main] no separator here'],
    ['I0501 10:00:00.000000    1 controller.go:123] Syncing pod', 'info', 'Syncing pod'],
    ['E0501 10:00:00.000000    1 controller.go:123] Sync failed', 'error', 'Sync failed'],
    ['[error] upstream closed', 'error', 'upstream closed'],
    ['ERROR something failed', 'error', 'something failed'],
    ['panic: boom', 'unknown', 'panic: boom'],
    ['Error: connect ECONNREFUSED', 'unknown', 'Error: connect ECONNREFUSED'],
    ['something went wrong, see ERROR above', 'error', 'something went wrong, see ERROR above'],
    ['INFOS are not levels', 'unknown', 'INFOS are not levels'],
  ])('%s', (line, level, message) => {
    const p = parseLine(line);
    expect([p.format, p.level, p.message]).toEqual(['text', level, message]);
  });

  it('keeps the header when told the line is only the message', () => {
    const p = parseLine('2015-10-18 18:01:47,978 INFO x', { header: false });
    expect([p.level, p.message]).toEqual(['info', '2015-10-18 18:01:47,978 INFO x']);
  });

  it('never takes the last token as header', () => {
    expect(stripHeader('2573188 node-129 unix.hw net.niff.up 1074131255 1 warning')).toEqual({
      message: 'warning',
      length: 50,
    });
  });
});

describe('parseOccurrence', () => {
  it('takes the first line as the message and the rest as the stack', () => {
    const p = parseOccurrence([
      'ERROR request failed',
      'java.lang.IllegalStateException: x',
      '\tat a.B.c(B.java:1)',
    ]);
    expect([p.level, p.message, p.stack]).toEqual([
      'error',
      'request failed',
      'java.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)',
    ]);
  });
});

describe('normaliseLevel', () => {
  it.each([
    ['ERROR', 'error'],
    ['Warning', 'warn'],
    ['notice', 'info'],
    ['E', 'error'],
    [10, 'trace'],
    [30, 'info'],
    [60, 'fatal'],
    [3, 'error'],
    ['7', 'debug'],
    ['loud', 'unknown'],
    [null, 'unknown'],
    [{}, 'unknown'],
  ])('%j → %s', (v, level) => {
    expect(normaliseLevel(v)).toBe(level);
  });
});
