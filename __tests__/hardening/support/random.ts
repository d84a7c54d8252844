/**
 * A small seeded PRNG (mulberry32) for the load mixes: the same seed gives
 * the same mix, so a failing run can be replayed.
 *
 * @example
 * ```ts
 * const random = mulberry32(7);
 * random(); // the same number in [0, 1) on every run
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
