/**
 * Record values in the Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian
 * int, then the Avro binary encoding of the value. Schemas are registered under
 * `<topic>-value` (TopicNameStrategy) with BACKWARD_TRANSITIVE compatibility.
 *
 * Decoding resolves the writer's schema (fetched by id, cached) into the reader's record with
 * an explicit avsc resolver, cached per (writer id, reader record): never the registry client's
 * `readerSchema` option, which re-parses the reader schema on every call.
 *
 * Values: a plain `long` is a `bigint` (exact int64); a `timestamp-millis` long is a number of
 * milliseconds, exact for |ms| ≤ 2^53 − 1 (about year 287396); later times fail to encode
 * (HETU_SERDE_INVALID_VALUE) or decode (HETU_SERDE_INVALID_DATA), never rounded.
 */
import { parseAvroSchema } from './avro.ts';
import type { AvroResolver, AvroType } from './avro.ts';
import { SerdeError } from './errors.ts';
import type { RecordName, RecordTypes } from './generated/records.ts';
import { isRecordName, recordSchemaText, recordType } from './records.ts';
import type { SchemaRegistryClient } from './registry-client.ts';

export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;
/**
 * The largest value hetu decodes: 1 MiB, Kafka's default `max.message.bytes`. Collectors cap log
 * lines at 16 KiB and the Kafka adapter sends well below this, so a larger value is not one of
 * ours: it is dead-lettered (HETU_SERDE_OVERSIZE) before any parsing, whatever it holds.
 */
export const MAX_VALUE_BYTES = 1024 * 1024;

function checkSize(buffer: Uint8Array): void {
  if (buffer.length > MAX_VALUE_BYTES) {
    throw new SerdeError(
      'HETU_SERDE_OVERSIZE',
      `The value is ${buffer.length} bytes, more than the ${MAX_VALUE_BYTES} bytes any hetu record may be, so it was not decoded; find the producer that wrote it (key and headers are kept in the dead letter).`,
    );
  }
}

/** The subject a topic's value schemas are registered under (TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** Reads the schema id from a value in the Confluent wire format; throws SerdeError on a bad header. */
export function readSchemaId(buffer: Uint8Array): number {
  if (buffer.length === 0) {
    throw new SerdeError(
      'HETU_SERDE_TRUNCATED',
      'The value is empty, so it holds no Confluent wire-format header.',
    );
  }
  if (buffer[0] !== MAGIC_BYTE) {
    throw new SerdeError(
      'HETU_SERDE_BAD_MAGIC',
      `The value starts with byte 0x${(buffer[0] as number).toString(16).padStart(2, '0')} instead of the Confluent wire format's magic byte 0x00, so no schema-registry serializer wrote it.`,
    );
  }
  if (buffer.length < WIRE_HEADER_BYTES) {
    throw new SerdeError(
      'HETU_SERDE_TRUNCATED',
      `The value is ${buffer.length} bytes long, shorter than the 5-byte Confluent wire-format header.`,
    );
  }
  // Big-endian int32 from the bytes (a DataView per value would be an allocation per record).
  return (buffer[1]! << 24) | (buffer[2]! << 16) | (buffer[3]! << 8) | buffer[4]!;
}

/** Prefixes an Avro body with the wire-format header for a schema id. */
export function frame(schemaId: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  out.set(body, WIRE_HEADER_BYTES);
  return out;
}

export interface WriterDecoded {
  readonly schemaId: number;
  /** Full Avro name of the writer's record, e.g. `dev.hetu.WatchObserved`. */
  readonly recordName: string | undefined;
  readonly value: unknown;
}

export interface Serde {
  /** Registers the record's schema under `<topic>-value` (once per process) and encodes the value. */
  encode<N extends RecordName>(topic: string, recordName: N, value: RecordTypes[N]): Promise<Buffer>;
  /** Decodes a wire-format value written with any registered version into the reader record. */
  decode<N extends RecordName>(buffer: Uint8Array, readerRecordName: N): Promise<RecordTypes[N]>;
  /** Decodes with the writer's own schema, for tools that print any topic (`hetu tail`, `dump`). */
  decodeWithWriterSchema(buffer: Uint8Array): Promise<WriterDecoded>;
  /** The id our record's schema has under `<topic>-value`, registering it when needed. */
  schemaIdFor(topic: string, recordName: RecordName): Promise<number>;
  /**
   * `decode` without a promise when the writer's schema is known (it was used before, or is our
   * own); undefined when it has to be fetched first. Throws as `decode` rejects.
   */
  decodeKnown<N extends RecordName>(buffer: Uint8Array, readerRecordName: N): RecordTypes[N] | undefined;
  /**
   * `encode` without a promise, once the id is known (after an `encode` or `schemaIdFor` of the
   * same topic and record resolved); undefined before. For loops over many values.
   */
  encodeKnown<N extends RecordName>(topic: string, recordName: N, value: RecordTypes[N]): Buffer | undefined;
}

