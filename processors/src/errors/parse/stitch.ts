/**
 * SPEC §4 multi-line stitching, per container key, by event time only.
 *
 * Consecutive lines of one key that continue a Java (`\tat …`, `Caused by:`, `... N more`),
 * Python (a `Traceback` block up to its exception line, chained tracebacks included), Go (a
 * `panic:` or goroutine dump) or Node/.NET (`    at …`) trace join the occurrence that started
 * it, while the gap between consecutive lines is at most `maxGapMs` (1 s) and up to `maxLines`
 * (200) lines; continuation lines beyond that are absorbed and counted in `droppedLines`, so
 * they never become occurrences of their own. A new trace start (an exception header after
 * frames, a second `Traceback`, a second `panic:`) begins a new occurrence: two traces that
 * follow each other are not joined.
 *
 * Every line is held until the next line of its key or until {@link Stitcher.flush} is called
 * with an event time more than `maxGapMs` after the line: the caller decides when pending
 * occurrences complete (by watermark). No clock is read.
 */
import { sanitizeLine } from './sanitize.ts';
import {
  exceptionHeader,
  goFunctionName,
  isCausedBy,
  isGoLocation,
  isGoPanic,
  isGoroutine,
  isMoreLine,
  isPythonChain,
  isPythonTraceback,
  parseFrame,
} from './stack.ts';

export interface StitchInput {
  /** The container key (e.g. `cluster/namespace/pod/container`). */
  key: string;
  /** Event time in milliseconds. */
  ts: number;
  line: string;
}

export interface Completed {
  key: string;
  /** Event time of the first line. */
  ts: number;
  /** Event time of the last line. */
  lastTs: number;
  /** The lines of the occurrence (at most `maxLines`), sanitised. */
  lines: string[];
  /** Continuation lines past `maxLines`, absorbed but not kept. */
  droppedLines: number;
}

export interface StitcherOptions {
  maxLines: number;
  maxGapMs: number;
  /** Most keys with a pending occurrence; beyond it the least recently updated completes. */
  maxKeys: number;
}

export const DEFAULT_STITCHER_OPTIONS: StitcherOptions = { maxLines: 200, maxGapMs: 1_000, maxKeys: 10_000 };

/**
 * line: a single line, no trace yet; header: an exception header line with no frame yet;
 * frames: Java/Node/.NET frames; py: inside a Python traceback; pyEnd: after its exception
 * line; pyChain: between chained tracebacks; go: a Go panic or goroutine dump.
 */
type State = 'line' | 'header' | 'frames' | 'py' | 'pyEnd' | 'pyChain' | 'go';

interface Pending {
  key: string;
  ts: number;
  lastTs: number;
  lines: string[];
  dropped: number;
  state: State;
}

export interface StitcherSnapshot {
  version: 1;
  options: StitcherOptions;
  pending: Pending[];
}

export class Stitcher {
  readonly options: StitcherOptions;
  /** key → pending occurrence, least recently updated first. */
  private readonly pending = new Map<string, Pending>();

  constructor(options: Partial<StitcherOptions> = {}) {
    this.options = { ...DEFAULT_STITCHER_OPTIONS, ...options };
  }

  /** Number of keys with a pending occurrence. */
  get size(): number {
    return this.pending.size;
  }

  push(input: StitchInput): Completed[] {
    const line = sanitizeLine(input.line).text;
    const ts = input.ts;
    const out: Completed[] = [];
    const p = this.pending.get(input.key);
    if (p !== undefined) {
      const next = ts - p.lastTs <= this.options.maxGapMs ? continues(p, line) : undefined;
      if (next !== undefined) {
        p.state = next;
        p.lastTs = Math.max(p.lastTs, ts);
        if (p.lines.length < this.options.maxLines) p.lines.push(line);
        else p.dropped++;
        this.pending.delete(input.key);
        this.pending.set(input.key, p);
        return out;
      }
      this.pending.delete(input.key);
      out.push(complete(p));
    }
    this.pending.set(input.key, {
      key: input.key,
      ts,
      lastTs: ts,
      lines: [line],
      dropped: 0,
      state: startState(line),
    });
    if (this.pending.size > this.options.maxKeys) {
      const oldest = this.pending.values().next().value;
      if (oldest !== undefined) {
        this.pending.delete(oldest.key);
        out.push(complete(oldest));
      }
    }
    return out;
  }

