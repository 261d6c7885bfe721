// How a convolution is lowered to the kernels: the one place that picks a layer's method, packs
// its weights for that method, sizes its scratch and runs it. SqueezeNet (src/model.ts), the
// property tests (test/conv.test.ts, through test/kernel-harness.ts) and the kernel benchmark
// (bench/kernels.ts) all call these functions, so the tests check and the benchmark times exactly
// what the engine runs (as XNNPACK's operators drive their microkernels the same way in production
// and in their benchmarks).
//
// A layer's work is a short list of phases that run one after the other; each phase is a range of
// independent units (output rows, output channels, Winograd positions). `runConvPhase` runs any
// sub-range of a phase, so intra-op threads can split every phase across workers (a barrier
// between phases); each worker then needs its own im2col band buffer. `runConv` runs them all.

import type { Arena } from './arena.js';
import { WeightError } from './errors.js';

/**
 * How a convolution runs.
 * - `gemm1x1`: 1x1, stride 1, no padding: one f32_gemm_4x8 straight on the NHWC map (pixels are
 *   the GEMM's rows, channels its depth): no im2col.
 * - `padded1x1`: 1x1, stride 1, padding (Caffe's conv10 has 1): the border is relu(bias)
 *   (f32_fill_rows); the interior is one GEMM over the input map, copied in row by row.
 * - `sparse`: 1x1, stride 1, weights at most {@link SPARSE_DENSITY} non-zero (Deep Compression's
 *   conv10 keeps 20 %): the map transposed channel-major (f32_transpose), then f32_spmm_32x1 over
 *   the kept weights in CSR; bit for bit the dense result. Padding as in `padded1x1`.
 * - `winograd`: 3x3, stride 1, pad 1, channels in fours: Winograd F(2x2, 3x3) (Lavin and Gray,
 *   2015): input transform, 16 GEMMs over the 2x2 output tiles, output transform.
 * - `im2col`: any convolution: f32_im2col_nhwc_rows then f32_gemm_4x8, a band of output rows at a
 *   time ({@link BAND_BYTES} of im2col rows), so the GEMM reads them from cache.
 */
export type ConvMethod = 'gemm1x1' | 'padded1x1' | 'sparse' | 'winograd' | 'im2col';

export const CONV_METHODS: readonly ConvMethod[] = ['gemm1x1', 'padded1x1', 'sparse', 'winograd', 'im2col'];

/** What decides which methods can run a convolution: PyTorch's Conv2d with a square kernel. */
export interface ConvShape {
  readonly inC: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
}

/** A convolution at one input size: its shape and its input and output maps' heights and widths (a plan's ConvOp is one). */
export interface ConvSize extends ConvShape {
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
}

/** The largest share of non-zero weights at which the engine runs a 1x1 convolution `sparse`. */
export const SPARSE_DENSITY = 0.3;

/** Bytes of im2col rows per band: about 128 KiB, well inside L2. */
export const BAND_BYTES = 128 * 1024;

/** Output channels per block of f32_gemm_4x8's packed weights. */
export const GEMM_NR = 8;

/**
 * Floats of a convolution's weights packed for f32_gemm_4x8 (f32_pack_gemm): for each block of
 * 8 output channels, 8 biases then one row of 8 weights per (ky, kx, in), zero-padded.
 */
export function packedGemmSize(outC: number, inC: number, kernel: number): number {
  return Math.ceil(outC / GEMM_NR) * (inC * kernel * kernel + 1) * GEMM_NR;
}

/** Whether `method` can run a convolution of shape `s` (`im2col` runs any). */
export function methodApplies(method: ConvMethod, s: ConvShape): boolean {
  const pointwise = s.kernel === 1 && s.stride === 1;
  switch (method) {
    case 'gemm1x1':
      return pointwise && s.pad === 0;
    case 'padded1x1':
      return pointwise && s.pad > 0;
    case 'sparse':
      return pointwise;
    case 'winograd':
      return s.kernel === 3 && s.stride === 1 && s.pad === 1 && s.inC % 4 === 0 && s.outC % 4 === 0;
    case 'im2col':
      return true;
  }
}

