// Deep Compression's pipeline (Han, Mao, Dally, ICLR 2016) from dense or pruned weights to a .sqz
// file, one convolution at a time (the defaults are what keeps the 8-bit model's predictions
// best per byte without retraining, which Han et al. had; docs/COMPRESSION.md measures them):
//   prune   -> keep the largest weights (default: keep every non-zero one)
//   share   -> a codebook per layer over the non-zero weights (code 0 is zero): k-means with
//              2^bits - 1 values, or entropy-constrained clustering with a rate trade-off lambda
//   round   -> each weight to its nearest value, or `balanced` so each filter's errors sum to ~0
//   sparse  -> each non-zero weight as (gap since the previous one, code); a gap too wide for
//              the layer's gap width is bridged by filler entries (code 0, largest gap)
//   Huffman -> the codes and the gaps, each with its own canonical code per layer
// The gap width is chosen per layer as the one giving the fewest bytes. With `maxBytes`, lambda
// is searched (one value for every layer) for the most accurate file that fits.

import { ARCHS, type Arch, type ArchName } from '../arch.js';
import { InputError } from '../errors.js';
import { plan, type ConvOp } from '../plan.js';
import { checkWeights, type WeightMap } from '../weights.js';
import { SQZ_MAX_WIDTH, sqzArchMetadata, streamBytes, writeSqz, type SqzFile, type SqzLayer } from '../formats/sqz.js';
import { roundFloat16 } from '../codec/float16.js';
import { balanceRounding, kmeans1d, type KMeansMethod } from './kmeans.js';
import { refineLayer, type CalibrationStatistics } from './calibrate.js';
import { pruneByMagnitude } from './pruning.js';

/**
 * One value for every layer, or per layer: `{ '*': 6, conv1: 8 }`. A key is a layer's name
 * (`conv1`, `fire2.squeeze`, `conv10`) or its torchvision path (`features.0`, `classifier.1`);
 * `'*'` is the default for the rest.
 */
export type PerLayer<T> = T | { readonly [layer: string]: T };

export interface CompressOptions {
  /** The network the weights belong to (default `v1.0-caffe`, the Deep Compression model's). */
  readonly arch?: ArchName | Arch;
  /**
   * Code width, 1..12 bits: a codebook of at most 2^bits - 1 shared values per layer (default 6
   * for `linear` and `optimal` k-means, 8 for `entropy`, where it is only a cap).
   */
  readonly bits?: PerLayer<number>;
  /**
   * How the codebook is found: `entropy` (the default: entropy-constrained clustering, squared
   * error plus `lambda` times the bits of the Huffman-coded codes), `linear` (Lloyd's k-means from
   * centroids spread linearly over [min, max], as Han et al.) or `optimal` (the exact minimum of
   * the k-means squared error).
   */
  readonly kmeans?: KMeansMethod;
  /** `entropy` only: the trade-off, relative squared error per bit (default {@link DEFAULT_LAMBDA}). */
  readonly lambda?: number;
  /**
   * `entropy` only: lambda's multiplier per layer (default 1): above 1 a layer gets coarser
   * codebooks, below 1 finer ones, e.g. by how little, or how much, the network's output moves
   * when that layer alone is quantised (`layerSensitivity`, as `compressCalibrated` does).
   */
  readonly lambdaScale?: PerLayer<number>;
  /** `entropy` only: search lambda for the most accurate file of at most this many bytes. */
  readonly maxBytes?: number;
  /**
   * With `maxBytes`: called after each file the search tries (`lambda 2.20e-4: 421,034 bytes,
   * budget 420,000`), for a progress line; a search encodes the network up to about 25 times.
   */
  readonly progress?: (message: string) => void;
  /**
   * How each weight gets its code: `balanced` (the default: nearest, then nudged to a
   * neighbouring centroid where that costs least, so each filter's errors sum to ~0), or the
   * `nearest` centroid.
   */
  readonly rounding?: 'nearest' | 'balanced';
  /** Fraction of each layer's weights kept by magnitude pruning, 0..1 (default 1: only zeros are dropped). */
  readonly density?: PerLayer<number>;
  /** Gap width in bits, 1..12, or `auto` (default): the width that gives the smallest layer. */
  readonly gapBits?: PerLayer<number> | 'auto';
  /** Huffman-code the codes and the gaps (default true); false stores them at fixed width. */
  readonly huffman?: boolean;
  /**
   * The .sqz version to write: 3 puts each layer's codebook, biases and weights in one
   * context-modelled range-coded stream (smaller, slower to decode; `huffman` and the gap widths
   * then do not apply); 1 (the default) Huffman or fixed-width streams, as version 2 when there
   * is metadata.
   */
  readonly version?: 1 | 3;
  /**
   * Input statistics of every convolution on calibration images (`calibrationStatistics`): each
   * layer's codebook and codes are then refined to reproduce its output on them rather than its
   * weights (GPTQ rounding and least-squares codebooks, then bias correction; src/compress/
   * calibrate.ts). Without it, compression uses the weights alone.
   */
  readonly calibration?: CalibrationStatistics;
  /**
   * Text written into the file's metadata (a version 2 .sqz), e.g. `{ recipe: 'caffe' }` for the
   * preprocessing the weights expect. A network whose pools round otherwise than the one it is
   * named for gets `maxpool` added.
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Store biases as float16 (default true; false: float32). */
  readonly biasF16?: boolean;
  /** Store codebook values as float16 (default true; false: float32); codes are chosen against the rounded values. */
  readonly codebookF16?: boolean;
}

