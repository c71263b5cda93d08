import { CALENDAR_WORDS } from './calendar.ts';
/**
 * Token masking: turns a message into blank-separated tokens where variable parts are replaced
 * by typed placeholders. Hand-written character scanners only (no regular expressions), so
 * every step is linear in the length of the message.
 *
 * Placeholders: `<num>` numbers (also with size units and `%`), `<hex>` hex literals and hex
 * ids, `<uuid>`, `<ip>` IPv4/IPv6 (with port), `<ts>` dates/times/timestamps (and month or
 * weekday names next to a number), `<dur>` durations (`250ms`, `1h30m`, `10 ms`), `<str>`
 * quoted values, `<path>` variable path segments (paths and URLs keep their constant
 * segments; URL query values are masked), `<email>`, `<pod>` Kubernetes pod-name hash
 * suffixes (`api-7d9f8c6b5-x2k4q` → `api-<pod>`), and `<*>` any other token that carries a
 * digit (ids such as `blk_-6952…`, `dn228`, `R02-M1-N0-C:J12-U11`). Compound tokens are
 * masked piece by piece (`lock=233570404,` → `lock=<num>,`, `(uid=0)` → `(uid=<num>)`).
 *
 * Then three passes over the tokens: month/weekday names before a date part become `<ts>`;
 * a unit word after a number joins it (`93.0 B,` → `<num>,`, `10 ms` → `<dur>`); a run of a
 * repeated unit of one to three tokens holding a placeholder collapses to one unit (variable
 * lists: `delete <*> <*> <*>` → `delete <*>`).
 */

export const PH = {
  num: '<num>',
  hex: '<hex>',
  uuid: '<uuid>',
  ip: '<ip>',
  ts: '<ts>',
  dur: '<dur>',
  str: '<str>',
  path: '<path>',
  email: '<email>',
  pod: '<pod>',
  any: '<*>',
} as const;

/** Longest quoted value that is masked as one `<str>` (longer: the quote is left as text). */
const MAX_QUOTE = 512;

const C_TAB = 9;
const C_SPACE = 32;
const C_DQ = 34;
const C_SQ = 39;
const C_0 = 48;
const C_9 = 57;

