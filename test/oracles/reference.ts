// Plain-loop reference layers in NCHW, written for obviousness, not speed: what PyTorch computes.
// The property tests hold every WASM kernel and the engine to these (test oracles: not shipped).

export interface Map3 {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly data: Float32Array;
}

/** Conv2d (square kernel) + bias, then ReLU when `relu`. weight is [out][in][k][k]. */
export function referenceConv2d(
  x: Map3,
  weight: Float32Array,
  bias: Float32Array,
  out: number,
  kernel: number,
  stride: number,
  pad: number,
  relu: boolean,
): Map3 {
  const oh = Math.floor((x.h + 2 * pad - kernel) / stride) + 1;
  const ow = Math.floor((x.w + 2 * pad - kernel) / stride) + 1;
  const y = new Float32Array(out * oh * ow);
  for (let o = 0; o < out; o++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = bias[o]!;
        for (let c = 0; c < x.c; c++) {
          for (let ky = 0; ky < kernel; ky++) {
            const iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < kernel; kx++) {
              const ix = ox * stride - pad + kx;
              if (ix < 0 || ix >= x.w) continue;
              acc += x.data[(c * x.h + iy) * x.w + ix]! * weight[((o * x.c + c) * kernel + ky) * kernel + kx]!;
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = relu ? Math.max(acc, 0) : acc;
      }
    }
  }
  return { c: out, h: oh, w: ow, data: y };
}

/** MaxPool2d with PyTorch's output-size rule for ceil_mode, no padding. */
export function referenceMaxPool(x: Map3, size: number, stride: number, ceil: boolean): Map3 {
  const outSize = (n: number): number => {
    let o = (ceil ? Math.ceil((n - size) / stride) : Math.floor((n - size) / stride)) + 1;
    if (ceil && (o - 1) * stride >= n) o--;
    return o;
  };
  const oh = outSize(x.h);
  const ow = outSize(x.w);
  const y = new Float32Array(x.c * oh * ow);
  for (let c = 0; c < x.c; c++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let iy = oy * stride; iy < Math.min(oy * stride + size, x.h); iy++) {
          for (let ix = ox * stride; ix < Math.min(ox * stride + size, x.w); ix++) {
            m = Math.max(m, x.data[(c * x.h + iy) * x.w + ix]!);
          }
        }
        y[(c * oh + oy) * ow + ox] = m;
      }
    }
  }
  return { c: x.c, h: oh, w: ow, data: y };
}

/** Global average pooling to one value per channel. */
export function referenceGlobalAvgPool(x: Map3): Float32Array {
  const y = new Float32Array(x.c);
  for (let c = 0; c < x.c; c++) {
    let s = 0;
    for (let i = 0; i < x.h * x.w; i++) s += x.data[c * x.h * x.w + i]!;
    y[c] = s / (x.h * x.w);
  }
  return y;
}

/** Fire module: squeeze 1x1 + ReLU, then expand 1x1 and expand 3x3 (pad 1) + ReLU, concatenated. */
export function referenceFire(
  x: Map3,
  w: {
    squeeze: [Float32Array, Float32Array];
    expand1x1: [Float32Array, Float32Array];
    expand3x3: [Float32Array, Float32Array];
  },
  s1x1: number,
  e1x1: number,
  e3x3: number,
): Map3 {
  const s = referenceConv2d(x, w.squeeze[0], w.squeeze[1], s1x1, 1, 1, 0, true);
  const a = referenceConv2d(s, w.expand1x1[0], w.expand1x1[1], e1x1, 1, 1, 0, true);
  const b = referenceConv2d(s, w.expand3x3[0], w.expand3x3[1], e3x3, 3, 1, 1, true);
  const data = new Float32Array((e1x1 + e3x3) * s.h * s.w);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return { c: e1x1 + e3x3, h: s.h, w: s.w, data };
}
