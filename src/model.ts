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
  type ConvLayer,
  type ConvMethod,
  type ConvScratch,
  type PackedConv,
} from './conv.js';
import { DisposedError, InputError, SqueezeNetError } from './errors.js';
import { plan, type Plan, type Row } from './plan.js';
import type { Recipe } from './preprocess.js';
import { runShare, shareOf, type Capture, type Share, type Stage } from './schedule.js';
import { PROFILE, TRACE, ThreadTeam, availableCores, threadsUnavailable } from './threads.js';
import { chooseSimd, compileKernels, importsMemory, instantiate, type Kernels, type SimdFlavor, type WasmSource } from './wasm.js';
import { checkWeights, type WeightMap } from './weights.js';

export { SPARSE_DENSITY, type ConvMethod, type SimdFlavor };

/** The most threads a model may ask for. */
export const MAX_THREADS = 256;

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
  /**
   * Threads one image's layers are split across (1 to {@link MAX_THREADS}). Default: the
   * available cores (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in a
   * cross-origin-isolated page). Runs on one thread, whatever is asked, where there is no shared
   * memory (Cloudflare Workers, a page without COOP/COEP headers), with the debug build, or with a
   * `wasm` that is the single-thread build: `model.threads` and `model.threadsReason` say so.
   * Logits are bit for bit the same for any number of threads.
   */
  readonly threads?: number;
  /**
   * `relaxed`: the build whose GEMMs use relaxed SIMD's fused f32x4.relaxed_madd (one rounding
   * per multiply-add); `plain`: multiply, then add. Default: relaxed where `WebAssembly.validate`
   * accepts it (Node >= 22, Chrome >= 114, Firefox >= 145), plain otherwise. Ignored when `wasm`
   * is given (the module is what it is) and with `debug` (plain).
   */
  readonly simd?: SimdFlavor;
}