function isDigit(c: number): boolean {
  return c >= C_0 && c <= C_9;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isAlpha(c: number): boolean {
  return isLower(c) || isUpper(c);
}
function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isHex(c: number): boolean {
  return isDigit(c) || isHexLetter(c);
}

/** Characters that may open a token around its value: `( [ { < " '`. */
function isLead(c: number): boolean {
  return c === 40 || c === 91 || c === 123 || c === 60 || c === C_DQ || c === C_SQ;
}
/** Characters that may close a token: `) ] } > " ' , ; : . ! ?`. */
function isTrail(c: number): boolean {
  return (
    c === 41 ||
    c === 93 ||
    c === 125 ||
    c === 62 ||
    c === C_DQ ||
    c === C_SQ ||
    c === 44 ||
    c === 59 ||
    c === 58 ||
    c === 46 ||
    c === 33 ||
    c === 63
  );
}
/** Delimiters that split a compound token (`a=1,b=2`, `k:v`, `x&y`, `p|q`). */
function isDelim(c: number): boolean {
  return c === 61 || c === 44 || c === 59 || c === 38 || c === 124 || c === 58;
}
/** A character that may precede an opening quote inside a token: `= : ( [ { ,`. */
function opensQuote(c: number): boolean {
  return c === 61 || c === 58 || c === 40 || c === 91 || c === 123 || c === 44;
}
function closesQuote(c: number): boolean {
  return (
    c === C_SPACE ||
    c === C_TAB ||
    c === 44 ||
    c === 59 ||
    c === 58 ||
    c === 46 ||
    c === 41 ||
    c === 93 ||
    c === 125 ||
    c === 33 ||
    c === 63
  );
}

/**
 * Splits a message on blanks (space, tab) into masked tokens. A double- or single-quoted value
 * is masked as one `<str>`: one that starts a token when it holds no blank (`'db-main'`), one
 * that follows `= : ( [ { ,` inside a token also with blanks (`tag="View Lock"`).
 */
export function maskTokens(message: string): string[] {
  const out: string[] = [];
  let masked = 0;
  const n = message.length;
  let i = 0;
  while (i < n) {
    let c = message.charCodeAt(i);
    while (c === C_SPACE || c === C_TAB) {
      i++;
      c = i < n ? message.charCodeAt(i) : -1;
    }
    if (i >= n) break;
    const start = i;
    let built = '';
    let segStart = i;
    let quoted = false;
    // 1: a digit, 2: `@` or `?` (e-mail, URL query) — tokens with neither stay as they are.
    let flags = 0;
    while (i < n) {
      c = message.charCodeAt(i);
      if (c <= C_9) {
        if (c >= C_0) flags |= 1;
        else if (c === C_SPACE || c === C_TAB) break;
        else if ((c === C_DQ || c === C_SQ) && (i === start || opensQuote(message.charCodeAt(i - 1)))) {
          const end = findQuoteEnd(message, i, c, i === start);
          if (end > 0) {
            built += message.slice(segStart, i) + PH.str;
            quoted = true;
            i = end + 1;
            segStart = i;
            continue;
          }
        }
      } else if (c === 64 || c === 63) flags |= 2;
      i++;
    }
    const raw = quoted ? built + message.slice(segStart, i) : message.slice(start, i);
    if (flags !== 0 || quoted) masked++;
    out.push(flags === 0 ? raw : maskFlagged(raw, (flags & 1) !== 0));
  }
  if (masked === 0) return out;
  // Month and weekday names next to a date part are part of the timestamp (`Sun Jul 17 …`).
  for (let k = out.length - 2; k >= 0; k--) {
    const next = out[k + 1];
    if ((next === PH.num || next === PH.ts) && CALENDAR.has(out[k] as string)) out[k] = PH.ts;
  }
  const merged = mergeUnits(out);
  return masked >= 2 ? collapseRepeats(merged) : merged;
}

/** `<num> KB,` → `<num>,` and `<num> ms` → `<dur>`: a unit word after a number is part of it. */
function mergeUnits(tokens: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    const prev = i > 0 ? (tokens[i - 1] as string) : '';
    // After `<num>`, also when opened by punctuation: `(<num> KB)` → `(<num>)`.
    if (
      prev.charCodeAt(prev.length - 1) === 62 &&
      prev.endsWith(PH.num) &&
      isLeadOnly(prev, prev.length - PH.num.length)
    ) {
      let e = tok.length;
      while (e > 0 && isTrail(tok.charCodeAt(e - 1))) e--;
      const kind = WORD_UNITS.get(tok.slice(0, e).toLowerCase());
      if (kind !== undefined) {
        out ??= tokens.slice(0, i);
        out[out.length - 1] = prev.slice(0, prev.length - PH.num.length) + kind + tok.slice(e);
        continue;
      }
    }
    if (out !== undefined) out.push(tok);
  }
  return out ?? tokens;
}

function isLeadOnly(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (!isLead(s.charCodeAt(i))) return false;
  return true;
}

const WORD_UNITS = new Map<string, string>([
  ...['b', 'byte', 'bytes', 'kb', 'kib', 'mb', 'mib', 'gb', 'gib', 'tb', 'tib', '%', 'percent'].map(
    (u) => [u, PH.num] as [string, string],
  ),
  ...[
    'ns',
    'us',
    'µs',
    'ms',
    'msec',
    'msecs',
    'sec',
    'secs',
    'second',
    'seconds',
    'min',
    'mins',
    'minute',
    'minutes',
    'hour',
    'hours',
    'hrs',
    'day',
    'days',
  ].map((u) => [u, PH.dur] as [string, string]),
]);

/**
 * Runs of a repeated unit of one to three tokens that holds a placeholder collapse to one unit
 * (`delete <*> <*> <*>` → `delete <*>`; `<*> <hex> ok <*> <hex> ok` → `<*> <hex> ok`), so
 * variable-length lists do not change the template.
 */
