// The project's own container for compressed weights (`.sqz`): Deep Compression's pruning, weight
// sharing, relative-position sparse storage and Huffman coding (Han, Mao, Dally, ICLR 2016), in a
// versioned, checksummed, self-describing file. docs/FORMAT.md describes it byte by byte:
//
//   magic "\x89SQZ\r\n\x1a\n", version, architecture name, [version 2: metadata such as the
//   recipe], a record per layer (name, shape,
//   flags, code and gap widths, codebook size, entry count, stream sizes, payload CRC-32),
//   header CRC-32; then per layer: codebook and biases (float32 or float16 each), the code
//   stream, the gap stream (each fixed-width or canonical Huffman). Version 3 keeps the header
//   and codes each layer's payload (codebook, biases, every weight) as one context-modelled
//   range-coded stream (src/codec/context-model.ts).
//
// The header is checked (CRC first, then every field) before anything is allocated, then each
// payload's CRC before it is decoded: a malformed file is a FormatError naming the layer and the
// byte offset, never a RangeError or a hang.

import { ARCHS, archOrName, withClasses, withPooling, type Arch, type ArchName } from '../arch.js';
import { BitReader, BitWriter } from '../codec/bits.js';
import { crc32 } from '../codec/crc32.js';
import { fromFloat16Bits, toFloat16Bits } from '../codec/float16.js';
import { HuffmanDecoder, huffmanBits, huffmanEncode, huffmanLengths, lengthsProblem } from '../codec/huffman.js';
import { decodeContextPayload, encodeContextPayload } from '../codec/context-model.js';
import { FormatError, InputError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { toBytes, type DecodedTensor, type DecodedWeights } from './common.js';
import { inferRecipe, RECIPE_KEY } from './recipe.js';

export const SQZ_FORMAT = 'squeezenet .sqz';
/** The first 8 bytes of every .sqz file (PNG's trick: a high byte, then CR LF, ^Z and LF to catch text-mode damage). */
export const SQZ_MAGIC: readonly number[] = [0x89, 0x53, 0x51, 0x5a, 0x0d, 0x0a, 0x1a, 0x0a];
/**
 * The newest version this library writes and reads: 3, whose payloads are context-modelled range
 * coding. Version 2 adds a metadata block after the architecture name (version 3 has it too); a
 * file without metadata and not asked for version 3 is written as version 1.
 */
export const SQZ_VERSION = 3;
/** The versions this library reads. */
export const SQZ_VERSIONS: readonly number[] = [1, 2, 3];
/** Metadata: at most this many entries, keys of 1..64 printable ASCII characters, values of at most 4096 UTF-8 bytes. */
export const SQZ_MAX_METADATA = 255;
const MAX_KEY = 64;
const MAX_VALUE = 4096;
/** The metadata key saying how the max pools round (`ceil` or `floor`) when not as the named network's. */
export const SQZ_MAXPOOL_KEY = 'maxpool';
/** Code and gap widths: 1..12 bits. */
export const SQZ_MAX_WIDTH = 12;
/** The largest tensor a layer may declare (weights), so a forged header cannot make the reader allocate gigabytes. */
export const SQZ_MAX_LAYER_WEIGHTS = 2 ** 24;

const FLAG_HUFFMAN_CODES = 1;
const FLAG_HUFFMAN_GAPS = 2;
const FLAG_BIAS_F16 = 4;
const FLAG_CODEBOOK_F16 = 8;
const RECORD_FIXED = 28; // bytes of a layer record besides its name

/** One convolution as the container holds it. */
export interface SqzLayer {
  /** The torchvision module path: `features.0`, `features.3.squeeze`, ..., `classifier.1`. */
  readonly name: string;
  /** [out channels, in channels, kernel height, kernel width] */
  readonly shape: readonly [number, number, number, number];
  /** Code width: the codebook holds up to 2^bits - 1 non-zero values (code 0 is the weight 0). */
  readonly bits: number;
  /** Gap width: a gap of 2^gapBits or more is bridged by filler entries of code 0. */
  readonly gapBits: number;
  readonly huffmanCodes: boolean;
  readonly huffmanGaps: boolean;
  /** Biases stored as float16 (else float32). */
  readonly biasF16: boolean;
  /** Codebook values stored as float16 (else float32); they must then be float16 values exactly. */
  readonly codebookF16: boolean;
  /** The shared values, `codebook[0] = 0` (not stored); a weight is `codebook[code]`. */
  readonly codebook: Float32Array;
  readonly bias: Float32Array;
  /** The code of each stored entry (non-zero weights and fillers). */
  readonly codes: Uint16Array;
  /** The gap before each entry: entry i sits at p_i = p_(i-1) + gap_i + 1, p_(-1) = -1, over [out][in][kh][kw]. */
  readonly gaps: Uint16Array;
}

export interface SqzFile {
  /** The network the layers belong to: an `ArchName` such as `v1.0-caffe`. */
  readonly arch: string;
  /**
   * Key-value text (versions 2 and 3): `recipe` (`caffe` or `torchvision`, the preprocessing the
   * weights were trained with), `maxpool` (`floor` when the network's pools round down), or
   * anything else.
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The container version. Writing: 3 asks for context-modelled payloads (every payload range-
   * coded; the layers' Huffman flags and gap widths do not apply, and each codebook is stored as
   * its used values only, ascending, the codes renumbered to match); otherwise version 2 when
   * there is metadata, else 1 (Huffman or fixed-width streams, as each layer's flags say).
   * Reading: the file's. A file read from version 3 lists every position of each layer as an
   * entry (gaps 0, gap width 1).
   */
  readonly version?: number;
  readonly layers: readonly SqzLayer[];
}

/** Bytes of each part of a layer's payload (its header record is counted in the file's header). */
export interface SqzLayerBytes {
  readonly codebook: number;
  readonly bias: number;
  readonly codes: number;
  readonly gaps: number;
}

export interface SqzWritten {
  readonly bytes: Uint8Array;
  /** Bytes before the first payload: magic, version, arch, layer records, header CRC. */
  readonly header: number;
  readonly layers: readonly SqzLayerBytes[];
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const printable = (s: string): boolean => /^[\x21-\x7e]+$/.test(s);
const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** True when the bytes start with the .sqz magic (what autodetection asks). */
export function isSqz(bytes: Uint8Array): boolean {
  return bytes.length >= SQZ_MAGIC.length && SQZ_MAGIC.every((m, i) => bytes[i] === m);
}

/**
 * Bytes a stream of `count` symbols takes, from their frequencies: `count * width` bits when
 * fixed-width; with Huffman, the 2-byte alphabet size, the 4-bit code lengths and the codes.
 */
export function streamBytes(freqs: ArrayLike<number>, count: number, width: number, huffman: boolean): number {
  if (!huffman) return Math.ceil((count * width) / 8);
  let m = freqs.length;
  while (m > 0 && freqs[m - 1] === 0) m--;
  const used = Array.from({ length: m }, (_, s) => freqs[s]!);
  return 2 + Math.ceil(m / 2) + Math.ceil(huffmanBits(used, huffmanLengths(used)) / 8);
}

function encodeStream(symbols: Uint16Array, width: number, huffman: boolean): Uint8Array {
  const w = new BitWriter();
  if (!huffman) {
    for (let i = 0; i < symbols.length; i++) w.write(symbols[i]!, width);
    return w.finish();
  }
  let m = 0;
  for (let i = 0; i < symbols.length; i++) m = Math.max(m, symbols[i]! + 1);
  const freqs = new Float64Array(m);
  for (let i = 0; i < symbols.length; i++) freqs[symbols[i]!]!++;
  const lengths = huffmanLengths(freqs);
  w.write(m & 0xff, 8);
  w.write(m >>> 8, 8);
  for (let s = 0; s < m; s += 2) w.write((lengths[s]! << 4) | (lengths[s + 1] ?? 0), 8);
  huffmanEncode(w, symbols, lengths);
  return w.finish();
}

/**
 * Serialises layers whose codes and gaps are already chosen (see `compress` in src/compress for
 * the encoder that chooses them). Throws InputError when a layer does not fit the format.
 */
export function writeSqz(file: SqzFile): SqzWritten {
  const bad = (what: string): never => {
    throw new InputError(`cannot write .sqz: ${what}`);
  };
  if (!printable(file.arch) || file.arch.length > 64) bad(`architecture name ${JSON.stringify(file.arch)} must be 1..64 printable ASCII characters`);
  const metadata = Object.entries(file.metadata ?? {});
  if (metadata.length > SQZ_MAX_METADATA) bad(`${metadata.length} metadata entries; at most ${SQZ_MAX_METADATA}`);
  const metaBytes: number[] = [];
  for (const [key, value] of metadata) {
    if (!printable(key) || key.length > MAX_KEY) bad(`metadata key ${JSON.stringify(key)} must be 1..${MAX_KEY} printable ASCII characters`);
    if (typeof value !== 'string') bad(`metadata ${key} must be a string`);
    const v = UTF8.encode(value);
    if (v.length > MAX_VALUE) bad(`metadata ${key} is ${v.length} bytes of UTF-8; at most ${MAX_VALUE}`);
    metaBytes.push(key.length, ...ascii(key), v.length & 0xff, v.length >>> 8, ...v);
  }
  if (file.layers.length < 1 || file.layers.length > 0xffff) bad(`${file.layers.length} layers; 1..65535 allowed`);
  if (file.version !== undefined && !SQZ_VERSIONS.includes(file.version)) bad(`version ${file.version}; this library writes versions ${SQZ_VERSIONS.join(', ')}`);
  // Version 3 when asked for; otherwise 2 when there is metadata to hold, else 1.
  const version = file.version === 3 ? 3 : metadata.length > 0 ? 2 : 1;
  const names = new Set<string>();
  const payloads = file.layers.map((l) => {
    const at = `layer ${l.name}`;
    if (!printable(l.name) || l.name.length > 255) bad(`${at}: the name must be 1..255 printable ASCII characters`);
    if (names.has(l.name)) bad(`${at} appears twice`);
    names.add(l.name);
    if (l.shape.length !== 4 || l.shape.some((d, i) => !Number.isInteger(d) || d < 1 || d > (i < 2 ? 0xffff : 0xff))) {
      bad(`${at}: shape [${l.shape.join(', ')}] must be 4 positive sizes (channels < 65536, kernel < 256)`);
    }
    const numel = numelOf(l.shape);
    if (numel > SQZ_MAX_LAYER_WEIGHTS) bad(`${at}: ${numel} weights, more than ${SQZ_MAX_LAYER_WEIGHTS}`);
    for (const [name, w] of [['bits', l.bits], ['gapBits', l.gapBits]] as const) {
      if (!Number.isInteger(w) || w < 1 || w > SQZ_MAX_WIDTH) bad(`${at}: ${name} ${w} must be 1..${SQZ_MAX_WIDTH}`);
    }
    const k = l.codebook.length - 1;
    if (k < 0 || k > 2 ** l.bits - 1 || l.codebook[0] !== 0) bad(`${at}: the codebook must start with 0 and hold at most 2^bits - 1 more values`);
    if (l.bias.length !== l.shape[0]) bad(`${at}: ${l.bias.length} biases for ${l.shape[0]} output channels`);
    if (l.codes.length !== l.gaps.length) bad(`${at}: ${l.codes.length} codes but ${l.gaps.length} gaps`);
    let p = -1;
    for (let i = 0; i < l.codes.length; i++) {
      if (l.codes[i]! > k) bad(`${at}: entry ${i} has code ${l.codes[i]}, the codebook has ${k} values`);
      if (l.gaps[i]! >= 2 ** l.gapBits) bad(`${at}: entry ${i} has gap ${l.gaps[i]}, wider than ${l.gapBits} bits`);
      p += l.gaps[i]! + 1;
    }
    if (p >= numel) bad(`${at}: the entries run to position ${p}, past the ${numel} weights`);
    const cbSize = l.codebookF16 ? 2 : 4;
    const parts = new Uint8Array(cbSize * k + (l.biasF16 ? 2 : 4) * l.shape[0]);
    const view = new DataView(parts.buffer);
    for (let c = 1; c <= k; c++) {
      const v = l.codebook[c]!;
      if (!Number.isFinite(v)) bad(`${at}: codebook value ${c} is ${v}`);
      if (l.codebookF16) {
        if (fromFloat16Bits(toFloat16Bits(v)) !== v) bad(`${at}: codebook value ${c} (${v}) is not a float16 value; round it first`);
        view.setUint16(cbSize * (c - 1), toFloat16Bits(v), true);
      } else {
        view.setFloat32(cbSize * (c - 1), v, true);
      }
    }
    const biasAt = cbSize * k;
    for (let c = 0; c < l.shape[0]; c++) {
      if (l.biasF16) view.setUint16(biasAt + 2 * c, toFloat16Bits(l.bias[c]!), true);
      else view.setFloat32(biasAt + 4 * c, l.bias[c]!, true);
    }
    if (version === 3) return contextPayload(l, at, bad);
    const codes = encodeStream(l.codes, l.bits, l.huffmanCodes);
    const gaps = encodeStream(l.gaps, l.gapBits, l.huffmanGaps);
    const payload = new Uint8Array(parts.length + codes.length + gaps.length);
    payload.set(parts);
    payload.set(codes, parts.length);
    payload.set(gaps, parts.length + codes.length);
    const record: RecordFields = {
      flags: (l.huffmanCodes ? FLAG_HUFFMAN_CODES : 0) | (l.huffmanGaps ? FLAG_HUFFMAN_GAPS : 0) | (l.biasF16 ? FLAG_BIAS_F16 : 0) | (l.codebookF16 ? FLAG_CODEBOOK_F16 : 0),
      bits: l.bits,
      gapBits: l.gapBits,
      k,
      n: l.codes.length,
      codeBytes: codes.length,
      gapBytes: gaps.length,
    };
    return { l, payload, record, sizes: { codebook: biasAt, bias: parts.length - biasAt, codes: codes.length, gaps: gaps.length } };
  });

  const header: number[] = [...SQZ_MAGIC, version & 0xff, version >>> 8, file.arch.length, ...ascii(file.arch)];
  if (version >= 2) header.push(metadata.length, ...metaBytes);
  const u16 = (v: number): void => void header.push(v & 0xff, v >>> 8);
  const u32 = (v: number): void => void header.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  u16(file.layers.length);
  for (const { l, payload, record } of payloads) {
    header.push(l.name.length, ...ascii(l.name));
    u16(l.shape[0]);
    u16(l.shape[1]);
    header.push(l.shape[2], l.shape[3]);
    header.push(record.flags, record.bits, record.gapBits);
    u16(record.k);
    u32(record.n);
    u32(record.codeBytes);
    u32(record.gapBytes);
    u32(crc32(payload));
  }
  const headerBytes = Uint8Array.from(header);
  u32(crc32(headerBytes));
  const total = header.length + payloads.reduce((s, p) => s + p.payload.length, 0);
  const bytes = new Uint8Array(total);
  bytes.set(header);
  let o = header.length;
  for (const p of payloads) {
    bytes.set(p.payload, o);
    o += p.payload.length;
  }
  return { bytes, header: header.length, layers: payloads.map((p) => p.sizes) };
}

/** The fields of a layer record after the shape. */
interface RecordFields {
  readonly flags: number;
  readonly bits: number;
  readonly gapBits: number;
  readonly k: number;
  readonly n: number;
  readonly codeBytes: number;
  readonly gapBytes: number;
}

/**
 * A version 3 payload: the layer's used codebook values, ascending (the codes renumbered; a
 * value 0 becomes code 0), its biases and the code of every position, in one range-coded stream.
 * The record: B just wide enough for K, gap width 0, n the non-zero weights, the stream in C.
 */
function contextPayload(l: SqzLayer, at: string, bad: (what: string) => never) {
  const numel = numelOf(l.shape);
  const positions = new Uint16Array(numel);
  const used = new Uint8Array(l.codebook.length);
  let p = -1;
  for (let i = 0; i < l.codes.length; i++) {
    p += l.gaps[i]! + 1;
    positions[p] = l.codes[i]!;
    used[l.codes[i]!] = 1;
  }
  // Used values, ascending; equal values share a code.
  const values = [...new Set(Array.from(l.codebook).filter((v, c) => c > 0 && used[c] === 1 && v !== 0))].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i + 1]));
  const renumber = Uint16Array.from(l.codebook, (v, c) => (c === 0 || v === 0 ? 0 : (index.get(v) ?? 0)));
  let nonzero = 0;
  for (let q = 0; q < numel; q++) {
    const c = renumber[positions[q]!]!;
    positions[q] = c;
    if (c !== 0) nonzero++;
  }
  const k = values.length;
  const bits = Math.max(1, 32 - Math.clz32(k));
  if (bits > SQZ_MAX_WIDTH) bad(`${at}: ${k} codebook values in use; at most ${2 ** SQZ_MAX_WIDTH - 1}`);
  const codebook = Float32Array.from([0, ...values]);
  const bias = l.biasF16 ? l.bias.map((v) => fromFloat16Bits(toFloat16Bits(v))) : l.bias;
  for (let c = 0; c < bias.length; c++) if (!Number.isFinite(bias[c])) bad(`${at}: bias ${c} is ${bias[c]}${l.biasF16 ? ' as float16' : ''}`);
  const coded = encodeContextPayload({ shape: l.shape, bits, codebook, codebookF16: l.codebookF16, bias, biasF16: l.biasF16, codes: positions });
  const record: RecordFields = {
    flags: (l.biasF16 ? FLAG_BIAS_F16 : 0) | (l.codebookF16 ? FLAG_CODEBOOK_F16 : 0),
    bits,
    gapBits: 0,
    k,
    n: nonzero,
    codeBytes: coded.bytes.length,
    gapBytes: 0,
  };
  return { l, payload: coded.bytes, record, sizes: { codebook: coded.codebook, bias: coded.bias, codes: coded.weights, gaps: 0 } };
}

