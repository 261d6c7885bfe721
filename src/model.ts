// The engine: plans the arena for a network and runs it, one step per row of Table 1. How each
// convolution runs (method, packed weights, scratch, kernel calls) is src/conv.ts's.

import { ARCHS, isCaffeForm, type Arch, type ArchName } from './arch.js';
import { Arena } from './arena.js';
import {
  SPARSE_DENSITY,
  chooseConvMethod,
  convLayer,
  convScratchFloats,
  packConv,
  runConv,
  type ConvLayer,
  type ConvMethod,
  type ConvScratch,
  type PackedConv,
} from './conv.js';
import { DisposedError, InputError } from './errors.js';
import { plan, type Plan, type Row } from './plan.js';
import type { Recipe } from './preprocess.js';
import { instantiate, type WasmSource } from './wasm.js';
import { checkWeights, type WeightMap } from './weights.js';

export { SPARSE_DENSITY, type ConvMethod };

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

const floats = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);
const most = (xs: readonly number[]): number => xs.reduce((m, v) => Math.max(m, v), 0);

// The run state, as llama2.c declares its RunState: every activation and scratch buffer of one
// input size, each with its size in floats. planActivations lays them out in this order after
// the weights and checks their sum; forward() touches nothing else.
function runStateFloats(p: Plan, convs: ReadonlyMap<string, PackedConv>) {
  const outputs = (suffix: string): number[] => p.convs.filter((op) => op.name.endsWith(suffix)).map((op) => op.outC * op.outH * op.outW);
  const scratch = p.convs.map((op) => convScratchFloats(convs.get(op.name)!.method, op));
  const activations = most(p.rows.map((row) => floats(row.output)));
  return {
    inputNCHW: floats(p.input), // the caller's image, NCHW: 3 x H x W
    inputNHWC: floats(p.input), // the same, NHWC
    a: activations, // activations (NHWC), ping-pong with b: the largest C x H x W of any row
    b: activations,
    squeeze: most(outputs('.squeeze')), // a Fire module's squeeze output: the largest s1x1 x H x W
    // convolution scratch (src/conv.ts convScratchFloats), each the largest any layer needs:
    cols: most(scratch.map((s) => s.cols)), // an im2col band, or a padded 1x1's unpadded result
    transposed: most(scratch.map((s) => s.transposed)), // a sparse 1x1's input map, channel-major
    wgInput: most(scratch.map((s) => s.wgInput)), // Winograd's transformed input tiles, 16 x tiles x inC
    wgProducts: most(scratch.map((s) => s.wgProducts)), // Winograd's 16 GEMM products, 16 x tiles x outC
    bypass: most(outputs('.bypass')), // a complex bypass's 1x1 output before it is added: C x H x W
    logits: p.rows.at(-1)!.output[0], // one per class
  };
}

/** The run state's buffers (byte offsets), the plan they were sized for, and each convolution at that size. */
type Buffers = Readonly<ReturnType<typeof runStateFloats>> & {
  readonly plan: Plan;
  readonly layers: ReadonlyMap<string, ConvLayer>;
};

/**
 * SqueezeNet on the WebAssembly SIMD kernels. One instance owns one kernel instance and its
 * memory: the packed weights, then every activation and scratch buffer for one input size.
 *
 * Input: one image as an NCHW Float32Array of 1 x 3 x height x width values, preprocessed for the
 * weights (`preprocess`: Caffe's BGR minus the mean for `v1.0-caffe`, torchvision's normalised RGB
 * otherwise). Output: the logits, one float32 per class (1000 for ImageNet), before softmax.
 * Inside, activations are NHWC and every layer runs in the order of the arch table (Table 1).
 * Calls are synchronous, on the calling thread, and allocate no WASM memory at the planned size;
 * an instance is not shared between threads (`SqueezeNetPool` gives each worker its own).
 */
export class SqueezeNet {
  private buffers: Buffers;
  private arena: Arena | null;
  private readonly methods: ReadonlyMap<string, ConvMethod>;
  /** The preprocessing the weights expect (`LoadOptions.recipe`); `classify` uses it. */
  readonly recipe: Recipe = 'torchvision';

  private constructor(
    readonly arch: Arch,
    arena: Arena,
    private readonly convs: ReadonlyMap<string, PackedConv>,
    private readonly weightsEnd: number,
    private readonly height: number,
    private readonly width: number,
  ) {
    this.arena = arena;
    this.methods = new Map([...convs].map(([name, c]) => [name, c.method]));
    this.buffers = this.planActivations(height, width);
  }

