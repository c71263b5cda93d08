/**
 * Pure parts of the pod-log collector: splitting a `timestamps=true` log stream into capped lines,
 * parsing the kubelet's timestamp prefix, and the resume rule that keeps a reconnect free of
 * duplicates.
 *
 * **Resume rule.** Per container the collector keeps a cursor: the timestamp of the last line it
 * emitted (nanoseconds, as the kubelet wrote it) and how many emitted lines carry exactly that
 * timestamp. A reconnect asks for `sinceTime` = the cursor's timestamp rounded down to the second
 * (the API's `sinceTime` is whole seconds), so the server sends the cursor's lines again first.
 * Then, in order: a line older than the cursor is skipped; a line at the cursor's timestamp is
 * skipped while fewer than `count` such lines were seen since the reconnect, and emitted after
 * that (so identical timestamps are told apart by their position, which the log file keeps); the
 * first line newer than the cursor ends the resume. If it arrives before all `count` lines at the
 * cursor were seen again, the log no longer holds them (rotated away, or a new container instance):
 * a gap is owed before that line.
 */

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

/** Where a container's log was last read up to. */
export interface LogCursor {
  /** The last emitted line's timestamp as the kubelet wrote it (RFC 3339, up to nanoseconds). */
  readonly ts: string;
  /** That timestamp in nanoseconds since the epoch. */
  readonly ns: bigint;
  /** Emitted lines carrying exactly that timestamp. */
  readonly count: number;
}

export interface ParsedLine {
  /** The kubelet's timestamp text; '' when the line had none (then `ns` is null). */
  readonly tsText: string;
  readonly ns: bigint | null;
  /** Milliseconds since the epoch (floor of `ns`), null without a timestamp. */
  readonly ms: number | null;
  /** The text after the timestamp, without the line break; invalid UTF-8 becomes U+FFFD. */
  readonly text: string;
  readonly truncated: boolean;
}

const TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (fraction up to nanoseconds) → nanoseconds since the epoch; null if it is not one. */
export function parseKubeTimestamp(text: string): bigint | null {
  const m = TS.exec(text);
  if (m === null) return null;
  const secMs = Date.parse(`${m[1]!}${m[3]!}`);
  if (!Number.isFinite(secMs)) return null;
  return BigInt(secMs) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** The whole second at or before `ns`, formatted for the API's `sinceTime`. */
export function sinceTimeOf(ns: bigint): string {
  const sec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
  return new Date(Number(sec) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Cuts `bytes` to at most `max` bytes without splitting a UTF-8 sequence. */
function cutUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  // back off over continuation bytes (10xxxxxx) to the start of the cut character
  while (end > 0 && end > max - 3 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  if (((bytes[end] ?? 0) & 0xc0) === 0x80) end = max; // not UTF-8 anyway: cut where asked
  return bytes.subarray(0, end);
}

/**
 * Parses one raw line of a `timestamps=true` stream (without its line break): `<RFC3339Nano> <text>`.
 * `raw` holds at most the first bytes of the line (`cut` tells that more followed); the text is
 * capped at `maxLineBytes` bytes, cut on a character boundary, and flagged truncated.
 */
export function parseLogLine(raw: Buffer, cut: boolean, maxLineBytes: number): ParsedLine {
  let body = raw;
  if (body.length > 0 && body[body.length - 1] === 0x0d && !cut) body = body.subarray(0, body.length - 1);
  const sp = body.indexOf(0x20);
  let tsText = '';
  let ns: bigint | null = null;
  if (sp > 0 && sp <= 40) {
    const candidate = body.subarray(0, sp).toString('latin1');
    ns = parseKubeTimestamp(candidate);
    if (ns !== null) {
      tsText = candidate;
      body = body.subarray(sp + 1);
    }
  }
  const truncated = cut || body.length > maxLineBytes;
  const text = cutUtf8(body, maxLineBytes).toString('utf8');
  return { tsText, ns, ms: ns === null ? null : Number(ns / 1_000_000n), text, truncated };
}

/**
 * Splits a byte stream into lines, keeping at most `keepBytes` of each (the rest is dropped as it
 * arrives, so a huge line never sits in memory whole).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private len = 0;
  private over = false;
  private readonly keep: number;

  constructor(keepBytes: number) {
    this.keep = keepBytes;
  }

  /**
   * Feeds a chunk; calls `onLine(bytes, cut)` for every complete line. `bytes` may be a view of
   * `chunk`, valid during the call only.
   */
  push(chunk: Buffer, onLine: (line: Buffer, cut: boolean) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.add(chunk.subarray(start));
        return;
      }
      if (this.len === 0 && !this.over && nl - start <= this.keep) {
        onLine(chunk.subarray(start, nl), false); // the whole line is in this chunk: no copy
      } else {
        this.add(chunk.subarray(start, nl));
        this.flush(onLine);
      }
      start = nl + 1;
    }
  }

  /** Emits a last line without a line break, if any. */
  end(onLine: (line: Buffer, cut: boolean) => void): void {
    if (this.len > 0 || this.over) this.flush(onLine);
  }

  private add(piece: Buffer): void {
    if (this.over || piece.length === 0) return;
    if (this.len + piece.length > this.keep) {
      piece = piece.subarray(0, this.keep - this.len);
      this.over = true;
    }
    if (piece.length > 0) {
      // a copy of its own, not a slice of Node's shared 64 KiB Buffer pool (what Buffer.from
      // gives): a partial line waiting in an idle follow would keep a whole pool slab alive
      const copy = Buffer.allocUnsafeSlow(piece.length);
      piece.copy(copy);
      this.parts.push(copy);
      this.len += piece.length;
    }
  }

  private flush(onLine: (line: Buffer, cut: boolean) => void): void {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.len);
    const cut = this.over;
    this.parts = [];
    this.len = 0;
    this.over = false;
    onLine(line, cut);
  }
}

export type ResumeVerdict = 'skip' | 'emit' | 'gap-then-emit';

/**
 * The resume rule for one connection (see the file comment). `cursor` is the container's cursor
 * when the connection was opened (null: nothing emitted yet, every line is new).
 */
export class ResumeFilter {
  private readonly cursor: LogCursor | null;
  private seenAtCursor = 0;
  private resuming: boolean;

  constructor(cursor: LogCursor | null) {
    this.cursor = cursor;
    this.resuming = cursor !== null;
  }

  /** Whether the connection is still re-reading lines it emitted before. */
  get isResuming(): boolean {
    return this.resuming;
  }

  /** Decides about the next line (its timestamp in ns; null = no timestamp, always new). */
  next(ns: bigint | null): ResumeVerdict {
    const c = this.cursor;
    if (!this.resuming || c === null || ns === null) return 'emit';
    if (ns < c.ns) return 'skip';
    if (ns === c.ns) {
      this.seenAtCursor++;
      if (this.seenAtCursor <= c.count) return 'skip';
      this.resuming = false;
      return 'emit';
    }
    this.resuming = false;
    return this.seenAtCursor < c.count ? 'gap-then-emit' : 'emit';
  }
}

/** The cursor after emitting a line with timestamp `ns` (text `ts`); a line older than the cursor leaves it. */
export function advanceCursor(cursor: LogCursor | null, ts: string, ns: bigint): LogCursor {
  if (cursor === null || ns > cursor.ns) return { ts, ns, count: 1 };
  if (ns === cursor.ns) return { ts: cursor.ts, ns, count: cursor.count + 1 };
  return cursor;
}
