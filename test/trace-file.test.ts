// Trace files (cli/src/trace-file.ts): safetensors and .npz written and read back bit for bit,
// .npz files numpy itself wrote (fixtures/trace/, by fixtures/export_trace.py --reader-fixtures)
// read to the value, malformed files refused with one line naming what is wrong, and the fuzz
// harness's damage (truncations, flips, lying counts) ending in a TraceFileError, never a crash.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  concatChunks,
  crc32,
  decodeNpz,
  decodeTrace,
  npzChunks,
  safetensorsChunks,
  sniffTrace,
  TraceFileError,
  type LayerTensor,
  type Trace,
} from '../cli/src/trace-file.js';
import { FIXTURES } from './fixture-reader.js';
import { f32Bytes, safetensors } from './format-writers.js';
import { fuzzLoader } from './fuzz-harness.js';
import { seededRandom } from './helpers.js';

const META = { format: 'squeezenet-trace', format_version: '1', layers: 'input,conv1,odd,empty', note: 'ünïcødé ✓' };

function layers(): LayerTensor[] {
  const rand = seededRandom(18);
  const t = (name: string, shape: number[]): LayerTensor => ({
    name,
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 200 - 100),
  });
  const odd = t('odd', [3, 7, 1, 5]);
  (odd.data as Float32Array).set([NaN, Infinity, -Infinity, -0, 2 ** -149, 3.4028234663852886e38], 0);
  return [t('input', [1, 3, 5, 4]), t('conv1', [1, 17, 2, 3]), odd, t('empty', [1, 0, 4, 4]), t('fire2.expand3x3', [2, 1])];
}

const bitsEqual = (a: Float32Array | Float64Array, b: Float32Array): boolean =>
  a instanceof Float32Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function expectSame(trace: Trace, want: readonly LayerTensor[]): void {
  expect([...trace.tensors.keys()]).toEqual(want.map((l) => l.name));
  for (const l of want) {
    const t = trace.tensors.get(l.name)!;
    expect(t.shape, l.name).toEqual(l.shape);
    expect(bitsEqual(t.data, l.data), `${l.name}: values bit for bit`).toBe(true);
  }
  expect(trace.metadata).toEqual(META);
}

describe('trace files round trip', () => {
  it('safetensors: every value bit for bit (NaN, infinities, -0, subnormals), shapes, order, metadata; header padded to 8', () => {
    const bytes = concatChunks(safetensorsChunks(layers(), META));
    expect(sniffTrace(bytes)).toBe('safetensors');
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const trace = decodeTrace(bytes);
    expect(trace.format).toBe('safetensors');
    expectSame(trace, layers());
  });

  it('npz: the same, as a ZIP of stored .npy members (headers padded to 64 bytes) with correct CRC-32s', () => {
    const bytes = concatChunks(npzChunks(layers(), META));
    expect(sniffTrace(bytes)).toBe('npz');
    const trace = decodeTrace(bytes);
    expect(trace.format).toBe('npz');
    expectSame(trace, layers());
    // the first member is __metadata__.npy; its .npy header length makes the data start at 64
    const nameLen = bytes[26]!;
    const npy = bytes.subarray(30 + nameLen);
    expect(String.fromCharCode(...npy.subarray(1, 6))).toBe('NUMPY');
    expect((10 + (npy[8]! | (npy[9]! << 8))) % 64).toBe(0);
  });

  it('CRC-32 is the ISO-HDLC one ZIP uses', () => {
    expect(crc32([new TextEncoder().encode('123456789')])).toBe(0xcbf43926);
    expect(crc32([new TextEncoder().encode('1234'), new TextEncoder().encode('56789')])).toBe(0xcbf43926);
  });

  it('refuses duplicate, empty or reserved names and data that does not fill the shape', () => {
    const one = (name: string, shape = [1], data = new Float32Array(1)): LayerTensor => ({ name, shape, data });
    for (const write of [safetensorsChunks, npzChunks]) {
      expect(() => write([one('a'), one('a')], {})).toThrow(/two tensors are named a/);
      expect(() => write([one('')], {})).toThrow(TraceFileError);
      expect(() => write([one('__metadata__')], {})).toThrow(/may not be named/);
      expect(() => write([one('a', [2, 2])], {})).toThrow(/1 values for shape \[2, 2\]/);
    }
  });
});