/** What happened to one layer. */
export interface CompressedLayer {
  /** Our name (`fire2.squeeze`) and the torchvision path the file stores (`features.3.squeeze`). */
  readonly op: string;
  readonly name: string;
  readonly shape: readonly [number, number, number, number];
  readonly weights: number;
  /** Non-zero weights before and after pruning. */
  readonly nonzeroBefore: number;
  readonly nonzero: number;
  /** Stored entries: the non-zero weights plus fillers. */
  readonly entries: number;
  readonly fillers: number;
  readonly bits: number;
  readonly gapBits: number;
  /** Every position stored, zeros as code 0, every gap 0 (gapBits is then 1). */
  readonly dense: boolean;
  /** The codebook, `codebook[0] = 0`: a weight decodes to `codebook[code]`. */
  readonly codebook: Float32Array;
  /** The code the encoder gave every position of the tensor (0 = zero), [out][in][kh][kw]. */
  readonly codes: Uint16Array;
  /** Sum of squared differences between the weights and what they decode to, over the sum of squared weights. */
  readonly relativeError: number;
  /**
   * With calibration: the layer's output error on the calibration inputs, sum over filters of
   * (w - q)^T G (w - q), over that of all-zero weights, before refinement (nearest codes) and after.
   */
  readonly outputError?: { readonly before: number; readonly after: number };
  /** Bytes of each part of its payload. */
  readonly bytes: { readonly codebook: number; readonly bias: number; readonly codes: number; readonly gaps: number };
}

export interface CompressResult {
  /** The .sqz file. */
  readonly bytes: Uint8Array;
  readonly file: SqzFile;
  readonly layers: readonly CompressedLayer[];
  /** `entropy`: the lambda used (searched when `maxBytes` was given). */
  readonly lambda: number | undefined;
  /** Bytes by part, over the whole file; `total` is the file's length. */
  readonly sizes: {
    readonly header: number;
    readonly codebooks: number;
    readonly biases: number;
    readonly codes: number;
    readonly gaps: number;
    readonly total: number;
  };
}

/** The value of a per-layer setting for one layer. Throws InputError for a key naming no layer. */
function resolver<T>(setting: PerLayer<T> | undefined, fallback: T, what: string, ops: readonly ConvOp[]): (op: ConvOp) => T {
  if (setting === undefined || typeof setting !== 'object' || setting === null) {
    const v = (setting ?? fallback) as T;
    return () => v;
  }
  const table = setting as { readonly [layer: string]: T };
  const names = new Set(ops.flatMap((o) => [o.name, o.param]));
  for (const key of Object.keys(table)) {
    if (key !== '*' && !names.has(key)) {
      throw new InputError(`${what}: no layer named ${JSON.stringify(key)}; layers are ${ops.map((o) => o.name).join(', ')} (or their torchvision paths)`);
    }
  }
  return (op) => table[op.name] ?? table[op.param] ?? table['*'] ?? fallback;
}

