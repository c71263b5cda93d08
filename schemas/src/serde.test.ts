import http from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAvroSchema } from './avro.ts';
import { startEmbeddedRegistry } from './embedded-registry.ts';
import type { EmbeddedRegistry } from './embedded-registry.ts';
import { isBadInput } from './errors.ts';
import { CommandSchema } from './generated/Command.ts';
import type { Command } from './generated/Command.ts';
import type { DeadLetter } from './generated/DeadLetter.ts';
import type { RecordName } from './generated/records.ts';
import type { WatchObserved } from './generated/WatchObserved.ts';
import { recordType } from './records.ts';
import { createRegistryClient } from './registry-client.ts';
import type { SchemaRegistryClient } from './registry-client.ts';
import { createMemorySchemaStore } from './schema-store.ts';
import { MAX_VALUE_BYTES, createSerde, frame, readSchemaId } from './serde.ts';

const command: Command = {
  id: 'c',
  ts: 1000,
  issuer: 'i',
  type: 't',
  targetIds: ['g'],
  payload: '{}',
};

const watch: WatchObserved = {
  ts: 1_795_680_000_000,
  cluster: 'demo',
  type: 'ADDED',
  apiVersion: 'v1',
  kind: 'Pod',
  namespace: 'shop',
  name: 'api-7d9f-x2',
  uid: 'u-1',
  resourceVersion: '42',
  detail: null,
  object: '{"kind":"Pod"}',
};

const deadLetter = (over: Partial<DeadLetter>): DeadLetter => ({
  ts: 1_795_680_000_000,
  processor: 'errors',
  reasonCode: 'HETU_SERDE_BAD_MAGIC',
  message: 'The value starts with byte 0x01.',
  sourceTopic: 'hetu.raw.logs',
  sourcePartition: 2,
  sourceOffset: 0n,
  sourceTimestamp: null,
  sourceFile: null,
  sourceLine: null,
  key: Buffer.from('k'),
  value: Buffer.from([1, 2, 3]),
  headers: { trace: Buffer.from('abc') },
  ...over,
});

async function failure(
  promise: Promise<unknown>,
): Promise<{ code?: string; message: string; transient?: boolean }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string; transient?: boolean };
  }
  throw new Error('expected a rejection');
}

/** The registry wrapper with a count of writer-schema fetches. */
function counting(registry: SchemaRegistryClient): SchemaRegistryClient & { fetches: number[] } {
  const fetches: number[] = [];
  return {
    ...registry,
    url: registry.url,
    fetches,
    schemaText: (id) => {
      fetches.push(id);
      return registry.schemaText(id);
    },
  };
}

