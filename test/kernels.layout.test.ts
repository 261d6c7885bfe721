// f32_transpose: NCHW to NHWC for the network input, NHWC to channel-major for the sparse 1x1,
// against the plain TS transpose, bit for bit.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { BUILDS, FC_SEED, KernelHarness, arbChannels, arbDataSeed, arbShift, arbSpatial, assertExact,
  assertProperty, randomArray, randomMap, sprinkleSpecials, toNHWC } from './kernel-harness.js';

console.log(`kernels.layout: fast-check seed ${FC_SEED} (FC_SEED to change)`);

describe.each(BUILDS)('f32_transpose (%s build)', (build) => {
  let h: KernelHarness;
  beforeAll(async () => {
    h = await KernelHarness.create(build);
  });

  it('property: NCHW to NHWC (rows = channels, cols = pixels) equals the TS transpose bit for bit', () => {
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
        assertExact(h.transpose(x.data, r.c, r.h * r.w, r.shift), toNHWC(x), `${build} transpose ${JSON.stringify(r)}`, 'bits');
      }),
      200,
    );
  });

  it('the network input: 3 x 227 x 227', () => {
    const x = randomMap(3, 227, 227, 5);
    assertExact(h.transpose(x.data, 3, 227 * 227, 1), toNHWC(x), `${build} 3x227x227`, 'bits');
  });

  it('property: transposing back (what the sparse 1x1 does to an NHWC map) gives the matrix again, bit for bit', () => {
    const arb = fc.record({ rows: fc.integer({ min: 1, max: 300 }), cols: arbChannels(40), shift: arbShift, seed: arbDataSeed });
    assertProperty(
      fc.property(arb, (r) => {
        const m = randomArray(r.rows * r.cols, r.seed);
        const t = h.transpose(m, r.rows, r.cols, r.shift);
        for (let i = 0; i < r.rows; i++) {
          for (let j = 0; j < r.cols; j++) {
            if (!Object.is(t[j * r.rows + i], m[i * r.cols + j])) throw new Error(`${build} transpose ${JSON.stringify(r)}: [${j}][${i}] is ${t[j * r.rows + i]}`);
          }
        }
        assertExact(h.transpose(t, r.cols, r.rows, (r.shift + 1) % 4), m, `${build} transpose twice ${JSON.stringify(r)}`, 'bits');
      }),
      100,
    );
  });
});
