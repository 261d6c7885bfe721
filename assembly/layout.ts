// Users and PyTorch hand in NCHW; the kernels work in NHWC, so channels are contiguous for SIMD.

export function f32_nchw_to_nhwc(src: usize, channels: i32, pixels: i32, dst: usize): void {
  for (let c = 0; c < channels; c++) {
    let s = src + ((<usize>c * <usize>pixels) << 2);
    let d = dst + ((<usize>c) << 2);
    const step = (<usize>channels) << 2;
    for (let p = 0; p < pixels; p++) {
      store<f32>(d, load<f32>(s));
      s += 4;
      d += step;
    }
  }
}
