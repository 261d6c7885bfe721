// The per-layer API: one SqueezeNet layer at a time on NCHW Float32Arrays of any batch and channel
// count, run by the engine's own WASM kernels (convolutions lowered by src/conv.ts exactly as in
// the network), for people who check their own implementation of a layer against ours (the ONNX
// backend tests' Conv, MaxPool, AveragePool, GlobalAveragePool, Relu and Concat cases, say).
//
//   const ops = await createOps();
//   const y = ops.conv2d(x, weight, bias, { stride: 2, pads: [1, 0, 1, 0], relu: true });
//
// Memory is managed inside: each call lays out its buffers in the instance's arena, runs one batch
// item at a time (weights packed once per call), copies the result out and frees the buffers
// (WebAssembly memory keeps the size of the largest call; dispose() lets all of it go).

import { Arena } from './arena.js';
import { chooseConvMethod, convLayer, convScratchFloats, packConv, packedGemmSize, runConv, type ConvSize } from './conv.js';
import { DisposedError, InputError, WeightError } from './errors.js';
import { instantiate, type Kernels, type WasmSource } from './wasm.js';

/** A tensor: float32 values in C order (NCHW for images) and its shape. */
export interface OpTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** An NCHW result: `shape` is `[N, C, H, W]` (for concat and relu, the input's rank). */
export interface OpResult {
  readonly data: Float32Array;
  readonly shape: number[];
}

/** `[top, left, bottom, right]` zero padding (ONNX's `pads` order: begins, then ends), or one number for all four. */
export type Pads = number | readonly [number, number, number, number];

export interface Conv2dOptions {
  /** Stride, the same on both axes (default 1). */
  readonly stride?: number | readonly [number, number];
  /** Zero padding (default 0). */
  readonly pads?: Pads;
  /** Rectify the output, as SqueezeNet's convolutions (fused in the kernel; default false). */
  readonly relu?: boolean;
  /** Accepted only as 1 / [1, 1]: grouped and dilated convolutions are refused by name. */
  readonly groups?: number;
  readonly dilations?: number | readonly [number, number];
}

export interface Pool2dOptions {
  /** Window, `k` or `[kH, kW]`. */
  readonly kernel: number | readonly [number, number];
  /** Required: PyTorch defaults it to the kernel, ONNX to 1. `s` or `[sH, sW]`. */
  readonly stride: number | readonly [number, number];
  /** Padding (default 0), at most half the window on each axis (PyTorch's rule). */
  readonly pads?: Pads;
  /** Round the output size up (PyTorch ceil_mode; Caffe's pools); default false. */
  readonly ceil?: boolean;
  /** Accepted only as 1 / [1, 1]: dilated pools are refused by name. */
  readonly dilations?: number | readonly [number, number];
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /**
   * Whether the padding counts in the divisor (PyTorch count_include_pad, ONNX
   * count_include_pad). Required when any pad is non-zero (PyTorch defaults it to true, ONNX to
   * false); without padding it changes nothing.
   */
  readonly countIncludePad?: boolean;
}

/** A bad argument to one op: `op` and `argument` name them; an InputError. */
export class OpError extends InputError {
  override name = 'OpError';
  constructor(
    readonly op: string,
    readonly argument: string,
    message: string,
  ) {
    super(`${op}: ${argument} ${message}`);
  }
}

export interface OpsOptions {
  /** The kernels: a compiled module, the .wasm bytes, or nothing for the bundled file (as SqueezeNet.load). */
  readonly wasm?: WasmSource;
  /** The kernels' debug build, which checks every call. */
  readonly debug?: boolean;
}

/** The most WASM memory one call may lay out (1 GiB, as a model's activations). */
export const MAX_OP_BYTES = 2 ** 30;

/** Instantiates the kernels for the per-layer API. @throws WasmError as SqueezeNet.load. */
export async function createOps(options: OpsOptions = {}): Promise<Ops> {
  if (options === null || typeof options !== 'object') throw new InputError(`createOps options must be an object like { wasm }, got ${options === null ? 'null' : typeof options}`);
  return new Ops(new Arena(await instantiate(options.wasm, { debug: options.debug === true })));
}

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const show = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const describe = (v: unknown): string => (Array.isArray(v) ? JSON.stringify(v) : typeof v === 'number' ? String(v) : v === null ? 'null' : typeof v);

/** A checked tensor argument: data, shape, element count. */
function tensorArg(op: string, name: string, t: unknown): OpTensor {
  if (t === null || typeof t !== 'object') throw new OpError(op, name, `must be a tensor { data: Float32Array, shape: number[] }, got ${describe(t)}`);
  const { data, shape } = t as Partial<OpTensor>;
  if (!(data instanceof Float32Array)) throw new OpError(op, name, `.data must be a Float32Array, got ${data === undefined ? 'nothing' : (data as object)?.constructor?.name ?? typeof data}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new OpError(op, name, `.shape must be a list of positive integers, got ${describe(shape)}`);
  }
  const n = count(shape);
  if (n !== data.length) throw new OpError(op, name, `has ${data.length} values; shape ${show(shape)} needs ${n}`);
  return { data, shape };
}

/** A 4-D NCHW tensor argument; 1-D (NCW) and 3-D (NCDHW) inputs are refused by name. */
function nchwArg(op: string, name: string, t: unknown): OpTensor & { shape: readonly [number, number, number, number] } {
  const x = tensorArg(op, name, t);
  if (x.shape.length === 3) throw new OpError(op, name, `has shape ${show(x.shape)}: 1-D ${op} (N, C, W) is not supported, only 2-D (N, C, H, W)`);
  if (x.shape.length === 5) throw new OpError(op, name, `has shape ${show(x.shape)}: 3-D ${op} (N, C, D, H, W) is not supported, only 2-D (N, C, H, W)`);
  if (x.shape.length !== 4) throw new OpError(op, name, `has shape ${show(x.shape)}, not NCHW (4 dimensions)`);
  return x as OpTensor & { shape: readonly [number, number, number, number] };
}

/** `n` or `[a, b]` as a pair of integers >= min. */
function pairArg(op: string, name: string, v: unknown, min: number): [number, number] {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isSafeInteger(d) && d >= min)) {
    throw new OpError(op, name, `must be an integer >= ${min} or a pair of them, got ${describe(v)}`);
  }
  return pair as [number, number];
}

function padsArg(op: string, v: unknown): [number, number, number, number] {
  if (v === undefined) return [0, 0, 0, 0];
  const pads = typeof v === 'number' ? [v, v, v, v] : v;
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new OpError(op, 'pads', `must be [top, left, bottom, right] of integers >= 0 (or one of them for all four), got ${describe(v)}`);
  }
  return pads as [number, number, number, number];
}

/** Checks the option keys: known ones pass, SqueezeNet's unneeded attributes are refused by name. */
function checkOptions(op: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new OpError(op, 'options', `must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (o[key] === undefined) continue;
    if (key === 'groups' || key === 'group') {
      if (o[key] !== 1) throw new OpError(op, key, `${describe(o[key])}: grouped convolutions are not supported (SqueezeNet has none)`);
    } else if (key === 'dilations' || key === 'dilation') {
      const d = o[key];
      if (!(d === 1 || (Array.isArray(d) && d.length === 2 && d[0] === 1 && d[1] === 1))) {
        throw new OpError(op, key, `${describe(d)}: dilated ${op.includes('Pool') ? 'pools' : 'convolutions'} are not supported (SqueezeNet has none)`);
      }
    } else if (key === 'autoPad' || key === 'auto_pad') {
      throw new OpError(op, key, 'is not supported: give explicit pads [top, left, bottom, right]');
    } else if (!known.includes(key)) {
      throw new OpError(op, 'options', `has an unknown key '${key}' (${op} takes ${known.join(', ')})`);
    }
  }
  return o;
}

const boolArg = (op: string, name: string, v: unknown, fallback: boolean): boolean => {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new OpError(op, name, `must be true or false, got ${describe(v)}`);
  return v;
};

/** A pool's output size on one axis (PyTorch's rule: in ceil mode the last window starts inside the input or the leading padding). */
function poolOut(size: number, kernel: number, stride: number, begin: number, end: number, ceil: boolean): number {
  const span = size + begin + end - kernel;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + begin) out--;
  return out;
}

