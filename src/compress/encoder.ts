// Deep Compression's pipeline (Han, Mao, Dally, ICLR 2016) from dense or pruned weights to a .sqz
// file, one convolution at a time:
//   prune  -> keep the largest weights (default: keep every non-zero one)
//   share  -> k-means codebook of 2^bits - 1 values over the non-zero weights; code 0 is zero
//   sparse -> each non-zero weight as (gap since the previous one, code); a gap too wide for
//             the layer's gap width is bridged by filler entries (code 0, largest gap)
//   Huffman-> the codes and the gaps, each with its own canonical code per layer
// The gap width is chosen per layer as the one giving the fewest bytes.

import { ARCHS, type Arch, type ArchName } from '../arch.js';
import { InputError } from '../errors.js';
import { plan, type ConvOp } from '../plan.js';
import { checkWeights, type WeightMap } from '../weights.js';
import { SQZ_MAX_WIDTH, streamBytes, writeSqz, type SqzFile, type SqzLayer } from '../formats/sqz.js';
import { toFloat16Bits, fromFloat16Bits } from './float16.js';
import { balanceRounding, kmeans1d, type KMeansMethod } from './kmeans.js';
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
  /** Code width, 1..12 bits: a codebook of up to 2^bits - 1 shared values per layer (default 6). */
  readonly bits?: PerLayer<number>;
  /** Fraction of each layer's weights kept by magnitude pruning, 0..1 (default 1: only zeros are dropped). */
  readonly density?: PerLayer<number>;
  /** Gap width in bits, 1..12, or `auto` (default): the width that gives the smallest layer. */
  readonly gapBits?: PerLayer<number> | 'auto';
  /** Huffman-code the codes and the gaps (default true); false stores them at fixed width. */
  readonly huffman?: boolean;
  /** Store biases as float16 (default false: float32). */
  readonly biasF16?: boolean;
  /**
   * How the codebook is found: `linear` (Lloyd's k-means from centroids spread linearly over
   * [min, max], as Han et al.) or `optimal` (the exact minimum of the same squared error).
   */
  readonly kmeans?: KMeansMethod;
  /**
   * How each weight gets its code: `nearest` centroid, or `balanced` (nearest, then nudged to a
   * neighbouring centroid where that costs least so that each filter's rounding errors sum to ~0).
   */
  readonly rounding?: 'nearest' | 'balanced';
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
  /** The codebook, `codebook[0] = 0`: a weight decodes to `codebook[code]`. */
  readonly codebook: Float32Array;
  /** The code the encoder gave every position of the tensor (0 = zero), [out][in][kh][kw]. */
  readonly codes: Uint16Array;
  /** Bytes of each part of its payload. */
  readonly bytes: { readonly codebook: number; readonly bias: number; readonly codes: number; readonly gaps: number };
}

