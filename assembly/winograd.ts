// Winograd F(2x2, 3x3) for the 3x3 / stride 1 / pad 1 expand convolutions, NHWC, 4 channels per
// v128. Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2015): each 2x2 output
// tile costs 16 multiplies per channel pair instead of 36. The 16 products are 16 GEMMs over tiles
// (f32_gemm_4x8 with weights transformed and packed at load); these kernels do the transforms.
//   input:  V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   output: Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1]

// v[xi][tile][c] for xi = 4 * row + column of the transformed 4x4 tile; channels % 4 == 0.
// Tile rows [ty0, ty1) of the tilesH x tilesW tiles (any split of the rows gives the same bits:
// threads each take a range).
export function f32_winograd23_input_nhwc(
  input: usize, height: i32, width: i32, channels: i32,
  tilesH: i32, tilesW: i32, ty0: i32, ty1: i32,
  v: usize,
): void {
  assert(channels > 0 && (channels & 3) == 0 && 0 <= ty0 && ty0 <= ty1 && ty1 <= tilesH);
  const pixelBytes = (<usize>channels) << 2;
  const rowBytes = <usize>width * pixelBytes;
  const tiles = tilesH * tilesW;
  const planeBytes = <usize>tiles * pixelBytes;
  const zero = f32x4.splat(0);
  for (let ty = ty0; ty < ty1; ty++) {
    const y0 = 2 * ty - 1;
    const r0 = <u32>y0 < <u32>height;
    const r1 = <u32>(y0 + 1) < <u32>height;
    const r2 = <u32>(y0 + 2) < <u32>height;
    const r3 = <u32>(y0 + 3) < <u32>height;
    for (let tx = 0; tx < tilesW; tx++) {
      const x0 = 2 * tx - 1;
      const q0 = <u32>x0 < <u32>width;
      const q1 = <u32>(x0 + 1) < <u32>width;
      const q2 = <u32>(x0 + 2) < <u32>width;
      const q3 = <u32>(x0 + 3) < <u32>width;
      const base = input + <usize>y0 * rowBytes + <usize>x0 * pixelBytes;
      let dst = v + <usize>(ty * tilesW + tx) * pixelBytes;
      for (let c: usize = 0; c < pixelBytes; c += 16) {
        const p = base + c;
        const d00 = r0 && q0 ? v128.load(p) : zero;
        const d01 = r0 && q1 ? v128.load(p + pixelBytes) : zero;
        const d02 = r0 && q2 ? v128.load(p + 2 * pixelBytes) : zero;
        const d03 = r0 && q3 ? v128.load(p + 3 * pixelBytes) : zero;
        const p1 = p + rowBytes;
        const d10 = r1 && q0 ? v128.load(p1) : zero;
        const d11 = r1 && q1 ? v128.load(p1 + pixelBytes) : zero;
        const d12 = r1 && q2 ? v128.load(p1 + 2 * pixelBytes) : zero;
        const d13 = r1 && q3 ? v128.load(p1 + 3 * pixelBytes) : zero;
        const p2 = p1 + rowBytes;
        const d20 = r2 && q0 ? v128.load(p2) : zero;
        const d21 = r2 && q1 ? v128.load(p2 + pixelBytes) : zero;
        const d22 = r2 && q2 ? v128.load(p2 + 2 * pixelBytes) : zero;
        const d23 = r2 && q3 ? v128.load(p2 + 3 * pixelBytes) : zero;
        const p3 = p2 + rowBytes;
        const d30 = r3 && q0 ? v128.load(p3) : zero;
        const d31 = r3 && q1 ? v128.load(p3 + pixelBytes) : zero;
        const d32 = r3 && q2 ? v128.load(p3 + 2 * pixelBytes) : zero;
        const d33 = r3 && q3 ? v128.load(p3 + 3 * pixelBytes) : zero;
        // t = B^T d, column by column
        const t00 = f32x4.sub(d00, d20); const t01 = f32x4.sub(d01, d21);
        const t02 = f32x4.sub(d02, d22); const t03 = f32x4.sub(d03, d23);
        const t10 = f32x4.add(d10, d20); const t11 = f32x4.add(d11, d21);
        const t12 = f32x4.add(d12, d22); const t13 = f32x4.add(d13, d23);
        const t20 = f32x4.sub(d20, d10); const t21 = f32x4.sub(d21, d11);
        const t22 = f32x4.sub(d22, d12); const t23 = f32x4.sub(d23, d13);
        const t30 = f32x4.sub(d10, d30); const t31 = f32x4.sub(d11, d31);
        const t32 = f32x4.sub(d12, d32); const t33 = f32x4.sub(d13, d33);
        // v = t B, row by row
        let o = dst + c;
        v128.store(o, f32x4.sub(t00, t02)); o += planeBytes;
        v128.store(o, f32x4.add(t01, t02)); o += planeBytes;
        v128.store(o, f32x4.sub(t02, t01)); o += planeBytes;
        v128.store(o, f32x4.sub(t01, t03)); o += planeBytes;
        v128.store(o, f32x4.sub(t10, t12)); o += planeBytes;
        v128.store(o, f32x4.add(t11, t12)); o += planeBytes;
        v128.store(o, f32x4.sub(t12, t11)); o += planeBytes;
        v128.store(o, f32x4.sub(t11, t13)); o += planeBytes;
        v128.store(o, f32x4.sub(t20, t22)); o += planeBytes;
        v128.store(o, f32x4.add(t21, t22)); o += planeBytes;
        v128.store(o, f32x4.sub(t22, t21)); o += planeBytes;
        v128.store(o, f32x4.sub(t21, t23)); o += planeBytes;
        v128.store(o, f32x4.sub(t30, t32)); o += planeBytes;
        v128.store(o, f32x4.add(t31, t32)); o += planeBytes;
        v128.store(o, f32x4.sub(t32, t31)); o += planeBytes;
        v128.store(o, f32x4.sub(t31, t33));
      }
    }
  }
}