  /**
   * Instantiates the kernels, checks the weights against the network, packs them for the method
   * each convolution runs by (src/conv.ts), plans every buffer for `inputSize`, and (unless
   * `warmup: false`) runs the network once on small blank inputs.
   *
   * @throws InputError if `options` is not an object, `arch` names no network, `inputSize` is not
   *   a positive integer (or pair), the input size is too small for the network (a window larger
   *   than its map), or its activations would take more than MAX_ACTIVATION_BYTES.
   * @throws WeightError naming the tensor if `weights` is not a Map or object, or a tensor is
   *   missing, unexpected, not a Float32Array, of the wrong shape or length, or holds a NaN or an
   *   infinity (with its index).
   * @throws WasmError if the runtime has no WebAssembly SIMD or the kernels cannot be read,
   *   compiled or instantiated (and, with `debug`, when a kernel's assertion fails).
   * @throws SqueezeNetError if an `Arch` table cannot be built (a simple bypass whose input and
   *   output channels differ) or the WASM memory cannot grow to what the model needs.
   */
  static async load(options: LoadOptions): Promise<SqueezeNet> {
    if (options === null || typeof options !== 'object') {
      throw new InputError(`load options must be an object like { arch, weights }, got ${options === null ? 'null' : typeof options}`);
    }
    const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.1'];
    if (arch === undefined) {
      throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
    }
    const [height, width] = Array.isArray(options.inputSize)
      ? (options.inputSize as [number, number])
      : [(options.inputSize as number | undefined) ?? arch.input, (options.inputSize as number | undefined) ?? arch.input];
    const p = plan(arch, height, width);
    const weights = checkWeights(p, options.weights);
    const arena = new Arena(await instantiate(options.wasm, { debug: options.debug === true }));
    const convs = new Map<string, PackedConv>();
    for (const op of p.convs) {
      const names = { weight: `${op.param}.weight`, bias: `${op.param}.bias` };
      const weight = weights.get(names.weight)!;
      convs.set(op.name, packConv(arena, op, weight, weights.get(names.bias)!, chooseConvMethod(op, weight, options), names));
    }
    const model = new SqueezeNet(arch, arena, convs, arena.mark(), height, width);
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

  /** Bytes of WebAssembly memory this model holds (weights, activations, scratch); 0 once disposed. */
  get memoryBytes(): number {
    return this.arena?.memoryBytes ?? 0;
  }

  /**
   * How each convolution runs (src/conv.ts), by layer name (`conv1`, `fire2.squeeze`, ...,
   * `conv10`): chosen at load from its shape, its weights and the `winograd` and `sparse` options.
   */
  get convMethods(): ReadonlyMap<string, ConvMethod> {
    return new Map(this.methods);
  }

  /**
   * Runs the network on one image and returns its logits.
   *
   * @param input NCHW, 1 x 3 x height x width float32 values, preprocessed; every value finite
   *   (a NaN or an infinity is rejected, not propagated).
   * @param options `{ height, width }` of this input; default the load-time size. Another size
   *   re-plans the activation buffers (the weights stay) and stays planned for later calls that
   *   give it.
   * @returns a new Float32Array of the logits, one per class (1000 for ImageNet), before softmax.
   * @throws DisposedError after `dispose()`.
   * @throws InputError if `options` is not an object; `height` or `width` is not a positive
   *   integer; `input` is not a Float32Array of 3 x height x width values; a value is NaN or
   *   infinite (named by its [0, c, y, x]); the size is too small for the network or its
   *   activations would take more than MAX_ACTIVATION_BYTES (the previous plan stays); or a logit
   *   overflowed float32 (input values too large).
   * @throws SqueezeNetError if the WASM memory cannot grow to a new size's activations (the
   *   previous plan stays).
   */
  run(input: Float32Array, options?: RunOptions): Float32Array {
    this.prepare(input, options);
    this.forward();
    return this.logits();
  }

  /**
   * Like `run`, and returns every layer's output too: for conformance tests against PyTorch.
   *
   * @returns `logits` as `run` returns them, and `layers` in the order they run: each convolution
   *   inside a Fire module (`fire2.squeeze`, `fire2.expand1x1`, `fire2.expand3x3`, and
   *   `fire2.bypass` before it is added) and each row of Table 1 (`conv1`, `maxpool1`, `fire2`,
   *   ..., `conv10`, `avgpool10`). Each is a new NCHW Float32Array of shape [1, C, H, W] after the
   *   layer's ReLU where it has one (avgpool10: [1, classes, 1, 1], the logits).
   * @throws as `run` does.
   */
  trace(input: Float32Array, options?: RunOptions): { logits: Float32Array; layers: LayerOutput[] } {
    this.prepare(input, options);
    const layers: LayerOutput[] = [];
    this.forward(layers);
    return { logits: this.logits(), layers };
  }

  /**
   * Runs once and times each row of Table 1 (for `npm run bench -- --layers`).
   *
   * @returns one `{ name, ms }` per row in the order they run (`conv1`, `maxpool1`, `fire2`, ...,
   *   `avgpool10`): milliseconds of wall time (`performance.now()`); conv1's includes the NCHW to
   *   NHWC transpose of the input.
   * @throws as `run` does, except that the logits are not checked.
   */
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
    this.arena = null;
  }

