// From decoded pixels to the network's input tensor: resize, centre crop, channel order, means.
//
// The resize is PIL's `Image.resize(size, Image.BILINEAR)` on 8-bit RGB, the one the reference
// figures were measured with: a separable triangle filter whose support widens by the scale
// factor when shrinking (so it antialiases, unlike a 2x2 bilinear lookup), with coefficients in
// 22-bit fixed point, the horizontal pass rounded to 8 bits before the vertical pass. The idea and
// the rounding follow Pillow's Resample.c (Alex Clark and contributors, HPND licence); this is an
// independent implementation, checked against PIL's output by test/preprocess.test.ts.

import { InputError } from './errors.js';

/** Decoded pixels, row-major from the top-left: a browser `ImageData` fits as it is. */
export interface ImagePixels {
  readonly width: number;
  readonly height: number;
  /** `width * height * channels` bytes. */
  readonly data: Uint8Array | Uint8ClampedArray;
  /**
   * 4 (RGBA, not premultiplied, as `ImageData` holds it: {@link preprocess} composites it over a
   * background, see {@link PreprocessOptions}), 3 (RGB) or 1 (grey). Default: inferred from
   * `data.length`.
   */
  readonly channels?: 1 | 3 | 4;
}

/**
 * How the network's training data was prepared.
 * - `caffe`, for the released Caffe SqueezeNet v1.0 and its Deep Compression weights (`v1.0-caffe`):
 *   resize to 256x256 (bilinear, aspect ratio not kept), centre crop 227x227 (offset 14, 14),
 *   channels in BGR order minus the means 104, 117, 123 (B, G, R), no scaling: values in -123..151.
 * - `torchvision`, for torchvision's pretrained `squeezenet1_0` / `squeezenet1_1` (`v1.0`, `v1.1`):
 *   resize the shorter side to 256 (bilinear, aspect ratio kept), centre crop 224x224, RGB scaled
 *   to 0..1, minus the means (0.485, 0.456, 0.406), divided by the deviations (0.229, 0.224, 0.225).
 */
export type Recipe = 'caffe' | 'torchvision';

/** Each recipe's output: a 1x3xSxS NCHW tensor with S = `input`. */
export const RECIPES: Readonly<Record<Recipe, { readonly input: number; readonly resize: number }>> = {
  caffe: { input: 227, resize: 256 },
  torchvision: { input: 224, resize: 256 },
};

const CAFFE_MEAN_BGR = [104, 117, 123] as const;
const TORCHVISION_MEAN_RGB = [0.485, 0.456, 0.406].map(Math.fround);
const TORCHVISION_STD_RGB = [0.229, 0.224, 0.225].map(Math.fround);

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [r: number, g: number, b: number];

/** What {@link preprocess} composites transparent pixels over unless told otherwise: white. */
export const DEFAULT_BACKGROUND: Rgb = [255, 255, 255];

export interface PreprocessOptions {
  /**
   * The transparency rule, for 4-channel (RGBA) pixels: each pixel is composited over this opaque
   * colour, `round((colour * alpha + background * (255 - alpha)) / 255)` per channel (what PIL's
   * `Image.alpha_composite(Image.new('RGBA', size, background), image)` gives, exactly), before
   * the resize. Default {@link DEFAULT_BACKGROUND} (white). `'ignore'` drops the alpha and keeps
   * whatever colours lie under it, as PIL's `convert('RGB')` does (the reference pipeline's
   * behaviour, for conformance runs). Opaque pixels are the same either way.
   */
  readonly background?: Rgb | 'ignore';
}

/** An RGB image, 3 bytes per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output pixel of a window: the first input pixel, the number of taps and their fixed-point weights. */
interface Coefficients {
  readonly first: Int32Array;
  readonly taps: Int32Array;
  readonly weights: Int32Array;
  readonly ksize: number;
}

const triangle = (x: number): number => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

