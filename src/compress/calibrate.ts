// Layer-wise reconstruction: codebooks and codes chosen to reproduce each convolution's output on
// calibration activations, not the weights alone (post-training quantisation without retraining:
// Nagel et al., "Up or down? Adaptive rounding for post-training quantization" (AdaRound), ICML
// 2020; Frantar et al., "GPTQ", ICLR 2023, whose column-by-column rounding with error feedback
// through the inverse Hessian is used here, and Frantar and Alistarh's "Optimal Brain
// Compression", NeurIPS 2022, which it derives from).
//
// For one filter with weights w over its input patches x (D = inC * kernel^2 values each), the
// output error of quantised weights q is E[((w - q) . x)^2] = (w - q)^T G (w - q), G = E[x x^T]:
// the Gram matrix of the layer's input patches, the same for every filter of the layer. So
//   1. `calibrationStatistics` runs the network (the uncompressed weights) on the calibration
//      images and keeps, per convolution, G and the mean patch;
//   2. `refineLayer` then, per layer, alternates
//      - codes: each filter's kept weights rounded one at a time to a codebook value, each
//        rounding error spread over the weights not yet rounded through G's inverse (GPTQ, in
//        order of decreasing G diagonal, the "act-order"), pruned weights staying 0;
//      - codebook: for those codes, the values that minimise the summed output error of every
//        filter exactly (a K x K linear system);
//      and finally moves each bias by the mean output shift the rounding left ((w - q) . mean x),
//      so that the layer's mean output is kept (bias correction).