/** Every method that can run a convolution of shape `s`. */
export const applicableMethods = (s: ConvShape): ConvMethod[] => CONV_METHODS.filter((m) => methodApplies(m, s));

export interface MethodOptions {
  /** Run 3x3 / stride 1 / pad 1 convolutions as Winograd F(2x2, 3x3) where channels come in fours (default true). */
  readonly winograd?: boolean;
  /** Run 1x1 convolutions at most {@link SPARSE_DENSITY} non-zero as `sparse` (default true). */
  readonly sparse?: boolean;
}

/** The engine's method for a convolution of shape `s` with these weights ([outC][inC][k][k]). */
export function chooseConvMethod(s: ConvShape, weight: Float32Array, options: MethodOptions = {}): ConvMethod {
  if (options.sparse !== false && methodApplies('sparse', s)) {
    let nonzero = 0;
    for (let i = 0; i < weight.length; i++) if (weight[i] !== 0) nonzero++;
    if (nonzero <= SPARSE_DENSITY * weight.length) return 'sparse';
  }
  if (options.winograd !== false && methodApplies('winograd', s)) return 'winograd';
  if (methodApplies('gemm1x1', s)) return 'gemm1x1';
  if (methodApplies('padded1x1', s)) return 'padded1x1';
  return 'im2col';
}

/** A convolution's weights in WASM memory (byte offsets), packed for its method. */
export interface PackedConv extends ConvShape {
  readonly method: ConvMethod;
  /**
   * GEMM-packed weights with the bias (f32_pack_gemm); `winograd`: 16 GEMM-packed matrices of
   * U = G g G^T with zero bias (f32_pack_winograd23); `sparse`: nothing.
   */
  readonly w: number;
  /** Floats at `w`. */
  readonly wFloats: number;
  /** The plain bias, outC floats. */
  readonly bias: number;
  /** `sparse`: the kept weights in CSR by output channel (byte offsets and the count kept). */
  readonly csr?: {
    /** outC + 1 i32 offsets into index and values. */
    readonly rows: number;
    /** An i32 input channel per kept weight. */
    readonly index: number;
    /** An f32 value per kept weight. */
    readonly values: number;
    readonly nonzero: number;
  };
}

/**
 * Copies a convolution's weights ([outC][inC][k][k]) and bias ([outC]) into the arena and packs
 * them for `method` (in WASM: at load this code is cold, where JS would still be interpreted).
 * Throws WeightError, naming the tensor (`names`) and the index, for a NaN or infinite value, and
 * Error if `method` cannot run the shape.
 */
export function packConv(
  arena: Arena,
  s: ConvShape,
  weight: Float32Array,
  bias: Float32Array,
  method: ConvMethod,
  names: { readonly weight: string; readonly bias: string } = { weight: 'weight', bias: 'bias' },
): PackedConv {
  if (!methodApplies(method, s)) {
    throw new Error(`${method} cannot run a ${s.inC} -> ${s.outC} ${s.kernel}x${s.kernel} / ${s.stride} pad ${s.pad} convolution`);
  }
  const k = arena.kernels;
  const { inC, outC, kernel, stride, pad } = s;
  const wFloats = method === 'sparse' ? 0 : method === 'winograd' ? 16 * packedGemmSize(outC, inC, 1) : packedGemmSize(outC, inC, kernel);
  const w = arena.alloc(wFloats);
  const b = arena.alloc(outC);
  // Raw tensors go to scratch past the packed weights; packing and the finiteness check run in WASM.
  const scratch = arena.mark();
  const raw = arena.alloc(weight.length);
  arena.view(raw, weight.length).set(weight);
  arena.view(b, bias.length).set(bias);
  for (const [name, at, n] of [[names.weight, raw, weight.length], [names.bias, b, bias.length]] as const) {
    const bad = k.f32_find_nonfinite(at, n);
    if (bad >= 0) throw new WeightError(`value ${arena.view(at, n)[bad]} at index ${bad} is not finite`, name);
  }
  const packed = { method, inC, outC, kernel, stride, pad, w, wFloats, bias: b };
  if (method === 'sparse') {
    arena.release(scratch);
    return { ...packed, csr: packCsr(arena, weight, outC, inC) };
  }
  if (method === 'winograd') {
    k.f32_pack_winograd23(raw, outC, inC, arena.alloc(16 * outC * inC), w);
  } else {
    k.f32_pack_gemm(raw, b, outC, inC, kernel, w);
  }
  arena.release(scratch);
  return packed;
}

