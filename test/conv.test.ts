// A convolution as the engine runs it (src/conv.ts: the method, packing, scratch and kernel calls
// SqueezeNet uses) by each method that can run it: gemm1x1 (GEMM on the map), padded1x1
// (f32_fill_rows + one GEMM), sparse (f32_transpose + f32_spmm_32x1), Winograd F(2x2, 3x3)
// (transforms + 16 GEMMs) and im2col bands + GEMM, against referenceConv2d; the engine's choice of
// method; and every phase split into ranges of its units (as intra-op threads would run it) giving
// the same bits as the whole layer.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicableMethods, bandRows, chooseConvMethod, packedGemmSize, type ConvMethod, type ConvPhase } from '../src/conv.js';
import { referenceConv2d, type Map3 } from './oracles/reference.js';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbChannels, arbDataSeed, arbOutChannels, arbShift,
  arbSpatial, assertClose, assertExact, assertProperty, convOutSize, randomArray, randomMap } from './kernel-harness.js';
import { seededRandom } from './helpers.js';

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

const shapeOf = (r: ConvCase): { inC: number; outC: number; kernel: number; stride: number; pad: number } => ({
  inC: r.c, outC: r.out, kernel: r.kernel, stride: r.stride, pad: r.pad,
});

const arbSlice = fc.option(fc.record({ first: fc.integer({ min: 0, max: 9 }), extra: fc.integer({ min: 0, max: 9 }) }), { nil: undefined });

/** Awkward channels, odd H x W, kernel 1..7, stride 1|2, pad 0..2, relu on and off, any method that applies, a channel slice or not. */
const arbAnyMethod: fc.Arbitrary<ConvCase> = fc
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
    slice: arbSlice,
    shift: arbShift,
    seed: arbDataSeed,
  })
  .filter((r) => convOutSize(r.h, r.kernel, r.stride, r.pad) >= 1 && convOutSize(r.w, r.kernel, r.stride, r.pad) >= 1)
  .filter((r) => convMacs(r) <= MAX_MACS)
  .map(({ methodPick, ...r }) => {
    const methods = applicableMethods(shapeOf(r));
    return { ...r, method: methods[methodPick % methods.length]! };
  });

/** Winograd F(2x2, 3x3): 3x3 / 1 pad 1, channels in fours, odd and even H x W, a channel slice or not. */
const fours = (max: number): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(4, 8, 12, 16), fc.integer({ min: 1, max: max / 4 }).map((v) => 4 * v));
const arbWinograd: fc.Arbitrary<ConvCase> = fc
  .record({ c: fours(40), out: fours(40), h: arbSpatial(), w: arbSpatial(), relu: fc.boolean(), slice: arbSlice, shift: arbShift, seed: arbDataSeed })
  .map((r) => ({ ...r, kernel: 3, stride: 1, pad: 1, method: 'winograd' as const }));

const convLabel = (h: KernelHarness, r: ConvCase): string =>
  `${h.build} ${r.method ?? chooseConvMethod(shapeOf(r), convData(r).weight)} conv ${r.c}x${r.h}x${r.w} -> ${r.out}, k${r.kernel} s${r.stride} p${r.pad} relu=${r.relu}${r.slice ? ` slice ${JSON.stringify(r.slice)}` : ''} shift=${r.shift ?? 0} seed=${r.seed}`;

