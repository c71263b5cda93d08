import { describe, expect, it } from 'vitest';
import type { AppendRecord } from '@hetu/streams';
import { packBatch, unpackBatch } from './ingest-batch.ts';

describe('packed ingest batches', () => {
  it('carry keys, values and timestamps through one ArrayBuffer, absent ones too', () => {
    const records: AppendRecord[] = [
      {
        key: Buffer.from('prod/shop/api-1'),
        value: Buffer.from([0, 0, 0, 0, 1, 2, 3]),
        timestamp: 1_795_680_000_123,
      },
      { key: null, value: Buffer.from('tombstone-free'), timestamp: 0 },
      { key: Buffer.from('k'), value: null, timestamp: 5 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0) },
    ];
    const buf = packBatch(records);
    expect(buf).toBeInstanceOf(ArrayBuffer);
    const back = unpackBatch(buf);
    expect(back).toEqual(records);
    // No timestamp stays none (the log stamps it), not 0.
    expect('timestamp' in back[3]!).toBe(false);
    // Views into the one buffer, not copies.
    expect(back[0]!.value!.buffer).toBe(buf);
  });

  it('holds an empty batch', () => {
    expect(unpackBatch(packBatch([]))).toEqual([]);
  });

  it('refuses records with headers or a partition, which the ingest never writes', () => {
    expect(() => packBatch([{ key: null, value: null, headers: { a: Buffer.from('b') } }])).toThrow(
      /without headers/,
    );
    expect(() => packBatch([{ key: null, value: null, partition: 1 }])).toThrow(
      /without headers or partition/,
    );
  });

  it('refuses a batch with bytes after its last record', () => {
    const buf = packBatch([{ key: Buffer.from('a'), value: Buffer.from('b'), timestamp: 1 }]);
    const longer = new Uint8Array(buf.byteLength + 3);
    longer.set(new Uint8Array(buf));
    expect(() => unpackBatch(longer.buffer)).toThrow(/3 bytes after its last record/);
  });
});
