// The one place that compiles and instantiates the WebAssembly kernels, and reports how that fails.

import { inWorkers, readAsset, WASM_MAGIC, WORKERS_WASM_HINT } from './assets.js';
import { WasmError } from './errors.js';

/** The kernels' exports. Every pointer is a byte offset into `memory`, laid out by Arena. */
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  f32_gemm_4x8(m: number, n: number, k: number, a: number, lda: number, w: number, c: number, ldc: number, relu: number): void;
  f32_im2col_nhwc(input: number, height: number, width: number, channels: number, kh: number, kw: number, stride: number, pad: number, outHeight: number, outWidth: number, cols: number): void;
  f32_spmm_32x1(m: number, n: number, xT: number, rows: number, index: number, values: number, bias: number, c: number, ldc: number, relu: number): void;
  f32_im2col_nhwc_rows(input: number, height: number, width: number, channels: number, kh: number, kw: number, stride: number, pad: number, oy0: number, oy1: number, outWidth: number, cols: number): void;
  f32_maxpool_nhwc(input: number, height: number, width: number, channels: number, size: number, stride: number, pad: number, outHeight: number, outWidth: number, output: number): void;
  f32_global_avgpool_nhwc(input: number, pixels: number, channels: number, output: number): void;
  f32_maxpool2d_nhwc(input: number, height: number, width: number, channels: number, kh: number, kw: number, strideH: number, strideW: number, padTop: number, padLeft: number, outHeight: number, outWidth: number, output: number): void;
  f32_avgpool2d_nhwc(input: number, height: number, width: number, channels: number, kh: number, kw: number, strideH: number, strideW: number, padTop: number, padLeft: number, padBottom: number, padRight: number, countIncludePad: number, outHeight: number, outWidth: number, output: number): void;
  f32_transpose(src: number, rows: number, cols: number, dst: number): void;
  f32_add_inplace(y: number, x: number, n: number): void;
  f32_fill_rows(dst: number, rows: number, n: number, ldc: number, src: number, relu: number): void;
  f32_winograd23_input_nhwc(input: number, height: number, width: number, channels: number, tilesH: number, tilesW: number, ty0: number, ty1: number, v: number): void;
  f32_find_nonfinite(src: number, n: number): number;
  f32_pack_gemm(weight: number, bias: number, outC: number, inC: number, kernel: number, dst: number): void;
  f32_pack_winograd23(weight: number, outC: number, inC: number, u: number, dst: number): void;
  f32_winograd23_output_nhwc(m: number, tilesH: number, tilesW: number, ty0: number, ty1: number, outChannels: number, bias: number, output: number, height: number, width: number, ldc: number, relu: number): void;
  /** 1 in the relaxed-SIMD builds (fused multiply-add), 0 in the plain ones. */
  simd_relaxed(): number;
  /** 1 in the threads builds (the memory is imported and shared), 0 where the module owns its memory. */
  shared_memory(): number;
}

const KERNEL_NAMES = [
  'heap_base',
  'f32_gemm_4x8',
  'f32_spmm_32x1',
  'f32_im2col_nhwc',
  'f32_im2col_nhwc_rows',
  'f32_maxpool_nhwc',
  'f32_global_avgpool_nhwc',
  'f32_maxpool2d_nhwc',
  'f32_avgpool2d_nhwc',
  'f32_transpose',
  'f32_add_inplace',
  'f32_fill_rows',
  'f32_winograd23_input_nhwc',
  'f32_winograd23_output_nhwc',
  'f32_find_nonfinite',
  'f32_pack_gemm',
  'f32_pack_winograd23',
  'simd_relaxed',
  'shared_memory',
] as const;

/**
 * Where the kernels come from: a compiled module (what Cloudflare Workers hand you when you
 * import a `.wasm`), the `.wasm` bytes, or nothing, in which case the bundled file is read
 * (from disk in Node, with fetch elsewhere).
 */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView;

export interface WasmOptions {
  /** Use the debug build, whose kernels check their arguments (slower; plain SIMD, one thread). */
  readonly debug?: boolean;
  /** Which bundled build: `relaxed` (fused multiply-add) or `plain` SIMD (default: relaxed where {@link relaxedSimdSupported}). */
  readonly simd?: SimdFlavor;
  /**
   * A shared memory to run on: the threads build, instantiated on it (every thread of one model
   * instantiates the same module on the same memory). Without it, the module owns its memory.
   */
  readonly memory?: WebAssembly.Memory;
}

