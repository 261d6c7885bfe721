// Seeded He-scaled random weights for any arch: the benchmarks' stand-in for trained weights.
import { ARCHS, expectedWeights, plan, type ArchName } from '../src/index.js';

export function randomWeights(arch: ArchName, seed = 1): Map<string, Float32Array> {
  let s = seed >>> 0;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of expectedWeights(plan(ARCHS[arch]))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = shape.length === 4 ? Math.sqrt(3 / (shape[1]! * shape[2]! * shape[3]!)) : 0.05;
    out.set(name, Float32Array.from({ length: n }, () => r() * scale));
  }
  return out;
}
