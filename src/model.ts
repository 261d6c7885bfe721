// The engine: plans the arena for a network and runs it.

import { ARCHS, isCaffeForm, type Arch, type ArchName } from './arch.js';
import { Arena } from './arena.js';
import { DisposedError, InputError, WeightError } from './errors.js';
import { packedGemmSize, winogradApplies } from './pack.js';
import { plan, type ConvOp, type Plan, type Row } from './plan.js';
import type { Recipe } from './preprocess.js';
import { instantiate, type Kernels, type WasmSource } from './wasm.js';
import { checkWeights, type WeightMap } from './weights.js';

export interface LoadOptions {
  /** Which network: `v1.0`, `v1.0-caffe`, `v1.1` (default `v1.1`), or an Arch table. */
  readonly arch?: ArchName | Arch;
  /** The weights, by torchvision state_dict name. */
  readonly weights: WeightMap;
  /**
   * The preprocessing the weights were trained with, which `classify` uses (see `preprocess`).
   * Default: `caffe` for v1.0 in its Caffe form (conv10 padded), else `torchvision`. The
   * format readers (`decodeWeights`, `load`, `loadOnnx`, ...) give the file's.
   */
  readonly recipe?: Recipe;
  /** The kernels: a compiled module, the .wasm bytes, or nothing for the bundled file. */
  readonly wasm?: WasmSource;
  /** Input height and width to plan for (default the architecture's own: 224, or 227 for v1.0-caffe). */
  readonly inputSize?: number | readonly [number, number];
  /** Use the kernels' debug build, which checks every call (slower). */
  readonly debug?: boolean;
  /** Run 3x3 / stride 1 convolutions as Winograd F(2x2, 3x3) (default true; false: im2col + GEMM). */
  readonly winograd?: boolean;
  /**
   * Run 1x1 convolutions whose weights are at most {@link SPARSE_DENSITY} non-zero (pruned, as
   * Deep Compression's conv10) as a sparse product that skips the zeros (default true).
   */
  readonly sparse?: boolean;
  /**
   * Run the network once on a small blank input at load (default true), so that the engine's
   * optimising compiler has taken over the kernels before the first real image: a few ms at load
   * against tens of ms on the first `run`.
   */
  readonly warmup?: boolean;
}

export interface RunOptions {
  /**
   * Input height. Default: the load-time `inputSize` (224, or 227 for v1.0-caffe), whatever sizes
   * earlier calls used. A size other than the current plan's re-plans the activation buffers.
   */
  readonly height?: number;
  /** Input width (default: the height given, or the load-time width). */
  readonly width?: number;
}

/**
 * The most WASM memory one model may plan for its activations, so that an absurd input size is an
 * InputError up front rather than gigabytes grown and then a failure. 1 GiB is about 1,600x1,600 for v1.0.
 */
export const MAX_ACTIVATION_BYTES = 2 ** 30;

/** One layer's output, NCHW as PyTorch has it. */
export interface LayerOutput {
  readonly name: string;
  readonly shape: readonly [1, number, number, number];
  readonly data: Float32Array;
}

/** A convolution's packed weights and biases (byte offsets), and how it runs. */
interface ConvWeights {
  /**
   * `direct`: a plain 1x1, stride 1, no padding: the GEMM reads the activation map itself.
   * `padded1x1`: 1x1, stride 1, with padding (Caffe's conv10): the border is relu(bias), the
   * interior one GEMM over the whole map, copied in row by row.
   * `im2col`: im2col + GEMM, a band of output rows at a time (about 128 KiB of im2col rows).
   */
  readonly method: 'direct' | 'padded1x1' | 'im2col' | 'winograd' | 'sparse';
  /** GEMM-packed weights with bias; for Winograd the 16 transformed matrices. */
  readonly w: number;
  /** Winograd and sparse: the plain bias. */
  readonly bias: number;
  /** `sparse`: the kept weights in CSR by output channel (i32 row offsets, i32 input channels, f32 values). */
  readonly csr?: { readonly rows: number; readonly index: number; readonly values: number };
}

/** The largest share of non-zero weights at which a 1x1 convolution runs sparse. */
export const SPARSE_DENSITY = 0.3;