/** Entries (with fillers) and gap symbol frequencies for one gap width, from the histogram of raw gaps. */
function gapPlan(gapHistogram: ReadonlyMap<number, number>, nonzero: number, gapBits: number) {
  const span = 2 ** gapBits;
  const gapFreq = new Float64Array(span);
  let fillers = 0;
  for (const [d, count] of gapHistogram) {
    const f = Math.floor(d / span);
    fillers += f * count;
    gapFreq[span - 1]! += f * count;
    gapFreq[d % span]! += count;
  }
  return { entries: nonzero + fillers, fillers, gapFreq };
}

/** A layer after pruning: what does not depend on the codebook. */
interface Pruned {
  readonly op: ConvOp;
  readonly bits: number;
  readonly fixedGap: number;
  readonly weights: number;
  readonly nonzeroBefore: number;
  /** Positions of the kept weights, ascending, and their values. */
  readonly positions: Int32Array;
  readonly values: Float32Array;
  readonly energy: number;
  readonly histogram: ReadonlyMap<number, number>;
  readonly bias: Float32Array;
  /** This layer's multiplier of lambda. */
  readonly lambdaScale: number;
}

interface Settings {
  readonly kmeans: KMeansMethod;
  readonly rounding: 'nearest' | 'balanced';
  readonly huffman: boolean;
  readonly biasF16: boolean;
  readonly codebookF16: boolean;
  readonly version: 1 | 3;
  readonly calibration: CalibrationStatistics | undefined;
}

function prune(op: ConvOp, raw: Float32Array, bias: Float32Array, bits: number, keep: number, fixedGap: number, lambdaScale: number): Pruned {
  const w = pruneByMagnitude(raw, keep);
  let nonzeroBefore = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] !== 0) nonzeroBefore++;
  const pos: number[] = [];
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) pos.push(i);
  const positions = Int32Array.from(pos);
  const values = Float32Array.from(pos, (i) => w[i]!);
  let energy = 0;
  for (const v of values) energy += v * v;
  const histogram = new Map<number, number>();
  let last = -1;
  for (const p of positions) {
    const d = p - last - 1;
    histogram.set(d, (histogram.get(d) ?? 0) + 1);
    last = p;
  }
  return { op, bits, fixedGap, weights: w.length, nonzeroBefore, positions, values, energy, histogram, bias, lambdaScale };
}

/** Index of the value nearest to v in an ascending array (ties: the lower). */
function nearestIndex(sorted: Float32Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid;
    else hi = mid;
  }
  return Math.abs(v - sorted[lo]!) <= Math.abs(v - sorted[hi]!) ? lo : hi;
}

