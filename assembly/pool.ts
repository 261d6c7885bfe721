// Pooling over NHWC maps, vectorised across channels.

// Max pooling with a square window, the network's own (Caffe/PyTorch ceil_mode rounds the output
// size up; the caller picks it): f32_maxpool2d_nhwc with equal sides, strides and pads.
export function f32_maxpool_nhwc(
  input: usize, height: i32, width: i32, channels: i32,
  size: i32, stride: i32, pad: i32,
  outHeight: i32, outWidth: i32,
  output: usize,
): void {
  assert(channels > 0 && size > 0 && stride > 0 && pad >= 0 && pad * 2 <= size);
  f32_maxpool2d_nhwc(input, height, width, channels, size, size, stride, stride, pad, pad, outHeight, outWidth, output);
}

// Global average pooling: output[c] = mean over all pixels of input[.][c].
export function f32_global_avgpool_nhwc(input: usize, pixels: i32, channels: i32, output: usize): void {
  assert(pixels > 0 && channels > 0);
  const pixelBytes = (<usize>channels) << 2;
  const scale = <f32>1.0 / <f32>pixels;
  const vscale = f32x4.splat(scale);
  const c4 = channels & ~3;
  let c = 0;
  for (; c < c4; c += 4) {
    const cb = (<usize>c) << 2;
    let vsum = f32x4.splat(0);
    let src = input + cb;
    for (let p = 0; p < pixels; p++) {
      vsum = f32x4.add(vsum, v128.load(src));
      src += pixelBytes;
    }
    v128.store(output + cb, f32x4.mul(vsum, vscale));
  }
  for (; c < channels; c++) {
    const cb = (<usize>c) << 2;
    let sum: f32 = 0;
    let src = input + cb;
    for (let p = 0; p < pixels; p++) {
      sum += load<f32>(src);
      src += pixelBytes;
    }
    store<f32>(output + cb, sum * scale);
  }
}

// Max pooling with any window (kh x kw), strides and top/left padding, for the per-layer API
// (src/ops.ts): windows are clipped to the input, so padding never wins (as ONNX's -inf pads);
// the caller picks the output size and keeps every window on at least one input pixel. A NaN in
// a window wins it, as in torch.max_pool2d.
export function f32_maxpool2d_nhwc(
  input: usize, height: i32, width: i32, channels: i32,
  kh: i32, kw: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  outHeight: i32, outWidth: i32,
  output: usize,
): void {
  assert(channels > 0 && kh > 0 && kw > 0 && strideH > 0 && strideW > 0 && padTop >= 0 && padLeft >= 0);
  const pixelBytes = (<usize>channels) << 2;
  const rowStride = (<usize>width) * pixelBytes;
  const c4 = channels & ~3;
  let dst = output;
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = max(oy * strideH - padTop, 0);
    const y1 = min(oy * strideH - padTop + kh, height);
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = max(ox * strideW - padLeft, 0);
      const x1 = min(ox * strideW - padLeft + kw, width);
      assert(y0 < y1 && x0 < x1);
      const first = input + <usize>y0 * rowStride + <usize>x0 * pixelBytes;
      let c = 0;
      // pmax is one instruction where f32x4.max's NaN rules take several on x86; NaN is tracked
      // on the side and put back, so a NaN still wins its window as in torch.max_pool2d.
      for (; c < c4; c += 4) {
        const cb = (<usize>c) << 2;
        let vmax = v128.load(first + cb);
        let vnan = f32x4.ne(vmax, vmax);
        for (let y = y0; y < y1; y++) {
          const row = input + <usize>y * rowStride + cb;
          for (let x = x0; x < x1; x++) {
            const v = v128.load(row + <usize>x * pixelBytes);
            vmax = f32x4.pmax(vmax, v);
            vnan = v128.or(vnan, f32x4.ne(v, v));
          }
        }
        v128.store(dst + cb, v128.bitselect(f32x4.splat(NaN), vmax, vnan));
      }
      for (; c < channels; c++) {
        const cb = (<usize>c) << 2;
        let m = load<f32>(first + cb);
        for (let y = y0; y < y1; y++) {
          const row = input + <usize>y * rowStride + cb;
          for (let x = x0; x < x1; x++) {
            const v = load<f32>(row + <usize>x * pixelBytes);
            m = v > m || isNaN(v) ? v : m;
          }
        }
        store<f32>(dst + cb, m);
      }
      dst += pixelBytes;
    }
  }
}

// Average pooling with any window, strides and padding (top, left, bottom, right), for the
// per-layer API (src/ops.ts). Each window sums the input pixels it covers; the divisor is, as in
// PyTorch's avg_pool2d (aten/src/ATen/native/AveragePool2d.cpp), the window clipped to the padded
// input when countIncludePad != 0 (padding counts as zeros; a ceil-mode window hanging past the
// bottom or right padding does not count what lies beyond), else the input pixels it covers.
// The sum is divided by the count, as PyTorch does. The caller picks the output size and keeps
// every window on at least one input pixel.
export function f32_avgpool2d_nhwc(
  input: usize, height: i32, width: i32, channels: i32,
  kh: i32, kw: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, padBottom: i32, padRight: i32, countIncludePad: i32,
  outHeight: i32, outWidth: i32,
  output: usize,
): void {
  assert(channels > 0 && kh > 0 && kw > 0 && strideH > 0 && strideW > 0);
  assert(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0);
  const pixelBytes = (<usize>channels) << 2;
  const rowStride = (<usize>width) * pixelBytes;
  const c4 = channels & ~3;
  let dst = output;
  for (let oy = 0; oy < outHeight; oy++) {
    const wy0 = oy * strideH - padTop;
    const wy1 = min(wy0 + kh, height + padBottom);
    const y0 = max(wy0, 0);
    const y1 = min(wy1, height);
    for (let ox = 0; ox < outWidth; ox++) {
      const wx0 = ox * strideW - padLeft;
      const wx1 = min(wx0 + kw, width + padRight);
      const x0 = max(wx0, 0);
      const x1 = min(wx1, width);
      assert(y0 < y1 && x0 < x1);
      const count = <f32>(countIncludePad != 0 ? (wy1 - wy0) * (wx1 - wx0) : (y1 - y0) * (x1 - x0));
      const vcount = f32x4.splat(count);
      let c = 0;
      for (; c < c4; c += 4) {
        const cb = (<usize>c) << 2;
        let vsum = f32x4.splat(0);
        for (let y = y0; y < y1; y++) {
          const row = input + <usize>y * rowStride + cb;
          for (let x = x0; x < x1; x++) vsum = f32x4.add(vsum, v128.load(row + <usize>x * pixelBytes));
        }
        v128.store(dst + cb, f32x4.div(vsum, vcount));
      }
      for (; c < channels; c++) {
        const cb = (<usize>c) << 2;
        let sum: f32 = 0;
        for (let y = y0; y < y1; y++) {
          const row = input + <usize>y * rowStride + cb;
          for (let x = x0; x < x1; x++) sum += load<f32>(row + <usize>x * pixelBytes);
        }
        store<f32>(dst + cb, sum / count);
      }
      dst += pixelBytes;
    }
  }
}