interface Buffers {
  readonly plan: Plan;
  /** The plan's convolutions by name, with the shapes of this input size. */
  readonly ops: ReadonlyMap<string, ConvOp>;
  readonly inputNCHW: number;
  readonly inputNHWC: number;
  readonly a: number;
  readonly b: number;
  readonly squeeze: number;
  readonly cols: number;
  /** Sparse 1x1: the input map channel-major. */
  readonly transposed: number;
  /** Winograd: transformed input tiles, and the 16 GEMM products. */
  readonly wgInput: number;
  readonly wgProducts: number;
  /** The complex bypass's 1x1 convolution output, before it is added. */
  readonly bypass: number;
  readonly logits: number;
}

const floats = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);

export class SqueezeNet {
  private buffers: Buffers;
  private disposed = false;
  /** The preprocessing the weights expect (`LoadOptions.recipe`); `classify` uses it. */
  readonly recipe: Recipe = 'torchvision';

  private constructor(
    readonly arch: Arch,
    private readonly kernels: Kernels,
    private readonly arena: Arena,
    private readonly convs: ReadonlyMap<string, ConvWeights>,
    private readonly weightsEnd: number,
    private readonly height: number,
    private readonly width: number,
  ) {
    this.buffers = this.planActivations(height, width);
  }

  /** Instantiates the kernels, checks and packs the weights, and plans every buffer. */
  static async load(options: LoadOptions): Promise<SqueezeNet> {
    const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.1'];
    if (arch === undefined) {
      throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
    }
    const [height, width] = Array.isArray(options.inputSize)
      ? (options.inputSize as [number, number])
      : [(options.inputSize as number | undefined) ?? arch.input, (options.inputSize as number | undefined) ?? arch.input];
    const p = plan(arch, height, width);
    const weights = checkWeights(p, options.weights);
    const kernels = await instantiate(options.wasm, { debug: options.debug === true });
    const arena = new Arena(kernels);
    const convs = new Map<string, ConvWeights>();
    for (const op of p.convs) {
      const weight = weights.get(`${op.param}.weight`)!;
      const bias = weights.get(`${op.param}.bias`)!;
      const winograd = options.winograd !== false && winogradApplies(op.inC, op.outC, op.kernel, op.stride, op.pad);
      const pointwise = op.kernel === 1 && op.stride === 1;
      let nonzero = 0;
      if (pointwise && options.sparse !== false) for (let i = 0; i < weight.length; i++) if (weight[i] !== 0) nonzero++;
      const sparse = pointwise && options.sparse !== false && nonzero <= SPARSE_DENSITY * weight.length;
      const size = sparse ? 0 : (winograd ? 16 : 1) * packedGemmSize(op.outC, op.inC, winograd ? 1 : op.kernel);
      const w = arena.alloc(size);
      const b = arena.alloc(op.outC);
      // Raw tensors go to scratch past the packed weights; packing and the finiteness check run in WASM.
      const scratch = arena.mark();
      const raw = arena.alloc(weight.length);
      arena.view(raw, weight.length).set(weight);
      arena.view(b, bias.length).set(bias);
      for (const [name, at, n] of [[`${op.param}.weight`, raw, weight.length], [`${op.param}.bias`, b, bias.length]] as const) {
        const bad = kernels.f32_find_nonfinite(at, n);
        if (bad >= 0) throw new WeightError(`value ${arena.view(at, n)[bad]} at index ${bad} is not finite`, name);
      }
      if (sparse) {
        arena.release(scratch);
        convs.set(op.name, { method: 'sparse', w, bias: b, csr: packCsr(arena, weight, op.outC, op.inC, nonzero) });
        continue;
      }
      if (winograd) {
        kernels.f32_pack_winograd23(raw, op.outC, op.inC, arena.alloc(16 * op.outC * op.inC), w);
      } else {
        kernels.f32_pack_gemm(raw, b, op.outC, op.inC, op.kernel, w);
      }
      arena.release(scratch);
      const method = winograd ? 'winograd' : pointwise ? (op.pad === 0 ? 'direct' : 'padded1x1') : 'im2col';
      convs.set(op.name, { method, w, bias: b });
    }
    const model = new SqueezeNet(arch, kernels, arena, convs, arena.mark(), height, width);
    (model as { recipe: Recipe }).recipe = options.recipe ?? (isCaffeForm(arch) ? 'caffe' : 'torchvision');
    if (options.warmup !== false) model.warmup();
    return model;
  }

