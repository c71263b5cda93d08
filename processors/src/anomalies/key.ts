/**
 * Series key: metric name plus its labels sorted by name, as
 * `name{label="value",…}` with values JSON-quoted (so `"`, `\` and newlines cannot make two
 * different series share a key). No labels: `name{}`.
 */
export function seriesKey(metric: string, labels: Readonly<Record<string, string>> = {}): string {
  const names = Object.keys(labels).sort();
  let out = metric + '{';
  for (let i = 0; i < names.length; i++) {
    const k = names[i] as string;
    if (i > 0) out += ',';
    out += k + '=' + JSON.stringify(labels[k]);
  }
  return out + '}';
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/** 64-bit FNV-1a of the UTF-8 bytes of `text`, as 16 lower-case hex digits. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}

/** Episode id: stable for a series and the event time (epoch ms) its episode opened. */
export function episodeId(key: string, openedAt: number): string {
  return 'an-' + fnv1a64(key + '\n' + String(openedAt));
}