function unknownRecord(name: string): SerdeError {
  return new SerdeError(
    'HETU_SERDE_UNKNOWN_RECORD',
    `There is no record named ${name} in schemas/avro, so it cannot be encoded or decoded.`,
  );
}

function decodeFailure(err: unknown, schemaId: number, readerName: string): SerdeError {
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'truncated buffer') {
    return new SerdeError(
      'HETU_SERDE_TRUNCATED',
      `The Avro body (schema id ${schemaId}) ends before a complete ${readerName} value.`,
      { cause: err },
    );
  }
  if (message === 'trailing data') {
    return new SerdeError(
      'HETU_SERDE_TRAILING_BYTES',
      `Bytes remain after a complete ${readerName} value (schema id ${schemaId}), so the value is not what that schema wrote.`,
      { cause: err },
    );
  }
  return new SerdeError(
    'HETU_SERDE_INVALID_DATA',
    `The Avro body (schema id ${schemaId}) is not a valid ${readerName} value: ${message}.`,
    { cause: err },
  );
}

function invalidPaths(type: AvroType, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[]) => {
      paths.push(path.join('.') || '(the value itself)');
    },
  });
  return paths;
}

/** Encoding scratch space: a value is written after the wire header, then copied out once. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** A value in the wire format for schema `id` (the record's own schema). */
function encodeFramed(id: number, recordName: RecordName, value: unknown): Buffer {
  const type = recordType(recordName);
  let end: number;
  try {
    end = type.encode(value, scratch, WIRE_HEADER_BYTES);
    if (end < 0) {
      // Too big for the scratch space (`encode` says by how much): grow it and write again.
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end + WIRE_HEADER_BYTES));
      end = type.encode(value, scratch, WIRE_HEADER_BYTES);
    }
  } catch (err) {
    const paths = invalidPaths(type, value);
    throw new SerdeError(
      'HETU_SERDE_INVALID_VALUE',
      `The value is not a valid dev.hetu.${recordName}: ${paths.length > 0 ? `invalid ${paths.join(', ')}` : (err as Error).message}.`,
      { cause: err },
    );
  }
  scratch[0] = MAGIC_BYTE;
  scratch.writeInt32BE(id, 1);
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
  return out;
}

/** What a reader uses for one writer: null means the schemas are the same, read directly. */
type ResolverEntry = { readonly resolver: AvroResolver | null } | { readonly error: SerdeError };