import { InputError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { plan, type ConvOp } from '../plan.js';
import { ARCHS } from '../arch.js';
import { weightMap, type WeightMap } from '../weights.js';
import { roundFloat16 } from '../codec/float16.js';
import { mulberry32 } from '../random.js';

/** One convolution's input statistics. */
export interface LayerStatistics {
  /** Patch length D = inC * kernel * kernel, in the order of a filter's weights ([in][kh][kw]). */
  readonly dim: number;
  /** E[x x^T] over the sampled patches, D x D row-major. */
  readonly gram: Float64Array;
  /** E[x] over all output positions (zeros of the padding included). */
  readonly mean: Float64Array;
  /** Patches sampled into `gram`. */
  readonly samples: number;
  /**
   * When the statistics were gathered on a compressed network (`CalibrationOptions.compressed`):
   * `gram` and `mean` are then those of the compressed network's input x', and this holds the
   * uncompressed network's input x at the same positions, E[x x'^T] (D x D row-major, row: x,
   * column: x') and E[x], so that a layer can reproduce the uncompressed output from the input
   * it will really see (correcting the earlier layers' errors, as GPTQ's sequential mode does).
   */
  readonly target?: {
    readonly cross: Float64Array;
    readonly mean: Float64Array;
    /** Ridge of the target toward the weights themselves, relative to the mean Gram diagonal (default 0.01). */
    readonly damp?: number;
  };
}

/** Per convolution (by our name: `conv1`, `fire2.squeeze`, ..., `conv10`). */
export type CalibrationStatistics = ReadonlyMap<string, LayerStatistics>;

export interface CalibrationOptions {
  /** The network (default `v1.0-caffe`). */
  readonly arch?: LoadOptions['arch'];
  /** Kernels, as `SqueezeNet.load` takes them. */
  readonly wasm?: LoadOptions['wasm'];
  /** Patches sampled per layer (over all inputs), at least 64 * D by default; every patch when there are fewer. */
  readonly samplesPerDim?: number;
  /**
   * Compressed weights of the same network: each layer's statistics are then those of its input
   * in the compressed network, with the uncompressed network's as `target` (see LayerStatistics).
   */
  readonly compressed?: WeightMap;
  /** Gather statistics for these convolutions only (our names; default: every one). */
  readonly layers?: readonly string[];
}

/**
 * Runs the network with `weights` on each input (NCHW Float32Arrays of the arch's input size, as
 * `preprocess` makes them) and gathers, for every convolution, the Gram matrix and the mean of
 * its input patches.
 *
 * @throws InputError for no inputs; what `SqueezeNet.load` and `trace` throw.
 */
export async function calibrationStatistics(weights: WeightMap, inputs: readonly Float32Array[], options: CalibrationOptions = {}): Promise<Map<string, LayerStatistics>> {
  if (inputs.length === 0) throw new InputError('calibration needs at least one input');
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.0-caffe'];
  if (arch === undefined) throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
  const model = await SqueezeNet.load({ arch, weights, wasm: options.wasm });
  const quantised = options.compressed === undefined ? undefined : await SqueezeNet.load({ arch, weights: options.compressed, wasm: options.wasm });
  try {
    const p = plan(arch);
    // The input of each convolution: the image for the first row, else the previous row's output;
    // inside a Fire module the expands read the squeeze.
    const sources = new Map<string, string>();
    let previous = '';
    for (const row of p.rows) {
      for (const op of row.convs) sources.set(op.name, op.name.endsWith('.expand1x1') || op.name.endsWith('.expand3x3') ? op.name.replace(/\.expand(1x1|3x3)$/, '.squeeze') : previous);
      previous = row.spec.name;
    }
    const acc = new Map<string, Accumulator>();
    const perDim = options.samplesPerDim ?? 64;
    const only = options.layers === undefined ? undefined : new Set(options.layers);
    const rand = mulberry32(20160224); // seeded: the same sampled positions, so the same statistics, every run
    for (const input of inputs) {
      const outputs = new Map(model.trace(input).layers.map((l) => [l.name, l.data]));
      const outputsQ = quantised === undefined ? undefined : new Map(quantised.trace(input).layers.map((l) => [l.name, l.data]));
      for (const op of p.convs) {
        if (only !== undefined && !only.has(op.name)) continue;
        const src = sources.get(op.name)!;
        const x = src === '' ? input : outputs.get(src);
        const xq = outputsQ === undefined ? undefined : src === '' ? input : outputsQ.get(src);
        if (x === undefined || (outputsQ !== undefined && xq === undefined)) throw new Error(`calibration: no trace output ${src} for ${op.name}`);
        const dim = op.inC * op.kernel * op.kernel;
        let a = acc.get(op.name);
        if (a === undefined) {
          a = {
            gram: new Float64Array(dim * dim),
            mean: new Float64Array(dim),
            samples: 0,
            positions: 0,
            ...(outputsQ === undefined ? {} : { cross: new Float64Array(dim * dim), meanTarget: new Float64Array(dim) }),
          };
          acc.set(op.name, a);
        }
        const positions = op.outH * op.outW;
        const want = Math.ceil((perDim * dim) / inputs.length);
        // The compressed network's input is what the layer will see: it makes the Gram matrix.
        accumulate(op, xq ?? x, xq === undefined ? undefined : x, a, positions <= want ? 1 : want / positions, rand);
      }
    }
    const out = new Map<string, LayerStatistics>();
    for (const [name, a] of acc) {
      const dim = a.mean.length;
      const n = Math.max(1, a.samples);
      for (let i = 0; i < dim; i++) {
        a.mean[i]! /= a.positions;
        for (let j = i; j < dim; j++) {
          const v = a.gram[i * dim + j]! / n;
          a.gram[i * dim + j] = v;
          a.gram[j * dim + i] = v;
        }
      }
      let target: LayerStatistics['target'];
      if (a.cross !== undefined && a.meanTarget !== undefined) {
        for (let i = 0; i < dim * dim; i++) a.cross[i]! /= n;
        for (let i = 0; i < dim; i++) a.meanTarget[i]! /= a.positions;
        target = { cross: a.cross, mean: a.meanTarget };
      }
      out.set(name, { dim, gram: a.gram, mean: a.mean, samples: a.samples, ...(target === undefined ? {} : { target }) });
    }
    return out;
  } finally {
    model.dispose();
    quantised?.dispose();
  }
}

interface Accumulator {
  gram: Float64Array;
  mean: Float64Array;
  samples: number;
  positions: number;
  /** With a compressed network: E[x x'^T] and E[x] of the uncompressed input x. */
  cross?: Float64Array;
  meanTarget?: Float64Array;
}

// Gathers the patch at (oy, ox) of x into `patch` and the indices of its non-zero values into
// `nz`; returns how many.
function gather(op: ConvOp, x: Float32Array, oy: number, ox: number, patch: Float64Array, nz: Int32Array): number {
  const { inC, kernel: k, stride, pad, inH, inW } = op;
  let count = 0;
  for (let c = 0; c < inC; c++) {
    for (let ky = 0; ky < k; ky++) {
      const y = oy * stride - pad + ky;
      for (let kx = 0; kx < k; kx++) {
        const xx = ox * stride - pad + kx;
        const d = (c * k + ky) * k + kx;
        const v = y >= 0 && y < inH && xx >= 0 && xx < inW ? x[(c * inH + y) * inW + xx]! : 0;
        patch[d] = v;
        if (v !== 0) nz[count++] = d;
      }
    }
  }
  return count;
}

// Adds one input's patches: every position to the mean, a sampled share (probability `share`) to
// the Gram matrix's upper triangle, over the patch's non-zero values only (ReLU outputs are
// mostly zeros). With `target` (the uncompressed network's input where x is the compressed
// one's), also E[target x^T] and E[target].
function accumulate(op: ConvOp, x: Float32Array, target: Float32Array | undefined, a: Accumulator, share: number, rand: () => number): void {
  const { inC, kernel: k, outH, outW } = op;
  const dim = inC * k * k;
  const patch = new Float64Array(dim);
  const nz = new Int32Array(dim);
  const patchT = new Float64Array(dim);
  const nzT = new Int32Array(dim);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const count = gather(op, x, oy, ox, patch, nz);
      for (let s = 0; s < count; s++) a.mean[nz[s]!]! += patch[nz[s]!]!;
      const countT = target === undefined ? 0 : gather(op, target, oy, ox, patchT, nzT);
      if (a.meanTarget !== undefined) for (let s = 0; s < countT; s++) a.meanTarget[nzT[s]!]! += patchT[nzT[s]!]!;
      a.positions++;
      if (share < 1 && rand() >= share) continue;
      a.samples++;
      const g = a.gram;
      for (let s = 0; s < count; s++) {
        const i = nz[s]!;
        const vi = patch[i]!;
        const row = i * dim;
        for (let t = s; t < count; t++) {
          const j = nz[t]!;
          g[row + j]! += vi * patch[j]!;
        }
      }
      const c = a.cross;
      if (c === undefined) continue;
      for (let s = 0; s < countT; s++) {
        const i = nzT[s]!;
        const vi = patchT[i]!;
        const row = i * dim;
        for (let t = 0; t < count; t++) {
          const j = nz[t]!;
          c[row + j]! += vi * patch[j]!;
        }
      }
    }
  }
}