describe('serde (Confluent wire format) against the embedded registry', () => {
  let registry: EmbeddedRegistry;
  let store: ReturnType<typeof createMemorySchemaStore>;
  let n = 0;
  const topic = (): string => `hetu.test.serde-${++n}`;

  beforeAll(async () => {
    store = createMemorySchemaStore();
    registry = await startEmbeddedRegistry({ store });
  });
  afterAll(() => registry.close());
  afterEach(() => vi.restoreAllMocks());

  it('writes magic byte 0, the 4-byte big-endian schema id and the Avro binary body', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    const bytes = await serde.encode(t, 'Command', command);
    const id = await serde.schemaIdFor(t, 'Command');
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    expect(bytes.subarray(0, 5)).toEqual(header);
    // id "c", ts 1000 (zigzag varint d0 0f), issuer "i", type "t", targetIds ["g"], payload "{}".
    expect(bytes.subarray(5).toString('hex')).toBe('0263d00f026902740202670004' + '7b7d');
  });

  it('encodes without a promise once the id is known, to the same bytes, and grows past 64 KiB', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    expect(serde.encodeKnown(t, 'WatchObserved', watch)).toBeUndefined();
    const bytes = await serde.encode(t, 'WatchObserved', watch);
    expect(serde.encodeKnown(t, 'WatchObserved', watch)).toEqual(bytes);
    // Another record on the same topic has its own id: not known yet.
    expect(serde.encodeKnown(t, 'Command', command)).toBeUndefined();
    const big = { ...watch, object: JSON.stringify({ kind: 'Pod', pad: 'x'.repeat(200_000) }) };
    const bigBytes = serde.encodeKnown(t, 'WatchObserved', big)!;
    expect(await serde.decode(bigBytes, 'WatchObserved')).toEqual(big);
    // The scratch space it grew into is not shared with what it returned.
    const again = serde.encodeKnown(t, 'WatchObserved', watch)!;
    expect(again).toEqual(bytes);
    expect(await serde.decode(bigBytes, 'WatchObserved')).toEqual(big);
    expect(() => serde.encodeKnown(t, 'WatchObserved', { ...watch, name: 7 } as never)).toThrow(
      /not a valid dev\.hetu\.WatchObserved: invalid name/,
    );
  });

  it('decodes without a promise once the writer schema is known, as decode does', async () => {
    const writer = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    const bytes = await writer.encode(t, 'WatchObserved', watch);
    // Another process: the id is not its own schema's until fetched once.
    const reader = createSerde(createRegistryClient({ url: registry.url }));
    expect(reader.decodeKnown(bytes, 'WatchObserved')).toBeUndefined();
    expect(await reader.decode(bytes, 'WatchObserved')).toEqual(watch);
    expect(reader.decodeKnown(bytes, 'WatchObserved')).toEqual(watch);
    // The writer knows its own schema from the start.
    expect(writer.decodeKnown(bytes, 'WatchObserved')).toEqual(watch);
    expect(() => writer.decodeKnown(bytes.subarray(0, bytes.length - 3), 'WatchObserved')).toThrow(
      /ends before a complete dev\.hetu\.WatchObserved/,
    );
  });

  it('registers under <topic>-value, setting BACKWARD_TRANSITIVE before the first version', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    await serde.encode(t, 'Command', command);
    const forSubject = store.entries.filter((e) => e.subject === `${t}-value`);
    expect(
      forSubject.map((e) => (e.kind === 'config' ? `config ${e.compatibility}` : `schema v${e.version}`)),
    ).toEqual(['config BACKWARD_TRANSITIVE', 'schema v1']);
  });

  it('round-trips every field kind, keeping plain longs exact as bigint', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    const values = [
      deadLetter({ sourceOffset: 2n ** 63n - 1n, sourceLine: 2n ** 53n + 1n }),
      deadLetter({
        sourceOffset: -(2n ** 63n),
        sourceTopic: null,
        sourcePartition: null,
        key: null,
        value: null,
        headers: {},
      }),
    ];
    for (const value of values) {
      const decoded = await createSerde(createRegistryClient({ url: registry.url })).decode(
        await serde.encode(t, 'DeadLetter', value),
        'DeadLetter',
      );
      expect({ ...decoded }).toEqual(value);
    }
    const decoded = await serde.decode(
      await serde.encode(t, 'DeadLetter', values[0] as DeadLetter),
      'DeadLetter',
    );
    expect(typeof decoded.sourceOffset).toBe('bigint');
    expect(decoded.sourceOffset).toBe(9_223_372_036_854_775_807n);
    expect(decoded.sourceLine).toBe(9_007_199_254_740_993n);
  });

  it('keeps timestamp-millis as a number of ms, exact up to ±(2^53 − 1) ms (year 287396), and refuses later times', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    for (const ts of [
      0,
      -1,
      8_640_000_000_000_000,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      -(2 ** 52) - 1,
    ]) {
      const decoded = await serde.decode(await serde.encode(t, 'Command', { ...command, ts }), 'Command');
      expect(decoded.ts).toBe(ts);
    }
    const tooLate = await failure(serde.encode(t, 'Command', { ...command, ts: 2 ** 53 }));
    expect(tooLate.code).toBe('HETU_SERDE_INVALID_VALUE');
    expect(tooLate.message).toBe('The value is not a valid dev.hetu.Command: invalid ts.');

    // Bytes from a writer with an exact int64 beyond 2^53 ms (e.g. a JVM producer): refused, not rounded.
    const id = await serde.schemaIdFor(t, 'Command');
    const asLong = parseAvroSchema({
      ...CommandSchema,
      fields: CommandSchema.fields.map((f) => (f.name === 'ts' ? { ...f, type: 'long' } : f)),
    });
    const bytes = frame(id, asLong.toBuffer({ ...command, ts: 2n ** 60n }));
    const err = await failure(serde.decode(bytes, 'Command'));
    expect(err.code).toBe('HETU_SERDE_INVALID_DATA');
    expect(err.message).toBe(
      `The Avro body (schema id ${id}) is not a valid dev.hetu.Command value: timestamp 1152921504606846976 ms is beyond ±(2^53 − 1) ms and cannot be a JS number exactly.`,
    );
  });

  it('refuses a wrong magic byte as bad input', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const err = await failure(serde.decode(Buffer.from([1, 0, 0, 0, 1, 2, 0x63]), 'Command'));
    expect(err).toMatchObject({
      code: 'HETU_SERDE_BAD_MAGIC',
      transient: false,
      message:
        "The value starts with byte 0x01 instead of the Confluent wire format's magic byte 0x00, so no schema-registry serializer wrote it.",
    });
    expect(isBadInput(err)).toBe(true);
  });

  it('refuses a value over 1 MiB as oversize before reading it, and decodes one at the limit', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const id = await serde.schemaIdFor('hetu.commands', 'Command');
    const big = frame(id, Buffer.alloc(MAX_VALUE_BYTES - 4, 0x61));
    for (const decode of [() => serde.decode(big, 'Command'), () => serde.decodeWithWriterSchema(big)]) {
      const err = await failure(decode());
      expect(err).toMatchObject({ code: 'HETU_SERDE_OVERSIZE', transient: false });
      expect((err as Error).message).toContain(
        `${MAX_VALUE_BYTES + 1} bytes, more than the ${MAX_VALUE_BYTES}`,
      );
      expect(isBadInput(err)).toBe(true);
    }
    // At the limit the size check passes and the body is read (here: not a Command, so invalid data).
    const atLimit = frame(id, Buffer.alloc(MAX_VALUE_BYTES - 5, 0x61));
    expect((await failure(serde.decode(atLimit, 'Command'))).code).not.toBe('HETU_SERDE_OVERSIZE');
  });

  it('refuses values shorter than the header as truncated', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    expect(await failure(serde.decode(Buffer.alloc(0), 'Command'))).toMatchObject({
      code: 'HETU_SERDE_TRUNCATED',
      message: 'The value is empty, so it holds no Confluent wire-format header.',
    });
    for (const length of [1, 2, 3, 4]) {
      expect(await failure(serde.decode(Buffer.alloc(length), 'Command'))).toMatchObject({
        code: 'HETU_SERDE_TRUNCATED',
        message: `The value is ${length} bytes long, shorter than the 5-byte Confluent wire-format header.`,
      });
    }
  });

  it('refuses every truncation of a body as truncated, and extra bytes as trailing', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const t = topic();
    const bytes = await serde.encode(t, 'WatchObserved', watch);
    const codes = new Set<string | undefined>();
    for (let length = 5; length < bytes.length; length++) {
      codes.add((await failure(serde.decode(bytes.subarray(0, length), 'WatchObserved'))).code);
    }
    expect([...codes]).toEqual(['HETU_SERDE_TRUNCATED']);
    const trailing = await failure(serde.decode(Buffer.concat([bytes, Buffer.from([0])]), 'WatchObserved'));
    expect(trailing.code).toBe('HETU_SERDE_TRAILING_BYTES');
  });

  it('refuses malformed Avro (an enum index out of range) as invalid data', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const id = await serde.schemaIdFor(topic(), 'WatchObserved');
    // ts 0, cluster "c", then enum index 9 (zigzag 0x12): WatchEventType has 7 symbols.
    const err = await failure(
      serde.decode(frame(id, Buffer.from([0x00, 0x02, 0x63, 0x12])), 'WatchObserved'),
    );
    expect(err).toMatchObject({
      code: 'HETU_SERDE_INVALID_DATA',
      message: `The Avro body (schema id ${id}) is not a valid dev.hetu.WatchObserved value: invalid dev.hetu.WatchEventType enum index: 9.`,
    });
  });

  it('reads back every schema id frame writes, from a slice at any offset', () => {
    for (const id of [0, 1, 255, 256, 65_536, 0x12345678, 0x7fffffff, -1, -0x80000000]) {
      const framed = frame(id, Buffer.from([1, 2]));
      const big = Buffer.concat([Buffer.from([0xff, 0xff]), framed]);
      expect(readSchemaId(framed)).toBe(id);
      expect(readSchemaId(big.subarray(2))).toBe(id);
    }
  });

  it('decodes the same bytes from a buffer slice at any offset', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const bytes = await serde.encode(topic(), 'WatchObserved', watch);
    const big = Buffer.concat([Buffer.from([9, 9, 9]), bytes, Buffer.from([7])]);
    const slice = big.subarray(3, 3 + bytes.length);
    expect(readSchemaId(slice)).toBe(readSchemaId(bytes));
    expect({ ...(await serde.decode(slice, 'WatchObserved')) }).toEqual(watch);
  });

  it('refuses to read a writer schema as an incompatible reader, once per (writer, reader)', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const bytes = await serde.encode(topic(), 'Command', command);
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    const first = await failure(serde.decode(bytes, 'WatchObserved'));
    expect(first.code).toBe('HETU_SERDE_INCOMPATIBLE_SCHEMA');
    expect(first.message).toMatch(
      /^Schema id \d+ \(dev\.hetu\.Command\) cannot be read as dev\.hetu\.WatchObserved: /,
    );
    const calls = spy.mock.calls.length;
    expect(calls).toBeGreaterThan(0);
    expect((await failure(serde.decode(bytes, 'WatchObserved'))).code).toBe('HETU_SERDE_INCOMPATIBLE_SCHEMA');
    expect(spy.mock.calls.length).toBe(calls);
  });

  it('fetches a writer schema once per id and builds one resolver per (writer id, reader record)', async () => {
    const url = registry.url;
    const t = topic();
    // Another process wrote with an older version of Command (no payload field yet).
    const old = {
      ...CommandSchema,
      fields: CommandSchema.fields.filter((f) => f.name !== 'payload'),
    };
    const oldId = await createRegistryClient({ url }).register(`${t}-value`, JSON.stringify(old));
    const oldType = parseAvroSchema(old);
    const records = Array.from({ length: 100 }, (_, i) =>
      frame(oldId, oldType.toBuffer({ ...command, id: `c-${i}` })),
    );

    const client = counting(createRegistryClient({ url }));
    const serde = createSerde(client);
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    // Ten concurrent first decodes share one fetch.
    const firstTen = await Promise.all(records.slice(0, 10).map((r) => serde.decode(r, 'Command')));
    const resolverCalls = spy.mock.calls.length;
    expect(resolverCalls).toBeGreaterThan(0);
    const rest = [];
    for (const r of records.slice(10)) rest.push(await serde.decode(r, 'Command'));
    expect(client.fetches).toEqual([oldId]);
    expect(spy.mock.calls.length).toBe(resolverCalls);
    expect([...firstTen, ...rest].map((c) => c.id)).toEqual(records.map((_, i) => `c-${i}`));
    expect(rest[0]?.payload).toBe('{}'); // the reader's default for a field the writer did not have

    // Our own writes need no fetch: the registered id's schema is already known.
    await serde.decode(await serde.encode(t, 'Command', command), 'Command');
    expect(client.fetches).toEqual([oldId]);
  });

  it('decodes with the writer schema alone, for tools that print any topic', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const bytes = await serde.encode(topic(), 'Command', command);
    const decoded = await createSerde(createRegistryClient({ url: registry.url })).decodeWithWriterSchema(
      bytes,
    );
    expect({ ...decoded, value: { ...(decoded.value as object) } }).toEqual({
      schemaId: readSchemaId(bytes),
      recordName: 'dev.hetu.Command',
      value: command,
    });
  });

  it('names unknown records and invalid values as programming errors', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const unknown = await failure(serde.encode(topic(), 'Nope' as RecordName, command as never));
    expect(unknown).toMatchObject({
      code: 'HETU_SERDE_UNKNOWN_RECORD',
      message: 'There is no record named Nope in schemas/avro, so it cannot be encoded or decoded.',
    });
    const invalid = await failure(
      serde.encode(topic(), 'Command', {
        ...command,
        targetIds: 'g' as unknown as string[],
        issuer: 7 as unknown as string,
      }),
    );
    expect(invalid).toMatchObject({
      code: 'HETU_SERDE_INVALID_VALUE',
      transient: false,
      message: 'The value is not a valid dev.hetu.Command: invalid issuer, targetIds.',
    });
    expect(isBadInput(invalid)).toBe(false);
  });

  it('reports an unknown schema id as bad input', async () => {
    const serde = createSerde(createRegistryClient({ url: registry.url }));
    const err = await failure(serde.decode(frame(777, Buffer.from([0])), 'Command'));
    expect(err).toMatchObject({
      code: 'HETU_SERDE_UNKNOWN_SCHEMA',
      transient: false,
      message: `Schema id 777 is not known to the schema registry at ${registry.url}, so the record cannot be decoded.`,
    });
    expect(isBadInput(err)).toBe(true);
  });

  it('recognises its own record type instances and parses once per process', () => {
    expect(recordType('Command')).toBe(recordType('Command'));
  });
});

