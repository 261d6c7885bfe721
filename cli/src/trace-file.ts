// Trace files: every layer's output of one run, as named NCHW tensors, in the two containers
// numeric people already read: safetensors (Hugging Face) and .npz (numpy). `squeezenet trace`
// writes them, `squeezenet compare` reads them, ours or anyone's in the same layout (README,
// "Conformance kit"). The writers stream chunks, so a trace is never copied into one buffer.
//
// safetensors: u64 LE header length N; N bytes of JSON (padded with spaces to a multiple of 8):
//   {"__metadata__": {key: string}, name: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}}
//   then the data, little-endian, back to back in the header's order.
// .npz: a ZIP archive (no compression when we write it, as np.savez) of NAME.npy members, each
//   an .npy file (format 1.0: "\x93NUMPY", 1, 0, u16 LE header length, a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 96, 111, 111), } padded with spaces
//   and a newline to a multiple of 64 bytes, then the C-order data); the metadata is the member
//   __metadata__.npy, a 0-d '<U' (UTF-32LE) string holding the same keys as one JSON object.

import { statSync, readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { FormatError, halfToFloat, readSafetensors } from 'squeezenet-wasm';
import { fileProblem } from './paths.js';

/** One named tensor of a trace: NCHW (or any shape), values as read. */
export interface TraceTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
  /** The dtype in the file: `F32`, `F16`, `BF16` (safetensors) or numpy's `<f4`, `<f8`, ... (npz). */
  readonly dtype: string;
}

export interface Trace {
  /** The tensors in the file's order. */
  readonly tensors: Map<string, TraceTensor>;
  /** safetensors' `__metadata__`, or the npz's `__metadata__` member (empty when absent). */
  readonly metadata: Record<string, string>;
  readonly format: TraceFormat;
}

export type TraceFormat = 'safetensors' | 'npz';
export const TRACE_FORMATS: readonly TraceFormat[] = ['safetensors', 'npz'];

/** The layout's name and version, written as metadata `format` and `format_version`. */
export const TRACE_LAYOUT = 'squeezenet-trace';
export const TRACE_LAYOUT_VERSION = '1';

/** Largest trace file read: Node reads at most 2 GiB into one buffer. */
export const MAX_TRACE_FILE_BYTES = 2 ** 31 - 1;
/** Largest total of an npz's members once inflated. */
export const MAX_NPZ_INFLATED_BYTES = 2 ** 31;

/** A trace file that cannot be read or is malformed; the message says what and where, in one line. */
export class TraceFileError extends Error {
  override name = 'TraceFileError';
  constructor(message: string) {
    // Names come from the file: a control character in one must not break the line.
    super(message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}

export interface LayerTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const UTF8 = new TextEncoder();

/** The float32 values of `data` as little-endian bytes (a view when the host is little-endian). */
function leBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return out;
}

function checkLayers(layers: readonly LayerTensor[]): void {
  const seen = new Set<string>();
  for (const l of layers) {
    if (l.name === '' || l.name === '__metadata__') throw new TraceFileError(`a tensor may not be named ${JSON.stringify(l.name)}`);
    if (seen.has(l.name)) throw new TraceFileError(`two tensors are named ${l.name}`);
    seen.add(l.name);
    if (l.data.length !== l.shape.reduce((a, b) => a * b, 1)) {
      throw new TraceFileError(`${l.name}: ${l.data.length} values for shape [${l.shape.join(', ')}]`);
    }
  }
}

/** A safetensors trace, as chunks to write one after another. Every tensor F32. */
export function safetensorsChunks(layers: readonly LayerTensor[], metadata: Record<string, string>): Uint8Array[] {
  checkLayers(layers);
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const l of layers) {
    header[l.name] = { dtype: 'F32', shape: [...l.shape], data_offsets: [offset, offset + 4 * l.data.length] };
    offset += 4 * l.data.length;
  }
  let json = UTF8.encode(JSON.stringify(header));
  const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  padded.set(json);
  json = padded;
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return [length, json, ...layers.map((l) => leBytes(l.data))];
}

// ---------------------------------------------------------------------------------------------
// .npy and .npz

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** An .npy header (format 1.0) for a C-order array of `descr` and `shape`, padded to 64 bytes. */
function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** A 0-d numpy unicode string ('<U n', UTF-32LE) as an .npy file. */
function npyString(text: string): Uint8Array {
  const points = [...text].map((c) => c.codePointAt(0)!);
  const head = npyHeader(`<U${Math.max(1, points.length)}`, []);
  const out = new Uint8Array(head.length + 4 * Math.max(1, points.length));
  out.set(head);
  const view = new DataView(out.buffer);
  points.forEach((p, i) => view.setUint32(head.length + 4 * i, p, true));
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, as ZIP uses), continued from `crc` over each chunk. */
export function crc32(chunks: readonly Uint8Array[], crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of chunks) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** ZIP's limit without the ZIP64 extensions, which this writer does not write. */
const ZIP32_LIMIT = 0xffffffff;

