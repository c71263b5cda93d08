import type { HourJSON, WindowHistogram } from './histogram.ts';

/**
 * The binary changelog value of a container's fold record (`r/<cluster>/c:…` in
 * `hetu.state.recommendations`), the record written most often (after every batch that sampled the
 * container). Writing its usage histograms as JSON text cost ~20 µs a record, most of it turning
 * numbers into text; this writes them as they are. Values are exact (float64), so a restore gives
 * back the record the JSON of format 1 gave.
 *
 * Layout (little-endian):
 *  - u8 0x02 (format; the JSON records of format 1 start with `{`, 0x7b);
 *  - u32 length, then the JSON text of `[workload, container, spec]`;
 *  - f64 lastTs (−∞ before the first sample), f64 seq;
 *  - two windows (cpu, then memory), each: u32 hours, u8 cell form (1: every bucket an int16 and
 *    every count a uint32, else 0), then per hour in hour order: f64 hour, n, firstTs, lastTs,
 *    u32 cells, then its cells in bucket order: int16 bucket, uint32 count, f64 max (form 1) or
 *    f64 bucket, count, max (form 0).
 */
export const CONTAINER_RECORD_BINARY = 0x02;

/** What `decodeContainerRecord` gives back: the record's JSON form (`StateValue` of kind container). */
export interface ContainerRecordJSON<W, S> {
  readonly kind: 'container';
  readonly v: 1;
  readonly workload: W;
  readonly container: string;
  readonly spec: S;
  readonly lastTs: number | null;
  readonly seq: number;
  readonly cpu: HourJSON[];
  readonly memory: HourJSON[];
}

let scratch = Buffer.allocUnsafe(64 * 1024);

function reserve(at: number, more: number): void {
  if (at + more <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(2 * scratch.length, at + more));
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

function writeWindow(w: WindowHistogram, start: number): number {
  const hours = [...w.values()].sort((a, b) => a.hour - b.hour);
  let compact = 1;
  let cells = 0;
  for (const h of hours)
    for (const [b, c] of h.cells) {
      cells++;
      if (
        !Number.isInteger(b) ||
        b < -32768 ||
        b > 32767 ||
        !Number.isInteger(c.count) ||
        c.count < 0 ||
        c.count > 0xffffffff
      )
        compact = 0;
    }
  let at = start;
  reserve(at, 5 + hours.length * 36 + cells * 24);
  const b = scratch;
  b.writeUInt32LE(hours.length, at);
  b[at + 4] = compact;
  at += 5;
  for (const h of hours) {
    b.writeDoubleLE(h.hour, at);
    b.writeDoubleLE(h.n, at + 8);
    b.writeDoubleLE(h.firstTs, at + 16);
    b.writeDoubleLE(h.lastTs, at + 24);
    b.writeUInt32LE(h.cells.size, at + 32);
    at += 36;
    const buckets = [...h.cells.keys()].sort((x, y) => x - y);
    for (const bucket of buckets) {
      const c = h.cells.get(bucket)!;
      if (compact === 1) {
        b.writeInt16LE(bucket, at);
        b.writeUInt32LE(c.count, at + 2);
        b.writeDoubleLE(c.max, at + 6);
        at += 14;
      } else {
        b.writeDoubleLE(bucket, at);
        b.writeDoubleLE(c.count, at + 8);
        b.writeDoubleLE(c.max, at + 16);
        at += 24;
      }
    }
  }
  return at;
}

/** Encodes a container's record (its fields as in the fold's state). */
export function encodeContainerRecord(c: {
  readonly workload: unknown;
  readonly container: string;
  readonly spec: unknown;
  readonly lastTs: number;
  readonly seq: number;
  readonly cpu: WindowHistogram;
  readonly memory: WindowHistogram;
}): Buffer {
  const head = JSON.stringify([c.workload, c.container, c.spec]);
  reserve(0, 21 + 3 * head.length);
  scratch[0] = CONTAINER_RECORD_BINARY;
  const n = scratch.write(head, 5, 'utf8');
  scratch.writeUInt32LE(n, 1);
  let at = 5 + n;
  scratch.writeDoubleLE(c.lastTs, at);
  scratch.writeDoubleLE(c.seq, at + 8);
  at = writeWindow(c.cpu, at + 16);
  at = writeWindow(c.memory, at);
  return Buffer.from(scratch.subarray(0, at));
}

/** Decodes a record of `encodeContainerRecord` into its JSON form; null when malformed. */
export function decodeContainerRecord<W, S>(value: Buffer): ContainerRecordJSON<W, S> | null {
  if (value.length < 5 || value[0] !== CONTAINER_RECORD_BINARY) return null;
  const n = value.readUInt32LE(1);
  let at = 5 + n;
  if (at + 16 > value.length) return null;
  let head: unknown;
  try {
    head = JSON.parse(value.toString('utf8', 5, at));
  } catch {
    return null;
  }
  if (!Array.isArray(head) || head.length !== 3 || typeof head[1] !== 'string') return null;
  const lastTs = value.readDoubleLE(at);
  const seq = value.readDoubleLE(at + 8);
  at += 16;
  const readWindow = (): HourJSON[] | null => {
    if (at + 5 > value.length) return null;
    const hours = value.readUInt32LE(at);
    const compact = value[at + 4] === 1;
    at += 5;
    const out: HourJSON[] = [];
    for (let i = 0; i < hours; i++) {
      if (at + 36 > value.length) return null;
      const cellCount = value.readUInt32LE(at + 32);
      const size = compact ? 14 : 24;
      if (at + 36 + cellCount * size > value.length) return null;
      const cells: [number, number, number][] = new Array(cellCount);
      let c = at + 36;
      for (let j = 0; j < cellCount; j++, c += size)
        cells[j] = compact
          ? [value.readInt16LE(c), value.readUInt32LE(c + 2), value.readDoubleLE(c + 6)]
          : [value.readDoubleLE(c), value.readDoubleLE(c + 8), value.readDoubleLE(c + 16)];
      out.push([
        value.readDoubleLE(at),
        value.readDoubleLE(at + 8),
        value.readDoubleLE(at + 16),
        value.readDoubleLE(at + 24),
        cells,
      ]);
      at = c;
    }
    return out;
  };
  const cpu = readWindow();
  const memory = readWindow();
  if (cpu === null || memory === null || at !== value.length) return null;
  return {
    kind: 'container',
    v: 1,
    workload: head[0] as W,
    container: head[1],
    spec: head[2] as S,
    lastTs: Number.isFinite(lastTs) ? lastTs : null,
    seq,
    cpu,
    memory,
  };
}
