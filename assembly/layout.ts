// Layout changes. Users and PyTorch hand in NCHW; the kernels work in NHWC, so channels are
// contiguous for SIMD: the input is transposed once (3 rows of height * width pixels). The sparse
// 1x1 convolution transposes an NHWC map back to channel-major (pixels rows of channels).

// dst[c][r] = src[r][c]: a rows x cols matrix to cols x rows.
export function f32_transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    let s = src + ((<usize>r * <usize>cols) << 2);
    let d = dst + ((<usize>r) << 2);
    const step = (<usize>rows) << 2;
    for (let c = 0; c < cols; c++) {
      store<f32>(d, load<f32>(s));
      s += 4;
      d += step;
    }
  }
}
