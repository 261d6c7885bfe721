// The per-layer API (src/ops.ts) against plain loops on random awkward shapes (fast-check, seeded:
// FC_SEED): batch 1 to 3, any channels, windows, strides and pads (asymmetric), ceil and floor,
// count_include_pad both ways; convolutions of every method the engine picks (sparse weights,
// channels in fours for Winograd, 1x1 with and without padding). The loops below are written from
// PyTorch's definitions (aten/src/ATen/native: the output size of pooling_output_shape, the
// divisor of avg_pool2d) with ONNX's pads, not from the kernels.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseConvMethod, type ConvMethod } from '../src/conv.js';
import { createOps, type Ops, type OpTensor } from '../src/index.js';
import { seededRandom } from './helpers.js';
import { assertProperty } from './kernel-harness.js';

type Pads4 = [number, number, number, number];

function randomTensor(shape: number[], seed: number, sparsity = 0): OpTensor {
  const rand = seededRandom(seed);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() < sparsity ? 0 : rand() * 4 - 2));
  return { data, shape };
}

/** PyTorch's pooling_output_shape with ONNX pads: ceil mode drops a window starting past the input and its leading pad. */
function poolOut(size: number, k: number, s: number, begin: number, end: number, ceil: boolean): number {
  const span = size + begin + end - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + begin) out--;
  return out;
}

interface PoolCase {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pads: Pads4;
  ceil: boolean;
  include: boolean;
  seed: number;
}

/** Max or average pooling in plain loops, float32 sums in window order (y, then x) as PyTorch's CPU kernel. */
function referencePool(kind: 'max' | 'avg', x: OpTensor, r: PoolCase): OpTensor {
  const [top, left, bottom, right] = r.pads;
  const oh = poolOut(r.h, r.kh, r.sh, top, bottom, r.ceil);
  const ow = poolOut(r.w, r.kw, r.sw, left, right, r.ceil);
  const out = new Float32Array(r.n * r.c * oh * ow);
  let o = 0;
  for (let n = 0; n < r.n; n++) {
    for (let c = 0; c < r.c; c++) {
      const plane = (n * r.c + c) * r.h * r.w;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const wy0 = i * r.sh - top;
          const wx0 = j * r.sw - left;
          const wy1 = Math.min(wy0 + r.kh, r.h + bottom);
          const wx1 = Math.min(wx0 + r.kw, r.w + right);
          const [y0, y1, x0, x1] = [Math.max(wy0, 0), Math.min(wy1, r.h), Math.max(wx0, 0), Math.min(wx1, r.w)];
          let acc = kind === 'max' ? -Infinity : 0;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const v = x.data[plane + y * r.w + xx]!;
              acc = kind === 'max' ? Math.max(acc, v) : Math.fround(acc + v);
            }
          }
          const count = r.include ? (wy1 - wy0) * (wx1 - wx0) : (y1 - y0) * (x1 - x0);
          out[o++] = kind === 'max' ? acc : Math.fround(acc / count);
        }
      }
    }
  }
  return { data: out, shape: [r.n, r.c, oh, ow] };
}

interface ConvCase {
  n: number;
  c: number;
  o: number;
  h: number;
  w: number;
  k: number;
  s: number;
  pads: Pads4;
  relu: boolean;
  sparse: boolean;
  seed: number;
}

/** Convolution with zero padding in float64 sums. */
function referenceConv(x: OpTensor, wt: OpTensor, b: Float32Array, r: ConvCase): OpTensor {
  const [top, left, bottom, right] = r.pads;
  const oh = Math.floor((r.h + top + bottom - r.k) / r.s) + 1;
  const ow = Math.floor((r.w + left + right - r.k) / r.s) + 1;
  const out = new Float32Array(r.n * r.o * oh * ow);
  let q = 0;
  for (let n = 0; n < r.n; n++) {
    for (let o = 0; o < r.o; o++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let acc = b[o]!;
          for (let c = 0; c < r.c; c++) {
            for (let ky = 0; ky < r.k; ky++) {
              const y = i * r.s - top + ky;
              if (y < 0 || y >= r.h) continue;
              for (let kx = 0; kx < r.k; kx++) {
                const xx = j * r.s - left + kx;
                if (xx < 0 || xx >= r.w) continue;
                acc += x.data[((n * r.c + c) * r.h + y) * r.w + xx]! * wt.data[((o * r.c + c) * r.k + ky) * r.k + kx]!;
              }
            }
          }
          out[q++] = r.relu ? Math.max(0, acc) : acc;
        }
      }
    }
  }
  return { data: out, shape: [r.n, r.o, oh, ow] };
}