/**
 * The per-layer API, on one instance of the kernels. Tensors are NCHW Float32Arrays with their
 * shapes, any batch N >= 1 and any channel count; every value must be finite (a NaN or an
 * infinity is an OpError naming the argument and its index). Results are fresh arrays.
 * Not shared between threads.
 */
export class Ops {
  private arena: Arena | null;

  /** @internal use {@link createOps}. */
  constructor(arena: Arena) {
    this.arena = arena;
  }

  /** Bytes of WebAssembly memory this instance holds (the largest call so far); 0 once disposed. */
  get memoryBytes(): number {
    return this.arena?.memoryBytes ?? 0;
  }

  /** Lets go of the kernels and their memory; any later call throws DisposedError. */
  dispose(): void {
    this.arena = null;
  }

  private live(): Arena {
    if (this.arena === null) throw new DisposedError('these ops were disposed');
    return this.arena;
  }

  // Lays out `floats` for one call, runs `body`, and frees them whatever happens.
  private withMemory<T>(op: string, floats: number, body: (arena: Arena) => T): T {
    const arena = this.live();
    if (4 * floats > MAX_OP_BYTES) {
      throw new OpError(op, 'x', `needs ${Math.ceil((4 * floats) / 2 ** 20)} MiB of WebAssembly memory for this call, more than the ${MAX_OP_BYTES / 2 ** 20} MiB allowed (split the batch)`);
    }
    const mark = arena.mark();
    try {
      return body(arena);
    } finally {
      arena.release(mark);
    }
  }

