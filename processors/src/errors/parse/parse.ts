/**
 * SPEC §4 parsing: JSON, then logfmt (`level=` or `msg=`), then plain text.
 *
 * Every line yields a result, never a throw: only the first {@link MAX_LINE_CHARS} characters are
 * parsed (`truncated` says so), ANSI escapes are removed, control characters become blanks, and
 * JSON that does not parse (cut, malformed, too deep) is read as plain text.
 */
import { stripHeader } from './header.ts';
import { findTextLevel, normaliseLevel } from './levels.ts';
import type { Level } from './levels.ts';
import { sanitizeLine } from './sanitize.ts';

export type LineFormat = 'json' | 'logfmt' | 'text';

export interface ParsedLine {
  format: LineFormat;
  /** The level the line declares (normalised), `unknown` when none. */
  level: Level;
  /** The message: the JSON/logfmt message field, or the text without its header. */
  message: string;
  /** The error field (JSON `error`/`err`/`exception`, as text). */
  error?: string;
  /** Exception type given by a structured error field (`{"error":{"type":…}}`). */
  errorType?: string;
  /** Stack trace text: the JSON stack field, or the continuation lines of a stitched trace. */
  stack?: string;
  traceId?: string;
  requestId?: string;
  url?: string;
  /** HTTP status from a structured field. */
  status?: number;
  /** True when only the first 16 Ki characters of the line were parsed. */
  truncated: boolean;
  /** The sanitised line that was parsed. */
  line: string;
}

export interface ParseOptions {
  /**
   * Strip a plain-text header (timestamp, level, pid, thread) before taking the message.
   * Default true; false when the input is already the message part (benchmark `content`).
   */
  header?: boolean;
}

const LEVEL_KEYS = ['level', 'severity', 'lvl'];
const MESSAGE_KEYS = ['msg', 'message', 'error_message'];
const ERROR_KEYS = ['error', 'err', 'exception'];
const STACK_KEYS = ['stack', 'stacktrace', 'stack_trace', 'stackTrace'];
const TRACE_KEYS = ['trace_id', 'traceId'];
const REQUEST_KEYS = ['request_id', 'requestId', 'req_id'];
const URL_KEYS = ['url', 'path', 'uri'];
const STATUS_KEYS = ['status', 'status_code', 'statusCode'];

/** A JSON object may follow a prefix (timestamp, stream, tag) of at most this many characters. */
const MAX_JSON_PREFIX = 128;

/** Longest text kept from one structured field. */
const MAX_FIELD = 8_192;

export function parseLine(input: string, options: ParseOptions = {}): ParsedLine {
  const { text, truncated } = sanitizeLine(typeof input === 'string' ? input : String(input));
  const first = firstNonBlank(text);
  if (first >= 0 && text.charCodeAt(first) === 123 /* { */) {
    const json = parseJsonObject(text, first);
    if (json !== undefined) return fromFields(json, 'json', text, truncated);
  }
  if (looksLikeLogfmt(text)) {
    const fields = parseLogfmt(text);
    if (fields !== undefined) return fromFields(fields, 'logfmt', text, truncated);
  }
  const useHeader = options.header !== false;
  if (useHeader && first >= 0 && text.charCodeAt(first) !== 123) {
    // A JSON object after a short prefix (`2024-… stdout F {"level":…}`).
    const brace = text.indexOf('{"');
    if (brace > 0 && brace <= MAX_JSON_PREFIX) {
      const json = parseJsonObject(text, brace);
      if (json !== undefined) return fromFields(json, 'json', text, truncated);
    }
  }
  const h = useHeader ? stripHeader(text) : { message: text, length: 0 };
  const level = ('level' in h ? h.level : undefined) ?? findTextLevel(text) ?? 'unknown';
  return { format: 'text', level, message: h.message, truncated, line: text };
}

function firstNonBlank(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return i;
  }
  return -1;
}

type Fields = Record<string, unknown>;