interface Expected {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
}

describe('.npz files numpy wrote (fixtures/trace/)', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'trace', 'numpy-expected.json'), 'utf8')) as Expected;
  for (const file of ['numpy-savez.npz', 'numpy-savez-compressed.npz']) {
    it(`${file}: '<f4', '<f8', '<f2' and '>f4' arrays to the value, the metadata string`, () => {
      const trace = decodeTrace(readFileSync(join(FIXTURES, 'trace', file)));
      expect(trace.metadata).toEqual(expected.metadata);
      expect([...trace.tensors.keys()]).toEqual(Object.keys(expected.tensors));
      for (const [name, want] of Object.entries(expected.tensors)) {
        const t = trace.tensors.get(name)!;
        expect(t.dtype, name).toBe(want.dtype);
        expect(t.shape, name).toEqual(want.shape);
        expect(Array.from(t.data), name).toEqual(want.values);
      }
      expect(trace.tensors.get('b')!.data).toBeInstanceOf(Float64Array);
    });
  }
});

// One-member npz files made by hand, for the errors numpy never writes.
function npz(members: { name: string; data: Uint8Array; method?: 0 | 8; crc?: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const stored = m.method === 8 ? deflateRawSync(m.data) : m.data;
    const crc = m.crc ?? crc32([m.data]);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, m.method ?? 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, stored.length, true);
    lv.setUint32(22, m.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, m.method ?? 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, stored.length, true);
    cv.setUint32(24, m.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, stored);
    central.push(c);
    offset += local.length + stored.length;
  }
  const cd = concatChunks(central);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concatChunks([...parts, cd, end]);
}

function npy(header: string, data: Uint8Array = new Uint8Array(0), magic = '\x93NUMPY'): Uint8Array {
  const text = `${header}\n`;
  const out = new Uint8Array(10 + text.length + data.length);
  for (let i = 0; i < 6; i++) out[i] = magic.charCodeAt(i);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  out.set(data, 10 + text.length);
  return out;
}