  /**
   * Completes every pending occurrence that no line at or after `untilTs` can continue
   * (`untilTs - lastTs > maxGapMs`), oldest first. `flush(Infinity)` completes all.
   */
  flush(untilTs: number): Completed[] {
    const out: Completed[] = [];
    for (const p of this.pending.values()) {
      if (untilTs - p.lastTs > this.options.maxGapMs) out.push(complete(p));
    }
    for (const c of out) this.pending.delete(c.key);
    return out;
  }

  toJSON(): StitcherSnapshot {
    return {
      version: 1,
      options: { ...this.options },
      pending: [...this.pending.values()].map((p) => ({ ...p, lines: p.lines.slice() })),
    };
  }

  static fromJSON(s: StitcherSnapshot): Stitcher {
    const st = new Stitcher(s.options);
    for (const p of s.pending) st.pending.set(p.key, { ...p, lines: p.lines.slice() });
    return st;
  }
}

function complete(p: Pending): Completed {
  return { key: p.key, ts: p.ts, lastTs: p.lastTs, lines: p.lines, droppedLines: p.dropped };
}

function startState(line: string): State {
  if (isPythonTraceback(line)) return 'py';
  if (isGoPanic(line) || isGoroutine(line)) return 'go';
  if (isFrameLike(line)) return 'frames';
  if (exceptionHeader(line) !== undefined) return 'header';
  return 'line';
}

/** `\tat …`, `Caused by:`, `... N more` and .NET separators: lines inside a Java/Node/.NET trace. */
function isFrameLike(line: string): boolean {
  if (parseFrame(line) !== undefined) {
    // A Python frame line alone is no Java-style frame.
    return !line.trimStart().startsWith('File "');
  }
  const t = line.trimStart();
  if (t.length === line.length) return false;
  return (
    // `at new Promise (<anonymous>)`, `at async Promise.all (index 0)`: not `at least 3 left`.
    (t.startsWith('at ') && t.endsWith(')')) ||
    isCausedBy(line) ||
    isMoreLine(line) ||
    t.startsWith('--- End of') ||
    t.startsWith('---> ') ||
    t.startsWith('Suppressed: ')
  );
}

/** The state after `line` joins `p`, or undefined when it does not continue it. */
function continues(p: Pending, line: string): State | undefined {
  switch (p.state) {
    case 'line':
    case 'header':
      if (isFrameLike(line) || isCausedBy(line) || isMoreLine(line)) return 'frames';
      if (p.state === 'line') {
        if (exceptionHeader(line) !== undefined && !isIndented(line)) return 'header';
        if (isPythonTraceback(line)) return 'py';
        if (isGoroutine(line)) return 'go';
      }
      return undefined;
    case 'frames':
      if (isFrameLike(line) || isCausedBy(line) || isMoreLine(line)) return 'frames';
      return undefined;
    case 'py':
      if (line.length === 0) return undefined;
      if (isIndented(line)) return 'py';
      return isPythonExceptionLine(line) ? 'pyEnd' : undefined;
    case 'pyEnd':
    case 'pyChain':
      if (line.length === 0 || isPythonChain(line)) return 'pyChain';
      if (p.state === 'pyChain' && isPythonTraceback(line)) return 'py';
      return undefined;
    case 'go':
      if (line.length === 0 || isIndented(line)) return 'go';
      if (isGoroutine(line) || goFunctionName(line) !== undefined || isGoLocation(line)) return 'go';
      if (line.startsWith('[signal ') || line.startsWith('created by ') || line.startsWith('exit status '))
        return 'go';
      if (line.startsWith('...additional frames elided...')) return 'go';
      if (line.startsWith('[recovered]')) return 'go';
      return undefined;
  }
}

function isIndented(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

/** `ValueError: bad`, `KeyError`, `requests.exceptions.ConnectionError: …`. */
function isPythonExceptionLine(line: string): boolean {
  const c0 = line.charCodeAt(0);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122) || c0 === 95)) return false;
  let j = 1;
  const n = Math.min(line.length, 256);
  while (j < n) {
    const c = line.charCodeAt(j);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46) j++;
    else break;
  }
  return j === line.length || line.charCodeAt(j) === 58;
}
