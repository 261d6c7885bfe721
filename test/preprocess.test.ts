// Preprocessing against PIL and torchvision: byte for byte on synthetic images, within a JPEG
// decoder's difference on the shared photos.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { composite, DEFAULT_BACKGROUND, InputError, preprocess, resizeBilinear, RECIPES, type ImagePixels, type PreprocessOptions } from '../src/index.js';
import { decodeImage } from '../cli/src/images.js';
import { dense, readFixture, readManifest, type SampledTensor } from './fixture-reader.js';
import { seededRandom } from './helpers.js';
import { IMAGES, shared } from './shared.js';

interface Vector {
  op: 'resize' | 'caffe' | 'torchvision';
  pattern: 'noise' | 'smooth' | 'grey';
  width: number;
  height: number;
  out?: [number, number];
  shape: number[];
  crc32: number;
  sum: number;
}
const VECTORS = JSON.parse(readFileSync(join(import.meta.dirname, 'data', 'pil-vectors.json'), 'utf8')) as { pil: string; cases: Vector[] };

/** The synthetic images of scripts/pil-vectors.py, RGB. */
function pixels(pattern: Vector['pattern'], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let v: number;
        if (pattern === 'noise') v = Math.floor((x * 1103515245 + y * 12345 + c * 2654435) % 2 ** 32 / 65536);
        else if (pattern === 'smooth') v = x * (3 + c) + y * (5 + 2 * c);
        else v = x * 7 + y * 3 + ((Math.floor(x / 4) + Math.floor(y / 4)) % 2) * 101;
        out[(y * w + x) * 3 + c] = v & 255;
      }
    }
  }
  return out;
}

const bytesOf = (a: Uint8Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function run(v: Vector, image: ImagePixels, options?: PreprocessOptions): Uint8Array | Float32Array {
  return v.op === 'resize' ? resizeBilinear(image, v.out![0], v.out![1]).data : preprocess(image, v.op, options);
}

/** RGBA from RGB, with random alpha (seeded), or the given alpha everywhere. */
function withAlpha(rgb: Uint8Array, seed: number, alpha?: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let p = 0; p < rgb.length / 3; p++) {
    out.set(rgb.subarray(3 * p, 3 * p + 3), 4 * p);
    out[4 * p + 3] = alpha ?? Math.floor(rand() * 256);
  }
  return out;
}

describe(`the same bytes as PIL ${VECTORS.pil} and torchvision (test/data/pil-vectors.json)`, () => {
  for (const v of VECTORS.cases) {
    const what = v.op === 'resize' ? `resize ${v.width}x${v.height} -> ${v.out![0]}x${v.out![1]}` : `${v.op} recipe on ${v.width}x${v.height}`;
    it(`${what} (${v.pattern})`, () => {
      const rgb = pixels(v.pattern, v.width, v.height);
      const got = run(v, { width: v.width, height: v.height, data: rgb });
      expect(got.length).toBe(v.shape.reduce((a, b) => a * b, 1));
      let sum = 0;
      for (const x of got) sum += x;
      expect(Math.abs(sum - v.sum)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v.sum)));
      expect(crc32(bytesOf(got))).toBe(v.crc32);
      // RGBA with the alpha ignored (PIL's convert('RGB'); resizeBilinear always ignores it), opaque
      // RGBA under the default transparency rule, Uint8ClampedArray, and for grey images a single
      // channel: the same bytes.
      const rgba = withAlpha(rgb, v.width * 31 + v.height);
      expect(crc32(bytesOf(run(v, { width: v.width, height: v.height, data: rgba }, { background: 'ignore' })))).toBe(v.crc32);
      const opaque = withAlpha(rgb, 0, 255);
      expect(crc32(bytesOf(run(v, { width: v.width, height: v.height, data: opaque })))).toBe(v.crc32);
      const clamped = new Uint8ClampedArray(rgb.buffer);
      expect(crc32(bytesOf(run(v, { width: v.width, height: v.height, data: clamped, channels: 3 })))).toBe(v.crc32);
      if (v.pattern === 'grey') {
        const grey = rgb.filter((_, i) => i % 3 === 0);
        expect(crc32(bytesOf(run(v, { width: v.width, height: v.height, data: grey })))).toBe(v.crc32);
      }
    });
  }
});