/** `plain`: WebAssembly SIMD (multiply, then add); `relaxed`: relaxed SIMD's fused f32x4.relaxed_madd. */
export type SimdFlavor = 'plain' | 'relaxed';

// (module (func (result v128) i32.const 0 i8x16.splat))
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03,
  0x02, 0x01, 0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b,
]);

// (module (func (result v128) (f32x4.relaxed_madd (i8x16.splat (i32.const 0)) x3)))
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03,
  0x02, 0x01, 0x00, 0x0a, 0x13, 0x01, 0x11, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f,
  0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x85, 0x02, 0x0b,
]);

/** True when this runtime's WebAssembly has the SIMD proposal (every current browser, Node >= 16). */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/**
 * True when this runtime validates relaxed SIMD's `f32x4.relaxed_madd` (Node >= 22, Chrome >= 114,
 * Firefox >= 145, workerd; Node 20 only with `--experimental-wasm-relaxed-simd`).
 */
export function relaxedSimdSupported(): boolean {
  return simdSupported() && WebAssembly.validate(RELAXED_SIMD_PROBE);
}

const bundled = new Map<string, Promise<WebAssembly.Module>>();

/** The file names of the builds, for bundlers and edge runtimes that import them directly. */
export const WASM_FILES = {
  release: 'squeezenet.wasm',
  debug: 'squeezenet.debug.wasm',
  relaxed: 'squeezenet.relaxed.wasm',
  threads: 'squeezenet.threads.wasm',
  threadsRelaxed: 'squeezenet.threads.relaxed.wasm',
} as const;

type Build = keyof typeof WASM_FILES;

// Static URLs, one per build, so that bundlers emit every file and rewrite the paths. In a
// checkout src/ and dist/src/ both sit one level below a build/ (the build copies it to dist/build/).
const BUNDLED_URL: Record<Build, () => URL> = {
  release: () => new URL('../build/squeezenet.wasm', import.meta.url),
  debug: () => new URL('../build/squeezenet.debug.wasm', import.meta.url),
  relaxed: () => new URL('../build/squeezenet.relaxed.wasm', import.meta.url),
  threads: () => new URL('../build/squeezenet.threads.wasm', import.meta.url),
  threadsRelaxed: () => new URL('../build/squeezenet.threads.relaxed.wasm', import.meta.url),
};

async function readBundled(build: Build): Promise<Uint8Array> {
  if (inWorkers()) {
    throw new WasmError(`no \`wasm\` option was given, and Workers can neither fetch nor compile the kernels at run time: ${WORKERS_WASM_HINT}`);
  }
  return readAsset(BUNDLED_URL[build], {
    what: `the kernels (${WASM_FILES[build]})`,
    magic: WASM_MAGIC,
    magicName: '\\0asm (a WebAssembly binary)',
    hint: 'pass the compiled module or its bytes as `wasm`, or serve the file at that URL (README: bundlers)',
    error: WasmError,
  });
}

/** Which bundled build: debug (plain, own memory), else by SIMD flavour and whether the memory is shared. */
function bundledBuild(debug: boolean, simd: SimdFlavor, threads: boolean): Build {
  if (debug) return 'debug';
  if (threads) return simd === 'relaxed' ? 'threadsRelaxed' : 'threads';
  return simd === 'relaxed' ? 'relaxed' : 'release';
}

/** The SIMD flavour to use: the one asked for (WasmError if the runtime lacks relaxed SIMD), else relaxed where supported. */
export function chooseSimd(asked: SimdFlavor | undefined): SimdFlavor {
  if (asked !== undefined && asked !== 'plain' && asked !== 'relaxed') {
    throw new WasmError(`simd must be 'plain' or 'relaxed', got ${JSON.stringify(asked)}`);
  }
  if (asked === 'relaxed' && !relaxedSimdSupported()) {
    throw new WasmError("simd: 'relaxed' was asked for, but this runtime has no relaxed SIMD (f32x4.relaxed_madd); Node 20 needs --experimental-wasm-relaxed-simd");
  }
  return asked ?? (relaxedSimdSupported() ? 'relaxed' : 'plain');
}

