/** Normalised log levels. */
export type Level = 'fatal' | 'panic' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'unknown';

/** SPEC §4 severity rank: fatal/panic 5, error 4, warn 3, info 2, debug/trace 1, unknown 0. */
export function levelRank(level: Level): number {
  switch (level) {
    case 'fatal':
    case 'panic':
      return 5;
    case 'error':
      return 4;
    case 'warn':
      return 3;
    case 'info':
      return 2;
    case 'debug':
    case 'trace':
      return 1;
    default:
      return 0;
  }
}

const NAMES = new Map<string, Level>([
  ['fatal', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
  ['emerg', 'fatal'],
  ['emergency', 'fatal'],
  ['alert', 'fatal'],
  ['panic', 'panic'],
  ['error', 'error'],
  ['err', 'error'],
  ['eror', 'error'],
  ['severe', 'error'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['wrn', 'warn'],
  ['info', 'info'],
  ['inf', 'info'],
  ['information', 'info'],
  ['informational', 'info'],
  ['notice', 'info'],
  ['debug', 'debug'],
  ['dbg', 'debug'],
  ['fine', 'debug'],
  ['config', 'debug'],
  ['trace', 'trace'],
  ['trc', 'trace'],
  ['verbose', 'trace'],
  ['finer', 'trace'],
  ['finest', 'trace'],
]);

/** Single-letter levels (Android logcat, klog/glog `E0102`): only in a header position. */
const LETTERS = new Map<string, Level>([
  ['F', 'fatal'],
  ['A', 'fatal'],
  ['E', 'error'],
  ['W', 'warn'],
  ['I', 'info'],
  ['D', 'debug'],
  ['V', 'trace'],
  ['T', 'trace'],
]);

/**
 * Normalises a level value from a structured field (JSON, logfmt): names in any case
 * (`ERROR`, `Warning`, `crit`, `SEVERE`), single letters, and numeric levels (pino/bunyan:
 * 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; syslog 0–7).
 */
export function normaliseLevel(value: unknown): Level {
  if (typeof value === 'number' && Number.isFinite(value)) return numericLevel(value);
  if (typeof value !== 'string') return 'unknown';
  const v = value.trim();
  if (v.length === 0 || v.length > 16) return 'unknown';
  const named = NAMES.get(v.toLowerCase());
  if (named !== undefined) return named;
  let digits = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) digits = false;
  }
  if (digits) return numericLevel(Number(v));
  return v.length === 1 ? (LETTERS.get(v.toUpperCase()) ?? 'unknown') : 'unknown';
}

function numericLevel(n: number): Level {
  if (n >= 10) {
    if (n >= 60) return 'fatal';
    if (n >= 50) return 'error';
    if (n >= 40) return 'warn';
    if (n >= 30) return 'info';
    if (n >= 20) return 'debug';
    return 'trace';
  }
  // syslog severities
  if (n <= 2) return 'fatal';
  if (n === 3) return 'error';
  if (n === 4) return 'warn';
  if (n <= 6) return 'info';
  return 'debug';
}

/** The plain-text level words of SPEC §4, upper case, as whole words anywhere in a line. */
const TEXT_WORDS = new Map<string, Level>([
  ['FATAL', 'fatal'],
  ['PANIC', 'panic'],
  ['ERROR', 'error'],
  ['WARN', 'warn'],
  ['WARNING', 'warn'],
  ['INFO', 'info'],
  ['DEBUG', 'debug'],
  ['TRACE', 'trace'],
]);

/**
 * A level word in a header position: the SPEC words in any case (`INFO`, `Info`, `info`),
 * also bracketed or followed by a colon (`[error]`, `<warn>`, `WARN:`), plus `SEVERE`,
 * `CRITICAL`, `NOTICE`, and, when `letters` is set, single letters (`D`, `E`, `W`).
 */
export function headerLevel(token: string, letters: boolean): Level | undefined {
  let a = 0;
  let b = token.length;
  const c0 = token.charCodeAt(0);
  if (c0 === 91 || c0 === 60 || c0 === 40) a = 1;
  let c = token.charCodeAt(b - 1);
  if (c === 58 || c === 44 || c === 124) {
    b--;
    c = token.charCodeAt(b - 1);
  }
  if (a === 1 && (c === 93 || c === 62 || c === 41)) b--;
  if (b - a < 1 || b - a > 8) return undefined;
  const w = a === 0 && b === token.length ? token : token.slice(a, b);
  if (w.length === 1) return letters ? LETTERS.get(w) : undefined;
  const upper = w.toUpperCase();
  // All upper, capitalised or all lower only (not `eRRoR`).
  if (w !== upper && w !== w.toLowerCase() && w !== upper[0] + w.slice(1).toLowerCase()) return undefined;
  const l = TEXT_WORDS.get(upper);
  if (l !== undefined) return l;
  switch (upper) {
    case 'SEVERE':
    case 'ERR':
      return 'error';
    case 'CRITICAL':
    case 'CRIT':
    case 'EMERG':
    case 'ALERT':
      return 'fatal';
    case 'NOTICE':
      return 'info';
    default:
      return undefined;
  }
}

/** SPEC plain-text level words, upper case, as whole words: a literal alternation, linear. */
export const TEXT_LEVEL = /\b(?:FATAL|PANIC|ERROR|WARNING|WARN|INFO|DEBUG|TRACE)\b/;

/**
 * SPEC plain-text rule: the first whole word of FATAL, PANIC, ERROR, WARN, WARNING, INFO,
 * DEBUG, TRACE (upper case) in the text.
 */
export function findTextLevel(text: string): Level | undefined {
  const m = TEXT_LEVEL.exec(text);
  return m === null ? undefined : TEXT_WORDS.get(m[0]);
}
