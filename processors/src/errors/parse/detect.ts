/**
 * SPEC §4 detection: the reason of an occurrence (first match wins) and whether it is an
 * error, a warning or neither.
 */
import { levelRank } from './levels.ts';
import type { Level } from './levels.ts';
import type { ParsedLine } from './parse.ts';
import { analyseStack } from './stack.ts';
import type { StackInfo } from './stack.ts';

export type Reason =
  | 'exception.java'
  | 'panic.go'
  | 'exception.python'
  | 'exception.dotnet'
  | 'exception.node'
  | 'timeout'
  | 'oom'
  | 'http.5xx'
  | 'gc.pressure'
  | 'error';

/** SPEC order: the first that matches wins. */
export const REASONS: readonly Reason[] = [
  'exception.java',
  'panic.go',
  'exception.python',
  'exception.dotnet',
  'exception.node',
  'timeout',
  'oom',
  'http.5xx',
  'gc.pressure',
  'error',
];

export type Kind = 'error' | 'warning' | 'none';

export interface Detection {
  reason?: Reason;
  /** The level after raising: info/debug/trace/unknown lines with a reason become `error`. */
  level: Level;
  kind: Kind;
  /** The stack analysis, when the occurrence has stack lines or frames. */
  stack?: StackInfo;
}

/** Longest text searched for phrases (the message, the error field, a stack's first lines). */
const MAX_PHRASE_TEXT = 4_096;

const TIMEOUT_PHRASES = [
  'timed out',
  'timeout exceeded',
  'timeout expired',
  'timeout elapsed',
  'timeout reached',
  'timeout error',
  'timeout occurred',
  'timeout waiting',
  'timeout while',
  'timeout after',
  'i/o timeout',
  'gateway timeout',
  'deadline exceeded',
  'etimedout',
  'esockettimedout',
  'timeoutexception',
  'timeouterror',
  'time out',
];

const OOM_PHRASES = [
  'out of memory',
  'outofmemory',
  'oomkilled',
  'oom-kill',
  'oom killer',
  'oom_kill',
  'cannot allocate memory',
  'memory limit exceeded',
  'memoryerror',
  'heap out of memory',
  'std::bad_alloc',
  'failed to allocate memory',
  'memory exhausted',
];

const GC_PHRASES = [
  'gc overhead',
  'full gc',
  'long gc',
  'gc pause',
  'pause full',
  'stop-the-world',
  'stop the world',
  'to-space exhausted',
  'promotion failed',
  'concurrent mode failure',
  'allocation stall',
  'gc took',
];

/** The phrase lists (lower case), for tests and documentation. */
export const PHRASES: Readonly<Record<'timeout' | 'oom' | 'gc', readonly string[]>> = {
  timeout: TIMEOUT_PHRASES,
  oom: OOM_PHRASES,
  gc: GC_PHRASES,
};

/**
 * One case-insensitive regular expression per phrase list: an alternation of literals, not
 * preceded by a letter (a fixed-width lookbehind). No quantifier at all, so linear.
 */
function phraseRegExp(phrases: readonly string[], wordStart: boolean): RegExp {
  const alternatives = phrases.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp((wordStart ? '(?<![a-z])' : '') + '(?:' + alternatives.join('|') + ')', 'i');
}

export const TIMEOUT_RE = phraseRegExp(TIMEOUT_PHRASES, true);
export const OOM_RE = phraseRegExp(OOM_PHRASES, true);
export const GC_RE = phraseRegExp(GC_PHRASES, true);
/** A status or HTTP version in the text: only then is the 5xx scanner run. */
export const HTTP_HINT = /status|http\//i;
/**
 * Any phrase, `status` or `http/`, anywhere: one pass that most lines fail, so that the
 * expressions above run only on the few that pass.
 */
export const ANY_HINT = phraseRegExp(
  [...TIMEOUT_PHRASES, ...OOM_PHRASES, ...GC_PHRASES, 'status', 'http/'],
  false,
);

/**
 * Detects the reason and the effective level of a parsed occurrence.
 *
 * - `exception.java`: a JVM frame; `panic.go`: a Go panic or goroutine dump; `exception.python`:
 *   a traceback or a Python frame; `exception.dotnet`: a .NET exception type (`System.*`,
 *   `Microsoft.*`) or frame; `exception.node`: a Node frame at error level (or, with no level,
 *   under an `…Error:` header line as Node prints uncaught errors);
 * - `timeout`, `oom`, `gc.pressure`: phrases (case-insensitive) in the message or error;
 * - `http.5xx`: a 5xx status field, or `status=5xx`, `status: 5xx`, `status code 5xx`,
 *   `HTTP/1.1" 5xx` in the text;
 * - `error`: any line at error, fatal or panic level.
 */