/** One row of `profile()`: wall milliseconds on the calling thread, and each thread's busy milliseconds. */
export interface ProfileRow {
  readonly name: string;
  /** Wall time of the row, on the calling thread (`performance.now()`). */
  readonly ms: number;
  /** Milliseconds each thread spent computing in this row (thread 0 first); the rest of `ms` it waited at barriers. */
  readonly threads: readonly number[];
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
function runStateFloats(p: Plan, convs: ReadonlyMap<string, PackedConv>, threads: number) {
  const outputs = (suffix: string): number[] => p.convs.filter((op) => op.name.endsWith(suffix)).map((op) => op.outC * op.outH * op.outW);
  // an im2col band per thread, each on its own cache lines
  const scratch = p.convs.map((op) => {
    const s = convScratchFloats(convs.get(op.name)!.method, op);
    return convs.get(op.name)!.method === 'im2col' ? { ...s, cols: threads * bandFloats(s.cols) } : s;
  });
  const activations = most(p.rows.map((row) => floats(row.output)));
  return {
    inputNCHW: floats(p.input), // the caller's image, NCHW: 3 x H x W
    inputNHWC: floats(p.input), // the same, NHWC
    a: activations, // activations (NHWC), ping-pong with b: the largest C x H x W of any row
    b: activations,
    squeeze: most(outputs('.squeeze')), // a Fire module's squeeze output: the largest s1x1 x H x W
    // convolution scratch (src/conv.ts convScratchFloats), each the largest any layer needs:
    cols: most(scratch.map((s) => s.cols)), // an im2col band per thread, or a padded 1x1's unpadded result
    transposed: most(scratch.map((s) => s.transposed)), // a sparse 1x1's input map, channel-major
    wgInput: most(scratch.map((s) => s.wgInput)), // Winograd's transformed input tiles, 16 x tiles x inC
    wgProducts: most(scratch.map((s) => s.wgProducts)), // Winograd's 16 GEMM products, 16 x tiles x outC
    bypass: most(outputs('.bypass')), // a complex bypass's 1x1 output before it is added: C x H x W
    logits: p.rows.at(-1)!.output[0], // one per class
  };
}

// Floats of one thread's im2col band, rounded up to whole 64-byte lines.
const bandFloats = (floats: number): number => Math.ceil(floats / 16) * 16;

/** The run state's buffers (byte offsets), the plan they were sized for, and the program that runs it. */
type Buffers = Readonly<ReturnType<typeof runStateFloats>> & {
  readonly plan: Plan;
  /** The forward pass as stages (src/schedule.ts). */
  readonly stages: readonly Stage[];
  /** Thread 0's share of each stage when the calling thread is one of `threads`; `whole`: every unit. */
  readonly shares: readonly Share[];
  readonly whole: readonly Share[];
  /** Where the program's JSON (for the worker threads) starts: the end of the run state. */
  readonly programAt: number;
};

// Worker threads of models nobody holds any more are stopped when the model is collected.
const orphans = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<ThreadTeam>((team) => team.dispose()) : undefined;

/** Largest shared memory asked for (pages of 64 KiB): 2 GiB; smaller ones are tried if the runtime refuses. */
const SHARED_MAX_PAGES = [32768, 16384, 8192];

/**
 * SqueezeNet on the WebAssembly SIMD kernels. One instance owns one kernel instance and its
 * memory: the packed weights, then every activation and scratch buffer for one input size; with
 * `threads` > 1, that memory is shared with the model's worker threads, each with its own instance
 * of the same kernels (src/threads.ts).
 *
 * Input: one image as an NCHW Float32Array of 1 x 3 x height x width values, preprocessed for the
 * weights (`preprocess`: Caffe's BGR minus the mean for `v1.0-caffe`, torchvision's normalised RGB
 * otherwise). Output: the logits, one float32 per class (1000 for ImageNet), before softmax.
 * Inside, activations are NHWC and every layer runs in the order of the arch table (Table 1).
 * `run` is synchronous and allocates no WASM memory at the planned size; it splits each layer
 * across the model's threads where the calling thread may block (Node, a Web Worker), and runs
 * alone on a page's main thread, where `runAsync` uses the threads. An instance serves one call at
 * a time (`SqueezeNetPool` gives each of its workers its own).
 */
export class SqueezeNet {
  private buffers!: Buffers;
  private arena: Arena | null;
  private readonly methods: ReadonlyMap<string, ConvMethod>;
  private team: ThreadTeam | undefined;
  /** A runAsync in flight, which later calls wait for. */
  private pending: Promise<unknown> = Promise.resolve();
  private running = false;
  /** Threads each image is split across (1: the calling thread alone). */
  readonly threads: number;
  /** Why `threads` is what it is: asked for, the available cores, or why there is only one. */
  readonly threadsReason: string;
  /** Which kernels run: `relaxed` (fused multiply-add) or `plain` SIMD. */
  readonly simd: SimdFlavor;
  /** The preprocessing the weights expect (`LoadOptions.recipe`); `classify` uses it. */
  readonly recipe: Recipe = 'torchvision';

  private constructor(
    readonly arch: Arch,
    arena: Arena,
    private readonly convs: ReadonlyMap<string, PackedConv>,
    private readonly weightsEnd: number,
    private readonly height: number,
    private readonly width: number,
    threads: { readonly threads: number; readonly reason: string },
  ) {
    this.arena = arena;
    this.methods = new Map([...convs].map(([name, c]) => [name, c.method]));
    this.threads = threads.threads;
    this.threadsReason = threads.reason;
    this.simd = arena.kernels.simd_relaxed() === 1 ? 'relaxed' : 'plain';
    this.buffers = this.planActivations(height, width);
  }

