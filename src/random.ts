// The one seeded generator of the project (internal: the calibration's sampling, the tests, the
// scripts and the browser bench share it through dist/src/random.js).

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): small, fast, and the same sequence on every
 * engine for a seed. Returns a function of uniform numbers in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
