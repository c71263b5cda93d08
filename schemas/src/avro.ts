/**
 * How hetu parses Avro schemas with avsc, so that every schema (ours and writer schemas fetched
 * from a registry) decodes the same way:
 * - a plain `long` is an exact int64 and decodes to a `bigint` (encode takes a `bigint`);
 * - a `long` with `logicalType: "timestamp-millis"` decodes to a JS number of milliseconds,
 *   exact for |ms| ≤ 2^53 − 1 (Number.MAX_SAFE_INTEGER: about year 287396); beyond that,
 *   encoding and decoding fail rather than round.
 */
import avro from 'avsc';

export type AvroType = avro.Type;
export type AvroResolver = avro.Resolver;
/** A schema as avsc accepts it (JSON object form). */
export type AvroSchemaInput = Parameters<typeof avro.Type.forSchema>[0];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
}

/** The exact int64 type: avsc hands it 8 little-endian two's-complement bytes. */
const int64Type: AvroType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(0),
  toBuffer: (n: bigint): Buffer => {
    // avsc mutates the returned buffer while packing, so always hand out a fresh one.
    const buf = Buffer.allocUnsafe(8);
    buf.writeBigInt64LE(n, 0);
    return buf;
  },
  fromJSON: (v: unknown): bigint => {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
    throw new TypeError(`cannot read ${typeof v} as a long`);
  },
  toJSON: (n: bigint): number | string => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (v: unknown): boolean => isInt64(v),
  compare: (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0),
});

const TWO_32 = 4_294_967_296;

function msFromBytes(buf: Buffer): number {
  const hi = buf.readInt32LE(4);
  const ms = hi * TWO_32 + buf.readUInt32LE(0);
  // Exact while |hi| < 2^21; beyond that, or at −2^53 itself, the number could not be exact.
  if (hi >= 2_097_152 || hi < -2_097_152 || !Number.isSafeInteger(ms)) {
    throw new Error(
      `timestamp ${buf.readBigInt64LE(0)} ms is beyond ±(2^53 − 1) ms and cannot be a JS number exactly`,
    );
  }
  return ms;
}

/**
 * `timestamp-millis` as a JS number of milliseconds, read and written exactly through the int64
 * bytes. (avsc's own long type is not used: it writes negative values below −2^52 with a rounding
 * error and reads values beyond ±2^52 inexactly.) Its canonical form is `long`, so it resolves
 * against plain longs both ways.
 */
const timestampMillisType: AvroType = avro.types.LongType.__with({
  fromBuffer: msFromBytes,
  toBuffer: (ms: number): Buffer => {
    const hi = Math.floor(ms / TWO_32);
    const buf = Buffer.allocUnsafe(8);
    buf.writeUInt32LE(ms - hi * TWO_32, 0);
    buf.writeInt32LE(hi, 4);
    return buf;
  },
  fromJSON: (v: unknown): number => {
    const n = typeof v === 'bigint' || typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n))
      throw new TypeError(`cannot read ${String(v)} as timestamp-millis`);
    return n;
  },
  toJSON: (ms: number): number => ms,
  isValid: (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v),
  compare: (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0),
});

/** What `_read` uses of avsc's Tap (lib/utils.js, avsc 5.7.9, pinned). */
interface Tap {
  buf: Buffer & { utf8Slice(start: number, end: number): string };
  pos: number;
  readLong(): number;
  _invalidate(): void;
}

/** Strings up to this many UTF-8 bytes are looked up in the intern table. */
const INTERN_MAX_BYTES = 48;
const INTERN_SLOTS = 8192; // a power of two
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_BYTES);
const internLengths = new Int32Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');

/**
 * `bytes.toString('utf8')` through the same intern table: a record key or header of a few dozen
 * bytes that repeats (a cluster, a pod) is the same string again, not a new one per record.
 */
export function utf8Text(bytes: Buffer): string {
  return internedUtf8(bytes as Tap['buf'], 0, bytes.length);
}

/**
 * `buf.utf8Slice(pos, pos + len)`, but a short string whose bytes were decoded before (in the
 * same slot of a direct-mapped table of 8 192) is that same string again: cluster, metric,
 * label, namespace and pod names repeat on nearly every record, and a string handed out again
 * needs no new allocation and keeps its hash for the Map lookups that follow. Bytes are compared
 * in full, so the string is always the one `utf8Slice` gives for them (invalid UTF-8 included).
 */