console.log(`conv: fast-check seed ${FC_SEED} (FC_SEED to change)`);

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
      assertProperty(
        fc.property(arbAnyMethod, (r) => checkConv(r, stats)),
        250,
      );
    });

    it('Winograd F(2x2, 3x3) (3x3 / 1 pad 1, channels in fours) matches referenceConv2d: odd and even H x W, into a channel slice', () => {
      assertProperty(
        fc.property(arbWinograd, (r) => checkConv(r, wgStats)),
        150,
      );
    });

    it('a padded 1x1 (fill_rows + one GEMM) equals im2col + GEMM exactly', () => {
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

    it('a plain 1x1 gives the same bits by gemm1x1 (GEMM on the map) and through im2col', () => {
      const arb = fc.record({ c: arbChannels(40), h: arbSpatial(), w: arbSpatial(), out: arbOutChannels(40), relu: fc.boolean(), seed: arbDataSeed });
      assertProperty(
        fc.property(arb, (r) => {
          const { x, weight, bias } = convData({ ...r, kernel: 1, stride: 1, pad: 0 });
          const gemm = h.conv2d(x, weight, bias, r.out, 1, 1, 0, r.relu);
          const viaCols = h.conv2d(x, weight, bias, r.out, 1, 1, 0, r.relu, { method: 'im2col' });
          assertExact(gemm.data, viaCols.data, `${h.build} 1x1 gemm1x1 vs im2col ${JSON.stringify(r)}`, 'bits');
        }),
        100,
      );
    });
  });

  describe('split into ranges of units, as threads would run it', () => {
    // Each phase cut at random points, the ranges run in a random order: the same bits as runConv.
    const splitter = (seed: number) => {
      const rand = seededRandom(seed);
      return (phase: ConvPhase): [number, number][] => {
        const cuts = new Set([0, phase.units]);
        const pieces = 1 + Math.floor(rand() * Math.min(phase.units, 5));
        while (cuts.size < pieces + 1) cuts.add(Math.floor(rand() * phase.units));
        const points = [...cuts].sort((a, b) => a - b);
        const ranges = points.slice(1).map((to, i): [number, number] => [points[i]!, to]);
        for (let i = ranges.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [ranges[i], ranges[j]] = [ranges[j]!, ranges[i]!];
        }
        return ranges;
      };
    };

    it('property: every method (Winograd too), any split of every phase, into a channel slice: bit for bit the whole layer', () => {
      assertProperty(
        fc.property(fc.oneof(arbAnyMethod, arbWinograd), (r) => {
          const { x, weight, bias } = convData(r);
          const options = { method: r.method, slice: r.slice, shift: r.shift };
          const whole = h.conv2d(x, weight, bias, r.out, r.kernel, r.stride, r.pad, r.relu, options);
          const split = h.conv2d(x, weight, bias, r.out, r.kernel, r.stride, r.pad, r.relu, { ...options, split: splitter(r.seed) });
          assertExact(split.data, whole.data, `${convLabel(h, r)} split`, 'bits');
        }),
        150,
      );
    });

    it('im2col over many bands (v1.0 conv1 at 227: bands of 2 of its 111 output rows), split inside bands', () => {
      const r: ConvCase = { c: 3, h: 227, w: 227, out: 8, kernel: 7, stride: 2, pad: 0, relu: true, seed: 5, method: 'im2col' };
      expect(bandRows({ inC: 3, outC: 96, kernel: 7, stride: 2, pad: 0, inH: 227, inW: 227, outH: 111, outW: 111 })).toBe(2);
      const { x, weight, bias } = convData(r);
      const whole = h.conv2d(x, weight, bias, r.out, 7, 2, 0, true, { method: 'im2col' });
      const split = h.conv2d(x, weight, bias, r.out, 7, 2, 0, true, { method: 'im2col', split: () => [[57, 111], [0, 21], [21, 57]] });
      assertExact(split.data, whole.data, 'conv1 bands split', 'bits');
      checkConv(r);
    });

    it('a split that leaves a unit out is refused, and one that runs a unit twice', () => {
      const r: ConvCase = { c: 3, h: 5, w: 5, out: 4, kernel: 3, stride: 1, pad: 1, relu: true, seed: 2, method: 'im2col' };
      const { x, weight, bias } = convData(r);
      expect(() => h.conv2d(x, weight, bias, 4, 3, 1, 1, true, { method: 'im2col', split: () => [[0, 4]] })).toThrow(/does not cover/);
      expect(() => h.conv2d(x, weight, bias, 4, 3, 1, 1, true, { method: 'im2col', split: () => [[0, 5], [4, 5]] })).toThrow(/does not cover/);
    });
  });

  describe('edge cases', () => {
    const base = { relu: true, seed: 11 };
    it('v1.0 conv1 (3 -> 96, 7x7 / 2) on 17x15', () => checkConv({ ...base, c: 3, h: 17, w: 15, out: 96, kernel: 7, stride: 2, pad: 0 }));
    it('v1.1 conv1 (3 -> 64, 3x3 / 2) on 13x11', () => checkConv({ ...base, c: 3, h: 13, w: 11, out: 64, kernel: 3, stride: 2, pad: 0 }));
    it('expand3x3 (16 -> 64, 3x3 / 1 pad 1) on 13x13, the border taps in the padding', () =>
      checkConv({ ...base, c: 16, h: 13, w: 13, out: 64, kernel: 3, stride: 1, pad: 1 }));
    it('1x1 with padding (v1.0-caffe conv10 has pad 1): the ring is bias only, by fill_rows (dense and sparse) and by im2col', () => {
      for (const relu of [false, true]) {
        for (const method of ['padded1x1', 'sparse', 'im2col'] as const) checkConv({ ...base, relu, method, c: 17, h: 5, w: 7, out: 13, kernel: 1, stride: 1, pad: 1 });
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
    it('every method the engine picks, by shape and weights: gemm1x1, padded1x1, sparse, winograd, im2col', () => {
      const dense = (n: number): Float32Array => randomArray(n, 3);
      const pruned = (n: number, kept: number): Float32Array => dense(n).map((v, i) => (i % 100 < kept ? v : 0));
      const pick = (inC: number, outC: number, kernel: number, stride: number, pad: number, w: Float32Array, o = {}): ConvMethod =>
        chooseConvMethod({ inC, outC, kernel, stride, pad }, w, o);
      expect(pick(16, 64, 1, 1, 0, dense(16 * 64))).toBe('gemm1x1');
      expect(pick(512, 1000, 1, 1, 1, dense(512 * 1000))).toBe('padded1x1');
      expect(pick(512, 1000, 1, 1, 1, pruned(512 * 1000, 30))).toBe('sparse');
      expect(pick(512, 1000, 1, 1, 1, pruned(512 * 1000, 31))).toBe('padded1x1');
      expect(pick(512, 1000, 1, 1, 1, pruned(512 * 1000, 20), { sparse: false })).toBe('padded1x1');
      expect(pick(16, 64, 3, 1, 1, dense(16 * 64 * 9))).toBe('winograd');
      expect(pick(16, 64, 3, 1, 1, dense(16 * 64 * 9), { winograd: false })).toBe('im2col');
      expect(pick(3, 64, 3, 1, 1, dense(3 * 64 * 9))).toBe('im2col');
      expect(pick(3, 96, 7, 2, 0, dense(3 * 96 * 49))).toBe('im2col');
      expect(applicableMethods({ inC: 16, outC: 64, kernel: 1, stride: 1, pad: 0 })).toEqual(['gemm1x1', 'sparse', 'im2col']);
      expect(applicableMethods({ inC: 16, outC: 64, kernel: 3, stride: 1, pad: 1 })).toEqual(['winograd', 'im2col']);
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

