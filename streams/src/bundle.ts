import { HetuError } from './errors.ts';
import type { AppendRecord, LogRecord } from './port.ts';

/**
 * Bundles: several records of an internal feed packed into one record of the log
 * (docs/schemas.md, "Bundled records"). A stage that copies many records to a feed — the cluster
 * feed gets every metric sample of a scrape, all with the same time — writes each run of
 * consecutive records with the same key, partition and timestamp as one record, and the runtime
 * unpacks it before the next stage's fold (`foldBatch`), so the stage reading the feed sees the
 * same records in the same order: a run of records with one time in one partition is never split
 * by the event-time merge (streams/src/merge.ts), so packing it changes nothing a stage derives.
 * What it saves is a row of the log per record, written once and read by every stage after.
 *
 * The bundle record has the run's key, partition and timestamp, the header `hetu-bundle` (the
 * format's version, `1`) and this value, lengths and counts as unsigned LEB128 varints:
 *
 *     version (1 byte, 1)
 *     header names: count, then each: length, UTF-8 bytes
 *     headers every record has with the same value: count, then each: name index, length, bytes
 *     records: count, then each: header count, then each (name index, length, bytes);
 *              value length, value bytes
 *
 * Tombstones (a null value) are never bundled.
 */
export const BUNDLE_HEADER = 'hetu-bundle';
const VERSION = 1;
const VERSION_BYTES = Buffer.from(String(VERSION));

/** At most this many records, and about this many bytes of value, go in one bundle. */
export const BUNDLE_MAX_RECORDS = 1000;
export const BUNDLE_MAX_BYTES = 256 * 1024;

export function isBundle(r: { readonly headers?: Readonly<Record<string, Buffer>> | undefined }): boolean {
  return r.headers?.[BUNDLE_HEADER] !== undefined;
}

function sameKey(a: Buffer | null, b: Buffer | null): boolean {
  return a === b || (a !== null && b !== null && a.equals(b));
}

/** A record's bytes in a bundle, at most: its value and header values, 10 bytes per varint. */
function sizeOf(r: AppendRecord): number {
  let n = 10 + (r.value?.length ?? 0);
  for (const k in r.headers) n += 10 + r.headers[k]!.length;
  return n;
}

/**
 * The records, with each run of at least two consecutive records of the same key, partition
 * (or none) and timestamp, none a tombstone, packed into one bundle (at most `BUNDLE_MAX_RECORDS`
 * records, about `BUNDLE_MAX_BYTES` bytes). The order of everything else is kept.
 */
export function bundleRecords(records: readonly AppendRecord[]): AppendRecord[] {
  const out: AppendRecord[] = [];
  let i = 0;
  while (i < records.length) {
    const first = records[i]!;
    let j = i + 1;
    if (first.value !== null && first.timestamp !== undefined && !isBundle(first)) {
      let bytes = sizeOf(first);
      while (j < records.length && j - i < BUNDLE_MAX_RECORDS) {
        const r = records[j]!;
        if (
          r.value === null ||
          r.timestamp !== first.timestamp ||
          r.partition !== first.partition ||
          !sameKey(r.key, first.key) ||
          isBundle(r)
        )
          break;
        const size = sizeOf(r);
        if (bytes + size > BUNDLE_MAX_BYTES) break;
        bytes += size;
        j++;
      }
    }
    if (j - i < 2) out.push(first);
    else out.push(pack(records.slice(i, j)));
    i = j;
  }
  return out;
}