/** A layer record as read from the header, with where its payload parts sit. */
interface LayerRecord extends RecordFields {
  readonly name: string;
  readonly at: number;
  readonly shape: [number, number, number, number];
  readonly flagsAt: number;
  readonly crc: number;
  codebook: number;
  bias: number;
  codes: number;
  gaps: number;
  end: number;
}

const UTF8 = new TextEncoder();

const fail = (message: string, offset: number, layer?: string): FormatError => new FormatError(message, SQZ_FORMAT, offset, layer);

// Walks the header: magic, version, every record, the header CRC; then checks each field and lays
// out the payloads against the file length. Nothing is allocated by size before this passes.
function readHeader(b: Uint8Array, view: DataView): { arch: string; version: number; metadata: Record<string, string>; records: LayerRecord[]; headerEnd: number } {
  const hex = (from: number, to: number): string => Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
  const magicHex = SQZ_MAGIC.map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
  for (let i = 0; i < Math.min(b.length, SQZ_MAGIC.length); i++) {
    if (b[i] !== SQZ_MAGIC[i]) {
      throw fail(`not a .sqz file: it starts with ${hex(0, Math.min(b.length, 8))}, a .sqz file with ${magicHex}`, i);
    }
  }
  let o = 0;
  let where = 'the magic';
  let layer: string | undefined;
  const need = (n: number): void => {
    if (o + n > b.length) throw fail(`the file ends inside the header (${where}); it has ${b.length} bytes`, b.length, layer);
  };
  need(8);
  o = 8;
  where = 'the version';
  need(2);
  const version = view.getUint16(o, true);
  if (!SQZ_VERSIONS.includes(version)) {
    throw fail(`version ${version}; this library reads versions ${SQZ_VERSIONS.slice(0, -1).join(', ')} and ${SQZ_VERSION} (written by a ${version > SQZ_VERSION ? 'newer' : 'different'} squeezenet-wasm?)`, o);
  }
  o += 2;
  where = 'the architecture name';
  need(1);
  const archLen = b[o]!;
  const archAt = o;
  o += 1;
  need(archLen);
  const arch = String.fromCharCode(...b.subarray(o, o + archLen));
  o += archLen;
  const metaFields: { key: string; keyAt: number; value: Uint8Array }[] = [];
  if (version >= 2) {
    where = 'the metadata count';
    need(1);
    const entries = b[o]!;
    o += 1;
    for (let i = 0; i < entries; i++) {
      where = `metadata entry ${i + 1} of ${entries}`;
      need(1);
      const keyLen = b[o]!;
      const keyAt = o;
      o += 1;
      need(keyLen + 2);
      const key = String.fromCharCode(...b.subarray(o, o + keyLen));
      o += keyLen;
      const valueLen = view.getUint16(o, true);
      o += 2;
      need(valueLen);
      metaFields.push({ key, keyAt, value: b.subarray(o, o + valueLen) });
      o += valueLen;
    }
  }
  where = 'the layer count';
  need(2);
  const count = view.getUint16(o, true);
  const countAt = o;
  o += 2;
  const records: LayerRecord[] = [];
  for (let i = 0; i < count; i++) {
    where = `the record of layer ${i + 1} of ${count}`;
    layer = undefined;
    need(1);
    const nameLen = b[o]!;
    const at = o;
    o += 1;
    need(nameLen);
    const name = String.fromCharCode(...b.subarray(o, o + nameLen));
    o += nameLen;
    layer = printable(name) ? name : undefined; // a damaged name is not echoed into messages
    need(RECORD_FIXED - 1);
    records.push({
      name,
      at,
      shape: [view.getUint16(o, true), view.getUint16(o + 2, true), b[o + 4]!, b[o + 5]!],
      flags: b[o + 6]!,
      flagsAt: o + 6,
      bits: b[o + 7]!,
      gapBits: b[o + 8]!,
      k: view.getUint16(o + 9, true),
      n: view.getUint32(o + 11, true),
      codeBytes: view.getUint32(o + 15, true),
      gapBytes: view.getUint32(o + 19, true),
      crc: view.getUint32(o + 23, true),
      codebook: 0,
      bias: 0,
      codes: 0,
      gaps: 0,
      end: 0,
    });
    o += RECORD_FIXED - 1;
  }
  where = 'the header CRC-32';
  layer = undefined;
  need(4);
  const want = view.getUint32(o, true);
  const got = crc32(b, 0, o);
  if (want !== got) {
    throw fail(`header CRC-32 mismatch: the header says ${want.toString(16).padStart(8, '0')}, its bytes 0..${o - 1} give ${got.toString(16).padStart(8, '0')} (the header is damaged)`, o);
  }
  const headerEnd = o + 4;

  // The CRC matches: now the values themselves.
  if (archLen === 0 || !printable(arch)) throw fail(`the architecture name must be printable ASCII, got ${JSON.stringify(arch)}`, archAt);
  const metadata: Record<string, string> = {};
  for (const m of metaFields) {
    if (m.key.length === 0 || m.key.length > MAX_KEY || !printable(m.key)) throw fail(`metadata key ${JSON.stringify(m.key)} must be 1..${MAX_KEY} printable ASCII characters`, m.keyAt);
    if (Object.hasOwn(metadata, m.key)) throw fail(`metadata key ${m.key} appears twice`, m.keyAt);
    if (m.value.length > MAX_VALUE) throw fail(`metadata ${m.key} is ${m.value.length} bytes; at most ${MAX_VALUE}`, m.keyAt);
    try {
      metadata[m.key] = STRICT_UTF8.decode(m.value);
    } catch {
      throw fail(`metadata ${m.key} is not valid UTF-8`, m.keyAt);
    }
  }
  if (count === 0) throw fail('the file has no layers', countAt);
  const names = new Set<string>();
  let p = headerEnd;
  for (const r of records) {
    const f = (message: string, offset: number): FormatError => fail(message, offset, r.name);
    const fields = r.at + 1 + r.name.length;
    if (r.name.length === 0 || !printable(r.name)) throw fail(`layer name ${JSON.stringify(r.name)} is not printable ASCII`, r.at + 1);
    if (names.has(r.name)) throw f('a layer of this name comes earlier in the file', r.at);
    names.add(r.name);
    if (r.shape.some((d) => d === 0)) throw f(`shape [${r.shape.join(', ')}] has a zero size`, fields);
    const numel = numelOf(r.shape);
    if (numel > SQZ_MAX_LAYER_WEIGHTS) throw f(`shape [${r.shape.join(', ')}] has ${numel} weights, more than the ${SQZ_MAX_LAYER_WEIGHTS} a layer may have`, fields);
    if (version === 3) {
      p = contextRecord(r, p, b.length, f);
      continue;
    }
    if (r.flags & ~15) throw f(`flags ${r.flags} set unknown bits (only 1, 2, 4, 8 are defined)`, r.flagsAt);
    if (r.bits < 1 || r.bits > SQZ_MAX_WIDTH) throw f(`code width ${r.bits} bits; 1..${SQZ_MAX_WIDTH} allowed`, r.flagsAt + 1);
    if (r.gapBits < 1 || r.gapBits > SQZ_MAX_WIDTH) throw f(`gap width ${r.gapBits} bits; 1..${SQZ_MAX_WIDTH} allowed`, r.flagsAt + 2);
    if (r.k > 2 ** r.bits - 1) throw f(`codebook of ${r.k} values does not fit ${r.bits}-bit codes (at most ${2 ** r.bits - 1} besides code 0)`, r.flagsAt + 3);
    if (r.n > numel) throw f(`${r.n} entries, more than the ${numel} weights of its [${r.shape.join(', ')}] tensor`, r.flagsAt + 5);
    const minCodes = r.flags & FLAG_HUFFMAN_CODES ? 2 : Math.ceil((r.n * r.bits) / 8);
    const minGaps = r.flags & FLAG_HUFFMAN_GAPS ? 2 : Math.ceil((r.n * r.gapBits) / 8);
    if (r.flags & FLAG_HUFFMAN_CODES ? r.codeBytes < minCodes : r.codeBytes !== minCodes) {
      throw f(`code stream of ${r.codeBytes} bytes; ${r.n} fixed ${r.bits}-bit codes take ${minCodes}${r.flags & FLAG_HUFFMAN_CODES ? ' at least' : ''}`, r.flagsAt + 9);
    }
    if (r.flags & FLAG_HUFFMAN_GAPS ? r.gapBytes < minGaps : r.gapBytes !== minGaps) {
      throw f(`gap stream of ${r.gapBytes} bytes; ${r.n} fixed ${r.gapBits}-bit gaps take ${minGaps}${r.flags & FLAG_HUFFMAN_GAPS ? ' at least' : ''}`, r.flagsAt + 13);
    }
    r.codebook = p;
    r.bias = r.codebook + (r.flags & FLAG_CODEBOOK_F16 ? 2 : 4) * r.k;
    r.codes = r.bias + (r.flags & FLAG_BIAS_F16 ? 2 : 4) * r.shape[0];
    r.gaps = r.codes + r.codeBytes;
    r.end = r.gaps + r.gapBytes;
    if (r.end > b.length) {
      const part = b.length < r.bias ? 'codebook' : b.length < r.codes ? 'biases' : b.length < r.gaps ? 'code stream' : 'gap stream';
      throw f(`the file ends inside this layer's ${part}: the header puts its payload at bytes ${r.codebook}..${r.end - 1}, the file has ${b.length} (truncated?)`, b.length);
    }
    p = r.end;
  }
  if (p !== b.length) {
    throw fail(`${b.length - p} bytes after the last layer's payload, which ends at byte ${p}; the file must end there`, p, records.at(-1)!.name);
  }
  return { arch, version, metadata, records, headerEnd };
}