  /**
   * Instantiates the kernels, starts the worker threads, checks the weights against the network,
   * packs them for the method each convolution runs by (src/conv.ts), plans every buffer for
   * `inputSize`, and (unless `warmup: false`) runs the network once on small blank inputs.
   *
   * @throws InputError if `options` is not an object, `arch` names no network, `inputSize` is not
   *   a positive integer (or pair), `threads` is not an integer from 1 to MAX_THREADS, the input
   *   size is too small for the network (a window larger than its map), or its activations would
   *   take more than MAX_ACTIVATION_BYTES.
   * @throws WeightError naming the tensor if `weights` is not a Map or object, or a tensor is
   *   missing, unexpected, not a Float32Array, of the wrong shape or length, or holds a NaN or an
   *   infinity (with its index).
   * @throws WasmError if the runtime has no WebAssembly SIMD, `simd: 'relaxed'` is asked for where
   *   it has no relaxed SIMD, or the kernels cannot be read, compiled or instantiated (and, with
   *   `debug`, when a kernel's assertion fails).
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
    const asked = options.threads;
    if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1 || asked > MAX_THREADS)) {
      throw new InputError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${String(asked)}`);
    }
    const [height, width] = Array.isArray(options.inputSize)
      ? (options.inputSize as [number, number])
      : [(options.inputSize as number | undefined) ?? arch.input, (options.inputSize as number | undefined) ?? arch.input];
    const p = plan(arch, height, width);
    // Weights of another network loaded without `arch`: the errors say which one was assumed, and how to choose.
    const assumed = options.arch === undefined ? ` (no arch was given, so ${arch.name}, the default: pass arch, e.g. 'v1.0-caffe', or load(bytes), which infers it from the file)` : '';
    const weights = checkWeights(p, options.weights, assumed);
    const debug = options.debug === true;
    const simd = debug || options.wasm !== undefined ? 'plain' : chooseSimd(options.simd);
    // A given module is the threads build if it imports its memory; else the bundled builds decide.
    const given = options.wasm === undefined ? undefined : await compileKernels(options.wasm, debug);
    const threading = await decideThreads(asked, debug, given);
    let kernels: Kernels;
    let team: Promise<ThreadTeam> | undefined;
    if (threading.shared) {
      const module = given ?? (await compileKernels(undefined, false, { simd, threads: true }));
      const memory = sharedMemory();
      // the threads start while the weights are packed
      if (threading.threads > 1) {
        team = ThreadTeam.start(module, memory, threading.threads);
        team.catch(() => {});
      }
      kernels = await instantiate(module, { memory });
    } else {
      kernels = await instantiate(given ?? options.wasm, { debug, simd });
    }
    const arena = new Arena(kernels);
    const convs = new Map<string, PackedConv>();
    try {
      for (const op of p.convs) {
        const names = { weight: `${op.param}.weight`, bias: `${op.param}.bias` };
        const weight = weights.get(names.weight)!;
        convs.set(op.name, packConv(arena, op, weight, weights.get(names.bias)!, chooseConvMethod(op, weight, options), names));
      }
    } catch (e) {
      void team?.then((t) => t.dispose());
      throw e;
    }
    let threads = threading;
    let started: ThreadTeam | undefined;
    if (team !== undefined) {
      try {
        started = await team;
      } catch (e) {
        threads = { ...threading, threads: 1, reason: `the worker threads could not start (${(e as Error).message}): one thread` };
      }
    }
    const model = new SqueezeNet(arch, arena, convs, arena.mark(), height, width, threads);
    (model as { recipe: Recipe }).recipe = options.recipe ?? (isCaffeForm(arch) ? 'caffe' : 'torchvision');
    if (started !== undefined) model.attach(started);
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
   *   previous plan stays), or a `runAsync` is still running.
   * @throws WorkerError if a worker thread stopped (the model's threads are then unusable).
   */
  run(input: Float32Array, options?: RunOptions): Float32Array {
    this.prepare(input, options);
    this.forward();
    return this.logits();
  }

