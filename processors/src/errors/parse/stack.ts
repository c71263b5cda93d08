/**
 * Stack-trace line classifiers (shared by the stitcher and detection) and stack analysis for
 * the fingerprint: language, exception type, and the innermost frames, normalised.
 *
 * All hand-written scanners: linear in the line, no regular expressions.
 */
import { maskTokens } from './mask.ts';

export type StackLang = 'java' | 'go' | 'python' | 'dotnet' | 'node';

/** Frames that make a stack fingerprint. */
export const TOP_FRAMES = 5;
/** Lines of a stack that are looked at (frames and exception lines). */
const MAX_STACK_LINES = 200;

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}
function isIdent(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  return i;
}

/** `<indent>at ` — the start of a Java, .NET or Node frame. Index after `at `, or -1. */
function atFrame(line: string): number {
  const i = indentOf(line);
  if (i === 0) return -1;
  if (line.charCodeAt(i) === 97 && line.charCodeAt(i + 1) === 116 && line.charCodeAt(i + 2) === 32)
    return i + 3;
  return -1;
}

const JAVA_EXT = ['.java', '.kt', '.kts', '.scala', '.groovy', '.clj', '.cljc'];

export interface Frame {
  lang: StackLang;
  /** The frame's function, normalised. */
  name: string;
}

/**
 * One stack frame of any supported language, or undefined.
 * Java `\tat a.b.C.m(C.java:10)`; .NET `   at A.B.C(String x) in /p/F.cs:line 42`;
 * Node `    at f (/app/x.js:1:2)`; Python `  File "x.py", line 3, in f`; Go `\t/app/main.go:12 +0x1d`
 * (the location line, whose function is the line before).
 */
export function parseFrame(line: string): Frame | undefined {
  const at = atFrame(line);
  if (at > 0) return atFrameKind(line, at);
  const ind = indentOf(line);
  if (ind > 0 && line.startsWith('File "', ind)) {
    const close = line.indexOf('"', ind + 6);
    if (close < 0) return undefined;
    const inAt = line.indexOf(', in ', close);
    const file = basenamePython(line.slice(ind + 6, close));
    const fn = inAt >= 0 ? line.slice(inAt + 5).trim() : '';
    return { lang: 'python', name: normaliseName(file + ':' + fn) };
  }
  return undefined;
}

function atFrameKind(line: string, at: number): Frame | undefined {
  let end = line.length;
  while (end > at && isBlank(line.charCodeAt(end - 1))) end--;
  if (end <= at) return undefined;
  // Node: location ends with :line:col, maybe in parentheses.
  const last = line.charCodeAt(end - 1);
  const locEnd = last === 41 ? end - 1 : end;
  if (endsWithLineCol(line, locEnd)) {
    const open = last === 41 ? line.lastIndexOf('(', locEnd) : -1;
    const fn = open > at ? line.slice(at, open).trim() : '';
    const loc = open > at ? line.slice(open + 1, locEnd) : line.slice(at, locEnd);
    return { lang: 'node', name: normaliseName((fn.length > 0 ? fn + ' ' : '') + nodeFile(loc)) };
  }
  if (last === 41) {
    // Java: qualified(File.java:10) / (Unknown Source) / (Native Method)
    const open = line.indexOf('(', at);
    if (open < 0) return undefined;
    const inner = line.slice(open + 1, end - 1);
    if (isJavaLocation(inner))
      return { lang: 'java', name: normaliseName(stripModule(line.slice(at, open))) };
    if (isQualified(line, at, open)) return { lang: 'dotnet', name: normaliseName(line.slice(at, open)) };
    return undefined;
  }
  // .NET with location: `at A.B.C(…) in /path/F.cs:line 42`
  const inAt = line.indexOf(') in ', at);
  if (inAt > 0) {
    const open = line.indexOf('(', at);
    if (open > 0 && open < inAt && isQualified(line, at, open)) {
      return { lang: 'dotnet', name: normaliseName(line.slice(at, open)) };
    }
  }
  // Node without location: `at new Promise (<anonymous>)` ends with `)`, handled above; `at async Promise.all (index 0)`.
  return undefined;
}