// A version 3 record: flags 4 and 8 only, B 1..12, K <= 2^B - 1, gap width 0, n (the non-zero
// weights) at most the tensor's size, a stream of at least 4 bytes in C, S = 0. Lays the payload
// out from `p` and returns where it ends.
function contextRecord(r: LayerRecord, p: number, length: number, f: (message: string, offset: number) => FormatError): number {
  if (r.flags & ~(FLAG_BIAS_F16 | FLAG_CODEBOOK_F16)) throw f(`flags ${r.flags} set bits version 3 does not define (only 4 and 8)`, r.flagsAt);
  if (r.bits < 1 || r.bits > SQZ_MAX_WIDTH) throw f(`code width ${r.bits} bits; 1..${SQZ_MAX_WIDTH} allowed`, r.flagsAt + 1);
  if (r.gapBits !== 0) throw f(`gap width ${r.gapBits}; version 3 has no gaps (0)`, r.flagsAt + 2);
  if (r.k > 2 ** r.bits - 1) throw f(`codebook of ${r.k} values does not fit ${r.bits}-bit codes (at most ${2 ** r.bits - 1} besides code 0)`, r.flagsAt + 3);
  const numel = numelOf(r.shape);
  if (r.n > numel) throw f(`${r.n} non-zero weights, more than the ${numel} of its [${r.shape.join(', ')}] tensor`, r.flagsAt + 5);
  if (r.n > 0 && r.k === 0) throw f(`${r.n} non-zero weights but an empty codebook`, r.flagsAt + 3);
  if (r.codeBytes < 4) throw f(`a stream of ${r.codeBytes} bytes; a range-coded stream has at least 4`, r.flagsAt + 9);
  if (r.gapBytes !== 0) throw f(`a gap stream of ${r.gapBytes} bytes; version 3 has none (0)`, r.flagsAt + 13);
  r.codebook = r.bias = r.codes = p;
  r.gaps = r.end = p + r.codeBytes;
  if (r.end > length) {
    throw f(`the file ends inside this layer's stream: the header puts its payload at bytes ${r.codebook}..${r.end - 1}, the file has ${length} (truncated?)`, length);
  }
  return r.end;
}

