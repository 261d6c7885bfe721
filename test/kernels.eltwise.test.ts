// The element-wise kernels: f32_add_inplace (the bypass additions of Section 6) and f32_fill_rows
// (relu(bias) in the border of a padded 1x1), against plain TS, bit for bit.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, FC_SEED, KernelHarness, arbDataSeed, arbOutChannels, arbShift, assertExact, assertProperty,
  randomArray, sprinkleSpecials } from './kernel-harness.js';

console.log(`kernels.eltwise: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_add_inplace, f32_fill_rows (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: y += x is the f32 sum of each pair, bit for bit, for every length and alignment', () => {
    const arb = fc.record({
      n: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2000 })),
      specials: fc.boolean(),
      shift: arbShift,
      seed: arbDataSeed,
    });
    assertProperty(
      fc.property(arb, (r) => {
        let y = randomArray(r.n, r.seed);
        let x = randomArray(r.n, r.seed + 1);
        if (r.specials) {
          y = sprinkleSpecials(y, r.seed, 0.1, [NaN, Infinity, -Infinity, -0, 0, 3.4e38]);
          x = sprinkleSpecials(x, r.seed + 1, 0.1, [NaN, Infinity, -Infinity, -0, 0, 3.4e38]);
        }
        const want = y.map((v, i) => Math.fround(v + x[i]!));
        assertExact(h.addInplace(y, x, r.shift), want, `${build} add_inplace ${JSON.stringify(r)}`, 'value');
      }),
      200,
    );
  });

  it('n = 0 writes nothing; every tail 1..9 stays inside y', () => {
    for (let n = 0; n <= 9; n++) {
      const y = randomArray(n, n);
      const x = randomArray(n, n + 100);
      assertExact(h.addInplace(y, x), y.map((v, i) => Math.fround(v + x[i]!)), `${build} n=${n}`, 'value');
    }
  });


  it('property: f32_fill_rows writes relu?(src) into each row of a channel slice and nothing else', () => {
    const arb = fc.record({
      rows: fc.integer({ min: 0, max: 40 }),
      n: fc.oneof(fc.integer({ min: 0, max: 9 }), arbOutChannels(40)),
      first: fc.integer({ min: 0, max: 9 }),
      extra: fc.integer({ min: 0, max: 9 }),
      relu: fc.boolean(),
      shift: arbShift,
      seed: arbDataSeed,
    });
    assertProperty(
      fc.property(arb, (r) => {
        const src = sprinkleSpecials(randomArray(r.n, r.seed), r.seed, 0.1, [NaN, -0, 0, -Infinity]);
        const row = src.map((v) => (r.relu && v < 0 ? 0 : v));
        const want = new Float32Array(r.rows * r.n);
        for (let i = 0; i < r.rows; i++) want.set(row, i * r.n);
        const got = h.fillRows(r.rows, r.n, r.first + r.n + r.extra, r.first, src, r.relu, r.shift);
        assertExact(got, want, `${build} fill_rows ${JSON.stringify(r)}`, 'bits');
      }),
      200,
    );
  });

  if (build === 'debug') {
    it('the debug build asserts n >= 0 for add_inplace and ldc >= n for fill_rows', () => {
      expect(() => h.kernels.f32_add_inplace(0, 0, -1)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_fill_rows(0, 1, 5, 4, 0, 0)).toThrow(/kernel assertion failed/);
    });
  }
});
