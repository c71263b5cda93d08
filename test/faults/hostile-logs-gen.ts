/**
 * Seeded generator of the fault suite's hostile pod log (item 4, `hostile-logs.int.test.ts`): the
 * payloads of N container log lines, 95 % ordinary application output (info, JSON, logfmt,
 * warnings and error events, some with Java, Python, Go and Node stack traces) and 5 % hostile
 * lines in eight classes. The same `(lines, seed, baseMs)` gives the same bytes, so the test writes
 * the file kwok serves from one pass and checks what the collector delivered against a second
 * pass, line by line, without holding the log in memory.
 *
 * A payload never holds a line feed: the container runtime splits a container's output at `\n`
 * before it writes the CRI file, so a line feed inside "one line" cannot reach the collector.
 */
import { prng } from '@hetu/streams';

export const HOSTILE_CLASSES = [
  'binary',
  'invalid-utf8',
  'huge',
  'redos',
  'ansi',
  'bidi',
  'long-token',
  'cr',
] as const;
export type HostileClass = (typeof HOSTILE_CLASSES)[number];
export type LineClass = 'ordinary' | HostileClass;

/** Ordinary error/warning events, each with a phrase in its first line that nothing else writes. */
export const ERROR_EVENTS = {
  'plain-error': 'Payment capture declined',
  'json-5xx': 'Upstream inventory call failed',
  java: 'Order checkout aborted',
  python: 'Nightly report job crashed',
  go: 'index out of range',
  node: 'Request handler threw',
  'timeout-warn': 'Call to recommendations timed out',
  warn: 'Cache hit ratio below threshold',
} as const;
export type ErrorEvent = keyof typeof ERROR_EVENTS;

export interface GeneratedLine {
  readonly index: number;
  /** The kubelet's time of the line, RFC 3339 with nine fraction digits (as the CRI file has it). */
  readonly time: string;
  /** The same in milliseconds since the epoch. */
  readonly ms: number;
  readonly cls: LineClass;
  /** The ordinary error event this line starts, if it does. */
  readonly event?: ErrorEvent;
  readonly stream: 'stdout' | 'stderr';
  /** The application's bytes, without the line break. */
  readonly payload: Buffer;
}

export interface Plan {
  readonly lines: number;
  readonly hostile: number;
  readonly perClass: Readonly<Record<HostileClass, number>>;
  /** Long-token lines (of `perClass['long-token']`) written in one run, each over 16 KiB. */
  readonly longTokenBurst: number;
}

/**
 * Lines are this far apart in kubelet time: line i is stamped base + i × STEP_NS, the base (whole
 * milliseconds) given by the caller. 10 ms: the lines of a stack trace stitch (≤ 1 s apart).
 */
export const STEP_NS = 10_000_000n;
export const HUGE_BYTES = 4 * 1024 * 1024;

/**
 * How many lines of each class: 5 % hostile; 4 MiB lines 1 per 100 000 (at least 2), the rest
 * even. Half of the long-token lines come in one burst of lines over 16 KiB (a blob dumped line
 * after line), so that the collector's queue fills with its longest lines.
 */
export function plan(lines: number): Plan {
  if (!Number.isSafeInteger(lines) || lines < 1000) throw new RangeError('hostile log: at least 1000 lines');
  const hostile = Math.round(lines * 0.05);
  const huge = Math.max(2, Math.round(lines / 100_000));
  const others = HOSTILE_CLASSES.filter((c) => c !== 'huge');
  const each = Math.floor((hostile - huge) / others.length);
  const perClass = Object.fromEntries(HOSTILE_CLASSES.map((c) => [c, c === 'huge' ? huge : each])) as Record<
    HostileClass,
    number
  >;
  perClass.binary += hostile - huge - each * others.length;
  return { lines, hostile, perClass, longTokenBurst: Math.floor(perClass['long-token'] / 2) };
}

function criTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(sec) * 1000).toISOString().replace('.000Z', `.${frac}Z`);
}

/** The index of the line a kubelet timestamp (ns) names, or null when it names none of `lines`. */
export function indexOfTime(ns: bigint, lines: number, baseMs: number): number | null {
  const d = ns - BigInt(baseMs) * 1_000_000n;
  if (d < 0n || d % STEP_NS !== 0n) return null;
  const i = d / STEP_NS;
  return i < BigInt(lines) ? Number(i) : null;
}

