/**
 * Finds the exact text of a top-level member's value in a JSON object text, so a watch object
 * can be kept byte for byte as the API served it (SPEC §1: "exactly as the API serves it"),
 * never re-serialised. The text must already be known to be valid JSON (it has been parsed).
 */
export function topLevelValueText(json: string, member: string): string | undefined {
  let i = skipWs(json, 0);
  if (json.charCodeAt(i) !== 0x7b /* { */) return undefined;
  i = skipWs(json, i + 1);
  while (i < json.length && json.charCodeAt(i) !== 0x7d /* } */) {
    const keyEnd = stringEnd(json, i);
    const key = JSON.parse(json.slice(i, keyEnd)) as string;
    i = skipWs(json, keyEnd);
    i = skipWs(json, i + 1); // ':'
    const start = i;
    const end = valueEnd(json, i);
    if (key === member) return json.slice(start, end);
    i = skipWs(json, end);
    if (json.charCodeAt(i) === 0x2c /* , */) i = skipWs(json, i + 1);
  }
  return undefined;
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Index just past the string literal starting at `i` (which is a `"`). */
function stringEnd(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22 /* " */) return i + 1;
    else i++;
  }
  return i;
}

/** Index just past the JSON value starting at `i`. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return stringEnd(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d === 0x22) {
        i = stringEnd(s, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  // number, true, false, null: up to the next delimiter
  while (i < s.length) {
    const d = s.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    i++;
  }
  return i;
}
