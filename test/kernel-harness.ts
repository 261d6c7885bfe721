// Runs the WASM kernels on NCHW maps the way the engine does (NHWC, packed weights, channel
// slices), so the property tests can hold them to the plain loops of test/oracles/reference.ts.
// Convolutions go through src/conv.ts, the engine's own lowering (method, packing, scratch,
// kernel calls): the tests run what SqueezeNet runs.
// Every region the harness hands a kernel is fenced: outputs and scratch by a sentinel (catches
// tail stores past the end), inputs by a NaN with a payload (a read past the end poisons the
// result, a write shows up bitwise); packed weights must come back unchanged. Idea from XNNPACK's
// gemm-microkernel-tester and ncnn's test_util.h.

import fc from 'fast-check';
import { Arena } from '../src/arena.js';
import {
  chooseConvMethod,
  convLayer,
  convScratchFloats,
  packConv,
  packedGemmSize,
  runConv,
  runConvPhase,
  type ConvIO,
  type ConvLayer,
  type ConvMethod,
  type ConvPhase,
  type ConvSize,
} from '../src/conv.js';
import { convOutSize, poolOutSize } from '../src/plan.js';
import { instantiate, relaxedSimdSupported, type Kernels } from '../src/wasm.js';
import { seededRandom } from './helpers.js';
import { packGemmWeights } from './oracles/pack.js';
import type { Map3 } from './oracles/reference.js';

// ---------------------------------------------------------------------------------------------
// Seed, runs, tolerance

/** The fast-check seed of every property: `FC_SEED=<n> npx vitest run test/kernels.*` to change it. */
export const FC_SEED: number = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20160224;
if (!Number.isSafeInteger(FC_SEED)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);

/** `FC_RUNS=<n>` runs every property n times instead of its own count (a soak run). */
const FC_RUNS: number | undefined = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : undefined;

/**
 * f32 sums in another order than the f64 reference: |got - want| <= RTOL * (1 + max|want|).
 * At these sizes (k <= 2000) the worst case seen is a fifth of it; each property prints its own.
 */
export const RTOL = 1e-5;

/** fc.assert with the fixed seed; a failure names the seed and how to replay it. */
export function assertProperty<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  try {
    fc.assert(property, { seed: FC_SEED, numRuns: FC_RUNS ?? numRuns });
  } catch (e) {
    // fast-check keeps the predicate's own error as the cause; say it here, after the counterexample.
    const inner = (e as Error).cause;
    const got = inner instanceof Error ? `\nGot: ${inner.message}` : '';
    throw new Error(
      `property failed with FC_SEED=${FC_SEED} (rerun: FC_SEED=${FC_SEED} npx vitest run test/kernels.*)\n${(e as Error).message}${got}`,
      { cause: e },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Awkward shapes, as ncnn and XNNPACK sweep them

/** ncnn's channel counts: SIMD width 4 and 8, one either side, and 1. */
export const AWKWARD_CHANNELS = [1, 3, 4, 7, 8, 15, 16, 17] as const;
/** Output channels covering every GEMM column tail: n & 4, n & 2, n & 1, n < 8, n = 8, n > 8. */
export const GEMM_TAIL_CHANNELS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 24, 25] as const;

export const arbChannels = (max = 40): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(...AWKWARD_CHANNELS), fc.integer({ min: 1, max }));
export const arbOutChannels = (max = 40): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(...GEMM_TAIL_CHANNELS), fc.integer({ min: 1, max }));
/** Odd heights and widths first (13x11 and friends), then anything up to 17. */
export const arbSpatial = (max = 17): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(1, 3, 5, 7, 11, 13, 15, 17).filter((v) => v <= max), fc.integer({ min: 1, max }));
/** Where the data comes from: fast-check shrinks shapes; values come from this seed. */
export const arbDataSeed: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });
/** Floats to shift each region by, so the kernels see pointers at every alignment mod 16. */
export const arbShift: fc.Arbitrary<number> = fc.integer({ min: 0, max: 3 });

// ---------------------------------------------------------------------------------------------
// Data

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

export function randomMap(c: number, h: number, w: number, seed: number): Map3 {
  return { c, h, w, data: randomArray(c * h * w, seed) };
}