  // Copies batch item `n` of x into the arena at `at` and checks it is finite; an error gives the
  // index in `shape` (default x's).
  private load(arena: Arena, op: string, x: OpTensor, n: number, at: number, shape: readonly number[] = x.shape): void {
    const size = x.data.length / x.shape[0]!;
    arena.view(at, size).set(x.data.subarray(n * size, (n + 1) * size));
    const bad = arena.kernels.f32_find_nonfinite(at, size);
    if (bad >= 0) {
      let rest = n * size + bad;
      const index: number[] = [];
      for (const d of [...shape].reverse()) {
        index.unshift(rest % d);
        rest = Math.floor(rest / d);
      }
      throw new OpError(op, 'x', `value ${x.data[n * size + bad]} at [${index.join(', ')}] is not finite`);
    }
  }

  /**
   * 2-D convolution, as PyTorch's conv2d / ONNX Conv with group 1 and dilation 1: y[n, o, i, j] =
   * bias[o] + sum over c, ky, kx of weight[o, c, ky, kx] * xpad[n, c, i * s + ky, j * s + kx],
   * then max(0, .) when `relu`. Lowered to the kernels by src/conv.ts, the method the engine
   * would pick for the shape (1x1 GEMM, Winograd F(2x2, 3x3), sparse, im2col + GEMM);
   * asymmetric padding is applied to the input first.
   *
   * @param x NCHW [N, C, H, W].
   * @param weight [outC, C, k, k]: a square kernel.
   * @param bias [outC] (a Float32Array or a tensor), or undefined / null for none.
   * @returns [N, outC, (H + top + bottom - k) / s + 1, (W + left + right - k) / s + 1], rounded down.
   * @throws OpError naming the argument: shapes that do not fit, a kernel larger than the padded
   *   input, a non-square kernel, unequal strides, groups or dilations other than 1, 1-D or 3-D
   *   inputs, non-finite values, a call needing over MAX_OP_BYTES.
   */
  conv2d(x: OpTensor, weight: OpTensor, bias?: OpTensor | Float32Array | null, options?: Conv2dOptions): OpResult {
    const op = 'conv2d';
    const o = checkOptions(op, options, ['stride', 'pads', 'relu']);
    const input = nchwArg(op, 'x', x);
    const w = nchwArg(op, 'weight', weight);
    const [n, c, h, wd] = input.shape;
    const [outC, inC, kh, kw] = w.shape;
    if (inC !== c) throw new OpError(op, 'weight', `has shape ${show(w.shape)}: ${inC} input channels, x has ${c}`);
    if (kh !== kw) throw new OpError(op, 'weight', `has a ${kh}x${kw} kernel: only square kernels are supported (SqueezeNet's are)`);
    const b = bias === undefined || bias === null ? new Float32Array(outC) : bias instanceof Float32Array ? tensorArg(op, 'bias', { data: bias, shape: [bias.length] }).data : tensorArg(op, 'bias', bias).data;
    if (b.length !== outC) throw new OpError(op, 'bias', `has ${b.length} values; weight has ${outC} output channels`);
    const [sh, sw] = pairArg(op, 'stride', o.stride ?? 1, 1);
    if (sh !== sw) throw new OpError(op, 'stride', `${describe(o.stride)}: only equal strides on both axes are supported (SqueezeNet's are)`);
    const [top, left, bottom, right] = padsArg(op, o.pads);
    const relu = boolArg(op, 'relu', o.relu, false);
    const hp = h + top + bottom;
    const wp = wd + left + right;
    if (hp < kh || wp < kw) throw new OpError(op, 'x', `is ${h}x${wd} (${hp}x${wp} padded), smaller than the ${kh}x${kw} kernel`);
    // Equal pads go to the lowering as they are (a padded 1x1's border is relu(bias) there); others are applied to the input here.
    const symmetric = top === left && top === bottom && top === right;
    const pad = symmetric ? top : 0;
    const [inH, inW] = symmetric ? [h, wd] : [hp, wp];
    const outH = Math.floor((hp - kh) / sh) + 1;
    const outW = Math.floor((wp - kw) / sh) + 1;
    const s: ConvSize = { inC: c, outC, kernel: kh, stride: sh, pad, inH, inW, outH, outW };
    const method = chooseConvMethod(s, w.data);
    const scratch = convScratchFloats(method, s);
    // packConv's packed weights (or 16 Winograd matrices, or CSR) and its scratch, then the call's buffers
    const weightsFloats = Math.max(packedGemmSize(outC, c, kh), 16 * packedGemmSize(outC, c, 1)) + outC + w.data.length + 16 * outC * c;
    const floats = weightsFloats + 2 * c * h * wd + c * inH * inW + 2 * outC * outH * outW + scratch.cols + scratch.transposed + scratch.wgInput + scratch.wgProducts + 16 * 16;
    return this.withMemory(op, floats, (arena) => {
      let packed;
      try {
        packed = packConv(arena, s, w.data, b, method, { weight: 'weight', bias: 'bias' });
      } catch (e) {
        if (e instanceof WeightError) throw new OpError(op, e.tensor, e.message.slice(e.tensor.length + 2));
        throw e;
      }
      const layer = convLayer({ ...s, name: op }, packed, {
        cols: arena.alloc(scratch.cols),
        transposed: arena.alloc(scratch.transposed),
        wgInput: arena.alloc(scratch.wgInput),
        wgProducts: arena.alloc(scratch.wgProducts),
      });
      const k = arena.kernels;
      const xNCHW = arena.alloc(c * h * wd);
      const xNHWC = arena.alloc(c * h * wd);
      const padded = symmetric ? xNHWC : arena.alloc(c * inH * inW);
      const yNHWC = arena.alloc(outC * outH * outW);
      const yNCHW = arena.alloc(outC * outH * outW);
      const out = new Float32Array(n * outC * outH * outW);
      if (!symmetric) arena.view(padded, c * inH * inW).fill(0);
      for (let i = 0; i < n; i++) {
        this.load(arena, op, input, i, xNCHW);
        k.f32_transpose(xNCHW, c, h * wd, xNHWC);
        if (!symmetric) {
          const f32 = arena.f32;
          for (let y = 0; y < h; y++) {
            const src = (xNHWC >>> 2) + y * wd * c;
            f32.copyWithin((padded >>> 2) + ((y + top) * inW + left) * c, src, src + wd * c);
          }
        }
        runConv(arena, layer, { x: padded, y: yNHWC, ldc: outC, first: 0, relu });
        k.f32_transpose(yNHWC, outH * outW, outC, yNCHW);
        out.set(arena.view(yNCHW, outC * outH * outW), i * outC * outH * outW);
      }
      return { data: out, shape: [n, outC, outH, outW] };
    });
  }