  /**
   * As `run`, as a promise. On a page's main thread, which may not block, this is the call that
   * runs on the model's threads (every thread a Web Worker; `run` there runs alone); elsewhere it
   * is `run`. Calls wait for the one before.
   *
   * @throws (rejects) as `run` does.
   */
  async runAsync(input: Float32Array, options?: RunOptions): Promise<Float32Array> {
    const team = this.team;
    if (team === undefined || team.participates) return this.run(input, options);
    const turn = this.pending.then(async () => {
      this.prepare(input, options);
      this.running = true;
      try {
        await team.runAsync(0);
      } finally {
        this.running = false;
      }
      return this.logits();
    });
    this.pending = turn.catch(() => {});
    return turn;
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
   * @returns one row per row of Table 1 in the order they run (`conv1`, `maxpool1`, `fire2`, ...,
   *   `avgpool10`): `ms`, milliseconds of wall time on the calling thread (`performance.now()`;
   *   conv1's includes the NCHW to NHWC transpose of the input), and `threads`, the milliseconds
   *   each thread spent computing in it (the rest it waited for the others).
   * @throws as `run` does, except that the logits are not checked.
   */
  profile(input: Float32Array, options?: RunOptions): ProfileRow[] {
    this.prepare(input, options);
    const rows: ProfileRow[] = [];
    this.forward(undefined, rows);
    return rows;
  }

  /**
   * Lets go of the WebAssembly instance and its memory (a WebAssembly.Memory cannot shrink, so it
   * is freed when the garbage collector takes it) and stops the worker threads. Any later call
   * throws DisposedError.
   */
  dispose(): void {
    this.arena = null;
    if (this.team !== undefined) {
      orphans?.unregister(this);
      this.team.dispose();
      this.team = undefined;
    }
  }

  // The arena (and through it the kernels) of a model not disposed.
  private get live(): Arena {
    if (this.arena === null) throw new DisposedError('this SqueezeNet was disposed');
    return this.arena;
  }

  // From now on the stages run on `team`'s threads: re-planned, so that the calling thread takes
  // its share only, and published to them.
  private attach(team: ThreadTeam): void {
    this.team = team;
    orphans?.register(this, team, this);
    const [, height, width] = this.buffers.plan.input;
    this.buffers = this.planActivations(height, width);
  }

  // V8 runs new WASM code in its baseline compiler and tiers hot functions up after enough work;
  // one pass at a small size spends that budget before the caller's first image (on every thread:
  // the worker threads share the compiled module, not their JavaScript).
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
      if (this.team !== undefined && !this.team.participates) {
        for (let s = 0; s < this.buffers.stages.length; s++) runShare(this.live, this.buffers.stages[s]!, this.buffers.whole[s]!, 0);
      } else {
        this.forward();
      }
      break;
    }
    this.buffers = this.planActivations(height, width);
    // Touch every activation page now rather than on the first image.
    this.live.view(this.weightsEnd, (this.buffers.programAt - this.weightsEnd) / 4).fill(0);
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
    if (this.running) throw new SqueezeNetError('a runAsync() of this model is still running: await it first');
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
  // added up and checked against MAX_ACTIVATION_BYTES before anything is released or grown. The
  // program (the forward pass as stages) follows, as JSON for the worker threads.
  private planActivations(height: number, width: number): Buffers {
    const p = plan(this.arch, height, width);
    const sizes = runStateFloats(p, this.convs, this.threads);
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
    const stages = this.program(p, state);
    const json = new TextEncoder().encode(JSON.stringify(stages));
    const programAt = arena.alloc(Math.ceil(json.length / 4));
    new Uint8Array(arena.kernels.memory.buffer, programAt, json.length).set(json);
    const n = this.team?.participates ? this.threads : 1;
    const buffers: Buffers = {
      ...state,
      plan: p,
      stages,
      shares: stages.map((s) => shareOf(s, 0, n)),
      whole: stages.map((s) => shareOf(s, 0, 1)),
      programAt,
    };
    this.publish(buffers, json.length);
    return buffers;
  }

  // Tells the threads where the current program is.
  private publish(b: Buffers, bytes: number): void {
    this.team?.publish(b.programAt, bytes, b.stages.length);
  }

  // The forward pass at one size as stages, one step per row of Table 1; activations ping-pong
  // between buffers a and b (NHWC).
  private program(p: Plan, b: ReturnType<typeof runStateFloats>): Stage[] {
    const stages: Stage[] = [];
    const scratch: ConvScratch = { cols: b.cols, transposed: b.transposed, wgInput: b.wgInput, wgProducts: b.wgProducts };
    const [, height, width] = p.input;
    let row = 0;
    // a convolution as src/conv.ts lowers it: a stage per phase, into channels [first, first + outC) of rows of ldc
    const phases = (name: string, x: number, y: number, ldc: number, first: number, relu = true): Stage[] => {
      const op = p.convs.find((c) => c.name === name)!;
      const layer = convLayer(op, this.convs.get(name)!, scratch);
      const band = bandFloats(convScratchFloats(layer.method, op).cols) * 4;
      const layers: ConvLayer[] =
        layer.method === 'im2col'
          ? Array.from({ length: this.threads }, (_, t) => ({ ...layer, scratch: { ...scratch, cols: scratch.cols + t * band } }))
          : [layer];
      return layer.phases.map((phase, i) => ({
        row,
        tasks: [{ op: 'conv', layers, io: { x, y, ldc, first, relu }, phase: i, units: phase.units, cost: phase.cost }],
        captures: i === layer.phases.length - 1 && name.includes('.') ? [{ name, at: y, c: layer.outC, h: layer.outH, w: layer.outW, ldc, first }] : [],
      }));
    };
    const conv = (name: string, x: number, y: number, ldc: number, first: number, relu = true): void => {
      stages.push(...phases(name, x, y, ldc, first, relu));
    };
    // a Fire module's two expand convolutions: both read the squeeze output and write apart (their
    // channel slices of y, their own scratch), so expand1x1 (one phase: a GEMM on the map) shares
    // a stage with expand3x3's first phase (Winograd's input transform, or im2col bands): one
    // barrier fewer per Fire module
    const expands = (squeeze: number, y: number, ldc: number, e1: string, e3: string, first3: number): void => {
      const one = phases(e1, squeeze, y, ldc, 0);
      const three = phases(e3, squeeze, y, ldc, first3);
      if (one.length !== 1) {
        stages.push(...one, ...three);
        return;
      }
      stages.push({ row, tasks: [...one[0]!.tasks, ...three[0]!.tasks], captures: [...one[0]!.captures, ...three[0]!.captures] }, ...three.slice(1));
    };
    // the input NCHW -> NHWC: a transpose of 3 rows of height * width pixels
    stages.push({ row, tasks: [{ op: 'transpose', src: b.inputNCHW, rows: 3, cols: height * width, dst: b.inputNHWC, units: 1 }], captures: [] });
    let x = b.inputNHWC;
    p.rows.forEach((r, i) => {
      row = i;
      let y = x === b.a ? b.b : b.a;
      const [c, h, w] = r.output;
      const spec = r.spec;
      switch (spec.kind) {
        case 'conv':
          // conv1 / conv10: by the method src/conv.ts chose, bias and ReLU fused
          conv(spec.name, x, y, c, 0);
          break;
        case 'maxpool':
          // maxpool: 3x3 / 2, output size rounded as the table says (ceil for Caffe and torchvision)
          stages.push({
            row,
            tasks: [{ op: 'maxpool', x, height: r.input[1], width: r.input[2], channels: r.input[0], size: spec.size, stride: spec.stride, outW: w, y, units: h }],
            captures: [],
          });
          break;
        case 'fire':
          // fire: squeeze 1x1 -> expand 1x1 | expand 3x3 -> concat, each branch writing its channel slice
          conv(`${spec.name}.squeeze`, x, b.squeeze, spec.s1x1, 0);
          expands(b.squeeze, y, c, `${spec.name}.expand1x1`, `${spec.name}.expand3x3`, spec.e1x1);
          if (spec.bypass === 'simple') {
            // simple bypass: + the module's input
            stages.push({ row, tasks: [{ op: 'add', y, x, rowFloats: c * w, units: h }], captures: [] });
          } else if (spec.bypass === 'complex') {
            // complex bypass: + a 1x1 convolution of the module's input (no ReLU)
            conv(`${spec.name}.bypass`, x, b.bypass, c, 0, false);
            stages.push({ row, tasks: [{ op: 'add', y, x: b.bypass, rowFloats: c * w, units: h }], captures: [] });
          }
          break;
        case 'avgpool':
          // avgpool10: global average, one logit per class
          y = b.logits;
          stages.push({ row, tasks: [{ op: 'avgpool', x, pixels: r.input[1] * r.input[2], channels: r.input[0], y, units: 1 }], captures: [] });
          break;
      }
      const last = stages.at(-1)!;
      stages[stages.length - 1] = { ...last, captures: [...last.captures, { name: spec.name, at: y, c, h, w, ldc: c, first: 0 }] };
      x = y;
    });
    return stages;
  }

  // Runs the program: on the threads where the calling thread is one of them, else alone.
  // `trace` collects every capture; `rows` the profile of each row of Table 1.
  private forward(trace?: LayerOutput[], rows?: ProfileRow[]): void {
    const b = this.buffers;
    const arena = this.live;
    const stages = b.stages;
    const team = this.team?.participates ? this.team : undefined;
    const n = team ? this.threads : 1;
    const busy = rows ? new Float64Array(stages.length) : undefined;
    const ends: { name: string; ms: number; from: number; to: number }[] = [];
    let t0 = rows ? performance.now() : 0;
    let from = 0;
    const after = (s: number): void => {
      const stage = stages[s]!;
      if (trace) for (const c of stage.captures) trace.push(this.capture(c));
      if (rows && (s + 1 === stages.length || stages[s + 1]!.row !== stage.row)) {
        const t = performance.now();
        ends.push({ name: b.plan.rows[stage.row]!.spec.name, ms: t - t0, from, to: s + 1 });
        t0 = t;
        from = s + 1;
      }
    };
    if (team) {
      team.run(arena, stages, b.shares, (trace ? TRACE : 0) | (rows ? PROFILE : 0), trace || rows ? after : undefined);
    } else {
      for (let s = 0; s < stages.length; s++) {
        const t = busy ? performance.now() : 0;
        runShare(arena, stages[s]!, b.whole[s]!, 0);
        if (busy) busy[s] = performance.now() - t;
        after(s);
      }
    }
    for (const e of ends) {
      const threads = Array.from({ length: n }, (_, t) => {
        let ms = 0;
        for (let s = e.from; s < e.to; s++) ms += team ? team.busyMs(t, s) : busy![s]!;
        return ms;
      });
      rows!.push({ name: e.name, ms: e.ms, threads });
    }
  }

  // NHWC (with row stride ldc, starting at channel `first`) to a fresh NCHW array.
  private capture({ name, at, c, h, w, ldc, first }: Capture): LayerOutput {
    const src = this.live.f32;
    const base = (at >>> 2) + first;
    const data = new Float32Array(c * h * w);
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) data[ch * h * w + p] = src[base + p * ldc + ch]!;
    }
    return { name, shape: [1, c, h, w], data };
  }
}