// CSR of a [outC][inC] weight matrix in the arena: i32 row offsets, i32 input channels, f32 values.
function packCsr(arena: Arena, weight: Float32Array, outC: number, inC: number): NonNullable<PackedConv['csr']> {
  let nonzero = 0;
  for (let i = 0; i < weight.length; i++) if (weight[i] !== 0) nonzero++;
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
  return { rows, index, values, nonzero };
}

/**
 * A convolution's scratch buffers: sizes in floats from {@link convScratchFloats} (0: not used),
 * byte offsets in a {@link ConvLayer}.
 */
export interface ConvScratch {
  /** `im2col`: one band of im2col rows, bandRows * outW * inC * k * k; `padded1x1` and padded `sparse`: the unpadded result, inH * inW * outC. */
  readonly cols: number;
  /** `sparse`: the input map channel-major, inC * inH * inW. */
  readonly transposed: number;
  /** `winograd`: the transformed input tiles V, 16 * tiles * inC (tiles = ceil(outH / 2) * ceil(outW / 2)). */
  readonly wgInput: number;
  /** `winograd`: the 16 GEMM products M, 16 * tiles * outC. */
  readonly wgProducts: number;
}

/** Output rows per im2col band: {@link BAND_BYTES} of im2col rows, at least one row. */
export function bandRows(op: ConvSize): number {
  return Math.max(1, Math.min(op.outH, Math.floor(BAND_BYTES / (op.outW * op.inC * op.kernel * op.kernel * 4))));
}

/** The scratch, in floats, that `method` needs for this convolution at its input size. */
export function convScratchFloats(method: ConvMethod, op: ConvSize): ConvScratch {
  const tiles = Math.ceil(op.outH / 2) * Math.ceil(op.outW / 2);
  const unpadded = op.inH * op.inW * op.outC;
  return {
    cols: method === 'im2col' ? bandRows(op) * op.outW * op.inC * op.kernel * op.kernel : method === 'padded1x1' || (method === 'sparse' && op.pad > 0) ? unpadded : 0,
    transposed: method === 'sparse' ? op.inC * op.inH * op.inW : 0,
    wgInput: method === 'winograd' ? 16 * tiles * op.inC : 0,
    wgProducts: method === 'winograd' ? 16 * tiles * op.outC : 0,
  };
}

/** One phase of a layer's work: `units` independent units, any sub-range of which {@link runConvPhase} runs. */
export interface ConvPhase {
  /** The kernels it calls. */
  readonly kernels: string;
  readonly units: number;
  /**
   * What a unit is: `output rows`, `output channels`, `tile rows` (a row of Winograd's 2x2 output
   * tiles), `positions` (the 16 Winograd GEMMs), or `layer` (the kernel transforms the whole map at once).
   */
  readonly unit: 'output rows' | 'output channels' | 'tile rows' | 'positions' | 'layer';
  /**
   * About what one unit costs: its multiply-adds, or for a transform or a copy the floats it
   * moves. Threads that share a stage of several phases split it by this (src/schedule.ts).
   */
  readonly cost: number;
}

/**
 * One convolution at one input size, all plain numbers (a worker thread can be handed it): its
 * method and packed weights, its shapes, its scratch (byte offsets) and its phases.
 */
export interface ConvLayer extends PackedConv, ConvSize {
  readonly name: string;
  readonly scratch: ConvScratch;
  readonly phases: readonly ConvPhase[];
}

