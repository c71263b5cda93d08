import { HetuError, isBundle, unbundle, type Log, type LogRecord } from '@hetu/streams';
import { MAGIC_BYTE, recordType, topicEntry, type AvroType, type Serde } from '@hetu/schemas';

/** A record as the CLI prints and reads it (JSON Lines for dump/load, rows for tail). */
export interface PrintedRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  /** The decoded value: Avro as plain JSON, JSON text as JSON, other bytes as {"$base64": "..."}. */
  value: unknown;
  /** Schema id and record name, for Avro values. */
  schema?: { id: number; record: string | undefined };
  headers?: Record<string, string>;
}

export async function describeTopic(log: Log, topic: string) {
  const [info] = await log.describeTopics([topic]);
  if (!info)
    throw new HetuError(
      'HETU_LOG_UNKNOWN_TOPIC',
      `Topic ${topic} does not exist: list the topics with 'hetu topics' (or create the catalogue's with 'hetu topics --create').`,
    );
  return info;
}

/** Decodes a value for printing: Confluent wire format through the registry, else JSON, else base64. */
export async function decodeValue(
  serde: Serde,
  value: Buffer | null,
): Promise<Pick<PrintedRecord, 'value' | 'schema'>> {
  if (value === null) return { value: null };
  if (value.length >= 5 && value[0] === MAGIC_BYTE) {
    try {
      const d = await serde.decodeWithWriterSchema(value);
      return { value: plain(d.value), schema: { id: d.schemaId, record: d.recordName } };
    } catch (err) {
      if ((err as { transient?: boolean }).transient) throw err;
      // Not Avro after all: fall through.
    }
  }
  const text = value.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(value)) {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return { value: text };
    }
  }
  return { value: { $base64: value.toString('base64') } };
}

/**
 * A bundle's records (docs/schemas.md, "Bundled records") as `{"$bundle": [{value, schema?,
 * headers}]}`, each value decoded as `decodeValue` does; one that cannot be read, as base64 with
 * the reason.
 */
async function bundleValue(serde: Serde, r: LogRecord): Promise<Pick<PrintedRecord, 'value'>> {
  let records: LogRecord[];
  try {
    records = unbundle(r);
  } catch (err) {
    return { value: { $base64: r.value?.toString('base64') ?? '', error: (err as Error).message } };
  }
  const out = [];
  for (const u of records) {
    const d = await decodeValue(serde, u.value);
    out.push({ ...d, headers: headerTexts(u.headers) });
  }
  return { value: { $bundle: out } };
}

/** Header values as UTF-8 text, as the CLI prints them. */
function headerTexts(headers: Readonly<Record<string, Buffer>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.toString('utf8')]));
}

/** Avro record instances → plain JSON values (bigint as string, bytes as base64). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return { $base64: v.toString('base64') };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

export async function printable(serde: Serde, r: LogRecord): Promise<PrintedRecord> {
  const decoded = isBundle(r) ? await bundleValue(serde, r) : await decodeValue(serde, r.value);
  const headers = Object.keys(r.headers).length ? headerTexts(r.headers) : undefined;
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    timestamp: new Date(r.timestamp).toISOString(),
    key: r.key === null ? null : r.key.toString('utf8'),
    ...decoded,
    ...(headers ? { headers } : {}),
  };
}

/** Encodes a value for load: the catalogue's Avro record when the topic has one, else JSON/raw. */
export async function encodeValue(serde: Serde, topic: string, value: unknown): Promise<Buffer | null> {
  if (value === null) return null;
  let entry;
  try {
    entry = topicEntry(topic);
  } catch {
    entry = undefined;
  }
  if (entry?.valueSchema)
    return serde.encode(topic, entry.valueSchema, fromPlain(recordType(entry.valueSchema), value) as never);
  if (value && typeof value === 'object' && '$base64' in value)
    return Buffer.from(String((value as { $base64: string }).$base64), 'base64');
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

/**
 * Plain JSON (as `dump` writes it) → the values avsc expects for a type: exact longs as bigint,
 * unions by the first branch the value fits, bytes from {"$base64": ...}.
 */
export function fromPlain(type: AvroType, v: unknown): unknown {
  const t = type as AvroType & {
    typeName: string;
    fields?: { name: string; type: AvroType; defaultValue(): unknown }[];
    types?: AvroType[];
    itemsType?: AvroType;
    valuesType?: AvroType;
  };
  switch (t.typeName) {
    case 'record':
    case 'error': {
      const obj = (v ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of t.fields ?? [])
        out[f.name] = f.name in obj ? fromPlain(f.type, obj[f.name]) : f.defaultValue();
      return out;
    }
    case 'union:unwrapped':
    case 'union:wrapped':
      for (const branch of t.types ?? []) {
        const c = fromPlain(branch, v);
        if (branch.isValid(c)) return c;
      }
      return v;
    case 'array':
      return Array.isArray(v) ? v.map((x) => fromPlain(t.itemsType!, x)) : v;
    case 'map':
      return v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromPlain(t.valuesType!, x)]))
        : v;
    case 'long': {
      if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'bigint') return v;
      for (const cand of [v, Number(v), /^-?\d+$/.test(String(v)) ? BigInt(v) : undefined])
        if (type.isValid(cand)) return cand;
      return v;
    }
    case 'bytes':
    case 'fixed':
      return v && typeof v === 'object' && '$base64' in v
        ? Buffer.from(String((v as { $base64: string }).$base64), 'base64')
        : v;
    default:
      return v;
  }
}