/** Random values with about `fraction` of them replaced by NaN, +-Inf, +-0 and repeats. */
export function sprinkleSpecials(data: Float32Array, seed: number, fraction: number, specials: readonly number[]): Float32Array {
  const rand = seededRandom(seed ^ 0x5a5a5a5a);
  const out = data.slice();
  for (let i = 0; i < out.length; i++) {
    if (rand() < fraction) out[i] = specials[Math.floor(rand() * specials.length)]!;
  }
  return out;
}

/** NCHW to NHWC, in plain TS. */
export function toNHWC(x: Map3): Float32Array {
  const { c, h, w, data } = x;
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) out[p * c + ch] = data[ch * h * w + p]!;
  }
  return out;
}

/** NHWC rows of stride `ldc`, channels [first, first + c), to NCHW, in plain TS. */
export function fromNHWC(src: ArrayLike<number>, c: number, h: number, w: number, ldc = c, first = 0): Map3 {
  const data = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < c; ch++) data[ch * h * w + p] = src[p * ldc + first + ch]!;
  }
  return { c, h, w, data };
}

// ---------------------------------------------------------------------------------------------
// Comparisons

/** Worst difference seen over a property's runs, as a fraction of the tolerance: printed after it. */
export class DiffStats {
  runs = 0;
  maxDiff = 0;
  worstRatio = 0;
  constructor(readonly label: string) {}
  record(diff: number, tol: number): void {
    this.runs++;
    this.maxDiff = Math.max(this.maxDiff, diff);
    this.worstRatio = Math.max(this.worstRatio, diff / tol);
  }
  toString(): string {
    return `${this.label}: ${this.runs} comparisons, max |diff| ${this.maxDiff.toExponential(2)}, worst |diff| / tolerance ${this.worstRatio.toFixed(4)}`;
  }
}

