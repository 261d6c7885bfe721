// Tensors and pixels (issue 8): a wrong length, a wrong size, NaN or Infinity anywhere is a typed
// error naming the problem, never a crash or a propagated NaN; the resize stays bounded in memory
// and time whatever the image's shape. Properties over random positions and sizes, fixed seed
// (FC_SEED); docs/ROBUSTNESS.md lists the single cases and their messages.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHS,
  DisposedError,
  InputError,
  SqueezeNet,
  WeightError,
  decodeDeepCompression,
  decodeWeights,
  load,
  plan,
  preprocess,
  resizeBilinear,
  composite,
  type ImagePixels,
} from '../src/index.js';
import { FUZZ_SEED } from './fuzz-harness.js';
import { randomWeights, seededRandom } from './helpers.js';

const SIZE = 39;

/** What `fn` threw: fails the test when it returned or threw something else than `cls`. */
function thrown<E extends Error>(cls: new (...a: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return e;
    throw new Error(`expected a ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`);
  }
  throw new Error(`expected a ${cls.name}, got a result`);
}

describe('model.run: NaN and Infinity are rejected, never propagated', () => {
  let model: SqueezeNet;
  let want: Float32Array;
  const n = 3 * SIZE * SIZE;
  const input = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  beforeAll(async () => {
    model = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], SIZE), 8), inputSize: SIZE });
    want = model.run(input);
  });

  it('a NaN, +Infinity or -Infinity at any index: an InputError naming its [n, c, y, x] (200 cases)', () => {
    fc.assert(
      fc.property(fc.nat({ max: n - 1 }), fc.constantFrom(NaN, Infinity, -Infinity), (i, v) => {
        const x = input.slice();
        x[i] = v;
        const e = thrown(InputError, () => model.run(x));
        const c = Math.floor(i / (SIZE * SIZE));
        const r = i % (SIZE * SIZE);
        expect(e.message).toBe(`input value ${v} at [0, ${c}, ${Math.floor(r / SIZE)}, ${r % SIZE}] is not finite`);
      }),
      { seed: FUZZ_SEED, numRuns: 200 },
    );
    // and the model is unharmed
    expect(model.run(input)).toEqual(want);
  });

  it('a wrong length or type, a bad size: InputError, and the model still answers the same (300 cases)', () => {
    const bad = fc.oneof(
      fc.nat({ max: 2 * n }).filter((k) => k !== n).map((k) => [new Float32Array(k), {}] as const),
      fc.constantFrom<readonly [unknown, object]>([new Float64Array(n), {}], [Array.from(input), {}], [null, {}], [undefined, {}], [input.buffer, {}], ['input', {}]),
      fc.constantFrom(0, -1, -SIZE, 2.5, NaN, Infinity, -Infinity, 1e-9).map((h) => [input, { height: h }] as const),
      fc.integer({ min: 1, max: 17 }).map((h) => [new Float32Array(3 * h * h), { height: h, width: h }] as const), // too small for v1.1
    );
    fc.assert(
      fc.property(bad, ([x, options]) => {
        thrown(InputError, () => model.run(x as Float32Array, options));
      }),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
    expect(model.run(input, { height: SIZE, width: SIZE })).toEqual(want);
  });

  it('options that are not an object (null, a number, a string): InputError', () => {
    for (const o of [null, 3, 'big']) {
      expect(thrown(InputError, () => model.run(input, o as never)).message).toMatch(/run options must be an object/);
    }
  });

  it('an absurd size (20000x20000, with an input of that length): InputError before any memory is grown', () => {
    const before = model.memoryBytes;
    const huge = new Float32Array(3 * 20000 * 20000);
    const e = thrown(InputError, () => model.run(huge, { height: 20000, width: 20000 }));
    expect(e.message).toMatch(/a 20000x20000 input needs over \d+ MiB of activations; at most 1024 MiB/);
    expect(model.memoryBytes).toBe(before);
    expect(model.run(input)).toEqual(want); // the previous plan stays
  });

  it('finite values that overflow float32 inside the network (all 3e38): InputError, not NaN logits', () => {
    const e = thrown(InputError, () => model.run(new Float32Array(n).fill(3e38)));
    expect(e.message).toMatch(/^logit \d+ is (NaN|-?Infinity): the input overflowed float32 inside the network/);
    expect(model.run(input)).toEqual(want);
  });
});