describe('the fixture generator\'s own preprocessing (fixtures/preprocess-*.sqzf.gz)', () => {
  const manifest = readManifest() as ReturnType<typeof readManifest> & { preprocess?: { file: string; image: number[] }[] };
  it('lists the preprocessing fixtures', () => {
    expect(manifest.preprocess?.length ?? 0).toBeGreaterThan(0);
  });
  for (const p of manifest.preprocess ?? []) {
    it(`${p.file}: ${p.image[1]}x${p.image[0]} -> 1x3x227x227 exactly`, () => {
      const t = readFixture(p.file);
      const image = dense(t.get('image'), 'image');
      const want = dense(t.get('input'), 'input');
      const [h, w] = p.image as [number, number];
      const got = preprocess({ width: w, height: h, data: Uint8Array.from(image) });
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
      expect(max).toBe(0);
    });
  }
});

describe('the shared photos, decoded by the CLI (sharp), against PIL in the real-*.sqzf.gz fixtures', () => {
  // PIL and sharp both decode with libjpeg-turbo (test/images.test.ts: the same bytes on all 100
  // photos), and the resize is PIL's: the preprocessed input is PyTorch's exactly. (jpeg-js, the
  // decoder before, was off by up to 4 levels here.)
  const MAX = 0;
  const MEAN = 0;
  const cases = readManifest().cases.filter((c) => c.weights === 'real' && (c as { image?: string }).image !== undefined) as (ReturnType<typeof readManifest>['cases'][number] & { image: string })[];
  it('has real cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(`${c.image}: max |ours - PIL| <= ${MAX}, mean <= ${MEAN} (0..255 scale)`, async () => {
      const want = readFixture(c.file).get('input') as SampledTensor;
      const got = preprocess(await decodeImage(shared(join(IMAGES, c.image))));
      let max = 0;
      let total = 0;
      const indices = want.storage === 'sampled' ? want.indices : Uint32Array.from(got.keys());
      const values = want.storage === 'sampled' ? want.values : dense(want, 'input');
      indices.forEach((idx, k) => {
        const d = Math.abs(got[idx]! - values[k]!);
        max = Math.max(max, d);
        total += d;
      });
      const mean = total / indices.length;
      console.log(`${c.image}: preprocessed input vs PIL over ${indices.length} values: max |diff| ${max}, mean ${mean.toFixed(3)}`);
      expect(max).toBeLessThanOrEqual(MAX);
      expect(mean).toBeLessThanOrEqual(MEAN);
    });
  }
});

describe('the transparency rule: RGBA composited over a background (PreprocessOptions)', () => {
  const w = 37;
  const h = 29;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + (i >> 5)) & 255);
  const rgba = withAlpha(rgb, 7);
  const image = { width: w, height: h, data: rgba };

  it('each pixel round((c * a + bg * (255 - a)) / 255), computed here in doubles', () => {
    for (const bg of [DEFAULT_BACKGROUND, [0, 0, 0], [12, 200, 77]] as const) {
      const got = composite(image, bg).data;
      for (let p = 0; p < w * h; p++) {
        const a = rgba[4 * p + 3]!;
        for (let c = 0; c < 3; c++) {
          const want = Math.round((rgba[4 * p + c]! * a + bg[c]! * (255 - a)) / 255);
          if (got[3 * p + c] !== want) expect(`pixel ${p} channel ${c} over ${bg}: ${got[3 * p + c]}`).toBe(`pixel ${p} channel ${c} over ${bg}: ${want}`);
        }
      }
    }
    expect(DEFAULT_BACKGROUND).toEqual([255, 255, 255]);
  });

  for (const recipe of ['caffe', 'torchvision'] as const) {
    it(`${recipe}: the tensor of RGBA is the tensor of its composite (white by default, or the colour given)`, () => {
      expect(preprocess(image, recipe)).toEqual(preprocess(composite(image), recipe));
      expect(preprocess(image, recipe, { background: [0, 0, 0] })).toEqual(preprocess(composite(image, [0, 0, 0]), recipe));
      // ... which is not the alpha ignored: the rule changes something here.
      expect(preprocess(image, recipe)).not.toEqual(preprocess(image, recipe, { background: 'ignore' }));
    });
  }

  it('fully transparent pixels are the background, whatever colour lies under them', () => {
    const hidden = withAlpha(rgb, 0, 0);
    const flat = new Uint8Array(w * h * 3).fill(255);
    expect(preprocess({ width: w, height: h, data: hidden })).toEqual(preprocess({ width: w, height: h, data: flat }));
  });

  it('a bad background is an InputError', () => {
    for (const bad of [[256, 0, 0], [1, 2], [1.5, 0, 0], 'white', null]) {
      expect(() => preprocess(image, 'caffe', { background: bad as never }), JSON.stringify(bad)).toThrow(/background must be \[r, g, b\] with integers 0..255, or 'ignore'/);
    }
    expect(() => composite(image, 'ignore' as never)).toThrow(InputError);
  });
});