const arbPool = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.oneof(fc.constantFrom(1, 3, 7, 17), fc.integer({ min: 1, max: 12 })),
    kh: fc.integer({ min: 1, max: 5 }),
    kw: fc.integer({ min: 1, max: 5 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    padSeed: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    dh: fc.integer({ min: 0, max: 9 }),
    dw: fc.integer({ min: 0, max: 9 }),
    ceil: fc.boolean(),
    include: fc.boolean(),
    seed: fc.nat(),
  })
  .map(({ padSeed, dh, dw, ...r }) => {
    const halfH = Math.floor(r.kh / 2);
    const halfW = Math.floor(r.kw / 2);
    const pads: Pads4 = [padSeed[0]! % (halfH + 1), padSeed[1]! % (halfW + 1), padSeed[2]! % (halfH + 1), padSeed[3]! % (halfW + 1)];
    return { ...r, pads, h: Math.max(1, r.kh - pads[0] - pads[2]) + dh, w: Math.max(1, r.kw - pads[1] - pads[3]) + dw };
  });

const arbAnyConv = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.oneof(fc.constantFrom(1, 3, 4, 7, 8, 17), fc.integer({ min: 1, max: 12 })),
    o: fc.oneof(fc.constantFrom(1, 4, 8, 12), fc.integer({ min: 1, max: 12 })),
    k: fc.constantFrom(1, 1, 2, 3, 3, 5),
    s: fc.constantFrom(1, 1, 2, 3),
    symmetric: fc.boolean(),
    padSeed: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
    dh: fc.integer({ min: 0, max: 8 }),
    dw: fc.integer({ min: 0, max: 8 }),
    relu: fc.boolean(),
    sparse: fc.boolean(),
    seed: fc.nat(),
  })
  .map(({ symmetric, padSeed, dh, dw, ...r }) => {
    const pads: Pads4 = symmetric ? [padSeed[0]!, padSeed[0]!, padSeed[0]!, padSeed[0]!] : (padSeed as Pads4);
    return { ...r, pads, h: Math.max(1, r.k - pads[0] - pads[2]) + dh, w: Math.max(1, r.k - pads[1] - pads[3]) + dw };
  });

// Winograd F(2x2, 3x3) runs 3x3 / 1 / pad 1 with channels in fours only: a third of the cases.
const arbWinogradConv = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  c: fc.constantFrom(4, 8, 16),
  o: fc.constantFrom(4, 8, 12),
  k: fc.constant(3),
  s: fc.constant(1),
  pads: fc.constant<Pads4>([1, 1, 1, 1]),
  h: fc.integer({ min: 1, max: 10 }),
  w: fc.integer({ min: 1, max: 10 }),
  relu: fc.boolean(),
  sparse: fc.constant(false),
  seed: fc.nat(),
});

const arbConv = fc.oneof({ arbitrary: arbAnyConv, weight: 2 }, { arbitrary: arbWinogradConv, weight: 1 });