  /** The plan for the current input size: Table 1's rows with shapes, parameters and MACs. */
  get plan(): Plan {
    return this.buffers.plan;
  }

  /** How many classes `run` scores: conv10's filters (1000 for ImageNet). */
  get classes(): number {
    return this.buffers.plan.rows.at(-1)!.output[0];
  }

  /** Bytes of WebAssembly memory this model holds (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.disposed ? 0 : this.arena.memoryBytes;
  }

  /**
   * Runs the network on one NCHW image (`3 * height * width` values, finite) and returns its
   * logits, one per class ({@link classes}: 1000 for ImageNet).
   * Values that are NaN or infinite are rejected with an InputError rather than propagated.
   */
  run(input: Float32Array, options?: RunOptions): Float32Array {
    this.prepare(input, options);
    this.forward();
    return this.logits();
  }

  /** Like `run`, and returns every layer's output too (copied out, NCHW): for conformance tests. */
  trace(input: Float32Array, options?: RunOptions): { logits: Float32Array; layers: LayerOutput[] } {
    this.prepare(input, options);
    const layers: LayerOutput[] = [];
    this.forward(layers);
    return { logits: this.logits(), layers };
  }

  /** Runs once and returns the milliseconds each row of the table took (for `npm run bench -- --layers`). */
  profile(input: Float32Array, options?: RunOptions): { name: string; ms: number }[] {
    this.prepare(input, options);
    const times: { name: string; ms: number }[] = [];
    this.forward(undefined, times);
    return times;
  }

  /**
   * Lets go of the WebAssembly instance and its memory (a WebAssembly.Memory cannot shrink, so it
   * is freed when the garbage collector takes it). Any later call throws DisposedError.
   */
  dispose(): void {
    this.disposed = true;
    const self = this as unknown as { kernels: Kernels | null; arena: Arena | null };
    self.kernels = null;
    self.arena = null;
  }

  // V8 runs new WASM code in its baseline compiler and tiers hot functions up after enough work;
  // one pass at a small size spends that budget before the caller's first image.
  private warmup(): void {
    const [, height, width] = this.buffers.plan.input;
    for (const size of [35, 47, 63]) {
      if (size >= height && size >= width) return;
      try {
        this.buffers = this.planActivations(size, size);
      } catch {
        continue;
      }
      this.arena.view(this.buffers.inputNCHW, 3 * size * size).fill(0);
      this.forward();
      break;
    }
    this.buffers = this.planActivations(height, width);
    // Touch every activation page now rather than on the first image.
    this.arena.view(this.weightsEnd, (this.arena.mark() - this.weightsEnd) / 4).fill(0);
  }

