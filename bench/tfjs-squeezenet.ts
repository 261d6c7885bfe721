// SqueezeNet built from tfjs-core ops, for the tfjs-backend-wasm row of the benchmark: NHWC
// activations, HWIO filters, fused conv + bias + ReLU (what tfjs-converter's graphs run), max pools
// padded on the bottom and right to PyTorch's ceil-mode sizes, and a global average pool.
// It walks the same Arch table as our engine; the benchmark checks its logits against ours and
// PyTorch's before timing anything, and every shape against plan().

import type * as TF from '@tensorflow/tfjs-core';
import { ARCHS, plan, type ArchName } from '../src/index.js';

/** PyTorch's ceil_mode output size for a pool without padding (the last window starts inside). */
function ceilPoolSize(size: number, window: number, stride: number): number {
  let out = Math.ceil((size - window) / stride) + 1;
  if ((out - 1) * stride >= size) out--;
  return out;
}

/** OIHW (PyTorch) to HWIO (TensorFlow). */
function toHWIO(w: Float32Array, o: number, i: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x]!;
  return out;
}

export interface TfjsSqueezeNet {
  /** NCHW logits in, 1000 logits out; the transpose to NHWC is part of the model, as ours does it too. */
  run(input: Float32Array): Float32Array;
  dispose(): void;
}

export function buildTfjsSqueezeNet(tf: typeof TF, archName: ArchName, weights: ReadonlyMap<string, Float32Array>): TfjsSqueezeNet {
  const p = plan(ARCHS[archName]);
  const [, height, width] = p.input;
  const params = new Map<string, { filter: TF.Tensor4D; bias: TF.Tensor1D; stride: number; pad: number }>();
  for (const op of p.convs) {
    const w = weights.get(`${op.param}.weight`);
    const b = weights.get(`${op.param}.bias`);
    if (w === undefined || b === undefined) throw new Error(`tfjs: weights have no ${op.param}`);
    params.set(op.name, {
      filter: tf.tensor4d(toHWIO(w, op.outC, op.inC, op.kernel, op.kernel), [op.kernel, op.kernel, op.inC, op.outC]),
      bias: tf.tensor1d(b),
      stride: op.stride,
      pad: op.pad,
    });
  }
  const conv = (x: TF.Tensor4D, name: string): TF.Tensor4D => {
    const c = params.get(name)!;
    return tf.fused.conv2d({
      x,
      filter: c.filter,
      strides: c.stride,
      pad: c.pad === 0 ? 'valid' : [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]],
      bias: c.bias,
      activation: 'relu',
    });
  };

  const forward = (input: TF.Tensor4D): TF.Tensor => {
    let x = tf.transpose(input, [0, 2, 3, 1]);
    for (const row of p.rows) {
      const spec = row.spec;
      switch (spec.kind) {
        case 'conv':
          x = conv(x, spec.name);
          break;
        case 'maxpool': {
          const [, h, w] = x.shape;
          const oh = spec.ceil ? ceilPoolSize(h, spec.size, spec.stride) : Math.floor((h - spec.size) / spec.stride) + 1;
          const ow = spec.ceil ? ceilPoolSize(w, spec.size, spec.stride) : Math.floor((w - spec.size) / spec.stride) + 1;
          const padBottom = (oh - 1) * spec.stride + spec.size - h;
          const padRight = (ow - 1) * spec.stride + spec.size - w;
          // XNNPACK's max pooling ignores padded positions (as if -Infinity), so padding only adds windows.
          x = tf.maxPool(x, spec.size, spec.stride, [[0, 0], [0, padBottom], [0, padRight], [0, 0]]);
          break;
        }
        case 'fire': {
          const s = conv(x, `${spec.name}.squeeze`);
          x = tf.concat([conv(s, `${spec.name}.expand1x1`), conv(s, `${spec.name}.expand3x3`)], 3);
          break;
        }
        case 'avgpool':
          x = tf.avgPool(x, [x.shape[1], x.shape[2]], 1, 'valid');
          break;
      }
      const [c, h, w] = row.output;
      if (x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
        throw new Error(`tfjs: ${spec.name} gives ${x.shape.slice(1).join('x')} (HWC), plan() says ${h}x${w}x${c}`);
      }
    }
    return tf.reshape(x, [-1]);
  };

  return {
    run(input: Float32Array): Float32Array {
      return tf.tidy(() => forward(tf.tensor4d(input, [1, 3, height, width])).dataSync() as Float32Array);
    },
    dispose(): void {
      for (const c of params.values()) tf.dispose([c.filter, c.bias]);
    },
  };
}
