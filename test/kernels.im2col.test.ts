// Convolution as the engine runs it, by each of its methods (direct GEMM, padded 1x1 =
// f32_fill_rows + GEMM, Winograd F(2x2, 3x3) = transforms + 16 GEMMs, im2col + GEMM) against
// referenceConv2d; the data movers alone (im2col, f32_nchw_to_nhwc, f32_fill_rows), which must be
// exact, and the Winograd transforms and weight packing against plain TS.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packWinogradWeights, packedGemmSize } from '../src/pack.js';
import { referenceConv2d, type Map3 } from '../src/reference.js';
import {
  BUILDS,
  DiffStats,
  FC_SEED,
  KernelHarness,
  UNWRITTEN,
  arbChannels,
  engineMethod,
  possibleMethods,
  referenceWinogradInput,
  referenceWinogradOutput,
  type ConvMethod,
  arbDataSeed,
  arbOutChannels,
  arbShift,
  arbSpatial,
  assertClose,
  assertExact,
  assertProperty,
  convOutSize,
  randomArray,
  randomMap,
  referenceIm2col,
  sprinkleSpecials,
  toNHWC,
} from './kernel-harness.js';

interface ConvCase {
  c: number;
  h: number;
  w: number;
  out: number;
  kernel: number;
  stride: number;
  pad: number;
  relu: boolean;
  seed: number;
  shift?: number;
  /** Default: the engine's choice. */
  method?: ConvMethod;
  slice?: { first: number; extra: number };
}

const MAX_MACS = 500_000;
const convMacs = (r: ConvCase): number =>
  r.c * r.kernel * r.kernel * r.out * convOutSize(r.h, r.kernel, r.stride, r.pad) * convOutSize(r.w, r.kernel, r.stride, r.pad);

function convData(r: ConvCase): { x: Map3; weight: Float32Array; bias: Float32Array } {
  return {
    x: randomMap(r.c, r.h, r.w, r.seed),
    weight: randomArray(r.out * r.c * r.kernel * r.kernel, r.seed + 1, 1 / Math.sqrt(r.c * r.kernel * r.kernel)),
    bias: randomArray(r.out, r.seed + 2, 0.5),
  };
}

const convLabel = (h: KernelHarness, r: ConvCase): string =>
  `${h.build} ${r.method ?? engineMethod(r.c, r.out, r.kernel, r.stride, r.pad)} conv ${r.c}x${r.h}x${r.w} -> ${r.out}, k${r.kernel} s${r.stride} p${r.pad} relu=${r.relu}${r.slice ? ` slice ${JSON.stringify(r.slice)}` : ''} shift=${r.shift ?? 0} seed=${r.seed}`;

