// The Deep Compression `.net` file of the released SqueezeNet v1.0 (Han, Mao, Dally, ICLR 2016;
// github.com/songhan/SqueezeNet-Deep-Compression): pruned, weight-shared, relative-position
// sparse storage. Layout (little-endian, no header):
//
//   uint32[26]                    n per layer: entries stored (non-zero weights plus fillers)
//   per layer, in network order:
//     float32[256]                codebook; code 0 is the pruned weight 0.0
//     float32[out_channels]       biases
//     uint8[n]                    codes (8 bits: any byte indexes the 256-entry codebook)
//     uint8[ceil(n/2)]            position gaps, 4 bits each, low nibble first:
//                                 p_i = p_(i-1) + gap_i + 1, p_(-1) = -1, over [out][in][kh][kw];
//                                 longer gaps are bridged by filler entries of code 0
//   end of file, exactly
//
// Everything is checked before any tensor is allocated: a malformed file is a FormatError that
// names the layer and the byte offset, never a RangeError or a hang.

import { ARCHS } from '../arch.js';
import { FormatError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { plan, type ConvOp } from '../plan.js';
import { toBytes, type DecodedTensor, type DecodedWeights } from './common.js';

const FORMAT = 'Deep Compression .net';
const CODEBOOK = 256;
const HEADER_ENTRY = 4;

/** One layer of the file: the Caffe name, the torchvision module path and its shape. */
export interface DeepCompressionLayer {
  /** The name in the Caffe definition: `conv1`, `fire2/conv1x1_1`, ..., `conv_final`. */
  readonly caffe: string;
  /** torchvision's module path: `features.0`, `features.3.squeeze`, ..., `classifier.1`. */
  readonly param: string;
  readonly outC: number;
  readonly inC: number;
  readonly kernel: number;
}

const caffeName = (op: ConvOp): string => {
  if (op.name === 'conv1') return 'conv1';
  if (op.name === 'conv10') return 'conv_final';
  const [fire, branch] = op.name.split('.') as [string, string];
  return `${fire}/${{ squeeze: 'conv1x1_1', expand1x1: 'conv1x1_2', expand3x3: 'conv3x3_2' }[branch]}`;
};

/** The 26 convolutions of the file, in file order (which is the network's order). */
export const DEEP_COMPRESSION_LAYERS: readonly DeepCompressionLayer[] = plan(ARCHS['v1.0-caffe']).convs.map((op) => ({
  caffe: caffeName(op),
  param: op.param,
  outC: op.outC,
  inC: op.inC,
  kernel: op.kernel,
}));

/** Where one layer's parts sit in the file. */
interface Section {
  readonly layer: DeepCompressionLayer;
  readonly label: string;
  readonly n: number;
  readonly numel: number;
  readonly codebook: number;
  readonly bias: number;
  readonly codes: number;
  readonly gaps: number;
  readonly end: number;
}

const fail = (message: string, offset: number, s?: Section): FormatError => new FormatError(message, FORMAT, offset, s?.label);

// Reads the header and lays out every section; checks each count against its tensor and the
// total against the file length, so nothing later can read past the end.
function layout(bytes: Uint8Array, view: DataView, layers: readonly DeepCompressionLayer[]): Section[] {
  const headerEnd = layers.length * HEADER_ENTRY;
  if (bytes.length < headerEnd) {
    throw fail(`file has ${bytes.length} bytes; its header alone is ${headerEnd} (${layers.length} uint32 entry counts)`, bytes.length);
  }
  const sections: Section[] = [];
  let o = headerEnd;
  layers.forEach((layer, i) => {
    const label = `${layer.caffe} (${layer.param})`;
    const n = view.getUint32(i * HEADER_ENTRY, true);
    const numel = layer.outC * layer.inC * layer.kernel * layer.kernel;
    const shape = `[${layer.outC}, ${layer.inC}, ${layer.kernel}, ${layer.kernel}]`;
    if (n > numel) {
      throw new FormatError(
        `header says ${n} entries, more than the ${numel} weights of its ${shape} tensor (each entry takes a position of its own)`,
        FORMAT,
        i * HEADER_ENTRY,
        label,
      );
    }
    const codebook = o;
    const bias = codebook + 4 * CODEBOOK;
    const codes = bias + 4 * layer.outC;
    const gaps = codes + n;
    const end = gaps + Math.ceil(n / 2);
    const s: Section = { layer, label, n, numel, codebook, bias, codes, gaps, end };
    if (end > bytes.length) {
      const part = bytes.length < bias ? 'codebook' : bytes.length < codes ? 'biases' : bytes.length < gaps ? 'codes' : 'position gaps';
      throw fail(
        `file ends inside this layer's ${part}: the header's counts need ${end} bytes up to the end of this layer, the file has ${bytes.length} (truncated, or a count in the header is wrong)`,
        bytes.length,
        s,
      );
    }
    sections.push(s);
    o = end;
  });
  if (o !== bytes.length) {
    const extra = bytes.length - o;
    throw fail(`${extra} byte${extra === 1 ? '' : 's'} after the last layer, which ends at byte ${o}; the file must end there`, o, sections.at(-1));
  }
  return sections;
}

// Codebook and biases finite, code 0 zero, every position inside the tensor.
function check(bytes: Uint8Array, view: DataView, s: Section): void {
  for (let k = 0; k < CODEBOOK; k++) {
    const v = view.getFloat32(s.codebook + 4 * k, true);
    if (!Number.isFinite(v)) throw fail(`codebook entry ${k} is ${v}, not a finite number`, s.codebook + 4 * k, s);
    if (k === 0 && v !== 0) throw fail(`codebook entry 0 is ${v}; it must be 0, the value of pruned weights and fillers`, s.codebook, s);
  }
  for (let c = 0; c < s.layer.outC; c++) {
    const v = view.getFloat32(s.bias + 4 * c, true);
    if (!Number.isFinite(v)) throw fail(`bias ${c} is ${v}, not a finite number`, s.bias + 4 * c, s);
  }
  let p = -1;
  for (let i = 0; i < s.n; i++) {
    const byte = bytes[s.gaps + (i >> 1)]!;
    p += ((i & 1) === 0 ? byte & 15 : byte >> 4) + 1;
    if (p >= s.numel) {
      throw fail(
        `entry ${i} of ${s.n} lands at position ${p}, past the end of the ${s.numel}-weight tensor (the gaps run past the end)`,
        s.gaps + (i >> 1),
        s,
      );
    }
  }
}

/**
 * Decodes a Deep Compression `.net` file of SqueezeNet v1.0 (the released 0.66 MB model): the
 * `v1.0-caffe` network, its tensors under torchvision's names (`features.0.weight` ...
 * `classifier.1.bias`) and the Caffe recipe it was trained with.
 *
 * The whole file is checked first (counts against tensor sizes and the file length, finite
 * codebooks and biases, every position inside its tensor, nothing after the last layer); a
 * malformed file throws a {@link FormatError} naming the layer and the byte offset.
 *
 * ```ts
 * const { arch, weights, recipe } = decodeDeepCompression(bytes);
 * const model = await SqueezeNet.load({ arch, weights, recipe });
 * ```
 */
export function decodeDeepCompression(bytes: Uint8Array | ArrayBuffer): DecodedWeights {
  return {
    format: 'deepcompression',
    arch: 'v1.0-caffe',
    weights: readDeepCompression(bytes),
    recipe: 'caffe',
    recipeSource: { kind: 'architecture', reason: 'a Deep Compression .net holds the released Caffe model (v1.0-caffe), trained in Caffe' },
    notes: [],
  };
}

/**
 * The tensors of a Deep Compression `.net` file, over any table of layers in file order
 * (default {@link DEEP_COMPRESSION_LAYERS}, the released model's). The fuzz tests run it on
 * small synthetic tables, where a decode takes microseconds rather than the milliseconds of the
 * real 1.2M-parameter network.
 */
export function readDeepCompression(
  bytes: Uint8Array | ArrayBuffer,
  layers: readonly DeepCompressionLayer[] = DEEP_COMPRESSION_LAYERS,
): Map<string, DecodedTensor> {
  const b = toBytes(bytes, 'a Deep Compression file');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sections = layout(b, view, layers);
  for (const s of sections) check(b, view, s);

  const out = new Map<string, DecodedTensor>();
  for (const s of sections) {
    const { outC, inC, kernel, param } = s.layer;
    const codebook = new Float32Array(CODEBOOK);
    for (let k = 0; k < CODEBOOK; k++) codebook[k] = view.getFloat32(s.codebook + 4 * k, true);
    const weight = new Float32Array(s.numel);
    let p = -1;
    for (let i = 0; i < s.n; i++) {
      const byte = b[s.gaps + (i >> 1)]!;
      p += ((i & 1) === 0 ? byte & 15 : byte >> 4) + 1;
      weight[p] = codebook[b[s.codes + i]!]!;
    }
    const bias = new Float32Array(outC);
    for (let c = 0; c < outC; c++) bias[c] = view.getFloat32(s.bias + 4 * c, true);
    out.set(`${param}.weight`, { data: weight, shape: [outC, inC, kernel, kernel] });
    out.set(`${param}.bias`, { data: bias, shape: [outC] });
  }
  return out;
}

/**
 * Decodes a Deep Compression `.net` file and loads it as the `v1.0-caffe` network (input 227x227,
 * the Caffe preprocessing, which `classify` then uses). Shorthand for
 * `SqueezeNet.load({ ...options, ...decodeDeepCompression(bytes) })`.
 */
export async function loadDeepCompression(
  bytes: Uint8Array | ArrayBuffer,
  options: Omit<LoadOptions, 'arch' | 'weights'> = {},
): Promise<SqueezeNet> {
  return SqueezeNet.load({ recipe: 'caffe', ...options, arch: 'v1.0-caffe', weights: readDeepCompression(bytes) });
}
