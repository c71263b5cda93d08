import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { internedUtf8, parseAvroSchema, schemaText } from './avro.ts';
import { checkCompatibility } from './compatibility.ts';

const rec = (fields: unknown[]): string =>
  JSON.stringify({ type: 'record', name: 'R', namespace: 't', fields });
const TS = { type: 'long', logicalType: 'timestamp-millis' };

describe('hetu long handling', () => {
  it('reads a plain long as an exact bigint, in and out of unions and maps', () => {
    const type = parseAvroSchema(
      rec([
        { name: 'a', type: 'long' },
        { name: 'b', type: ['null', 'long'] },
        { name: 'c', type: { type: 'map', values: { type: 'long' } } },
      ]),
    );
    const value = { a: -(2n ** 63n), b: 2n ** 63n - 1n, c: { x: 123_456_789_012_345_678n } };
    expect({ ...type.fromBuffer(type.toBuffer(value)) }).toEqual(value);
    expect(type.isValid({ ...value, a: 2n ** 63n })).toBe(false);
    expect(type.isValid({ ...value, a: 5 })).toBe(false);
  });

  it('resolves timestamp-millis and plain long into each other exactly', () => {
    const asMs = parseAvroSchema(rec([{ name: 'ts', type: TS }]));
    const asLong = parseAvroSchema(rec([{ name: 'ts', type: 'long' }]));
    const asInt = parseAvroSchema(rec([{ name: 'ts', type: 'int' }]));
    expect({
      ...asMs.fromBuffer(asLong.toBuffer({ ts: -(2n ** 52n) - 1n }), asMs.createResolver(asLong)),
    }).toEqual({
      ts: -(2 ** 52) - 1,
    });
    expect({
      ...asLong.fromBuffer(asMs.toBuffer({ ts: 1_795_680_000_000 }), asLong.createResolver(asMs)),
    }).toEqual({
      ts: 1_795_680_000_000n,
    });
    expect({ ...asMs.fromBuffer(asInt.toBuffer({ ts: -5 }), asMs.createResolver(asInt)) }).toEqual({
      ts: -5,
    });
    // A timestamp in a nullable union picks its branch by value.
    const nullable = parseAvroSchema(rec([{ name: 'ts', type: ['null', TS] }]));
    expect({ ...nullable.fromBuffer(nullable.toBuffer({ ts: 7 })) }).toEqual({ ts: 7 });
    expect({ ...nullable.fromBuffer(nullable.toBuffer({ ts: null })) }).toEqual({ ts: null });
  });

  it('stores schema text compactly and keeps doc, default and logicalType', () => {
    expect(
      schemaText(
        '{ "type": "record", "name": "R", "fields": [ { "name": "a", "type": "int", "default": 1, "doc": "d" } ] }',
      ),
    ).toBe('{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1,"doc":"d"}]}');
  });
});