console.log(`kernels.im2col: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('convolution, every method of the engine (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  const checkConv = (r: ConvCase, stats?: DiffStats, corrupt?: (p: Float32Array) => void): void => {
    const { x, weight, bias } = convData(r);
    const got = h.conv2d(x, weight, bias, r.out, r.kernel, r.stride, r.pad, r.relu, { shift: r.shift ?? 0, method: r.method, slice: r.slice, corrupt });
    const want = referenceConv2d(x, weight, bias, r.out, r.kernel, r.stride, r.pad, r.relu);
    expect([got.c, got.h, got.w]).toEqual([want.c, want.h, want.w]);
    assertClose(got.data, want.data, convLabel(h, r), stats);
  };

  describe('property', () => {
    const stats = new DiffStats(`${build} conv property`);
    const wgStats = new DiffStats(`${build} Winograd conv property`);
    afterAll(() => console.log(`${stats}\n${wgStats}`));

    it('matches referenceConv2d: awkward channels, odd H x W, kernel 1..7, stride 1|2, pad 0..2, relu on and off, any method that applies, into a channel slice', () => {
      const arb = fc
        .record({
          c: arbChannels(40),
          h: arbSpatial(),
          w: arbSpatial(),
          out: arbOutChannels(40),
          kernel: fc.oneof(fc.constantFrom(1, 3), fc.integer({ min: 1, max: 7 })),
          stride: fc.constantFrom(1, 2),
          pad: fc.integer({ min: 0, max: 2 }),
          relu: fc.boolean(),
          methodPick: fc.nat(),
          slice: fc.option(fc.record({ first: fc.integer({ min: 0, max: 9 }), extra: fc.integer({ min: 0, max: 9 }) }), { nil: undefined }),
          shift: arbShift,
          seed: arbDataSeed,
        })
        .filter((r) => convOutSize(r.h, r.kernel, r.stride, r.pad) >= 1 && convOutSize(r.w, r.kernel, r.stride, r.pad) >= 1)
        .filter((r) => convMacs(r) <= MAX_MACS)
        .map(({ methodPick, ...r }) => {
          const methods = possibleMethods(r.c, r.out, r.kernel, r.stride, r.pad);
          return { ...r, method: methods[methodPick % methods.length]! };
        });
      assertProperty(
        fc.property(arb, (r) => checkConv(r, stats)),
        250,
      );
    });

    it('Winograd F(2x2, 3x3) (3x3 / 1 pad 1, channels in fours) matches referenceConv2d: odd and even H x W, into a channel slice', () => {
      const fours = (max: number): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(4, 8, 12, 16), fc.integer({ min: 1, max: max / 4 }).map((v) => 4 * v));
      const arb = fc.record({
        c: fours(40),
        out: fours(40),
        h: arbSpatial(),
        w: arbSpatial(),
        relu: fc.boolean(),
        slice: fc.option(fc.record({ first: fc.integer({ min: 0, max: 9 }), extra: fc.integer({ min: 0, max: 9 }) }), { nil: undefined }),
        shift: arbShift,
        seed: arbDataSeed,
      });
      assertProperty(
        fc.property(arb, (r) => checkConv({ ...r, kernel: 3, stride: 1, pad: 1, method: 'winograd' }, wgStats)),
        150,
      );
    });

    it('a padded 1x1 (fill_rows + GEMM per row) equals im2col + GEMM exactly', () => {
      const arb = fc.record({
        c: arbChannels(40), out: arbOutChannels(40), h: arbSpatial(), w: arbSpatial(), pad: fc.integer({ min: 1, max: 2 }),
        relu: fc.boolean(), shift: arbShift, seed: arbDataSeed,
      });
      assertProperty(
        fc.property(arb, (r) => {
          const { x, weight, bias } = convData({ ...r, kernel: 1, stride: 1 });
          const padded = h.conv2d(x, weight, bias, r.out, 1, 1, r.pad, r.relu, { method: 'padded1x1', shift: r.shift });
          const viaCols = h.conv2d(x, weight, bias, r.out, 1, 1, r.pad, r.relu, { method: 'im2col' });
          assertExact(padded.data, viaCols.data, `${h.build} padded 1x1 vs im2col ${JSON.stringify(r)}`, 'value');
        }),
        100,
      );
    });

    it('a plain 1x1 gives the same bits by direct GEMM and through im2col', () => {
      const arb = fc.record({ c: arbChannels(40), h: arbSpatial(), w: arbSpatial(), out: arbOutChannels(40), relu: fc.boolean(), seed: arbDataSeed });
      assertProperty(
        fc.property(arb, (r) => {
          const { x, weight, bias } = convData({ ...r, kernel: 1, stride: 1, pad: 0 });
          const direct = h.conv2d(x, weight, bias, r.out, 1, 1, 0, r.relu);
          const viaCols = h.conv2d(x, weight, bias, r.out, 1, 1, 0, r.relu, { method: 'im2col' });
          assertExact(direct.data, viaCols.data, `${h.build} 1x1 direct vs im2col ${JSON.stringify(r)}`, 'bits');
        }),
        100,
      );
    });
  });

  describe('edge cases', () => {
    const base = { relu: true, seed: 11 };
    it('v1.0 conv1 (3 -> 96, 7x7 / 2) on 17x15', () => checkConv({ ...base, c: 3, h: 17, w: 15, out: 96, kernel: 7, stride: 2, pad: 0 }));
    it('v1.1 conv1 (3 -> 64, 3x3 / 2) on 13x11', () => checkConv({ ...base, c: 3, h: 13, w: 11, out: 64, kernel: 3, stride: 2, pad: 0 }));
    it('expand3x3 (16 -> 64, 3x3 / 1 pad 1) on 13x13, the border taps in the padding', () =>
      checkConv({ ...base, c: 16, h: 13, w: 13, out: 64, kernel: 3, stride: 1, pad: 1 }));
    it('1x1 with padding (v1.0-caffe conv10 has pad 1): the ring is bias only, by fill_rows and by im2col', () => {
      for (const relu of [false, true]) {
        for (const method of ['padded1x1', 'im2col'] as const) checkConv({ ...base, relu, method, c: 17, h: 5, w: 7, out: 13, kernel: 1, stride: 1, pad: 1 });
      }
    });
    it('Winograd: expand3x3 shapes of v1.1 (16 -> 64 at 55x55, 64 -> 256 at 13x13) into the concat slice', () => {
      checkConv({ ...base, c: 16, h: 55, w: 55, out: 64, kernel: 3, stride: 1, pad: 1, slice: { first: 64, extra: 0 } });
      checkConv({ ...base, c: 64, h: 13, w: 13, out: 256, kernel: 3, stride: 1, pad: 1, slice: { first: 256, extra: 0 } });
    });
    it('Winograd: 1x1, 1xN, Nx1 and 2x2 maps (one tile, half of it outside)', () => {
      for (const [hh, ww] of [[1, 1], [1, 5], [6, 1], [2, 2], [3, 3]] as const) {
        checkConv({ ...base, relu: false, c: 8, h: hh, w: ww, out: 12, kernel: 3, stride: 1, pad: 1, method: 'winograd' });
      }
    });
    it('every method the engine picks, by shape: direct, padded1x1, winograd, im2col', () => {
      expect(engineMethod(16, 64, 1, 1, 0)).toBe('direct');
      expect(engineMethod(512, 1000, 1, 1, 1)).toBe('padded1x1');
      expect(engineMethod(16, 64, 3, 1, 1)).toBe('winograd');
      expect(engineMethod(3, 64, 3, 1, 1)).toBe('im2col');
      expect(engineMethod(3, 96, 7, 2, 0)).toBe('im2col');
    });
    it('window larger than the input (k5 pad 2 on 1x1, k7 pad 2 on 3x3)', () => {
      checkConv({ ...base, c: 7, h: 1, w: 1, out: 9, kernel: 5, stride: 1, pad: 2 });
      checkConv({ ...base, c: 4, h: 3, w: 3, out: 5, kernel: 7, stride: 2, pad: 2 });
    });
    it('stride 2 on even and odd sizes (the last column dropped or kept)', () => {
      for (const [hh, ww] of [[8, 9], [9, 8], [2, 3]] as const) checkConv({ ...base, c: 3, h: hh, w: ww, out: 8, kernel: 2, stride: 2, pad: 0 });
    });
    it('channel counts 1, 3, 4, 7, 8, 15, 16, 17 by output tails 1..17', () => {
      for (const c of [1, 3, 4, 7, 8, 15, 16, 17]) for (const out of [1, 4, 6, 7, 8, 9, 17]) checkConv({ ...base, c, h: 5, w: 3, out, kernel: 3, stride: 1, pad: 1 });
    });
    it('a corrupted packed weight (last tap of the last input channel) is caught', () => {
      const r: ConvCase = { ...base, relu: false, c: 3, h: 5, w: 5, out: 10, kernel: 3, stride: 1, pad: 1 };
      const k = r.c * 9;
      expect(() => checkConv(r, undefined, (p) => void (p[1 * (k + 1) * 8 + k * 8 + 1]! -= 0.25))).toThrow(/exceeds/);
    });
    it('a corrupted Winograd weight (transformed position 15, channel 9) is caught', () => {
      const r: ConvCase = { ...base, relu: false, c: 4, h: 5, w: 6, out: 12, kernel: 3, stride: 1, pad: 1, method: 'winograd' };
      const size = packedGemmSize(r.out, r.c, 1);
      expect(() => checkConv(r, undefined, (p) => void (p[15 * size + (r.c + 1) * 8 + 8 + 1]! += 0.25))).toThrow(/exceeds/);
    });
  });
});

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

  it('property: a band of output rows [oy0, oy1) equals that slice of the plain im2col (how the model lowers conv1)', () => {
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

describe.each(BUILDS)('f32_nchw_to_nhwc (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: equals the TS transpose bit for bit', () => {
    const arb = fc.record({
      c: fc.oneof(fc.constantFrom(1, 3), arbChannels(40)),
      h: arbSpatial(),
      w: arbSpatial(),
      specials: fc.boolean(),
      shift: arbShift,
      seed: arbDataSeed,
    });
    assertProperty(
      fc.property(arb, (r) => {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        if (r.specials) x.data.set(sprinkleSpecials(x.data, r.seed, 0.2, [NaN, Infinity, -Infinity, -0]));
        assertExact(h.nchwToNhwc(x, r.shift), toNHWC(x), `${build} nchw_to_nhwc ${JSON.stringify(r)}`, 'bits');
      }),
      200,
    );
  });

  it('the network input: 3 x 227 x 227', () => {
    const x = randomMap(3, 227, 227, 5);
    assertExact(h.nchwToNhwc(x, 1), toNHWC(x), `${build} 3x227x227`, 'bits');
  });
});

describe.each(BUILDS)('Winograd F(2x2, 3x3) kernels and f32_fill_rows (%s build)', (build) => {
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
  });

  it('property: f32_winograd23_input_nhwc is B^T d B of every 4x4 tile (zero outside the map)', () => {
    assertProperty(
      fc.property(arbTiles, (r) => {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        const [th, tw] = [Math.ceil(r.h / 2), Math.ceil(r.w / 2)];
        assertClose(h.winogradInput(x, th, tw, r.shift), referenceWinogradInput(x, th, tw), `${build} Winograd input ${JSON.stringify(r)}`, stats);
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
    });
    assertProperty(
      fc.property(arb, (r) => {
        const [th, tw] = [Math.ceil(r.oh / 2), Math.ceil(r.ow / 2)];
        const m = randomArray(16 * th * tw * r.out, r.seed);
        const bias = randomArray(r.out, r.seed + 1);
        const got = h.winogradOutput(m, th, tw, r.out, bias, r.oh, r.ow, r.first + r.out + r.extra, r.first, r.relu, r.shift);
        assertClose(got, referenceWinogradOutput(m, th, tw, r.out, bias, r.oh, r.ow, r.relu), `${build} Winograd output ${JSON.stringify(r)}`, stats);
      }),
      150,
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
    it('the debug build asserts channels in fours for Winograd and ldc >= n for fill_rows', () => {
      expect(() => h.kernels.f32_winograd23_input_nhwc(0, 1, 1, 6, 1, 1, 0)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_winograd23_output_nhwc(0, 1, 1, 6, 0, 0, 1, 1, 6, 0)).toThrow(/kernel assertion failed/);
      expect(() => h.kernels.f32_fill_rows(0, 1, 5, 4, 0, 0)).toThrow(/kernel assertion failed/);
    });
  }
});