describe('the per-layer API against plain loops (fast-check)', () => {
  let ops: Ops;
  beforeAll(async () => {
    ops = await createOps();
  });
  afterAll(() => ops?.dispose());

  for (const kind of ['max', 'avg'] as const) {
    it(`${kind}Pool2d: any window, strides, pads (asymmetric), ceil or floor${kind === 'avg' ? ', count_include_pad either way' : ''}: bit for bit`, () => {
      assertProperty(
        fc.property(arbPool, (r) => {
          const x = randomTensor([r.n, r.c, r.h, r.w], r.seed);
          const options = { kernel: [r.kh, r.kw] as [number, number], stride: [r.sh, r.sw] as [number, number], pads: r.pads, ceil: r.ceil };
          const got = kind === 'max' ? ops.maxPool2d(x, options) : ops.avgPool2d(x, { ...options, countIncludePad: r.include });
          const want = referencePool(kind, x, kind === 'max' ? { ...r, include: false } : r);
          expect(got.shape).toEqual(want.shape);
          expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer)), JSON.stringify(r)).toBe(true);
        }),
        300,
      );
    });
  }

  it('conv2d: any channels, kernel, stride and pads, sparse or dense weights, every method: within 1e-5 of the largest output', () => {
    let worst = 0;
    const seen = new Map<ConvMethod, number>();
    assertProperty(
      fc.property(arbConv, (r) => {
        const x = randomTensor([r.n, r.c, r.h, r.w], r.seed);
        const w = randomTensor([r.o, r.c, r.k, r.k], r.seed + 1, r.sparse ? 0.8 : 0);
        const b = randomTensor([r.o], r.seed + 2).data;
        const got = ops.conv2d(x, w, b, { stride: r.s, pads: r.pads, relu: r.relu });
        // the method src/conv.ts picks (unequal pads are applied to the input first: pad 0 there)
        const pad = r.pads.every((p) => p === r.pads[0]) ? r.pads[0] : 0;
        const method = chooseConvMethod({ inC: r.c, outC: r.o, kernel: r.k, stride: r.s, pad }, w.data);
        seen.set(method, (seen.get(method) ?? 0) + 1);
        const want = referenceConv(x, w, b, r);
        expect(got.shape).toEqual(want.shape);
        let diff = 0;
        let max = 0;
        for (let i = 0; i < want.data.length; i++) {
          diff = Math.max(diff, Math.abs(got.data[i]! - want.data[i]!));
          max = Math.max(max, Math.abs(want.data[i]!));
        }
        worst = Math.max(worst, diff / Math.max(max, 1));
        expect(diff, JSON.stringify(r)).toBeLessThanOrEqual(1e-5 * Math.max(max, 1));
      }),
      300,
    );
    console.log(`conv2d property: worst |ours - loops| / max(1, max|loops|) = ${worst.toExponential(2)}; cases by method ${JSON.stringify(Object.fromEntries(seen))}`);
    expect([...seen.keys()].sort()).toEqual(['gemm1x1', 'im2col', 'padded1x1', 'sparse', 'winograd']);
  });

  it('globalAvgPool2d is the mean, relu the max with 0, concat the pieces in order', () => {
    assertProperty(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (n, c, h, w, seed) => {
        const x = randomTensor([n, c, h, w], seed);
        const g = ops.globalAvgPool2d(x);
        expect(g.shape).toEqual([n, c, 1, 1]);
        for (let p = 0; p < n * c; p++) {
          let sum = 0;
          for (let i = 0; i < h * w; i++) sum += x.data[p * h * w + i]!;
          expect(Math.abs(g.data[p]! - sum / (h * w))).toBeLessThanOrEqual(1e-6 * 2);
        }
        const r = ops.relu(x);
        expect(Array.from(r.data)).toEqual(Array.from(x.data, (v) => (v < 0 ? 0 : v)));
        const y = randomTensor([n, 3, h, w], seed + 1);
        const cat = ops.concat([x, y], 1);
        expect(cat.shape).toEqual([n, c + 3, h, w]);
        for (let i = 0; i < n; i++) {
          expect(Array.from(cat.data.subarray(i * (c + 3) * h * w, i * (c + 3) * h * w + c * h * w))).toEqual(Array.from(x.data.subarray(i * c * h * w, (i + 1) * c * h * w)));
        }
      }),
      100,
    );
  });
});