describe('dispose', () => {
  it('memoryBytes is 0 afterwards and run throws DisposedError, not a TypeError', async () => {
    const m = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], SIZE), 9), inputSize: SIZE });
    expect(m.memoryBytes).toBeGreaterThan(0);
    m.dispose();
    expect(m.memoryBytes).toBe(0);
    expect(() => m.run(new Float32Array(3 * SIZE * SIZE))).toThrow(DisposedError);
    expect(() => m.run(new Float32Array(3 * SIZE * SIZE), null as never)).toThrow(DisposedError);
  });
});

describe('SqueezeNet.load: a non-finite weight is a WeightError naming the tensor and index', () => {
  it('NaN or an infinity in any tensor, at any index (25 cases)', async () => {
    const p = plan(ARCHS['v1.1'], SIZE);
    const weights = randomWeights(p, 9);
    const names = [...weights.keys()];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: names.length - 1 }), fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity), async (t, at, v) => {
        const name = names[t]!;
        const tensor = weights.get(name)!.slice();
        const i = at % tensor.length;
        tensor[i] = v;
        const w = new Map(weights);
        w.set(name, tensor);
        let error: unknown;
        await SqueezeNet.load({ arch: 'v1.1', weights: w, inputSize: SIZE, warmup: false }).then(
          (m) => m.dispose(),
          (e: unknown) => (error = e),
        );
        expect(error).toBeInstanceOf(WeightError);
        expect((error as WeightError).tensor).toBe(name);
        expect((error as Error).message).toBe(`${name}: value ${v} at index ${i} is not finite`);
      }),
      { seed: FUZZ_SEED, numRuns: 25 },
    );
  });
});

describe('SqueezeNet.load without arch: weights of another network', () => {
  it('a WeightError that says v1.1 was assumed and how to choose; with arch given, none of that', async () => {
    const v10 = randomWeights(plan(ARCHS['v1.0-caffe'], 227, 227), 7);
    const hint = /^features\.0\.weight: has 14112 values, v1\.1 needs \[64, 3, 3, 3\] = 1728 \(no arch was given, so v1\.1, the default: pass arch, e\.g\. 'v1\.0-caffe', or load\(bytes\), which infers it from the file\)$/;
    await expect(SqueezeNet.load({ weights: v10 })).rejects.toThrow(hint);
    await expect(SqueezeNet.load({ weights: v10 })).rejects.toBeInstanceOf(WeightError);
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: v10 })).rejects.toThrow(/^features\.0\.weight: has 14112 values, v1\.1 needs \[64, 3, 3, 3\] = 1728$/);
  });
});

describe('decoders: what is not bytes', () => {
  it('decodeDeepCompression: an InputError for a string, null, a number, a plain array', () => {
    for (const x of ['compressed_SqueezeNet.net', null, undefined, 42, [1, 2, 3], {}]) {
      thrown(InputError, () => decodeDeepCompression(x as unknown as Uint8Array));
    }
  });

  it('load and decodeWeights given a path: an InputError that says to read the file first', async () => {
    await expect(load('squeezenet1_1.onnx' as unknown as Uint8Array)).rejects.toThrow(/^a weight file must be given as a Uint8Array or an ArrayBuffer, not a path: read the file first/);
    expect(() => decodeWeights('squeezenet1_1.onnx' as unknown as Uint8Array)).toThrow(/not a path: read the file first \(in Node: await readFile\(path\)\)$/);
    expect(() => decodeWeights(42 as unknown as Uint8Array)).toThrow(/must be given as a Uint8Array or an ArrayBuffer$/);
  });
});

