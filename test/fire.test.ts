// A Fire module as the engine runs it (squeeze, then both expand branches into channel slices of
// one concat buffer, ldc = e1x1 + e3x3, each convolution by src/conv.ts; expand3x3 by Winograd
// where channels come in fours) against referenceFire, on random configurations; with the bypasses
// of Section 6 (f32_add_inplace).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceConv2d, referenceFire, type Map3 } from './oracles/reference.js';
import { BUILDS, DiffStats, FC_SEED, KernelHarness, arbChannels, arbDataSeed, arbOutChannels, arbShift,
  arbSpatial, assertClose, assertExact, assertProperty, randomArray, randomMap, type FireWeights } from './kernel-harness.js';

interface FireCase {
  c: number;
  h: number;
  w: number;
  s1x1: number;
  e1x1: number;
  e3x3: number;
  seed: number;
  order?: '1x1-first' | '3x3-first';
  shift?: number;
  /** Section 6: 'simple' needs c = e1x1 + e3x3. */
  bypass?: 'simple' | 'complex';
  /** false: expand3x3 through im2col even where the engine takes Winograd. */
  winograd?: boolean;
}

/** He-scaled weights and small biases, so both ReLUs see both signs. */
function fireWeights(r: FireCase): FireWeights {
  const conv = (out: number, inC: number, k: number, seed: number): [Float32Array, Float32Array] => [
    randomArray(out * inC * k * k, seed, Math.sqrt(6 / (inC * k * k))),
    randomArray(out, seed + 1, 0.1),
  ];
  return {
    squeeze: conv(r.s1x1, r.c, 1, r.seed + 1),
    expand1x1: conv(r.e1x1, r.s1x1, 1, r.seed + 3),
    expand3x3: conv(r.e3x3, r.s1x1, 3, r.seed + 5),
  };
}

const bypassWeights = (r: FireCase): [Float32Array, Float32Array] => [
  randomArray((r.e1x1 + r.e3x3) * r.c, r.seed + 7, Math.sqrt(3 / r.c)),
  randomArray(r.e1x1 + r.e3x3, r.seed + 8, 0.1),
];

/** referenceFire, plus the bypass: the input itself, or its 1x1 convolution without ReLU. */
function referenceFireBypass(x: Map3, wts: FireWeights, r: FireCase): Map3 {
  const y = referenceFire(x, wts, r.s1x1, r.e1x1, r.e3x3);
  if (r.bypass === undefined) return y;
  const add = r.bypass === 'simple' ? x : referenceConv2d(x, ...bypassWeights(r), y.c, 1, 1, 0, false);
  return { ...y, data: y.data.map((v, i) => v + add.data[i]!) };
}

const fireLabel = (h: KernelHarness, r: FireCase): string =>
  `${h.build} fire(${r.c}, ${r.s1x1}, ${r.e1x1}, ${r.e3x3}${r.bypass ? `, ${r.bypass} bypass` : ''}) on ${r.h}x${r.w}, ${r.order ?? '1x1-first'}${r.winograd === false ? ', no Winograd' : ''}, shift=${r.shift ?? 0}, seed=${r.seed}`;

