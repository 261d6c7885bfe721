// Shapes, parameter and MAC counts, and torchvision names, all derived from an Arch table.

import type { Arch, LayerSpec } from './arch.js';
import { InputError, SqueezeNetError } from './errors.js';

/** [channels, height, width] */
export type Shape3 = readonly [number, number, number];

/** One convolution of the network, with the torchvision state_dict prefix of its weights. */
export interface ConvOp {
  /** Our name: `conv1`, `fire2.squeeze`, `fire2.expand1x1`, `fire2.expand3x3`, `conv10`. */
  readonly name: string;
  /** torchvision's module path: `features.0`, `features.3.squeeze`, `classifier.1`. */
  readonly param: string;
  readonly inC: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
}

/** One row of Table 1. */
export interface Row {
  readonly spec: LayerSpec;
  readonly input: Shape3;
  readonly output: Shape3;
  readonly convs: readonly ConvOp[];
  readonly params: number;
  readonly macs: number;
}

export interface Plan {
  readonly arch: Arch;
  readonly input: Shape3;
  readonly rows: readonly Row[];
  readonly convs: readonly ConvOp[];
  readonly params: number;
  readonly macs: number;
}

export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * Output size of a max pool. Ceil mode follows PyTorch (and ONNX): the last window must start
 * inside the input (plus the leading pad). `padEnd` is extra padding after the input only (ONNX
 * `pads` end values), added to the span like PyTorch's symmetric `pad`.
 */
export function poolOutSize(size: number, kernel: number, stride: number, pad: number, ceil: boolean, padEnd = 0): number {
  const span = size + 2 * pad + padEnd - kernel;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

export const convParams = (c: ConvOp): number => c.outC * c.inC * c.kernel * c.kernel + c.outC;
export const convMacs = (c: ConvOp): number => c.outH * c.outW * c.outC * c.inC * c.kernel * c.kernel;

/** Plans the network for an input of `height` x `width` (default: the architecture's own). */
export function plan(arch: Arch, height = arch.input, width = height): Plan {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new InputError(`input size must be positive integers, got ${height}x${width}`);
  }
  const rows: Row[] = [];
  let shape: Shape3 = [3, height, width];
  let feature = 0;
  const lastConv = arch.layers.map((l) => l.kind).lastIndexOf('conv');
  const mkConv = (name: string, param: string, inS: Shape3, outC: number, kernel: number, stride: number, pad: number): ConvOp => {
    const outH = convOutSize(inS[1], kernel, stride, pad);
    const outW = convOutSize(inS[2], kernel, stride, pad);
    if (outH < 1 || outW < 1) {
      throw new InputError(
        `input ${height}x${width} is too small for ${arch.name}: ${name} would see ${inS[1]}x${inS[2]} with a ${kernel}x${kernel} kernel`,
      );
    }
    return { name, param, inC: inS[0], outC, kernel, stride, pad, inH: inS[1], inW: inS[2], outH, outW };
  };
  arch.layers.forEach((spec, index) => {
    const input = shape;
    let convs: ConvOp[] = [];
    switch (spec.kind) {
      case 'conv': {
        const param = index === lastConv ? 'classifier.1' : `features.${feature}`;
        feature += 2; // the conv and its ReLU
        const c = mkConv(spec.name, param, input, spec.out, spec.kernel, spec.stride, spec.pad);
        convs = [c];
        shape = [c.outC, c.outH, c.outW];
        break;
      }
      case 'maxpool': {
        feature += 1;
        const [endH, endW] = spec.padEnd ?? [0, 0];
        const h = poolOutSize(input[1], spec.size, spec.stride, 0, spec.ceil, endH);
        const w = poolOutSize(input[2], spec.size, spec.stride, 0, spec.ceil, endW);
        if (h < 1 || w < 1 || input[1] < spec.size || input[2] < spec.size) {
          throw new InputError(
            `input ${height}x${width} is too small for ${arch.name}: ${spec.name} would see ${input[1]}x${input[2]}, smaller than its ${spec.size}x${spec.size} window`,
          );
        }
        // Every window must hold at least one input pixel (the kernel clips windows to the input).
        if ((h - 1) * spec.stride >= input[1] || (w - 1) * spec.stride >= input[2]) {
          throw new InputError(
            `${arch.name}'s ${spec.name} (end pads ${endH}x${endW}) would put a whole window in the padding of its ${input[1]}x${input[2]} input (from a ${height}x${width} image)`,
          );
        }
        shape = [input[0], h, w];
        break;
      }
      case 'fire': {
        const param = `features.${feature}`;
        feature += 1;
        const sq = mkConv(`${spec.name}.squeeze`, `${param}.squeeze`, input, spec.s1x1, 1, 1, 0);
        const sqShape: Shape3 = [sq.outC, sq.outH, sq.outW];
        const e1 = mkConv(`${spec.name}.expand1x1`, `${param}.expand1x1`, sqShape, spec.e1x1, 1, 1, 0);
        const e3 = mkConv(`${spec.name}.expand3x3`, `${param}.expand3x3`, sqShape, spec.e3x3, 3, 1, 1);
        convs = [sq, e1, e3];
        shape = [spec.e1x1 + spec.e3x3, e1.outH, e1.outW];
        if (spec.bypass === 'simple' && input[0] !== shape[0]) {
          throw new SqueezeNetError(`${spec.name}: a simple bypass needs as many input channels (${input[0]}) as outputs (${shape[0]})`);
        }
        if (spec.bypass === 'complex') convs.push(mkConv(`${spec.name}.bypass`, `${param}.bypass`, input, shape[0], 1, 1, 0));
        break;
      }
      case 'avgpool':
        if (spec.window && (spec.window[0] !== input[1] || spec.window[1] !== input[2])) {
          throw new InputError(
            `${arch.name} averages a fixed ${spec.window[0]}x${spec.window[1]} window at ${spec.name}, the whole map only when the image gives that map; ` +
              `a ${height}x${width} image gives ${input[1]}x${input[2]} (the graph's average is exact only where its window is the whole map)`,
          );
        }
        shape = [input[0], 1, 1];
        break;
    }
    rows.push({
      spec,
      input,
      output: shape,
      convs,
      params: convs.reduce((s, c) => s + convParams(c), 0),
      macs: convs.reduce((s, c) => s + convMacs(c), 0),
    });
  });
  const convs = rows.flatMap((r) => r.convs);
  return {
    arch,
    input: [3, height, width],
    rows,
    convs,
    params: rows.reduce((s, r) => s + r.params, 0),
    macs: rows.reduce((s, r) => s + r.macs, 0),
  };
}

/** The state_dict names and shapes a network expects, torchvision style. */
export function expectedWeights(p: Plan): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const c of p.convs) {
    out.set(`${c.param}.weight`, [c.outC, c.inC, c.kernel, c.kernel]);
    out.set(`${c.param}.bias`, [c.outC]);
  }
  return out;
}