function endsWithLineCol(s: string, end: number): boolean {
  let i = end - 1;
  let d = 0;
  while (i >= 0 && isDigit(s.charCodeAt(i))) {
    i--;
    d++;
  }
  if (d === 0 || i < 0 || s.charCodeAt(i) !== 58) return false;
  i--;
  d = 0;
  while (i >= 0 && isDigit(s.charCodeAt(i))) {
    i--;
    d++;
  }
  return d > 0 && i >= 0 && s.charCodeAt(i) === 58;
}

function isJavaLocation(inner: string): boolean {
  if (inner === 'Unknown Source' || inner === 'Native Method' || inner === '<generated>') return true;
  if (inner.startsWith('Unknown Source:')) return true;
  const colon = inner.lastIndexOf(':');
  const file = colon >= 0 ? inner.slice(0, colon) : inner;
  if (colon >= 0) {
    for (let i = colon + 1; i < inner.length; i++) if (!isDigit(inner.charCodeAt(i))) return false;
    if (colon + 1 >= inner.length) return false;
  }
  for (const ext of JAVA_EXT) if (file.endsWith(ext)) return true;
  return false;
}

function isQualified(s: string, from: number, to: number): boolean {
  let dot = false;
  if (to - from < 3 || !isIdentStart(s.charCodeAt(from))) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) dot = true;
    else if (
      !(isIdent(c) || c === 60 || c === 62 || c === 96 || c === 44 || c === 91 || c === 93 || c === 43)
    )
      return false;
  }
  return dot;
}

/** Java 9+ module prefix `java.base/java.lang.Thread.run` → `java.lang.Thread.run`. */
function stripModule(s: string): string {
  const slash = s.lastIndexOf('/');
  return slash >= 0 ? s.slice(slash + 1) : s;
}

function nodeFile(loc: string): string {
  // file:line:col → file; keep the part after node_modules/ or the base name.
  let e = loc.lastIndexOf(':');
  if (e > 0) e = loc.lastIndexOf(':', e - 1);
  const file = e > 0 ? loc.slice(0, e) : loc;
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) return file.slice(nm + 13);
  if (file.startsWith('node:')) return file;
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return slash >= 0 ? file.slice(slash + 1) : file;
}

function basenamePython(path: string): string {
  const sp = path.lastIndexOf('site-packages/');
  if (sp >= 0) return path.slice(sp + 14);
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return slash >= 0 ? path.slice(slash + 1) : path;
}

/**
 * Normalised frame name: line numbers, hex addresses, generated names and lambda ids removed
 * (`lambda$main$0` → `lambda$main$`, `$$Lambda$14/0x0000000800066840.apply` →
 * `$$Lambda$.apply`, `GeneratedMethodAccessor12` → `GeneratedMethodAccessor`,
 * `<Main>b__0_0` → `<Main>b__`, `$$EnhancerBySpringCGLIB$$3f2a1b` → `$$EnhancerBySpringCGLIB$$`,
 * Go `(0xc000010000, 0x1)` arguments dropped).
 */
export function normaliseName(s: string): string {
  let out = '';
  const n = Math.min(s.length, 512);
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 48 && (s.charCodeAt(i + 1) === 120 || s.charCodeAt(i + 1) === 88)) {
      i += 2;
      while (i < n && isHexChar(s.charCodeAt(i))) i++;
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      continue;
    }
    if (c === 36 && s.charCodeAt(i + 1) === 36) {
      // `$$Name$$hash` → keep `$$Name$$`, drop a hash that follows
      out += '$$';
      i += 2;
      while (i < n && isIdent(s.charCodeAt(i)) && s.charCodeAt(i) !== 36) out += s[i++];
      if (s.charCodeAt(i) === 36 && s.charCodeAt(i + 1) === 36) {
        out += '$$';
        i += 2;
        while (i < n && isHexChar(s.charCodeAt(i))) i++;
      }
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 48 && s.charCodeAt(i + 2) === 120) {
      // `/0x…` after a hidden class name
      i += 3;
      while (i < n && isHexChar(s.charCodeAt(i))) i++;
      continue;
    }
    out += s[i];
    i++;
  }
  return out;
}