export function createSerde(registry: SchemaRegistryClient): Serde {
  /** `<topic>\0<record>` → id promise (dropped on failure so a later call retries). */
  const ids = new Map<string, Promise<number>>();
  /** topic → record → id, once registered: `encodeKnown` and `encode` look here first. */
  const known = new Map<string, Map<RecordName, number>>();
  const writerTypes = new Map<number, AvroType>();
  const writerFetches = new Map<number, Promise<AvroType>>();
  const resolvers = new Map<number, Map<RecordName, ResolverEntry>>();

  const schemaIdFor = (topic: string, recordName: RecordName): Promise<number> => {
    if (!isRecordName(recordName)) return Promise.reject(unknownRecord(String(recordName)));
    const key = `${topic}\0${recordName}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = registry.register(valueSubject(topic), recordSchemaText(recordName)).then((registered) => {
        // Our own schema is the writer schema of this id: decoding our writes needs no fetch.
        if (!writerTypes.has(registered)) writerTypes.set(registered, recordType(recordName));
        let byRecord = known.get(topic);
        if (byRecord === undefined) known.set(topic, (byRecord = new Map()));
        byRecord.set(recordName, registered);
        return registered;
      });
      ids.set(key, id);
      id.catch(() => ids.delete(key));
    }
    return id;
  };

  const writerType = (id: number): AvroType | Promise<AvroType> => {
    const known = writerTypes.get(id);
    if (known !== undefined) return known;
    let pending = writerFetches.get(id);
    if (pending === undefined) {
      pending = registry
        .schemaText(id)
        .then((text) => {
          let type: AvroType;
          try {
            type = parseAvroSchema(text);
          } catch (err) {
            throw new SerdeError(
              'HETU_SERDE_UNSUPPORTED_SCHEMA',
              `Schema id ${id} from ${registry.url} is not an Avro schema hetu can parse: ${(err as Error).message}.`,
              { cause: err },
            );
          }
          writerTypes.set(id, type);
          return type;
        })
        .finally(() => writerFetches.delete(id));
      writerFetches.set(id, pending);
    }
    return pending;
  };

  const resolverFor = (id: number, writer: AvroType, readerName: RecordName): AvroResolver | null => {
    let perWriter = resolvers.get(id);
    if (perWriter === undefined) {
      perWriter = new Map();
      resolvers.set(id, perWriter);
    }
    let entry = perWriter.get(readerName);
    if (entry === undefined) {
      const reader = recordType(readerName);
      // Same canonical form (names, fields, types, order): the bytes read the same with the reader's own type.
      if (writer === reader || writer.equals(reader)) {
        entry = { resolver: null };
      } else {
        try {
          entry = { resolver: reader.createResolver(writer) };
        } catch (err) {
          entry = {
            error: new SerdeError(
              'HETU_SERDE_INCOMPATIBLE_SCHEMA',
              `Schema id ${id} (${writer.name ?? 'unnamed'}) cannot be read as dev.hetu.${readerName}: ${(err as Error).message}.`,
              { cause: err },
            ),
          };
        }
      }
      perWriter.set(readerName, entry);
    }
    if ('error' in entry) throw entry.error;
    return entry.resolver;
  };

  /** The body of a wire-format value read as `readerName`, its writer's schema known. */
  const decodeWith = <N extends RecordName>(
    buffer: Uint8Array,
    id: number,
    writer: AvroType,
    readerName: N,
  ): RecordTypes[N] => {
    const resolver = resolverFor(id, writer, readerName);
    const reader = recordType(readerName);
    const body = Buffer.from(
      buffer.buffer,
      buffer.byteOffset + WIRE_HEADER_BYTES,
      buffer.length - WIRE_HEADER_BYTES,
    );
    try {
      return (
        resolver === null ? reader.fromBuffer(body) : reader.fromBuffer(body, resolver)
      ) as RecordTypes[N];
    } catch (err) {
      throw decodeFailure(err, id, `dev.hetu.${readerName}`);
    }
  };

  return {
    schemaIdFor,

    async encode(topic, recordName, value) {
      const id = known.get(topic)?.get(recordName) ?? (await schemaIdFor(topic, recordName));
      return encodeFramed(id, recordName, value);
    },

    encodeKnown(topic, recordName, value) {
      const id = known.get(topic)?.get(recordName);
      return id === undefined ? undefined : encodeFramed(id, recordName, value);
    },

    async decode(buffer, readerRecordName) {
      if (!isRecordName(readerRecordName)) throw unknownRecord(String(readerRecordName));
      checkSize(buffer);
      const id = readSchemaId(buffer);
      return decodeWith(buffer, id, await writerType(id), readerRecordName);
    },

    decodeKnown(buffer, readerRecordName) {
      if (!isRecordName(readerRecordName)) throw unknownRecord(String(readerRecordName));
      checkSize(buffer);
      const id = readSchemaId(buffer);
      const writer = writerTypes.get(id);
      return writer === undefined ? undefined : decodeWith(buffer, id, writer, readerRecordName);
    },

    async decodeWithWriterSchema(buffer) {
      checkSize(buffer);
      const id = readSchemaId(buffer);
      const writer = await writerType(id);
      const body = Buffer.from(
        buffer.buffer,
        buffer.byteOffset + WIRE_HEADER_BYTES,
        buffer.length - WIRE_HEADER_BYTES,
      );
      try {
        return { schemaId: id, recordName: writer.name, value: writer.fromBuffer(body) as unknown };
      } catch (err) {
        throw decodeFailure(err, id, writer.name ?? `schema id ${id}`);
      }
    },
  };
}
