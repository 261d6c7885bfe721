// safetensors (Hugging Face): the format of torchvision-style state_dicts people already have.
// Layout, little-endian (github.com/huggingface/safetensors, the format's own rules):
//
//   u64                 N, the header length in bytes (at most 100,000,000, as the reference reader)
//   u8[N]               JSON object, UTF-8, starting with '{' (trailing spaces allowed):
//                         "name": {"dtype": "F32", "shape": [96, 3, 7, 7], "data_offsets": [begin, end]}
//                         "__metadata__": {"key": "value", ...}  (optional, strings only)
//   u8[...]             the data: offsets are relative to here, the tensors cover it exactly,
//                       back to back in offset order, with end - begin = prod(shape) * dtype size
//
// F32 and F16 (widened to f32 exactly, subnormals, infinities and NaN included) and BF16 load;
// any other dtype is a FormatError naming the tensor. A safetensors file carries no network
// name, so `inferArch` picks the SqueezeNet whose torchvision state_dict has exactly these
// tensor names and shapes (conv10 for any number of classes); the `__metadata__` may name the
// network (`arch`), the recipe (`recipe`) and the pool rounding (`maxpool`).

import { ARCHS, archOrName, describeArch, withClasses, withPooling, type Arch, type ArchName } from '../arch.js';
import { FormatError, WeightError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { expectedWeights, plan } from '../plan.js';
import { oneLine, readFloats, toBytes, type DecodedTensor, type DecodedWeights, type FloatDtype } from './common.js';
import { inferRecipe, RECIPE_KEY } from './recipe.js';

const FORMAT = 'safetensors';

/** The reference implementation's cap on the JSON header. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** Bytes per element of every dtype the format defines (the ones we cannot load included, for messages). */
const DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The dtypes this reader converts to float32. */
export type SafetensorsDtype = FloatDtype;
const LOADABLE: readonly string[] = ['F32', 'F16', 'BF16'];

export interface SafetensorsTensor extends DecodedTensor {
  /** The dtype in the file (values are always returned as float32). */
  readonly dtype: SafetensorsDtype;
}

export interface SafetensorsFile {
  /** Tensors by name, in the file's data order. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Record<string, string>;
}

const fail = (message: string, offset: number, tensor?: string): FormatError =>
  new FormatError(oneLine(message), FORMAT, offset, tensor === undefined ? undefined : oneLine(tensor));

const UTF8 = new TextEncoder();

/** Product of the dims, or undefined when it is not a safe integer. */
function elementCount(shape: readonly number[]): number | undefined {
  let n = 1n;
  for (const d of shape) n *= BigInt(d);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

interface Entry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 60) ?? String(v));

// Parses and checks the header against itself and the buffer; nothing is read from the data yet.
function parseHeader(b: Uint8Array): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (b.length < 8) throw fail(`file has ${b.length} bytes, fewer than the 8 of the header length`, 0);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER)) {
    throw fail(`header length is ${n} bytes, more than the ${SAFETENSORS_MAX_HEADER} the format allows`, 0);
  }
  const headerLen = Number(n);
  if (8 + headerLen > b.length) {
    throw fail(`header length is ${headerLen} bytes, but only ${b.length - 8} follow the 8-byte length (truncated file?)`, 0);
  }
  if (headerLen < 2 || b[8] !== 0x7b) {
    throw fail(`the JSON header must start with '{', it starts with byte 0x${(b[8] ?? 0).toString(16).padStart(2, '0')}`, 8);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, 8 + headerLen));
  } catch {
    throw fail('the header is not valid UTF-8', 8);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(`the header is not valid JSON: ${(e as Error).message}`, 8);
  }
  if (!isPlainObject(json)) throw fail('the header is not a JSON object', 8);
  const dataStart = 8 + headerLen;
  const dataLen = b.length - dataStart;
  // Where a tensor's entry sits in the file, for errors: its key's first byte (else the header's).
  const at = (name: string): number => {
    const i = text.indexOf(JSON.stringify(name));
    return i < 0 ? 8 : 8 + UTF8.encode(text.slice(0, i)).length;
  };
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info) || Object.values(info).some((v) => typeof v !== 'string')) {
        throw fail('__metadata__ must be an object of strings', at(name));
      }
      metadata = info as Record<string, string>;
      continue;
    }
    if (!isPlainObject(info)) throw fail(`the header entry is ${describe(info)}, not an object`, at(name), name);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw fail(`dtype is ${describe(dtype)}, not a string`, at(name), name);
    const size = DTYPE_SIZES[dtype];
    if (size === undefined) throw fail(`dtype ${describe(dtype)} is not a safetensors dtype`, at(name), name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`shape is ${describe(shape)}, not a list of non-negative integers`, at(name), name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`data_offsets is ${describe(offsets)}, not [begin, end] in bytes`, at(name), name);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw fail(`data_offsets [${begin}, ${end}] end before they begin`, at(name), name);
    if (end > dataLen) {
      throw fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes after the header)`, dataStart + Math.min(begin, dataLen), name);
    }
    const count = elementCount(shape as number[]);
    const bytes = count === undefined ? undefined : count * size;
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes !== end - begin) {
      throw fail(
        `shape [${shape.join(', ')}] of ${dtype} is ${count === undefined ? 'more than 2^53 elements' : `${count} elements = ${bytes} bytes`}, but data_offsets [${begin}, ${end}] hold ${end - begin} bytes`,
        dataStart + begin,
        name,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data exactly: sorted by offset, each begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin !== covered) {
      const prev = sorted[sorted.indexOf(e) - 1];
      throw fail(
        e.begin < covered
          ? `data_offsets [${e.begin}, ${e.end}] overlap ${prev?.name ?? 'the previous tensor'}, which ends at ${covered}`
          : `data_offsets [${e.begin}, ${e.end}] leave a gap: ${prev === undefined ? 'the data begins at 0' : `${prev.name} ends at ${covered}`} (tensors must be contiguous)`,
        dataStart + e.begin,
        e.name,
      );
    }
    covered = e.end;
  }
  if (covered !== dataLen) {
    throw fail(`the tensors cover ${covered} bytes of data, the file has ${dataLen} after the header (they must cover it exactly)`, dataStart + covered);
  }
  return { entries: sorted, metadata, dataStart };
}

/**
 * Reads a safetensors file: every tensor as float32 (F32 copied, F16 and BF16 widened exactly)
 * with its shape, and the `__metadata__`. The header is checked first (length at most 100 MB and
 * inside the file, JSON starting with '{', known dtypes, shape x dtype size = byte range, offsets
 * contiguous, non-overlapping and covering the data exactly); a malformed file or a dtype other
 * than F32, F16 or BF16 is a {@link FormatError} naming the tensor and the byte offset.
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  const b = toBytes(bytes, 'a safetensors file');
  const { entries, metadata, dataStart } = parseHeader(b);
  for (const e of entries) {
    if (!LOADABLE.includes(e.dtype)) {
      throw fail(`dtype ${e.dtype} is not supported: SqueezeNet weights load from F32, F16 or BF16`, dataStart + e.begin, e.name);
    }
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const dtype = e.dtype as SafetensorsDtype;
    const count = (e.end - e.begin) / DTYPE_SIZES[dtype]!;
    tensors.set(e.name, { data: readFloats(b, dataStart + e.begin, count, dtype), shape: e.shape, dtype });
  }
  return { tensors, metadata };
}

/** The archs whose weights can be told apart by names and shapes (simple-bypass and v1.0-caffe have v1.0's). */
const DISTINCT_ARCHS: readonly ArchName[] = ['v1.0', 'v1.1', 'complex-bypass'];

/** The prefix `nn.DataParallel` and `DistributedDataParallel` put before every name of the state_dicts they save. */
const MODULE_PREFIX = 'module.';

/** How many classes a state_dict scores: `classifier.1.weight`'s first dimension (conv10's filters). */
function classesOf(weights: ReadonlyMap<string, { readonly shape: readonly number[] }>): number {
  const n = weights.get('classifier.1.weight')?.shape[0];
  return n !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : 1000;
}

/**
 * Which archs a set of names and shapes loads into, checked name by name and shape by shape,
 * conv10 for as many classes as `classifier.1.weight` has.
 */
export function archsFitting(weights: ReadonlyMap<string, { readonly shape: readonly number[] }>): ArchName[] {
  const classes = classesOf(weights);
  const fits = (arch: ArchName): boolean => {
    const expected = expectedWeights(plan(withClasses(ARCHS[arch], classes)));
    if (expected.size !== weights.size) return false;
    for (const [name, shape] of expected) {
      const t = weights.get(name);
      if (t === undefined || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) return false;
    }
    return true;
  };
  return (Object.keys(ARCHS) as ArchName[]).filter(fits);
}

/** `arch` with conv10 for the state_dict's classes: the name when that is the built-in network. */
export function fitArch(weights: ReadonlyMap<string, { readonly shape: readonly number[] }>, arch: ArchName): ArchName | Arch {
  return archOrName(withClasses(ARCHS[arch], classesOf(weights)));
}

/**
 * The SqueezeNet a torchvision-named state_dict belongs to, from its names and shapes:
 * `features.0.weight` [96, 3, 7, 7] is the v1.0 family, [64, 3, 3, 3] v1.1, and `.bypass`
 * tensors complex-bypass; conv10 (`classifier.1`) may have any number of filters (a fine-tuned
 * network's classes: the result is then `withClasses(arch, N)`). v1.0 weights also run as
 * `v1.0-caffe` (conv10 padded, input 227) and `simple-bypass`, which have the same tensors:
 * `v1.0` (torchvision) is returned for them. Throws a {@link WeightError} naming the first tensor
 * that fits no SqueezeNet.
 */
export function inferArch(weights: ReadonlyMap<string, { readonly shape: readonly number[] }>): ArchName | Arch {
  const fitting = archsFitting(weights);
  for (const arch of DISTINCT_ARCHS) if (fitting.includes(arch)) return fitArch(weights, arch);
  // Say why, against the closest network: the one conv1 points to.
  const conv1 = weights.get('features.0.weight');
  const guess: ArchName = [...weights.keys()].some((n) => n.includes('.bypass.')) ? 'complex-bypass' : conv1?.shape[0] === 64 ? 'v1.1' : 'v1.0';
  const expected = expectedWeights(plan(withClasses(ARCHS[guess], classesOf(weights))));
  for (const [name, t] of weights) {
    const shape = expected.get(name);
    if (shape === undefined) throw new WeightError(`not a tensor of any SqueezeNet (closest: ${guess})`, name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightError(`shape [${t.shape.join(', ')}] fits no SqueezeNet (${guess} has [${shape.join(', ')}])`, name);
    }
  }
  for (const [name, shape] of expected) {
    if (!weights.has(name)) throw new WeightError(`missing (${guess} needs [${shape.join(', ')}])`, name);
  }
  throw new WeightError('fits no SqueezeNet', '(weights)');
}

/** The state_dict with `module.` taken off every name, when every name has it (and nothing else changes). */
export function stripModulePrefix<T>(weights: ReadonlyMap<string, T>): { weights: Map<string, T>; stripped: boolean } {
  const names = [...weights.keys()];
  if (names.length === 0 || !names.every((n) => n.startsWith(MODULE_PREFIX))) return { weights: new Map(weights), stripped: false };
  return { weights: new Map([...weights].map(([n, t]) => [n.slice(MODULE_PREFIX.length), t])), stripped: true };
}

/**
 * Decodes a safetensors file of torchvision SqueezeNet weights: the tensors (with the `module.`
 * prefix of a state_dict saved from `nn.DataParallel` taken off, with a note), the network
 * (`__metadata__` `arch` when it names one the tensors fit, else inferred from names and shapes;
 * `maxpool: floor` for pools that round down), and the recipe (`__metadata__` `recipe`, else
 * `caffe` for the Caffe form, else `torchvision` as a guess).
 */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer): DecodedWeights {
  const file = readSafetensors(bytes);
  const notes: string[] = [];
  const { weights, stripped } = stripModulePrefix<DecodedTensor>(file.tensors);
  if (stripped) {
    notes.push(`every tensor name starts with ${JSON.stringify(MODULE_PREFIX)} (a state_dict saved from nn.DataParallel): the prefix was stripped`);
  }
  let arch: ArchName | Arch = inferArch(weights);
  const named = file.metadata.arch;
  if (named !== undefined) {
    if (Object.hasOwn(ARCHS, named) && archsFitting(weights).includes(named as ArchName)) arch = fitArch(weights, named as ArchName);
    else notes.push(`__metadata__ arch=${JSON.stringify(named.slice(0, 40))} is not a network these tensors fit: ${describeArch(arch)} inferred from them`);
  }
  const pool = file.metadata.maxpool;
  if (pool === 'floor' || pool === 'ceil') arch = archOrName(withPooling(typeof arch === 'string' ? ARCHS[arch] : arch, pool));
  else if (pool !== undefined) notes.push(`__metadata__ maxpool=${JSON.stringify(pool.slice(0, 40))} is not ceil or floor: ignored`);
  const r = inferRecipe(arch, file.metadata[RECIPE_KEY]);
  return { format: 'safetensors', arch, weights, recipe: r.recipe, recipeSource: r.recipeSource, notes: [...notes, ...r.notes] };
}

/**
 * Reads a safetensors file of torchvision SqueezeNet weights and loads the network as
 * {@link decodeSafetensors} finds it (`options.arch` may name another with the same tensors,
 * e.g. `'v1.0-caffe'` for v1.0 weights), with its recipe unless `options.recipe` says otherwise.
 */
export async function loadSafetensors(
  bytes: Uint8Array | ArrayBuffer,
  options: Omit<LoadOptions, 'weights'> = {},
): Promise<SqueezeNet> {
  const d = decodeSafetensors(bytes);
  const arch = options.arch === undefined ? d.arch : typeof options.arch === 'string' && Object.hasOwn(ARCHS, options.arch) ? fitArch(d.weights, options.arch) : options.arch;
  const recipe = options.recipe ?? (options.arch === undefined || d.recipeSource.kind === 'metadata' ? d.recipe : inferRecipe(arch, undefined).recipe);
  return SqueezeNet.load({ ...options, arch, weights: d.weights, recipe });
}