export interface CompressResult {
  /** The .sqz file. */
  readonly bytes: Uint8Array;
  readonly file: SqzFile;
  readonly layers: readonly CompressedLayer[];
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

/** Entries (with fillers) and symbol frequencies for one gap width, from the histogram of raw gaps. */
function gapPlan(gapHistogram: Map<number, number>, nonzero: number, gapBits: number) {
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

/**
 * Compresses a network's weights into a .sqz file: pruning, a k-means codebook per layer, sparse
 * storage with relative positions, Huffman coding.
 *
 * ```ts
 * const { bytes, sizes } = compress(decodeDeepCompression(net), { bits: 6 });
 * const model = await loadSqz(bytes);
 * ```
 */
export function compress(weights: WeightMap, options: CompressOptions = {}): CompressResult {
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.0-caffe'];
  if (arch === undefined) throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
  const ops = plan(arch).convs;
  const tensors = checkWeights(plan(arch), weights);
  const bitsOf = resolver(options.bits, 6, 'bits', ops);
  const densityOf = resolver(options.density, 1, 'density', ops);
  const gapOf = resolver(options.gapBits === 'auto' ? undefined : options.gapBits, 0, 'gapBits', ops);
  const huffman = options.huffman !== false;
  const biasF16 = options.biasF16 === true;
  const kmeansMethod = options.kmeans ?? 'linear';
  const rounding = options.rounding ?? 'nearest';
  if (kmeansMethod !== 'linear' && kmeansMethod !== 'optimal') throw new InputError(`kmeans must be linear or optimal, got ${String(kmeansMethod)}`);
  if (rounding !== 'nearest' && rounding !== 'balanced') throw new InputError(`rounding must be nearest or balanced, got ${String(rounding)}`);

  const layers: SqzLayer[] = [];
  const reports: Omit<CompressedLayer, 'bytes'>[] = [];
  for (const op of ops) {
    const bits = bitsOf(op);
    const keep = densityOf(op);
    const fixedGap = gapOf(op);
    if (!Number.isInteger(bits) || bits < 1 || bits > SQZ_MAX_WIDTH) throw new InputError(`bits for ${op.name}: ${bits}; 1..${SQZ_MAX_WIDTH} allowed`);
    if (!(keep >= 0 && keep <= 1)) throw new InputError(`density for ${op.name}: ${keep}; 0..1 allowed`);
    if (fixedGap !== 0 && (!Number.isInteger(fixedGap) || fixedGap < 1 || fixedGap > SQZ_MAX_WIDTH)) {
      throw new InputError(`gapBits for ${op.name}: ${fixedGap}; 1..${SQZ_MAX_WIDTH} or auto allowed`);
    }
    const raw = tensors.get(`${op.param}.weight`)!;
    const bias = tensors.get(`${op.param}.bias`)!;
    const w = pruneByMagnitude(raw, keep);
    let nonzeroBefore = 0;
    for (let i = 0; i < raw.length; i++) if (raw[i] !== 0) nonzeroBefore++;

    // Weight sharing over the non-zero weights: code c >= 1 is centroid c - 1.
    const positions: number[] = [];
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) positions.push(i);
    const km = kmeans1d(positions.map((i) => w[i]!), 2 ** bits - 1, kmeansMethod);
    const codebook = new Float32Array(km.centroids.length + 1);
    codebook.set(km.centroids, 1);
    const nearest = Int32Array.from(positions, (i) => km.codeOf(w[i]!));
    if (rounding === 'balanced') {
      const perFilter = w.length / op.outC;
      const groups: number[][] = Array.from({ length: op.outC }, () => []);
      positions.forEach((p, j) => groups[Math.floor(p / perFilter)]!.push(j));
      balanceRounding(positions.map((i) => w[i]!), nearest, km.centroids, groups);
    }
    const codes = new Uint16Array(w.length);
    const codeFreq = new Float64Array(codebook.length);
    positions.forEach((p, j) => {
      const c = nearest[j]! + 1;
      codes[p] = c;
      codeFreq[c]!++;
    });

    // Relative positions: the gap before each non-zero weight; choose the gap width.
    const histogram = new Map<number, number>();
    let last = -1;
    for (const p of positions) {
      const d = p - last - 1;
      histogram.set(d, (histogram.get(d) ?? 0) + 1);
      last = p;
    }
    let gapBits = fixedGap;
    if (gapBits === 0) {
      let best = Infinity;
      for (let g = 1; g <= SQZ_MAX_WIDTH; g++) {
        const gp = gapPlan(histogram, positions.length, g);
        codeFreq[0] = gp.fillers;
        const size = streamBytes(codeFreq, gp.entries, bits, huffman) + streamBytes(gp.gapFreq, gp.entries, g, huffman);
        if (size < best) {
          best = size;
          gapBits = g;
        }
      }
    }
    const span = 2 ** gapBits;
    const { entries, fillers } = gapPlan(histogram, positions.length, gapBits);
    const entryCodes = new Uint16Array(entries);
    const entryGaps = new Uint16Array(entries);
    let e = 0;
    last = -1;
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

    // Biases: float16 only where every value stays finite.
    const f16 = biasF16 && bias.every((v) => Number.isFinite(fromFloat16Bits(toFloat16Bits(v))));
    const storedBias = f16 ? bias.map((v) => fromFloat16Bits(toFloat16Bits(v))) : bias.slice();
    layers.push({
      name: op.param,
      shape: [op.outC, op.inC, op.kernel, op.kernel],
      bits,
      gapBits,
      huffmanCodes: huffman,
      huffmanGaps: huffman,
      biasF16: f16,
      codebook,
      bias: storedBias,
      codes: entryCodes,
      gaps: entryGaps,
    });
    reports.push({
      op: op.name,
      name: op.param,
      shape: [op.outC, op.inC, op.kernel, op.kernel],
      weights: w.length,
      nonzeroBefore,
      nonzero: positions.length,
      entries,
      fillers,
      bits,
      gapBits,
      codebook,
      codes,
    });
  }

  const file: SqzFile = { arch: arch.name, layers };
  const written = writeSqz(file);
  const withBytes = reports.map((r, i) => ({ ...r, bytes: written.layers[i]! }));
  const sum = (f: (b: CompressedLayer['bytes']) => number): number => written.layers.reduce((s, b) => s + f(b), 0);
  return {
    bytes: written.bytes,
    file,
    layers: withBytes,
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