function collapseRepeats(tokens: string[]): string[] {
  let cur = tokens;
  for (let p = 1; p <= 3; p++) {
    if (cur.length < 2 * p) continue;
    let out: string[] | undefined;
    let i = p;
    const n = cur.length;
    // out holds the kept tokens; it is created lazily on the first repeat found.
    while (i < n) {
      const kept = out ?? cur;
      const len = out === undefined ? i : out.length;
      if (i + p <= n && len >= p && unitRepeats(kept, len - p, cur, i, p)) {
        out ??= cur.slice(0, i);
        i += p;
        continue;
      }
      if (out !== undefined) out.push(cur[i] as string);
      i++;
    }
    if (out !== undefined) cur = out;
  }
  return cur;
}

function unitRepeats(a: string[], from: number, b: string[], at: number, p: number): boolean {
  let variable = false;
  for (let k = 0; k < p; k++) {
    const x = a[from + k] as string;
    if (x !== b[at + k]) return false;
    if (!variable && x.indexOf('<') >= 0 && x.indexOf('>') > 0) variable = true;
  }
  return variable;
}

const CALENDAR = new Set(CALENDAR_WORDS);

/**
 * Index of the closing quote for the quote at `at`, or -1. A quote that starts a token and
 * holds a blank is quoted text, not a value (`"GET /v2/x HTTP/1.1"`): -1, its words are
 * tokens of their own. After `=`/`:` (`tag="View Lock"`) a quoted value may hold blanks.
 */
function findQuoteEnd(s: string, at: number, q: number, startsToken: boolean): number {
  const limit = Math.min(s.length, at + 1 + MAX_QUOTE);
  for (let j = at + 1; j < limit; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) {
      j++;
      continue;
    }
    if (startsToken && (c === C_SPACE || c === C_TAB)) return -1;
    if (c === q) {
      if (j + 1 >= s.length || closesQuote(s.charCodeAt(j + 1))) return j;
      if (q === C_DQ) return j;
    }
  }
  return -1;
}

/** Masks one blank-free token. Tokens without digits are returned unchanged (except e-mails and URL queries). */
export function maskToken(t: string): string {
  let digit = false;
  let special = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (isDigit(c)) {
      digit = true;
      break;
    }
    if (c === 64 /* @ */ || c === 63 /* ? */) special = true;
  }
  return digit || special ? maskFlagged(t, digit) : t;
}

function maskFlagged(t: string, digit: boolean): string {
  const n = t.length;
  let a = 0;
  while (a < n && isLead(t.charCodeAt(a))) a++;
  let b = n;
  while (b > a && isTrail(t.charCodeAt(b - 1))) b--;
  if (a === b) return t;
  const whole = a === 0 && b === n;
  const core = whole ? t : t.slice(a, b);
  const typed = classify(core);
  if (typed !== null) return whole ? typed : t.slice(0, a) + typed + t.slice(b);
  if (!digit) return t;
  const split = maskCompound(core);
  return whole ? split : t.slice(0, a) + split + t.slice(b);
}

/**
 * A token with a digit that is no single typed value: split on `= , ; & | :` and mask each
 * piece. When no piece is constant text (letters, no digit), the whole token is one `<*>`.
 */
function maskCompound(core: string): string {
  const n = core.length;
  let hasDelim = false;
  for (let i = 0; i < n; i++) {
    if (isDelim(core.charCodeAt(i))) {
      hasDelim = true;
      break;
    }
  }
  if (!hasDelim) return PH.any;
  let out = '';
  let constant = false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? core.charCodeAt(i) : -1;
    if (i === n || isDelim(c)) {
      if (i > start) {
        const piece = core.slice(start, i);
        const m = maskPiece(piece);
        if (m === piece && hasLetter(piece)) constant = true;
        out += m;
      }
      if (i < n) out += core[i];
      start = i + 1;
    }
  }
  return constant ? out : PH.any;
}

