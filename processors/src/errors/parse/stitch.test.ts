import { describe, expect, it } from 'vitest';
import { Stitcher } from './stitch.ts';
import type { Completed } from './stitch.ts';

const KEY = 'c1/default/api-7d9f8c6b5-x2k4q/app';

/** Pushes lines 10 ms apart from t0 and flushes everything at the end. */
function stitch(lines: string[], t0 = 1_000_000, step = 10): Completed[] {
  const s = new Stitcher();
  const out: Completed[] = [];
  lines.forEach((line, i) => out.push(...s.push({ key: KEY, ts: t0 + i * step, line })));
  out.push(...s.flush(Infinity));
  return out;
}

const JAVA = [
  '2024-05-01 10:00:00,123 ERROR [http-nio-8080-exec-1] c.e.OrderController - Request failed',
  'java.lang.IllegalStateException: order 42 not found',
  '\tat com.example.orders.OrderService.load(OrderService.java:57)',
  '\tat com.example.orders.OrderController.get(OrderController.java:31)',
  '\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
  'Caused by: java.sql.SQLTimeoutException: query timed out',
  '\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:422)',
  '\t... 48 more',
];

const PYTHON = [
  'Traceback (most recent call last):',
  '  File "/app/server.py", line 88, in handle',
  '    result = compute(payload)',
  '  File "/app/compute.py", line 12, in compute',
  '    return payload["x"] / payload["y"]',
  'ZeroDivisionError: division by zero',
];

const GO = [
  'panic: runtime error: invalid memory address or nil pointer dereference',
  '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]',
  '',
  'goroutine 1 [running]:',
  'main.(*Server).handle(0x0, {0x5c2f40, 0xc000012345})',
  '\t/app/server.go:42 +0x1d',
  'main.main()',
  '\t/app/main.go:12 +0x65',
  'exit status 2',
];

const NODE = [
  "TypeError: Cannot read properties of undefined (reading 'id')",
  '    at getUser (/app/src/users.js:14:22)',
  '    at async Router.handle (/app/node_modules/express/lib/router/index.js:284:7)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
];

const DOTNET = [
  'Unhandled exception. System.InvalidOperationException: Sequence contains no elements',
  '   at System.Linq.ThrowHelper.ThrowNoElementsException()',
  '   at Orders.Api.OrderService.GetFirst(Int32 id) in /src/Orders.Api/OrderService.cs:line 27',
  '   at Orders.Api.Program.<Main>$(String[] args) in /src/Orders.Api/Program.cs:line 9',
];

