import { describe, expect, it } from 'vitest';
import { TemplateMiner } from './cluster.ts';
import { detect } from './detect.ts';
import { fingerprint, Fingerprinter } from './fingerprint.ts';
import { hash64 } from './hash.ts';
import { parseLine, parseOccurrence } from './parse.ts';
import { normaliseName } from './stack.ts';

const java = (line: number, lambda: number, msg: string): string[] => [
  `ERROR [exec-${line}] c.e.OrderController - Request failed for order ${msg}`,
  `java.lang.IllegalStateException: order ${msg} not found`,
  `\tat com.example.orders.OrderService.load(OrderService.java:${line})`,
  `\tat com.example.orders.OrderController.lambda$get$${lambda}(OrderController.java:${line + 4})`,
  `\tat com.example.orders.OrderController$$EnhancerBySpringCGLIB$$3f2a1b${lambda}.get(<generated>)`,
  `\tat jdk.internal.reflect.GeneratedMethodAccessor${line}.invoke(Unknown Source)`,
  `\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)`,
  `\tat java.base/java.lang.Thread.run(Thread.java:${line + 800})`,
];

const fp = (lines: string[]) => fingerprint(parseOccurrence(lines));

describe('fingerprint — with a stack', () => {
  it('Java: exception type and the top 5 frames, normalised', () => {
    const r = fp(java(57, 0, '42'));
    expect(r.exceptionType).toBe('java.lang.IllegalStateException');
    expect(r.frames).toEqual([
      'com.example.orders.OrderService.load',
      'com.example.orders.OrderController.lambda$get$',
      'com.example.orders.OrderController$$EnhancerBySpringCGLIB$$.get',
      'jdk.internal.reflect.GeneratedMethodAccessor.invoke',
      'jdk.internal.reflect.NativeMethodAccessorImpl.invoke',
    ]);
    expect(r.fingerprint).toBe('9d737d69b64f62a7');
  });

  it('is stable when line numbers, lambda ids, generated names and messages change', () => {
    expect(fp(java(91, 3, '7')).fingerprint).toBe(fp(java(57, 0, '42')).fingerprint);
  });

  it('differs when a frame or the exception type differs', () => {
    const base = fp(java(57, 0, '42')).fingerprint;
    const otherFrame = java(57, 0, '42');
    otherFrame[2] = '\tat com.example.orders.OrderService.save(OrderService.java:57)';
    expect(fp(otherFrame).fingerprint).not.toBe(base);
    const otherType = java(57, 0, '42');
    otherType[1] = 'java.lang.IllegalArgumentException: x';
    expect(fp(otherType).fingerprint).not.toBe(base);
  });

  it('Python: innermost frames first, paths reduced to their package part', () => {
    const r = fp([
      'Traceback (most recent call last):',
      '  File "/app/server.py", line 88, in handle',
      '    result = compute(payload)',
      '  File "/usr/lib/python3.11/site-packages/app/compute.py", line 12, in compute',
      '    return payload["x"] / payload["y"]',
      'ZeroDivisionError: division by zero',
    ]);
    expect([r.exceptionType, r.frames]).toEqual([
      'ZeroDivisionError',
      ['app/compute.py:compute', 'server.py:handle'],
    ]);
  });

  it('Go: panic message template and the frames of the panicking goroutine, runtime frames left out', () => {
    const r = fp([
      'panic: runtime error: index out of range [5] with length 3',
      '',
      'goroutine 1 [running]:',
      'runtime.gopanic(0xc000010000)',
      '\t/usr/local/go/src/runtime/panic.go:914 +0x21f',
      'main.(*Server).handle(0x0, {0x5c2f40, 0xc000012345})',
      '\t/app/server.go:42 +0x1d',
      'main.main()',
      '\t/app/main.go:12 +0x65',
    ]);
    expect([r.exceptionType, r.frames]).toEqual([
      'panic: runtime error: index out of range [<num>] with length <num>',
      ['main.(*Server).handle', 'main.main'],
    ]);
  });

  it('Node: function and file, no line or column', () => {
    const r = fp([
      "TypeError: Cannot read properties of undefined (reading 'id')",
      '    at getUser (/app/src/users.js:14:22)',
      '    at async Router.handle (/app/node_modules/express/lib/router/index.js:284:7)',
      '    at /app/src/index.js:3:1',
    ]);
    expect([r.exceptionType, r.frames]).toEqual([
      'TypeError',
      ['getUser users.js', 'async Router.handle express/lib/router/index.js', 'index.js'],
    ]);
  });

  it('.NET: type and methods, lambda ids removed', () => {
    const r = fp([
      'Unhandled exception. System.InvalidOperationException: Sequence contains no elements',
      '   at System.Linq.ThrowHelper.ThrowNoElementsException()',
      '   at Orders.Api.Program.<Main>b__0_0(String[] args) in /src/Orders.Api/Program.cs:line 9',
    ]);
    expect([r.exceptionType, r.frames]).toEqual([
      'System.InvalidOperationException',
      ['System.Linq.ThrowHelper.ThrowNoElementsException', 'Orders.Api.Program.<Main>b___'],
    ]);
  });

  it('normaliseName removes digits, hex addresses and generated suffixes', () => {
    expect(normaliseName('Foo$$Lambda$14/0x0000000800066840.apply')).toBe('Foo$$Lambda$.apply');
    expect(normaliseName('a.B$1.run')).toBe('a.B$.run');
  });
});