/** The application's own timestamp (as a logger prints it) at `ms`. */
function appTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const WORDS = ['alpha', 'cart', 'order', 'user', 'sku', 'batch', 'shard', 'region', 'tenant', 'session'];
const PATHS = ['/api/orders', '/api/cart', '/api/users', '/healthz', '/api/payments', '/metrics'];
const THREADS = ['main', 'http-nio-8080-exec-3', 'pool-2-thread-7', 'scheduler-1', 'kafka-consumer-0'];

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function token(r: Rand, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += B64[Math.floor(r() * 64)];
  return s;
}

// ---- ordinary events ----

interface Event {
  readonly stream: 'stdout' | 'stderr';
  readonly event?: ErrorEvent;
  readonly lines: readonly string[];
}

const ORDINARY: readonly [number, (r: Rand, ms: number) => Event][] = [
  [
    55,
    (r, ms) => ({
      stream: 'stdout',
      lines: [
        `${appTime(ms)} INFO [${pick(r, THREADS)}] c.e.shop.RequestLog - GET ${pick(r, PATHS)}/${int(r, 1, 99999)} 200 in ${int(r, 1, 900)} ms user=${pick(r, WORDS)}${int(r, 1, 500)}`,
      ],
    }),
  ],
  [
    12,
    (r, ms) => ({
      stream: 'stdout',
      lines: [
        JSON.stringify({
          level: 'info',
          ts: appTime(ms),
          msg: 'request done',
          path: `${pick(r, PATHS)}/${int(r, 1, 9999)}`,
          status: 200,
          duration_ms: int(r, 1, 400),
          request_id: token(r, 16),
        }),
      ],
    }),
  ],
  [
    10,
    (r) => ({
      stream: 'stdout',
      lines: [
        `level=debug msg="cache lookup" key=${pick(r, WORDS)}:${int(r, 1, 99999)} hit=${r() < 0.8} size=${int(r, 10, 90000)}`,
      ],
    }),
  ],
  [
    3,
    (r, ms) => ({
      stream: 'stdout',
      event: 'warn',
      lines: [
        `${appTime(ms)} WARN [scheduler-1] c.e.shop.CacheMonitor - ${ERROR_EVENTS.warn}: ratio=${(r() * 0.5).toFixed(2)} shard=${int(r, 0, 31)}`,
      ],
    }),
  ],
  [
    2,
    (r, ms) => ({
      stream: 'stdout',
      event: 'timeout-warn',
      lines: [
        `${appTime(ms)} WARN [http-nio-8080-exec-3] c.e.shop.Recommendations - ${ERROR_EVENTS['timeout-warn']} after ${int(r, 1000, 5000)} ms`,
      ],
    }),
  ],
  [
    4,
    (r, ms) => ({
      stream: 'stderr',
      event: 'plain-error',
      lines: [
        `${appTime(ms)} ERROR [pool-2-thread-7] c.e.shop.PaymentService - ${ERROR_EVENTS['plain-error']} for order ${int(r, 10000, 99999)} by gateway ${pick(r, ['stripe', 'adyen'])}`,
      ],
    }),
  ],
  [
    3,
    (r) => ({
      stream: 'stderr',
      event: 'json-5xx',
      lines: [
        JSON.stringify({
          level: 'error',
          msg: `${ERROR_EVENTS['json-5xx']} for sku ${int(r, 1, 99999)}`,
          status: pick(r, [500, 502, 503]),
          path: '/inventory/reserve',
        }),
      ],
    }),
  ],
  [
    1.5,
    (r, ms) => ({
      stream: 'stderr',
      event: 'java',
      lines: [
        `${appTime(ms)} ERROR [http-nio-8080-exec-4] c.e.shop.OrderController - ${ERROR_EVENTS.java} for order ${int(r, 10000, 99999)}`,
        `java.lang.IllegalStateException: reservation ${int(r, 1, 99999)} expired`,
        '\tat com.example.shop.InventoryService.reserve(InventoryService.java:88)',
        '\tat com.example.shop.OrderService.checkout(OrderService.java:142)',
        '\tat com.example.shop.OrderController.post(OrderController.java:57)',
        '\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source)',
        '\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)',
        `\t... ${int(r, 20, 60)} more`,
      ],
    }),
  ],
  [
    1,
    (r, ms) => ({
      stream: 'stderr',
      event: 'python',
      lines: [
        `${appTime(ms)} ERROR worker - ${ERROR_EVENTS.python} (job ${int(r, 1, 9999)})`,
        'Traceback (most recent call last):',
        '  File "/app/worker.py", line 42, in handle',
        '    report = build(job)',
        '  File "/app/reports.py", line 17, in build',
        '    raise ValueError(f"no rows for {job.day}")',
        `ValueError: no rows for 2026-01-${String(int(r, 1, 28)).padStart(2, '0')}`,
      ],
    }),
  ],
  [
    0.7,
    (r) => ({
      stream: 'stderr',
      event: 'go',
      lines: [
        `panic: runtime error: ${ERROR_EVENTS.go} [${int(r, 3, 9)}] with length ${int(r, 0, 2)}`,
        '',
        'goroutine 1 [running]:',
        'main.(*Server).handle(0xc000010000, 0x7)',
        '\t/app/server.go:42 +0x1d',
        'main.main()',
        '\t/app/main.go:20 +0x25',
        'exit status 2',
      ],
    }),
  ],
  [
    1,
    (r, ms) => ({
      stream: 'stderr',
      event: 'node',
      lines: [
        `${appTime(ms)} ERROR api - ${ERROR_EVENTS.node} on ${pick(r, PATHS)}`,
        "TypeError: Cannot read properties of undefined (reading 'id')",
        `    at handler (/app/src/routes/cart.js:${int(r, 10, 80)}:17)`,
        '    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)',
        '    at next (/app/node_modules/express/lib/router/route.js:149:13)',
      ],
    }),
  ],
];
const ORDINARY_TOTAL = ORDINARY.reduce((s, [w]) => s + w, 0);