/**
 * |got - want| <= rtol * (1 + max|want|) everywhere; NaN and infinities must match exactly.
 * Throws a message naming the worst element; returns the largest difference.
 */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, stats?: DiffStats, rtol = RTOL): number {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, want ${want.length}`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  const tol = rtol * (1 + scale);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) {
        throw new Error(`${what}: element ${i} is ${g}, want ${w}`);
      }
      continue;
    }
    const d = Math.abs(g - w);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (worst > tol) {
    throw new Error(
      `${what}: max |got - want| = ${worst.toExponential(3)} at element ${at} (got ${got[at]}, want ${want[at]}) exceeds ${tol.toExponential(3)} = ${rtol} * (1 + max|want| ${scale.toExponential(3)})`,
    );
  }
  stats?.record(worst, tol);
  return worst;
}

/**
 * Exact comparison. `bits`: identical bit patterns (copies: layout, im2col). `value`: got === want
 * or both NaN, so +0 and -0 are equal (max pooling: which zero wins a tie is not specified by
 * IEEE maximum nor consistent inside PyTorch).
 */
export function assertExact(got: Float32Array, want: Float32Array, what: string, mode: 'bits' | 'value'): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, want ${want.length}`);
  const gb = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const wb = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const same = mode === 'bits' ? gb[i] === wb[i] : g === w || (Number.isNaN(g) && Number.isNaN(w));
    if (!same) {
      const hex = (u: number): string => `0x${u.toString(16).padStart(8, '0')}`;
      throw new Error(`${what}: element ${i} is ${Object.is(g, -0) ? '-0' : g} (${hex(gb[i]!)}), want ${Object.is(w, -0) ? '-0' : w} (${hex(wb[i]!)})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fenced regions of WASM memory

/** What the harness writes after every output: a tail store past the end overwrites it. */
export const SENTINEL = 12345.5;
/** What an output holds before the kernel runs: an element it never writes keeps it. */
export const UNWRITTEN = -98765.25;
/** Before and after every input: a quiet NaN with a payload, so a stray read poisons the result. */
const POISON_BITS = 0x7fc5a5a5;
const GUARD = 16;
const f32bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0]!;

export interface Region {
  readonly label: string;
  /** Byte offset the kernel gets. */
  readonly ptr: number;
  /** Floats the kernel may touch from `ptr`. */
  readonly n: number;
  /** Float index of the first guard float, and of the one past the last. */
  readonly lo: number;
  readonly hi: number;
  readonly guardBits: number;
  /** For inputs: the bits the body must still hold afterwards. */
  readonly body?: Uint32Array;
}

/** `release`: plain SIMD; `relaxed`: fused multiply-add (where the runtime has relaxed SIMD: Node >= 22, Chromium); `debug`: asserts. */
/** [0, n) cut at `cuts` (sorted or not, clamped to 0..n) into consecutive ranges, empty ones included. */
export function ranges(n: number, cuts: readonly number[]): [number, number][] {
  const at = [0, ...cuts.map((c) => Math.max(0, Math.min(n, c))).sort((a, b) => a - b), n];
  return at.slice(1).map((end, i) => [at[i]!, end]);
}

export type Build = 'release' | 'relaxed' | 'debug';
export const BUILDS: readonly Build[] = relaxedSimdSupported() ? ['release', 'relaxed', 'debug'] : ['release', 'debug'];
if (!relaxedSimdSupported()) console.log(`kernel tests: no relaxed SIMD in Node ${process.version}: the relaxed build is tested by \`npm run test:node24\``);

export interface ConvOptions {
  /** Floats (0..3) each region is shifted by, for unaligned pointers. */
  readonly shift?: number;
  /** Force a method (default: the engine's choice, chooseConvMethod). */
  readonly method?: ConvMethod;
  /** Mutates the packed weights before the call: the sensitivity tests use it to plant a bug. */
  readonly corrupt?: (packed: Float32Array) => void;
  /** Write channels [first, first + out) of rows of ldc = first + out + extra, as a Fire expand does. */
  readonly slice?: { readonly first: number; readonly extra: number };
  /**
   * Run each phase of the layer as these ranges of its units (in the order given; together they
   * must cover [0, units) once), as intra-op threads would split it. Default: runConv, whole phases.
   */
  readonly split?: (phase: ConvPhase, index: number) => readonly (readonly [number, number])[];
}

export interface FireOptions {
  /** '3x3-first' runs the expand branches the other way round (see fire()). */
  readonly order?: '1x1-first' | '3x3-first';
  readonly shift?: number;
  /** false: expand3x3 through im2col even where the engine would take Winograd (chooseConvMethod's option). */
  readonly winograd?: boolean;
  /** Section 6: 'simple' adds the input; a [weight, bias] pair adds a 1x1 convolution of it (no ReLU). */
  readonly bypass?: 'simple' | readonly [Float32Array, Float32Array];
}

export interface GemmCase {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Row strides in floats: lda >= k, ldc >= cOffset + n. */
  readonly lda: number;
  readonly ldc: number;
  /** First channel of C's slice that the kernel writes. */
  readonly cOffset: number;
  readonly relu: boolean;
  readonly shift?: number;
  /** a is m rows of lda floats (only the first k of each are read); w is [n][k]. */
  readonly a: Float32Array;
  readonly w: Float32Array;
  readonly bias: Float32Array;
  readonly corrupt?: (packed: Float32Array) => void;
}

export interface FireWeights {
  squeeze: [Float32Array, Float32Array];
  expand1x1: [Float32Array, Float32Array];
  expand3x3: [Float32Array, Float32Array];
}

/** One instantiated build of the kernels with its arena; every call allocates in a scope it frees. */
export class KernelHarness {
  private readonly arena: Arena;
  private readonly regions: Region[] = [];

  private constructor(readonly build: Build, readonly kernels: Kernels) {
    this.arena = new Arena(kernels);
  }

  static async create(build: Build): Promise<KernelHarness> {
    return new KernelHarness(build, await instantiate(undefined, { debug: build === 'debug', simd: build === 'relaxed' ? 'relaxed' : 'plain' }));
  }

  get f32(): Float32Array {
    return this.arena.f32;
  }

  /** Runs `body` with a fresh arena scope; every region allocated in it is checked afterwards. */
  scoped<T>(body: () => T): T {
    const mark = this.arena.mark();
    const before = this.regions.length;
    try {
      const result = body();
      for (const r of this.regions.slice(before)) this.checkRegion(r);
      return result;
    } finally {
      this.regions.length = before;
      this.arena.release(mark);
    }
  }

  /** An output region of `n` floats holding UNWRITTEN, fenced by SENTINEL. */
  output(label: string, n: number, shift = 0, fill = UNWRITTEN): Region {
    return this.region(label, n, shift, f32bits(SENTINEL), (body) => body.fill(fill));
  }

  /** An input region holding `data` (then `fill` up to `n`), fenced by poison; it must come back unchanged. */
  input(label: string, data: Float32Array, shift = 0, n = data.length, fillBits = POISON_BITS): Region {
    const r = this.region(label, n, shift, POISON_BITS, (body) => {
      new Uint32Array(body.buffer, body.byteOffset, n).fill(fillBits);
      body.set(data);
    });
    const u = this.u32(r.ptr, r.n).slice();
    const withBody = { ...r, body: u };
    this.regions[this.regions.length - 1] = withBody;
    return withBody;
  }

  /** Watches `n` floats at `ptr` that the arena already holds (packed weights): they must come back unchanged. */
  watch(label: string, ptr: number, n: number): void {
    const lo = ptr >>> 2;
    this.regions.push({ label, ptr, n, lo, hi: lo + n, guardBits: 0, body: this.u32(ptr, n).slice() });
  }

  /** A copy of a region's floats. */
  read(r: Region, n = r.n, offsetFloats = 0): Float32Array {
    return this.arena.view(r.ptr + offsetFloats * 4, n).slice();
  }

  /** Packs a convolution's weights ([out][in][k][k] + bias) for f32_gemm_4x8 into a fenced input region. */
  packed(label: string, weight: Float32Array, bias: Float32Array, outC: number, inC: number, kernel: number, shift = 0, corrupt?: (p: Float32Array) => void): Region {
    const size = packedGemmSize(outC, inC, kernel);
    const p = new Float32Array(size);
    packGemmWeights(weight, bias, outC, inC, kernel, p);
    corrupt?.(p);
    return this.input(label, p, shift);
  }

  /** Throws if a guard float (or an input's body) changed. */
  checkRegion(r: Region): void {
    const u = this.u32(0, this.f32.length);
    const start = r.ptr >>> 2;
    for (let i = r.lo; i < r.hi; i++) {
      if (i >= start && i < start + r.n) continue;
      if (u[i] !== r.guardBits) {
        const where = i < start ? `${start - i} float(s) before` : `${i - (start + r.n)} float(s) after the end of`;
        throw new Error(`${this.build}: the kernel wrote ${this.f32[i]} ${where} ${r.label} (${r.n} floats)`);
      }
    }
    if (r.body) {
      for (let i = 0; i < r.n; i++) {
        if (u[start + i] !== r.body[i]) throw new Error(`${this.build}: the kernel wrote into its input ${r.label} at float ${i}`);
      }
    }
  }

  private u32(ptr: number, n: number): Uint32Array {
    return new Uint32Array(this.kernels.memory.buffer, ptr, n);
  }

  private region(label: string, n: number, shift: number, guardBits: number, init: (body: Float32Array) => void): Region {
    if (!(shift >= 0 && shift <= 3)) throw new Error(`shift ${shift} is not 0..3`);
    const total = GUARD + 3 + n + GUARD;
    const base = this.arena.alloc(total);
    const lo = base >>> 2;
    const ptr = base + (GUARD + shift) * 4;
    this.u32(base, total).fill(guardBits);
    init(this.arena.view(ptr, n));
    const r: Region = { label, ptr, n, lo, hi: lo + total, guardBits };
    this.regions.push(r);
    return r;
  }

  // -------------------------------------------------------------------------------------------
  // The kernels, driven as the engine drives them

  /** f32_gemm_4x8 on a strided A into a channel slice of C; returns C's slice as m x n. */
  gemm(g: GemmCase): Float32Array {
    const { m, n, k, lda, ldc, cOffset, relu, shift = 0 } = g;
    if (lda < k || ldc < cOffset + n) throw new Error(`bad gemm case: lda ${lda} < k ${k} or ldc ${ldc} < ${cOffset} + ${n}`);
    return this.scoped(() => {
      // A: rows of k floats, the lda - k floats between them poison; nothing after the last row.
      const aLen = (m - 1) * lda + k;
      const aData = new Float32Array(new Uint32Array(aLen).fill(POISON_BITS).buffer);
      for (let i = 0; i < m; i++) aData.set(g.a.subarray(i * lda, i * lda + k), i * lda);
      const a = this.input('A', aData, shift);
      const w = this.packed('packed W', g.w, g.bias, n, k, 1, shift, g.corrupt);
      const c = this.sliceOutput('C', m, n, ldc, cOffset, shift);
      this.kernels.f32_gemm_4x8(m, n, k, a.ptr, lda, w.ptr, c.ptr, ldc, relu ? 1 : 0);
      return c.read('f32_gemm_4x8');
    });
  }

  /**
   * f32_spmm_32x1 as src/conv.ts drives it: `a` (m pixels x k channels, NHWC) transposed to k x m,
   * the [n][k] matrix `w` packed to CSR (its zeros skipped), into a channel slice of C.
   */
  spmm(g: GemmCase): Float32Array {
    const { m, n, k, ldc, cOffset, relu, shift = 0 } = g;
    return this.scoped(() => {
      const xT = new Float32Array(k * m);
      for (let i = 0; i < m; i++) for (let c = 0; c < k; c++) xT[c * m + i] = g.a[i * g.lda + c]!;
      const rows = new Int32Array(n + 1);
      const index: number[] = [];
      const values: number[] = [];
      for (let j = 0; j < n; j++) {
        rows[j] = index.length;
        for (let c = 0; c < k; c++) {
          if (g.w[j * k + c] !== 0) {
            index.push(c);
            values.push(g.w[j * k + c]!);
          }
        }
      }
      rows[n] = index.length;
      const asF32 = (i: Int32Array): Float32Array => new Float32Array(i.buffer, i.byteOffset, i.length);
      const x = this.input('xT', xT, shift);
      const r = this.input('rows', asF32(rows), shift);
      const ix = this.input('index', asF32(Int32Array.from(index)), shift, Math.max(1, index.length));
      const v = this.input('values', Float32Array.from(values), shift, Math.max(1, values.length));
      const b = this.input('bias', g.bias, shift);
      const c = this.sliceOutput('C', m, n, ldc, cOffset, shift);
      this.kernels.f32_spmm_32x1(m, n, x.ptr, r.ptr, ix.ptr, v.ptr, b.ptr, c.ptr, ldc, relu ? 1 : 0);
      return c.read('f32_spmm_32x1');
    });
  }

  /**
   * Rows of n floats at stride ldc starting at channel `first`, as a kernel writing one channel
   * slice sees them: UNWRITTEN inside the slice, SENTINEL outside it and around. `ptr` is the
   * slice's first float; `read` returns the rows x n slice and throws if anything outside changed.
   */
  sliceOutput(label: string, rows: number, n: number, ldc: number, first: number, shift = 0): { ptr: number; read(kernel: string): Float32Array } {
    const len = Math.max(0, (rows - 1) * ldc + first + n);
    const r = this.output(label, len, shift, SENTINEL);
    const view = this.arena.view(r.ptr, len);
    for (let i = 0; i < rows; i++) view.fill(UNWRITTEN, i * ldc + first, i * ldc + first + n);
    const sentinel = f32bits(SENTINEL);
    return {
      ptr: r.ptr + first * 4,
      read: (kernel: string): Float32Array => {
        const all = this.read(r);
        const bits = new Uint32Array(all.buffer);
        const out = new Float32Array(rows * n);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < ldc && i * ldc + j < len; j++) {
            if (j >= first && j < first + n) out[i * n + j - first] = all[i * ldc + j]!;
            else if (bits[i * ldc + j] !== sentinel) {
              throw new Error(`${this.build}: ${kernel} wrote ${all[i * ldc + j]} at row ${i}, column ${j} of ${label}, outside its slice [${first}, ${first + n})`);
            }
          }
        }
        return out;
      },
    };
  }

  /** f32_fill_rows: `rows` rows of the n values of src (clamped at 0 with relu) into a channel slice. */
  fillRows(rows: number, n: number, ldc: number, first: number, src: Float32Array, relu: boolean, shift = 0): Float32Array {
    return this.scoped(() => {
      const s = this.input('src', src, shift);
      const out = this.sliceOutput('rows', rows, n, ldc, first, shift);
      this.kernels.f32_fill_rows(out.ptr, rows, n, ldc, s.ptr, relu ? 1 : 0);
      return out.read('f32_fill_rows');
    });
  }

  /** f32_pack_gemm (bias null: the kernel gets pointer 0 and packs zero biases). */
  packGemm(weight: Float32Array, bias: Float32Array | null, outC: number, inC: number, kernel: number, shift = 0): Float32Array {
    return this.scoped(() => {
      const w = this.input('weight', weight, shift);
      const b = bias === null ? 0 : this.input('bias', bias, shift).ptr;
      const dst = this.output('packed', packedGemmSize(outC, inC, kernel), shift);
      this.kernels.f32_pack_gemm(w.ptr, b, outC, inC, kernel, dst.ptr);
      return this.read(dst);
    });
  }

  /** f32_pack_winograd23: 16 GEMM-packed matrices of U = G g G^T. */
  packWinograd(weight: Float32Array, outC: number, inC: number, shift = 0): Float32Array {
    return this.scoped(() => {
      const w = this.input('weight', weight, shift);
      const u = this.output('U scratch', 16 * outC * inC, shift);
      const dst = this.output('packed', 16 * packedGemmSize(outC, inC, 1), shift);
      this.kernels.f32_pack_winograd23(w.ptr, outC, inC, u.ptr, dst.ptr);
      return this.read(dst);
    });
  }

  /** f32_find_nonfinite: index of the first NaN or infinity, or -1. */
  findNonfinite(data: Float32Array, shift = 0): number {
    return this.scoped(() => {
      const d = this.input('data', data, shift);
      return this.kernels.f32_find_nonfinite(d.ptr, data.length);
    });
  }

  /** f32_winograd23_input_nhwc on an NCHW map: V as [16][tile][c]; one call per range of tile rows between `cuts`. */
  winogradInput(x: Map3, tilesH: number, tilesW: number, shift = 0, cuts: readonly number[] = []): Float32Array {
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const v = this.output('V', 16 * tilesH * tilesW * x.c, shift);
      for (const [ty0, ty1] of ranges(tilesH, cuts)) this.kernels.f32_winograd23_input_nhwc(input.ptr, x.h, x.w, x.c, tilesH, tilesW, ty0, ty1, v.ptr);
      return this.read(v);
    });
  }

  /** f32_winograd23_output_nhwc from M ([16][tile][k]) into a channel slice; returns oh*ow x outC. One call per range of tile rows between `cuts`. */
  winogradOutput(
    m: Float32Array, tilesH: number, tilesW: number, outC: number, bias: Float32Array, oh: number, ow: number, ldc: number, first: number,
    relu: boolean, shift = 0, cuts: readonly number[] = [],
  ): Float32Array {
    return this.scoped(() => {
      const mr = this.input('M', m, shift);
      const b = this.input('bias', bias, shift);
      const out = this.sliceOutput('y', oh * ow, outC, ldc, first, shift);
      for (const [ty0, ty1] of ranges(tilesH, cuts)) {
        this.kernels.f32_winograd23_output_nhwc(mr.ptr, tilesH, tilesW, ty0, ty1, outC, b.ptr, out.ptr, oh, ow, ldc, relu ? 1 : 0);
      }
      return out.read('f32_winograd23_output_nhwc');
    });
  }

  /** f32_im2col_nhwc on an NCHW map; returns the rows (oh * ow of kh * kw * c). */
  im2col(x: Map3, kh: number, kw: number, stride: number, pad: number, shift = 0): Float32Array {
    const oh = convOutSize(x.h, kh, stride, pad);
    const ow = convOutSize(x.w, kw, stride, pad);
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const cols = this.output('cols', oh * ow * kh * kw * x.c, shift);
      this.kernels.f32_im2col_nhwc(input.ptr, x.h, x.w, x.c, kh, kw, stride, pad, oh, ow, cols.ptr);
      return this.read(cols);
    });
  }

  /** f32_im2col_nhwc_rows: only output rows [oy0, oy1); returns their (oy1 - oy0) * ow rows. */
  im2colRows(x: Map3, kh: number, kw: number, stride: number, pad: number, oy0: number, oy1: number, shift = 0): Float32Array {
    const ow = convOutSize(x.w, kw, stride, pad);
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const cols = this.output('cols', (oy1 - oy0) * ow * kh * kw * x.c, shift);
      this.kernels.f32_im2col_nhwc_rows(input.ptr, x.h, x.w, x.c, kh, kw, stride, pad, oy0, oy1, ow, cols.ptr);
      return this.read(cols);
    });
  }

  /** f32_transpose of a rows x cols matrix; returns cols x rows. */
  transpose(src: Float32Array, rows: number, cols: number, shift = 0): Float32Array {
    return this.scoped(() => {
      const s = this.input('src', src, shift);
      const dst = this.output('dst', rows * cols, shift);
      this.kernels.f32_transpose(s.ptr, rows, cols, dst.ptr);
      return this.read(dst);
    });
  }

  /** A convolution as the engine runs it (src/conv.ts, by `options.method` or the engine's choice), on an NCHW map; returns NCHW. */
  conv2d(
    x: Map3, weight: Float32Array, bias: Float32Array, out: number, kernel: number, stride: number, pad: number, relu: boolean,
    options: ConvOptions = {},
  ): Map3 {
    const shift = options.shift ?? 0;
    const oh = convOutSize(x.h, kernel, stride, pad);
    const ow = convOutSize(x.w, kernel, stride, pad);
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const size = { inC: x.c, outC: out, kernel, stride, pad, inH: x.h, inW: x.w, outH: oh, outW: ow };
      const layer = this.convLayer('conv', size, weight, bias, options.method, shift, options.corrupt);
      const { first = 0, extra = 0 } = options.slice ?? {};
      const ldc = first + out + extra;
      const y = this.sliceOutput('y (NHWC)', oh * ow, out, ldc, first, shift);
      this.runConv(layer, { x: input.ptr, y: y.ptr - first * 4, ldc, first, relu }, options.split);
      return fromNHWC(y.read(`${layer.method} convolution`), out, oh, ow);
    });
  }

  /**
   * A convolution's layer as the engine builds it: weights packed by packConv for `method` (default
   * chooseConvMethod's), watched for writes; each scratch buffer convScratchFloats asks for, fenced.
   */
  convLayer(
    label: string, size: ConvSize, weight: Float32Array, bias: Float32Array, method?: ConvMethod, shift = 0,
    corrupt?: (p: Float32Array) => void, winograd = true,
  ): ConvLayer {
    const m = method ?? chooseConvMethod(size, weight, { winograd });
    const packed = packConv(this.arena, size, weight, bias, m, { weight: `${label}.weight`, bias: `${label}.bias` });
    corrupt?.(this.arena.view(packed.w, packed.wFloats));
    this.watch(`${label} packed weights`, packed.w, packed.wFloats);
    this.watch(`${label} bias`, packed.bias, size.outC);
    if (packed.csr) {
      this.watch(`${label} CSR rows`, packed.csr.rows, size.outC + 1);
      this.watch(`${label} CSR index`, packed.csr.index, packed.csr.nonzero);
      this.watch(`${label} CSR values`, packed.csr.values, packed.csr.nonzero);
    }
    const floats = convScratchFloats(m, size);
    const scratch = (name: keyof typeof floats): number => (floats[name] > 0 ? this.output(`${label} scratch ${name}`, floats[name], shift).ptr : 0);
    return convLayer({ ...size, name: label }, packed, {
      cols: scratch('cols'),
      transposed: scratch('transposed'),
      wgInput: scratch('wgInput'),
      wgProducts: scratch('wgProducts'),
    });
  }

  /** runConv, or with `split` each phase as the given ranges of its units. */
  runConv(layer: ConvLayer, io: ConvIO, split?: ConvOptions['split']): void {
    if (split === undefined) {
      runConv(this.arena, layer, io);
      return;
    }
    layer.phases.forEach((phase, i) => {
      const ranges = split(phase, i);
      const covered = new Uint8Array(phase.units);
      for (const [from, to] of ranges) for (let u = from; u < to; u++) covered[u]! += 1;
      if (covered.some((c) => c !== 1)) throw new Error(`split ${JSON.stringify(ranges)} does not cover [0, ${phase.units}) once`);
      for (const [from, to] of ranges) runConvPhase(this.arena, layer, io, i, from, to);
    });
  }

  /**
   * A Fire module as src/model.ts runs it: squeeze 1x1 into its buffer, then expand 1x1 and
   * expand 3x3 (Winograd where channels come in fours, unless `winograd: false`), each by
   * src/conv.ts into its channel slice of ONE output buffer, ldc = e1x1 + e3x3. `order`
   * '3x3-first' runs the expands the other way round, so a 1x1 branch that spills into the 3x3
   * slice cannot be hidden by the 3x3 branch overwriting it.
   */
  fire(x: Map3, wts: FireWeights, s1x1: number, e1x1: number, e3x3: number, options: FireOptions = {}): Map3 {
    const { h, w } = x;
    const ldc = e1x1 + e3x3;
    const { order = '1x1-first', shift = 0, bypass, winograd = true } = options;
    const size = (inC: number, outC: number, kernel: number, pad: number): ConvSize => ({ inC, outC, kernel, stride: 1, pad, inH: h, inW: w, outH: h, outW: w });
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const squeeze = this.convLayer('squeeze', size(x.c, s1x1, 1, 0), ...wts.squeeze, undefined, shift);
      const expand1x1 = this.convLayer('expand1x1', size(s1x1, e1x1, 1, 0), ...wts.expand1x1, undefined, shift);
      const expand3x3 = this.convLayer('expand3x3', size(s1x1, e3x3, 3, 1), ...wts.expand3x3, undefined, shift, undefined, winograd);
      const sq = this.output('squeeze (NHWC)', h * w * s1x1, shift);
      const y = this.output('concat (NHWC)', h * w * ldc, shift);
      runConv(this.arena, squeeze, { x: input.ptr, y: sq.ptr, ldc: s1x1, first: 0, relu: true });
      const expand1 = (): void => runConv(this.arena, expand1x1, { x: sq.ptr, y: y.ptr, ldc, first: 0, relu: true });
      const expand3 = (): void => runConv(this.arena, expand3x3, { x: sq.ptr, y: y.ptr, ldc, first: e1x1, relu: true });
      if (order === '1x1-first') {
        expand1();
        expand3();
      } else {
        expand3();
        expand1();
      }
      // bypass (Section 6), as the engine adds it: + the input, or + a 1x1 convolution of it without ReLU
      if (bypass === 'simple') {
        this.kernels.f32_add_inplace(y.ptr, input.ptr, h * w * ldc);
      } else if (bypass !== undefined) {
        const layer = this.convLayer('bypass', size(x.c, ldc, 1, 0), ...bypass, undefined, shift);
        const b = this.output('bypass (NHWC)', h * w * ldc, shift);
        runConv(this.arena, layer, { x: input.ptr, y: b.ptr, ldc, first: 0, relu: false });
        this.kernels.f32_add_inplace(y.ptr, b.ptr, h * w * ldc);
      }
      return fromNHWC(this.read(y), ldc, h, w);
    });
  }

  /** f32_maxpool_nhwc with the output size the caller gives (poolOutSize for ceil or floor). */
  maxpool(x: Map3, size: number, stride: number, pad: number, oh: number, ow: number, shift = 0): Map3 {
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const y = this.output('y (NHWC)', oh * ow * x.c, shift);
      this.kernels.f32_maxpool_nhwc(input.ptr, x.h, x.w, x.c, size, stride, pad, oh, ow, y.ptr);
      return fromNHWC(this.read(y), x.c, oh, ow);
    });
  }

  /** f32_add_inplace: y += x over n floats; returns the new y. */
  addInplace(y: Float32Array, x: Float32Array, shift = 0): Float32Array {
    return this.scoped(() => {
      const yr = this.output('y', y.length, shift);
      this.arena.view(yr.ptr, y.length).set(y);
      const xr = this.input('x', x, (shift + 1) % 4);
      this.kernels.f32_add_inplace(yr.ptr, xr.ptr, y.length);
      return this.read(yr);
    });
  }

  /** f32_global_avgpool_nhwc: one mean per channel. */
  globalAvgPool(x: Map3, shift = 0): Float32Array {
    return this.scoped(() => {
      const input = this.input('x (NHWC)', toNHWC(x), shift);
      const y = this.output('y', x.c, shift);
      this.kernels.f32_global_avgpool_nhwc(input.ptr, x.h * x.w, x.c, y.ptr);
      return this.read(y);
    });
  }
}

export { convOutSize, poolOutSize };