// m[xi][tile][k] (the 16 GEMM products) -> output pixels, + bias, ReLU when relu != 0.
// Writes channels [0, outChannels) of each output pixel at row stride ldc; outChannels % 4 == 0.
// Tile rows [ty0, ty1) (output rows 2 * ty0 up to 2 * ty1), as the input transform.
export function f32_winograd23_output_nhwc(
  m: usize, tilesH: i32, tilesW: i32, ty0: i32, ty1: i32, outChannels: i32,
  bias: usize,
  output: usize, height: i32, width: i32, ldc: i32,
  relu: i32,
): void {
  assert(outChannels > 0 && (outChannels & 3) == 0 && 0 <= ty0 && ty0 <= ty1 && ty1 <= tilesH);
  const vmin = relu != 0 ? f32x4.splat(0) : f32x4.splat(-Infinity);
  const kBytes = (<usize>outChannels) << 2;
  const planeBytes = <usize>(tilesH * tilesW) * kBytes;
  const pixelBytes = (<usize>ldc) << 2;
  const rowBytes = <usize>width * pixelBytes;
  for (let ty = ty0; ty < ty1; ty++) {
    const y = 2 * ty;
    const row1 = y + 1 < height;
    for (let tx = 0; tx < tilesW; tx++) {
      const x = 2 * tx;
      const col1 = x + 1 < width;
      const src = m + <usize>(ty * tilesW + tx) * kBytes;
      const out = output + <usize>y * rowBytes + <usize>x * pixelBytes;
      for (let k: usize = 0; k < kBytes; k += 16) {
        let s = src + k;
        const m00 = v128.load(s); s += planeBytes;
        const m01 = v128.load(s); s += planeBytes;
        const m02 = v128.load(s); s += planeBytes;
        const m03 = v128.load(s); s += planeBytes;
        const m10 = v128.load(s); s += planeBytes;
        const m11 = v128.load(s); s += planeBytes;
        const m12 = v128.load(s); s += planeBytes;
        const m13 = v128.load(s); s += planeBytes;
        const m20 = v128.load(s); s += planeBytes;
        const m21 = v128.load(s); s += planeBytes;
        const m22 = v128.load(s); s += planeBytes;
        const m23 = v128.load(s); s += planeBytes;
        const m30 = v128.load(s); s += planeBytes;
        const m31 = v128.load(s); s += planeBytes;
        const m32 = v128.load(s); s += planeBytes;
        const m33 = v128.load(s);
        // s = A^T m: two rows
        const a0 = f32x4.add(f32x4.add(m00, m10), m20);
        const a1 = f32x4.add(f32x4.add(m01, m11), m21);
        const a2 = f32x4.add(f32x4.add(m02, m12), m22);
        const a3 = f32x4.add(f32x4.add(m03, m13), m23);
        const b0 = f32x4.sub(f32x4.sub(m10, m20), m30);
        const b1 = f32x4.sub(f32x4.sub(m11, m21), m31);
        const b2 = f32x4.sub(f32x4.sub(m12, m22), m32);
        const b3 = f32x4.sub(f32x4.sub(m13, m23), m33);
        const vb = v128.load(bias + k);
        // y = s A + bias
        v128.store(out + k, f32x4.pmax(f32x4.add(f32x4.add(f32x4.add(a0, a1), a2), vb), vmin));
        if (col1) v128.store(out + pixelBytes + k, f32x4.pmax(f32x4.add(f32x4.sub(f32x4.sub(a1, a2), a3), vb), vmin));
        if (row1) {
          v128.store(out + rowBytes + k, f32x4.pmax(f32x4.add(f32x4.add(f32x4.add(b0, b1), b2), vb), vmin));
          if (col1) v128.store(out + rowBytes + pixelBytes + k, f32x4.pmax(f32x4.add(f32x4.sub(f32x4.sub(b1, b2), b3), vb), vmin));
        }
      }
    }
  }
}