  // The logits, checked: finite inputs can still overflow float32 inside the network (values near
  // 3e38), and a NaN logit would be a wrong answer, not an answer.
  private logits(): Float32Array {
    const out = this.arena.view(this.buffers.logits, this.plan.rows.at(-1)!.output[0]).slice();
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new InputError(`logit ${bad} is ${out[bad]}: the input overflowed float32 inside the network (its values are too large)`);
    }
    return out;
  }

  private prepare(input: Float32Array, options: RunOptions | undefined): void {
    if (this.disposed) throw new DisposedError('this SqueezeNet was disposed');
    if (options === null || (options !== undefined && typeof options !== 'object')) {
      throw new InputError(`run options must be an object like { height, width }, got ${options === null ? 'null' : typeof options}`);
    }
    const current = this.buffers.plan.input;
    const height = options?.height ?? this.height;
    const width = options?.width ?? (options?.height ?? this.width);
    for (const [name, v] of [['height', height], ['width', width]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InputError(`${name} must be a positive integer, got ${String(v)}`);
    }
    if (!(input instanceof Float32Array)) throw new InputError('input must be a Float32Array (NCHW, 1x3xHxW)');
    const n = 3 * height * width;
    if (input.length !== n) {
      throw new InputError(`input has ${input.length} values; 1x3x${height}x${width} needs ${n}`);
    }
    if (height !== current[1] || width !== current[2]) this.replan(height, width);
    // Copied in first, then checked in WASM: a JS loop here would run in the interpreter on the
    // first image of a fresh process.
    this.arena.view(this.buffers.inputNCHW, n).set(input);
    const bad = this.kernels.f32_find_nonfinite(this.buffers.inputNCHW, n);
    if (bad >= 0) {
      const c = Math.floor(bad / (height * width));
      const r = bad % (height * width);
      throw new InputError(`input value ${input[bad]} at [0, ${c}, ${Math.floor(r / width)}, ${r % width}] is not finite`);
    }
  }

  // Re-plans for a new size; on failure (too large, or the memory cannot grow) the old plan stays.
  private replan(height: number, width: number): void {
    const [, h0, w0] = this.buffers.plan.input;
    try {
      this.buffers = this.planActivations(height, width);
    } catch (e) {
      this.buffers = this.planActivations(h0, w0);
      throw e;
    }
  }

  // Activations live after the weights; a new input size re-plans only this part. The sizes are
  // added up and checked against MAX_ACTIVATION_BYTES before anything is released or grown.
  private planActivations(height: number, width: number): Buffers {
    const p = plan(this.arch, height, width);
    let act = 0;
    let squeeze = 0;
    let cols = 0;
    let transposed = 0;
    let bypass = 0;
    let wgInput = 0;
    let wgProducts = 0;
    for (const row of p.rows) act = Math.max(act, floats(row.output));
    for (const op of p.convs) {
      if (op.name.endsWith('.squeeze')) squeeze = Math.max(squeeze, op.outC * op.outH * op.outW);
      if (op.name.endsWith('.bypass')) bypass = Math.max(bypass, op.outC * op.outH * op.outW);
      const method = this.convs.get(op.name)!.method;
      if (method === 'padded1x1' || (method === 'sparse' && op.pad > 0)) cols = Math.max(cols, op.inH * op.inW * op.outC);
      if (method === 'sparse') transposed = Math.max(transposed, op.inC * op.inH * op.inW);
      if (method === 'im2col') cols = Math.max(cols, bandRows(op) * op.outW * op.inC * op.kernel * op.kernel);
      if (method === 'winograd') {
        const tiles = Math.ceil(op.outH / 2) * Math.ceil(op.outW / 2);
        wgInput = Math.max(wgInput, 16 * tiles * op.inC);
        wgProducts = Math.max(wgProducts, 16 * tiles * op.outC);
      }
    }
    const n = floats(p.input);
    const logits = p.rows.at(-1)!.output[0];
    const bytes = 4 * (2 * n + 2 * act + squeeze + cols + transposed + wgInput + wgProducts + bypass + logits);
    if (bytes > MAX_ACTIVATION_BYTES) {
      throw new InputError(
        `a ${height}x${width} input needs over ${Math.floor(bytes / 2 ** 20)} MiB of activations; ` +
          `at most ${MAX_ACTIVATION_BYTES / 2 ** 20} MiB is planned (resize the image first)`,
      );
    }
    this.arena.release(this.weightsEnd);
    return {
      plan: p,
      ops: new Map(p.convs.map((op) => [op.name, op])),
      inputNCHW: this.arena.alloc(n),
      inputNHWC: this.arena.alloc(n),
      a: this.arena.alloc(act),
      b: this.arena.alloc(act),
      squeeze: this.arena.alloc(squeeze),
      cols: this.arena.alloc(cols),
      transposed: this.arena.alloc(transposed),
      wgInput: this.arena.alloc(wgInput),
      wgProducts: this.arena.alloc(wgProducts),
      bypass: this.arena.alloc(bypass),
      logits: this.arena.alloc(logits),
    };
  }

  // One step per row of Table 1; activations ping-pong between buffers a and b (NHWC).
  private forward(trace?: LayerOutput[], times?: { name: string; ms: number }[]): void {
    const { kernels: k, buffers: b } = this;
    const [, height, width] = b.plan.input;
    let t0 = times ? performance.now() : 0;
    k.f32_nchw_to_nhwc(b.inputNCHW, 3, height * width, b.inputNHWC);
    let x = b.inputNHWC;
    for (const row of b.plan.rows) {
      let y = x === b.a ? b.b : b.a;
      const [c, h, w] = row.output;
      const spec = row.spec;
      switch (spec.kind) {
        case 'conv':
          // conv1 / conv10: im2col unless plain 1x1, then GEMM with bias and ReLU fused
          this.conv(spec.name, x, y, c, 0, trace);
          break;
        case 'maxpool':
          // maxpool: 3x3 / 2, output size rounded as the table says (ceil for Caffe and torchvision)
          k.f32_maxpool_nhwc(x, row.input[1], row.input[2], row.input[0], spec.size, spec.stride, 0, h, w, y);
          break;
        case 'fire':
          // fire: squeeze 1x1 -> expand 1x1 | expand 3x3 -> concat, each branch writing its channel slice
          this.conv(`${spec.name}.squeeze`, x, b.squeeze, spec.s1x1, 0, trace);
          this.conv(`${spec.name}.expand1x1`, b.squeeze, y, c, 0, trace);
          this.conv(`${spec.name}.expand3x3`, b.squeeze, y, c, spec.e1x1, trace);
          if (spec.bypass === 'simple') {
            // simple bypass: + the module's input
            k.f32_add_inplace(y, x, c * h * w);
          } else if (spec.bypass === 'complex') {
            // complex bypass: + a 1x1 convolution of the module's input (no ReLU)
            this.conv(`${spec.name}.bypass`, x, b.bypass, c, 0, trace, false);
            k.f32_add_inplace(y, b.bypass, c * h * w);
          }
          break;
        case 'avgpool':
          // avgpool10: global average, one logit per class
          y = b.logits;
          k.f32_global_avgpool_nhwc(x, row.input[1] * row.input[2], row.input[0], y);
          break;
      }
      trace?.push(this.capture(spec.name, y, c, h, w, c, 0));
      if (times) {
        const t = performance.now();
        times.push({ name: spec.name, ms: t - t0 });
        t0 = t;
      }
      x = y;
    }
  }

  private conv(name: string, x: number, y: number, ldc: number, channelOffset: number, trace?: LayerOutput[], relu = true): void {
    const { w, method, bias, csr } = this.convs.get(name)!;
    const op = this.buffers.ops.get(name)!;
    const k = this.kernels;
    const m = op.outH * op.outW;
    const out = y + channelOffset * 4;
    if (method === 'direct') {
      k.f32_gemm_4x8(m, op.outC, op.inC, x, op.inC, w, out, ldc, relu ? 1 : 0);
    } else if (method === 'padded1x1') {
      // one GEMM over the whole map (a GEMM per row would stream the weights once per row),
      // then its rows into the interior of the relu(bias)-filled output
      const r = relu ? 1 : 0;
      const cols = this.buffers.cols;
      k.f32_gemm_4x8(op.inH * op.inW, op.outC, op.inC, x, op.inC, w, cols, op.outC, r);
      this.pad1x1(op, cols, out, ldc, bias, r);
    } else if (method === 'sparse') {
      // the map channel-major, then only the kept weights
      const r = relu ? 1 : 0;
      const pixels = op.inH * op.inW;
      const { transposed, cols } = this.buffers;
      k.f32_nchw_to_nhwc(x, pixels, op.inC, transposed);
      const { rows, index, values } = csr!;
      if (op.pad === 0) {
        k.f32_spmm_1x1(pixels, op.outC, transposed, rows, index, values, bias, out, ldc, r);
      } else {
        k.f32_spmm_1x1(pixels, op.outC, transposed, rows, index, values, bias, cols, op.outC, r);
        this.pad1x1(op, cols, out, ldc, bias, r);
      }
    } else if (method === 'winograd') {
      const { wgInput: v, wgProducts: prod } = this.buffers;
      const th = Math.ceil(op.outH / 2);
      const tw = Math.ceil(op.outW / 2);
      const tiles = th * tw;
      const stride = packedGemmSize(op.outC, op.inC, 1) * 4;
      k.f32_winograd23_input_nhwc(x, op.inH, op.inW, op.inC, th, tw, v);
      for (let xi = 0; xi < 16; xi++) {
        k.f32_gemm_4x8(tiles, op.outC, op.inC, v + xi * tiles * op.inC * 4, op.inC, w + xi * stride, prod + xi * tiles * op.outC * 4, op.outC, 0);
      }
      k.f32_winograd23_output_nhwc(prod, th, tw, op.outC, bias, out, op.outH, op.outW, ldc, relu ? 1 : 0);
    } else {
      // band by band, so that the GEMM reads the im2col rows from cache, not from memory
      const depth = op.inC * op.kernel * op.kernel;
      const cols = this.buffers.cols;
      const band = bandRows(op);
      for (let oy = 0; oy < op.outH; oy += band) {
        const end = Math.min(oy + band, op.outH);
        k.f32_im2col_nhwc_rows(x, op.inH, op.inW, op.inC, op.kernel, op.kernel, op.stride, op.pad, oy, end, op.outW, cols);
        k.f32_gemm_4x8((end - oy) * op.outW, op.outC, depth, cols, depth, w, out + oy * op.outW * ldc * 4, ldc, relu ? 1 : 0);
      }
    }
    if (trace && name.includes('.')) trace.push(this.capture(name, y, op.outC, op.outH, op.outW, ldc, channelOffset));
  }

  // A padded 1x1's output: relu(bias) everywhere, then the unpadded result (rows of outC) inside.
  private pad1x1(op: ConvOp, result: number, out: number, ldc: number, bias: number, relu: number): void {
    this.kernels.f32_fill_rows(out, op.outH * op.outW, op.outC, ldc, bias, relu);
    const f32 = this.arena.f32;
    // a whole interior row at once when the output holds only this layer's channels (ldc = outC)
    const run = ldc === op.outC ? op.inW : 1;
    for (let iy = 0; iy < op.inH; iy++) {
      for (let ix = 0; ix < op.inW; ix += run) {
        const src = (result >>> 2) + (iy * op.inW + ix) * op.outC;
        f32.copyWithin((out >>> 2) + ((iy + op.pad) * op.outW + ix + op.pad) * ldc, src, src + run * op.outC);
      }
    }
  }

  // NHWC (with row stride ldc, starting at channel `first`) to a fresh NCHW array.
  private capture(name: string, at: number, c: number, h: number, w: number, ldc: number, first: number): LayerOutput {
    const src = this.arena.f32;
    const base = (at >>> 2) + first;
    const data = new Float32Array(c * h * w);
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) data[ch * h * w + p] = src[base + p * ldc + ch]!;
    }
    return { name, shape: [1, c, h, w], data };
  }
}