function maskPiece(p: string): string {
  if (!hasDigit(p)) return p;
  let a = 0;
  const n = p.length;
  while (a < n && isLead(p.charCodeAt(a))) a++;
  let b = n;
  while (b > a && isTrail(p.charCodeAt(b - 1))) b--;
  if (a === b) return p;
  const core = p.slice(a, b);
  const typed = classify(core) ?? PH.any;
  return p.slice(0, a) + typed + p.slice(b);
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) return true;
  return false;
}
function hasLetter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isAlpha(s.charCodeAt(i))) return true;
  return false;
}

/** The typed placeholder for a whole value, or null when it is none of the known types. */
export function classify(s: string): string | null {
  const n = s.length;
  if (n === 0) return null;
  const c0 = s.charCodeAt(0);
  if (c0 === 60 /* < */ && s.charCodeAt(n - 1) === 62 && isPlaceholder(s)) return s;
  // One scan for the character classes that decide which shapes are possible.
  let digits = 0;
  let hexLetters = 0;
  let otherLetters = 0;
  let colons = 0;
  let slashes = 0;
  let dashes = 0;
  let at = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= C_0 && c <= C_9) digits++;
    else if (isHexLetter(c)) hexLetters++;
    else if (isAlpha(c)) otherLetters++;
    else if (c === 58) colons++;
    else if (c === 47 || c === 92) slashes++;
    else if (c === 45) dashes++;
    else if (c === 64 && at < 0) at = i;
  }
  const letters = hexLetters + otherLetters;
  if (digits > 0) {
    if (letters <= 1 && isNumber(s)) return PH.num;
    if (n > 2 && c0 === C_0 && (s.charCodeAt(1) === 120 || s.charCodeAt(1) === 88) && allHex(s, 2, n))
      return PH.hex;
    if (n === 36 && dashes === 4 && isUuid(s)) return PH.uuid;
    if (isDigit(c0)) {
      const t = letters <= 2 ? numericShape(s) : null;
      if (t !== null) return t;
      const u = unitShape(s);
      if (u !== null) return u;
    }
  }
  if (colons >= 2 && otherLetters === 0 && isIpv6(s)) return PH.ip;
  if (at > 0 && isEmail(s, at)) return PH.email;
  // A blob (base64, an API key), also as `key=<blob>`: long, mixed case with a digit, of the
  // base64 alphabet only and few slashes (a path's segments are words). Without this, the path
  // rule kept its letter-only segments: a template, and a group, per blob.
  if (n >= 64 && digits > 0) {
    const from = blobStart(s);
    if (n - from >= 64 && slashes * 16 <= n - from && isBlob(s, from)) return s.slice(0, from) + PH.any;
  }
  if (slashes > 0) {
    const scheme = colons > 0 ? s.indexOf('://') : -1;
    if (scheme > 0) return maskUrl(s, scheme);
    return maskPath(s);
  }
  if (digits === 0) return null;
  if (dashes > 0) {
    const pod = podShape(s);
    if (pod !== null) return pod;
  }
  if (n >= 6 && otherLetters === 0 && hexLetters > 0 && isHexId(s)) return PH.hex;
  return null;
}

/** After a leading `key=` (a letter, then letters, digits, `_ . -`), else 0. */
function blobStart(s: string): number {
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122))) return 0;
  for (let i = 1; i < s.length && i < 64; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) return i + 1;
    if (!(isAlpha(c) || isDigit(c) || c === 95 || c === 46 || c === 45)) return 0;
  }
  return 0;
}

/** s[from…] is only `A-Z a-z 0-9 + / _ -` (and `=` padding at the end), with both letter cases. */
function isBlob(s: string, from: number): boolean {
  let upper = false;
  let lower = false;
  let end = s.length;
  while (end > from && end > s.length - 2 && s.charCodeAt(end - 1) === 61) end--;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper = true;
    else if (c >= 97 && c <= 122) lower = true;
    else if (!((c >= C_0 && c <= C_9) || c === 43 || c === 47 || c === 95 || c === 45)) return false;
  }
  return upper && lower;
}

