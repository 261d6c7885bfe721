// Weight packing runs in WASM at load; it must equal the plain-TS packers in src/pack.ts exactly.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { instantiate, SqueezeNet, ARCHS, plan, WeightError } from '../src/index.js';
import { Arena } from '../src/arena.js';
import { packGemmWeights, packedGemmSize, packWinogradWeights } from '../src/pack.js';
import { randomWeights, seededRandom } from './helpers.js';

const SEED = Number(process.env.FC_SEED ?? 20161602);

describe('weight packing', async () => {
  const k = await instantiate();
  const arena = new Arena(k);
  const put = (a: Float32Array): number => {
    const at = arena.alloc(a.length);
    arena.view(at, a.length).set(a);
    return at;
  };

  it(`f32_pack_gemm equals packGemmWeights (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 13 }), fc.constantFrom(1, 2, 3, 5, 7), fc.integer(), (outC, inC, kernel, s) => {
        const mark = arena.mark();
        const r = seededRandom(s);
        const w = Float32Array.from({ length: outC * inC * kernel * kernel }, () => r() - 0.5);
        const b = Float32Array.from({ length: outC }, () => r() - 0.5);
        const size = packedGemmSize(outC, inC, kernel);
        const want = new Float32Array(size);
        packGemmWeights(w, b, outC, inC, kernel, want);
        const dst = arena.alloc(size);
        k.f32_pack_gemm(put(w), put(b), outC, inC, kernel, dst);
        const got = arena.view(dst, size).slice();
        arena.release(mark);
        expect(got).toEqual(want);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it(`f32_pack_winograd23 equals packWinogradWeights bit for bit (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (o4, i4, s) => {
        const outC = 4 * o4;
        const inC = 4 * i4;
        const mark = arena.mark();
        const r = seededRandom(s);
        const w = Float32Array.from({ length: outC * inC * 9 }, () => r() * 2 - 1);
        const size = 16 * packedGemmSize(outC, inC, 1);
        const want = new Float32Array(size);
        packWinogradWeights(w, outC, inC, want);
        const dst = arena.alloc(size);
        k.f32_pack_winograd23(put(w), outC, inC, arena.alloc(16 * outC * inC), dst);
        const got = arena.view(dst, size).slice();
        arena.release(mark);
        expect(got).toEqual(want);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('a NaN or infinite weight is a WeightError naming the tensor and the index', async () => {
    const weights = randomWeights(plan(ARCHS['v1.1']), 5);
    const bad = new Map(weights);
    const t = bad.get('features.6.expand3x3.weight')!.slice();
    t[1234] = Infinity;
    bad.set('features.6.expand3x3.weight', t);
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: bad })).rejects.toThrow(
      new WeightError('value Infinity at index 1234 is not finite', 'features.6.expand3x3.weight'),
    );
    const nanBias = new Map(weights).set('classifier.1.bias', new Float32Array(1000).fill(NaN));
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: nanBias })).rejects.toThrow(/classifier.1.bias: value NaN at index 0/);
  });
});
