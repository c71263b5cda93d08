import type { AppendRecord } from './port.ts';

/**
 * Bytes of records per request to the log: well under Kafka's default 1 MiB `message.max.bytes`
 * (one request becomes one record batch per partition, which the broker refuses above it). The
 * Kafka adapter sends in slices of this size; a caller that must never write a record twice
 * (the collectors, producers/src/logs/append.ts) appends at most this much at a time, so each of
 * its appends is one request.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Consecutive index ranges of records whose keys, values and headers add up to at most `max`
 * bytes, counted with their framing (at least one record each).
 */
export function sizedSlices(records: readonly AppendRecord[], max: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    let size = 70 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const [k, v] of Object.entries(r.headers ?? {})) size += k.length + v.length + 2;
    if (i > from && bytes + size > max) {
      out.push({ from, to: i });
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < records.length) out.push({ from, to: records.length });
  return out;
}