// A shared WebAssembly.Memory for the threads build: the largest maximum the runtime accepts.
function sharedMemory(): WebAssembly.Memory {
  let last: unknown;
  for (const maximum of SHARED_MAX_PAGES) {
    try {
      return new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    } catch (e) {
      last = e;
    }
  }
  throw new SqueezeNetError(`could not reserve a shared WebAssembly.Memory: ${(last as Error).message}`);
}

// How many threads, why, and whether the memory is shared (the threads build: more than one
// thread, or a given module that imports its memory).
async function decideThreads(
  asked: number | undefined,
  debug: boolean,
  given: WebAssembly.Module | undefined,
): Promise<{ threads: number; reason: string; shared: boolean }> {
  const givenShared = given !== undefined && importsMemory(given);
  const one = (reason: string): { threads: number; reason: string; shared: boolean } => ({ threads: 1, reason, shared: givenShared });
  if (debug) return one('the debug build runs on one thread');
  if (given !== undefined && !givenShared) return one('the `wasm` given is the single-thread build (squeezenet.wasm): pass squeezenet.threads.wasm for threads');
  if (asked === 1) return one('threads: 1 was asked for');
  const why = threadsUnavailable();
  if (why !== undefined) return one(`${why}: one thread`);
  if (asked !== undefined) return { threads: asked, reason: `threads: ${asked} was asked for`, shared: true };
  const { cores, source } = await availableCores();
  const reason = `${cores} available core${cores === 1 ? '' : 's'} (${source})`;
  return cores > 1 ? { threads: cores, reason, shared: true } : one(reason);
}

export type { Row };