/** A layer's weights to refine: the kept weights' flat positions (ascending) and values, and its codebook. */
export interface RefineInput {
  readonly outC: number;
  /** Weights per filter (D). */
  readonly dim: number;
  readonly positions: Int32Array;
  readonly values: Float32Array;
  /** Codebook values, ascending (code c >= 1 is value c - 1). */
  readonly centroids: Float32Array;
  readonly bias: Float32Array;
  /** Round the codebook values to float16 (the file stores them so). */
  readonly float16: boolean;
}

export interface RefineResult {
  /** Ascending, distinct, each used. */
  readonly centroids: Float32Array;
  /** Per kept weight, the index of its value in `centroids`. */
  readonly codes: Int32Array;
  /** The corrected biases. */
  readonly bias: Float32Array;
  /** The summed output error sum_o (w_o - q_o)^T G (w_o - q_o), before and after, over that of all-zero weights. */
  readonly errorBefore: number;
  readonly errorAfter: number;
}

const nearest = (c: Float32Array, v: number): number => {
  let lo = 0;
  let hi = c.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (c[mid]! <= v) lo = mid;
    else hi = mid;
  }
  return Math.abs(v - c[lo]!) <= Math.abs(v - c[hi]!) ? lo : hi;
};

/** In-place lower Cholesky factor of an n x n SPD matrix (row-major); returns false when it is not positive definite. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= a[rj + k]! * a[rj + k]!;
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[rj + j] = l;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s / l;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/** The inverse of L L^T from its lower factor L (overwritten): returns the full symmetric inverse. */
function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // L^-1 (lower), then (L^-1)^T L^-1.
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = s / l[i * n + i]!;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += inv[k * n + i]! * inv[k * n + j]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** Solves L L^T x = b from the lower factor L (n x n, row-major). */
function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let t = 0; t < i; t++) s -= l[i * n + t]! * y[t]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let t = i + 1; t < n; t++) s -= l[t * n + i]! * x[t]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/**
 * The Gram matrix restricted to a filter's kept weights (`idx`), with `damp` times its mean
 * diagonal added to the diagonal (GPTQ's dampening); also that added amount.
 */
