// f32_maxpool_nhwc against referenceMaxPool (exact: a max is one of its inputs), at ceil-mode
// edges and with NaN as PyTorch propagates it; f32_global_avgpool_nhwc against referenceGlobalAvgPool.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceGlobalAvgPool, referenceMaxPool, referenceMaxPoolPadded, type Map3 } from './oracles/reference.js';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbChannels, arbDataSeed, arbShift, arbSpatial,
  assertClose, assertExact, assertProperty, poolOutSize, randomMap, sprinkleSpecials } from './kernel-harness.js';

interface PoolCase {
  c: number;
  h: number;
  w: number;
  size: number;
  stride: number;
  pad: number;
  ceil: boolean;
  shift?: number;
}

/** PyTorch's rule: output size from poolOutSize; padding (at most half the window) never wins. */
function wantMaxPool(x: Map3, r: PoolCase): Map3 {
  const oh = poolOutSize(x.h, r.size, r.stride, r.pad, r.ceil);
  const ow = poolOutSize(x.w, r.size, r.stride, r.pad, r.ceil);
  if (r.pad === 0) {
    const y = referenceMaxPool(x, r.size, r.stride, r.ceil);
    expect([y.h, y.w], 'referenceMaxPool and poolOutSize disagree on the output size').toEqual([oh, ow]);
    return y;
  }
  return referenceMaxPoolPadded(x, r.size, r.stride, r.pad, oh, ow);
}

const poolLabel = (h: KernelHarness, r: PoolCase): string =>
  `${h.build} maxpool ${r.c}x${r.h}x${r.w} ${r.size}x${r.size} / ${r.stride} pad ${r.pad} ${r.ceil ? 'ceil' : 'floor'} shift=${r.shift ?? 0}`;

const arbPool = fc
  .record({
    c: arbChannels(40),
    h: arbSpatial(),
    w: arbSpatial(),
    size: fc.oneof(fc.constantFrom(2, 3), fc.integer({ min: 1, max: 7 })),
    stride: fc.oneof(fc.constant(2), fc.integer({ min: 1, max: 3 })),
    padFrac: fc.integer({ min: 0, max: 3 }),
    ceil: fc.boolean(),
    shift: arbShift,
    seed: arbDataSeed,
  })
  .map(({ padFrac, ...r }) => ({ ...r, pad: Math.min(padFrac, Math.floor(r.size / 2)) }))
  .filter((r) => poolOutSize(r.h, r.size, r.stride, r.pad, r.ceil) >= 1 && poolOutSize(r.w, r.size, r.stride, r.pad, r.ceil) >= 1);

