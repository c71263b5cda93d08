import { describe, expect, it } from 'vitest';
import { fnv1a64 } from './hash.ts';

/** The definition, in BigInt arithmetic. */
function reference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

describe('fnv1a64', () => {
  it('gives the digits of 64-bit FNV-1a computed with BigInt', () => {
    const texts = [
      '',
      'a',
      'foobar',
      'pod\nscale/shop/api-1\n1795680000000',
      'ü€𝄞\u0000\uffff',
      '{"x":[1,2,3]}',
    ];
    // Deterministic pseudo-random texts of every length up to 300, all byte values of UTF-8.
    let seed = 12345;
    for (let n = 0; n < 300; n++) {
      let s = '';
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        s += String.fromCharCode(seed % (i % 7 === 0 ? 0x3000 : 0x80));
      }
      texts.push(s);
    }
    for (const t of texts) expect(fnv1a64(t)).toBe(reference(t));
  });
});
