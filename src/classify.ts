// From logits to named predictions, and the one-call `classify` on decoded pixels.

import { InputError } from './errors.js';
import { IMAGENET_CLASS_COUNT, imagenetClasses } from './labels.js';
import type { SqueezeNet } from './model.js';
import { preprocess, RECIPES, type ImagePixels, type PreprocessOptions, type Recipe } from './preprocess.js';

/** One ranked class. */
export interface Prediction {
  /** The class index: 0..N-1 for a network of N classes (0..999 for ImageNet). */
  readonly index: number;
  /** WordNet id, e.g. `n01440764`: only for ImageNet's 1000 classes without `labels`. */
  readonly synset?: string;
  /**
   * The class's name: from `labels` when given, else ImageNet's short name (e.g. `tench`) when
   * the network has 1000 classes; absent when there is nothing to name it by.
   */
  readonly label?: string;
  /** Softmax probability over the N logits. */
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

export interface TopKOptions {
  /**
   * One name per class, in index order (as many as there are logits). Without them, ImageNet's
   * names and synsets name 1000 logits, and other counts get the index only.
   */
  readonly labels?: readonly string[];
}

/**
 * Which names `labels` gives N classes: `given` (checked: one per class), `imagenet` (N = 1000,
 * none given) or `none`. Throws an InputError for a list of the wrong length or with a non-string.
 */
export function labelSource(classes: number, labels: readonly string[] | undefined): 'given' | 'imagenet' | 'none' {
  if (labels !== undefined) {
    if (!Array.isArray(labels)) throw new InputError('labels must be an array of strings');
    if (labels.length !== classes) {
      throw new InputError(`${labels.length} labels given for a network of ${classes} class${classes === 1 ? '' : 'es'}: give one per class`);
    }
    const bad = labels.findIndex((l) => typeof l !== 'string');
    if (bad >= 0) throw new InputError(`label ${bad} is ${typeof labels[bad]}, not a string`);
    return 'given';
  }
  return classes === IMAGENET_CLASS_COUNT ? 'imagenet' : 'none';
}

/**
 * The `k` most probable classes for N logits (N >= 1), most probable first (ties: lower index
 * first), with softmax probabilities, named by `options.labels`, else by ImageNet's classes when
 * N = 1000, else by index only.
 */
export function topK(logits: ArrayLike<number>, k = 5, options: TopKOptions = {}): Prediction[] {
  const n = logits?.length;
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`expected at least one logit, got ${String(n)}`);
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new InputError(`k must be an integer 1..${n}, got ${k}`);
  }
  const source = labelSource(n, options.labels);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(logits[i]!)) throw new InputError(`logit ${i} is ${logits[i]}, not finite`);
  }
  const prob = softmax(logits);
  const order = Array.from({ length: prob.length }, (_, i) => i).sort((a, b) => prob[b]! - prob[a]! || a - b);
  const classes = source === 'imagenet' ? imagenetClasses() : undefined;
  return order.slice(0, k).map((index) => {
    if (classes) return { index, synset: classes[index]!.synset, label: classes[index]!.name, prob: prob[index]! };
    if (source === 'given') return { index, label: options.labels![index]!, prob: prob[index]! };
    return { index, prob: prob[index]! };
  });
}

/**
 * Class names from a labels file's text: a JSON array of strings, or one name a line (blank
 * lines at the end ignored, `\r\n` accepted). Throws an InputError naming what is wrong.
 */
export function parseLabels(text: string): string[] {
  const t = text.replace(/^\uFEFF/, '');
  if (/^\s*\[/.test(t)) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new InputError(`labels: not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InputError('labels: a JSON labels file must be an array of strings');
    if (v.length === 0) throw new InputError('labels: the JSON array is empty');
    return v as string[];
  }
  const lines = t.split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  if (lines.length === 0) throw new InputError('labels: the file is empty');
  const blank = lines.findIndex((l) => l.trim() === '');
  if (blank >= 0) throw new InputError(`labels: line ${blank + 1} is blank (one label a line, in class order)`);
  return lines.map((l) => l.trim());
}

export interface ClassifyOptions extends PreprocessOptions {
  /** How many classes to return (default 5, at most the network's classes). */
  readonly top?: number;
  /** The preprocessing; default the model's (`model.recipe`: the weight file's, see `decodeWeights`). */
  readonly recipe?: Recipe;
  /** One name per class, in index order (see {@link topK}). */
  readonly labels?: readonly string[];
}

/**
 * Preprocesses decoded pixels with the model's recipe (the one its weights were trained with;
 * RGBA composited over `options.background`, white by default), runs the network and returns its
 * top classes.
 *
 * ```ts
 * const model = await load(bytes);                 // any weight file; or loadDeepCompression
 * const [best] = classify(model, { width, height, data: rgba });
 * console.log(best.label, best.prob);
 * ```
 */
export function classify(model: SqueezeNet, image: ImagePixels, options: ClassifyOptions = {}): Prediction[] {
  const recipe = options.recipe ?? model.recipe;
  labelSource(model.classes, options.labels); // a bad labels list fails before the work
  const top = options.top ?? Math.min(5, model.classes);
  // Named as the caller wrote it (topK's own message says `k`), and before the work.
  if (!Number.isInteger(top) || top < 1 || top > model.classes) throw new InputError(`top must be an integer 1..${model.classes}, got ${String(top)}`);
  const input = preprocess(image, recipe, options);
  const size = RECIPES[recipe].input;
  return topK(model.run(input, { height: size, width: size }), top, options.labels === undefined ? {} : { labels: options.labels });
}