  // The shared part of the two windowed pools: arguments checked, output size, the loop over the batch.
  private pool(
    op: string,
    x: OpTensor,
    options: Pool2dOptions | AvgPool2dOptions | undefined,
    known: readonly string[],
    run: (k: Kernels, input: number, output: number, g: { c: number; h: number; w: number; kh: number; kw: number; sh: number; sw: number; pads: [number, number, number, number]; outH: number; outW: number }) => void,
  ): OpResult {
    const o = checkOptions(op, options, known);
    if (options === undefined) throw new OpError(op, 'options', 'must give { kernel, stride }');
    const input = nchwArg(op, 'x', x);
    const [n, c, h, w] = input.shape;
    if (o.kernel === undefined) throw new OpError(op, 'kernel', 'is required');
    if (o.stride === undefined) throw new OpError(op, 'stride', 'is required (PyTorch defaults it to the kernel, ONNX to 1)');
    const [kh, kw] = pairArg(op, 'kernel', o.kernel, 1);
    const [sh, sw] = pairArg(op, 'stride', o.stride, 1);
    const pads = padsArg(op, o.pads);
    const ceil = boolArg(op, 'ceil', o.ceil, false);
    const [top, left, bottom, right] = pads;
    if (Math.max(top, bottom) > Math.floor(kh / 2) || Math.max(left, right) > Math.floor(kw / 2)) {
      throw new OpError(op, 'pads', `${show(pads)} exceed half the ${kh}x${kw} window (PyTorch's limit): a window would lie in the padding alone`);
    }
    if (h + top + bottom < kh || w + left + right < kw) throw new OpError(op, 'x', `is ${h}x${w} (${h + top + bottom}x${w + left + right} padded), smaller than the ${kh}x${kw} window`);
    const outH = poolOut(h, kh, sh, top, bottom, ceil);
    const outW = poolOut(w, kw, sw, left, right, ceil);
    const g = { c, h, w, kh, kw, sh, sw, pads, outH, outW };
    return this.withMemory(op, 2 * c * h * w + 2 * c * outH * outW + 64, (arena) => {
      const xNCHW = arena.alloc(c * h * w);
      const xNHWC = arena.alloc(c * h * w);
      const yNHWC = arena.alloc(c * outH * outW);
      const yNCHW = arena.alloc(c * outH * outW);
      const k = arena.kernels;
      const out = new Float32Array(n * c * outH * outW);
      for (let i = 0; i < n; i++) {
        this.load(arena, op, input, i, xNCHW);
        k.f32_transpose(xNCHW, c, h * w, xNHWC);
        run(k, xNHWC, yNHWC, g);
        k.f32_transpose(yNHWC, outH * outW, c, yNCHW);
        out.set(arena.view(yNCHW, c * outH * outW), i * c * outH * outW);
      }
      return { data: out, shape: [n, c, outH, outW] };
    });
  }

