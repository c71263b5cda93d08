const encoder = new TextEncoder();
const TWO_32 = 4294967296;

/**
 * 64-bit FNV-1a of the UTF-8 bytes of `text`, as 16 lower-case hex digits. The 64-bit state is two
 * 32-bit halves in plain numbers (the prime is 2^40 + 0x1b3, so a product is h·0x1b3 + h·2^40):
 * the same digits as BigInt arithmetic, without a BigInt per byte (an RCA report's JSON is hashed
 * on every incident change).
 */
export function fnv1a64(text: string): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of encoder.encode(text)) {
    lo ^= byte;
    const low = (lo >>> 0) * 0x1b3;
    const carry = Math.floor(low / TWO_32);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = low >>> 0;
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