// One stream's symbols: fixed-width, or a Huffman alphabet and code lengths then the codes.
// Decoding builds no string per symbol (a message is made only on failure); returns where the
// i-th symbol starts, for the errors the caller finds while checking the values.
function readStream(
  b: Uint8Array,
  from: number,
  to: number,
  count: number,
  width: number,
  huffman: boolean,
  what: string,
  layer: string,
  out: Uint16Array,
): (i: number) => number {
  const f = (message: string, offset: number): FormatError => fail(`${what}: ${message}`, offset, layer);
  if (!huffman) {
    const r = new BitReader(b, from, to, f);
    if (count * width > r.bits) throw f(`the stream ends inside ${what} ${Math.floor(r.bits / width)} (it has ${to - from} bytes)`, to);
    for (let i = 0; i < count; i++) {
      out[i] = r.peek(width);
      r.pos += width;
    }
    return (i) => from + ((i * width) >>> 3);
  }
  const m = b[from]! | (b[from + 1]! << 8);
  if (m > 2 ** width) throw f(`alphabet of ${m} symbols; ${width}-bit symbols allow ${2 ** width}`, from);
  if (count > 0 && m === 0) throw f(`an empty alphabet for ${count} symbols`, from);
  const tableEnd = from + 2 + Math.ceil(m / 2);
  if (tableEnd > to) throw f(`its ${m} code lengths need ${tableEnd - from} bytes, the stream has ${to - from}`, to);
  const lengths = new Uint8Array(m);
  for (let s = 0; s < m; s++) {
    const byte = b[from + 2 + (s >> 1)]!;
    lengths[s] = (s & 1) === 0 ? byte >> 4 : byte & 15;
  }
  if (count > 0) {
    const problem = lengthsProblem(lengths);
    if (problem !== undefined) throw f(`bad code lengths: ${problem}`, from + 2);
  }
  const r = new BitReader(b, tableEnd, to, f);
  const decoder = count > 0 ? new HuffmanDecoder(lengths) : undefined;
  decoder?.decodeInto(r, out, count, what);
  if (r.bytesUsed !== to - tableEnd) {
    throw f(`${to - tableEnd - r.bytesUsed} bytes after the last of its ${count} symbols (the stream size in the header is wrong)`, tableEnd + r.bytesUsed);
  }
  return (i) => {
    const again = new BitReader(b, tableEnd, to, f);
    decoder?.decodeInto(again, out.slice(0, i), i, what);
    return again.offset;
  };
}

