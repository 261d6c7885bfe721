// Which weight file is this? Each format gets a cheap look at the bytes (`sniff`); the first that
// claims the file decodes it. safetensors and ONNX are told by their first bytes; a Deep
// Compression `.net` has no magic, so it is claimed only when its 26 entry counts add up to the
// file's exact length. A format with its own magic bytes joins with `registerWeightFormat`.

import { ARCHS, describeArch, withPooling, type ArchName } from '../arch.js';
import { FormatError, InputError, WeightError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { expectedWeights, plan } from '../plan.js';
import { toBytes, type DecodedWeights } from './common.js';
import { DEEP_COMPRESSION_LAYERS, decodeDeepCompression, readDeepCompression } from './deepcompression.js';
import { decodeOnnx } from './onnx-match.js';
import { inferRecipe } from './recipe.js';
import { archsFitting, decodeSafetensors, fitArch } from './safetensors.js';
import { decodeSqz, isSqz } from './sqz.js';

/** One weight file format `decodeWeights` knows. */
export interface WeightFormat {
  /** Short name, reported as `LoadedWeights.format`. */
  readonly name: string;
  /** How messages name it: `safetensors`, `ONNX`, `Deep Compression .net`. */
  readonly description: string;
  /**
   * True when the bytes are this format's (magic bytes, or a structure check that other files
   * fail). Must be cheap and must not throw. Once a format claims a file, its decoder's errors
   * are the ones reported.
   */
  sniff(bytes: Uint8Array): boolean;
  decode(bytes: Uint8Array): DecodedWeights;
}

/** safetensors: an 8-byte little-endian header length below 2^32, then the JSON header's '{'. */
export const SAFETENSORS_FORMAT: WeightFormat = {
  name: 'safetensors',
  description: 'safetensors',
  sniff: (b) => b.length >= 9 && b[8] === 0x7b && b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] === 0 && (b[0]! | b[1]! | b[2]! | b[3]!) !== 0,
  decode: decodeSafetensors,
};

// ModelProto's fields, as tag bytes (field << 3 | wire type): what may follow ir_version.
const MODEL_TAGS = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca]);

/**
 * ONNX: a protobuf ModelProto, which writers begin with field 1, ir_version (tag 0x08, a small
 * varint), followed by another ModelProto field (producer_name, ..., graph, opset_import).
 */
export const ONNX_FORMAT: WeightFormat = {
  name: 'onnx',
  description: 'ONNX',
  sniff: (b) => b.length >= 3 && b[0] === 0x08 && b[1]! >= 1 && b[1]! < 0x80 && MODEL_TAGS.has(b[2]!),
  decode: decodeOnnx,
};

/** The Deep Compression header: 26 entry counts, each at most its tensor's size. */
function deepCompressionSize(b: Uint8Array): { plausible: boolean; size: number } {
  const L = DEEP_COMPRESSION_LAYERS;
  if (b.length < 4 * L.length) return { plausible: false, size: NaN };
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let size = 4 * L.length;
  let plausible = true;
  L.forEach((l, i) => {
    const n = view.getUint32(4 * i, true);
    if (n > l.outC * l.inC * l.kernel * l.kernel) plausible = false;
    size += 4 * 256 + 4 * l.outC + n + Math.ceil(n / 2);
  });
  return { plausible, size };
}

/** Deep Compression `.net`: no magic; claimed when the header's counts give exactly the file's length. */
export const DEEP_COMPRESSION_FORMAT: WeightFormat = {
  name: 'deepcompression',
  description: 'Deep Compression .net',
  sniff: (b) => {
    const h = deepCompressionSize(b);
    return h.plausible && h.size === b.length;
  },
  decode: decodeDeepCompression,
};

/** The project's own compressed container: magic bytes `\x89SQZ\r\n\x1a\n`; it names its network. */
export const SQZ_WEIGHT_FORMAT: WeightFormat = {
  name: 'sqz',
  description: '.sqz',
  sniff: isSqz,
  decode: decodeSqz,
};

/**
 * The formats `decodeWeights` tries, in order. Add one with {@link registerWeightFormat}. The
 * magic-byte formats come first, then Deep Compression (exact length agreement is a very
 * specific test), then the formats told by their first bytes.
 */
export const WEIGHT_FORMATS: WeightFormat[] = [SQZ_WEIGHT_FORMAT, DEEP_COMPRESSION_FORMAT, SAFETENSORS_FORMAT, ONNX_FORMAT];

/**
 * Adds a format to those {@link decodeWeights} tries, before the built-in ones (a format with magic
 * bytes is surest). Registering a name again replaces the earlier entry.
 */
export function registerWeightFormat(format: WeightFormat): void {
  const i = WEIGHT_FORMATS.findIndex((f) => f.name === format.name);
  if (i >= 0) WEIGHT_FORMATS.splice(i, 1);
  WEIGHT_FORMATS.unshift(format);
}

/** The format that claims these bytes, or undefined. */
export function detectWeightFormat(bytes: Uint8Array | ArrayBuffer): WeightFormat | undefined {
  const b = toBytes(bytes, 'a weight file');
  return WEIGHT_FORMATS.find((f) => {
    try {
      return f.sniff(b);
    } catch {
      return false;
    }
  });
}