// The triangle filter over [0, inSize) for outSize samples, its support scaled by inSize / outSize
// when that is above 1; weights normalised to sum 1 in doubles, then rounded to 22-bit fixed point.
// Only for the `count` outputs from `start`: a crop of a huge virtual resize costs the crop.
function coefficients(inSize: number, outSize: number, start: number, count: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(count);
  const taps = new Int32Array(count);
  const weights = new Int32Array(count * ksize);
  const w = new Float64Array(ksize);
  for (let i = 0; i < count; i++) {
    const center = (start + i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let sum = 0;
    for (let x = 0; x < hi - lo; x++) {
      w[x] = triangle((x + lo - center + 0.5) / filterScale);
      sum += w[x]!;
    }
    for (let x = 0; x < hi - lo; x++) {
      const v = sum !== 0 ? w[x]! / sum : w[x]!;
      weights[i * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    first[i] = lo;
    taps[i] = hi - lo;
  }
  return { first, taps, weights, ksize };
}

/**
 * Filter taps (multiply-adds, plus coefficients at 4 each) any resize may take, ~4 s of JS; a
 * bigger image may take 4 per pixel, in proportion to what the caller already holds. A
 * 10000x10000 image takes 1.7e8, a 1x100000 strip 1.1e8; a 1x1000000 strip (1.0e9, 1000 per
 * pixel) or a 100000000x1 one (8.9e8) is refused with an InputError instead of blocking.
 */
export const MAX_RESIZE_WORK = 2 ** 28;

const clip8 = (acc: number): number => (acc >= ONE * 256 ? 255 : acc <= 0 ? 0 : acc >> PRECISION_BITS);

/** Checks the pixels and returns the channel count. */
function checkPixels(image: ImagePixels): 1 | 3 | 4 {
  if (image === null || typeof image !== 'object') throw new InputError('image must be an object { width, height, data }');
  const { width, height, data } = image;
  for (const [what, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`image ${what} must be a positive integer, got ${String(v)}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new InputError('image data must be a Uint8Array or Uint8ClampedArray of 8-bit samples');
  }
  const pixels = width * height;
  if (image.channels !== undefined) {
    const c = image.channels;
    if (c !== 1 && c !== 3 && c !== 4) throw new InputError(`image channels must be 1, 3 or 4, got ${String(c)}`);
    if (data.length !== pixels * c) {
      throw new InputError(`image data has ${data.length} bytes; ${width}x${height} with ${c} channels needs ${pixels * c}`);
    }
    return c;
  }
  const c = data.length / pixels;
  if (c === 1 || c === 3 || c === 4) return c;
  throw new InputError(
    `image data has ${data.length} bytes; ${width}x${height} needs ${pixels * 4} (RGBA), ${pixels * 3} (RGB) or ${pixels} (grey)`,
  );
}

/**
 * Resizes to `width` x `height` RGB exactly as PIL's `img.convert('RGB').resize((width, height),
 * Image.BILINEAR)` does. Memory: besides the output, int32 accumulators of the output's size and
 * one output row, whatever the input's size; the source is read in place.
 */
export function resizeBilinear(image: ImagePixels, width: number, height: number): RgbImage {
  checkPixels(image);
  for (const [what, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`resize ${what} must be a positive integer, got ${String(v)}`);
  }
  return resizeWindow(image, width, height, 0, 0, width, height);
}

/**
 * The `w` x `h` window at (`x0`, `y0`) of {@link resizeBilinear}(image, outW, outH), computing only
 * that window: a centre crop of a resize costs the crop, even when the resize would be huge (the
 * torchvision recipe on a 100000x1 image resizes to 25,600,000x256). Input rows are read once, in
 * order, each horizontal-pass row added into the output rows whose filter reaches it: the integer
 * sums are PIL's, only in another order.
 */
function resizeWindow(image: ImagePixels, outW: number, outH: number, x0: number, y0: number, w: number, h: number, background?: Rgb): RgbImage {
  const channels = checkPixels(image);
  const inW = image.width;
  // RGBA over a background: each input row is composited into `over` just before its pass.
  const over = channels === 4 && background !== undefined ? new Uint8Array(inW * 3) : undefined;
  const rowChannels = over === undefined ? channels : 3;
  // Every input row the window reaches gets a horizontal pass of w outputs, each of kx taps, and
  // every output row sums ky of those rows: a tall thin strip costs rows x w whatever its area
  // (1x1000000 squashed to 256x256 took 19 s), a very wide one kx x w coefficients. Bounded up front.
  const kx = 2 * Math.ceil(Math.max(inW / outW, 1)) + 1;
  const ky = 2 * Math.ceil(Math.max(image.height / outH, 1)) + 1;
  const rows = Math.min(image.height, Math.ceil((h + 2) * Math.max(image.height / outH, 1)) + 2);
  const work = w * (rows * kx + h * ky) + 4 * (w * kx + h * ky);
  const allowed = Math.max(MAX_RESIZE_WORK, 4 * inW * image.height);
  if (work > allowed) {
    throw new InputError(
      `image ${inW}x${image.height} is too thin to resize to ${outW}x${outH}: ~${work.toExponential(1)} filter taps, more than the ${allowed.toExponential(1)} allowed for its size`,
    );
  }
  const cx = coefficients(inW, outW, x0, w);
  const cy = coefficients(image.height, outH, y0, h);
  const [g, b] = rowChannels === 1 ? [0, 0] : [1, 2];
  const stride = w * 3;
  const acc = new Int32Array(h * stride).fill(HALF);
  const line = new Uint8Array(stride);
  let lo = 0;
  for (let y = cy.first[0]!; y < cy.first[h - 1]! + cy.taps[h - 1]!; y++) {
    // Horizontal pass of input row y.
    let src = image.data;
    let row = y * inW;
    if (over !== undefined) {
      compositeRow(image.data, row * 4, inW, background!, over);
      src = over;
      row = 0;
    }
    for (let o = 0; o < w; o++) {
      const first = cx.first[o]!;
      const n = cx.taps[o]!;
      const k = o * cx.ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0; x < n; x++) {
        const p = (row + first + x) * rowChannels;
        const wx = cx.weights[k + x]!;
        s0 += src[p]! * wx;
        s1 += src[p + g]! * wx;
        s2 += src[p + b]! * wx;
      }
      line[3 * o] = clip8(s0);
      line[3 * o + 1] = clip8(s1);
      line[3 * o + 2] = clip8(s2);
    }
    // Vertical pass: into every output row whose taps include y (first and end only grow with o).
    while (lo < h && cy.first[lo]! + cy.taps[lo]! <= y) lo++;
    for (let o = lo; o < h && cy.first[o]! <= y; o++) {
      const wy = cy.weights[o * cy.ksize + y - cy.first[o]!]!;
      const base = o * stride;
      for (let i = 0; i < stride; i++) acc[base + i] = acc[base + i]! + line[i]! * wy;
    }
  }
  const out = new Uint8Array(h * stride);
  for (let i = 0; i < out.length; i++) out[i] = clip8(acc[i]!);
  return { width: w, height: h, data: out };
}

/**
 * `n` RGBA pixels from `src[at]` composited over an opaque `bg` into `out` (RGB):
 * round((c * a + bg * (255 - a)) / 255), which is floor((num + 127) / 255) as 255 is odd.
 */
function compositeRow(src: Uint8Array | Uint8ClampedArray, at: number, n: number, bg: Rgb, out: Uint8Array): void {
  const [br, bgG, bb] = bg;
  for (let i = 0, p = at, q = 0; i < n; i++, p += 4, q += 3) {
    const a = src[p + 3]!;
    const ia = 255 - a;
    out[q] = ((src[p]! * a + br * ia + 127) / 255) | 0;
    out[q + 1] = ((src[p + 1]! * a + bgG * ia + 127) / 255) | 0;
    out[q + 2] = ((src[p + 2]! * a + bb * ia + 127) / 255) | 0;
  }
}

/**
 * The transparency rule on its own: `image` as opaque RGB, each RGBA pixel composited over
 * `background` as {@link preprocess} does before resizing (see {@link PreprocessOptions}); RGB and
 * grey pixels are returned as RGB unchanged. Throws InputError for bad pixels or a bad background.
 */
export function composite(image: ImagePixels, background: Rgb = DEFAULT_BACKGROUND): RgbImage {
  const channels = checkPixels(image);
  const bg = checkBackground(background);
  if (bg === undefined) throw new InputError("composite needs a background colour [r, g, b], not 'ignore'");
  const { width, height, data } = image;
  const out = new Uint8Array(width * height * 3);
  if (channels === 4) {
    for (let y = 0; y < height; y++) compositeRow(data, y * width * 4, width, bg, out.subarray(y * width * 3));
  } else {
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) out[3 * p + c] = data[p * channels + (channels === 1 ? 0 : c)]!;
    }
  }
  return { width, height, data: out };
}

/** Checks a `background` option: three integers 0..255, or 'ignore' (undefined returned). */
function checkBackground(background: PreprocessOptions['background']): Rgb | undefined {
  if (background === 'ignore') return undefined;
  if (background === undefined) return DEFAULT_BACKGROUND;
  if (!Array.isArray(background) || background.length !== 3 || !background.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new InputError(`background must be [r, g, b] with integers 0..255, or 'ignore', got ${JSON.stringify(background)}`);
  }
  return background;
}

// Python's round(): halves to even, as torchvision's CenterCrop uses it.
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * Turns decoded pixels into the network's input: a 1x3xSxS NCHW Float32Array, S = 227 for
 * `caffe` (the default, for the Deep Compression / Caffe weights) and 224 for `torchvision`. See
 * {@link Recipe} for what each does; RGBA pixels are first composited over
 * `options.background` (white by default, see {@link PreprocessOptions}). Throws InputError for
 * zero or negative sizes, a data length that fits no channel count, an unknown recipe or a bad
 * background.
 *
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { SqueezeNet, loadDeepCompression, preprocess, topK } from 'squeezenet-wasm';
 *
 * // pixels: { width, height, data } with RGBA (a canvas's ImageData) or RGB bytes
 * const pixels = { width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]) };
 * // The Caffe weights (v1.0-caffe, planned for 227x227) with the Caffe recipe, the default:
 * const caffe = await loadDeepCompression(await readFile('compressed_SqueezeNet.net'));
 * const top5 = topK(caffe.run(preprocess(pixels)), 5);
 * // torchvision's weights (planned for 224x224) with its recipe:
 * // const model = await SqueezeNet.load({ arch: 'v1.1', weights });
 * // const logits = model.run(preprocess(pixels, 'torchvision'));
 * ```
 */
export function preprocess(image: ImagePixels, recipe: Recipe = 'caffe', options: PreprocessOptions = {}): Float32Array {
  if (typeof recipe !== 'string' || !Object.hasOwn(RECIPES, recipe)) {
    throw new InputError(`unknown preprocessing recipe ${JSON.stringify(recipe)}: use ${Object.keys(RECIPES).join(' or ')}`);
  }
  const spec = RECIPES[recipe];
  checkPixels(image);
  const background = checkBackground(options?.background);
  const size = spec.input;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  if (recipe === 'caffe') {
    const off = Math.floor((spec.resize - size) / 2);
    const r = resizeWindow(image, spec.resize, spec.resize, off, off, size, size, background);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = (y * size + x) * 3;
        const q = y * size + x;
        out[q] = r.data[p + 2]! - CAFFE_MEAN_BGR[0];
        out[plane + q] = r.data[p + 1]! - CAFFE_MEAN_BGR[1];
        out[2 * plane + q] = r.data[p]! - CAFFE_MEAN_BGR[2];
      }
    }
    return out;
  }
  // torchvision: Resize(256) keeps the aspect ratio (the longer side truncated), CenterCrop(224),
  // ToTensor (x / 255 in float32), Normalize; each step rounded to float32 as torch computes it.
  const { width: w, height: h } = image;
  const short = Math.min(w, h);
  const long = Math.trunc((spec.resize * Math.max(w, h)) / short);
  const [rw, rh] = w <= h ? [spec.resize, long] : [long, spec.resize];
  const top = roundHalfEven((rh - size) / 2);
  const left = roundHalfEven((rw - size) / 2);
  const r = resizeWindow(image, rw, rh, left, top, size, size, background);
  for (let c = 0; c < 3; c++) {
    const mean = TORCHVISION_MEAN_RGB[c]!;
    const std = TORCHVISION_STD_RGB[c]!;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = r.data[(y * size + x) * 3 + c]!;
        out[c * plane + y * size + x] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
      }
    }
  }
  return out;
}
