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

// Kernel-level references: the layouts the kernels work in (GEMM rows, im2col rows, Winograd
// tiles), in f64 where they sum.

/** c[i][j] = relu?(bias[j] + sum_p a[i * lda + p] * w[j * k + p]), in f64. w is [n][k] as PyTorch's [out][in]. */
export function referenceGemm(
  m: number, n: number, k: number, a: Float32Array, lda: number, w: Float32Array, bias: Float32Array, relu: boolean,
): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = bias[j]!;
      for (let p = 0; p < k; p++) acc += a[i * lda + p]! * w[j * k + p]!;
      c[i * n + j] = relu ? Math.max(acc, 0) : acc;
    }
  }
  return c;
}

/** im2col rows ([ky][kx][c] per output pixel, zero padding) straight from NCHW. */
export function referenceIm2col(x: Map3, kh: number, kw: number, stride: number, pad: number, oh: number, ow: number): Float32Array {
  const depth = kh * kw * x.c;
  const out = new Float32Array(oh * ow * depth);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const iy = oy * stride - pad + ky;
          const ix = ox * stride - pad + kx;
          for (let ch = 0; ch < x.c; ch++) {
            const inside = iy >= 0 && iy < x.h && ix >= 0 && ix < x.w;
            out[(oy * ow + ox) * depth + (ky * kw + kx) * x.c + ch] = inside ? x.data[(ch * x.h + iy) * x.w + ix]! : 0;
          }
        }
      }
    }
  }
  return out;
}

const WINOGRAD_BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] as const;
const WINOGRAD_AT = [[1, 1, 1, 0], [0, 1, -1, -1]] as const;

/** Winograd F(2x2, 3x3) input transform V = B^T d B per 4x4 tile (rows and columns from 2t - 1), in f64: [16][tile][c]. */
export function referenceWinogradInput(x: Map3, tilesH: number, tilesW: number): Float32Array {
  const tiles = tilesH * tilesW;
  const v = new Float32Array(16 * tiles * x.c);
  const at = (ch: number, y: number, xx: number): number => (y >= 0 && y < x.h && xx >= 0 && xx < x.w ? x.data[(ch * x.h + y) * x.w + xx]! : 0);
  for (let ty = 0; ty < tilesH; ty++) {
    for (let tx = 0; tx < tilesW; tx++) {
      for (let ch = 0; ch < x.c; ch++) {
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) {
            let s = 0;
            for (let a = 0; a < 4; a++) {
              for (let b = 0; b < 4; b++) s += WINOGRAD_BT[i]![a]! * at(ch, 2 * ty - 1 + a, 2 * tx - 1 + b) * WINOGRAD_BT[j]![b]!;
            }
            v[((4 * i + j) * tiles + ty * tilesW + tx) * x.c + ch] = s;
          }
        }
      }
    }
  }
  return v;
}

/** Winograd F(2x2, 3x3) output transform Y = A^T M A + bias (ReLU when asked), in f64: oh * ow pixels of outC. */
export function referenceWinogradOutput(
  m: Float32Array, tilesH: number, tilesW: number, outC: number, bias: Float32Array, oh: number, ow: number, relu: boolean,
): Float32Array {
  const tiles = tilesH * tilesW;
  const y = new Float32Array(oh * ow * outC);
  for (let ty = 0; ty < tilesH; ty++) {
    for (let tx = 0; tx < tilesW; tx++) {
      for (let k = 0; k < outC; k++) {
        for (let r = 0; r < 2; r++) {
          for (let c = 0; c < 2; c++) {
            const py = 2 * ty + r;
            const px = 2 * tx + c;
            if (py >= oh || px >= ow) continue;
            let s = bias[k]!;
            for (let a = 0; a < 4; a++) {
              for (let b = 0; b < 4; b++) s += WINOGRAD_AT[r]![a]! * m[((4 * a + b) * tiles + ty * tilesW + tx) * outC + k]! * WINOGRAD_AT[c]![b]!;
            }
            y[(py * ow + px) * outC + k] = relu ? Math.max(s, 0) : s;
          }
        }
      }
    }
  }
  return y;
}

/** MaxPool2d with padding (which never wins: PyTorch pads with -inf) and a given output size. */
export function referenceMaxPoolPadded(x: Map3, size: number, stride: number, pad: number, oh: number, ow: number): Map3 {
  const y = new Float32Array(x.c * oh * ow);
  for (let ch = 0; ch < x.c; ch++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let iy = Math.max(oy * stride - pad, 0); iy < Math.min(oy * stride - pad + size, x.h); iy++) {
          for (let ix = Math.max(ox * stride - pad, 0); ix < Math.min(ox * stride - pad + size, x.w); ix++) {
            m = Math.max(m, x.data[(ch * x.h + iy) * x.w + ix]!);
          }
        }
        y[(ch * oh + oy) * ow + ox] = m;
      }
    }
  }
  return { c: x.c, h: oh, w: ow, data: y };
}