describe('strings and maps read through the intern table', () => {
  type Slicer = Parameters<typeof internedUtf8>[0];
  /** Deterministic bytes: ASCII names, multi-byte UTF-8 and invalid sequences, 0–80 bytes. */
  function samples(n: number): Buffer[] {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const len = Math.floor(next() * 81);
      const kind = next();
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++)
        b[j] =
          kind < 0.6
            ? 97 + Math.floor(next() * 26) // ascii
            : kind < 0.8
              ? [0xc3, 0xa9, 0xe2, 0x82, 0xac][j % 5]! // é € (cut anywhere: partial sequences too)
              : Math.floor(next() * 256); // anything, invalid UTF-8 included
      out.push(b);
    }
    return out;
  }

  it('gives the string utf8Slice gives, for every byte string, seen before or not, in any slot', () => {
    // More than the table's 8 192 slots, so slots are overwritten; and 20 000 names of one length
    // differing only in their last characters, so many share a slot and all but the end.
    const similar = Array.from({ length: 20_000 }, (_, i) =>
      Buffer.from(`checkout-7d9f8c-${String(i).padStart(5, '0')}`),
    );
    const all = [...samples(30_000), ...similar];
    for (let round = 0; round < 2; round++)
      for (const [i, b] of all.entries()) {
        // At an offset inside a larger buffer, as a record's field is.
        const host = Buffer.concat([Buffer.from([i & 255, 1, 2]), b, Buffer.from([9])]);
        expect(internedUtf8(host as Slicer, 3, b.length)).toBe(b.toString('utf8'));
      }
  });

  it('decodes records, maps (one block or several, counted negative or not) and unions as avsc does', () => {
    const schema = {
      type: 'record',
      name: 'R',
      namespace: 't',
      fields: [
        { name: 's', type: 'string' },
        { name: 'm', type: { type: 'map', values: 'string' } },
        { name: 'u', type: ['null', 'string'] },
        { name: 'a', type: { type: 'array', items: 'string' } },
        { name: 'n', type: { type: 'map', values: { type: 'map', values: 'int' } } },
      ],
    };
    const ours = parseAvroSchema(schema);
    const plain = avro.Type.forSchema(schema as avro.Schema);
    const texts = samples(400).map((b) => b.toString('utf8'));
    for (let i = 0; i + 4 < texts.length; i += 4) {
      const value = {
        s: texts[i]!,
        m: { [texts[i + 1]!]: texts[i + 2]!, namespace: texts[i + 3]!, pod: 'api-1' },
        u: i % 8 === 0 ? null : texts[i + 1]!,
        a: [texts[i + 2]!, 'x'],
        n: { outer: { [texts[i + 3]!]: i } },
      };
      const buf = plain.toBuffer(value);
      expect({ ...ours.fromBuffer(buf) }).toEqual({ ...plain.fromBuffer(buf) });
    }
    // A map written in two blocks, the second with a negative count and its size in bytes.
    const mapOnly = { type: 'map', values: 'string' } as const;
    const entry = (k: string, v: string) =>
      Buffer.concat([avro.Type.forSchema('string').toBuffer(k), avro.Type.forSchema('string').toBuffer(v)]);
    const e1 = entry('a', 'x');
    const e2 = Buffer.concat([entry('b', 'y'), entry('c', 'z')]);
    const long = avro.Type.forSchema('long');
    const blocks = Buffer.concat([
      long.toBuffer(1),
      e1,
      long.toBuffer(-2),
      long.toBuffer(e2.length),
      e2,
      long.toBuffer(0),
    ]);
    expect(parseAvroSchema(mapOnly).fromBuffer(blocks)).toEqual({ a: 'x', b: 'y', c: 'z' });
    expect(parseAvroSchema(mapOnly).fromBuffer(blocks)).toEqual(
      avro.Type.forSchema(mapOnly).fromBuffer(blocks),
    );
  });

  it('fails on a truncated string or map as avsc does', () => {
    const schema = rec([
      { name: 's', type: 'string' },
      { name: 'm', type: { type: 'map', values: 'string' } },
    ]);
    const ours = parseAvroSchema(schema);
    const plain = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
    const buf = plain.toBuffer({ s: 'hello', m: { namespace: 'shop' } });
    for (let cut = 0; cut < buf.length; cut++) {
      const part = buf.subarray(0, cut);
      expect(() => plain.fromBuffer(part)).toThrow();
      expect(() => ours.fromBuffer(part)).toThrow('truncated buffer');
    }
  });

  it('reads a map of an older writer through a resolver (keys and values as written)', () => {
    const writer = parseAvroSchema(rec([{ name: 'm', type: { type: 'map', values: 'string' } }]));
    const reader = parseAvroSchema(
      rec([
        { name: 'm', type: { type: 'map', values: 'string' } },
        { name: 'extra', type: 'string', default: 'd' },
      ]),
    );
    const buf = writer.toBuffer({ m: { pod: 'api-1', container: 'c' } });
    expect({ ...reader.fromBuffer(buf, reader.createResolver(writer)) }).toEqual({
      m: { pod: 'api-1', container: 'c' },
      extra: 'd',
    });
  });
});

describe('checkCompatibility', () => {
  const v1 = rec([{ name: 'x', type: 'int' }]);
  const v2 = rec([]);
  const v3 = rec([{ name: 'x', type: 'string', default: '' }]);
  const addRequired = rec([
    { name: 'x', type: 'int' },
    { name: 'y', type: 'string' },
  ]);
  const history = [
    { version: 1, schema: v1 },
    { version: 2, schema: v2 },
  ];

  it('decides each level with avsc resolvers', () => {
    const verdict = (
      candidate: string,
      earlier: typeof history,
      level: Parameters<typeof checkCompatibility>[2],
    ) => checkCompatibility(candidate, earlier, level).compatible;
    expect(verdict(v3, history, 'BACKWARD')).toBe(true);
    expect(verdict(v3, history, 'BACKWARD_TRANSITIVE')).toBe(false);
    expect(verdict(v3, history, 'NONE')).toBe(true);
    expect(verdict(addRequired, [{ version: 1, schema: v1 }], 'BACKWARD')).toBe(false);
    expect(verdict(addRequired, [{ version: 1, schema: v1 }], 'FORWARD')).toBe(true);
    expect(verdict(addRequired, [{ version: 1, schema: v1 }], 'FULL')).toBe(false);
    expect(verdict(v2, [{ version: 1, schema: v1 }], 'FULL')).toBe(false);
    expect(verdict(v1, [], 'FULL_TRANSITIVE')).toBe(true);
  });

  it('names the versions a candidate cannot read', () => {
    expect(checkCompatibility(v3, history, 'BACKWARD_TRANSITIVE').messages).toEqual([
      'the new schema cannot read data written with version 1: cannot read "int" as "string"',
    ]);
  });
});
