// What every weight format shares: bytes in, tensors and weights out.
//
// The naming rule of src/formats, one verb per kind of result:
//   read<Format>(bytes)    the file's own structure, nothing inferred (readOnnx: the ModelProto's
//                          graph; readSqz: the layers; readSafetensors: the tensors and metadata)
//   decode<Format>(bytes)  weights ready for the engine: DecodedWeights (network, tensors under
//                          torchvision's names, the preprocessing and why, notes); decodeWeights
//                          for a file of any format
//   load<Format>(bytes)    a running SqueezeNet (decode, then SqueezeNet.load with the recipe);
//                          load for a file of any format

import type { Arch, ArchName } from '../arch.js';
import { fromFloat16Bits, halfTable } from '../codec/float16.js';
import { InputError } from '../errors.js';
import type { Recipe } from '../preprocess.js';

export { halfTable };
/** The value of an IEEE binary16 bit pattern (0..0xFFFF), exactly. */
export const halfToFloat = fromFloat16Bits;

/** A decoded tensor: values and shape, as `SqueezeNet.load` takes them. */
export interface DecodedTensor {
  readonly data: Float32Array;
  readonly shape: number[];
}

/**
 * Where a file's recipe came from:
 * - `metadata`: the file says so (`.sqz` metadata, safetensors `__metadata__`, ONNX
 *   `metadata_props`, key `recipe`);
 * - `architecture`: evidence in the network or the file that it was trained in Caffe (v1.0 in
 *   its Caffe form with conv10 padded, a 227x227 input, a Caffe or Caffe2 producer, the model
 *   zoo's `data_0` input name, a Deep Compression `.net`);
 * - `default`: no evidence either way, so torchvision's, a guess (the CLI warns about it).
 */
export interface RecipeSource {
  readonly kind: 'metadata' | 'architecture' | 'default';
  /** Why, in words: `the network is v1.0 in its Caffe form (conv10 padding 1)`. */
  readonly reason: string;
}

/** Weights read from a file of any known format, ready for `SqueezeNet.load`. */
export interface DecodedWeights {
  /** The format's name: `deepcompression`, `sqz`, `safetensors`, `onnx`, or a registered one. */
  readonly format: string;
  /**
   * The network the weights belong to: a built-in name, or a table (`Arch`) when it differs
   * from every built-in one, e.g. conv10 for 10 classes or max pools that round down.
   */
  readonly arch: ArchName | Arch;
  /** torchvision state_dict names to values and shapes. */
  readonly weights: Map<string, DecodedTensor>;
  /** The preprocessing the weights were trained with: `caffe` (227) or `torchvision` (224). */
  readonly recipe: Recipe;
  /** Where `recipe` came from; `default` means it is a guess. */
  readonly recipeSource: RecipeSource;
  /** Anything worth telling the user about how the file was read. */
  readonly notes: readonly string[];
}

/** Bytes given as a Uint8Array, an ArrayBuffer or any typed-array view; `what` names them in the error. */
export function toBytes(bytes: Uint8Array | ArrayBuffer, what: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) {
    const v = bytes as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  // A path is the likely mistake (load('model.onnx')): the library reads no files itself.
  if (typeof bytes === 'string') throw new InputError(`${what} must be given as a Uint8Array or an ArrayBuffer, not a path: read the file first (in Node: await readFile(path))`);
  throw new InputError(`${what} must be given as a Uint8Array or an ArrayBuffer`);
}

/** The element types `readFloats` widens to float32. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const WIDEN_F32 = new Float32Array(1);
const WIDEN_U32 = new Uint32Array(WIDEN_F32.buffer);

const widen = (h: number, dtype: 'F16' | 'BF16'): number => {
  if (dtype === 'F16') return halfTable()[h]!;
  WIDEN_U32[0] = h << 16;
  return WIDEN_F32[0]!;
};

/**
 * `count` little-endian values of `dtype` at byte `offset` (any alignment) as float32: F32
 * copied, F16 and BF16 widened exactly (subnormals, infinities and NaN included). The caller
 * has checked that the range lies inside `bytes`.
 */
export function readFloats(bytes: Uint8Array, offset: number, count: number, dtype: FloatDtype): Float32Array {
  const out = new Float32Array(count);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
    else for (let i = 0; i < count; i++) out[i] = widen(view.getUint16(offset + 2 * i, true), dtype);
    return out;
  }
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * count));
    return out;
  }
  // Copied first: the data may sit at an odd offset, and an aligned Uint16Array reads fastest.
  const halves = new Uint16Array(count);
  new Uint8Array(halves.buffer).set(bytes.subarray(offset, offset + 2 * count));
  if (dtype === 'F16') {
    const table = halfTable();
    for (let i = 0; i < count; i++) out[i] = table[halves[i]!]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  }
  return out;
}

/** Control characters (a name read from a damaged file may hold any) escaped, so an error stays one line. */
export const oneLine = (s: string): string =>
  s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