function quantize(l: Pruned, s: Settings, lambda: number): { layer: SqzLayer; report: Omit<CompressedLayer, 'bytes'> } {
  const { op, bits, positions, values } = l;
  // Weight sharing over the kept weights: code c >= 1 is centroid c - 1.
  const km = kmeans1d(values, 2 ** bits - 1, s.kmeans, lambda * l.lambdaScale);
  let centroids: Float32Array = s.codebookF16 ? Float32Array.from(new Set(Array.from(km.centroids, roundFloat16))).sort() : km.centroids;
  if (centroids.some((c) => !Number.isFinite(c))) throw new InputError(`${op.name}: a codebook value does not fit float16; store the codebook as float32`);
  let nearest: Int32Array = Int32Array.from(values, (v) => nearestIndex(centroids, v));
  let bias = l.bias;
  let outputError: CompressedLayer['outputError'];
  const stats = s.calibration?.get(op.name);
  if (s.calibration !== undefined && stats === undefined) throw new InputError(`calibration statistics have no layer ${op.name}`);
  if (stats !== undefined && centroids.length > 0) {
    const r = refineLayer({ outC: op.outC, dim: l.weights / op.outC, positions, values, centroids, bias: l.bias, float16: s.codebookF16 }, stats);
    centroids = r.centroids;
    nearest = r.codes;
    bias = r.bias;
    outputError = { before: r.errorBefore, after: r.errorAfter };
  } else if (s.rounding === 'balanced' && centroids.length > 1) {
    const perFilter = l.weights / op.outC;
    const groups: number[][] = Array.from({ length: op.outC }, () => []);
    positions.forEach((p, j) => groups[Math.floor(p / perFilter)]!.push(j));
    balanceRounding(values, nearest, centroids, groups);
  }
  const codebook = new Float32Array(centroids.length + 1);
  codebook.set(centroids, 1);
  const codes = new Uint16Array(l.weights);
  const codeFreq = new Float64Array(codebook.length);
  let sse = 0;
  positions.forEach((p, j) => {
    const c = nearest[j]! + 1;
    codes[p] = c;
    codeFreq[c]!++;
    sse += (values[j]! - codebook[c]!) ** 2;
  });

  // Relative positions: the gap before each kept weight; the gap width that makes the layer smallest.
  let gapBits = l.fixedGap;
  let dense = false;
  if (gapBits === 0) {
    let best = Infinity;
    for (let g = 1; g <= SQZ_MAX_WIDTH; g++) {
      const gp = gapPlan(l.histogram, positions.length, g);
      codeFreq[0] = gp.fillers;
      const size = streamBytes(codeFreq, gp.entries, bits, s.huffman) + streamBytes(gp.gapFreq, gp.entries, g, s.huffman);
      if (size < best) {
        best = size;
        gapBits = g;
      }
    }
    // Or every position an entry, the zeros coded as code 0, so that every gap is 0: a Huffman
    // gap stream of one symbol costs no bits, where coded gaps cost at least a bit per entry.
    // That wins for layers that are ~99 % dense.
    codeFreq[0] = l.weights - positions.length;
    const allZero = Float64Array.of(l.weights);
    if (streamBytes(codeFreq, l.weights, bits, s.huffman) + streamBytes(allZero, l.weights, 1, s.huffman) < best) {
      dense = true;
      gapBits = 1;
    }
  }
  let entries: number;
  let fillers: number;
  let entryCodes: Uint16Array;
  let entryGaps: Uint16Array;
  if (dense) {
    entries = l.weights;
    fillers = l.weights - positions.length;
    entryCodes = codes;
    entryGaps = new Uint16Array(entries);
  } else {
    const span = 2 ** gapBits;
    ({ entries, fillers } = gapPlan(l.histogram, positions.length, gapBits));
    entryCodes = new Uint16Array(entries);
    entryGaps = new Uint16Array(entries);
    let e = 0;
    let last = -1;
    for (const p of positions) {
      let d = p - last - 1;
      while (d >= span) {
        entryGaps[e++] = span - 1;
        d -= span;
      }
      entryCodes[e] = codes[p]!;
      entryGaps[e++] = d;
      last = p;
    }
  }

  // Biases: float16 only where every value stays finite.
  const f16 = s.biasF16 && bias.every((v) => Number.isFinite(roundFloat16(v)));
  const shape: [number, number, number, number] = [op.outC, op.inC, op.kernel, op.kernel];
  return {
    layer: {
      name: op.param,
      shape,
      bits,
      gapBits,
      huffmanCodes: s.huffman,
      huffmanGaps: s.huffman,
      biasF16: f16,
      codebookF16: s.codebookF16,
      codebook,
      bias: f16 ? bias.map(roundFloat16) : bias.slice(),
      codes: entryCodes,
      gaps: entryGaps,
    },
    report: {
      op: op.name,
      name: op.param,
      shape,
      weights: l.weights,
      nonzeroBefore: l.nonzeroBefore,
      nonzero: positions.length,
      entries,
      fillers,
      bits,
      gapBits,
      dense,
      codebook,
      codes,
      relativeError: l.energy > 0 ? sse / l.energy : 0,
      ...(outputError !== undefined ? { outputError } : {}),
    },
  };
}

function encode(pruned: readonly Pruned[], s: Settings, lambda: number, archName: string, metadata: Readonly<Record<string, string>>): CompressResult {
  const done = pruned.map((l) => quantize(l, s, lambda));
  const file: SqzFile = { arch: archName, version: s.version, ...(Object.keys(metadata).length > 0 ? { metadata } : {}), layers: done.map((d) => d.layer) };
  const written = writeSqz(file);
  const sum = (f: (b: CompressedLayer['bytes']) => number): number => written.layers.reduce((t, b) => t + f(b), 0);
  return {
    bytes: written.bytes,
    file,
    layers: done.map((d, i) => ({ ...d.report, bytes: written.layers[i]! })),
    lambda: s.kmeans === 'entropy' ? lambda : undefined,
    sizes: {
      header: written.header,
      codebooks: sum((b) => b.codebook),
      biases: sum((b) => b.bias),
      codes: sum((b) => b.codes),
      gaps: sum((b) => b.gaps),
      total: written.bytes.length,
    },
  };
}

