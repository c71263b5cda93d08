import { describe, expect, it } from 'vitest';
import { parseAvroSchema, schemaText } from './avro.ts';
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
