// Shared test utilities: a seeded PRNG, random weights for a plan, and diffs.
import type { Plan } from '../src/index.js';
import { expectedWeights } from '../src/index.js';

import { mulberry32 } from '../src/random.js';

/** mulberry32 (src/random.ts): small, fast, and the same on every run for a seed. */
export const seededRandom = mulberry32;

/** He-scaled uniform weights and small biases, so activations keep an O(1) scale. */
export function randomWeights(p: Plan, seed: number): Map<string, Float32Array> {
  const rand = seededRandom(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of expectedWeights(p)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape[1]! * shape[2]! * shape[3]! : 1;
    const scale = shape.length === 4 ? Math.sqrt(6 / fanIn) : 0.1;
    out.set(name, Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale));
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