console.log(`kernels.pool: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_maxpool_nhwc (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  const run = (x: Map3, r: PoolCase): Map3 => {
    const oh = poolOutSize(x.h, r.size, r.stride, r.pad, r.ceil);
    const ow = poolOutSize(x.w, r.size, r.stride, r.pad, r.ceil);
    return h.maxpool(x, r.size, r.stride, r.pad, oh, ow, r.shift ?? 0);
  };
  const check = (x: Map3, r: PoolCase): Map3 => {
    const got = run(x, r);
    assertExact(got.data, wantMaxPool(x, r).data, poolLabel(h, r), 'value');
    return got;
  };

  describe('property', () => {
    it('equals referenceMaxPool exactly: window 1..7, stride 1..3, pad <= size / 2, ceil and floor', () => {
      assertProperty(
        fc.property(arbPool, (r) => void check(randomMap(r.c, r.h, r.w, r.seed), r)),
        300,
      );
    });

    it('with NaN, +-Inf, +-0 and ties in the input: NaN wins its window, as torch.max_pool2d', () => {
      assertProperty(
        fc.property(arbPool, fc.constantFrom(0.02, 0.1, 0.5), (r, fraction) => {
          const x = randomMap(r.c, r.h, r.w, r.seed);
          x.data.set(sprinkleSpecials(x.data, r.seed, fraction, [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5]));
          check(x, r);
        }),
        300,
      );
    });
  });

  describe('edge cases', () => {
    const x = (c: number, hh: number, ww: number, seed = 3): Map3 => randomMap(c, hh, ww, seed);

    it('ceil_edge: 14x14, 3x3 / 2 is 7x7 in ceil mode (last window 2 wide), 6x6 in floor mode', () => {
      const input = x(7, 14, 14);
      expect(check(input, { c: 7, h: 14, w: 14, size: 3, stride: 2, pad: 0, ceil: true }).h).toBe(7);
      expect(check(input, { c: 7, h: 14, w: 14, size: 3, stride: 2, pad: 0, ceil: false }).h).toBe(6);
    });
    it('ceil_edge_single_pixel: 5x9, 2x2 / 2 ceil, the last window holds one row or column', () => {
      const r: PoolCase = { c: 5, h: 5, w: 9, size: 2, stride: 2, pad: 0, ceil: true };
      const got = check(x(5, 5, 9), r);
      expect([got.h, got.w]).toEqual([3, 5]);
    });
    it('ceil_edge_odd: 12x9 and 13x11, 3x3 / 2, both modes, every channel tail', () => {
      for (const [hh, ww] of [[12, 9], [13, 11]] as const) {
        for (const c of [1, 2, 3, 4, 5, 7, 8, 9, 17]) for (const ceil of [true, false]) check(x(c, hh, ww), { c, h: hh, w: ww, size: 3, stride: 2, pad: 0, ceil });
      }
    });
    it('SqueezeNet pools: 111 -> 55, 55 -> 27, 27 -> 13 (v1.1), 113 -> 56 (v1.0-caffe), ceil', () => {
      for (const [n, out] of [[111, 55], [55, 27], [27, 13], [113, 56]] as const) {
        expect(check(x(5, n, n), { c: 5, h: n, w: n, size: 3, stride: 2, pad: 0, ceil: true }).h).toBe(out);
      }
    });
    it('window smaller than its stride (1x1 / 2, 2x2 / 3) skips pixels', () => {
      check(x(6, 9, 8), { c: 6, h: 9, w: 8, size: 1, stride: 2, pad: 0, ceil: false });
      check(x(6, 9, 8), { c: 6, h: 9, w: 8, size: 2, stride: 3, pad: 0, ceil: true });
    });
    it('window as large as the input, and larger in ceil mode (2x2 input, 3x3 / 2 ceil -> 1x1)', () => {
      check(x(9, 7, 7), { c: 9, h: 7, w: 7, size: 7, stride: 1, pad: 0, ceil: false });
      expect(check(x(9, 2, 2), { c: 9, h: 2, w: 2, size: 3, stride: 2, pad: 0, ceil: true }).h).toBe(1);
    });
    it('padding_never_wins: all-negative input, 3x3 / 2 pad 1 (PyTorch pads with -inf)', () => {
      const input = x(7, 9, 6);
      input.data.forEach((v, i) => (input.data[i] = -1 - Math.abs(v)));
      const got = check(input, { c: 7, h: 9, w: 6, size: 3, stride: 2, pad: 1, ceil: true });
      expect(got.data.every((v) => v < 0)).toBe(true);
    });
    it('all -Inf stays -Inf', () => {
      const input: Map3 = { c: 5, h: 3, w: 3, data: new Float32Array(45).fill(-Infinity) };
      expect(check(input, { c: 5, h: 3, w: 3, size: 2, stride: 1, pad: 0, ceil: false }).data.every((v) => v === -Infinity)).toBe(true);
    });
    it('NaN propagates like torch.max_pool2d: every window holding the NaN is NaN, in SIMD lanes and in the scalar tail', () => {
      // 7 channels: 0..3 go through the v128 loop, 4..6 through the scalar tail.
      const c = 7;
      const [hh, ww] = [7, 7];
      const r: PoolCase = { c, h: hh, w: ww, size: 3, stride: 2, pad: 0, ceil: true };
      // The NaN as the first pixel of its window, in the middle, and last.
      for (const [ny, nx] of [[0, 0], [2, 2], [3, 4], [6, 6]] as const) {
        for (const ch of [0, 3, 4, 6]) {
          const input = x(c, hh, ww, ny * 10 + nx);
          input.data[(ch * hh + ny) * ww + nx] = NaN;
          const got = check(input, r);
          for (let oy = 0; oy < got.h; oy++) {
            for (let ox = 0; ox < got.w; ox++) {
              const inside = ny >= oy * 2 && ny < oy * 2 + 3 && nx >= ox * 2 && nx < ox * 2 + 3;
              for (let k = 0; k < c; k++) {
                const v = got.data[(k * got.h + oy) * got.w + ox]!;
                expect(Number.isNaN(v), `NaN at channel ${ch} (${ny}, ${nx}); output channel ${k} (${oy}, ${ox})`).toBe(inside && k === ch);
              }
            }
          }
        }
      }
    });
    it('a wrong output size shows: one output row short leaves UNWRITTEN and fails the comparison', () => {
      const input = x(5, 7, 7);
      const r: PoolCase = { c: 5, h: 7, w: 7, size: 3, stride: 2, pad: 0, ceil: true };
      const want = wantMaxPool(input, r);
      const short = h.maxpool(input, 3, 2, 0, want.h - 1, want.w, 0);
      expect(() => assertExact(short.data.subarray(0, want.data.length), want.data, 'short', 'value')).toThrow();
    });
  });

  if (build === 'debug') {
    it('the debug build asserts channels, size and stride > 0', () => {
      for (const [c, s, st] of [[0, 1, 1], [1, 0, 1], [1, 1, 0]] as const) {
        expect(() => h.kernels.f32_maxpool_nhwc(0, 1, 1, c, s, st, 0, 0, 0, 0)).toThrow(/kernel assertion failed/);
      }
    });
  }
});

describe.each(BUILDS)('f32_global_avgpool_nhwc (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  describe('property', () => {
    const stats = new DiffStats(`${build} global avgpool property`);
    afterAll(() => console.log(stats.toString()));
    it('matches referenceGlobalAvgPool within the f32 tolerance', () => {
      const arb = fc.record({
        c: fc.oneof(arbChannels(40), fc.integer({ min: 41, max: 1000 })),
        h: arbSpatial(),
        w: arbSpatial(),
        shift: arbShift,
        seed: arbDataSeed,
      });
      assertProperty(
        fc.property(arb, (r) => {
          const x = randomMap(r.c, r.h, r.w, r.seed);
          assertClose(h.globalAvgPool(x, r.shift), referenceGlobalAvgPool(x), `${build} avgpool ${JSON.stringify(r)}`, stats);
        }),
        200,
      );
    });
  });

  it('one pixel: the mean is the pixel, bit for bit', () => {
    for (const c of [1, 3, 4, 5, 8, 17]) {
      const x = randomMap(c, 1, 1, c);
      assertExact(h.globalAvgPool(x), x.data, `${build} 1x1 c=${c}`, 'bits');
    }
  });
  it('SqueezeNet classifier: 1000 classes at 13x13 (v1.1 at 224) and 15x15 (v1.0-caffe at 227)', () => {
    for (const n of [13, 15]) {
      const x = randomMap(1000, n, n, n);
      assertClose(h.globalAvgPool(x), referenceGlobalAvgPool(x), `${build} 1000x${n}x${n}`);
    }
  });
  it('channel tails 1..9 with a NaN in one channel: only that mean is NaN', () => {
    for (let c = 1; c <= 9; c++) {
      const x = randomMap(c, 3, 5, c);
      x.data[(c - 1) * 15 + 7] = NaN;
      const got = h.globalAvgPool(x);
      expect(Array.from(got, Number.isNaN)).toEqual(Array.from({ length: c }, (_, i) => i === c - 1));
    }
  });
  if (build === 'debug') {
    it('the debug build asserts pixels and channels > 0', () => {
      expect(() => h.kernels.f32_global_avgpool_nhwc(0, 0, 1, 0)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_global_avgpool_nhwc(0, 1, 0, 0)).toThrow(/kernel assertion failed/);
    });
  }
});