function ordinaryEvent(r: Rand, ms: number): Event {
  let x = r() * ORDINARY_TOTAL;
  for (const [w, f] of ORDINARY) {
    if (x < w) return f(r, ms);
    x -= w;
  }
  return ORDINARY[0]![1](r, ms);
}

// ---- hostile lines ----

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // cut 3-byte sequence
  [0xf0, 0x9f, 0x98], // cut 4-byte sequence
  [0x80, 0x80, 0xbf], // lone continuation bytes
  [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
];

/** Bait for the fingerprinter's scanners and expressions (docs/error-grouping.md): a run that keeps a
 * pattern almost matching, broken by its last character. */
const BAITS: readonly [string, string][] = [
  ['1', 'x'], // digit runs (<num>, epochs, header numbers)
  ['deadbeef', 'g'], // hex runs after 0x
  [' ', 'x'], // blank runs
  ['a', '!'], // letter runs
  ['1.', 'a'], // versions, IPv4, dotted times
  ['a:', '?'], // IPv6
  ['0123abcd-', 'z'], // uuid-like
  ['"a ', '"'], // quotes
  ['a=1,', '='], // key=value
  ['/1', '?'], // paths
  ['timtimeou', 't'], // TIMEOUT_RE
  ['out of memor', 'X'], // OOM_RE
  ['status=5', 'x'], // HTTP 5xx
  ['\tat a.b(', ')'], // Java frames
  ['a.b(', ')'], // Go frames
  ['{"', '}'], // JSON
  ['2024-05-01 ', 'x'], // header dates
  ['<', '>'], // placeholders
  ['a@', '@'], // emails
  ['a-b2c4d-', '-'], // pod names
  ['INFOINFO', 'X'], // level words
  ['[', ']'], // brackets
  ['File "x.py", line ', 'x'], // Python frames
  ['goroutine 1 [', ':'], // Go goroutine headers
  ['1.1.1.1:', ':'], // ip:port
  ['\u001b[', 'm'], // ANSI
];

function repeatTo(unit: string, chars: number): string {
  return unit.repeat(Math.max(1, Math.floor(chars / unit.length)));
}