class Writer {
  private buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number) {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(v: number) {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  bytes(b: Buffer) {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function pack(run: readonly AppendRecord[]): AppendRecord {
  const first = run[0]!;
  const names: string[] = [];
  const index = new Map<string, number>();
  for (const r of run)
    for (const k in r.headers)
      if (!index.has(k)) {
        index.set(k, names.length);
        names.push(k);
      }
  // A header every record has with the same bytes is written once.
  const common: string[] = [];
  for (const k of names) {
    const v = first.headers?.[k];
    if (v === undefined) continue;
    let same = true;
    for (const r of run) {
      const w = r.headers?.[k];
      if (w === undefined || (w !== v && !w.equals(v))) {
        same = false;
        break;
      }
    }
    if (same) common.push(k);
  }
  const isCommon = new Set(common);
  let size = 16;
  for (const r of run) size += sizeOf(r);
  const w = new Writer(size);
  w.varint(VERSION);
  w.varint(names.length);
  for (const k of names) w.bytes(Buffer.from(k));
  w.varint(common.length);
  for (const k of common) {
    w.varint(index.get(k)!);
    w.bytes(first.headers![k]!);
  }
  w.varint(run.length);
  for (const r of run) {
    let n = 0;
    for (const k in r.headers) if (!isCommon.has(k)) n++;
    w.varint(n);
    for (const k in r.headers) {
      if (isCommon.has(k)) continue;
      w.varint(index.get(k)!);
      w.bytes(r.headers[k]!);
    }
    w.bytes(r.value!);
  }
  return {
    key: first.key,
    value: w.done(),
    timestamp: first.timestamp!,
    headers: { [BUNDLE_HEADER]: VERSION_BYTES },
    ...(first.partition !== undefined ? { partition: first.partition } : {}),
  };
}

/** A bundle that cannot be read: bad input (dead-lettered whole), not a programming error. */
function malformed(r: LogRecord, what: string): HetuError {
  return new HetuError(
    'HETU_INPUT_INVALID',
    `Record ${r.topic}/${r.partition}/${r.offset} is a bundle (header ${BUNDLE_HEADER}) that cannot be read: ${what}; it was written by something other than hetu's runtime, or damaged — write the records one by one instead.`,
  );
}

/**
 * The records a bundle holds, each with the bundle's topic, partition, offset, key and timestamp
 * and its own headers and value (views into the bundle's bytes). Throws a bad-input error
 * (`HETU_INPUT_INVALID`) for a bundle of another version or cut short.
 */
export function unbundle(r: LogRecord): LogRecord[] {
  const version = r.headers[BUNDLE_HEADER]!.toString('latin1');
  if (version !== String(VERSION))
    throw malformed(r, `its version is ${JSON.stringify(version)}, not ${VERSION}`);
  const b = r.value;
  if (b === null) throw malformed(r, 'it has no value');
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= b.length) throw malformed(r, 'it ends inside a number');
      const byte = b[pos++]!;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) return v;
      scale *= 128;
    }
    throw malformed(r, 'a number is longer than 8 bytes');
  };
  const bytes = (): Buffer => {
    const n = varint();
    if (pos + n > b.length) throw malformed(r, `a field of ${n} bytes runs past its end`);
    const out = b.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  if (varint() !== VERSION) throw malformed(r, `its value starts with a version other than ${VERSION}`);
  const nNames = varint();
  const names: string[] = [];
  for (let i = 0; i < nNames; i++) names.push(bytes().toString('utf8'));
  const nameAt = (i: number): string => {
    const n = names[i];
    if (n === undefined) throw malformed(r, `a header names entry ${i} of ${names.length}`);
    return n;
  };
  const common: [string, Buffer][] = [];
  const nCommon = varint();
  for (let i = 0; i < nCommon; i++) {
    const k = nameAt(varint());
    common.push([k, bytes()]);
  }
  const count = varint();
  const out: LogRecord[] = [];
  for (let i = 0; i < count; i++) {
    const headers: Record<string, Buffer> = {};
    for (const [k, v] of common) headers[k] = v;
    const nh = varint();
    for (let h = 0; h < nh; h++) {
      const k = nameAt(varint());
      headers[k] = bytes();
    }
    const value = bytes();
    out.push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      value,
      timestamp: r.timestamp,
      headers,
    });
  }
  if (pos !== b.length) throw malformed(r, `${b.length - pos} bytes follow its last record`);
  return out;
}
