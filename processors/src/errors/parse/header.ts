/**
 * Generic removal of a raw log line's header (timestamp, sequence numbers, pid, host, level,
 * thread), with no per-format switch. Hand-written scanner over the first tokens only.
 *
 * From the start, header tokens are consumed while they look like header data:
 * - `-`, `|`, `:` separators; numbers; dates, times and timestamps in any common shape
 *   (`2015-10-18`, `18:01:47,978`, `17/06/09`, `2005.06.03`, `2005-06-03-15.42.50.675872`,
 *   `03-17`, ISO 8601, bracketed `[2015-10-18 18:01:47]`); month and weekday names followed
 *   by a number (`Jun 14`); tokens with a digit (host and node ids such as `node-246`,
 *   `R02-M1-N0-C:J12-U11`, `crond[2915]:`);
 * - a level word (`INFO`, `Info`, `[error]`, `W`: single letters only right after header
 *   data), after which a bracketed thread (`[main]`, `[IPC Server handler 5 on 9000]`, nested
 *   brackets included) and a `-`/`:`/`|` separator are consumed too, and the header ends;
 * - syslog: right after a time, `host prog[pid]:` or `host prog:` ends the header;
 * - when no level was met yet, a level word among the next three tokens ends the header
 *   (`RAS KERNEL INFO`), provided the header so far held a date or time.
 */
import { headerLevel } from './levels.ts';
import type { Level } from './levels.ts';
import { CALENDAR_WORDS } from './calendar.ts';

export interface Header {
  /** The line without its header. */
  message: string;
  /** The header's level word, when there was one. */
  level?: Level;
  /** How many characters the header took. */
  length: number;
}

const MAX_HEADER_TOKENS = 24;
const MAX_BRACKET = 256;

interface Tok {
  start: number;
  end: number;
}

export function stripHeader(line: string): Header {
  const toks: Tok[] = [];
  let i = 0;
  const n = line.length;
  // Tokenise the first tokens only.
  while (i < n && toks.length < MAX_HEADER_TOKENS) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isBlank(line.charCodeAt(i))) i++;
    toks.push({ start: s, end: i });
  }
  let k = 0;
  let cut = 0;
  let sawTime = false;
  let sawDate = false;
  let level: Level | undefined;
  let consumed = 0;
  // The last token of a line is never header: a line keeps at least one token of message.
  let last = toks.length - 1;
  if (last >= 0 && !isRestBlank(line, (toks[last] as Tok).end)) last = toks.length;
  while (k < toks.length && k < last) {
    const t = toks[k] as Tok;
    const text = line.slice(t.start, t.end);
    const lv = headerLevel(text, consumed > 0 && (sawTime || sawDate));
    // At the very start only an upper-case or bracketed level is a header (`ERROR x`,
    // `[warn] x`); `panic: x`, `Error: x` are messages (Go panics, Node errors).
    if (
      lv !== undefined &&
      (consumed > 0 || (k === 0 && (isUpperWord(line, t.start, t.end) || text.charCodeAt(0) === 91)))
    ) {
      level = lv;
      cut = afterLevel(line, t.end);
      return done(line, cut, level);
    }
    if (k === 0 && level === undefined) {
      const kl = klogLevel(text);
      if (kl !== undefined) {
        // klog/glog: `I0501 10:00:00.000000 1 file.go:123] msg`
        level = kl;
        sawDate = true;
        cut = t.end;
        consumed++;
        k++;
        continue;
      }
    }
    let kind = headerKind(
      text,
      k + 1 < toks.length ? line.slice((toks[k + 1] as Tok).start, (toks[k + 1] as Tok).end) : '',
    );
    if (kind === NOT) {
      // Text fields inside a header (`node-1 unix.hw state_change 1077804742 1 …`): a date,
      // time or epoch among the next tokens means the header goes on until there.
      const j = consumed > 0 ? laterStamp(line, toks, k, last) : -1;
      if (j < 0) break;
      k = j;
      const s = toks[j] as Tok;
      kind = headerKind(line.slice(s.start, s.end), '');
      if (kind === TIME) sawTime = true;
      else sawDate = true;
      cut = s.end;
      consumed++;
      k++;
      continue;
    }
    if (kind === TIME) sawTime = true;
    if (kind === DATE || kind === MONTH) sawDate = true;
    if (kind === BRACKET) {
      // A bracketed header field may hold blanks: skip to its closing bracket.
      const close = matchBracket(line, t.start);
      if (close < 0) break;
      cut = close + 1;
      while (k < toks.length && (toks[k] as Tok).end <= cut) k++;
      consumed++;
      if (k < toks.length && (toks[k] as Tok).start < cut) break;
      continue;
    }
    cut = t.end;
    consumed++;
    k++;
    if (kind === TIME && k + 2 < last) {
      // syslog: `host prog[pid]:` / `host prog:` right after the time.
      const prog = toks[k + 1] as Tok;
      const host = toks[k] as Tok;
      if (
        isSyslogProgram(line, prog.start, prog.end) &&
        isHostLike(line, host.start, host.end) &&
        headerLevel(line.slice(host.start, host.end), true) === undefined
      ) {
        return done(line, prog.end, undefined);
      }
    }
  }
  if (consumed > 0 && (sawTime || sawDate)) {
    // `… RAS KERNEL INFO message`: a level word among the next three tokens.
    for (let j = k; j < last && j < k + 4; j++) {
      const t = toks[j] as Tok;
      const lv = headerLevel(line.slice(t.start, t.end), false);
      if (lv !== undefined && isUpperWord(line, t.start, t.end))
        return done(line, afterLevel(line, t.end), lv);
    }
  }
  return done(line, consumed > 0 ? cut : 0, level);
}