function isHexChar(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** `Caused by: ` / `Suppressed: ` (Java), maybe indented. */
export function isCausedBy(line: string): boolean {
  const i = indentOf(line);
  return line.startsWith('Caused by: ', i) || line.startsWith('Suppressed: ', i);
}

/** `... 12 more`, `... 12 common frames omitted` (Java, logback). */
export function isMoreLine(line: string): boolean {
  const i = indentOf(line);
  if (!line.startsWith('... ', i)) return false;
  let j = i + 4;
  const s = j;
  while (j < line.length && isDigit(line.charCodeAt(j))) j++;
  return j > s && (line.startsWith(' more', j) || line.startsWith(' common frames omitted', j));
}

/**
 * An exception header line (not indented): `java.lang.IllegalStateException: boom`,
 * `System.InvalidOperationException: x`, `TypeError: x`, `Exception in thread "main" a.B: c`,
 * `Unhandled exception. System.X: y`. Returns the exception type or undefined.
 */
export function exceptionHeader(line: string): string | undefined {
  let i = indentOf(line);
  if (line.startsWith('Exception in thread "', i)) {
    const q = line.indexOf('" ', i + 21);
    if (q < 0) return undefined;
    i = q + 2;
  } else if (line.startsWith('Unhandled exception. ', i)) i += 21;
  else if (line.startsWith('Uncaught ', i)) i += 9;
  else if (line.startsWith('Caused by: ', i)) i += 11;
  return typeAt(line, i);
}

/** A qualified or simple type name ending in Exception/Error/Throwable/Fault at `i`, followed by `:` or the end. */
function typeAt(line: string, i: number): string | undefined {
  if (!isIdentStart(line.charCodeAt(i))) return undefined;
  let j = i;
  const n = Math.min(line.length, i + 256);
  while (j < n) {
    const c = line.charCodeAt(j);
    if (isIdent(c) || c === 46) j++;
    else break;
  }
  const type = line.slice(i, j);
  if (
    !(
      type.endsWith('Exception') ||
      type.endsWith('Error') ||
      type.endsWith('Throwable') ||
      type.endsWith('Fault')
    )
  ) {
    return undefined;
  }
  if (j === line.length || line.charCodeAt(j) === 58) return type;
  // Node: `Error [ERR_X]: …`
  if (line.charCodeAt(j) === 32 && line.charCodeAt(j + 1) === 91) {
    const close = line.indexOf(']:', j);
    if (close > 0 && close < j + 80) return type;
  }
  return undefined;
}

export function isPythonTraceback(line: string): boolean {
  return line.startsWith('Traceback (most recent call last):', indentOf(line));
}

export function isPythonChain(line: string): boolean {
  const i = indentOf(line);
  return (
    line.startsWith('During handling of the above exception, another exception occurred:', i) ||
    line.startsWith('The above exception was the direct cause of the following exception:', i)
  );
}

/** `panic: …` or Go runtime `fatal error: …` at the start of the message. */
export function isGoPanic(line: string): boolean {
  const i = indentOf(line);
  return line.startsWith('panic: ', i) || line.startsWith('fatal error: ', i);
}

/** `goroutine 1 [running]:` */
export function isGoroutine(line: string): boolean {
  if (!line.startsWith('goroutine ')) return false;
  let j = 10;
  const s = j;
  while (j < line.length && isDigit(line.charCodeAt(j))) j++;
  return j > s && line.startsWith(' [', j);
}

/** A Go function line of a goroutine dump: `main.main()`, `github.com/a/b.(*T).M(0xc0, 0x1)`, `panic({0x4b, 0xc0})`. */
export function goFunctionName(line: string): string | undefined {
  if (line.length === 0 || isBlank(line.charCodeAt(0))) return undefined;
  let end = line.length;
  while (end > 0 && isBlank(line.charCodeAt(end - 1))) end--;
  if (line.endsWith(' ...', end)) end -= 4;
  if (line.charCodeAt(end - 1) !== 41) return undefined;
  // The argument list is the last top-level parenthesis group.
  let depth = 0;
  let open = -1;
  for (let i = end - 1; i >= 0; i--) {
    const c = line.charCodeAt(i);
    if (c === 41) depth++;
    else if (c === 40 && --depth === 0) {
      open = i;
      break;
    }
  }
  if (open <= 0) return undefined;
  const name = line.slice(0, open);
  if (name.indexOf(' ') >= 0) return undefined;
  if (name !== 'panic' && name.indexOf('.') < 0) return undefined;
  return name;
}

/** `\t/app/main.go:12 +0x1d` — a Go location line. */
export function isGoLocation(line: string): boolean {
  if (line.length === 0 || line.charCodeAt(0) !== 9) return false;
  const go = line.indexOf('.go:');
  return go > 0;
}

export interface StackInfo {
  lang?: StackLang;
  exceptionType?: string;
  /** Innermost frames first, normalised, at most {@link TOP_FRAMES}. */
  frames: string[];
  /** A frame or trace marker of this language was seen (even with no frame parsed). */
  markers: Set<StackLang>;
}

/**
 * Reads a stack (the message's first line plus the stack lines): which language, the exception
 * type, and the innermost {@link TOP_FRAMES} frames.
 */
export function analyseStack(lines: readonly string[]): StackInfo {
  const markers = new Set<StackLang>();
  const frames: Frame[] = [];
  let javaType: string | undefined;
  let dotnetType: string | undefined;
  let nodeType: string | undefined;
  let pyType: string | undefined;
  let goType: string | undefined;
  let inPython = false;
  const goFrames: string[] = [];
  let goBlock = false;
  const limit = Math.min(lines.length, MAX_STACK_LINES);
  for (let k = 0; k < limit; k++) {
    const line = lines[k] as string;
    if (line.length === 0) continue;
    if (isPythonTraceback(line)) {
      markers.add('python');
      inPython = true;
      continue;
    }
    const f = parseFrame(line);
    if (f !== undefined) {
      markers.add(f.lang);
      frames.push(f);
      continue;
    }
    if (isGoPanic(line)) {
      markers.add('go');
      if (goType === undefined) goType = goPanicType(line);
      continue;
    }
    if (isGoroutine(line)) {
      markers.add('go');
      goBlock = goFrames.length === 0; // frames of the first goroutine only
      continue;
    }
    if (goBlock) {
      const g = goFunctionName(line);
      if (g !== undefined) {
        if (g !== 'panic' && !g.startsWith('runtime.')) goFrames.push(normaliseName(g));
        continue;
      }
      if (isGoLocation(line)) continue;
    }
    if (indentOf(line) === 0 && inPython && !isPythonChain(line)) {
      const t = pythonExceptionType(line);
      if (t !== undefined) pyType = t;
      continue;
    }
    const t = exceptionHeader(line);
    if (t !== undefined) {
      if (isDotnetType(t)) {
        dotnetType ??= t;
        markers.add('dotnet');
      } else if (t.indexOf('.') > 0) javaType ??= t;
      else nodeType ??= t;
    }
  }
  const info: StackInfo = { frames: [], markers };
  const pick = (lang: StackLang, names: string[], type: string | undefined): StackInfo => {
    info.lang = lang;
    if (type !== undefined) info.exceptionType = type;
    info.frames = names.slice(0, TOP_FRAMES);
    return info;
  };
  const of = (lang: StackLang): string[] => frames.filter((f) => f.lang === lang).map((f) => f.name);
  if (markers.has('java')) return pick('java', of('java'), javaType);
  if (markers.has('go')) return pick('go', goFrames, goType);
  if (markers.has('python')) return pick('python', of('python').reverse(), pyType);
  if (markers.has('dotnet')) return pick('dotnet', of('dotnet'), dotnetType ?? javaType);
  if (markers.has('node')) return pick('node', of('node'), nodeType ?? javaType);
  return info;
}

function isDotnetType(t: string): boolean {
  return t.startsWith('System.') || t.startsWith('Microsoft.');
}

/** `ValueError: bad` → `ValueError`; `requests.exceptions.ConnectionError` → itself. */
function pythonExceptionType(line: string): string | undefined {
  if (!isIdentStart(line.charCodeAt(0))) return undefined;
  let j = 0;
  while (j < line.length && (isIdent(line.charCodeAt(j)) || line.charCodeAt(j) === 46)) j++;
  if (j < line.length && line.charCodeAt(j) !== 58) return undefined;
  return line.slice(0, j);
}

/** Go: `panic: runtime error: index out of range [5] with length 3` → masked message. */
function goPanicType(line: string): string {
  const i = indentOf(line);
  const colon = line.indexOf(': ', i);
  const kind = line.slice(i, colon);
  let rest = line.slice(colon + 2);
  const rec = rest.indexOf(' [recovered]');
  if (rec >= 0) rest = rest.slice(0, rec);
  const tpl = maskTokens(rest.length > 200 ? rest.slice(0, 200) : rest).join(' ');
  return kind + ': ' + tpl;
}