/**
 * An .npz trace (a ZIP of NAME.npy members, stored, not compressed, as `np.savez` writes them),
 * as chunks to write one after another. Every tensor '<f4'; the metadata as `__metadata__`.
 */
export function npzChunks(layers: readonly LayerTensor[], metadata: Record<string, string>): Uint8Array[] {
  checkLayers(layers);
  const members: { name: Uint8Array; parts: Uint8Array[] }[] = [
    { name: UTF8.encode('__metadata__.npy'), parts: [npyString(JSON.stringify(metadata))] },
    ...layers.map((l) => ({ name: UTF8.encode(`${l.name}.npy`), parts: [npyHeader('<f4', l.shape), leBytes(l.data)] })),
  ];
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, 00:00: reproducible files
  for (const m of members) {
    const size = m.parts.reduce((a, p) => a + p.length, 0);
    if (size > ZIP32_LIMIT || offset > ZIP32_LIMIT) {
      throw new TraceFileError(`${new TextDecoder().decode(m.name)} would sit past 4 GiB in the .npz, which needs ZIP64: write safetensors instead`);
    }
    const crc = crc32(m.parts);
    const utf8Flag = m.name.some((b) => b >= 0x80) ? 0x800 : 0;
    const local = new Uint8Array(30 + m.name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, utf8Flag, true);
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, size, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, m.name.length, true);
    lv.setUint16(28, 0, true);
    local.set(m.name, 30);
    const entry = new Uint8Array(46 + m.name.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, utf8Flag, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, m.name.length, true);
    cv.setUint32(42, offset, true);
    entry.set(m.name, 46);
    central.push(entry);
    chunks.push(local, ...m.parts);
    offset += local.length + size;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  if (offset + cdSize > ZIP32_LIMIT) throw new TraceFileError('the .npz would be over 4 GiB, which needs ZIP64: write safetensors instead');
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  if (members.length > 0xffff) throw new TraceFileError(`${members.length} tensors are more than an .npz without ZIP64 holds`);
  return [...chunks, ...central, end];
}