function dampedGram(gram: Float64Array, dim: number, idx: Int32Array, damp: number): { h: Float64Array; lambda: number } {
  const m = idx.length;
  const h = new Float64Array(m * m);
  let diag = 0;
  for (let a = 0; a < m; a++) diag += gram[idx[a]! * dim + idx[a]!]!;
  const lambda = damp * (diag / Math.max(1, m)) + 1e-12;
  for (let a = 0; a < m; a++) {
    const ra = idx[a]! * dim;
    for (let b = 0; b < m; b++) h[a * m + b] = gram[ra + idx[b]!]!;
    h[a * m + a]! += lambda;
  }
  return { h, lambda };
}

/** The GPTQ factor of one filter: for its kept weights (in `order`), U upper with U^T U = H^-1. */
function gptqFactor(gram: Float64Array, dim: number, idx: Int32Array, damp: number): Float64Array | undefined {
  const m = idx.length;
  const { h } = dampedGram(gram, dim, idx, damp);
  if (!cholesky(h, m)) return undefined;
  const hinv = inverseFromCholesky(h, m);
  if (!cholesky(hinv, m)) return undefined;
  return hinv; // lower M with M M^T = H^-1: U = M^T, U[j][k] = M[k][j]
}

/**
 * One filter's output-matching target over its kept weights (`idx`): the t minimising
 * E[(w . x - t . x')^2] + lambda |t - w|^2, i.e. (G'_SS + lambda I) t = (C^T w)_S + lambda w_S with
 * G' the compressed input's Gram matrix and C = E[x x'^T] (LayerStatistics.target).
 */
function filterTarget(gram: Float64Array, cross: Float64Array, dim: number, idx: Int32Array, w: Float64Array, damp: number): Float64Array | undefined {
  const m = idx.length;
  const { h, lambda } = dampedGram(gram, dim, idx, damp);
  const rhs = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    let s = lambda * w[a]!;
    for (let b = 0; b < m; b++) s += cross[idx[b]! * dim + idx[a]!]! * w[b]!;
    rhs[a] = s;
  }
  if (!cholesky(h, m)) return undefined;
  const t = choleskySolve(h, m, rhs);
  return t.every(Number.isFinite) ? t : undefined;
}

/**
 * Codes and codebook for one layer that reproduce its output on the calibration statistics
 * (see the header): `rounds` alternations of GPTQ rounding and the least-squares codebook, then
 * bias correction. Pruned weights stay pruned; the codebook keeps at most its size.
 */