console.log(`fire: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('fire: squeeze -> expand1x1 | expand3x3 -> concat slices (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  const run = (r: FireCase, x: Map3 = randomMap(r.c, r.h, r.w, r.seed)): { got: Map3; want: Map3 } => {
    const wts = fireWeights(r);
    return {
      got: h.fire(x, wts, r.s1x1, r.e1x1, r.e3x3, {
        order: r.order ?? '1x1-first',
        shift: r.shift ?? 0,
        winograd: r.winograd ?? true,
        bypass: r.bypass === 'complex' ? bypassWeights(r) : r.bypass,
      }),
      want: referenceFireBypass(x, wts, r),
    };
  };
  const check = (r: FireCase, stats?: DiffStats): Map3 => {
    const { got, want } = run(r);
    expect([got.c, got.h, got.w]).toEqual([want.c, want.h, want.w]);
    assertClose(got.data, want.data, fireLabel(h, r), stats);
    return got;
  };

  describe('property', () => {
    const stats = new DiffStats(`${build} fire property`);
    afterAll(() => console.log(stats.toString()));

    it('matches referenceFire for random (in, s1x1, e1x1, e3x3, H, W), both expand orders, Winograd where it applies', () => {
      const arb = fc.record({
        c: arbChannels(40),
        h: arbSpatial(),
        w: arbSpatial(),
        s1x1: fc.oneof(fc.constantFrom(1, 3, 4, 7, 8, 12, 16), fc.integer({ min: 1, max: 16 })),
        e1x1: arbOutChannels(24),
        e3x3: fc.oneof(fc.constantFrom(4, 8, 12, 16, 20, 24), arbOutChannels(24)),
        order: fc.constantFrom('1x1-first' as const, '3x3-first' as const),
        winograd: fc.boolean(),
        shift: arbShift,
        seed: arbDataSeed,
      });
      assertProperty(
        fc.property(arb, (r) => void check(r, stats)),
        150,
      );
    });

    it('with a bypass (Section 6): simple adds the input (c = e1x1 + e3x3), complex a 1x1 convolution of it', () => {
      const arb = fc
        .record({
          e1x1: arbOutChannels(24),
          e3x3: arbOutChannels(24),
          inComplex: arbChannels(40),
          h: arbSpatial(),
          w: arbSpatial(),
          s1x1: fc.integer({ min: 1, max: 16 }),
          bypass: fc.constantFrom('simple' as const, 'complex' as const),
          order: fc.constantFrom('1x1-first' as const, '3x3-first' as const),
          shift: arbShift,
          seed: arbDataSeed,
        })
        .map(({ inComplex, ...r }) => ({ ...r, c: r.bypass === 'simple' ? r.e1x1 + r.e3x3 : inComplex }));
      assertProperty(
        fc.property(arb, (r) => void check(r, stats)),
        100,
      );
    });
  });

  describe('edge cases', () => {
    it('v1.0 fire2 (96, 16, 64, 64) on 13x11', () => void check({ c: 96, h: 13, w: 11, s1x1: 16, e1x1: 64, e3x3: 64, seed: 2 }));
    it('v1.1 fire9 (512, 64, 256, 256) on 3x3', () => void check({ c: 512, h: 3, w: 3, s1x1: 64, e1x1: 256, e3x3: 256, seed: 9 }));
    it('both slices misaligned: e1x1 and e3x3 in 1..9 (every tail on each side of the seam)', () => {
      for (let e1 = 1; e1 <= 9; e1++) for (const e3 of [1, 3, 5, 8, 9]) check({ c: 5, h: 3, w: 5, s1x1: 3, e1x1: e1, e3x3: e3, seed: e1 * 10 + e3 });
    });
    it('1x1 and 1xN spatial (the 3x3 branch sees only padding around one pixel or row)', () => {
      for (const [hh, ww] of [[1, 1], [1, 7], [5, 1]] as const) check({ c: 7, h: hh, w: ww, s1x1: 4, e1x1: 5, e3x3: 11, seed: hh + ww });
    });
    it('the expand order does not change a bit (the slices do not overlap), with and without Winograd', () => {
      for (const r of [
        { c: 17, h: 7, w: 9, s1x1: 7, e1x1: 13, e3x3: 6, seed: 4 },
        { c: 17, h: 7, w: 9, s1x1: 8, e1x1: 13, e3x3: 12, seed: 4 },
      ] satisfies FireCase[]) {
        const x = randomMap(r.c, r.h, r.w, r.seed);
        const a = run({ ...r, order: '1x1-first' }, x).got;
        const b = run({ ...r, order: '3x3-first' }, x).got;
        assertExact(a.data, b.data, `${h.build} fire order`, 'bits');
      }
    });
    it('v1.1 fire2 (64, 16, 64, 64) on 13x11 by Winograd and by im2col', () => {
      for (const winograd of [true, false]) check({ c: 64, h: 13, w: 11, s1x1: 16, e1x1: 64, e3x3: 64, seed: 12, winograd });
    });
    it('v1.0 fire3 with simple bypass (128, 16, 64, 64) and fire2 with complex bypass (96 -> 128) on 7x9', () => {
      check({ c: 128, h: 7, w: 9, s1x1: 16, e1x1: 64, e3x3: 64, seed: 3, bypass: 'simple' });
      check({ c: 96, h: 7, w: 9, s1x1: 16, e1x1: 64, e3x3: 64, seed: 4, bypass: 'complex' });
    });
    it('a wrong ldc shows: expand3x3 written one channel early fails the comparison', () => {
      const r: FireCase = { c: 4, h: 3, w: 3, s1x1: 2, e1x1: 3, e3x3: 5, seed: 6 };
      const { got, want } = run(r);
      const shifted = Float32Array.from(got.data);
      // channel e1x1 (first of the 3x3 slice) replaced by its neighbour, as a slice offset off by one would.
      shifted.copyWithin(r.e1x1 * 9, (r.e1x1 + 1) * 9, (r.e1x1 + 2) * 9);
      expect(() => assertClose(shifted, want.data, 'shifted slice')).toThrow(/exceeds/);
    });
  });
});