/**
 * The default trade-off of `entropy` clustering, relative squared error per bit: on the Deep
 * Compression SqueezeNet it gives the most accurate file under 480,000 bytes (docs/COMPRESSION.md).
 */
export const DEFAULT_LAMBDA = 2.2e-4;

/**
 * Compresses a network's weights into a .sqz file: pruning, a codebook per layer, sparse storage
 * with relative positions, Huffman coding. Deterministic: the same weights and options give the
 * same bytes.
 *
 * ```ts
 * const { bytes, sizes } = compress(decodeDeepCompression(net).weights);            // under 480,000 bytes
 * const paper = compress(weights, { kmeans: 'linear', bits: 6, rounding: 'nearest' }); // Han et al.'s recipe
 * const model = await loadSqz(bytes);
 * ```
 */
export function compress(weights: WeightMap, options: CompressOptions = {}): CompressResult {
  const { arch, pruned, settings, lambda, metadata } = prepare(weights, options);
  if (options.maxBytes === undefined) return encode(pruned, settings, lambda, arch.name, metadata);
  const progress = options.progress ?? ((): void => undefined);
  if (settings.calibration === undefined) return searchLambda(pruned, settings, arch.name, metadata, options.maxBytes, progress);
  // With calibration the refinement is slow and moves the size: search lambda without it, refine
  // once, and search again for a budget moved by the difference while the refined file is too
  // large, or more than 0.2 % smaller than allowed (at most 4 refinements; the largest that fits wins).
  const max = options.maxBytes;
  const dataFree: Settings = { ...settings, calibration: undefined };
  let budget = max;
  let last: CompressResult | undefined;
  let best: CompressResult | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const found = searchLambda(pruned, dataFree, arch.name, metadata, budget, progress);
    last = encode(pruned, settings, found.lambda!, arch.name, metadata);
    const total = last.sizes.total;
    progress(`refined to the calibration at lambda ${found.lambda!.toExponential(2)}: ${total.toLocaleString('en-US')} bytes, budget ${max.toLocaleString('en-US')}`);
    if (total <= max && (best === undefined || total > best.sizes.total)) best = last;
    if (total <= max && total >= max * 0.998) break;
    budget += total > max ? -(Math.ceil((total - max) * 1.25) + 256) : Math.floor((max - total) * 0.9);
  }
  if (best !== undefined) return best;
  throw new InputError(`the calibrated file stays above maxBytes ${max} (${last!.sizes.total} bytes); give more bytes`);
}

/**
 * One layer's weights and bias (`layer`: our name or its torchvision path) as `compress` with
 * the same options and a fixed `lambda` stores them, decoded: for calibration passes that need a
 * layer's compressed form before the next layer's (src/compress/sequential.ts). With
 * `calibration`, only that layer's statistics are needed.
 *
 * @throws InputError as `compress`, and for `maxBytes` (give the lambda) or an unknown layer.
 */
export function compressLayer(weights: WeightMap, layer: string, options: CompressOptions): { weight: Float32Array; bias: Float32Array } {
  if (options.maxBytes !== undefined) throw new InputError('compressLayer takes a lambda, not maxBytes');
  const { pruned, settings, lambda } = prepare(weights, options, layer);
  const l = pruned[0];
  if (l === undefined) throw new InputError(`no layer named ${JSON.stringify(layer)}`);
  const { layer: stored, report } = quantize(l, settings, lambda);
  return { weight: Float32Array.from(report.codes, (c) => report.codebook[c]!), bias: Float32Array.from(stored.bias) };
}

