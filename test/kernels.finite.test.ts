// f32_find_nonfinite (how the input at every run and each weight tensor at load are checked) against
// Number.isFinite; the errors it leads to are in test/engine.test.ts.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, FC_SEED, KernelHarness, arbDataSeed, arbShift, assertProperty, randomArray, sprinkleSpecials } from './kernel-harness.js';

console.log(`kernels.finite: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_find_nonfinite (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: f32_find_nonfinite returns the first NaN or +-Inf, or -1', () => {
    const arb = fc.record({
      n: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 3000 })),
      fraction: fc.constantFrom(0, 0.001, 0.05, 0.5),
      shift: arbShift,
      seed: arbDataSeed,
    });
    assertProperty(
      fc.property(arb, (r) => {
        const data = sprinkleSpecials(randomArray(r.n, r.seed, 3e38), r.seed, r.fraction, [NaN, Infinity, -Infinity, 3.4028234663852886e38, -0]);
        const want = data.findIndex((v) => !Number.isFinite(v));
        expect(h.findNonfinite(data, r.shift), `${build} find_nonfinite ${JSON.stringify(r)}`).toBe(want);
      }),
      200,
    );
  });

  it('find_nonfinite: the largest finite float is finite; NaN, Inf, -Inf each found at 0 and at the last index', () => {
    expect(h.findNonfinite(Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38, 1e-45))).toBe(-1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(h.findNonfinite(Float32Array.of(bad, 1, 2))).toBe(0);
      expect(h.findNonfinite(Float32Array.of(1, 2, bad))).toBe(2);
    }
  });
});