function readLayer(b: Uint8Array, view: DataView, r: LayerRecord, version: number): SqzLayer {
  const f = (message: string, offset: number): FormatError => fail(message, offset, r.name);
  const crc = crc32(b, r.codebook, r.end);
  if (crc !== r.crc) {
    throw f(`payload CRC-32 mismatch: the header says ${r.crc.toString(16).padStart(8, '0')}, bytes ${r.codebook}..${r.end - 1} give ${crc.toString(16).padStart(8, '0')} (the payload is damaged)`, r.codebook);
  }
  if (version === 3) {
    const cbF16 = (r.flags & FLAG_CODEBOOK_F16) !== 0;
    const biasF16 = (r.flags & FLAG_BIAS_F16) !== 0;
    const d = decodeContextPayload(b, r.codebook, r.end, r.shape, r.bits, r.k, cbF16, biasF16, r.n, f);
    return {
      name: r.name,
      shape: r.shape,
      bits: r.bits,
      gapBits: 1,
      huffmanCodes: false,
      huffmanGaps: false,
      biasF16,
      codebookF16: cbF16,
      codebook: d.codebook,
      bias: d.bias,
      codes: d.codes,
      gaps: new Uint16Array(d.codes.length),
    };
  }
  const cbF16 = (r.flags & FLAG_CODEBOOK_F16) !== 0;
  const codebook = new Float32Array(r.k + 1);
  for (let c = 1; c <= r.k; c++) {
    const at = r.codebook + (cbF16 ? 2 : 4) * (c - 1);
    const v = cbF16 ? fromFloat16Bits(view.getUint16(at, true)) : view.getFloat32(at, true);
    if (!Number.isFinite(v)) throw f(`codebook value ${c} is ${v}, not a finite number`, at);
    codebook[c] = v;
  }
  const f16 = (r.flags & FLAG_BIAS_F16) !== 0;
  const bias = new Float32Array(r.shape[0]);
  for (let c = 0; c < bias.length; c++) {
    const at = r.bias + (f16 ? 2 : 4) * c;
    const v = f16 ? fromFloat16Bits(view.getUint16(at, true)) : view.getFloat32(at, true);
    if (!Number.isFinite(v)) throw f(`bias ${c} is ${v}, not a finite number`, at);
    bias[c] = v;
  }
  const codes = new Uint16Array(r.n);
  const codeAt = readStream(b, r.codes, r.gaps, r.n, r.bits, (r.flags & FLAG_HUFFMAN_CODES) !== 0, 'code stream', r.name, codes);
  const gaps = new Uint16Array(r.n);
  const gapAt = readStream(b, r.gaps, r.end, r.n, r.gapBits, (r.flags & FLAG_HUFFMAN_GAPS) !== 0, 'gap stream', r.name, gaps);
  // One pass checks both streams; the first bad entry is then reported with its byte.
  const numel = numelOf(r.shape);
  let p = -1;
  for (let i = 0; i < r.n; i++) {
    p += gaps[i]! + 1;
    if (codes[i]! > r.k || p >= numel) {
      if (codes[i]! > r.k) throw f(`code stream: entry ${i} has code ${codes[i]}, the codebook has ${r.k} values besides 0`, codeAt(i));
      throw f(`gap stream: entry ${i} of ${r.n} lands at position ${p}, past the end of the ${numel}-weight tensor`, gapAt(i));
    }
  }
  return {
    name: r.name,
    shape: r.shape,
    bits: r.bits,
    gapBits: r.gapBits,
    huffmanCodes: (r.flags & FLAG_HUFFMAN_CODES) !== 0,
    huffmanGaps: (r.flags & FLAG_HUFFMAN_GAPS) !== 0,
    biasF16: f16,
    codebookF16: cbF16,
    codebook,
    bias,
    codes,
    gaps,
  };
}

