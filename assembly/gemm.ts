// f32 GEMM micro-kernels, WebAssembly SIMD (the 1x1 convolutions, and every other convolution after im2col).
//
//   c[i][j] = max(bias[j] + sum_p a[i][p] * w[p][j], vmin)     for i < m, j < n
//
// a: m rows of k floats, row stride lda (an NHWC activation map, or im2col rows).
// w: packed once at load by f32_pack_gemm (assembly/pack.ts): for each block of 8 output channels,
//    8 biases then k rows of 8 weights, zero-padded past n. Bias rides with the weights as in XNNPACK.
// c: m rows, row stride ldc: a Fire expand branch writes its own channel slice of the concat buffer.
// relu != 0 clamps at 0 (pmax keeps NaN, as PyTorch's relu does).
// Tile: 4 rows x 8 channels = 8 accumulators; row tails re-point to the last valid row,
// column tails store 4, 2, 1 lanes. Multiply-add: vmuladd (assembly/simd.ts), fused in the relaxed build.

import { vmuladd } from "./simd";

export function f32_gemm_4x8(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32,
  w: usize,
  c: usize, ldc: i32,
  relu: i32,
): void {
  assert(m > 0 && n > 0 && k > 0);
  const vmin = relu != 0 ? f32x4.splat(0) : f32x4.splat(-Infinity);
  const aStride = (<usize>lda) << 2;
  const cStride = (<usize>ldc) << 2;
  const kBytes = (<usize>k) << 2;
  const wBlockBytes = (kBytes + 4) << 3;
  // Cache blocking: a panel of rows of a stays in L2 while a panel of packed weights stays in L1.
  const nc = max(8, (L1_BYTES / <i32>wBlockBytes) << 3);
  const mc = max(4, (L2_BYTES / <i32>kBytes) & ~3);
  for (let i0 = 0; i0 < m; i0 += mc) {
    const i1 = min(i0 + mc, m);
    for (let j0 = 0; j0 < n; j0 += nc) {
      const j1 = min(j0 + nc, n);
      tile4x8(i0, i1, j0, j1, m, n, kBytes, a, aStride, w + <usize>(j0 >> 3) * wBlockBytes, c, cStride, vmin);
    }
  }
}

const L1_BYTES: i32 = 24 * 1024;
const L2_BYTES: i32 = 192 * 1024;

// Rows [i0, i1) x columns [j0, j1) of c; w points at the packed block of column j0.
@inline
function tile4x8(
  i0: i32, i1: i32, j0: i32, j1: i32, m: i32, n: i32, kBytes: usize,
  a: usize, aStride: usize, w: usize, c: usize, cStride: usize, vmin: v128,
): void {
  for (let i = i0; i < i1; i += 4) {
    const a0 = a + <usize>i * aStride;
    const c0 = c + <usize>i * cStride;
    const a1 = i + 1 < m ? a0 + aStride : a0;
    const c1 = i + 1 < m ? c0 + cStride : c0;
    const a2 = i + 2 < m ? a1 + aStride : a1;
    const c2 = i + 2 < m ? c1 + cStride : c1;
    const a3 = i + 3 < m ? a2 + aStride : a2;
    const c3 = i + 3 < m ? c2 + cStride : c2;
    let wp = w;
    for (let j = j0; j < j1; j += 8) {
      let vacc0x0123 = v128.load(wp);
      let vacc0x4567 = v128.load(wp, 16);
      let vacc1x0123 = vacc0x0123;
      let vacc1x4567 = vacc0x4567;
      let vacc2x0123 = vacc0x0123;
      let vacc2x4567 = vacc0x4567;
      let vacc3x0123 = vacc0x0123;
      let vacc3x4567 = vacc0x4567;
      wp += 32;
      for (let p: usize = 0; p < kBytes; p += 4) {
        const vb0123 = v128.load(wp);
        const vb4567 = v128.load(wp, 16);
        wp += 32;
        const va0 = v128.load32_splat(a0 + p);
        const va1 = v128.load32_splat(a1 + p);
        const va2 = v128.load32_splat(a2 + p);
        const va3 = v128.load32_splat(a3 + p);
        vacc0x0123 = vmuladd(vacc0x0123, va0, vb0123);
        vacc0x4567 = vmuladd(vacc0x4567, va0, vb4567);
        vacc1x0123 = vmuladd(vacc1x0123, va1, vb0123);
        vacc1x4567 = vmuladd(vacc1x4567, va1, vb4567);
        vacc2x0123 = vmuladd(vacc2x0123, va2, vb0123);
        vacc2x4567 = vmuladd(vacc2x4567, va2, vb4567);
        vacc3x0123 = vmuladd(vacc3x0123, va3, vb0123);
        vacc3x4567 = vmuladd(vacc3x4567, va3, vb4567);
      }
      vacc0x0123 = f32x4.pmax(vacc0x0123, vmin);
      vacc0x4567 = f32x4.pmax(vacc0x4567, vmin);
      vacc1x0123 = f32x4.pmax(vacc1x0123, vmin);
      vacc1x4567 = f32x4.pmax(vacc1x4567, vmin);
      vacc2x0123 = f32x4.pmax(vacc2x0123, vmin);
      vacc2x4567 = f32x4.pmax(vacc2x4567, vmin);
      vacc3x0123 = f32x4.pmax(vacc3x0123, vmin);
      vacc3x4567 = f32x4.pmax(vacc3x4567, vmin);
      const cj = (<usize>j) << 2;
      const nc = n - j;
      if (nc >= 8) {
        v128.store(c3 + cj, vacc3x0123);
        v128.store(c3 + cj, vacc3x4567, 16);
        v128.store(c2 + cj, vacc2x0123);
        v128.store(c2 + cj, vacc2x4567, 16);
        v128.store(c1 + cj, vacc1x0123);
        v128.store(c1 + cj, vacc1x4567, 16);
        v128.store(c0 + cj, vacc0x0123);
        v128.store(c0 + cj, vacc0x4567, 16);
      } else {
        let off = cj;
        if (nc & 4) {
          v128.store(c3 + off, vacc3x0123);
          v128.store(c2 + off, vacc2x0123);
          v128.store(c1 + off, vacc1x0123);
          v128.store(c0 + off, vacc0x0123);
          vacc3x0123 = vacc3x4567;
          vacc2x0123 = vacc2x4567;
          vacc1x0123 = vacc1x4567;
          vacc0x0123 = vacc0x4567;
          off += 16;
        }
        if (nc & 2) {
          v128.store64_lane(c3 + off, vacc3x0123, 0);
          v128.store64_lane(c2 + off, vacc2x0123, 0);
          v128.store64_lane(c1 + off, vacc1x0123, 0);
          v128.store64_lane(c0 + off, vacc0x0123, 0);
          vacc3x0123 = f32x4.shuffle(vacc3x0123, vacc3x0123, 2, 3, 2, 3);
          vacc2x0123 = f32x4.shuffle(vacc2x0123, vacc2x0123, 2, 3, 2, 3);
          vacc1x0123 = f32x4.shuffle(vacc1x0123, vacc1x0123, 2, 3, 2, 3);
          vacc0x0123 = f32x4.shuffle(vacc0x0123, vacc0x0123, 2, 3, 2, 3);
          off += 8;
        }
        if (nc & 1) {
          v128.store32_lane(c3 + off, vacc3x0123, 0);
          v128.store32_lane(c2 + off, vacc2x0123, 0);
          v128.store32_lane(c1 + off, vacc1x0123, 0);
          v128.store32_lane(c0 + off, vacc0x0123, 0);
        }
      }
    }
  }
}
