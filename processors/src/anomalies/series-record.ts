import { DetectorStateError } from './detector.ts';
import { seriesKey } from './key.ts';

/**
 * The binary changelog value of a series (`s/<seriesKey>` in `hetu.state.anomalies`), written
 * once per accepted sample: about 120 bytes where the JSON of format 1 took about 510 (measured on
 * the scale recording, 2026-11-27). Values are exact (float64), so a restore gives back the live
 * state bit for bit (−0 included, which JSON turns into 0).
 *
 * Layout (little-endian):
 *  - u8 0x02 (format; the JSON records of format 1 start with `{`, 0x7b);
 *  - u8 flags: 1 = an open episode's id follows, 2 = the identity follows (else it is the key's);
 *  - f64 seq, lastTs, normalRun, n, wMean, wM2, level.m, level.e, level.q, seasonal.m,
 *    seasonal.e, seasonal.q;
 *  - u16 profile length, then a bitmap of its bins that are not +0 (bit i%8 of byte i/8), then
 *    those bins as f64;
 *  - with flag 1: the episode id (u32 length, UTF-8);
 *  - with flag 2: cluster, metric (u32 length, UTF-8 each), u32 label count, then each label's
 *    name and value (u32 length, UTF-8 each).
 */
export const SERIES_RECORD_BINARY = 0x02;

/** A series record as `restore` keeps it (the shape of format 1's JSON). */
export interface SeriesRecordData {
  readonly v: 1;
  readonly seq: number;
  readonly cluster: string;
  readonly metric: string;
  readonly labels: Record<string, string>;
  readonly lastTs: number;
  readonly normalRun: number;
  readonly episode: string | null;
  readonly detector: {
    n: number;
    wMean: number;
    wM2: number;
    level: { m: number; e: number; q: number };
    seasonal: { m: number; e: number; q: number };
    profile: number[];
  };
}

/** The identity of a series, as the processor keeps it (labels sorted by name). */
export interface SeriesIdentity {
  readonly cluster: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
}

const FIXED = 2 + 12 * 8 + 2;
let scratch = Buffer.allocUnsafe(4096);

/**
 * Parses a processor series key (`<cluster>/<metric>{name="value",…}`, see `metricSeriesKey`)
 * back into its identity; null when it does not parse, or would not give the same key back.
 */
export function parseMetricSeriesKey(key: string): SeriesIdentity | null {
  const slash = key.indexOf('/');
  if (slash < 0) return null;
  const brace = key.indexOf('{', slash + 1);
  if (brace < 0 || key.charCodeAt(key.length - 1) !== 0x7d) return null;
  const cluster = key.slice(0, slash);
  const metric = key.slice(slash + 1, brace);
  const labels: Record<string, string> = {};
  let at = brace + 1;
  const end = key.length - 1;
  while (at < end) {
    const eq = key.indexOf('=', at);
    if (eq < 0 || key.charCodeAt(eq + 1) !== 0x22) return null;
    const name = key.slice(at, eq);
    // The JSON string: up to the first quote not escaped by a backslash.
    let q = eq + 2;
    for (;;) {
      const c = key.charCodeAt(q);
      if (Number.isNaN(c)) return null;
      if (c === 0x5c) q += 2;
      else if (c === 0x22) break;
      else q++;
    }
    let value: unknown;
    try {
      value = JSON.parse(key.slice(eq + 1, q + 1));
    } catch {
      return null;
    }
    if (typeof value !== 'string' || Object.hasOwn(labels, name)) return null;
    labels[name] = value;
    at = q + 1;
    if (at < end) {
      if (key.charCodeAt(at) !== 0x2c) return null;
      at++;
    }
  }
  if (cluster + '/' + seriesKey(metric, labels) !== key) return null;
  return { cluster, metric, labels };
}

/** True when `parseMetricSeriesKey(key)` gives exactly `id` (its labels in the same order too). */
export function identityFromKey(key: string, id: SeriesIdentity): boolean {
  const p = parseMetricSeriesKey(key);
  if (p === null || p.cluster !== id.cluster || p.metric !== id.metric) return false;
  const a = Object.keys(p.labels);
  const b = Object.keys(id.labels);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] || p.labels[a[i]!] !== id.labels[b[i]!]) return false;
  return true;
}