function isPlaceholder(s: string): boolean {
  switch (s) {
    case PH.num:
    case PH.hex:
    case PH.uuid:
    case PH.ip:
    case PH.ts:
    case PH.dur:
    case PH.str:
    case PH.path:
    case PH.email:
    case PH.pod:
    case PH.any:
      return true;
    default:
      return false;
  }
}

function allHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

/** `-12`, `+3.5`, `1e-9`, `1,234,567`, `.5`. */
export function isNumber(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45 || c === 43) i++;
  let digits = 0;
  let dot = false;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46 && !dot) dot = true;
    else if (c === 44 && digits > 0 && !dot && i + 3 < n && isThousands(s, i)) continue;
    else break;
  }
  if (digits === 0) return false;
  if (i === n) return true;
  if ((c === 101 || c === 69) && i + 1 < n) {
    i++;
    c = s.charCodeAt(i);
    if (c === 45 || c === 43) i++;
    if (i >= n) return false;
    for (; i < n; i++) if (!isDigit(s.charCodeAt(i))) return false;
    return true;
  }
  return false;
}

function isThousands(s: string, i: number): boolean {
  // `,` followed by exactly three digits and then a non-digit or the end.
  return (
    isDigit(s.charCodeAt(i + 1)) &&
    isDigit(s.charCodeAt(i + 2)) &&
    isDigit(s.charCodeAt(i + 3)) &&
    !isDigit(s.charCodeAt(i + 4))
  );
}

function isUuid(s: string): boolean {
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/**
 * Tokens made of digits and `- / : . , T Z +` only: IPv4 (with port), dates, times, ISO
 * timestamps, dotted versions. Null when another character occurs.
 */
function numericShape(s: string): string | null {
  const n = s.length;
  let dots = 0;
  let colons = 0;
  let dashes = 0;
  let slashes = 0;
  let commas = 0;
  let tz = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) continue;
    if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 45) dashes++;
    else if (c === 47) slashes++;
    else if (c === 44) commas++;
    else if (c === 84 || c === 90 || c === 43 || c === 95) tz++;
    else return null;
  }
  if (isIpv4(s)) return PH.ip;
  if (colons > 0) return colons <= 3 || dashes + slashes > 0 ? PH.ts : null;
  if (dashes + slashes >= 2 || (dashes + slashes >= 1 && tz > 0)) return PH.ts;
  if (dots >= 2 && dashes + slashes + commas === 0) {
    // 2005.06.03 (date) or 1.2.3 (version): both variable.
    return isDottedDate(s) ? PH.ts : PH.num;
  }
  if (commas > 0 && dots + dashes + slashes + colons === 0) return PH.num;
  return null;
}

function isDottedDate(s: string): boolean {
  const first = s.indexOf('.');
  const last = s.lastIndexOf('.');
  return first === 4 || s.length - last - 1 === 4;
}

/** `10.0.0.1`, `10.0.0.1:8080` (four groups of one to three digits, optional port). */
export function isIpv4(s: string): boolean {
  const n = s.length;
  let groups = 0;
  let len = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (++len > 3) return false;
    } else if (c === 46) {
      if (len === 0 || groups === 3) return false;
      groups++;
      len = 0;
    } else if (c === 58 && groups === 3 && len > 0) {
      for (let j = i + 1; j < n; j++) if (!isDigit(s.charCodeAt(j))) return false;
      return i + 1 < n;
    } else return false;
  }
  return groups === 3 && len > 0;
}

