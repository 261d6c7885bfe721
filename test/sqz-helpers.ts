// Shared by the .sqz tests: a small container of awkward layers, where its header fields sit,
// and `reseal`, which recomputes its CRCs after a forged edit.
import { crc32 } from '../src/codec/crc32.js';
import { roundFloat16 } from '../src/codec/float16.js';
import { expect } from 'vitest';
import { FormatError, readSqz, SQZ_FORMAT, type SqzFile, type SqzLayer } from '../src/index.js';
import { seededRandom } from './helpers.js';

const SEED = 20160224;

/** Codes and gaps for a dense array of codes (0 = zero), bridging long gaps with fillers. */
export function entries(dense: readonly number[], gapBits: number): { codes: Uint16Array; gaps: Uint16Array } {
  const span = 2 ** gapBits;
  const codes: number[] = [];
  const gaps: number[] = [];
  let last = -1;
  dense.forEach((c, p) => {
    if (c === 0) return;
    let d = p - last - 1;
    while (d >= span) {
      codes.push(0);
      gaps.push(span - 1);
      d -= span;
    }
    codes.push(c);
    gaps.push(d);
    last = p;
  });
  return { codes: Uint16Array.from(codes), gaps: Uint16Array.from(gaps) };
}

type LayerSpec = Omit<SqzLayer, 'codes' | 'gaps'> & { readonly dense: readonly number[] };

const layer = (spec: LayerSpec): SqzLayer => {
  const { dense, ...rest } = spec;
  return { ...rest, ...entries(dense, spec.gapBits) };
};

/**
 * Four layers: sparse with fillers (Huffman), empty (Huffman), dense at fixed width with float16
 * codebook and biases, and a single weight (one-symbol Huffman streams: 0 bits).
 */
export function smallFile(seed = SEED): SqzFile {
  const rand = seededRandom(seed);
  const sparse = Array.from({ length: 54 }, (_, p) => (p > 40 && p < 50 ? 0 : rand() < 0.4 ? 1 + Math.floor(rand() * 11) : 0));
  sparse[53] = 3;
  return {
    arch: 'v1.1',
    layers: [
      layer({
        name: 'a.conv',
        shape: [3, 2, 3, 3],
        bits: 4,
        gapBits: 2,
        huffmanCodes: true,
        huffmanGaps: true,
        biasF16: false,
        codebookF16: false,
        codebook: Float32Array.from([0, -0.5, -0.25, -0.125, 0.0625, 0.125, 0.25, 0.5, 0.75, 1, 1.5, 2]),
        bias: Float32Array.from([0.1, -0.2, 0.3]),
        dense: sparse,
      }),
      layer({
        name: 'b',
        shape: [4, 5, 1, 1],
        bits: 3,
        gapBits: 1,
        huffmanCodes: true,
        huffmanGaps: true,
        biasF16: false,
        codebookF16: false,
        codebook: Float32Array.from([0]),
        bias: Float32Array.from([1, 2, 3, 4]),
        dense: new Array<number>(20).fill(0),
      }),
      layer({
        name: 'c',
        shape: [2, 3, 1, 1],
        bits: 2,
        gapBits: 1,
        huffmanCodes: false,
        huffmanGaps: false,
        biasF16: true,
        codebookF16: true,
        codebook: Float32Array.from([0, -1.5, 0.099975586, 65504].map(roundFloat16)),
        bias: Float32Array.from([0.5, -(2 ** -24)].map(roundFloat16)),
        dense: [1, 2, 3, 3, 2, 1],
      }),
      layer({
        name: 'd',
        shape: [1, 1, 1, 1],
        bits: 1,
        gapBits: 1,
        huffmanCodes: true,
        huffmanGaps: true,
        biasF16: false,
        codebookF16: false,
        codebook: Float32Array.from([0, -3]),
        bias: Float32Array.from([7]),
        dense: [1],
      }),
    ],
  };
}

/** Where each field of the header sits: what the reader walks (version 3: a payload is its one stream of C bytes). */
export function layoutOf(b: Uint8Array) {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = view.getUint16(8, true);
  let o = 10;
  const archAt = o;
  o += 1 + b[o]!;
  if (version === 2 || version === 3) {
    // versions 2 and 3: the metadata entries (u8 key length, key, u16 value length, value)
    const entries = b[o]!;
    o += 1;
    for (let i = 0; i < entries; i++) {
      o += 1 + b[o]!;
      o += 2 + view.getUint16(o, true);
    }
  }
  const countAt = o;
  const count = view.getUint16(o, true);
  o += 2;
  const records = [];
  for (let i = 0; i < count; i++) {
    const at = o;
    const name = String.fromCharCode(...b.subarray(o + 1, o + 1 + b[o]!));
    const f = o + 1 + b[o]!;
    const flags = b[f + 6]!;
    records.push({
      name,
      at,
      fields: f,
      flags: f + 6,
      bits: f + 7,
      gapBits: f + 8,
      k: f + 9,
      n: f + 11,
      codeBytes: f + 15,
      gapBytes: f + 19,
      crc: f + 23,
      payloadBytes:
        version === 3
          ? view.getUint32(f + 15, true) + view.getUint32(f + 19, true)
          : (flags & 8 ? 2 : 4) * view.getUint16(f + 9, true) +
            (flags & 4 ? 2 : 4) * view.getUint16(f, true) +
            view.getUint32(f + 15, true) +
            view.getUint32(f + 19, true),
      payload: 0,
    });
    o = f + 27;
  }
  const crcAt = o;
  let p = o + 4;
  for (const r of records) {
    r.payload = p;
    p += r.payloadBytes;
  }
  return { version, archAt, countAt, records, crcAt, end: p };
}

/** Recomputes every CRC after a forged edit, so the checks behind the CRCs are reached. Bytes that do not parse come back as they were. */
export function reseal(bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  if (b.length < 8 || ![0x89, 0x53, 0x51, 0x5a, 0x0d, 0x0a, 0x1a, 0x0a].every((m, i) => b[i] === m)) return b;
  try {
    const { records, crcAt } = layoutOf(b);
    const view = new DataView(b.buffer);
    if (crcAt + 4 > b.length) return b;
    for (const r of records) {
      if (r.payload + r.payloadBytes <= b.length) view.setUint32(r.crc, crc32(b, r.payload, r.payload + r.payloadBytes), true);
    }
    view.setUint32(crcAt, crc32(b, 0, crcAt), true);
  } catch {
    return b;
  }
  return b;
}


/** Runs the reader and returns its FormatError (checked to name the format and a byte offset inside the file), failing on success or any other error. */
export function formatError(bytes: Uint8Array): FormatError {
  try {
    readSqz(bytes);
  } catch (e) {
    if (e instanceof FormatError) {
      expect(e.format).toBe(SQZ_FORMAT);
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bytes.length);
      expect(e.message).toContain(`at byte ${e.offset}`);
      return e;
    }
    throw new Error(`expected a FormatError, got ${(e as Error).name}: ${(e as Error).message}`);
  }
  throw new Error('expected a FormatError, the file was read');
}