  // The arena (and through it the kernels) of a model not disposed.
  private get live(): Arena {
    if (this.arena === null) throw new DisposedError('this SqueezeNet was disposed');
    return this.arena;
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
      this.live.view(this.buffers.inputNCHW, 3 * size * size).fill(0);
      this.forward();
      break;
    }
    this.buffers = this.planActivations(height, width);
    // Touch every activation page now rather than on the first image.
    this.live.view(this.weightsEnd, (this.live.mark() - this.weightsEnd) / 4).fill(0);
  }

  // The logits, checked: finite inputs can still overflow float32 inside the network (values near
  // 3e38), and a NaN logit would be a wrong answer, not an answer.
  private logits(): Float32Array {
    const out = this.live.view(this.buffers.logits, this.plan.rows.at(-1)!.output[0]).slice();
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new InputError(`logit ${bad} is ${out[bad]}: the input overflowed float32 inside the network (its values are too large)`);
    }
    return out;
  }

  private prepare(input: Float32Array, options: RunOptions | undefined): void {
    const arena = this.live;
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
    arena.view(this.buffers.inputNCHW, n).set(input);
    const bad = arena.kernels.f32_find_nonfinite(this.buffers.inputNCHW, n);
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
    const sizes = runStateFloats(p, this.convs);
    const bytes = 4 * Object.values(sizes).reduce((sum, n) => sum + n, 0);
    if (bytes > MAX_ACTIVATION_BYTES) {
      throw new InputError(
        `a ${height}x${width} input needs over ${Math.floor(bytes / 2 ** 20)} MiB of activations; ` +
          `at most ${MAX_ACTIVATION_BYTES / 2 ** 20} MiB is planned (resize the image first)`,
      );
    }
    const arena = this.live;
    arena.release(this.weightsEnd);
    const state = Object.fromEntries(Object.entries(sizes).map(([name, n]) => [name, arena.alloc(n)])) as typeof sizes;
    const scratch: ConvScratch = { cols: state.cols, transposed: state.transposed, wgInput: state.wgInput, wgProducts: state.wgProducts };
    const layers = new Map(p.convs.map((op) => [op.name, convLayer(op, this.convs.get(op.name)!, scratch)]));
    return { ...state, plan: p, layers };
  }

  // One step per row of Table 1; activations ping-pong between buffers a and b (NHWC).
  private forward(trace?: LayerOutput[], times?: { name: string; ms: number }[]): void {
    const { buffers: b } = this;
    const k = this.live.kernels;
    const [, height, width] = b.plan.input;
    let t0 = times ? performance.now() : 0;
    // the input NCHW -> NHWC: a transpose of 3 rows of height * width pixels
    k.f32_transpose(b.inputNCHW, 3, height * width, b.inputNHWC);
    let x = b.inputNHWC;
    for (const row of b.plan.rows) {
      let y = x === b.a ? b.b : b.a;
      const [c, h, w] = row.output;
      const spec = row.spec;
      switch (spec.kind) {
        case 'conv':
          // conv1 / conv10: by the method src/conv.ts chose, bias and ReLU fused
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

  // One convolution as src/conv.ts lowers it: output channels [first, first + outC) of rows of ldc.
  private conv(name: string, x: number, y: number, ldc: number, first: number, trace?: LayerOutput[], relu = true): void {
    const layer = this.buffers.layers.get(name)!;
    runConv(this.live, layer, { x, y, ldc, first, relu });
    if (trace && name.includes('.')) trace.push(this.capture(name, y, layer.outC, layer.outH, layer.outW, ldc, first));
  }

  // NHWC (with row stride ldc, starting at channel `first`) to a fresh NCHW array.
  private capture(name: string, at: number, c: number, h: number, w: number, ldc: number, first: number): LayerOutput {
    const src = this.live.f32;
    const base = (at >>> 2) + first;
    const data = new Float32Array(c * h * w);
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) data[ch * h * w + p] = src[base + p * ldc + ch]!;
    }
    return { name, shape: [1, c, h, w], data };
  }
}

export type { Row };
