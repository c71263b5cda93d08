/**
 * Line sanitising: the first step for every line, before any pattern runs.
 *
 * - Only the first {@link MAX_LINE_CHARS} UTF-16 code units are parsed (16 Ki characters, i.e.
 *   16 KiB for ASCII); the result says when a line was cut.
 * - ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, two-byte `ESC x`,
 *   and the 8-bit CSI `U+009B`) are removed.
 * - Other C0 control characters (NUL, CR, LF, …) and DEL become a space; TAB is kept because
 *   it starts Java stack frames (`\tat …`).
 * - Invalid UTF-8 has already been decoded to U+FFFD by the reader; it is kept as text.
 *
 * Hand-written scanner: one pass, linear in the (capped) input, no regular expressions.
 */

export const MAX_LINE_CHARS = 16_384;

/** Any C0 control but TAB, DEL, or the 8-bit CSI: a single character class, linear. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u009b]/;

export interface Sanitized {
  text: string;
  truncated: boolean;
}

export function sanitizeLine(line: string): Sanitized {
  const truncated = line.length > MAX_LINE_CHARS;
  let s = truncated ? line.slice(0, MAX_LINE_CHARS) : line;
  // Do not leave half of a surrogate pair at the cut.
  if (truncated) {
    const last = s.charCodeAt(s.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) s = s.slice(0, -1);
  }
  const dirty = CONTROL.test(s);
  if (!dirty) return { text: trimEnd(s), truncated };
  let out = '';
  let start = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x1b || c === 0x9b) {
      out += s.slice(start, i);
      i = skipEscape(s, i);
      start = i;
      continue;
    }
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      out += s.slice(start, i) + ' ';
      i++;
      start = i;
      continue;
    }
    i++;
  }
  out += s.slice(start);
  return { text: trimEnd(out), truncated };
}

/** Returns the index just after the escape sequence starting at `i`. */
function skipEscape(s: string, i: number): number {
  const n = s.length;
  let j: number;
  if (s.charCodeAt(i) === 0x9b) {
    j = i + 1;
  } else {
    const next = i + 1 < n ? s.charCodeAt(i + 1) : -1;
    if (next === 0x5b /* [ */) {
      j = i + 2;
    } else if (next === 0x5d /* ] */) {
      // OSC: until BEL or ESC \ (or end of line).
      j = i + 2;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === 0x07) return j + 1;
        if (c === 0x1b && j + 1 < n && s.charCodeAt(j + 1) === 0x5c) return j + 2;
        j++;
      }
      return n;
    } else if (next >= 0x20 && next <= 0x7e) {
      return i + 2;
    } else {
      return i + 1;
    }
  }
  // CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c >= 0x20 && c <= 0x3f) {
      j++;
      continue;
    }
    if (c >= 0x40 && c <= 0x7e) return j + 1;
    return j; // malformed: drop the introducer and parameters only
  }
  return n;
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c === 0x20 || c === 0x09) e--;
    else break;
  }
  return e === s.length ? s : s.slice(0, e);
}