const f4 = (shape: string): string => `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;

describe('malformed trace files: one line naming what is wrong', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /^empty file$/],
    ['neither format', new TextEncoder().encode('hello, world'), /neither safetensors nor \.npz \(first bytes 68 65 6c/],
    ['a ZIP without its end record', npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])) }]).subarray(0, 60), /no end-of-central-directory record/],
    ['a member that is not .npy', npz([{ name: 'a.txt', data: new Uint8Array(3) }]), /member a\.txt is not an \.npy array/],
    ['bad .npy magic', npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1]), '\x93NUMPZ') }]), /a\.npy is not an \.npy array/],
    ['a CRC that does not match', npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])), crc: 1234 }]), /a\.npy: CRC-32 .* does not match .* \(damaged file\)/],
    ['fortran order', npz([{ name: 'a.npy', data: npy(`{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }`, f32Bytes([1])) }]), /fortran_order is True/],
    ['an integer dtype', npz([{ name: 'a.npy', data: npy(`{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }`, f32Bytes([1])) }]), /dtype '<i4' is not a float/],
    ['data shorter than the shape', npz([{ name: 'a.npy', data: npy(f4('(2, 3)'), f32Bytes([1, 2])) }]), /shape \(2, 3\) of '<f4' needs 24 bytes of data, the member has 8/],
    ['a shape that is not a tuple of integers', npz([{ name: 'a.npy', data: npy(f4('(-1, 2)'), new Uint8Array(0)) }]), /not a tuple of non-negative integers/],
    ['a header without shape', npz([{ name: 'a.npy', data: npy(`{'descr': '<f4', 'fortran_order': False}`) }]), /lacks descr, fortran_order or shape/],
    ['two members of one name', npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])) }, { name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])) }]), /two members are named a\.npy/],
    ['metadata that is not a string', npz([{ name: '__metadata__.npy', data: npy(f4('(1,)'), f32Bytes([1])) }]), /__metadata__\.npy must be a 0-d unicode string/],
    ['deflate that does not inflate', npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])), method: 8 }]).map((b, i, all) => (i === 30 + 5 + 2 && all.length > 0 ? b ^ 0xff : b)), /a\.npy: (cannot inflate|CRC-32|[0-9]+ bytes, the directory says)/],
    ['safetensors F64', safetensors([{ name: 'a', dtype: 'F64', shape: [1], bytes: new Uint8Array(8) }]), /dtype F64 is not supported: a trace holds F32/],
    ['safetensors offsets past the data', safetensors([{ name: 'a', dtype: 'F32', shape: [1], bytes: new Uint8Array(4) }]).subarray(0, -2), /run past the end of the data/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      let error: unknown;
      try {
        decodeTrace(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, `${what} decoded`).toBeInstanceOf(TraceFileError);
      const text = (error as Error).message;
      expect(text).toMatch(message);
      expect(text).not.toMatch(/[\n\r]/);
    });
  }

  it('a member compressed with another method is named', () => {
    const b = npz([{ name: 'a.npy', data: npy(f4('(1,)'), f32Bytes([1])) }]);
    const view = new DataView(b.buffer);
    const cd = view.getUint32(b.length - 6, true);
    view.setUint16(cd + 10, 12, true); // bzip2
    expect(() => decodeNpz(b)).toThrow(/a\.npy: compression method 12/);
  });
});

// Fuzz: damaged trace files end in a TraceFileError (one line), never a RangeError or a hang.
const traceRejects = (e: unknown): string | undefined => {
  if (!(e instanceof TraceFileError)) return `expected a TraceFileError, got ${(e as Error)?.name}: ${(e as Error)?.message}`;
  if (/[\n\r]/.test(e.message)) return `message is more than one line: ${JSON.stringify(e.message)}`;
  return undefined;
};
const traceCheck = (t: Trace): void => {
  for (const [name, x] of t.tensors) {
    if (x.data.length !== x.shape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ${x.data.length} values for shape [${x.shape.join(', ')}]`);
  }
};
const small = (): LayerTensor[] => layers().filter((l) => l.name !== 'odd');

/** The ZIP's count, size and offset fields: the end record's, each directory entry's, each local header's. */
function zipCounts(b: Uint8Array): { offset: number; size: 4 }[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.length - 22;
  const cd = view.getUint32(end + 16, true);
  const out: { offset: number; size: 4 }[] = [{ offset: end + 12, size: 4 }, { offset: end + 16, size: 4 }];
  for (let o = cd; o < end; o += 46 + view.getUint16(o + 28, true)) {
    const local = view.getUint32(o + 42, true);
    out.push({ offset: o + 20, size: 4 }, { offset: o + 24, size: 4 }, { offset: o + 42, size: 4 }, { offset: local + 18, size: 4 });
  }
  return out;
}

fuzzLoader({
  name: 'safetensors trace',
  load: decodeTrace,
  valid: () => concatChunks(safetensorsChunks(small(), META)),
  counts: [{ offset: 0, size: 8 }],
  rejects: traceRejects,
  check: traceCheck,
  runs: 3000,
});

fuzzLoader({
  name: '.npz trace (stored)',
  load: decodeTrace,
  valid: () => concatChunks(npzChunks(small(), META)),
  counts: zipCounts,
  rejects: traceRejects,
  check: traceCheck,
  runs: 3000,
});

fuzzLoader({
  name: '.npz trace (np.savez_compressed, deflate)',
  load: decodeTrace,
  valid: () => readFileSync(join(FIXTURES, 'trace', 'numpy-savez-compressed.npz')),
  counts: zipCounts,
  rejects: traceRejects,
  check: traceCheck,
  runs: 3000,
});