/** Hex groups separated by colons, with `::` or at least five colons (so `12:30:45` is a time). */
function isIpv6(s: string): boolean {
  const n = s.length;
  if (n < 3 || n > 45) return false;
  let colons = 0;
  let double = false;
  let run = 0;
  let digit = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      colons++;
      if (i > 0 && s.charCodeAt(i - 1) === 58) double = true;
      run = 0;
    } else if (isHex(c)) {
      if (++run > 4) return false;
      if (isDigit(c)) digit = true;
    } else if (c === 46) {
      // IPv4-mapped tail
      return colons >= 2 && isIpv4(s.slice(s.lastIndexOf(':') + 1));
    } else return false;
  }
  return (double && colons >= 2 && (digit || n > 2)) || colons >= 5;
}

const TIME_UNITS = new Set([
  'ns',
  'us',
  'µs',
  'ms',
  's',
  'sec',
  'secs',
  'second',
  'seconds',
  'm',
  'min',
  'mins',
  'minute',
  'minutes',
  'h',
  'hr',
  'hrs',
  'hour',
  'hours',
  'd',
  'day',
  'days',
]);
const SIZE_UNITS = new Set([
  'b',
  'k',
  'kb',
  'kib',
  'm',
  'mb',
  'mib',
  'g',
  'gb',
  'gib',
  't',
  'tb',
  'tib',
  'bytes',
  'kbps',
  'mbps',
  'gbps',
  '%',
  'x',
  'mi',
  'gi',
  'ki',
]);
const GO_UNITS = new Set(['h', 'm', 's', 'ms', 'us', 'µs', 'ns']);

/** `250ms`, `1.5s`, `1h30m5s` → `<dur>`; `64MB`, `50%`, `512Mi` → `<num>`. */
function unitShape(s: string): string | null {
  const n = s.length;
  let i = 0;
  let segments = 0;
  let allGo = true;
  let lastUnit = '';
  while (i < n) {
    let d = 0;
    while (i < n && (isDigit(s.charCodeAt(i)) || (s.charCodeAt(i) === 46 && d > 0))) {
      i++;
      d++;
    }
    if (d === 0) return null;
    const us = i;
    while (i < n && !isDigit(s.charCodeAt(i))) {
      const c = s.charCodeAt(i);
      if (!(isAlpha(c) || c === 0xb5 || c === 37)) return null;
      i++;
    }
    if (i === us) return null;
    if (i - us > 7) return null;
    lastUnit = s.slice(us, i).toLowerCase();
    segments++;
    if (!GO_UNITS.has(lastUnit)) allGo = false;
  }
  if (segments === 1) {
    if (TIME_UNITS.has(lastUnit)) return PH.dur;
    if (SIZE_UNITS.has(lastUnit)) return PH.num;
    return null;
  }
  return allGo ? PH.dur : null;
}

function isEmail(s: string, at: number): boolean {
  if (s.indexOf('@', at + 1) >= 0) return false;
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i);
    if (!(isAlpha(c) || isDigit(c) || c === 46 || c === 95 || c === 45 || c === 43 || c === 37)) return false;
  }
  let dot = -1;
  for (let i = at + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) dot = i;
    else if (!(isAlpha(c) || isDigit(c) || c === 45)) return false;
  }
  return dot > at + 1 && dot < s.length - 2 && isAlpha(s.charCodeAt(s.length - 1));
}

/** `scheme://host[:port]/a/123/b?x=1&y=z#frag` → host kept, ids and query values masked. */
function maskUrl(s: string, scheme: number): string {
  let out = s.slice(0, scheme + 3);
  const rest = s.slice(scheme + 3);
  let end = rest.length;
  const q = rest.indexOf('?');
  const h = rest.indexOf('#');
  if (h >= 0) end = h;
  if (q >= 0 && q < end) end = q;
  const pathPart = rest.slice(0, end);
  const slash = pathPart.indexOf('/');
  const hostPort = slash >= 0 ? pathPart.slice(0, slash) : pathPart;
  const colon = hostPort.lastIndexOf(':');
  let host = hostPort;
  let port = '';
  if (colon >= 0 && colon === hostPort.indexOf(':') && isAllDigits(hostPort, colon + 1)) {
    host = hostPort.slice(0, colon);
    port = ':' + PH.num;
  }
  const at = host.lastIndexOf('@');
  if (at >= 0) host = PH.str + host.slice(at);
  out += (hasDigit(host) ? (classify(host) ?? host) : host) + port;
  if (slash >= 0) out += maskSegments(pathPart.slice(slash), false);
  if (q >= 0 && q < (h >= 0 ? h : rest.length)) {
    out += '?';
    const query = rest.slice(q + 1, h > q ? h : rest.length);
    const parts = query.split('&');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      const eq = p.indexOf('=');
      if (i > 0) out += '&';
      out += eq >= 0 ? p.slice(0, eq + 1) + (classify(p.slice(eq + 1)) ?? PH.any) : p;
    }
  }
  if (h >= 0) out += '#' + (h + 1 < rest.length ? PH.any : '');
  return out;
}