/** A layer from its plan entry, its packed weights and its scratch (byte offsets, at least convScratchFloats floats each). */
export function convLayer(op: ConvSize & { readonly name: string }, packed: PackedConv, scratch: ConvScratch): ConvLayer {
  const { name, inH, inW, outH, outW } = op;
  if (op.inC !== packed.inC || op.outC !== packed.outC || op.kernel !== packed.kernel || op.stride !== packed.stride || op.pad !== packed.pad) {
    throw new Error(`${name}: packed weights of another shape`);
  }
  return { ...packed, name, inH, inW, outH, outW, scratch, phases: phasesOf(packed.method, op, packed.csr?.nonzero ?? 0) };
}

function phasesOf(method: ConvMethod, op: ConvSize, nonzero: number): ConvPhase[] {
  const { inC, outC, inH, inW, outW, kernel } = op;
  switch (method) {
    case 'gemm1x1':
      return [{ kernels: 'f32_gemm_4x8', units: op.outH, unit: 'output rows', cost: outW * outC * inC }];
    case 'padded1x1':
      return [{ kernels: 'f32_gemm_4x8, f32_fill_rows, copy', units: op.outH, unit: 'output rows', cost: inW * outC * inC }];
    case 'sparse': {
      const phases: ConvPhase[] = [
        { kernels: 'f32_transpose', units: 1, unit: 'layer', cost: inH * inW * inC },
        { kernels: 'f32_spmm_32x1', units: outC, unit: 'output channels', cost: (inH * inW * nonzero) / outC },
      ];
      if (op.pad > 0) phases.push({ kernels: 'f32_fill_rows, copy', units: op.outH, unit: 'output rows', cost: outW * outC });
      return phases;
    }
    case 'winograd': {
      const tileRows = Math.ceil(op.outH / 2);
      const tw = Math.ceil(outW / 2);
      return [
        { kernels: 'f32_winograd23_input_nhwc', units: tileRows, unit: 'tile rows', cost: 16 * tw * inC },
        { kernels: 'f32_gemm_4x8', units: 16, unit: 'positions', cost: tileRows * tw * outC * inC },
        { kernels: 'f32_winograd23_output_nhwc', units: tileRows, unit: 'tile rows', cost: 16 * tw * outC },
      ];
    }
    case 'im2col':
      return [{ kernels: 'f32_im2col_nhwc_rows, f32_gemm_4x8', units: op.outH, unit: 'output rows', cost: outW * outC * inC * kernel * kernel }];
  }
}

/**
 * Where one call reads and writes: the NHWC input map at byte offset `x` (inC floats per pixel);
 * the output at `y`, rows of `ldc` floats of which the layer writes channels [first, first + outC)
 * (a Fire expand writes its slice of the concat buffer); ReLU fused or not.
 */
export interface ConvIO {
  readonly x: number;
  readonly y: number;
  readonly ldc: number;
  readonly first: number;
  readonly relu: boolean;
}

/** Runs a whole layer: every phase over all its units, in order. */
export function runConv(arena: Arena, layer: ConvLayer, io: ConvIO): void {
  for (let i = 0; i < layer.phases.length; i++) runConvPhase(arena, layer, io, i, 0, layer.phases[i]!.units);
}

/**
 * Runs units [from, to) of phase `phase` of a layer. Any split of a phase into ranges gives the
 * same bits as the whole; a phase must finish (on every range) before the next one starts.
 */
