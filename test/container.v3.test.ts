// The .sqz container, version 3 (src/codec/context-model.ts, src/codec/range.ts, docs/FORMAT.md):
// every payload one context-modelled range-coded stream. Random layers of every shape, width and
// precision read back bit for bit; the Deep Compression .net re-encoded keeps all 1,248,424
// parameters bit for bit in fewer bytes than version 1; forged records and streams (CRCs
// recomputed) are FormatErrors naming the layer and the byte.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roundFloat16 } from '../src/codec/float16.js';
import {
  compress,
  decodeDeepCompression,
  decodeSqz,
  FormatError,
  InputError,
  layerWeights,
  readSqz,
  writeSqz,
  type SqzLayer,
} from '../src/index.js';
import { FUZZ_SEED } from './fuzz-harness.js';
import { seededRandom } from './helpers.js';
import { MODEL, shared } from './shared.js';
import { entries, formatError, layoutOf, reseal, smallFile } from './sqz-helpers.js';

/** The float32 bits of every value: equal arrays here are equal bit for bit (-0, subnormals). */
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

const edit = (b: Uint8Array, f: (view: DataView, c: Uint8Array) => void): Uint8Array => {
  const c = b.slice();
  f(new DataView(c.buffer), c);
  return reseal(c);
};

/** Every layer of `b` decodes to the same weights and biases as the layers given, bit for bit. */
function expectSameWeights(b: Uint8Array, layers: readonly SqzLayer[]): void {
  const back = readSqz(b);
  expect(back.version).toBe(3);
  expect(back.layers.length).toBe(layers.length);
  back.layers.forEach((l, i) => {
    const want = layers[i]!;
    expect(l.name).toBe(want.name);
    expect(l.shape).toEqual(want.shape);
    expect(bits(layerWeights(l))).toEqual(bits(layerWeights(want)));
    const bias = want.biasF16 ? want.bias.map(roundFloat16) : want.bias;
    expect(bits(l.bias)).toEqual(bits(bias));
  });
}

describe('version 3: the small container', () => {
  const file = smallFile();
  const v1 = writeSqz(file);
  const v3 = writeSqz({ ...file, version: 3 });

  it('reads back to the same weights and biases as version 1, in fewer bytes', () => {
    expect(new DataView(v3.bytes.buffer).getUint16(8, true)).toBe(3);
    expectSameWeights(v3.bytes, file.layers);
    const t1 = decodeSqz(v1.bytes).weights;
    const t3 = decodeSqz(v3.bytes).weights;
    for (const [name, t] of t1) expect(bits(t3.get(name)!.data), name).toEqual(bits(t.data));
    expect(v3.bytes.length).toBeLessThan(v1.bytes.length);
    console.log(`small container: version 1 ${v1.bytes.length} bytes, version 3 ${v3.bytes.length}`);
  });

  it('stores each codebook as its used values, ascending; records B, K, n, no gaps', () => {
    const back = readSqz(v3.bytes);
    const a = back.layers[0]!;
    const used = new Set(Array.from(file.layers[0]!.codes).filter((c) => c !== 0));
    expect(a.codebook.length - 1).toBe(used.size);
    expect([...a.codebook.subarray(1)]).toEqual([...used].map((c) => file.layers[0]!.codebook[c]!).sort((x, y) => x - y));
    expect(back.layers[1]!.codebook.length).toBe(1); // the empty layer
    const L = layoutOf(v3.bytes);
    const view = new DataView(v3.bytes.buffer);
    const r = L.records[0]!;
    expect(view.getUint8(r.gapBits)).toBe(0);
    expect(view.getUint32(r.gapBytes, true)).toBe(0);
    expect(view.getUint32(r.n, true)).toBe(Array.from(file.layers[0]!.codes).filter((c) => c !== 0).length);
    expect(view.getUint8(r.bits)).toBe(32 - Math.clz32(used.size));
    expect(writeSqz({ ...file, version: 3 }).bytes).toEqual(v3.bytes); // deterministic
  });
});