/** Reads and checks a whole .sqz file: the architecture name and every layer's codebook, biases, codes and gaps. */
export function readSqz(bytes: Uint8Array | ArrayBuffer): SqzFile {
  const b = toBytes(bytes, 'a .sqz file');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const { arch, version, metadata, records } = readHeader(b, view);
  return { arch, version, metadata, layers: records.map((r) => readLayer(b, view, r, version)) };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The dense weight tensor of a layer: `codebook[code]` at each entry's position, 0 elsewhere. */
export function layerWeights(layer: SqzLayer): Float32Array {
  const w = new Float32Array(numelOf(layer.shape));
  let p = -1;
  for (let i = 0; i < layer.codes.length; i++) {
    p += layer.gaps[i]! + 1;
    w[p] = layer.codebook[layer.codes[i]!]!;
  }
  return w;
}

/**
 * Decodes a .sqz file: the network it names (with conv10's classes from its shape and the
 * pool rounding from its metadata), torchvision-named tensors (`features.0.weight`, ...,
 * `classifier.1.bias`) and the recipe (its metadata, else v1.0-caffe's Caffe form, else
 * torchvision's, as a guess). A malformed file throws a {@link FormatError} naming the layer and
 * the byte offset.
 */
export function decodeSqz(bytes: Uint8Array | ArrayBuffer): DecodedWeights {
  return sqzWeights(readSqz(bytes));
}

/** {@link decodeSqz} for a file already read. */
export function sqzWeights(file: SqzFile): DecodedWeights {
  const arch = sqzArch(file);
  const r = inferRecipe(arch, file.metadata?.[RECIPE_KEY]);
  return { format: 'sqz', arch, weights: sqzTensors(file), recipe: r.recipe, recipeSource: r.recipeSource, notes: r.notes };
}

/** The metadata a network needs besides its name: `maxpool` when its pools round otherwise. Throws InputError for a network .sqz cannot name. */
export function sqzArchMetadata(arch: Arch): Record<string, string> {
  const base = ARCHS[arch.name];
  if (base === undefined) throw new InputError(`cannot write .sqz for ${JSON.stringify(arch.name)}: not a network this library names`);
  const pools = arch.layers.filter((l) => l.kind === 'maxpool');
  if (pools.some((p) => p.kind === 'maxpool' && p.padEnd !== undefined)) {
    throw new InputError(`cannot write .sqz for ${arch.name} with max pools spelled with end pads (an ONNX graph's): .sqz records only ceil or floor rounding`);
  }
  const rounding = new Set(pools.map((p) => (p.kind === 'maxpool' && p.ceil ? 'ceil' : 'floor')));
  if (rounding.size > 1) throw new InputError(`cannot write .sqz for ${arch.name} with pools of both roundings`);
  const base0 = base.layers.find((l) => l.kind === 'maxpool');
  const r = [...rounding][0];
  return r !== undefined && base0?.kind === 'maxpool' && (base0.ceil ? 'ceil' : 'floor') !== r ? { [SQZ_MAXPOOL_KEY]: r } : {};
}

/** The tensors of a file already read. */
export function sqzTensors(file: SqzFile): Map<string, DecodedTensor> {
  const out = new Map<string, DecodedTensor>();
  for (const l of file.layers) {
    out.set(`${l.name}.weight`, { data: layerWeights(l), shape: [...l.shape] });
    out.set(`${l.name}.bias`, { data: l.bias, shape: [l.shape[0]] });
  }
  return out;
}

/**
 * The network a .sqz file holds: the architecture it names (checked against the ones this
 * library knows), with conv10 for as many classes as its `classifier.1` layer has and the max
 * pools rounding as its `maxpool` metadata says; the name when that is the built-in network.
 */
export function sqzArch(file: SqzFile): ArchName | Arch {
  if (!Object.hasOwn(ARCHS, file.arch)) {
    throw new FormatError(
      `architecture ${JSON.stringify(file.arch)} is not one this library knows (${Object.keys(ARCHS).join(', ')}); pass { arch } to load it`,
      SQZ_FORMAT,
      10,
    );
  }
  let arch: Arch = ARCHS[file.arch as ArchName];
  const classes = file.layers.find((l) => l.name === 'classifier.1')?.shape[0];
  if (classes !== undefined) arch = withClasses(arch, classes);
  const pool = file.metadata?.[SQZ_MAXPOOL_KEY];
  if (pool !== undefined) {
    if (pool !== 'ceil' && pool !== 'floor') throw new FormatError(`metadata ${SQZ_MAXPOOL_KEY}=${JSON.stringify(pool)}: ceil or floor expected`, SQZ_FORMAT, 10);
    arch = withPooling(arch, pool);
  }
  return archOrName(arch);
}

/**
 * Decodes a .sqz file and loads it as the network it names (or `options.arch`).
 *
 * ```ts
 * const model = await loadSqz(await readFile('squeezenet.sqz'));
 * ```
 */
export async function loadSqz(bytes: Uint8Array | ArrayBuffer, options: Omit<LoadOptions, 'weights'> = {}): Promise<SqueezeNet> {
  const d = decodeSqz(bytes);
  return SqueezeNet.load({ ...options, arch: options.arch ?? d.arch, weights: d.weights, recipe: options.recipe ?? d.recipe });
}