/** klog/glog severity and date: `I0501`, `W1231`, `E0102`, `F0304`. */
function klogLevel(t: string): Level | undefined {
  if (t.length !== 5) return undefined;
  for (let i = 1; i < 5; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  switch (t.charCodeAt(0)) {
    case 73:
      return 'info';
    case 87:
      return 'warn';
    case 69:
      return 'error';
    case 70:
      return 'fatal';
    default:
      return undefined;
  }
}

/** Index of a date, time or epoch-seconds token among the three tokens after `k`, or -1. */
function laterStamp(line: string, toks: Tok[], k: number, last: number): number {
  for (let j = k + 1; j < last && j <= k + 3; j++) {
    const t = toks[j] as Tok;
    const text = line.slice(t.start, t.end);
    const kind = headerKind(text, '');
    if (kind === TIME || kind === DATE) return j;
    if (kind === NUM && isEpoch(text)) return j;
  }
  return -1;
}

/** 10 digits from 1000000000 (2001) to 1999999999 (2033), or 13 for milliseconds. */
function isEpoch(t: string): boolean {
  if (t.length !== 10 && t.length !== 13) return false;
  if (t.charCodeAt(0) !== 49) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function done(line: string, cut: number, level: Level | undefined): Header {
  if (cut === 0)
    return level === undefined ? { message: line, length: 0 } : { message: line, level, length: 0 };
  let c = cut;
  while (c < line.length && isBlank(line.charCodeAt(c))) c++;
  const h: Header = { message: c === 0 ? line : line.slice(c), length: c };
  if (level !== undefined) h.level = level;
  return h;
}

/**
 * After a level: blanks, an optional bracketed thread, and a `-`, `:` or `|` separator. Spring
 * Boot's default layout (`WARN 1 --- [app] [thread] c.e.shop.Logger    : message`: pid, `---`,
 * up to two bracketed fields, the logger name padded to a column, ` : `) is taken whole, so the
 * message — an error group's title — starts at the message.
 */
function afterLevel(line: string, from: number): number {
  let i = from;
  const n = line.length;
  while (i < n && isBlank(line.charCodeAt(i))) i++;
  const spring = springBoot(line, i);
  if (spring > 0) return spring;
  if (i < n && line.charCodeAt(i) === 91 /* [ */) {
    const close = matchBracket(line, i);
    if (close > 0) {
      i = close + 1;
      while (i < n && isBlank(line.charCodeAt(i))) i++;
    }
  }
  const c = i < n ? line.charCodeAt(i) : -1;
  if ((c === 45 || c === 58 || c === 124) && (i + 1 >= n || isBlank(line.charCodeAt(i + 1)))) i++;
  return i;
}

/**
 * Where the message starts in Spring Boot's layout from `at` (`1 --- [app] [thread] logger : `),
 * or 0 when the text there is not that layout.
 */
function springBoot(line: string, at: number): number {
  const n = line.length;
  let i = at;
  while (i < n && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
  if (i === at || i >= n || !isBlank(line.charCodeAt(i))) return 0;
  while (i < n && isBlank(line.charCodeAt(i))) i++;
  if (!line.startsWith('---', i) || i + 3 >= n || !isBlank(line.charCodeAt(i + 3))) return 0;
  i += 3;
  for (let fields = 0; fields < 2; fields++) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n || line.charCodeAt(i) !== 91 /* [ */) break;
    const close = matchBracket(line, i);
    if (close < 0) return 0;
    i = close + 1;
  }
  while (i < n && isBlank(line.charCodeAt(i))) i++;
  // The logger (no blank in it; `o.a.c.c.C.[.[.[/].[dispatcherServlet]` has brackets), then ` : `.
  const logger = i;
  while (i < n && !isBlank(line.charCodeAt(i))) i++;
  let j = i;
  while (j < n && isBlank(line.charCodeAt(j))) j++;
  if (i === logger || j >= n || line.charCodeAt(j) !== 58 /* : */) return 0;
  j++;
  if (j < n && !isBlank(line.charCodeAt(j))) return 0;
  return j;
}

/** Index of the bracket closing the one at `at` (nesting counted), or -1 within the limit. */
function matchBracket(line: string, at: number): number {
  const open = line.charCodeAt(at);
  const close = open === 91 ? 93 : open === 40 ? 41 : open === 123 ? 125 : 62;
  let depth = 0;
  const limit = Math.min(line.length, at + MAX_BRACKET);
  for (let i = at; i < limit; i++) {
    const c = line.charCodeAt(i);
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  return -1;
}

const NOT = 0;
const SEP = 1;
const NUM = 2;
const DATE = 3;
const TIME = 4;
const MONTH = 5;
const ID = 6;
const BRACKET = 7;

const MONTHS = new Set(CALENDAR_WORDS.flatMap((m) => [m, m.toUpperCase()]));

function headerKind(t: string, next: string): number {
  const n = t.length;
  if (n === 1) {
    const c = t.charCodeAt(0);
    if (c === 45 || c === 124 || c === 58) return SEP;
  }
  const c0 = t.charCodeAt(0);
  if (c0 === 91 /* [ */) {
    // `[2015-10-18` … `]`, `[12345]`, `[0.123]` (kernel) — a bracket that starts with a digit.
    const c1 = t.charCodeAt(1);
    if (c1 >= 48 && c1 <= 57) return BRACKET;
    if (c1 === 32) return BRACKET;
    return NOT;
  }
  if (MONTHS.has(t) && startsWithDigit(next)) return MONTH;
  let digits = 0;
  let colons = 0;
  let dateSeps = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 58) colons++;
    else if (c === 45 || c === 47 || c === 46) dateSeps++;
    else if (c === 44 || c === 84 || c === 90 || c === 43) continue;
    else other++;
  }
  if (digits === 0) return NOT;
  if (other === 0) {
    if (colons >= 1 && digits >= 3) return TIME;
    if (dateSeps >= 1 && digits >= 3) return DATE;
    return NUM;
  }
  return ID;
}

function startsWithDigit(t: string): boolean {
  const c = t.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** `sshd[123]:`, `kernel:`, `crond(pam_unix)[2915]:`, `/usr/sbin/gmetad[1682]:`. */
function isSyslogProgram(line: string, s: number, e: number): boolean {
  if (e - s < 2 || line.charCodeAt(e - 1) !== 58) return false;
  for (let i = s; i < e - 1; i++) {
    const c = line.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 95 ||
      c === 45 ||
      c === 46 ||
      c === 47 ||
      c === 40 ||
      c === 41 ||
      c === 91 ||
      c === 93 ||
      c === 64;
    if (!ok) return false;
  }
  return true;
}

function isHostLike(line: string, s: number, e: number): boolean {
  if (line.charCodeAt(e - 1) === 58) return false;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 95 ||
      c === 45 ||
      c === 46 ||
      c === 47 ||
      c === 64;
    if (!ok) return false;
  }
  return true;
}

function isUpperWord(line: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
  }
  return true;
}

function isRestBlank(line: string, from: number): boolean {
  for (let i = from; i < line.length; i++) if (!isBlank(line.charCodeAt(i))) return false;
  return true;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}