export function runConvPhase(arena: Arena, l: ConvLayer, io: ConvIO, phase: number, from: number, to: number): void {
  if (to <= from) return;
  const k = arena.kernels;
  const r = io.relu ? 1 : 0;
  const out = io.y + io.first * 4;
  const { inC, outC, inH, inW, outW, scratch } = l;
  switch (l.method) {
    case 'gemm1x1': {
      const p = from * outW;
      k.f32_gemm_4x8((to - from) * outW, outC, inC, io.x + p * inC * 4, inC, l.w, out + p * io.ldc * 4, io.ldc, r);
      return;
    }
    case 'padded1x1': {
      // one GEMM over the input rows these output rows hold (a GEMM per row would stream the
      // weights once per row), then relu(bias) around them and their rows copied in
      const iy0 = Math.max(from - l.pad, 0);
      const iy1 = Math.min(to - l.pad, inH);
      if (iy1 > iy0) {
        k.f32_gemm_4x8((iy1 - iy0) * inW, outC, inC, io.x + iy0 * inW * inC * 4, inC, l.w, scratch.cols + iy0 * inW * outC * 4, outC, r);
      }
      padRows(arena, l, io, from, to);
      return;
    }
    case 'sparse': {
      const pixels = inH * inW;
      if (phase === 0) {
        // the map channel-major: one weight then multiplies 4 neighbouring pixels in one f32x4
        k.f32_transpose(io.x, pixels, inC, scratch.transposed);
      } else if (phase === 1) {
        const { rows, index, values } = l.csr!;
        const [c, ldc] = l.pad === 0 ? [out, io.ldc] : [scratch.cols, outC];
        k.f32_spmm_32x1(pixels, to - from, scratch.transposed, rows + from * 4, index, values, l.bias + from * 4, c + from * 4, ldc, r);
      } else {
        padRows(arena, l, io, from, to);
      }
      return;
    }
    case 'winograd': {
      const th = Math.ceil(l.outH / 2);
      const tw = Math.ceil(outW / 2);
      const tiles = th * tw;
      if (phase === 0) {
        k.f32_winograd23_input_nhwc(io.x, inH, inW, inC, th, tw, from, to, scratch.wgInput);
      } else if (phase === 1) {
        const stride = packedGemmSize(outC, inC, 1) * 4;
        for (let xi = from; xi < to; xi++) {
          k.f32_gemm_4x8(tiles, outC, inC, scratch.wgInput + xi * tiles * inC * 4, inC, l.w + xi * stride, scratch.wgProducts + xi * tiles * outC * 4, outC, 0);
        }
      } else {
        k.f32_winograd23_output_nhwc(scratch.wgProducts, th, tw, from, to, outC, l.bias, out, l.outH, outW, io.ldc, r);
      }
      return;
    }
    case 'im2col': {
      // band by band, so that the GEMM reads the im2col rows from cache, not from memory
      const depth = inC * l.kernel * l.kernel;
      const band = bandRows(l);
      for (let oy = from; oy < to; oy += band) {
        const end = Math.min(oy + band, to);
        k.f32_im2col_nhwc_rows(io.x, inH, inW, inC, l.kernel, l.kernel, l.stride, l.pad, oy, end, outW, scratch.cols);
        k.f32_gemm_4x8((end - oy) * outW, outC, depth, scratch.cols, depth, l.w, out + oy * outW * io.ldc * 4, io.ldc, r);
      }
      return;
    }
  }
}

// Output rows [from, to) of a padded 1x1: relu(bias) everywhere, then the unpadded result
// (scratch.cols, rows of outC) inside.
function padRows(arena: Arena, l: ConvLayer, io: ConvIO, from: number, to: number): void {
  const out = io.y + io.first * 4;
  arena.kernels.f32_fill_rows(out + from * l.outW * io.ldc * 4, (to - from) * l.outW, l.outC, io.ldc, l.bias, io.relu ? 1 : 0);
  const f32 = arena.f32;
  // a whole interior row at once when the output holds only this layer's channels (ldc = outC)
  const run = io.ldc === l.outC ? l.inW : 1;
  for (let iy = Math.max(from - l.pad, 0); iy < Math.min(to - l.pad, l.inH); iy++) {
    for (let ix = 0; ix < l.inW; ix += run) {
      const src = (l.scratch.cols >>> 2) + (iy * l.inW + ix) * l.outC;
      f32.copyWithin((out >>> 2) + ((iy + l.pad) * l.outW + ix + l.pad) * io.ldc, src, src + run * l.outC);
    }
  }
}
