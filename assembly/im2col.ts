// im2col for NHWC maps: one row per output pixel, ordered [ky][kx][c], so each tap is a
// contiguous copy of the pixel's channels (zeros where the window hangs over the padding).
// The rows feed f32_gemm_4x8 with k = kh * kw * channels.

export function f32_im2col_nhwc(
  input: usize, height: i32, width: i32, channels: i32,
  kh: i32, kw: i32, stride: i32, pad: i32,
  outHeight: i32, outWidth: i32,
  cols: usize,
): void {
  f32_im2col_nhwc_rows(input, height, width, channels, kh, kw, stride, pad, 0, outHeight, outWidth, cols);
}

// Output rows [oy0, oy1) only, written from cols onwards: the model lowers a large convolution
// band by band so that the rows it has just written are still in cache when the GEMM reads them.
export function f32_im2col_nhwc_rows(
  input: usize, height: i32, width: i32, channels: i32,
  kh: i32, kw: i32, stride: i32, pad: i32,
  oy0: i32, oy1: i32, outWidth: i32,
  cols: usize,
): void {
  assert(channels > 0 && kh > 0 && kw > 0 && stride > 0 && pad >= 0 && oy0 >= 0);
  const tapBytes = (<usize>channels) << 2;
  const rowStride = (<usize>width) * tapBytes;
  let dst = cols;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * stride - pad;
    for (let ox = 0; ox < outWidth; ox++) {
      const ix0 = ox * stride - pad;
      for (let ky = 0; ky < kh; ky++) {
        const iy = iy0 + ky;
        if (<u32>iy >= <u32>height) {
          memory.fill(dst, 0, tapBytes * <usize>kw);
          dst += tapBytes * <usize>kw;
          continue;
        }
        const srcRow = input + <usize>iy * rowStride;
        if (ix0 >= 0 && ix0 + kw <= width) {
          // the whole row of taps is one contiguous run of kw pixels
          copyTap(dst, srcRow + <usize>ix0 * tapBytes, tapBytes * <usize>kw);
          dst += tapBytes * <usize>kw;
          continue;
        }
        for (let kx = 0; kx < kw; kx++) {
          const ix = ix0 + kx;
          if (<u32>ix >= <u32>width) {
            memory.fill(dst, 0, tapBytes);
          } else {
            copyTap(dst, srcRow + <usize>ix * tapBytes, tapBytes);
          }
          dst += tapBytes;
        }
      }
    }
  }
}

// memory.copy is a call into the engine; short runs (conv1 has 3 channels) are cheaper as moves.
@inline
function copyTap(dst: usize, src: usize, bytes: usize): void {
  if (bytes > 512) {
    memory.copy(dst, src, bytes);
    return;
  }
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}
