// Weights as torchvision names them, checked against what a planned network expects.

import type { Plan } from './plan.js';
import { expectedWeights } from './plan.js';
import { WeightError } from './errors.js';

/** A tensor: bare values (the shape is then taken on trust from the name), or values and shape. */
export type Tensor = Float32Array | { readonly data: Float32Array; readonly shape: readonly number[] };

/** torchvision state_dict names (`features.0.weight`, ..., `classifier.1.bias`) to tensors. */
export type WeightMap = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

const entries = (w: WeightMap): [string, Tensor][] =>
  w instanceof Map ? [...w.entries()] : Object.entries(w as Record<string, Tensor>);

/** A Map copy of either form of WeightMap (the tensors shared, not copied), to read or replace entries in. */
export const weightMap = (w: WeightMap): Map<string, Tensor> => new Map(entries(w));

/**
 * Checks every tensor the plan needs is present and of the right shape, and that nothing else
 * was given. Returns the values by name. (Finiteness is checked in WASM while packing.) `misfit`
 * is added to the errors that say the weights fit another network (a tensor missing, unknown or
 * of another size): the caller's word on which network it assumed.
 */
export function checkWeights(p: Plan, weights: WeightMap, misfit = ''): Map<string, Float32Array> {
  if (weights === null || typeof weights !== 'object') {
    throw new WeightError('weights must be a Map or an object of Float32Arrays', '(weights)');
  }
  const expected = expectedWeights(p);
  const out = new Map<string, Float32Array>();
  for (const [name, t] of entries(weights)) {
    const shape = expected.get(name);
    if (shape === undefined) {
      const close = [...expected.keys()].filter((n) => n.split('.').slice(-2).join('.') === name.split('.').slice(-2).join('.'));
      throw new WeightError(
        `not a tensor of ${p.arch.name}${close.length > 0 ? ` (did you mean ${close.slice(0, 3).join(', ')}?)` : ''}${misfit}`,
        name,
      );
    }
    const data = t instanceof Float32Array ? t : t?.data;
    if (!(data instanceof Float32Array)) throw new WeightError('values must be a Float32Array', name);
    if (!(t instanceof Float32Array)) {
      const given = t.shape;
      if (!Array.isArray(given) || given.length !== shape.length || given.some((d, i) => d !== shape[i])) {
        throw new WeightError(`shape is [${String(given)}], ${p.arch.name} needs [${shape.join(', ')}]${misfit}`, name);
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new WeightError(`has ${data.length} values, ${p.arch.name} needs [${shape.join(', ')}] = ${size}${misfit}`, name);
    }
    out.set(name, data);
  }
  for (const [name, shape] of expected) {
    if (!out.has(name)) throw new WeightError(`missing (expected shape [${shape.join(', ')}])${misfit}`, name);
  }
  return out;
}
