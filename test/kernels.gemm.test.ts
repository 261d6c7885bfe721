// f32_gemm_4x8 against a plain f64 GEMM: a property over random m, n, k and strides, then
// XNNPACK's named edge cases (k_eq_1, n_lt_8, ..., strided_c, subtile), on both builds. The
// packing that feeds it is in test/kernels.pack.test.ts.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbDataSeed, arbOutChannels, arbShift, assertClose,
  assertProperty, randomArray, type GemmCase } from './kernel-harness.js';
import { referenceGemm } from './oracles/reference.js';

interface Shape {
  m: number;
  n: number;
  k: number;
  lda?: number;
  ldc?: number;
  cOffset?: number;
  relu?: boolean;
  shift?: number;
  seed?: number;
}

function makeCase(s: Shape): GemmCase {
  const lda = s.lda ?? s.k;
  const cOffset = s.cOffset ?? 0;
  const seed = s.seed ?? 7;
  return {
    m: s.m, n: s.n, k: s.k, lda, ldc: s.ldc ?? cOffset + s.n, cOffset, relu: s.relu ?? false, shift: s.shift ?? 0,
    a: randomArray(s.m * lda, seed),
    w: randomArray(s.n * s.k, seed + 1),
    bias: randomArray(s.n, seed + 2),
  };
}

const want = (g: GemmCase): Float32Array => referenceGemm(g.m, g.n, g.k, g.a, g.lda, g.w, g.bias, g.relu);
const label = (h: KernelHarness, g: GemmCase): string =>
  `${h.build} f32_gemm_4x8 m=${g.m} n=${g.n} k=${g.k} lda=${g.lda} ldc=${g.ldc} offset=${g.cOffset} relu=${g.relu} shift=${g.shift}`;

