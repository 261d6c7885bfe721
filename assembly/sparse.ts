// Sparse 1x1 convolution: the weights of a pruned layer (Deep Compression's conv10 keeps 20 %) in
// CSR by output channel, so only the kept weights are multiplied. Tile 32x1 (XNNPACK's spmm
// naming: 32 pixels by 1 output channel per pass), then 4x1 and 1x1 for the pixel tails.
//
//   c[i][j] = max(bias[j] + sum_{q in row j} values[q] * xT[index[q]][i], vmin)   for i < m, j < n
//
// xT: the input map transposed to channel-major (k rows of m pixels, from f32_transpose), so
//     that one weight multiplies 4 neighbouring pixels in one f32x4.
// rows: n + 1 i32 offsets into index/values; index: i32 input channel of each kept weight.
// c: m rows, row stride ldc (NHWC): each output channel's pixels are scattered lane by lane.
// Pixel blocks of 32 keep 8 accumulators in registers; then blocks of 4, then single pixels.
// Multiply-adds as the dense GEMM does them (assembly/simd.ts), so both give the same bits.

import { muladd, vmuladd } from "./simd";

export function f32_spmm_32x1(
  m: i32, n: i32,
  xT: usize,
  rows: usize, index: usize, values: usize, bias: usize,
  c: usize, ldc: i32,
  relu: i32,
): void {
  assert(m > 0 && n > 0);
  const rowBytes = (<usize>m) << 2;
  const cStride = (<usize>ldc) << 2;
  const vzero = f32x4.splat(0);
  const vmin = relu != 0 ? vzero : f32x4.splat(-Infinity);
  const smin: f32 = relu != 0 ? 0 : -Infinity;
  for (let j = 0; j < n; j++) {
    const q0 = load<i32>(rows + ((<usize>j) << 2));
    const q1 = load<i32>(rows + ((<usize>j + 1) << 2));
    const b = load<f32>(bias + ((<usize>j) << 2));
    const vb = f32x4.splat(b);
    const cj = c + ((<usize>j) << 2);
    let i = 0;
    for (; i + 32 <= m; i += 32) {
      const xi = xT + ((<usize>i) << 2);
      let v0 = vb, v1 = vb, v2 = vb, v3 = vb, v4 = vb, v5 = vb, v6 = vb, v7 = vb;
      for (let q = q0; q < q1; q++) {
        const vw = v128.load32_splat(values + ((<usize>q) << 2));
        const x = xi + <usize>load<i32>(index + ((<usize>q) << 2)) * rowBytes;
        v0 = vmuladd(v0, vw, v128.load(x));
        v1 = vmuladd(v1, vw, v128.load(x, 16));
        v2 = vmuladd(v2, vw, v128.load(x, 32));
        v3 = vmuladd(v3, vw, v128.load(x, 48));
        v4 = vmuladd(v4, vw, v128.load(x, 64));
        v5 = vmuladd(v5, vw, v128.load(x, 80));
        v6 = vmuladd(v6, vw, v128.load(x, 96));
        v7 = vmuladd(v7, vw, v128.load(x, 112));
      }
      const ci = cj + <usize>i * cStride;
      scatter4(ci, cStride, f32x4.pmax(v0, vmin));
      scatter4(ci + 4 * cStride, cStride, f32x4.pmax(v1, vmin));
      scatter4(ci + 8 * cStride, cStride, f32x4.pmax(v2, vmin));
      scatter4(ci + 12 * cStride, cStride, f32x4.pmax(v3, vmin));
      scatter4(ci + 16 * cStride, cStride, f32x4.pmax(v4, vmin));
      scatter4(ci + 20 * cStride, cStride, f32x4.pmax(v5, vmin));
      scatter4(ci + 24 * cStride, cStride, f32x4.pmax(v6, vmin));
      scatter4(ci + 28 * cStride, cStride, f32x4.pmax(v7, vmin));
    }
    for (; i + 4 <= m; i += 4) {
      const xi = xT + ((<usize>i) << 2);
      let v0 = vb;
      for (let q = q0; q < q1; q++) {
        const vw = v128.load32_splat(values + ((<usize>q) << 2));
        v0 = vmuladd(v0, vw, v128.load(xi + <usize>load<i32>(index + ((<usize>q) << 2)) * rowBytes));
      }
      scatter4(cj + <usize>i * cStride, cStride, f32x4.pmax(v0, vmin));
    }
    for (; i < m; i++) {
      const xi = xT + ((<usize>i) << 2);
      let s = b;
      for (let q = q0; q < q1; q++) {
        s = muladd(s, load<f32>(values + ((<usize>q) << 2)), load<f32>(xi + <usize>load<i32>(index + ((<usize>q) << 2)) * rowBytes));
      }
      // as pmax: NaN stays NaN under ReLU
      store<f32>(cj + <usize>i * cStride, s < smin ? smin : s);
    }
  }
}

@inline
function scatter4(c: usize, stride: usize, v: v128): void {
  v128.store32_lane(c, v, 0);
  v128.store32_lane(c + stride, v, 1);
  v128.store32_lane(c + 2 * stride, v, 2);
  v128.store32_lane(c + 3 * stride, v, 3);
}
