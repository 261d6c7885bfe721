// From logits to named predictions, and the one-call `classify` on decoded pixels.

import { InputError } from './errors.js';
import { IMAGENET_CLASS_COUNT, imagenetClasses } from './labels.js';
import type { SqueezeNet } from './model.js';
import { preprocess, RECIPES, type ImagePixels, type PreprocessOptions, type Recipe } from './preprocess.js';

/** One ranked class. */
export interface Prediction {
  /** 0..999: the ImageNet class index. */
  readonly index: number;
  /** WordNet id, e.g. `n01440764`. */
  readonly synset: string;
  /** Short name, e.g. `tench`. */
  readonly label: string;
  /** Softmax probability over the 1000 logits. */
  readonly prob: number;
}

/** Softmax of the logits, in float64 (the largest logit is subtracted first, so nothing overflows). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/**
 * The `k` most probable ImageNet classes for 1000 logits, most probable first (ties: lower index
 * first), with softmax probabilities.
 */
export function topK(logits: ArrayLike<number>, k = 5): Prediction[] {
  if (logits.length !== IMAGENET_CLASS_COUNT) {
    throw new InputError(`expected ${IMAGENET_CLASS_COUNT} logits (one per ImageNet class), got ${logits.length}`);
  }
  if (!Number.isInteger(k) || k < 1 || k > IMAGENET_CLASS_COUNT) {
    throw new InputError(`k must be an integer 1..${IMAGENET_CLASS_COUNT}, got ${k}`);
  }
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i]!)) throw new InputError(`logit ${i} is ${logits[i]}, not finite`);
  }
  const prob = softmax(logits);
  const order = Array.from({ length: prob.length }, (_, i) => i).sort((a, b) => prob[b]! - prob[a]! || a - b);
  const classes = imagenetClasses();
  return order.slice(0, k).map((index) => ({
    index,
    synset: classes[index]!.synset,
    label: classes[index]!.name,
    prob: prob[index]!,
  }));
}

export interface ClassifyOptions extends PreprocessOptions {
  /** How many classes to return (default 5). */
  readonly top?: number;
  /** Default: `caffe` for the `v1.0-caffe` network (the Deep Compression weights), else `torchvision`. */
  readonly recipe?: Recipe;
}

/**
 * Preprocesses decoded pixels (RGBA composited over `options.background`, white by default),
 * runs the network and returns its top classes.
 *
 * ```ts
 * const model = await loadDeepCompression(bytes);
 * const [best] = classify(model, { width, height, data: rgba });
 * console.log(best.label, best.prob);
 * ```
 */
export function classify(model: SqueezeNet, image: ImagePixels, options: ClassifyOptions = {}): Prediction[] {
  const recipe = options.recipe ?? (model.arch.name === 'v1.0-caffe' ? 'caffe' : 'torchvision');
  const input = preprocess(image, recipe, options);
  const size = RECIPES[recipe].input;
  return topK(model.run(input, { height: size, width: size }), options.top ?? 5);
}