describe('serde when the registry is unreachable or failing', () => {
  it('reports a closed port as a transient HETU_REGISTRY_UNREACHABLE, for decode and for encode, and recovers', async () => {
    const first = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const url = first.url;
    const port = Number(new URL(url).port);
    await first.close();

    const serde = createSerde(createRegistryClient({ url, retries: 0 }));
    const decodeErr = await failure(serde.decode(frame(1, Buffer.from([0])), 'Command'));
    expect(decodeErr.code).toBe('HETU_REGISTRY_UNREACHABLE');
    expect(decodeErr.transient).toBe(true);
    expect(isBadInput(decodeErr)).toBe(false);
    expect(decodeErr.message).toMatch(
      new RegExp(
        `^The schema registry at ${url} could not be reached to fetch schema id 1 \\(.+\\); start it or fix its URL, and hetu will retry\\.$`,
      ),
    );
    const encodeErr = await failure(serde.encode('hetu.commands', 'Command', command));
    expect(encodeErr).toMatchObject({ code: 'HETU_REGISTRY_UNREACHABLE', transient: true });

    // Failures are not cached: once the registry is back, the same serde works.
    const again = await startEmbeddedRegistry({ store: createMemorySchemaStore(), port });
    try {
      const bytes = await serde.encode('hetu.commands', 'Command', command);
      expect({ ...(await serde.decode(bytes, 'Command')) }).toEqual(command);
    } finally {
      await again.close();
    }
  });

  it('reports 5xx answers as transient and 401 as a refusal', async () => {
    let status = 503;
    const server = http.createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: status * 100, message: 'Store is down' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const serde = createSerde(createRegistryClient({ url, retries: 0 }));
      expect(await failure(serde.decode(frame(5, Buffer.from([0])), 'Command'))).toMatchObject({
        code: 'HETU_REGISTRY_UNREACHABLE',
        transient: true,
        message: `The schema registry at ${url} could not be reached to fetch schema id 5 (Store is down); start it or fix its URL, and hetu will retry.`,
      });
      status = 401;
      expect(await failure(serde.decode(frame(5, Buffer.from([0])), 'Command'))).toMatchObject({
        code: 'HETU_REGISTRY_UNAUTHORIZED',
        transient: false,
        message: `The schema registry at ${url} refused to fetch schema id 5 (HTTP 401): Store is down.`,
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