/** True for a module that imports its memory: the threads build, which must be given a shared memory. */
export function importsMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
}

/**
 * Compiles the kernels (once per bundled build) without instantiating them. With no `source`,
 * the bundled build for `debug`, `simd` and `threads` (a shared, imported memory).
 */
export function compileKernels(
  source: WasmSource | undefined,
  debug = false,
  build: { readonly simd?: SimdFlavor; readonly threads?: boolean } = {},
): Promise<WebAssembly.Module> {
  return compile(source, bundledBuild(debug, build.simd ?? 'plain', build.threads === true));
}

async function compile(source: WasmSource | undefined, build: Build): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source === undefined) {
    const file = WASM_FILES[build];
    let p = bundled.get(file);
    if (p === undefined) {
      p = readBundled(build).then((bytes) => compile(bytes, build));
      bundled.set(file, p);
      p.catch(() => bundled.delete(file));
    }
    return p;
  }
  if (!(source instanceof ArrayBuffer) && !ArrayBuffer.isView(source)) {
    throw new WasmError('wasm must be a WebAssembly.Module, an ArrayBuffer or a typed array of the .wasm bytes');
  }
  try {
    return await WebAssembly.compile(source as BufferSource);
  } catch (e) {
    const message = (e as Error).message;
    const hint = !simdSupported()
      ? ' (this runtime has no WebAssembly SIMD, which the kernels need)'
      : /relaxed/i.test(message)
        ? ' (this is the relaxed-SIMD build, and this runtime has no relaxed SIMD: use squeezenet.wasm)'
        : inWorkers() || /disallowed|not allowed/i.test(message)
          ? ` (this runtime forbids compiling WebAssembly from bytes: ${WORKERS_WASM_HINT})`
          : '';
    throw new WasmError(`could not compile the kernels${hint}: ${message}`);
  }
}

function readAbortString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0] ?? 0;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

/**
 * Compiles (once per source) and instantiates a kernel instance: with its own memory, or, given
 * `memory`, the threads build on that shared memory.
 *
 * @throws WasmError if the runtime has no SIMD; the module cannot be compiled or instantiated;
 *   it is not this library's kernels; a threads build is given no shared memory, or a shared
 *   memory is given to a build that owns its memory.
 */
export async function instantiate(source?: WasmSource, options: WasmOptions = {}): Promise<Kernels> {
  if (!simdSupported()) throw new WasmError('this runtime has no WebAssembly SIMD, which the kernels need');
  const shared = options.memory !== undefined;
  const module = await compile(source, source === undefined ? bundledBuild(options.debug === true, chooseSimd(options.simd), shared) : 'release');
  if (importsMemory(module) !== shared) {
    throw new WasmError(
      shared
        ? 'a shared memory was given, but this module owns its memory: threads need the threads build (squeezenet.threads.wasm)'
        : 'this module is the threads build (it imports a shared memory): instantiate it with `memory`, or use squeezenet.wasm',
    );
  }
  let memory: WebAssembly.Memory | undefined = options.memory;
  const imports = {
    env: {
      abort(message: number, file: number, line: number, column: number): never {
        const m = memory ? readAbortString(memory, message) : '';
        const f = memory ? readAbortString(memory, file) : '';
        throw new WasmError(`kernel assertion failed: ${m} at ${f}:${line}:${column}`);
      },
      ...(shared ? { memory } : {}),
    },
  };
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, imports);
  } catch (e) {
    throw new WasmError(`could not instantiate the kernels: ${(e as Error).message}`);
  }
  const exports = instance.exports as Record<string, unknown>;
  const missing = KERNEL_NAMES.filter((n) => typeof exports[n] !== 'function');
  if (!(exports.memory instanceof WebAssembly.Memory) || missing.length > 0) {
    throw new WasmError(
      `the module is not this library's kernels (missing: ${[...missing, ...(exports.memory instanceof WebAssembly.Memory ? [] : ['memory'])].join(', ')})`,
    );
  }
  memory = exports.memory;
  return exports as unknown as Kernels;
}