export function detect(p: ParsedLine): Detection {
  const declared = p.level;
  const stack = stackOf(p);
  let reason: Reason | undefined;
  if (stack !== undefined) {
    const m = stack.markers;
    if (m.has('java')) reason = 'exception.java';
    else if (m.has('go')) reason = 'panic.go';
    else if (m.has('python')) reason = 'exception.python';
    else if (m.has('dotnet')) reason = 'exception.dotnet';
    else if (m.has('node') && nodeAtErrorLevel(p, stack)) reason = 'exception.node';
  }
  if (reason === undefined) {
    const text = phraseText(p);
    const hint = ANY_HINT.test(text);
    if (hint && TIMEOUT_RE.test(text)) reason = 'timeout';
    else if (hint && OOM_RE.test(text)) reason = 'oom';
    else if (
      (p.status !== undefined && p.status >= 500 && p.status <= 599) ||
      (hint && HTTP_HINT.test(text) && hasHttp5xx(asciiLower(text)))
    ) {
      reason = 'http.5xx';
    } else if (hint && GC_RE.test(text)) reason = 'gc.pressure';
    else if (levelRank(declared) >= 4) reason = 'error';
  }
  let level = declared;
  if (reason === 'panic.go' && levelRank(declared) < 4) level = 'panic';
  else if (reason !== undefined && levelRank(declared) < 3) level = 'error';
  const rank = levelRank(level);
  const kind: Kind = rank >= 4 ? 'error' : rank === 3 ? 'warning' : 'none';
  const d: Detection = { level, kind };
  if (reason !== undefined) d.reason = reason;
  if (stack !== undefined) d.stack = stack;
  return d;
}

/** Error, warning or neither — the classification of {@link detect}. */
export function classify(p: ParsedLine): Kind {
  return detect(p).kind;
}

function nodeAtErrorLevel(p: ParsedLine, stack: StackInfo): boolean {
  if (levelRank(p.level) >= 4) return true;
  return p.level === 'unknown' && stack.exceptionType !== undefined;
}

/** The stack analysis when the occurrence may hold a trace (a stack field, or a marker in the message). */
function stackOf(p: ParsedLine): StackInfo | undefined {
  if (p.stack !== undefined && p.stack.length > 0) {
    const lines = [p.message];
    if (p.error !== undefined && p.error !== p.message) lines.push(p.error);
    for (const l of p.stack.split('\n', 256)) lines.push(l);
    return analyseStack(lines);
  }
  const m = p.message;
  if (!mayHoldTrace(m)) return undefined;
  const info = analyseStack(m.indexOf('\n') >= 0 ? m.split('\n', 256) : [m]);
  return info.markers.size > 0 ? info : undefined;
}

/**
 * Cheap pre-check (linear): indented (a frame), a panic, a goroutine, a traceback, a .NET type,
 * or several lines.
 */
export const TRACE_HINT = /^(?:[ \t]|panic: |fatal error: |goroutine |Traceback)|System\.|Microsoft\.|\n/;

function mayHoldTrace(m: string): boolean {
  return TRACE_HINT.test(m);
}

function phraseText(p: ParsedLine): string {
  let t = p.message;
  if (p.error !== undefined && p.error !== p.message) t += ' ' + p.error;
  if (p.errorType !== undefined) t += ' ' + p.errorType;
  return t.length > MAX_PHRASE_TEXT ? t.slice(0, MAX_PHRASE_TEXT) : t;
}

function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * `status=503`, `status: 503`, `status 503`, `status code 503`, `status_code=503`,
 * `statusCode: 503`, `HTTP/1.1" 503`, `HTTP/1.1 503`. `text` is lower case.
 */
function hasHttp5xx(text: string): boolean {
  let i = text.indexOf('status');
  while (i >= 0) {
    let j = i + 6;
    if (text.startsWith('_code', j)) j += 5;
    else if (text.startsWith('code', j)) j += 4;
    else if (text.startsWith(' code', j)) j += 5;
    j = skipSeparators(text, j);
    if (is5xxAt(text, j)) return true;
    i = text.indexOf('status', i + 6);
  }
  i = text.indexOf('http/');
  while (i >= 0) {
    let j = i + 5;
    while (j < text.length && (isDigitC(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
    if (text.charCodeAt(j) === 34) j++;
    j = skipSeparators(text, j);
    if (is5xxAt(text, j)) return true;
    i = text.indexOf('http/', i + 5);
  }
  return false;
}

function skipSeparators(t: string, j: number): number {
  let k = j;
  let n = 0;
  while (k < t.length && n < 3) {
    const c = t.charCodeAt(k);
    if (c === 32 || c === 61 || c === 58 || c === 34) {
      k++;
      n++;
    } else break;
  }
  return k;
}

function is5xxAt(t: string, j: number): boolean {
  return (
    t.charCodeAt(j) === 53 &&
    isDigitC(t.charCodeAt(j + 1)) &&
    isDigitC(t.charCodeAt(j + 2)) &&
    !isDigitC(t.charCodeAt(j + 3)) &&
    !isLetter(t.charCodeAt(j + 3))
  );
}

function isDigitC(c: number): boolean {
  return c >= 48 && c <= 57;
}
