// The load-time packing kernels src/conv.ts runs (f32_pack_gemm, f32_pack_winograd23 in
// assembly/pack.ts) equal the plain-TS packers of test/oracles/pack.ts bit for bit.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { packedGemmSize } from '../src/conv.js';
import { packGemmWeights, packWinogradWeights } from './oracles/pack.js';
import { BUILDS, FC_SEED, KernelHarness, arbChannels, arbDataSeed, arbOutChannels, arbShift, assertExact,
  assertProperty, randomArray, sprinkleSpecials } from './kernel-harness.js';

console.log(`kernels.pack: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_pack_gemm, f32_pack_winograd23 (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: f32_pack_gemm equals packGemmWeights bit for bit (kernel 1..7, every column tail, no bias -> zeros)', () => {
    const arb = fc.record({
      out: arbOutChannels(40),
      c: arbChannels(24),
      kernel: fc.oneof(fc.constantFrom(1, 3), fc.integer({ min: 1, max: 7 })),
      withBias: fc.boolean(),
      shift: arbShift,
      seed: arbDataSeed,
    });
    assertProperty(
      fc.property(arb, (r) => {
        const weight = sprinkleSpecials(randomArray(r.out * r.c * r.kernel * r.kernel, r.seed), r.seed, 0.05, [-0, 0]);
        const bias = randomArray(r.out, r.seed + 1);
        const want = new Float32Array(packedGemmSize(r.out, r.c, r.kernel));
        packGemmWeights(weight, r.withBias ? bias : new Float32Array(r.out), r.out, r.c, r.kernel, want);
        assertExact(h.packGemm(weight, r.withBias ? bias : null, r.out, r.c, r.kernel, r.shift), want, `${build} pack_gemm ${JSON.stringify(r)}`, 'bits');
      }),
      200,
    );
  });

  it('property: f32_pack_winograd23 equals packWinogradWeights bit for bit', () => {
    const arb = fc.record({ out: arbOutChannels(24), c: arbChannels(24), shift: arbShift, seed: arbDataSeed });
    assertProperty(
      fc.property(arb, (r) => {
        const weight = randomArray(r.out * r.c * 9, r.seed);
        const want = new Float32Array(16 * packedGemmSize(r.out, r.c, 1));
        packWinogradWeights(weight, r.out, r.c, want);
        assertExact(h.packWinograd(weight, r.out, r.c, r.shift), want, `${build} pack_winograd23 ${JSON.stringify(r)}`, 'bits');
      }),
      100,
    );
  });
});