  /**
   * Max pooling, as PyTorch's max_pool2d / ONNX MaxPool: the largest value of each window, the
   * padding never winning (ONNX pads with -inf). The network's own kernel (f32_maxpool_nhwc)
   * runs square windows with equal strides and equal top and left padding; others run
   * f32_maxpool2d_nhwc.
   *
   * @param x NCHW [N, C, H, W].
   * @returns [N, C, outH, outW]: outH = (H + top + bottom - kH) / sH + 1, rounded down, or up
   *   with `ceil` (then one less if the last window would start past the input and its top
   *   padding, as PyTorch); likewise outW.
   * @throws OpError naming the argument: no kernel or stride, pads over half the window, an
   *   input smaller than the window, dilations, 1-D or 3-D inputs, non-finite values.
   */
  maxPool2d(x: OpTensor, options: Pool2dOptions): OpResult {
    return this.pool('maxPool2d', x, options, ['kernel', 'stride', 'pads', 'ceil'], (k, input, output, g) => {
      const [top, left] = g.pads;
      if (g.kh === g.kw && g.sh === g.sw && top === left) {
        k.f32_maxpool_nhwc(input, g.h, g.w, g.c, g.kh, g.sh, top, g.outH, g.outW, output);
      } else {
        k.f32_maxpool2d_nhwc(input, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, top, left, g.outH, g.outW, output);
      }
    });
  }

  /**
   * Average pooling, as PyTorch's avg_pool2d / ONNX AveragePool (some SqueezeNet exports end in a
   * 13x13 or 15x15 one instead of a global pool): each window's sum over the input pixels it
   * covers, divided by the window clipped to the padded input when `countIncludePad` (padding
   * counts as zeros), else by the number of input pixels it covers (f32_avgpool2d_nhwc).
   *
   * @returns [N, C, outH, outW], sized as {@link Ops.maxPool2d}.
   * @throws OpError as maxPool2d, and when pads are non-zero without `countIncludePad`.
   */
  avgPool2d(x: OpTensor, options: AvgPool2dOptions): OpResult {
    const op = 'avgPool2d';
    const o = checkOptions(op, options, ['kernel', 'stride', 'pads', 'ceil', 'countIncludePad']);
    const padded = padsArg(op, o.pads).some((p) => p > 0);
    if (padded && o.countIncludePad === undefined) {
      throw new OpError(op, 'countIncludePad', 'must be given when pads are non-zero (PyTorch defaults it to true, ONNX to false)');
    }
    const include = boolArg(op, 'countIncludePad', o.countIncludePad, false);
    return this.pool(op, x, options, ['kernel', 'stride', 'pads', 'ceil', 'countIncludePad'], (k, input, output, g) => {
      const [top, left, bottom, right] = g.pads;
      k.f32_avgpool2d_nhwc(input, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, top, left, bottom, right, include ? 1 : 0, g.outH, g.outW, output);
    });
  }

