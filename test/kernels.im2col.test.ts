// f32_im2col_nhwc and f32_im2col_nhwc_rows (the bands src/conv.ts lowers a convolution by)
// against the plain im2col, bit for bit; the convolutions they serve are in test/conv.test.ts.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILDS, FC_SEED, KernelHarness, UNWRITTEN, arbChannels, arbDataSeed, arbShift, arbSpatial,
  assertExact, assertProperty, convOutSize, randomMap, sprinkleSpecials, toNHWC } from './kernel-harness.js';
import { referenceIm2col } from './oracles/reference.js';

console.log(`kernels.im2col: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_im2col_nhwc (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: rows equal the plain im2col bit for bit (kh x kw 1..7, stride 1..3, pad 0..2, with NaN, Inf, -0)', () => {
    const arb = fc
      .record({
        c: arbChannels(24),
        h: arbSpatial(),
        w: arbSpatial(),
        kh: fc.integer({ min: 1, max: 7 }),
        kw: fc.integer({ min: 1, max: 7 }),
        stride: fc.integer({ min: 1, max: 3 }),
        pad: fc.integer({ min: 0, max: 2 }),
        specials: fc.boolean(),
        shift: arbShift,
        seed: arbDataSeed,
      })
      .filter((r) => convOutSize(r.h, r.kh, r.stride, r.pad) >= 1 && convOutSize(r.w, r.kw, r.stride, r.pad) >= 1);
    assertProperty(
      fc.property(arb, (r) => {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        if (r.specials) x.data.set(sprinkleSpecials(x.data, r.seed, 0.2, [NaN, Infinity, -Infinity, -0, 0]));
        const oh = convOutSize(r.h, r.kh, r.stride, r.pad);
        const ow = convOutSize(r.w, r.kw, r.stride, r.pad);
        const got = h.im2col(x, r.kh, r.kw, r.stride, r.pad, r.shift);
        assertExact(got, referenceIm2col(x, r.kh, r.kw, r.stride, r.pad, oh, ow), `${build} im2col ${JSON.stringify(r)}`, 'bits');
      }),
      300,
    );
  });

  it('property: a band of output rows [oy0, oy1) equals that slice of the plain im2col (how src/conv.ts lowers conv1)', () => {
    const arb = fc
      .record({
        c: arbChannels(8),
        h: arbSpatial(),
        w: arbSpatial(),
        k: fc.integer({ min: 1, max: 7 }),
        stride: fc.integer({ min: 1, max: 3 }),
        pad: fc.integer({ min: 0, max: 2 }),
        a: fc.nat(),
        b: fc.nat(),
        shift: arbShift,
        seed: arbDataSeed,
      })
      .filter((r) => convOutSize(r.h, r.k, r.stride, r.pad) >= 1 && convOutSize(r.w, r.k, r.stride, r.pad) >= 1);
    assertProperty(
      fc.property(arb, (r) => {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        const oh = convOutSize(r.h, r.k, r.stride, r.pad);
        const ow = convOutSize(r.w, r.k, r.stride, r.pad);
        const oy0 = r.a % oh;
        const oy1 = oy0 + 1 + (r.b % (oh - oy0));
        const row = ow * r.k * r.k * r.c;
        const want = referenceIm2col(x, r.k, r.k, r.stride, r.pad, oh, ow).subarray(oy0 * row, oy1 * row);
        const got = h.im2colRows(x, r.k, r.k, r.stride, r.pad, oy0, oy1, r.shift);
        assertExact(got, want, `${build} im2col rows ${JSON.stringify(r)} oy ${oy0}..${oy1}`, 'bits');
      }),
      200,
    );
  });

  it('an element it does not write keeps UNWRITTEN and fails the comparison (one output row short)', () => {
    const x = randomMap(3, 5, 5, 3);
    const want = referenceIm2col(x, 3, 3, 1, 1, 5, 5);
    const got = h.scoped(() => {
      const input = h.input('x', toNHWC(x));
      const cols = h.output('cols', want.length);
      h.kernels.f32_im2col_nhwc(input.ptr, 5, 5, 3, 3, 3, 1, 1, 4, 5, cols.ptr);
      return h.read(cols);
    });
    expect(got.at(-1)).toBe(UNWRITTEN);
    expect(() => assertExact(got, want, 'short', 'bits')).toThrow(/want/);
  });

  if (build === 'debug') {
    it('the debug build asserts channels, kernel and stride > 0 and pad >= 0', () => {
      for (const [c, k, s, p] of [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [1, 1, 1, -1]] as const) {
        expect(() => h.kernels.f32_im2col_nhwc(0, 1, 1, c, k, k, s, p, 0, 0, 0)).toThrow(/kernel assertion failed/);
      }
    });
  }
});