function longToken(r: Rand, ms: number, over: boolean): Buffer {
  const chars = over ? int(r, 17_000, 40_000) : int(r, 512, 8000);
  const body = r() < 0.8 ? token(r, chars) : 'ж'.repeat(chars >> 1); // ж: 2 bytes
  return Buffer.from(`${appTime(ms)} ${r() < 0.5 ? 'ERROR' : 'INFO'} upload token=${body}`);
}

function hostile(cls: HostileClass, r: Rand, ms: number): Buffer {
  switch (cls) {
    case 'binary': {
      const b = Buffer.allocUnsafe(int(r, 16, 2048));
      for (let k = 0; k < b.length; k++) {
        const v = Math.floor(r() * 256);
        b[k] = v === 0x0a ? 0 : v;
      }
      b[b.length >> 1] = 0; // always a NUL
      return b;
    }
    case 'invalid-utf8': {
      const parts: Buffer[] = [Buffer.from(r() < 0.5 ? `${appTime(ms)} ERROR ` : 'user=')];
      const n = int(r, 1, 12);
      for (let k = 0; k < n; k++) {
        parts.push(Buffer.from(pick(r, INVALID_UTF8)));
        parts.push(Buffer.from(` ${pick(r, WORDS)}${int(r, 0, 99)} `));
      }
      return Buffer.concat(parts);
    }
    case 'huge': {
      // 4 MiB, valid UTF-8: ASCII words, or 2-, 3- and 4-byte characters (the cut must not split one)
      // the fill's unit is 10 bytes (2+3+4+1 in the multibyte one); the head is padded to 10s
      const fill = r() < 0.5 ? 'lorem ips ' : 'ü€😀x';
      const text = `${appTime(ms)} ERROR huge payload ${int(r, 1, 9)}`;
      const head = Buffer.from(text.padEnd(Math.ceil(text.length / 10) * 10, ' '));
      const out = Buffer.alloc(HUGE_BYTES - (HUGE_BYTES % 10), fill);
      head.copy(out, 0);
      return out;
    }
    case 'redos': {
      const [unit, last] = pick(r, BAITS);
      const chars = r() < 0.05 ? int(r, 20_000, 60_000) : int(r, 200, 6000);
      const prefix = r() < 0.7 ? `${appTime(ms)} ERROR ` : r() < 0.5 ? 'WARN ' : '';
      return Buffer.from(prefix + repeatTo(unit, chars) + last);
    }
    case 'ansi': {
      const n = int(r, 1, 99);
      const variants = [
        `\u001b[2m${appTime(ms)}\u001b[0m \u001b[31mERROR\u001b[0m \u001b[1mSession store unreachable\u001b[22m shard=${n}`,
        `\u001b]0;pwned title\u0007${appTime(ms)} INFO \u001b[32mready\u001b[0m port=${8000 + n}`,
        `\u001b]8;;http://evil.invalid/${n}\u001b\\click here\u001b]8;;\u001b\\ ERROR link in log`,
        `\u001b[2J\u001b[H\u001b[?25l\u001b[38;5;${n}m${appTime(ms)} WARN cursor games\u001b[K\u001b[1A`,
        `${appTime(ms)} ERROR unterminated \u001b[${'1;'.repeat(n)}`,
        `\u009b31m8-bit CSI ERROR \u009b0m value=${n}`,
        `\u001b[38;2;255;0;0m${appTime(ms)} ERROR Spooler crashed with code ${n}\u001b[0m\u001b`,
        `\u001bP1;2|dcs payload\u001b\\\u001b_apc\u001b\\ INFO private sequences ${n}`,
      ];
      return Buffer.from(pick(r, variants));
    }
    case 'bidi': {
      const n = int(r, 1, 9999);
      const variants = [
        `${appTime(ms)} ERROR Invoice ${n} rejected for attachment \u202etxt.exe\u202c`,
        `${appTime(ms)} INFO user \u2067admin\u2069 logged in from \u2066${n}.0.0.1\u2069`,
        `\u200f\u202b${appTime(ms)} WARN \u05e9\u05dc\u05d5\u05dd quota ${n}\u202c`,
        `\ufeff${appTime(ms)} ER\u200bROR zero-width inside the level ${n}`,
        `${appTime(ms)} ERROR access check /* \u202e } \u2066 if (isAdmin) \u2069 \u2066 begin admins only */ ${n}`,
        `\u061c\u200e\u202d${appTime(ms)} INFO override ${n}\u202c\u200e`,
      ];
      return Buffer.from(pick(r, variants));
    }
    case 'long-token':
      return longToken(r, ms, r() < 0.15);
    case 'cr': {
      const n = int(r, 2, 20);
      const variants = [
        Array.from({ length: n }, (_, k) => `INFO progress ${k * 5}%`).join('\r') + '\r',
        `${appTime(ms)} ERROR disk full on /data\r\r`,
        '\r',
        '\r'.repeat(n),
        `${appTime(ms)} INFO spinner |\r/\r-\r\\\r|`,
        `${appTime(ms)} WARN carriage\rreturn\rmid line ${n}`,
      ];
      return Buffer.from(pick(r, variants));
    }
  }
}