/** `chunks` joined into one buffer (for tests and small traces). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

interface NpyArray {
  readonly descr: string;
  readonly shape: number[];
  readonly data: Uint8Array;
}

/** Parses one .npy member; `what` names it in errors. */
function parseNpy(b: Uint8Array, what: string): NpyArray {
  if (b.length < 10 || !NPY_MAGIC.every((m, i) => b[i] === m)) throw new TraceFileError(`${what} is not an .npy array (no \\x93NUMPY magic)`);
  const major = b[6]!;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (major < 1 || major > 3) throw new TraceFileError(`${what}: .npy format version ${major}.${b[7]} is not 1, 2 or 3`);
  const headerLen = major === 1 ? view.getUint16(8, true) : b.length >= 12 ? view.getUint32(8, true) : Infinity;
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > b.length) throw new TraceFileError(`${what}: the .npy header runs past the end of the member`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new TraceFileError(`${what}: the .npy header ${JSON.stringify(text.trim().slice(0, 80))} lacks descr, fortran_order or shape`);
  }
  if (fortran === 'True') throw new TraceFileError(`${what}: fortran_order is True; save a C-order array (np.ascontiguousarray)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw new TraceFileError(`${what}: shape (${shapeText}) is not a tuple of non-negative integers`);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  if (!shape.every((d) => Number.isSafeInteger(d))) throw new TraceFileError(`${what}: shape (${shapeText}) is too large`);
  return { descr, shape, data: b.subarray(start + headerLen) };
}

const NPY_FLOATS: Readonly<Record<string, { size: number; kind: 'f2' | 'f4' | 'f8' }>> = {
  f2: { size: 2, kind: 'f2' },
  f4: { size: 4, kind: 'f4' },
  f8: { size: 8, kind: 'f8' },
};

/** The values of a float .npy array; anything but float16/32/64 is an error naming it. */
function npyFloats(a: NpyArray, what: string): Float32Array | Float64Array {
  const m = /^([<>=|])?(f[248])$/.exec(a.descr);
  if (m === null) throw new TraceFileError(`${what}: dtype '${a.descr}' is not a float (a trace holds '<f4'; '<f2' and '<f8' are read too)`);
  const little = m[1] !== '>';
  const { size, kind } = NPY_FLOATS[m[2]!]!;
  const count = elementCount(a.shape, what);
  if (a.data.length !== count * size) {
    throw new TraceFileError(`${what}: shape (${a.shape.join(', ')}) of '${a.descr}' needs ${count * size} bytes of data, the member has ${a.data.length}`);
  }
  const view = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  if (kind === 'f8') {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, little);
    return out;
  }
  const out = new Float32Array(count);
  if (kind === 'f4') {
    if (little && LITTLE_ENDIAN) new Uint8Array(out.buffer).set(a.data);
    else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, little);
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, little));
  }
  return out;
}

function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new TraceFileError(`${what}: shape [${shape.join(', ')}] has too many elements`);
  return n;
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressed: number;
  readonly size: number;
  readonly local: number;
}

/** The central directory of a ZIP archive (ZIP64 included), checked against the file's length. */
function zipEntries(b: Uint8Array): ZipEntry[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new TraceFileError('not a complete ZIP archive: no end-of-central-directory record (truncated?)');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) throw new TraceFileError('ZIP64 archive without its end-of-central-directory locator');
    const at = Number(view.getBigUint64(locator + 8, true));
    if (!(at >= 0 && at + 56 <= b.length) || view.getUint32(at, true) !== 0x06064b50) throw new TraceFileError('ZIP64 end-of-central-directory record missing');
    count = Number(view.getBigUint64(at + 32, true));
    cdSize = Number(view.getBigUint64(at + 40, true));
    cdOffset = Number(view.getBigUint64(at + 48, true));
  }
  if (cdOffset + cdSize > b.length) throw new TraceFileError(`the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${b.length} bytes)`);
  const entries: ZipEntry[] = [];
  let o = cdOffset;
  for (let k = 0; k < count; k++) {
    if (o + 46 > cdOffset + cdSize || view.getUint32(o, true) !== 0x02014b50) throw new TraceFileError(`central directory entry ${k} at byte ${o} is malformed`);
    const flags = view.getUint16(o + 8, true);
    const method = view.getUint16(o + 10, true);
    const crc = view.getUint32(o + 16, true);
    let compressed = view.getUint32(o + 20, true);
    let size = view.getUint32(o + 24, true);
    const nameLen = view.getUint16(o + 28, true);
    const extraLen = view.getUint16(o + 30, true);
    const commentLen = view.getUint16(o + 32, true);
    let local = view.getUint32(o + 42, true);
    if (o + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize) throw new TraceFileError(`central directory entry ${k} runs past the directory`);
    const name = new TextDecoder().decode(b.subarray(o + 46, o + 46 + nameLen));
    // ZIP64 extended information: the 64-bit values, in this order, of the fields that are all ones.
    let e = o + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw new TraceFileError(`${name}: an extra field runs past the entry`);
      if (id === 0x0001) {
        let p = e + 4;
        const next = (): number => {
          if (p + 8 > e + 4 + len) throw new TraceFileError(`${name}: ZIP64 extra field too short`);
          const v = Number(view.getBigUint64(p, true));
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + len;
    }
    entries.push({ name, method, flags, crc, compressed, size, local });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** One member's bytes, inflated and checked against its CRC-32. */
function zipMember(b: Uint8Array, e: ZipEntry): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (e.flags & 1) throw new TraceFileError(`${e.name} is encrypted`);
  if (e.local + 30 > b.length || view.getUint32(e.local, true) !== 0x04034b50) throw new TraceFileError(`${e.name}: no local header at byte ${e.local}`);
  const start = e.local + 30 + view.getUint16(e.local + 26, true) + view.getUint16(e.local + 28, true);
  if (start + e.compressed > b.length) throw new TraceFileError(`${e.name}: ${e.compressed} bytes of data at ${start} run past the end of the file (${b.length} bytes)`);
  const raw = b.subarray(start, start + e.compressed);
  let data: Uint8Array;
  if (e.method === 0) {
    data = raw;
  } else if (e.method === 8) {
    if (e.size > Math.min(MAX_NPZ_INFLATED_BYTES, 2 ** 31 - 1)) throw new TraceFileError(`${e.name} inflates to ${e.size} bytes, more than a member may`);
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      throw new TraceFileError(`${e.name}: cannot inflate (${(err as Error).message})`);
    }
  } else {
    throw new TraceFileError(`${e.name}: compression method ${e.method} (only stored and deflate are read)`);
  }
  if (data.length !== e.size) throw new TraceFileError(`${e.name}: ${data.length} bytes, the directory says ${e.size}`);
  const crc = crc32([data]);
  if (crc !== e.crc) throw new TraceFileError(`${e.name}: CRC-32 ${crc.toString(16)} does not match the directory's ${e.crc.toString(16)} (damaged file)`);
  return data;
}