export function refineLayer(input: RefineInput, stats: LayerStatistics, rounds = 2): RefineResult {
  const { outC, dim, positions, values } = input;
  if (stats.dim !== dim) throw new InputError(`calibration statistics of ${stats.dim} values per patch for a layer of ${dim}`);
  const g = stats.gram;
  // Kept weights per filter, in act-order (decreasing G diagonal).
  const filters: Int32Array[] = [];
  const members: Int32Array[] = []; // index into positions/values
  let j = 0;
  for (let o = 0; o < outC; o++) {
    const list: number[] = [];
    while (j < positions.length && positions[j]! < (o + 1) * dim) list.push(j++);
    list.sort((a, b) => g[(positions[b]! % dim) * (dim + 1)]! - g[(positions[a]! % dim) * (dim + 1)]! || a - b);
    members.push(Int32Array.from(list));
    filters.push(Int32Array.from(list, (q) => positions[q]! % dim));
  }
  const factors = filters.map((idx) => (idx.length > 0 ? gptqFactor(g, dim, idx, 0.01) : undefined));
  // What each kept weight should be: itself, or, with statistics of a compressed network's input,
  // the values that best reproduce the uncompressed output from that input (filterTarget).
  const target = Float64Array.from(values);
  if (stats.target !== undefined) {
    for (let o = 0; o < outC; o++) {
      const mem = members[o]!;
      if (mem.length === 0) continue;
      const t = filterTarget(g, stats.target.cross, dim, filters[o]!, Float64Array.from(mem, (q) => values[q]!), stats.target.damp ?? 0.01);
      if (t !== undefined) mem.forEach((q, a) => (target[q] = t[a]!));
    }
  }

  const outputError = (codes: Int32Array, c: Float32Array): number => {
    let total = 0;
    for (let o = 0; o < outC; o++) {
      const idx = filters[o]!;
      const mem = members[o]!;
      const m = idx.length;
      for (let a = 0; a < m; a++) {
        const ea = target[mem[a]!]! - c[codes[mem[a]!]!]!;
        if (ea === 0) continue;
        const ra = idx[a]! * dim;
        let s = 0;
        for (let b = 0; b < m; b++) s += g[ra + idx[b]!]! * (target[mem[b]!]! - c[codes[mem[b]!]!]!);
        total += ea * s;
      }
    }
    return total;
  };
  const zeroError = (() => {
    const zero = new Float32Array([0]);
    return outputError(new Int32Array(values.length), zero);
  })();

  let centroids: Float32Array = Float32Array.from(input.centroids);
  const codes = Int32Array.from(target, (v) => nearest(centroids, v));
  const errorBefore = outputError(codes, centroids) / Math.max(zeroError, 1e-30);
  const w = new Float64Array(dim);
  for (let round = 0; round < rounds; round++) {
    // Codes: GPTQ per filter.
    for (let o = 0; o < outC; o++) {
      const mem = members[o]!;
      const m = mem.length;
      if (m === 0) continue;
      const u = factors[o];
      for (let a = 0; a < m; a++) w[a] = target[mem[a]!]!;
      for (let a = 0; a < m; a++) {
        const q = nearest(centroids, w[a]!);
        codes[mem[a]!] = q;
        if (u === undefined) continue;
        const e = (w[a]! - centroids[q]!) / u[a * m + a]!;
        for (let b = a + 1; b < m; b++) w[b]! -= e * u[b * m + a]!;
      }
    }
    // Codebook: least squares for these codes, sum over filters of (w - q)^T G (w - q).
    const k = centroids.length;
    const A = new Float64Array(k * k);
    const rhs = new Float64Array(k);
    for (let o = 0; o < outC; o++) {
      const idx = filters[o]!;
      const mem = members[o]!;
      const m = idx.length;
      for (let a = 0; a < m; a++) {
        const ca = codes[mem[a]!]!;
        const ra = idx[a]! * dim;
        let s = 0;
        for (let b = 0; b < m; b++) {
          const gab = g[ra + idx[b]!]!;
          A[ca * k + codes[mem[b]!]!]! += gab;
          s += gab * target[mem[b]!]!;
        }
        rhs[ca]! += s;
      }
    }
    // A small ridge toward the current values keeps unused or unexcited values where they are.
    let trace = 0;
    for (let c = 0; c < k; c++) trace += A[c * k + c]!;
    const ridge = 1e-6 * (trace / k) + 1e-30;
    for (let c = 0; c < k; c++) {
      A[c * k + c]! += ridge;
      rhs[c]! += ridge * centroids[c]!;
    }
    if (cholesky(A, k)) {
      const x = choleskySolve(A, k, rhs);
      const solved = Float32Array.from(x, (v, c) => (Number.isFinite(v) ? (input.float16 ? roundFloat16(v) : v) : centroids[c]!));
      const before = outputError(codes, centroids);
      const after = outputError(codes, solved);
      if (after <= before) {
        // Keep the codes pointing at the same values; re-sort and merge equal values.
        centroids = solved;
      }
    }
    ({ centroids } = normalise(centroids, codes));
  }
  ({ centroids } = normalise(centroids, codes, true));
  const errorAfter = outputError(codes, centroids) / Math.max(zeroError, 1e-30);

  // Bias correction: the mean output shift of each filter's rounding.
  const bias = Float32Array.from(input.bias);
  for (let o = 0; o < outC; o++) {
    const idx = filters[o]!;
    const mem = members[o]!;
    let shift = 0;
    // E[w . x] - E[q . x'] (x' = x without a compressed network).
    const meanX = stats.target?.mean ?? stats.mean;
    for (let a = 0; a < idx.length; a++) shift += values[mem[a]!]! * meanX[idx[a]!]! - centroids[codes[mem[a]!]!]! * stats.mean[idx[a]!]!;
    bias[o] = bias[o]! + shift;
  }
  return { centroids, codes, bias, errorBefore, errorAfter };
}