// Checks the weights and options, and prunes every layer, or only `layer` (our name or its
// torchvision path; none when no layer has that name).
function prepare(weights: WeightMap, options: CompressOptions, layer?: string) {
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.0-caffe'];
  if (arch === undefined) throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
  const p = plan(arch);
  const tensors = checkWeights(p, weights);
  const metadata = { ...sqzArchMetadata(arch), ...options.metadata };
  const kmeans = options.kmeans ?? 'entropy';
  const rounding = options.rounding ?? 'balanced';
  if (!['linear', 'optimal', 'entropy'].includes(kmeans)) throw new InputError(`kmeans must be linear, optimal or entropy, got ${String(kmeans)}`);
  if (rounding !== 'nearest' && rounding !== 'balanced') throw new InputError(`rounding must be nearest or balanced, got ${String(rounding)}`);
  if (kmeans !== 'entropy' && (options.lambda !== undefined || options.maxBytes !== undefined)) {
    throw new InputError('lambda and maxBytes apply to entropy-constrained clustering only (kmeans: "entropy")');
  }
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new InputError(`lambda must be a finite number >= 0, got ${lambda}`);
  if (options.maxBytes !== undefined && !(options.maxBytes > 0)) throw new InputError(`maxBytes must be positive, got ${options.maxBytes}`);
  const bitsOf = resolver(options.bits, kmeans === 'entropy' ? 8 : 6, 'bits', p.convs);
  const densityOf = resolver(options.density, 1, 'density', p.convs);
  const scaleOf = resolver(options.lambdaScale, 1, 'lambdaScale', p.convs);
  const gapOf = resolver(options.gapBits === 'auto' ? undefined : options.gapBits, 0, 'gapBits', p.convs);
  const settings: Settings = {
    kmeans,
    rounding,
    huffman: options.huffman !== false,
    biasF16: options.biasF16 !== false,
    codebookF16: options.codebookF16 !== false,
    version: options.version ?? 1,
    calibration: options.calibration,
  };
  if (settings.version !== 1 && settings.version !== 3) throw new InputError(`version must be 1 or 3, got ${String(options.version)}`);

  const ops = layer === undefined ? p.convs : p.convs.filter((op) => op.name === layer || op.param === layer);
  const pruned = ops.map((op) => {
    const bits = bitsOf(op);
    const keep = densityOf(op);
    const fixedGap = gapOf(op);
    if (!Number.isInteger(bits) || bits < 1 || bits > SQZ_MAX_WIDTH) throw new InputError(`bits for ${op.name}: ${bits}; 1..${SQZ_MAX_WIDTH} allowed`);
    if (!(keep >= 0 && keep <= 1)) throw new InputError(`density for ${op.name}: ${keep}; 0..1 allowed`);
    if (fixedGap !== 0 && (!Number.isInteger(fixedGap) || fixedGap < 1 || fixedGap > SQZ_MAX_WIDTH)) {
      throw new InputError(`gapBits for ${op.name}: ${fixedGap}; 1..${SQZ_MAX_WIDTH} or auto allowed`);
    }
    const scale = scaleOf(op);
    if (!(scale > 0) || !Number.isFinite(scale)) throw new InputError(`lambdaScale for ${op.name}: ${scale}; a positive number`);
    return prune(op, tensors.get(`${op.param}.weight`)!, tensors.get(`${op.param}.bias`)!, bits, keep, fixedGap, scale);
  });
  return { arch, pruned, settings, lambda, metadata };
}

/** The most accurate file of at most `max` bytes: the smallest lambda that fits, by bisection of log(lambda). */
function searchLambda(
  pruned: readonly Pruned[],
  settings: Settings,
  archName: string,
  metadata: Readonly<Record<string, string>>,
  max: number,
  progress: (message: string) => void,
): CompressResult {
  const tried = (lambda: number): CompressResult => {
    const r = encode(pruned, settings, lambda, archName, metadata);
    progress(`lambda ${lambda.toExponential(2)}: ${r.sizes.total.toLocaleString('en-US')} bytes, budget ${max.toLocaleString('en-US')}`);
    return r;
  };
  // The file shrinks as lambda grows.
  let lo = Math.log(1e-7);
  let hi = Math.log(1);
  let best = tried(Math.exp(hi));
  if (best.sizes.total > max) {
    throw new InputError(`even the coarsest codebooks give ${best.sizes.total} bytes, more than maxBytes ${max}; prune more (density) or store less`);
  }
  const first = tried(Math.exp(lo));
  if (first.sizes.total <= max) return first;
  // Stop when the file is within 0.2 % of the budget, or lambda within 1 %.
  for (let i = 0; i < 24 && hi - lo > 0.01 && best.sizes.total < max * 0.998; i++) {
    const mid = (lo + hi) / 2;
    const r = tried(Math.exp(mid));
    if (r.sizes.total <= max) {
      best = r;
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return best;
}