/**
 * The lines, in order, line i stamped `baseMs` + i × 10 ms. Hostile lines fall between events
 * (never inside a stack trace, nor right after an error event), at random places; the last line
 * is an ordinary INFO line.
 */
export function* generateLines(lines: number, seed: number, baseMs: number): Generator<GeneratedLine> {
  const p = plan(lines);
  const r = prng(seed);
  const left = { ...p.perClass };
  const baseNs = BigInt(baseMs) * 1_000_000n;
  const at = (i: number) => {
    const ns = baseNs + BigInt(i) * STEP_NS;
    return { index: i, time: criTime(ns), ms: Number(ns / 1_000_000n) };
  };
  let hostileLeft = p.hostile;
  let burst = p.longTokenBurst;
  let afterEvent = false;
  let i = 0;
  while (i < lines) {
    const rem = lines - i;
    const ordinaryLeft = rem - hostileLeft;
    if (hostileLeft > 0 && !afterEvent && (ordinaryLeft <= 1 || r() < hostileLeft / rem)) {
      let x = r() * hostileLeft;
      let cls: HostileClass = 'binary';
      for (const c of HOSTILE_CLASSES) {
        if (x < left[c]) {
          cls = c;
          break;
        }
        x -= left[c];
      }
      if (cls === 'long-token' && burst > 0) {
        // the first long-token line starts the burst: that many lines over 16 KiB in a row
        for (; burst > 0; burst--) {
          left[cls]--;
          hostileLeft--;
          const t = at(i);
          yield { ...t, cls, stream: 'stdout', payload: longToken(r, t.ms, true) };
          i++;
        }
        continue;
      }
      left[cls]--;
      hostileLeft--;
      const t = at(i);
      yield { ...t, cls, stream: r() < 0.5 ? 'stdout' : 'stderr', payload: hostile(cls, r, t.ms) };
      i++;
      continue;
    }
    const start = at(i);
    // After an error event comes an INFO line: a hostile line that looks like a continuation (a
    // frame, an indented line) would otherwise be stitched to the event and change its group.
    let ev: Event = afterEvent ? ORDINARY[0]![1](r, start.ms) : ordinaryEvent(r, start.ms);
    // room for the event, the INFO line after it, and the closing INFO line
    const room = ordinaryLeft - 1 - (ev.event === undefined ? 0 : 1);
    if (ev.lines.length > room) ev = ORDINARY[0]![1](r, start.ms);
    afterEvent = ev.event !== undefined;
    for (let k = 0; k < ev.lines.length; k++) {
      yield {
        ...(k === 0 ? start : at(i)),
        cls: 'ordinary',
        ...(k === 0 && ev.event !== undefined ? { event: ev.event } : {}),
        stream: ev.stream,
        payload: Buffer.from(ev.lines[k]!),
      };
      i++;
    }
  }
}

/** One CRI log file line as the kubelet writes it: `<time> <stream> F <payload>\n`. */
export function criLine(l: GeneratedLine): Buffer {
  return Buffer.concat([Buffer.from(`${l.time} ${l.stream} F `), l.payload, Buffer.from('\n')]);
}