const hex = (b: Uint8Array, n: number): string =>
  [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > n ? ' ...' : '');

export interface DecodeWeightsOptions {
  /**
   * Run the weights as this network instead of the inferred one, e.g. `'v1.0-caffe'` or
   * `'simple-bypass'` for v1.0 weights (conv10 keeps the file's classes). It must have exactly
   * the file's tensors, and for ONNX it must be the graph's own network.
   */
  readonly arch?: ArchName;
}

/**
 * Reads a weight file of any known format ({@link WEIGHT_FORMATS}: .sqz, Deep Compression
 * `.net`, safetensors, ONNX, and any registered) and tells what it holds: the network, the
 * tensors under torchvision's names, the preprocessing the weights expect and where that came
 * from (`recipeSource`: the file's metadata, evidence of Caffe training, or a default guess):
 *
 * ```ts
 * const { arch, weights, recipe } = decodeWeights(await readFile('squeezenet1_1.onnx'));
 * const model = await SqueezeNet.load({ arch, weights, recipe });
 * const top5 = classify(model, pixels);   // preprocessed with `recipe`
 * ```
 *
 * A file no format claims is a {@link FormatError} that shows its first bytes. A file whose
 * first 104 bytes read as a Deep Compression header (26 counts, each at most its tensor's size)
 * but whose length does not add up is reported as that: a damaged `.net`.
 */
export function decodeWeights(bytes: Uint8Array | ArrayBuffer, options: DecodeWeightsOptions = {}): DecodedWeights {
  const b = toBytes(bytes, 'a weight file');
  const format = detectWeightFormat(b);
  let decoded: DecodedWeights;
  if (format) {
    decoded = format.decode(b);
  } else {
    if (deepCompressionSize(b).plausible) readDeepCompression(b); // throws its FormatError: layer and byte
    const names = WEIGHT_FORMATS.map((f) => f.description);
    const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? 'known weight');
    throw new FormatError(
      `not a ${list} file: ${b.length === 0 ? 'it is empty' : `first bytes are ${hex(b, 16)}`} (${b.length} bytes)`,
      'weight file',
      0,
    );
  }
  const name = typeof decoded.arch === 'string' ? decoded.arch : decoded.arch.name;
  if (options.arch === undefined || (options.arch === decoded.arch)) return decoded;
  if (!Object.hasOwn(ARCHS, options.arch)) throw new InputError(`unknown arch ${options.arch}; one of ${Object.keys(ARCHS).join(', ')}`);
  if (decoded.format === 'onnx') {
    if (options.arch === name) return decoded;
    throw new InputError(`this ONNX graph is ${describeArch(decoded.arch)}, it cannot run as ${options.arch} (the graph fixes the network)`);
  }
  if (!archsFitting(decoded.weights).includes(options.arch)) {
    const want = expectedWeights(plan(ARCHS[options.arch]));
    const missing = [...want.keys()].find((n) => !decoded.weights.has(n));
    throw new WeightError(
      `the ${decoded.format} weights (${describeArch(decoded.arch)}) do not fit ${options.arch}${missing ? `: no ${missing}` : ''}`,
      missing ?? '(weights)',
    );
  }
  // The same tensors as another network: conv10's classes and the pools' rounding stay the file's.
  const table = typeof decoded.arch === 'string' ? ARCHS[decoded.arch] : decoded.arch;
  const floor = table.layers.some((l) => l.kind === 'maxpool' && !l.ceil);
  let arch = fitArch(decoded.weights, options.arch);
  if (floor) arch = withPooling(typeof arch === 'string' ? ARCHS[arch] : arch, 'floor');
  if (decoded.recipeSource.kind === 'metadata') return { ...decoded, arch };
  const r = inferRecipe(arch, undefined);
  return { ...decoded, arch, recipe: r.recipe, recipeSource: r.recipeSource };
}

/** Options of {@link load}: those of `SqueezeNet.load` but the weights, with `arch` a name (see {@link DecodeWeightsOptions}). */
export type LoadFileOptions = Omit<LoadOptions, 'weights' | 'arch'> & DecodeWeightsOptions;

/**
 * Reads a weight file of any known format ({@link decodeWeights}) and loads the network with
 * the recipe the file's weights expect (`options.recipe` overrides it), so that
 * `classify(model, pixels)` preprocesses them right:
 *
 * ```ts
 * const model = await load(await readFile('squeezenet1_1.onnx'));
 * const top5 = classify(model, pixels);
 * ```
 */
export async function load(bytes: Uint8Array | ArrayBuffer, options: LoadFileOptions = {}): Promise<SqueezeNet> {
  const d = decodeWeights(bytes, options.arch === undefined ? {} : { arch: options.arch });
  const fixed = (d as { fixedInputSize?: readonly [number, number] }).fixedInputSize;
  return SqueezeNet.load({ ...(fixed ? { inputSize: fixed } : {}), ...options, arch: d.arch, weights: d.weights, recipe: options.recipe ?? d.recipe });
}
