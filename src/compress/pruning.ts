// Magnitude pruning (Han, Pool, Tran, Dally, "Learning both Weights and Connections", NIPS 2015):
// keep a layer's largest weights by absolute value, set the rest to zero. Weights that are
// already zero stay zero, so pruning a pruned model (the Deep Compression file) only ever removes.

/**
 * A copy of `weight` keeping its `round(density * length)` largest-magnitude weights (ties:
 * the lower index wins). When fewer weights than that are non-zero, nothing changes.
 */
export function pruneByMagnitude(weight: Float32Array, density: number): Float32Array {
  if (!(density >= 0 && density <= 1)) throw new RangeError(`density must be 0..1, got ${density}`);
  const out = weight.slice();
  const keep = Math.round(density * weight.length);
  const nonzero: number[] = [];
  for (let i = 0; i < weight.length; i++) if (weight[i] !== 0) nonzero.push(i);
  if (nonzero.length <= keep) return out;
  nonzero.sort((a, b) => Math.abs(weight[b]!) - Math.abs(weight[a]!) || a - b);
  for (let i = keep; i < nonzero.length; i++) out[nonzero[i]!] = 0;
  return out;
}

/** Non-zero weights over all weights. */
export function density(weight: ArrayLike<number>): number {
  let nz = 0;
  for (let i = 0; i < weight.length; i++) if (weight[i] !== 0) nz++;
  return weight.length === 0 ? 0 : nz / weight.length;
}