describe('the recipes', () => {
  it('caffe: 1x3x227x227, BGR minus 104/117/123', () => {
    const flat = preprocess({ width: 300, height: 200, data: new Uint8Array(300 * 200 * 3).fill(200).map((v, i) => (i % 3 === 0 ? 10 : v)) });
    expect(flat.length).toBe(3 * 227 * 227);
    expect([flat[0], flat[227 * 227], flat[2 * 227 * 227]]).toEqual([200 - 104, 200 - 117, 10 - 123]);
    expect(RECIPES.caffe.input).toBe(227);
  });

  it('torchvision: 1x3x224x224, RGB scaled and normalised', () => {
    const x = preprocess({ width: 10, height: 10, data: new Uint8Array(300).fill(255) }, 'torchvision');
    expect(x.length).toBe(3 * 224 * 224);
    expect(x[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(x[2 * 224 * 224]).toBeCloseTo((1 - 0.406) / 0.225, 5);
  });

  it('a 10000x10000 image: reads the source in place, one 256-wide intermediate', () => {
    const width = 10000;
    const height = 10000;
    const data = new Uint8Array(width * height);
    for (let i = 0; i < data.length; i += 997) data[i] = 255;
    const t0 = performance.now();
    const before = process.memoryUsage().arrayBuffers;
    const x = preprocess({ width, height, data, channels: 1 });
    const grown = process.memoryUsage().arrayBuffers - before;
    console.log(`10000x10000 grey: ${(performance.now() - t0).toFixed(0)} ms, array buffers grew ${(grown / 2 ** 20).toFixed(1)} MiB (source ${(data.length / 2 ** 20).toFixed(1)} MiB)`);
    expect(x.length).toBe(3 * 227 * 227);
    // The horizontal pass holds 256 x 10000 x 3 bytes (7.3 MiB); nothing near the source's size.
    expect(grown).toBeLessThan(32 * 2 ** 20);
  });
});

describe('bad images: InputError', () => {
  const ok = { width: 4, height: 3, data: new Uint8Array(36) };
  const cases: [string, unknown, RegExp][] = [
    ['zero width', { ...ok, width: 0 }, /width must be a positive integer, got 0/],
    ['negative height', { ...ok, height: -3 }, /height must be a positive integer, got -3/],
    ['fractional width', { ...ok, width: 2.5 }, /width must be a positive integer/],
    ['NaN height', { ...ok, height: NaN }, /height must be a positive integer, got NaN/],
    ['data of no channel count', { ...ok, data: new Uint8Array(35) }, /has 35 bytes; 4x3 needs 48 \(RGBA\), 36 \(RGB\) or 12 \(grey\)/],
    ['data too long for the channels given', { ...ok, channels: 4 }, /has 36 bytes; 4x3 with 4 channels needs 48/],
    ['2 channels', { ...ok, data: new Uint8Array(24), channels: 2 }, /channels must be 1, 3 or 4, got 2/],
    ['Float32Array data', { ...ok, data: new Float32Array(36) }, /Uint8Array or Uint8ClampedArray/],
    ['a plain array', { ...ok, data: Array(36).fill(0) }, /Uint8Array or Uint8ClampedArray/],
    ['not an object', null, /must be an object/],
  ];
  for (const [what, image, message] of cases) {
    it(what, () => {
      expect(() => preprocess(image as ImagePixels)).toThrow(InputError);
      expect(() => preprocess(image as ImagePixels)).toThrow(message);
    });
  }
  it('an unknown recipe', () => {
    expect(() => preprocess(ok, 'opencv' as 'caffe')).toThrow(/unknown preprocessing recipe "opencv": use caffe or torchvision/);
    expect(() => preprocess(ok, 'toString' as 'caffe')).toThrow(InputError);
  });
  it('a resize to zero', () => {
    expect(() => resizeBilinear(ok, 0, 5)).toThrow(/resize width must be a positive integer, got 0/);
  });
});