describe('Stitcher', () => {
  it('joins a Java trace with its log line, Caused by and "... N more"', () => {
    const out = stitch(JAVA);
    expect(out).toHaveLength(1);
    expect(out[0]?.lines).toEqual(JAVA);
    expect(out[0]?.ts).toBe(1_000_000);
    expect(out[0]?.lastTs).toBe(1_000_070);
    expect(out[0]?.droppedLines).toBe(0);
  });

  it('joins a Python traceback up to its exception line', () => {
    const out = stitch([...PYTHON, 'INFO next request']);
    expect(out.map((c) => c.lines)).toEqual([PYTHON, ['INFO next request']]);
  });

  it('joins chained Python tracebacks', () => {
    const chained = [
      ...PYTHON,
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/app/server.py", line 90, in handle',
      '    raise RuntimeError("compute failed")',
      'RuntimeError: compute failed',
    ];
    expect(stitch(chained).map((c) => c.lines.length)).toEqual([chained.length]);
  });

  it('joins a Go panic with its goroutine dump', () => {
    const out = stitch(GO);
    expect(out.map((c) => c.lines)).toEqual([GO]);
  });

  it('joins a Node stack', () => {
    expect(stitch(NODE).map((c) => c.lines)).toEqual([NODE]);
  });

  it('joins a .NET stack', () => {
    expect(stitch(DOTNET).map((c) => c.lines)).toEqual([DOTNET]);
  });

  it('does not join two traces that follow each other', () => {
    const second = [
      'java.lang.IllegalArgumentException: bad id',
      '\tat com.example.orders.OrderService.parse(OrderService.java:70)',
    ];
    expect(stitch([...JAVA, ...second]).map((c) => c.lines)).toEqual([JAVA, second]);
    expect(stitch([...PYTHON, ...PYTHON]).map((c) => c.lines)).toEqual([PYTHON, PYTHON]);
    expect(stitch([...GO, ...GO]).map((c) => c.lines)).toEqual([GO, GO]);
    expect(stitch([...NODE, ...NODE]).map((c) => c.lines)).toEqual([NODE, NODE]);
  });

  it('keeps plain lines apart, also indented ones that are no frames', () => {
    const lines = ['INFO a', 'INFO b', 'WARN c', '    at least 3 replicas are needed'];
    expect(stitch(lines).map((c) => c.lines)).toEqual([
      ['INFO a'],
      ['INFO b'],
      ['WARN c'],
      ['    at least 3 replicas are needed'],
    ]);
  });

  it('joins Node frames without a location', () => {
    const lines = ['Error: boom', '    at new Promise (<anonymous>)', '    at async Promise.all (index 0)'];
    expect(stitch(lines).map((c) => c.lines)).toEqual([lines]);
  });

  it('does not join across a gap of more than 1 s, joins at exactly 1 s', () => {
    const s = new Stitcher();
    expect(s.push({ key: KEY, ts: 0, line: 'java.lang.IllegalStateException: x' })).toEqual([]);
    expect(s.push({ key: KEY, ts: 1000, line: '\tat a.B.c(B.java:1)' })).toEqual([]);
    const done = s.push({ key: KEY, ts: 2001, line: '\tat a.B.d(B.java:2)' });
    expect(done.map((c) => c.lines)).toEqual([
      ['java.lang.IllegalStateException: x', '\tat a.B.c(B.java:1)'],
    ]);
    expect(s.flush(Infinity).map((c) => c.lines)).toEqual([['\tat a.B.d(B.java:2)']]);
  });

  it('keeps containers apart', () => {
    const s = new Stitcher();
    s.push({ key: 'a', ts: 0, line: 'java.lang.IllegalStateException: x' });
    s.push({ key: 'b', ts: 1, line: 'INFO other container' });
    s.push({ key: 'a', ts: 2, line: '\tat a.B.c(B.java:1)' });
    expect(s.flush(Infinity).map((c) => [c.key, c.lines.length])).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('keeps at most 200 lines and absorbs the rest of the trace', () => {
    const lines = ['java.lang.StackOverflowError'];
    for (let i = 0; i < 499; i++) lines.push(`\tat a.B.recurse(B.java:${i})`);
    lines.push('INFO after');
    const out = stitch(lines, 0, 1);
    expect(out.map((c) => [c.lines.length, c.droppedLines])).toEqual([
      [200, 300],
      [1, 0],
    ]);
  });

  it('completes by event time only through flush', () => {
    const s = new Stitcher();
    s.push({ key: KEY, ts: 5000, line: 'ERROR boom' });
    expect(s.flush(6000)).toEqual([]);
    expect(s.size).toBe(1);
    expect(s.flush(6001).map((c) => c.lines)).toEqual([['ERROR boom']]);
    expect(s.size).toBe(0);
  });

  it('is bounded in keys: the least recently updated completes first', () => {
    const s = new Stitcher({ maxKeys: 2 });
    expect(s.push({ key: 'a', ts: 0, line: 'x' })).toEqual([]);
    expect(s.push({ key: 'b', ts: 1, line: 'y' })).toEqual([]);
    expect(s.push({ key: 'c', ts: 2, line: 'z' }).map((c) => c.key)).toEqual(['a']);
  });

  it('restores from a snapshot and goes on identically', () => {
    const a = new Stitcher();
    a.push({ key: KEY, ts: 0, line: JAVA[0] as string });
    a.push({ key: KEY, ts: 1, line: JAVA[1] as string });
    const b = Stitcher.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (const s of [a, b])
      for (let i = 2; i < JAVA.length; i++) s.push({ key: KEY, ts: i, line: JAVA[i] as string });
    expect(b.flush(Infinity)).toEqual(a.flush(Infinity));
  });

  it('strips ANSI escapes from stitched lines', () => {
    const out = stitch(['\u001b[31mjava.lang.IllegalStateException: x\u001b[0m', '\tat a.B.c(B.java:1)']);
    expect(out.map((c) => c.lines)).toEqual([['java.lang.IllegalStateException: x', '\tat a.B.c(B.java:1)']]);
  });
});
