/**
 * A stable, dependency-free 64-bit string hash (two 32-bit lanes, MurmurHash3-style
 * finalisation). Pure and deterministic across runs, processes and machines: it hashes the
 * UTF-16 code units of the string, so the same text always yields the same hex id.
 */
export function hash64(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return hex8(h2 >>> 0) + hex8(h1 >>> 0);
}

function hex8(n: number): string {
  const s = n.toString(16);
  return s.length >= 8 ? s : '00000000'.slice(s.length) + s;
}