/** CSR of a [outC][inC] weight matrix in the arena: i32 row offsets, i32 input channels, f32 values. */
function packCsr(arena: Arena, weight: Float32Array, outC: number, inC: number, nonzero: number): { rows: number; index: number; values: number } {
  const rows = arena.alloc(outC + 1);
  const index = arena.alloc(Math.max(1, nonzero));
  const values = arena.alloc(Math.max(1, nonzero));
  const buffer = arena.f32.buffer;
  const r = new Int32Array(buffer, rows, outC + 1);
  const ix = new Int32Array(buffer, index, nonzero);
  const v = new Float32Array(buffer, values, nonzero);
  let q = 0;
  for (let o = 0; o < outC; o++) {
    r[o] = q;
    for (let i = 0; i < inC; i++) {
      const w = weight[o * inC + i]!;
      if (w !== 0) {
        ix[q] = i;
        v[q++] = w;
      }
    }
  }
  r[outC] = q;
  return { rows, index, values };
}

/** Output rows per im2col band: about 128 KiB of rows, well inside L2. */
const BAND_BYTES = 128 * 1024;
function bandRows(op: ConvOp): number {
  return Math.max(1, Math.min(op.outH, Math.floor(BAND_BYTES / (op.outW * op.inC * op.kernel * op.kernel * 4))));
}

export type { Row };