/** JSON.parse of an object line; undefined when it is not a JSON object or does not parse. */
function parseJsonObject(text: string, from: number): Fields | undefined {
  let end = text.length;
  while (end > from && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  if (text.charCodeAt(end - 1) !== 125 /* } */) return undefined;
  // `{"…` or `{}` only: other text that starts with a brace is not tried (a failed parse is slow).
  let k = from + 1;
  while (k < end && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
  if (text.charCodeAt(k) !== 34 && text.charCodeAt(k) !== 125) return undefined;
  try {
    const v: unknown = JSON.parse(from === 0 && end === text.length ? text : text.slice(from, end));
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Fields;
  } catch {
    // malformed, cut or too deep: read as text
  }
  return undefined;
}

function own(o: Fields, keys: readonly string[]): unknown {
  for (const k of keys) {
    if (Object.prototype.hasOwnProperty.call(o, k)) {
      const v = o[k];
      if (v !== undefined && v !== null && v !== '') return v;
    }
  }
  return undefined;
}

function asText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.length > MAX_FIELD ? v.slice(0, MAX_FIELD) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function fromFields(o: Fields, format: LineFormat, line: string, truncated: boolean): ParsedLine {
  const out: ParsedLine = {
    format,
    level: normaliseLevel(own(o, LEVEL_KEYS)),
    message: '',
    truncated,
    line,
  };
  const msg = asText(own(o, MESSAGE_KEYS));
  const err = own(o, ERROR_KEYS);
  let stack = asText(own(o, STACK_KEYS));
  if (typeof err === 'object' && err !== null && !Array.isArray(err)) {
    // {"error": {"message": …, "type"|"name"|"class"|"kind": …, "stack": …}}
    const e = err as Fields;
    const em = asText(own(e, ['message', 'msg', 'error', 'error_message']));
    if (em !== undefined) out.error = em;
    const et = asText(own(e, ['type', 'name', 'class', 'kind']));
    if (et !== undefined) out.errorType = et;
    stack ??= asText(own(e, STACK_KEYS));
  } else {
    const et = asText(err);
    if (et !== undefined) out.error = et;
  }
  out.message = msg ?? out.error ?? '';
  if (stack !== undefined) out.stack = stack;
  const trace = asText(own(o, TRACE_KEYS));
  if (trace !== undefined) out.traceId = trace;
  const req = asText(own(o, REQUEST_KEYS));
  if (req !== undefined) out.requestId = req;
  const url = asText(own(o, URL_KEYS));
  if (url !== undefined) out.url = url;
  const st = own(o, STATUS_KEYS);
  const status = typeof st === 'number' ? st : typeof st === 'string' && isThreeDigits(st) ? Number(st) : NaN;
  if (Number.isInteger(status) && status >= 100 && status <= 999) out.status = status;
  if (out.level === 'unknown' && format === 'logfmt') {
    const l = findTextLevel(out.message);
    if (l !== undefined) out.level = l;
  }
  return out;
}

function isThreeDigits(s: string): boolean {
  if (s.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** logfmt when `level=` or `msg=` starts a field (at the start or after a blank). */
function looksLikeLogfmt(s: string): boolean {
  return hasKey(s, 'level=') || hasKey(s, 'msg=');
}

function hasKey(s: string, key: string): boolean {
  let i = s.indexOf(key);
  while (i >= 0) {
    if (i === 0 || s.charCodeAt(i - 1) === 32 || s.charCodeAt(i - 1) === 9) return true;
    i = s.indexOf(key, i + 1);
  }
  return false;
}

/**
 * logfmt: `key=value` pairs separated by blanks; values may be double-quoted with `\"`
 * escapes. Bare words become keys with value `true`. One linear scan; undefined when no pair.
 */
export function parseLogfmt(s: string): Fields | undefined {
  const out: Fields = Object.create(null) as Fields;
  let pairs = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 61 || c === 32 || c === 9) break;
      i++;
    }
    const key = s.slice(ks, i);
    if (i < n && s.charCodeAt(i) === 61) {
      i++;
      let value: string;
      if (i < n && s.charCodeAt(i) === 34) {
        i++;
        let v = '';
        let start = i;
        while (i < n) {
          const c = s.charCodeAt(i);
          if (c === 92 && i + 1 < n) {
            v += s.slice(start, i);
            const e = s.charCodeAt(i + 1);
            v += e === 110 ? '\n' : e === 116 ? '\t' : s[i + 1];
            i += 2;
            start = i;
            continue;
          }
          if (c === 34) break;
          i++;
        }
        v += s.slice(start, i);
        if (i < n) i++;
        value = v;
      } else {
        const vs = i;
        while (i < n && s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 9) i++;
        value = s.slice(vs, i);
      }
      if (key.length > 0 && !Object.prototype.hasOwnProperty.call(out, key)) {
        out[key] = value;
        pairs++;
      }
    } else if (key.length > 0 && !Object.prototype.hasOwnProperty.call(out, key)) {
      out[key] = true;
    }
  }
  return pairs > 0 ? out : undefined;
}

/**
 * Parses a stitched occurrence: the first line as {@link parseLine}, the continuation lines as
 * its stack (after a stack field the line itself may carry).
 */
export function parseOccurrence(lines: readonly string[], options: ParseOptions = {}): ParsedLine {
  const p = parseLine(lines[0] ?? '', options);
  if (lines.length > 1) {
    let rest = '';
    for (let i = 1; i < lines.length; i++)
      rest += (i > 1 ? '\n' : '') + sanitizeLine(lines[i] as string).text;
    p.stack = p.stack !== undefined && p.stack.length > 0 ? p.stack + '\n' + rest : rest;
  }
  return p;
}