/** Reads an .npz trace: every NAME.npy member a float tensor, `__metadata__.npy` the metadata. */
export function decodeNpz(b: Uint8Array): Trace {
  const entries = zipEntries(b);
  const total = entries.reduce((a, e) => a + e.size, 0);
  if (total > MAX_NPZ_INFLATED_BYTES) throw new TraceFileError(`its members hold ${total} bytes, more than the ${MAX_NPZ_INFLATED_BYTES} read`);
  const tensors = new Map<string, TraceTensor>();
  let metadata: Record<string, string> = {};
  for (const e of entries) {
    if (!e.name.endsWith('.npy')) throw new TraceFileError(`member ${e.name} is not an .npy array`);
    const name = e.name.slice(0, -4);
    if (tensors.has(name)) throw new TraceFileError(`two members are named ${e.name}`);
    const array = parseNpy(zipMember(b, e), e.name);
    if (name === '__metadata__') {
      metadata = npyMetadata(array);
      continue;
    }
    tensors.set(name, { shape: array.shape, data: npyFloats(array, e.name), dtype: array.descr });
  }
  return { tensors, metadata, format: 'npz' };
}

function npyMetadata(a: NpyArray): Record<string, string> {
  const m = /^[<>=]?U(\d+)$/.exec(a.descr);
  if (m === null || a.shape.length !== 0) throw new TraceFileError(`__metadata__.npy must be a 0-d unicode string ('<U'), it is '${a.descr}' of shape (${a.shape.join(', ')})`);
  const n = Number(m[1]);
  if (a.data.length !== 4 * n) throw new TraceFileError(`__metadata__.npy holds ${a.data.length} bytes, '${a.descr}' needs ${4 * n}`);
  const view = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  let text = '';
  for (let i = 0; i < n; i++) {
    const p = view.getUint32(4 * i, a.descr[0] !== '>');
    if (p === 0) break;
    if (p > 0x10ffff) throw new TraceFileError('__metadata__.npy is not valid UTF-32');
    text += String.fromCodePoint(p);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TraceFileError(`__metadata__.npy is not a JSON object: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || Object.values(json).some((v) => typeof v !== 'string')) {
    throw new TraceFileError('__metadata__.npy must hold a JSON object of strings');
  }
  return json as Record<string, string>;
}

/** Reads a safetensors trace with the library's checked reader (F32; F16 and BF16 widened). */
export function decodeSafetensorsTrace(b: Uint8Array): Trace {
  try {
    const { tensors, metadata } = readSafetensors(b);
    const out = new Map<string, TraceTensor>();
    for (const [name, t] of tensors) out.set(name, { shape: t.shape, data: t.data, dtype: t.dtype });
    return { tensors: out, metadata, format: 'safetensors' };
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    // The library words this for weights.
    throw new TraceFileError(e.message.replace(/SqueezeNet weights load from F32, F16 or BF16/, 'a trace holds F32 (F16 and BF16 are read too)'));
  }
}

/** Which container the bytes are: a ZIP (npz) or a safetensors header; undefined for neither. */
export function sniffTrace(b: Uint8Array): TraceFormat | undefined {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6))) return 'npz';
  if (b.length >= 9 && b[8] === 0x7b && b[5] === 0 && b[6] === 0 && b[7] === 0) return 'safetensors';
  return undefined;
}

/** A trace from its bytes, the container told by the bytes. Throws TraceFileError. */
export function decodeTrace(b: Uint8Array): Trace {
  const format = sniffTrace(b);
  if (format === 'npz') return decodeNpz(b);
  if (format === 'safetensors') return decodeSafetensorsTrace(b);
  const head = [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new TraceFileError(b.length === 0 ? 'empty file' : `neither safetensors nor .npz (first bytes ${head})`);
}

/** Reads and decodes a trace file; every failure is a TraceFileError starting with the path. */
export function readTraceFile(path: string): Trace {
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new TraceFileError('is a directory');
    if (!st.isFile()) throw new TraceFileError('is not a regular file');
    if (st.size > MAX_TRACE_FILE_BYTES) throw new TraceFileError(`is ${st.size} bytes, more than the ${MAX_TRACE_FILE_BYTES} read`);
    bytes = readFileSync(path);
  } catch (e) {
    const why = e instanceof TraceFileError ? e.message : fileProblem(e);
    throw new TraceFileError(`${path}: ${why}`);
  }
  try {
    return decodeTrace(bytes);
  } catch (e) {
    const why = e instanceof TraceFileError ? e.message : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    throw new TraceFileError(`${path}: ${why}`.replace(/\s+/g, ' ').trim());
  }
}

/** The format for an output path: `--format` if given, else `.npz` by extension, else safetensors. */
export function formatForPath(path: string, flag?: string): TraceFormat {
  if (flag !== undefined) {
    if (!(TRACE_FORMATS as readonly string[]).includes(flag)) throw new TraceFileError(`--format must be one of ${TRACE_FORMATS.join(', ')}, got ${flag}`);
    return flag as TraceFormat;
  }
  return path.toLowerCase().endsWith('.npz') ? 'npz' : 'safetensors';
}
