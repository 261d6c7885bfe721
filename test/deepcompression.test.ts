// The Deep Compression decoder: the real file against the Python decoder's checksums, a synthetic
// round trip through a small encoder, and crafted malformed files, each a FormatError that names
// the layer and the byte offset.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHS,
  DEEP_COMPRESSION_LAYERS,
  FormatError,
  InputError,
  SqueezeNet,
  decodeDeepCompression,
  expectedWeights,
  loadDeepCompression,
  plan,
  type DecodedTensor,
} from '../src/index.js';
import { seededRandom } from './helpers.js';
import { FIXTURES } from './fixture-reader.js';
import { MODEL, shared } from './shared.js';

const L = DEEP_COMPRESSION_LAYERS;
const numel = (i: number): number => L[i]!.outC * L[i]!.inC * L[i]!.kernel * L[i]!.kernel;
const label = (i: number): string => `${L[i]!.caffe} (${L[i]!.param})`;

interface SyntheticLayer {
  readonly codebook: Float32Array;
  readonly bias: Float32Array;
  /** The code of every weight position; 0 = pruned. */
  readonly codes: Uint8Array;
}

/** A small Deep Compression encoder: relative positions in 4-bit gaps, fillers of code 0 for longer gaps. */
function encode(layers: readonly SyntheticLayer[]): { bytes: Uint8Array; counts: number[] } {
  const parts = layers.map((l) => {
    const codes: number[] = [];
    const gaps: number[] = [];
    let last = -1;
    for (let p = 0; p < l.codes.length; p++) {
      if (l.codes[p] === 0) continue;
      let gap = p - last - 1;
      while (gap > 15) {
        codes.push(0);
        gaps.push(15);
        gap -= 16;
      }
      codes.push(l.codes[p]!);
      gaps.push(gap);
      last = p;
    }
    const packed = new Uint8Array(Math.ceil(gaps.length / 2));
    gaps.forEach((g, i) => (packed[i >> 1] = packed[i >> 1]! | (i % 2 === 0 ? g : g << 4)));
    return { l, codes: Uint8Array.from(codes), packed };
  });
  const size = 4 * layers.length + parts.reduce((s, p) => s + 1024 + 4 * p.l.bias.length + p.codes.length + p.packed.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  parts.forEach((p, i) => view.setUint32(4 * i, p.codes.length, true));
  let o = 4 * layers.length;
  for (const p of parts) {
    for (let k = 0; k < 256; k++) view.setFloat32(o + 4 * k, p.l.codebook[k]!, true);
    o += 1024;
    for (let c = 0; c < p.l.bias.length; c++) view.setFloat32(o + 4 * c, p.l.bias[c]!, true);
    o += 4 * p.l.bias.length;
    bytes.set(p.codes, o);
    o += p.codes.length;
    bytes.set(p.packed, o);
    o += p.packed.length;
  }
  return { bytes, counts: parts.map((p) => p.codes.length) };
}

/** Random sparse layers: density varies by layer, with long runs of zeros to force fillers; one layer empty. */
function syntheticLayers(seed: number): SyntheticLayer[] {
  const rand = seededRandom(seed);
  return L.map((layer, i) => {
    const codebook = Float32Array.from({ length: 256 }, (_, k) => (k === 0 ? 0 : (rand() * 2 - 1) * 0.5));
    const bias = Float32Array.from({ length: layer.outC }, () => rand() - 0.5);
    const codes = new Uint8Array(numel(i));
    const density = i === 5 ? 0 : [0.02, 0.3, 0.7][i % 3]!;
    for (let p = 0; p < codes.length; p++) if (rand() < density) codes[p] = 1 + Math.floor(rand() * 255);
    if (i === 7) codes[codes.length - 1] = 9; // the very last position
    return { codebook, bias, codes };
  });
}

/** Where each layer's parts start, from the counts. */
function offsets(counts: readonly number[]): { codebook: number; bias: number; codes: number; gaps: number; end: number }[] {
  let o = 4 * L.length;
  return L.map((layer, i) => {
    const codebook = o;
    const bias = codebook + 1024;
    const codes = bias + 4 * layer.outC;
    const gaps = codes + counts[i]!;
    o = gaps + Math.ceil(counts[i]! / 2);
    return { codebook, bias, codes, gaps, end: o };
  });
}

/** The first index where two arrays differ (-1: equal); toEqual is slow on 512,000 values. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** Runs the decoder and returns its FormatError (failing the test on success or another error). */
function formatError(bytes: Uint8Array | ArrayBuffer): FormatError {
  try {
    decodeDeepCompression(bytes);
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${(e as Error).name}: ${(e as Error).message}`);
  }
  throw new Error('expected a FormatError, the file decoded');
}

const setU32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setUint32(at, v, true);
  return c;
};
const setF32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setFloat32(at, v, true);
  return c;
};

describe('the layers of the file', () => {
  it('are the 26 convolutions of v1.0-caffe in network order, with Caffe and torchvision names', () => {
    expect(L.length).toBe(26);
    expect(L.map((l) => l.caffe).slice(0, 5)).toEqual(['conv1', 'fire2/conv1x1_1', 'fire2/conv1x1_2', 'fire2/conv3x3_2', 'fire3/conv1x1_1']);
    expect(L.at(-1)).toMatchObject({ caffe: 'conv_final', param: 'classifier.1', outC: 1000, inC: 512, kernel: 1 });
    expect(L.map((l) => l.param)).toEqual(plan(ARCHS['v1.0-caffe']).convs.map((c) => c.param));
  });
});

describe('synthetic round trip', () => {
  const layers = syntheticLayers(20160224);
  const { bytes, counts } = encode(layers);

  it('decodes every weight, filler and bias exactly (seed 20160224)', () => {
    const got = decodeDeepCompression(bytes).weights;
    expect(got.size).toBe(52);
    L.forEach((layer, i) => {
      const w = got.get(`${layer.param}.weight`)!;
      expect(w.shape).toEqual([layer.outC, layer.inC, layer.kernel, layer.kernel]);
      const l = layers[i]!;
      const want = Float32Array.from(l.codes, (c) => l.codebook[c]!);
      expect(firstDifference(w.data, want), layer.param).toBe(-1);
      expect(firstDifference(got.get(`${layer.param}.bias`)!.data, l.bias), layer.param).toBe(-1);
    });
    expect(counts[5]).toBe(0);
    expect(counts.some((n) => n % 2 === 1)).toBe(true);
  });

  it('accepts an ArrayBuffer, a Uint8Array at an offset and a Buffer alike', () => {
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    const want = decodeDeepCompression(bytes).weights.get('features.0.weight')!.data;
    for (const input of [bytes.slice().buffer, padded.subarray(3), Buffer.from(bytes)]) {
      expect(firstDifference(decodeDeepCompression(input).weights.get('features.0.weight')!.data, want)).toBe(-1);
    }
  });

  it('rejects what is not bytes with an InputError', () => {
    expect(() => decodeDeepCompression('compressed_SqueezeNet.net' as unknown as Uint8Array)).toThrow(InputError);
    expect(() => decodeDeepCompression(null as unknown as Uint8Array)).toThrow(InputError);
  });

  it('loads into the v1.0-caffe network', async () => {
    const model = await loadDeepCompression(bytes);
    expect(model.arch.name).toBe('v1.0-caffe');
    expect(model.run(new Float32Array(3 * 227 * 227)).length).toBe(1000);
    model.dispose();
  });
});

describe('malformed files: FormatError with layer and offset', () => {
  const layers = syntheticLayers(7);
  const { bytes, counts } = encode(layers);
  const at = offsets(counts);
  const last = L.length - 1;
  const zero = encode(L.map((l, i) => ({ codebook: new Float32Array(256), bias: new Float32Array(l.outC), codes: new Uint8Array(numel(i)) })));

  it('an empty file', () => {
    const e = formatError(new Uint8Array(0));
    expect(e.offset).toBe(0);
    expect(e.layer).toBeUndefined();
    expect(e.message).toMatch(/has 0 bytes; its header alone is 104/);
  });

  for (const n of [1, 3, 103]) {
    it(`a file of ${n} bytes, shorter than the header`, () => {
      const e = formatError(bytes.subarray(0, n));
      expect([e.offset, e.layer]).toEqual([n, undefined]);
    });
  }

  it('the header alone', () => {
    const e = formatError(zero.bytes.subarray(0, 104));
    expect([e.offset, e.layer]).toEqual([104, label(0)]);
    expect(e.message).toMatch(/inside this layer's codebook/);
  });

  it('the smallest valid file (every layer empty) decodes to zeros', () => {
    const w = decodeDeepCompression(zero.bytes).weights;
    expect(w.get('classifier.1.weight')!.data.every((v) => v === 0)).toBe(true);
  });

  for (const [what, layer, part, delta] of [
    ['codebook of conv1', 0, 'codebook', 100],
    ['biases of fire2/conv1x1_1', 1, 'bias', 5],
    ['codes of fire5/conv3x3_2', 12, 'codes', 1],
    ['position gaps of fire9/conv3x3_2', 24, 'gaps', 1],
    ['codes of conv_final', last, 'codes', 7],
  ] as const) {
    it(`truncated inside the ${what}`, () => {
      const cut = at[layer]![part] + delta;
      const e = formatError(bytes.subarray(0, cut));
      expect([e.offset, e.layer]).toEqual([cut, label(layer)]);
      expect(e.message).toMatch(/file ends inside this layer's/);
    });
  }

  it('truncated by its last byte', () => {
    const e = formatError(bytes.subarray(0, bytes.length - 1));
    expect([e.offset, e.layer]).toEqual([bytes.length - 1, label(last)]);
  });

  for (const extra of [1, 1000]) {
    it(`${extra} extra byte(s) after the last layer`, () => {
      const longer = new Uint8Array(bytes.length + extra);
      longer.set(bytes);
      const e = formatError(longer);
      expect([e.offset, e.layer]).toEqual([bytes.length, label(last)]);
      expect(e.message).toMatch(new RegExp(`: ${extra} bytes? after the last layer, which ends at byte ${bytes.length}`));
    });
  }

  for (const i of [0, 1, 2, 3, 12, 24, 25]) {
    it(`a count of ${label(i)} one more than its tensor has weights`, () => {
      const e = formatError(setU32(bytes, 4 * i, numel(i) + 1));
      expect([e.offset, e.layer]).toEqual([4 * i, label(i)]);
      expect(e.message).toMatch(new RegExp(`header says ${numel(i) + 1} entries, more than the ${numel(i)} weights`));
    });
  }

  it('a count of 0xFFFFFFFF', () => {
    const e = formatError(setU32(bytes, 4 * 3, 0xffffffff));
    expect([e.offset, e.layer]).toEqual([12, label(3)]);
  });

  it('a count too large for the file but not for its tensor', () => {
    const e = formatError(setU32(bytes, 4 * 2, counts[2]! + 2));
    expect(e.offset).toBe(bytes.length);
    expect(e.message).toMatch(/truncated, or a count in the header is wrong/);
  });

  it('a count too small for the file', () => {
    const e = formatError(setU32(bytes, 4 * 2, counts[2]! - 2));
    expect(e.layer).toBe(label(last));
    expect(e.message).toMatch(/bytes after the last layer/);
  });

  for (const i of [0, 10, last]) {
    it(`gaps of ${label(i)} running past the end of its tensor`, () => {
      // Every gap 15: entry k lands at 16k + 15, past the end once that reaches numel.
      const n = counts[i]!;
      const k = Math.ceil((numel(i) - 15) / 16);
      expect(k).toBeLessThan(n);
      const c = bytes.slice();
      c.fill(0xff, at[i]!.gaps, at[i]!.end);
      const e = formatError(c);
      expect([e.offset, e.layer]).toEqual([at[i]!.gaps + (k >> 1), label(i)]);
      expect(e.message).toMatch(new RegExp(`entry ${k} of ${n} lands at position ${16 * k + 15}, past the end of the ${numel(i)}-weight tensor`));
    });
  }

  for (const [what, v] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    it(`a codebook entry of ${what}`, () => {
      const off = at[4]!.codebook + 4 * 200;
      const e = formatError(setF32(bytes, off, v));
      expect([e.offset, e.layer]).toEqual([off, label(4)]);
      expect(e.message).toMatch(/codebook entry 200 is .*, not a finite number/);
    });
  }

  it('a bias of NaN', () => {
    const off = at[last]!.bias + 4 * 999;
    const e = formatError(setF32(bytes, off, NaN));
    expect([e.offset, e.layer]).toEqual([off, label(last)]);
    expect(e.message).toMatch(/bias 999 is NaN/);
  });

  it('a codebook whose code 0 is not zero', () => {
    const e = formatError(setF32(bytes, at[6]!.codebook, 0.25));
    expect([e.offset, e.layer]).toEqual([at[6]!.codebook, label(6)]);
    expect(e.message).toMatch(/codebook entry 0 is 0.25; it must be 0/);
  });

  it('the message says the format, the layer and the byte', () => {
    const e = formatError(setU32(bytes, 0, numel(0) + 1));
    expect(e.message).toBe(
      `Deep Compression .net layer conv1 (features.0) at byte 0: header says 14113 entries, more than the 14112 weights of its [96, 3, 7, 7] tensor (each entry takes a position of its own)`,
    );
    expect(e.format).toBe('Deep Compression .net');
  });

  it('random damage gives a FormatError or a valid decode, never another error (seed 1602, 400 cases)', () => {
    const seed = 1602;
    const rand = seededRandom(seed);
    const kinds = { decoded: 0, format: 0 };
    for (let t = 0; t < 400; t++) {
      let c = bytes.slice();
      const r = rand();
      if (r < 0.3) c = c.subarray(0, Math.floor(rand() * c.length));
      else if (r < 0.5) new DataView(c.buffer).setUint32(4 * Math.floor(rand() * 26), Math.floor(rand() * 2 ** 32), true);
      else if (r < 0.6) {
        const at = Math.floor(rand() * 104);
        c[at] = c[at]! ^ (1 << Math.floor(rand() * 8));
      }
      else for (let k = 0; k < 8; k++) c[Math.floor(rand() * c.length)] = Math.floor(rand() * 256);
      try {
        decodeDeepCompression(c);
        kinds.decoded++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`case ${t} (seed ${seed}): ${(e as Error).name}: ${(e as Error).message}`);
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(c.length);
        kinds.format++;
      }
    }
    console.log(`random damage (seed ${seed}): ${kinds.format} FormatErrors, ${kinds.decoded} still valid`);
    expect(kinds.format).toBeGreaterThan(100);
  });
});

interface Checksum {
  shape: number[];
  nonzero: number;
  sum: number;
  sum_abs: number;
  crc32: number;
}

describe('the released compressed_SqueezeNet.net', () => {
  let bytes: Uint8Array;
  let weights: Map<string, DecodedTensor>;
  beforeAll(() => {
    bytes = readFileSync(shared(MODEL));
    weights = decodeDeepCompression(bytes).weights;
  });

  it('is 675,763 bytes and decodes to 1,248,424 parameters, 415,921 non-zero weights', () => {
    expect(bytes.length).toBe(675_763);
    let params = 0;
    let nonzero = 0;
    let weightCount = 0;
    for (const [name, t] of weights) {
      params += t.data.length;
      if (!name.endsWith('.weight')) continue;
      weightCount += t.data.length;
      for (const v of t.data) if (v !== 0) nonzero++;
    }
    const density = ((100 * nonzero) / weightCount).toFixed(1);
    console.log(`decoded ${params.toLocaleString('en-US')} parameters, ${nonzero.toLocaleString('en-US')} non-zero weights (${density} % density)`);
    expect(params).toBe(1_248_424);
    expect(nonzero).toBe(415_921);
    expect([...weights.keys()]).toEqual([...expectedWeights(plan(ARCHS['v1.0-caffe'])).keys()]);
  });

  it("equals the Python decoder's tensors (fixtures/real-weights-checksums.json: shape, non-zeros, sums, CRC-32)", () => {
    const file = JSON.parse(readFileSync(join(FIXTURES, 'real-weights-checksums.json'), 'utf8')) as {
      parameters: number;
      nonzero_weights: number;
      tensors: Record<string, Checksum>;
    };
    expect([file.parameters, file.nonzero_weights]).toEqual([1_248_424, 415_921]);
    expect(Object.keys(file.tensors).sort()).toEqual([...weights.keys()].sort());
    for (const [name, want] of Object.entries(file.tensors)) {
      const t = weights.get(name)!;
      let sum = 0;
      let sumAbs = 0;
      let nonzero = 0;
      for (const v of t.data) {
        sum += v;
        sumAbs += Math.abs(v);
        if (v !== 0) nonzero++;
      }
      expect(t.shape, name).toEqual(want.shape);
      expect(nonzero, name).toBe(want.nonzero);
      expect(Math.abs(sum - want.sum), `${name} sum`).toBeLessThanOrEqual(1e-9 * Math.max(want.sum_abs, 1));
      expect(Math.abs(sumAbs - want.sum_abs), `${name} sum_abs`).toBeLessThanOrEqual(1e-9 * Math.max(want.sum_abs, 1));
      expect(crc32(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `${name} crc32`).toBe(want.crc32);
    }
  });

  it('damaged: one byte short or one byte long', () => {
    const short = formatError(bytes.subarray(0, bytes.length - 1));
    expect([short.offset, short.layer]).toEqual([675_762, 'conv_final (classifier.1)']);
    const long = new Uint8Array(bytes.length + 1);
    long.set(bytes);
    expect(formatError(long).offset).toBe(675_763);
  });

  it('loads with SqueezeNet.load({ arch: "v1.0-caffe", weights })', async () => {
    const model = await SqueezeNet.load({ arch: 'v1.0-caffe', weights });
    expect(model.plan.params).toBe(1_248_424);
    model.dispose();
  });
});