// Random layers: any shape up to 3x3 kernels (and 7x1), 1..12-bit codes, float32 or float16
// codebooks and biases (subnormals, -0, the extremes), any density.
const f32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-3e38), max: Math.fround(3e38) });
const layerArb = fc
  .record({
    o: fc.integer({ min: 1, max: 5 }),
    i: fc.integer({ min: 1, max: 6 }),
    kernel: fc.constantFrom([1, 1], [3, 3], [2, 2], [7, 1], [1, 3]),
    bits: fc.integer({ min: 1, max: 12 }),
    codebookF16: fc.boolean(),
    biasF16: fc.boolean(),
    density: fc.double({ min: 0, max: 1, noNaN: true }),
    values: fc.array(fc.oneof(f32, fc.constantFrom(2 ** -149, -(2 ** -126), 65504, -65504, 2 ** -24, 1, -1)), { minLength: 1, maxLength: 300 }),
    bias: fc.array(fc.oneof(f32, fc.constantFrom(-0, 0, 2 ** -149, 65504)), { minLength: 5, maxLength: 5 }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((r) => {
    const [kh, kw] = r.kernel as [number, number];
    const shape = [r.o, r.i, kh, kw] as const;
    const numel = r.o * r.i * kh * kw;
    const round = (v: number): number => (r.codebookF16 ? roundFloat16(v) : Math.fround(v));
    const values = [...new Set(r.values.map(round).filter((v) => v !== 0 && Number.isFinite(v)))].slice(0, 2 ** r.bits - 1);
    const codebook = Float32Array.from([0, ...values]);
    const rand = seededRandom(r.seed);
    const dense = Array.from({ length: numel }, () => (values.length > 0 && rand() < r.density ? 1 + Math.floor(rand() * values.length) : 0));
    const bias = Float32Array.from({ length: r.o }, (_, c) => {
      const v = r.bias[c]!;
      return r.biasF16 ? (Number.isFinite(roundFloat16(v)) ? roundFloat16(v) : 1) : v;
    });
    const gapBits = 3;
    const layer: SqzLayer = {
      name: 'x',
      shape,
      bits: r.bits,
      gapBits,
      huffmanCodes: true,
      huffmanGaps: true,
      biasF16: r.biasF16,
      codebookF16: r.codebookF16,
      codebook,
      bias,
      ...entries(dense, gapBits),
    };
    return layer;
  });

describe('version 3: random layers', () => {
  it('read back bit for bit (fast-check, 400 files of 1 to 3 layers)', () => {
    fc.assert(
      fc.property(fc.array(layerArb, { minLength: 1, maxLength: 3 }), (layers) => {
        const named = layers.map((l, i) => ({ ...l, name: `l${i}` }));
        expectSameWeights(writeSqz({ arch: 'v1.1', version: 3, layers: named }).bytes, named);
      }),
      { numRuns: 400, seed: FUZZ_SEED },
    );
  });

  it('a 12-bit codebook of 4095 values, every one used, dense and sparse, 3x3 and 1x1', () => {
    const rand = seededRandom(4095);
    const values = Array.from({ length: 4095 }, (_, c) => (c - 2047.5) / 1000 + rand() * 1e-4);
    for (const [shape, density] of [
      [[64, 16, 3, 3], 1],
      [[300, 40, 1, 1], 0.5],
    ] as const) {
      const numel = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      const dense = Array.from({ length: numel }, (_, p) => (p < 4095 ? p + 1 : rand() < density ? 1 + Math.floor(rand() * 4095) : 0));
      const layer: SqzLayer = {
        name: 'wide',
        shape,
        bits: 12,
        gapBits: 4,
        huffmanCodes: true,
        huffmanGaps: true,
        biasF16: false,
        codebookF16: false,
        codebook: Float32Array.from([0, ...values.map(Math.fround).sort((a, b) => a - b)]),
        bias: Float32Array.from({ length: shape[0] }, () => rand() - 0.5),
        ...entries(dense, 4),
      };
      expectSameWeights(writeSqz({ arch: 'v1.1', version: 3, layers: [layer] }).bytes, [layer]);
    }
  });
});

describe('version 3: the Deep Compression .net, lossless', () => {
  it('keeps all 1,248,424 parameters bit for bit, in fewer bytes than version 1', () => {
    const net = decodeDeepCompression(readFileSync(shared(MODEL))).weights;
    const r = compress(net, { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false, density: 1 });
    const v3 = writeSqz({ ...r.file, version: 3 }).bytes;
    const back = decodeSqz(v3).weights;
    let compared = 0;
    for (const [name, want] of net) {
      const got = back.get(name)!;
      expect(got.shape, name).toEqual(want.shape);
      expect(bits(got.data), name).toEqual(bits(want.data));
      compared += want.data.length;
    }
    expect(back.size).toBe(net.size);
    expect(compared).toBe(1248424);
    expect(v3.length).toBeLessThan(r.bytes.length);
    console.log(`the .net (${readFileSync(shared(MODEL)).length} bytes): version 1 ${r.bytes.length} bytes, version 3 ${v3.length}, ${compared} parameters bit-identical`);
  });
});

describe('version 3: forged files (CRCs recomputed) are FormatErrors', () => {
  const { bytes } = writeSqz({ ...smallFile(), version: 3 });
  const L = layoutOf(bytes);
  const rec = (name: string) => L.records.find((r) => r.name === name)!;
  const a = rec('a.conv');
  const get = (field: number) => new DataView(bytes.buffer).getUint32(field, true);

  for (const [what, field, value, size, pattern] of [
    ['a Huffman flag', a.flags, 1, 1, /flags 1 set bits version 3 does not define/],
    ['a gap width', a.gapBits, 2, 1, /gap width 2; version 3 has no gaps/],
    ['a gap stream', a.gapBytes, 1, 4, /a gap stream of 1 bytes; version 3 has none/],
    ['a stream under 4 bytes', a.codeBytes, 3, 4, /a stream of 3 bytes; a range-coded stream has at least 4/],
    ['a codebook wider than B allows', a.k, 200, 2, /codebook of 200 values does not fit/],
    ['more non-zero weights than positions', a.n, 55, 4, /55 non-zero weights, more than the 54/],
    ['a code width of 13', a.bits, 13, 1, /code width 13 bits/],
  ] as const) {
    it(`a forged record: ${what}`, () => {
      const e = formatError(edit(bytes, (v) => (size === 1 ? v.setUint8(field, value) : size === 2 ? v.setUint16(field, value, true) : v.setUint32(field, value, true))));
      expect([e.offset, e.layer]).toEqual([field, 'a.conv']);
      expect(e.message).toMatch(pattern);
    });
  }

  for (const delta of [-1, 1]) {
    it(`a non-zero count off by ${delta}: the count decoded is named`, () => {
      const n = get(a.n);
      const e = formatError(edit(bytes, (v) => v.setUint32(a.n, n + delta, true)));
      expect(e.layer).toBe('a.conv');
      expect(e.message).toMatch(new RegExp(`${n} non-zero weights decoded where the header says ${n + delta}`));
    });
  }

  it('a byte after the stream (its size grown by one): named, at that byte', () => {
    const end = a.payload + a.payloadBytes;
    const longer = Uint8Array.from([...bytes.subarray(0, end), 0x5a, ...bytes.subarray(end)]);
    const e = formatError(edit(longer, (v) => v.setUint32(a.codeBytes, get(a.codeBytes) + 1, true)));
    expect([e.offset, e.layer]).toEqual([end, 'a.conv']);
    expect(e.message).toMatch(/1 bytes after the stream's end/);
  });

  it("the stream's last byte cut (its size shrunk by one): the decoder never reads past it", () => {
    const end = a.payload + a.payloadBytes;
    const shorter = Uint8Array.from([...bytes.subarray(0, end - 1), ...bytes.subarray(end)]);
    const e = formatError(edit(shorter, (v) => v.setUint32(a.codeBytes, get(a.codeBytes) - 1, true)));
    expect(e.layer).toBe('a.conv');
  });

  it('a stream of zeros and one of 0xFF bytes: errors, not hangs', () => {
    for (const fill of [0, 0xff]) {
      const e = formatError(edit(bytes, (_, c) => c.fill(fill, a.payload, a.payload + a.payloadBytes)));
      expect(e.layer).toBe('a.conv');
    }
  });

  it(`truncated at every length 0..${bytes.length - 1}: never read`, () => {
    for (let n = 0; n < bytes.length; n++) {
      const e = formatError(bytes.subarray(0, n));
      if (n >= L.records[0]!.payload) expect(e.message, `cut at ${n}`).toMatch(/the file ends inside this layer's stream/);
    }
  });

  it('random damage to the streams, CRCs recomputed (seed 1603, 3000 cases): a FormatError or a valid file', () => {
    const rand = seededRandom(1603);
    const kinds = { read: 0, format: 0 };
    for (let t = 0; t < 3000; t++) {
      const c = bytes.slice();
      const hits = 1 + Math.floor(rand() * 3);
      for (let h = 0; h < hits; h++) {
        const at = L.records[0]!.payload + Math.floor(rand() * (c.length - L.records[0]!.payload));
        c[at] = rand() < 0.5 ? c[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
      }
      const sealed = reseal(c);
      try {
        const f = readSqz(sealed);
        for (const l of f.layers) {
          const w = layerWeights(l);
          if (!w.every(Number.isFinite) || !l.bias.every(Number.isFinite)) throw new Error(`case ${t}: a value is not finite`);
        }
        kinds.read++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`case ${t}: ${(e as Error).name}: ${(e as Error).message}`);
        kinds.format++;
      }
    }
    console.log(`version 3, random damage (seed 1603): ${kinds.format} FormatErrors, ${kinds.read} still valid`);
    expect(kinds.format).toBeGreaterThan(2500);
  });
});

describe('version 3: metadata', () => {
  it("carries version 2's metadata block: the recipe reads back, the weights too", () => {
    const file = { ...smallFile(), metadata: { recipe: 'caffe', note: 'x y z' }, version: 3 };
    const bytes = writeSqz(file).bytes;
    const back = readSqz(bytes);
    expect([back.version, back.metadata]).toEqual([3, { recipe: 'caffe', note: 'x y z' }]);
    expectSameWeights(bytes, file.layers);
    expect(decodeSqz(bytes).recipe).toBe('caffe');
  });
});

describe('version 3: what writeSqz refuses', () => {
  it('a version it does not write', () => {
    expect(() => writeSqz({ ...smallFile(), version: 4 })).toThrow(InputError);
  });
});
