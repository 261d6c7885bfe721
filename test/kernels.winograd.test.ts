// f32_winograd23_input_nhwc and f32_winograd23_output_nhwc (Winograd F(2x2, 3x3)'s transforms)
// against B^T d B and A^T M A in f64; the convolution they serve (with its 16 GEMMs, as src/conv.ts
// runs it) is in test/conv.test.ts, the weight transform in test/kernels.pack.test.ts.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbDataSeed, arbShift, arbSpatial, assertClose,
  assertProperty, randomArray, randomMap } from './kernel-harness.js';
import { referenceWinogradInput, referenceWinogradOutput } from './oracles/reference.js';

console.log(`kernels.winograd: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('Winograd F(2x2, 3x3) transforms (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });
  const stats = new DiffStats(`${build} Winograd transforms`);
  afterAll(() => console.log(stats.toString()));

  const arbTiles = fc.record({
    c: fc.oneof(fc.constantFrom(4, 8, 16), fc.integer({ min: 1, max: 10 }).map((v) => 4 * v)),
    h: arbSpatial(),
    w: arbSpatial(),
    shift: arbShift,
    seed: arbDataSeed,
    cuts: fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 3 }),
  });

  it('property: f32_winograd23_input_nhwc is B^T d B of every 4x4 tile (zero outside the map)', () => {
    assertProperty(
      fc.property(arbTiles, (r) => {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        const [th, tw] = [Math.ceil(r.h / 2), Math.ceil(r.w / 2)];
        assertClose(h.winogradInput(x, th, tw, r.shift), referenceWinogradInput(x, th, tw), `${build} Winograd input ${JSON.stringify(r)}`, stats);
        // any split of the tile rows (one call per range, as threads run it) gives the same bits
        expect(h.winogradInput(x, th, tw, r.shift, r.cuts)).toEqual(h.winogradInput(x, th, tw, r.shift));
      }),
      150,
    );
  });

  it('property: f32_winograd23_output_nhwc is A^T M A + bias (ReLU on and off), only pixels inside the map, into a channel slice', () => {
    const arb = fc.record({
      out: fc.integer({ min: 1, max: 10 }).map((v) => 4 * v),
      oh: arbSpatial(),
      ow: arbSpatial(),
      relu: fc.boolean(),
      first: fc.integer({ min: 0, max: 9 }),
      extra: fc.integer({ min: 0, max: 9 }),
      shift: arbShift,
      seed: arbDataSeed,
      cuts: fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 3 }),
    });
    assertProperty(
      fc.property(arb, (r) => {
        const [th, tw] = [Math.ceil(r.oh / 2), Math.ceil(r.ow / 2)];
        const m = randomArray(16 * th * tw * r.out, r.seed);
        const bias = randomArray(r.out, r.seed + 1);
        const got = h.winogradOutput(m, th, tw, r.out, bias, r.oh, r.ow, r.first + r.out + r.extra, r.first, r.relu, r.shift);
        assertClose(got, referenceWinogradOutput(m, th, tw, r.out, bias, r.oh, r.ow, r.relu), `${build} Winograd output ${JSON.stringify(r)}`, stats);
        const split = h.winogradOutput(m, th, tw, r.out, bias, r.oh, r.ow, r.first + r.out + r.extra, r.first, r.relu, r.shift, r.cuts);
        expect(split).toEqual(got);
      }),
      150,
    );
  });

  if (build === 'debug') {
    it('the debug build asserts channels in fours', () => {
      expect(() => h.kernels.f32_winograd23_input_nhwc(0, 1, 1, 6, 1, 1, 0, 1, 0)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_winograd23_output_nhwc(0, 1, 1, 0, 1, 6, 0, 0, 1, 1, 6, 0)).toThrow(/kernel assertion failed/);
    });
    it('the debug build asserts a tile-row range inside the tiles', () => {
      expect(() => h.kernels.f32_winograd23_input_nhwc(0, 2, 2, 4, 1, 1, 0, 2, 0)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_winograd23_output_nhwc(0, 1, 1, 1, 0, 4, 0, 0, 2, 2, 4, 0)).toThrow(/kernel assertion failed/);
    });
  }
});
