/**
 * Errors of the schemas workspace. Identify them by `code` (stable, `HETU_<AREA>_<WHAT>`), never
 * by `instanceof`. The shape (`code`, `transient`) matches the project's HetuError, which this
 * workspace may not import.
 */

/** Codes of input that can never be decoded: dead-letter the record and go on. */
export const BAD_INPUT_CODES = [
  /** The first byte is not the Confluent wire format's magic byte 0. */
  'HETU_SERDE_BAD_MAGIC',
  /** The bytes end before the 5-byte header or before the Avro value is complete. */
  'HETU_SERDE_TRUNCATED',
  /** Bytes remain after the Avro value. */
  'HETU_SERDE_TRAILING_BYTES',
  /** The schema id is not known to the registry. */
  'HETU_SERDE_UNKNOWN_SCHEMA',
  /** The registry holds the id, but not as a plain Avro schema (JSON, Protobuf, references). */
  'HETU_SERDE_UNSUPPORTED_SCHEMA',
  /** The writer schema cannot be read as the reader schema (Avro resolution fails). */
  'HETU_SERDE_INCOMPATIBLE_SCHEMA',
  /** The Avro bytes are malformed (bad union or enum index, negative length, out-of-range long). */
  'HETU_SERDE_INVALID_DATA',
  /** The value is larger than any hetu record may be (MAX_VALUE_BYTES, Kafka's default message size). */
  'HETU_SERDE_OVERSIZE',
] as const;

/** Codes of programming or deployment errors: crash loudly. */
export const FATAL_CODES = [
  /** encode/decode was asked for a record name that schemas/avro does not define. */
  'HETU_SERDE_UNKNOWN_RECORD',
  /** encode was given a value that does not match the record's schema. */
  'HETU_SERDE_INVALID_VALUE',
  /** The registry refused a new schema version under the subject's compatibility rule. */
  'HETU_REGISTRY_INCOMPATIBLE',
  /** The registry refused a schema as invalid. */
  'HETU_REGISTRY_INVALID_SCHEMA',
  /** The registry refused the credentials. */
  'HETU_REGISTRY_UNAUTHORIZED',
  /** The registry answered a request with another error. */
  'HETU_REGISTRY_REJECTED',
] as const;

/** Codes of infrastructure outages: retry with back-off, never dead-letter. */
export const TRANSIENT_CODES = [
  /** The registry could not be reached, timed out or answered 5xx. */
  'HETU_REGISTRY_UNREACHABLE',
] as const;

export type SerdeErrorCode =
  | (typeof BAD_INPUT_CODES)[number]
  | (typeof FATAL_CODES)[number]
  | (typeof TRANSIENT_CODES)[number];

const transientCodes: ReadonlySet<string> = new Set(TRANSIENT_CODES);
const badInputCodes: ReadonlySet<string> = new Set(BAD_INPUT_CODES);

export class SerdeError extends Error {
  readonly code: SerdeErrorCode;
  /** True when retrying later may succeed (the registry is down); such errors must not be dead-lettered. */
  readonly transient: boolean;

  constructor(code: SerdeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SerdeError';
    this.code = code;
    this.transient = transientCodes.has(code);
  }
}

/** True when the error says the input itself is bad (dead-letter it), judged by its code. */
export function isBadInput(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    badInputCodes.has((err as { code: string }).code)
  );
}
