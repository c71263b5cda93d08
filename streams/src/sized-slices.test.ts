import { describe, expect, it } from 'vitest';
import { sizedSlices } from './sized-slices.ts';

describe('sizedSlices: transactional sends stay under the broker record-batch limit', () => {
  const rec = (bytes: number) => ({ key: Buffer.alloc(10), value: Buffer.alloc(bytes) });
  it('cuts consecutive ranges of at most the given bytes, at least one record each', () => {
    // 70 bytes of overhead + 10 key bytes per record: 100-byte values make 180-byte records.
    expect(sizedSlices([rec(100), rec(100), rec(100), rec(100), rec(100)], 400)).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 4 },
      { from: 4, to: 5 },
    ]);
    expect(sizedSlices([rec(1000), rec(10)], 400)).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
    ]);
    expect(sizedSlices([], 400)).toEqual([]);
  });
});