  /**
   * Global average pooling (GlobalAveragePool; SqueezeNet's avgpool10): the mean of each channel
   * over H x W, by the network's kernel (f32_global_avgpool_nhwc: the sum times 1 / (H W)).
   *
   * @returns [N, C, 1, 1].
   * @throws OpError for a tensor that is not NCHW or holds a non-finite value.
   */
  globalAvgPool2d(x: OpTensor): OpResult {
    const op = 'globalAvgPool2d';
    const input = nchwArg(op, 'x', x);
    const [n, c, h, w] = input.shape;
    return this.withMemory(op, 2 * c * h * w + c + 64, (arena) => {
      const xNCHW = arena.alloc(c * h * w);
      const xNHWC = arena.alloc(c * h * w);
      const y = arena.alloc(c);
      const out = new Float32Array(n * c);
      for (let i = 0; i < n; i++) {
        this.load(arena, op, input, i, xNCHW);
        arena.kernels.f32_transpose(xNCHW, c, h * w, xNHWC);
        arena.kernels.f32_global_avgpool_nhwc(xNHWC, h * w, c, y);
        out.set(arena.view(y, c), i * c);
      }
      return { data: out, shape: [n, c, 1, 1] };
    });
  }

  /**
   * max(0, x) element by element, any shape (f32_fill_rows, the kernel that writes a padded 1x1
   * convolution's relu(bias) border).
   *
   * @returns the same shape.
   * @throws OpError for a malformed tensor or a non-finite value.
   */
  relu(x: OpTensor): OpResult {
    const op = 'relu';
    const input = tensorArg(op, 'x', x);
    const size = input.data.length;
    return this.withMemory(op, size + 16, (arena) => {
      const at = arena.alloc(size);
      this.load(arena, op, { data: input.data, shape: [1, ...input.shape] }, 0, at, input.shape);
      arena.kernels.f32_fill_rows(at, 1, size, size, at, 1);
      return { data: arena.view(at, size).slice(), shape: [...input.shape] };
    });
  }

  /**
   * Concatenation along `axis` (default 1, channels: a Fire module's expand1x1 then expand3x3),
   * as torch.cat / ONNX Concat: every tensor of one rank, equal in every other dimension;
   * negative axes count from the end. A copy: in the network each expand branch writes its
   * channel slice of one buffer, so there is no kernel to run.
   *
   * @throws OpError naming the tensor (`xs[i]`) whose rank or shape does not fit, or `axis`.
   */
  concat(xs: readonly OpTensor[], axis = 1): OpResult {
    const op = 'concat';
    this.live();
    if (!Array.isArray(xs) || xs.length === 0) throw new OpError(op, 'xs', `must be a non-empty list of tensors, got ${describe(xs)}`);
    const ts = xs.map((t, i) => tensorArg(op, `xs[${i}]`, t));
    const rank = ts[0]!.shape.length;
    if (!Number.isSafeInteger(axis) || axis < -rank || axis >= rank) throw new OpError(op, 'axis', `must be an integer in [${-rank}, ${rank - 1}] for rank ${rank}, got ${describe(axis)}`);
    const a = axis < 0 ? axis + rank : axis;
    ts.forEach((t, i) => {
      if (t.shape.length !== rank) throw new OpError(op, `xs[${i}]`, `has shape ${show(t.shape)}, rank ${t.shape.length}; xs[0] has rank ${rank}`);
      if (t.shape.some((d, j) => j !== a && d !== ts[0]!.shape[j])) {
        throw new OpError(op, `xs[${i}]`, `has shape ${show(t.shape)}; xs[0] has ${show(ts[0]!.shape)}, which differs outside axis ${a}`);
      }
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new OpError(op, `xs[${i}]`, `value ${t.data[bad]} at flat index ${bad} is not finite`);
    });
    const outer = count(ts[0]!.shape.slice(0, a));
    const inner = count(ts[0]!.shape.slice(a + 1));
    const total = ts.reduce((sum, t) => sum + t.shape[a]!, 0);
    const out = new Float32Array(outer * total * inner);
    let offset = 0;
    for (const t of ts) {
      const block = t.shape[a]! * inner;
      for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * block, (o + 1) * block), o * total * inner + offset);
      offset += block;
    }
    const shape = [...ts[0]!.shape];
    shape[a] = total;
    return { data: out, shape };
  }
}
