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

function isLongObject(schema: unknown): schema is { type: 'long'; logicalType?: unknown } {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    !Array.isArray(schema) &&
    (schema as { type?: unknown }).type === 'long'
  );
}

function typeHook(schema: unknown): AvroType | undefined {
  if (schema === 'long') return int64Type;
  if (isLongObject(schema))
    return schema.logicalType === 'timestamp-millis' ? timestampMillisType : int64Type;
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