function isAllDigits(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** A path (`/`, or `\` for Windows): segments with a digit become a typed placeholder or `<path>`. */
function maskPath(s: string): string {
  return maskSegments(s, true);
}

function maskSegments(s: string, fsPath: boolean): string {
  let out = '';
  let start = 0;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : -1;
    if (i === n || c === 47 || (fsPath && c === 92)) {
      if (i > start) {
        const seg = s.slice(start, i);
        if (hasDigit(seg) && !isApiVersion(seg)) {
          const t = classify(seg);
          out += t ?? PH.path;
        } else out += seg;
      }
      if (i < n) out += s[i];
      start = i + 1;
    }
  }
  return out;
}

/** API versions stay in paths: `v1`, `v2`, `v1beta1`, `v2alpha3`. */
function isApiVersion(seg: string): boolean {
  if (seg.length < 2 || seg.length > 10 || seg.charCodeAt(0) !== 118 /* v */) return false;
  let i = 1;
  while (i < seg.length && isDigit(seg.charCodeAt(i))) i++;
  if (i === 1) return false;
  if (i === seg.length) return true;
  const rest = seg.slice(i);
  for (const stage of ['alpha', 'beta']) {
    if (rest.startsWith(stage) && rest.length > stage.length && isAllDigits(rest, stage.length)) return true;
  }
  return false;
}

/**
 * Kubernetes pod names: `<name>-<hash 6..10>-<5>` (Deployment) and `<name>-<5>` (DaemonSet,
 * Job), whose generated parts use Kubernetes' safe alphabet (`bcdfghjklmnpqrstvwxz2456789`,
 * no vowels) and hold at least one digit → `<name>-<pod>`.
 */
function podShape(s: string): string | null {
  const last = s.lastIndexOf('-');
  if (last <= 0 || s.length - last - 1 !== 5) return null;
  if (!safeAlphabet(s, last + 1, s.length)) return null;
  const prev = s.lastIndexOf('-', last - 1);
  let nameEnd = last;
  if (prev > 0 && last - prev - 1 >= 6 && last - prev - 1 <= 10 && safeAlphabet(s, prev + 1, last))
    nameEnd = prev;
  if (!hasDigitIn(s, nameEnd + 1, s.length)) return null;
  const name = s.slice(0, nameEnd);
  if (!isName(name)) return null;
  return name + '-' + PH.pod;
}

/** Kubernetes' `rand.SafeEncodeString` alphabet. */
function safeAlphabet(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (c === 48 || c === 49 || c === 51) return false;
    } else if (!isLower(c) || c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121)
      return false;
  }
  return true;
}

function hasDigitIn(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isDigit(s.charCodeAt(i))) return true;
  return false;
}
/** A DNS-label-like name with no digit (so generated parts are not mistaken for it). */
function isName(s: string): boolean {
  if (s.length === 0 || !isLower(s.charCodeAt(0))) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isLower(c) || c === 45 || c === 46)) return false;
  }
  return true;
}

/** Bare hex ids (`9f4ef63`, `a64f992`): hex only, with at least one digit and one letter. */
function isHexId(s: string): boolean {
  let letter = false;
  let digit = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digit = true;
    else if (isHexLetter(c)) letter = true;
    else return false;
  }
  return letter && digit;
}
