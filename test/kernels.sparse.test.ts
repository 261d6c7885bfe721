// f32_spmm_32x1 (a pruned 1x1 convolution, weights in CSR) against the plain f64 GEMM over random
// sparsity, pixel counts around its 32- and 4-pixel blocks, slices of C and ReLU; and bit for bit
// against f32_gemm_4x8 on the same matrix, since both add the kept products in the same order.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbDataSeed, arbOutChannels, arbShift, assertClose,
  assertExact, assertProperty, randomArray, type GemmCase } from './kernel-harness.js';
import { referenceGemm } from './oracles/reference.js';
import { seededRandom } from './helpers.js';

console.log(`kernels.sparse: fast-check seed ${FC_SEED} (FC_SEED to change)`);

function sparseCase(r: { m: number; n: number; k: number; density: number; cOffset: number; ldcExtra: number; relu: boolean; shift: number; seed: number }): GemmCase {
  const w = randomArray(r.n * r.k, r.seed + 1);
  const rand = seededRandom(r.seed + 3);
  for (let i = 0; i < w.length; i++) if (rand() >= r.density) w[i] = 0;
  return {
    m: r.m, n: r.n, k: r.k, lda: r.k, ldc: r.cOffset + r.n + r.ldcExtra, cOffset: r.cOffset, relu: r.relu, shift: r.shift,
    a: randomArray(r.m * r.k, r.seed),
    w,
    bias: randomArray(r.n, r.seed + 2),
  };
}

const arb = fc.record({
  m: fc.oneof(fc.constantFrom(1, 3, 4, 5, 31, 32, 33, 36, 37, 64, 67, 169), fc.integer({ min: 1, max: 100 })),
  n: arbOutChannels(40),
  k: fc.oneof(fc.constantFrom(1, 2, 7, 16, 17), fc.integer({ min: 1, max: 200 })),
  density: fc.constantFrom(0, 0.05, 0.2, 0.5, 1),
  cOffset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
  ldcExtra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
  relu: fc.boolean(),
  shift: arbShift,
  seed: arbDataSeed,
});

describe.each(BUILDS)('f32_spmm_32x1 (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });
  const stats = new DiffStats(`${build} spmm property`);
  afterAll(() => console.log(stats.toString()));

  it('matches the plain GEMM: random sparsity (none to all kept), m around the pixel blocks, slices of C, relu', () => {
    assertProperty(
      fc.property(arb, (r) => {
        const g = sparseCase(r);
        const label = `${build} f32_spmm_32x1 ${JSON.stringify(r)}`;
        assertClose(h.spmm(g), referenceGemm(g.m, g.n, g.k, g.a, g.lda, g.w, g.bias, g.relu), label, stats);
      }),
      300,
    );
  });

  it('equals f32_gemm_4x8 on the same matrix bit for bit (the model may take either path)', () => {
    assertProperty(
      fc.property(arb, (r) => {
        const g = sparseCase(r);
        assertExact(h.spmm(g), h.gemm(g), `${build} spmm vs gemm ${JSON.stringify(r)}`, 'bits');
      }),
      200,
    );
  });

  it('an output row it skips keeps UNWRITTEN and fails the comparison', () => {
    const g = sparseCase({ m: 37, n: 9, k: 20, density: 0.3, cOffset: 0, ldcExtra: 0, relu: false, shift: 0, seed: 5 });
    const got = h.spmm({ ...g, m: 36 });
    const want = referenceGemm(37, 9, 20, g.a, 20, g.w, g.bias, false);
    expect(() => assertClose(got, want, 'short')).toThrow();
  });
});
