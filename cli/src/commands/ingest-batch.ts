/**
 * A batch of records the ingest of `hetu analyze` hands to the stage worker's connection to append
 * (`StageWorker.append`): packed into one ArrayBuffer, which moves to the worker without a copy
 * (posting the records themselves would clone every key and value). What the ingest writes only:
 * key, value and timestamp per record (no headers, no partition: the log picks it from the key).
 *
 * Layout: the record count (u32), then per record its timestamp (f64, NaN for none), key length and value length
 * (i32 each, -1 for none) and the key's and value's bytes. Little-endian.
 */
import type { AppendRecord } from '@hetu/streams';

const FIXED = 16;

export function packBatch(records: readonly AppendRecord[]): ArrayBuffer {
  let size = 4;
  for (const r of records) {
    if (r.headers !== undefined || r.partition !== undefined)
      throw new Error('packBatch takes records without headers or partition (what the ingest writes).');
    size += FIXED + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  }
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint32(0, records.length, true);
  let at = 4;
  for (const r of records) {
    view.setFloat64(at, r.timestamp ?? NaN, true);
    view.setInt32(at + 8, r.key ? r.key.length : -1, true);
    view.setInt32(at + 12, r.value ? r.value.length : -1, true);
    at += FIXED;
    if (r.key) {
      bytes.set(r.key, at);
      at += r.key.length;
    }
    if (r.value) {
      bytes.set(r.value, at);
      at += r.value.length;
    }
  }
  return buf;
}

/** The records of a packed batch, their keys and values views into `buf`. */
export function unpackBatch(buf: ArrayBuffer): AppendRecord[] {
  const view = new DataView(buf);
  const n = view.getUint32(0, true);
  const out: AppendRecord[] = new Array<AppendRecord>(n);
  let at = 4;
  for (let i = 0; i < n; i++) {
    const timestamp = view.getFloat64(at, true);
    const keyLength = view.getInt32(at + 8, true);
    const valueLength = view.getInt32(at + 12, true);
    at += FIXED;
    const key = keyLength < 0 ? null : Buffer.from(buf, at, keyLength);
    at += Math.max(keyLength, 0);
    const value = valueLength < 0 ? null : Buffer.from(buf, at, valueLength);
    at += Math.max(valueLength, 0);
    out[i] = Number.isNaN(timestamp) ? { key, value } : { key, value, timestamp };
  }
  if (at !== buf.byteLength)
    throw new Error(`A packed ingest batch holds ${buf.byteLength - at} bytes after its last record.`);
  return out;
}