export function internedUtf8(buf: Tap['buf'], pos: number, len: number): string {
  if (len > INTERN_MAX_BYTES) return buf.utf8Slice(pos, pos + len);
  let h = 0x811c9dc5 ^ len;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ (buf[pos + i] as number), 0x01000193);
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_BYTES;
  if (internLengths[slot] === len) {
    let i = 0;
    while (i < len && internBytes[base + i] === buf[pos + i]) i++;
    if (i === len) return internStrings[slot] as string;
  }
  const text = buf.utf8Slice(pos, pos + len);
  for (let i = 0; i < len; i++) internBytes[base + i] = buf[pos + i] as number;
  internLengths[slot] = len;
  internStrings[slot] = text;
  return text;
}

/**
 * avsc's string type, reading through `internedUtf8`; everything else (skip, write, resolution,
 * schema) is avsc's. `_read` is also what a resolver of a string or bytes writer calls (with the
 * resolver as `this`), so it keeps no state on `this`. Same bounds handling as avsc's
 * `Tap.readString`: a negative length invalidates the tap, a length past the end leaves it past
 * the end (the caller reports the truncation).
 */
class InternedStringType extends avro.types.StringType {
  _read(tap: Tap): string | undefined {
    return readInterned(tap);
  }
}
const stringType: AvroType = new InternedStringType();

/** A string of `tap` as avsc's `Tap.readString` reads it, through `internedUtf8`. */
function readInterned(tap: Tap): string | undefined {
  const len = tap.readLong();
  if (len < 0) {
    tap._invalidate();
    return '';
  }
  const pos = tap.pos;
  tap.pos += len;
  if (tap.pos > tap.buf.length) return undefined;
  return internedUtf8(tap.buf, pos, len);
}

/**
 * avsc's map type, its keys read through `internedUtf8` (label names repeat on every metric
 * sample). `_read` as avsc's MapType's: blocks of entries until a zero count, a negative count
 * followed by the block's size in bytes (skipped). Resolution from another writer's map is
 * avsc's own (keys then read without the table).
 */
class InternedMapType extends avro.types.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = (this as unknown as { valuesType: { _read(tap: Tap): unknown } }).valuesType;
    const out: Record<string, unknown> = {};
    for (;;) {
      let n = tap.readLong();
      if (n === 0) break;
      if (n < 0) {
        n = -n;
        tap.readLong(); // the block's size in bytes
      }
      while (n-- > 0) {
        const key = readInterned(tap) as string;
        out[key] = values._read(tap);
      }
    }
    return out;
  }
}

/** The `type` of a schema in object form (`{"type": "long", …}`), else undefined. */
function typeOfObject(schema: unknown): unknown {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema)
    ? (schema as { type?: unknown }).type
    : undefined;
}

function typeHook(schema: unknown, opts: unknown): AvroType | undefined {
  if (schema === 'string') return stringType;
  if (typeOfObject(schema) === 'map') return new InternedMapType(schema as never, opts as never);
  if (schema === 'long') return int64Type;
  if (typeOfObject(schema) === 'long')
    return (schema as { logicalType?: unknown }).logicalType === 'timestamp-millis'
      ? timestampMillisType
      : int64Type;
  return undefined;
}

/**
 * Parses an Avro schema (a JSON object, or its text) into an avsc type with hetu's long handling.
 * Throws avsc's error on an invalid schema.
 */
export function parseAvroSchema(schema: unknown): AvroType {
  const json: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(json as AvroSchemaInput, {
    typeHook: typeHook as (schema: AvroSchemaInput) => AvroType | undefined,
    wrapUnions: 'auto',
  });
}

/**
 * Parses a schema without hetu's value mapping, only to compare structures (compatibility checks).
 * Longs are avsc's plain ones; resolution between them is by structure, so the result is the same.
 */
export function parseAvroSchemaForChecks(schema: unknown): AvroType {
  const json: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(json as AvroSchemaInput, { wrapUnions: 'auto' });
}

/** The schema's JSON text as a registry stores it: compact, with every attribute kept (doc, default, logicalType). */
export function schemaText(schema: unknown): string {
  return JSON.stringify(typeof schema === 'string' ? JSON.parse(schema) : schema);
}