console.log(`kernels.gemm: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_gemm_4x8 (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  const check = (s: Shape, stats?: DiffStats): void => {
    const g = makeCase(s);
    assertClose(h.gemm(g), want(g), label(h, g), stats);
  };

  describe('property', () => {
    const stats = new DiffStats(`${build} gemm property`);
    afterAll(() => console.log(stats.toString()));

    it('matches the plain GEMM for random m, n, k, lda > k, slices of ldc > n, relu on and off', () => {
      const arb = fc
        .record({
          m: fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17), fc.integer({ min: 1, max: 64 })),
          n: arbOutChannels(40),
          k: fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 16, 17), fc.integer({ min: 1, max: 300 })),
          ldaExtra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
          cOffset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
          ldcExtra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
          relu: fc.boolean(),
          shift: arbShift,
          seed: arbDataSeed,
        })
        .map((r) => ({ ...r, lda: r.k + r.ldaExtra, ldc: r.cOffset + r.n + r.ldcExtra }));
      assertProperty(
        fc.property(arb, (r) => check(r, stats)),
        300,
      );
    });
  });

  describe('property: cache blocking', () => {
    const stats = new DiffStats(`${build} gemm panel-edge property`);
    afterAll(() => console.log(stats.toString()));

    // f32_gemm_4x8 walks panels of mc rows (kept in L2) by nc columns (kept in L1), sized from k.
    // The formula is copied only to aim m and n at the panel edges: should the constants change,
    // these cases still run, they just may no longer straddle an edge.
    const panels = (k: number): { mc: number; nc: number } => ({
      mc: Math.max(4, Math.floor((192 * 1024) / (4 * k)) & ~3),
      nc: Math.max(8, Math.floor((24 * 1024) / ((k + 1) * 32)) * 8),
    });

    it('matches the plain GEMM with m and n one panel, two panels and a tail, either side of each edge', () => {
      const arb = fc
        .record({
          k: fc.oneof(fc.constantFrom(64, 100, 300, 512, 700, 1000, 2000), fc.integer({ min: 16, max: 2000 })),
          mPanels: fc.integer({ min: 1, max: 2 }),
          mTail: fc.integer({ min: -3, max: 5 }),
          nPanels: fc.integer({ min: 1, max: 3 }),
          nTail: fc.integer({ min: -7, max: 7 }),
          relu: fc.boolean(),
          cOffset: fc.constantFrom(0, 3),
          seed: arbDataSeed,
        })
        .map((r) => {
          const { mc, nc } = panels(r.k);
          return { ...r, m: Math.max(1, mc * r.mPanels + r.mTail), n: Math.max(1, nc * r.nPanels + r.nTail) };
        })
        .filter((r) => r.m * r.n * r.k <= 8_000_000);
      assertProperty(
        fc.property(arb, (r) => check({ m: r.m, n: r.n, k: r.k, relu: r.relu, cOffset: r.cOffset, ldc: r.cOffset + r.n + 1, seed: r.seed }, stats)),
        40,
      );
    });
  });

  describe('edge cases', () => {
    it('k_eq_1', () => {
      for (let m = 1; m <= 9; m++) for (const n of [1, 3, 4, 7, 8, 9, 17]) check({ m, n, k: 1 });
    });
    it('k_lt_4', () => {
      for (const k of [2, 3]) for (const n of [1, 5, 8, 13]) check({ m: 5, n, k });
    });
    it('k_gt_4 and k_div_4', () => {
      for (const k of [4, 5, 8, 12, 17, 64]) for (const n of [2, 8, 11]) check({ m: 7, n, k });
    });
    it('n_lt_8 (every tail: n & 4, n & 2, n & 1)', () => {
      for (let n = 1; n < 8; n++) for (const m of [1, 4, 6]) check({ m, n, k: 5 });
    });
    it('n_eq_8', () => {
      for (let m = 1; m <= 9; m++) check({ m, n: 8, k: 5 });
    });
    it('n_gt_8', () => {
      for (let n = 9; n < 16; n++) for (const m of [1, 4, 7]) check({ m, n, k: 5 });
    });
    it('n_div_8', () => {
      for (const n of [16, 24, 64]) check({ m: 5, n, k: 9 });
    });
    it('m_lt_4', () => {
      for (let m = 1; m < 4; m++) for (const n of [1, 6, 8, 15]) check({ m, n, k: 7 });
    });
    it('m_div_4 and m_gt_4', () => {
      for (const m of [4, 5, 6, 7, 8, 12, 13]) check({ m, n: 11, k: 7 });
    });
    it('subtile (every m <= 4 by every n <= 8)', () => {
      for (let m = 1; m <= 4; m++) for (let n = 1; n <= 8; n++) check({ m, n, k: 3 });
    });
    it('strided_a (lda > k, poison between rows)', () => {
      for (const [k, lda] of [[1, 2], [3, 8], [5, 6], [16, 19]] as const) for (const n of [3, 8, 12]) check({ m: 7, n, k, lda });
    });
    it('strided_c (a channel slice of a wider row, SENTINEL either side)', () => {
      for (const [n, cOffset, ldc] of [[1, 3, 9], [5, 2, 16], [8, 8, 16], [11, 5, 17], [16, 0, 23], [3, 13, 16]] as const) {
        check({ m: 9, n, k: 6, cOffset, ldc });
      }
    });
    it('unaligned pointers (each region shifted 1..3 floats)', () => {
      for (const shift of [1, 2, 3]) for (const n of [3, 8, 13]) check({ m: 6, n, k: 10, shift, ldc: n + 2, cOffset: 1 });
    });
    it('relu clamps negatives to 0 and leaves positives', () => {
      const g = makeCase({ m: 13, n: 11, k: 9, relu: true });
      const got = h.gemm(g);
      const linear = h.gemm({ ...g, relu: false });
      expect(linear.some((v) => v < 0)).toBe(true);
      expect(linear.some((v) => v > 0)).toBe(true);
      assertClose(got, want(g), label(h, g));
      expect(got.every((v, i) => v === Math.max(linear[i]!, 0))).toBe(true);
    });
    it('relu keeps NaN (PyTorch: relu(NaN) = NaN), rows without NaN stay finite', () => {
      const g = makeCase({ m: 6, n: 13, k: 4, relu: true });
      g.a[2 * g.lda + 1] = NaN;
      const got = h.gemm(g);
      for (let i = 0; i < g.m; i++) {
        for (let j = 0; j < g.n; j++) expect(Number.isNaN(got[i * g.n + j]!), `row ${i} col ${j}`).toBe(i === 2);
      }
    });
    it('SqueezeNet v1.1 GEMM shapes (fire2 squeeze at 55x55, fire9 expand1x1 at 13x13, 13 rows of conv10)', () => {
      check({ m: 55 * 55, n: 16, k: 64, relu: true });
      check({ m: 13 * 13, n: 256, k: 64, relu: true, ldc: 512, cOffset: 0 });
      check({ m: 13, n: 1000, k: 512, relu: true });
    });
  });

  describe('the checks can fail', () => {
    it('a corrupted packed weight (last k row, tail column) is caught by the comparison', () => {
      const g = makeCase({ m: 5, n: 11, k: 6 });
      // block 1 holds channels 8..15; channel 10 is lane 2 of its last row.
      const corrupt = (p: Float32Array): void => {
        p[1 * (g.k + 1) * 8 + g.k * 8 + 2]! += 0.5;
      };
      assertClose(h.gemm(g), want(g), label(h, g));
      expect(() => assertClose(h.gemm({ ...g, corrupt }), want(g), label(h, g))).toThrow(/exceeds/);
    });
    it('a corrupted bias is caught', () => {
      const g = makeCase({ m: 3, n: 1, k: 2 });
      expect(() => assertClose(h.gemm({ ...g, corrupt: (p) => void (p[0]! += 1e-3) }), want(g), label(h, g))).toThrow(/exceeds/);
    });
    it('a store one float past the output is caught by the canary', () => {
      const n = 5;
      expect(() =>
        h.scoped(() => {
          const a = h.input('A', randomArray(3, 1));
          const w = h.packed('W', randomArray(n * 3, 2), randomArray(n, 3), n, 3, 1);
          const c = h.output('C', n);
          h.kernels.f32_gemm_4x8(1, n, 3, a.ptr, 3, w.ptr, c.ptr + 4, n, 0);
        }),
      ).toThrow(/0 float\(s\) after the end of C/);
    });
    it('a store one float before a slice is caught', () => {
      const g = makeCase({ m: 1, n: 3, k: 2 });
      expect(() =>
        h.scoped(() => {
          const a = h.input('A', g.a);
          const w = h.packed('W', g.w, g.bias, 3, 2, 1);
          const c = h.output('C', 3);
          h.kernels.f32_gemm_4x8(1, 3, 2, a.ptr, 2, w.ptr, c.ptr - 4, 3, 0);
        }),
      ).toThrow(/1 float\(s\) before C/);
    });
    it('a read past the end of a row of A (k + 1 of lda = k + 1) meets the poison and fails the comparison', () => {
      const g = makeCase({ m: 5, n: 6, k: 4, lda: 5 });
      const got = h.scoped(() => {
        const a = new Float32Array(g.m * g.lda).fill(NaN);
        for (let i = 0; i < g.m; i++) a.set(g.a.subarray(i * g.lda, i * g.lda + g.k), i * g.lda);
        const ar = h.input('A', a);
        const w = h.packed('W', randomArray(g.n * (g.k + 1), 1), g.bias, g.n, g.k + 1, 1);
        const c = h.output('C', g.m * g.n);
        h.kernels.f32_gemm_4x8(g.m, g.n, g.k + 1, ar.ptr, g.lda, w.ptr, c.ptr, g.n, 0);
        return h.read(c);
      });
      expect(() => assertClose(got, want(g), 'k + 1')).toThrow(/is NaN/);
    });
  });

  if (build === 'debug') {
    it('the debug build asserts m, n, k > 0', () => {
      for (const [m, n, k] of [[0, 1, 1], [1, 0, 1], [1, 1, 0]] as const) {
        expect(() => h.kernels.f32_gemm_4x8(m, n, k, 0, 1, 0, 0, 1, 0)).toThrow(/kernel assertion failed/);
      }
    });
  }
});