describe('fingerprint — without a stack', () => {
  it('is the level and the template', () => {
    const a = fingerprint(parseLine('ERROR Connection to 10.0.0.1:5432 refused after 3 attempts'));
    const b = fingerprint(parseLine('ERROR Connection to 10.0.0.9:5433 refused after 12 attempts'));
    const warn = fingerprint(parseLine('WARN Connection to 10.0.0.1:5432 refused after 3 attempts'));
    const other = fingerprint(parseLine('ERROR Connection to 10.0.0.1:5432 closed after 3 attempts'));
    expect(a.template).toBe('Connection to <ip> refused after <num> attempts');
    expect(a.fingerprint).toBe(hash64('m\u0000error\u0000Connection to <ip> refused after <num> attempts'));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(warn.fingerprint).not.toBe(a.fingerprint);
    expect(other.fingerprint).not.toBe(a.fingerprint);
  });

  it('uses the message and the error field, and the exception type named there', () => {
    const r = fingerprint(
      parseLine('{"level":"error","msg":"query failed","error":"java.sql.SQLException: timeout after 30s"}'),
    );
    expect([r.template, r.exceptionType]).toEqual([
      'query failed java.sql.SQLException: timeout after <dur>',
      'java.sql.SQLException',
    ]);
  });

  it('hash64 is a stable 16-hex-digit hash', () => {
    expect(hash64('')).toBe('488bdcb81aee8d83');
    expect(hash64('hetu')).toMatch(/^[0-9a-f]{16}$/);
    expect(hash64('hetu')).toBe(hash64('hetu'));
    expect(hash64('hetu')).not.toBe(hash64('Hetu'));
  });
});

describe('Fingerprinter — online clustering', () => {
  const run = (f: Fingerprinter, lines: string[]) =>
    lines.map((l) => {
      const p = parseLine(l, { header: false });
      return f.fingerprint(p, detect(p));
    });

  it('groups lines whose variable parts are words or ids, keeps the first id when generalising', () => {
    const f = new Fingerprinter();
    const [a, b, c, d] = run(f, [
      'session opened for user cyrus by (uid=0)',
      'session opened for user news by (uid=0)',
      'ActivityManager getRecentTasks: topActivity=ComponentInfo{com.tencent.mm/com.tencent.mm.ui.LauncherUI}',
      'ActivityManager getRecentTasks: topActivity=ComponentInfo{com.example.notes/com.example.notes.NoteEditor}',
    ]);
    expect(a?.template).toBe('session opened for user cyrus by (uid=<num>)');
    expect(b?.fingerprint).toBe(a?.fingerprint);
    expect(b?.template).toBe('session opened for user <*> by (uid=<num>)');
    expect(d?.fingerprint).toBe(c?.fingerprint);
    expect(d?.template).toBe('ActivityManager getRecentTasks: topActivity=ComponentInfo{<*>}');
  });

  it('splits lines whose message text differs', () => {
    const f = new Fingerprinter();
    const out = run(f, [
      'Ending TrustedInstaller initialization.',
      'Ending TrustedInstaller finalization.',
      'authentication failure; rhost=10.0.0.1 mode=3',
      'authentication failure; rhost=10.0.0.1 mode=fast',
      'stopWifiDisplayScanLocked record.mWifiDisplayScanRequested=false',
      'stopWifiDisplayScanLocked mWifiDisplayScanRequestCount=0',
    ]);
    expect(new Set(out.map((r) => r.fingerprint)).size).toBe(6);
  });

  it('lets a slot of numbers hold value words', () => {
    const f = new Fingerprinter();
    const [a, b, c, d] = run(f, [
      'lock released ws=17 owner=42',
      'lock released ws=null owner=7',
      'lock released ws=ffffffff owner=null',
      'lock released ws= owner=9',
    ]);
    expect(b?.fingerprint).toBe(a?.fingerprint);
    expect(c?.fingerprint).toBe(a?.fingerprint);
    expect(d?.fingerprint).toBe(a?.fingerprint);
    expect(d?.template).toBe('lock released ws=<*> owner=<*>');
  });

  it('is deterministic: the same input twice gives identical outputs', () => {
    const lines = [
      'Connection from 10.0.0.1 closed',
      'Connection from 10.0.0.2 closed',
      'user alice logged in from 10.0.0.3',
      'user bob logged in from 10.0.0.4',
      'Connection from 10.0.0.5 opened',
    ];
    expect(run(new Fingerprinter(), lines)).toEqual(run(new Fingerprinter(), lines));
  });

  it('restores from JSON and continues identically', () => {
    const first = [
      'Connection from 10.0.0.1 closed',
      'Disk /dev/sda1 at 91%',
      'Connection from 10.0.0.2 closed',
    ];
    const rest = ['Connection from 10.0.0.3 closed', 'Disk /dev/sdb2 at 95%', 'brand new line'];
    const a = new Fingerprinter();
    run(a, first);
    const b = Fingerprinter.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(run(b, rest)).toEqual(run(a, rest));
  });

  it('is bounded: beyond the cap the least recently used cluster is evicted', () => {
    const m = new TemplateMiner({ maxClusters: 2 });
    const a = m.add('error', ['alpha']).id;
    const b = m.add('error', ['beta']).id;
    expect(m.add('error', ['alpha']).id).toBe(a); // alpha is now the most recently used
    m.add('error', ['gamma']);
    expect(m.size).toBe(2);
    expect(m.toJSON().clusters.map((c) => c.tokens[0])).toEqual(['alpha', 'gamma']);
    // beta was evicted: it comes back as a new cluster with the same id (same first template).
    expect(m.add('error', ['beta'])).toEqual({ id: b, template: 'beta', created: true });
  });

  it('caps each leaf', () => {
    const m = new TemplateMiner({ maxLeafClusters: 3 });
    for (const w of ['a', 'b', 'c', 'd']) m.add('error', ['x', 'y', w]);
    expect(m.toJSON().clusters.map((c) => c.tokens[2])).toEqual(['b', 'c', 'd']);
  });
});
