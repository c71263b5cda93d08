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

interface KeyNode {
  next?: Map<string, KeyNode>;
  key?: string;
}

/**
 * `<cluster>/` + `seriesKey(metric, labels)`, remembered: a series' samples look their key up
 * by cluster, name and each label (short strings) instead of building and hashing the long key
 * again (about 3× less time per sample). A cache only: it forgets everything once it holds
 * `max` keys, so series that come and go cannot grow it without bound; every key it gives is
 * the one `seriesKey` builds.
 */
export class SeriesKeyCache {
  private readonly root = new Map<string, KeyNode>();
  private size = 0;
  private readonly max: number;

  constructor(max = 100_000) {
    this.max = max;
  }

  key(cluster: string, metric: string, labels: Readonly<Record<string, string>>): string {
    const names = Object.keys(labels);
    for (let i = 1; i < names.length; i++)
      if ((names[i - 1] as string) >= (names[i] as string)) {
        names.sort();
        break;
      }
    let node = child(this.root, cluster);
    node = child((node.next ??= new Map()), metric);
    for (const name of names) {
      node = child((node.next ??= new Map()), name);
      node = child((node.next ??= new Map()), labels[name] as string);
    }
    if (node.key !== undefined) return node.key;
    const key = cluster + '/' + seriesKey(metric, labels);
    if (++this.size > this.max) {
      this.root.clear();
      this.size = 0;
    } else node.key = key;
    return key;
  }
}

function child(map: Map<string, KeyNode>, token: string): KeyNode {
  let node = map.get(token);
  if (node === undefined) map.set(token, (node = {}));
  return node;
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