describe('preprocess: bounded whatever the shape', () => {
  const rand = seededRandom(FUZZ_SEED);
  const pixels = (width: number, height: number, channels: 1 | 3 | 4): ImagePixels => ({
    width,
    height,
    channels,
    data: Uint8Array.from({ length: width * height * channels }, () => Math.floor(rand() * 256)),
  });

  it('the centre crop is the crop of the whole resize, for both recipes (40 cases, sizes 1..300)', () => {
    const side = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 200, max: 300 }));
    fc.assert(
      fc.property(side, side, fc.constantFrom<1 | 3 | 4>(1, 3, 4), (w, h, c) => {
        const img = pixels(w, h, c);
        // RGBA: preprocess composites it over white first (the transparency rule); resizeBilinear does not.
        const src = c === 4 ? composite(img) : img;
        // caffe: 256x256, crop 227 at (14, 14), BGR minus means
        const full = resizeBilinear(src, 256, 256);
        const caffe = preprocess(img, 'caffe');
        const plane = 227 * 227;
        for (let y = 0; y < 227; y += 13) {
          for (let x = 0; x < 227; x += 7) {
            const p = ((y + 14) * 256 + x + 14) * 3;
            expect([caffe[y * 227 + x], caffe[plane + y * 227 + x], caffe[2 * plane + y * 227 + x]]).toEqual([
              full.data[p + 2]! - 104,
              full.data[p + 1]! - 117,
              full.data[p]! - 123,
            ]);
          }
        }
        // torchvision: short side 256, crop 224 at the centre (rounded half to even)
        const long = Math.trunc((256 * Math.max(w, h)) / Math.min(w, h));
        const [rw, rh] = w <= h ? [256, long] : [long, 256];
        if (rw * rh > 1e6) return;
        const tv = preprocess(img, 'torchvision');
        const whole = resizeBilinear(src, rw, rh);
        const half = (v: number): number => (Math.abs(v % 1) === 0.5 && Math.round(v) % 2 !== 0 ? Math.round(v) - 1 : Math.round(v));
        const [top, left] = [half((rh - 224) / 2), half((rw - 224) / 2)];
        const mean = [0.485, 0.456, 0.406].map(Math.fround);
        const std = [0.229, 0.224, 0.225].map(Math.fround);
        for (let y = 0; y < 224; y += 11) {
          for (let x = 0; x < 224; x += 5) {
            for (let k = 0; k < 3; k++) {
              const v = whole.data[((y + top) * rw + x + left) * 3 + k]!;
              expect(tv[k * 224 * 224 + y * 224 + x]).toBe(Math.fround(Math.fround(Math.fround(v / 255) - mean[k]!) / std[k]!));
            }
          }
        }
      }),
      { seed: FUZZ_SEED, numRuns: 40 },
    );
  });

  it('a 100000x1 image, torchvision: a 224x224 crop of a 25,600,000x256 resize, in little memory and time (was a RangeError)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const x = preprocess(pixels(100_000, 1, 3), 'torchvision');
    expect(x.length).toBe(3 * 224 * 224);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('tall or wide strips the caffe recipe would resize row by row for seconds: an InputError at once', () => {
    for (const [w, h] of [
      [1, 1_000_000],
      [100_000_000, 1],
    ] as const) {
      const t0 = performance.now();
      const e = thrown(InputError, () => preprocess({ width: w, height: h, data: new Uint8Array(w * h), channels: 1 }, 'caffe'));
      expect(e.message).toMatch(new RegExp(`^image ${w}x${h} is too thin to resize to 256x256: ~.* filter taps, more than the .* allowed for its size$`));
      expect(performance.now() - t0).toBeLessThan(500);
    }
    // a 1x100000 strip is still fine (~1.5 s at most)
    expect(preprocess({ width: 1, height: 100_000, data: new Uint8Array(100_000), channels: 1 }, 'caffe').length).toBe(3 * 227 * 227);
  });
});