// Sorts the codebook, merges equal values and (with `dropUnused`) values no weight uses, and
// renumbers `codes` in place. Zero is not a value (a weight coded 0 would be pruned): a value
// rounded to 0 becomes the smallest non-zero float of its sign.
function normalise(centroids: Float32Array, codes: Int32Array, dropUnused = false): { centroids: Float32Array } {
  const used = new Uint8Array(centroids.length);
  for (const c of codes) used[c] = 1;
  const vals = Array.from(centroids, (v, c) => ({ v: v === 0 ? (Object.is(v, -0) ? -(2 ** -24) : 2 ** -24) : v, c }));
  const keep = vals.filter((x) => !dropUnused || used[x.c] === 1).sort((a, b) => a.v - b.v || a.c - b.c);
  const distinct: number[] = [];
  const map = new Int32Array(centroids.length).fill(-1);
  for (const x of keep) {
    if (distinct.length === 0 || distinct[distinct.length - 1] !== x.v) distinct.push(x.v);
    map[x.c] = distinct.length - 1;
  }
  for (let i = 0; i < codes.length; i++) codes[i] = map[codes[i]!]!;
  return { centroids: Float32Array.from(distinct) };
}

/**
 * How much the network's logits move when one convolution alone takes its compressed weights:
 * per layer (our name), the mean squared logit difference over `inputs` against `weights`.
 */
export async function layerSensitivity(
  weights: WeightMap,
  compressed: WeightMap,
  inputs: readonly Float32Array[],
  options: CalibrationOptions = {},
): Promise<Map<string, number>> {
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.0-caffe'];
  if (arch === undefined) throw new InputError(`unknown arch ${JSON.stringify(options.arch)}`);
  const p = plan(arch);
  const base = await SqueezeNet.load({ arch, weights, wasm: options.wasm });
  const reference = inputs.map((x) => Float32Array.from(base.run(x)));
  base.dispose();
  const small = weightMap(compressed);
  const out = new Map<string, number>();
  for (const op of p.convs) {
    const mixed = weightMap(weights);
    for (const part of ['weight', 'bias']) mixed.set(`${op.param}.${part}`, small.get(`${op.param}.${part}`)!);
    const model = await SqueezeNet.load({ arch, weights: mixed, wasm: options.wasm });
    let sum = 0;
    let count = 0;
    inputs.forEach((x, i) => {
      const logits = model.run(x);
      const ref = reference[i]!;
      for (let j = 0; j < logits.length; j++) sum += (logits[j]! - ref[j]!) ** 2;
      count += logits.length;
    });
    model.dispose();
    out.set(op.name, sum / count);
  }
  return out;
}
