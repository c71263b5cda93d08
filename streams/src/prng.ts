/**
 * mulberry32: a small, fast, seeded PRNG, uniform in [0, 1) and the same on every platform — the
 * demo and scale generators, the crash plans and the generated test inputs all draw from it, so a
 * seed repeats a run.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