/** Encodes a series record; `keyed`: its identity is the key's (`identityFromKey`), not written. */
export function encodeSeriesRecord(r: SeriesRecordData, keyed: boolean): Buffer {
  const d = r.detector;
  const profile = d.profile;
  const bins = profile.length;
  let size = FIXED + ((bins + 7) >> 3) + bins * 8;
  const strings: string[] = [];
  if (r.episode !== null) strings.push(r.episode);
  if (!keyed) {
    strings.push(r.cluster, r.metric);
    for (const k in r.labels) strings.push(k, r.labels[k]!);
    size += 4;
  }
  for (const s of strings) size += 4 + 3 * s.length;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  const b = scratch;
  b[0] = SERIES_RECORD_BINARY;
  b[1] = (r.episode !== null ? 1 : 0) | (keyed ? 0 : 2);
  b.writeDoubleLE(r.seq, 2);
  b.writeDoubleLE(r.lastTs, 10);
  b.writeDoubleLE(r.normalRun, 18);
  b.writeDoubleLE(d.n, 26);
  b.writeDoubleLE(d.wMean, 34);
  b.writeDoubleLE(d.wM2, 42);
  b.writeDoubleLE(d.level.m, 50);
  b.writeDoubleLE(d.level.e, 58);
  b.writeDoubleLE(d.level.q, 66);
  b.writeDoubleLE(d.seasonal.m, 74);
  b.writeDoubleLE(d.seasonal.e, 82);
  b.writeDoubleLE(d.seasonal.q, 90);
  b.writeUInt16LE(bins, 98);
  let at = 100;
  const mapAt = at;
  const mapBytes = (bins + 7) >> 3;
  b.fill(0, mapAt, mapAt + mapBytes);
  at += mapBytes;
  for (let i = 0; i < bins; i++) {
    const v = profile[i]!;
    if (v === 0 && 1 / v > 0) continue; // +0: the bitmap's default
    b[mapAt + (i >> 3)]! |= 1 << (i & 7);
    b.writeDoubleLE(v, at);
    at += 8;
  }
  const str = (s: string) => {
    const n = b.write(s, at + 4, 'utf8');
    b.writeUInt32LE(n, at);
    at += 4 + n;
  };
  if (r.episode !== null) str(r.episode);
  if (!keyed) {
    str(r.cluster);
    str(r.metric);
    b.writeUInt32LE(Object.keys(r.labels).length, at);
    at += 4;
    for (const k in r.labels) {
      str(k);
      str(r.labels[k]!);
    }
  }
  return Buffer.from(b.subarray(0, at));
}

/** Decodes a record of `encodeSeriesRecord`, written under the changelog key `s/<key>`. */
export function decodeSeriesRecord(key: string, value: Buffer): SeriesRecordData {
  const bad = (): never => {
    throw new DetectorStateError(`Cannot restore anomalies state: record s/${key} is malformed.`);
  };
  if (value.length < FIXED || value[0] !== SERIES_RECORD_BINARY) return bad();
  const flags = value[1]!;
  const num = (at: number) => value.readDoubleLE(at);
  const bins = value.readUInt16LE(98);
  let at = 100;
  const mapAt = at;
  at += (bins + 7) >> 3;
  const profile = new Array<number>(bins);
  for (let i = 0; i < bins; i++) {
    if ((value[mapAt + (i >> 3)]! & (1 << (i & 7))) === 0) profile[i] = 0;
    else {
      if (at + 8 > value.length) bad();
      profile[i] = num(at);
      at += 8;
    }
  }
  const str = (): string => {
    if (at + 4 > value.length) bad();
    const n = value.readUInt32LE(at);
    if (at + 4 + n > value.length) bad();
    const s = value.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  const episode = flags & 1 ? str() : null;
  let id: SeriesIdentity | null;
  if (flags & 2) {
    const cluster = str();
    const metric = str();
    if (at + 4 > value.length) bad();
    const count = value.readUInt32LE(at);
    at += 4;
    const labels: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const k = str();
      labels[k] = str();
    }
    id = { cluster, metric, labels };
  } else id = parseMetricSeriesKey(key);
  if (id === null || at !== value.length) return bad();
  return {
    v: 1,
    seq: num(2),
    cluster: id.cluster,
    metric: id.metric,
    labels: { ...id.labels },
    lastTs: num(10),
    normalRun: num(18),
    episode,
    detector: {
      n: num(26),
      wMean: num(34),
      wM2: num(42),
      level: { m: num(50), e: num(58), q: num(66) },
      seasonal: { m: num(74), e: num(82), q: num(90) },
      profile,
    },
  };
}
