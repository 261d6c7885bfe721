// Per-kernel benchmark at SqueezeNet v1.0's real shapes (the Caffe flavour, 227x227), layer by
// layer as XNNPACK's benchmarks do it: f32_gemm_4x8 for every convolution, f32_im2col_nhwc for
// every convolution that needs it, f32_maxpool_nhwc for every pool, and for the 3x3 convolutions
// that Winograd F(2x2,3x3) applies to, its input transform, 16 GEMMs and output transform. The
// arguments are the ones src/model.ts passes (row strides of the concat buffer included); the
// inputs and weights are random.

import { ARCHS, SqueezeNet, instantiate, plan, poolOutSize } from '../src/index.js';
import { Arena } from '../src/arena.js';
import { packGemmWeights, packedGemmSize, winogradApplies } from '../src/pack.js';
import { randomWeights } from './random-weights.js';
import { time, type TimingOptions } from './timing.js';

export type KernelName =
  | 'f32_gemm_4x8'
  | 'f32_im2col_nhwc'
  | 'f32_maxpool_nhwc'
  | 'f32_winograd23_input_nhwc'
  | 'f32_gemm_4x8 x16'
  | 'f32_winograd23_output_nhwc';

export interface KernelRow {
  readonly kernel: KernelName;
  readonly layer: string;
  /** GEMM: `MxNxK`; im2col: `HxWxC k/s/p -> rows x depth`; pools and transforms: in -> out. */
  readonly shape: string;
  /** The path SqueezeNet.load takes for this layer today (`direct`, `padded1x1`, `im2col`, `winograd`, `maxpool`). */
  readonly model_path: string;
  readonly median_ms: number;
  readonly min_ms: number;
  /** Calls per benchmark.js sample. */
  readonly count: number;
  /** GEMMs only: 2 * M * N * K / median time. */
  readonly gflops: number | null;
  /** Bytes each call must read and write at least (inputs once, outputs once), per median time. */
  readonly gbytes_per_s: number;
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How SqueezeNet.load runs each convolution. The model does not expose this yet, so it is read from
 * its private `convs` table; 'unknown' if that changes.
 */
async function modelPaths(): Promise<(name: string) => string> {
  const net = await SqueezeNet.load({ arch: 'v1.0-caffe', weights: randomWeights('v1.0-caffe') });
  const convs = (net as unknown as { convs?: ReadonlyMap<string, { method?: unknown }> }).convs;
  const paths = new Map<string, string>();
  for (const [name, c] of convs instanceof Map ? convs : []) if (typeof c.method === 'string') paths.set(name, c.method);
  net.dispose();
  return (name) => paths.get(name) ?? 'unknown';
}

/** Times every kernel call of one v1.0-caffe forward pass. */
export async function benchKernels(options: TimingOptions, progress: (s: string) => void): Promise<KernelRow[]> {
  const p = plan(ARCHS['v1.0-caffe']);
  const pathOf = await modelPaths();
  const k = await instantiate();
  const arena = new Arena(k);
  const rand = seeded(1602);
  const fill = (offset: number, floats: number, scale = 1): void => {
    const v = arena.view(offset, floats);
    for (let i = 0; i < floats; i++) v[i] = (rand() * 2 - 1) * scale;
  };

  // One buffer each for the input map, the scratch (im2col rows or Winograd tiles) and the output,
  // sized for the largest layer.
  let inFloats = 0;
  let scratchFloats = 0;
  let outFloats = 0;
  for (const row of p.rows) {
    inFloats = Math.max(inFloats, row.input[0] * row.input[1] * row.input[2]);
    outFloats = Math.max(outFloats, row.output[0] * row.output[1] * row.output[2]);
    for (const op of row.convs) {
      const tiles = Math.ceil(op.outH / 2) * Math.ceil(op.outW / 2);
      scratchFloats = Math.max(scratchFloats, op.outH * op.outW * op.inC * op.kernel * op.kernel, 16 * tiles * Math.max(op.inC, op.outC));
    }
  }
  const input = arena.alloc(inFloats);
  const scratch = arena.alloc(scratchFloats);
  const products = arena.alloc(scratchFloats);
  const output = arena.alloc(outFloats);
  fill(input, inFloats);
  fill(scratch, scratchFloats);
  fill(products, scratchFloats);

  const rows: KernelRow[] = [];
  const record = async (
    kernel: KernelName,
    modelPath: string,
    layer: string,
    shape: string,
    flops: number | null,
    bytes: number,
    fn: () => void,
  ): Promise<void> => {
    progress(`${kernel} ${layer} ${shape}`);
    const t = await time(`${kernel} ${layer}`, fn, false, { minTime: 0, ...options });
    rows.push({
      kernel,
      layer,
      shape,
      model_path: modelPath,
      median_ms: t.median,
      min_ms: t.min,
      count: t.count,
      gflops: flops === null ? null : flops / t.median / 1e6,
      gbytes_per_s: bytes / t.median / 1e6,
    });
  };

  for (const row of p.rows) {
    const spec = row.spec;
    if (spec.kind === 'maxpool') {
      const [c, h, w] = row.input;
      const oh = poolOutSize(h, spec.size, spec.stride, 0, spec.ceil);
      const ow = poolOutSize(w, spec.size, spec.stride, 0, spec.ceil);
      await record('f32_maxpool_nhwc', 'maxpool', spec.name, `${h}x${w}x${c} -> ${oh}x${ow}`, null, 4 * c * (h * w + oh * ow), () =>
        k.f32_maxpool_nhwc(input, h, w, c, spec.size, spec.stride, 0, oh, ow, output),
      );
      continue;
    }
    for (const op of row.convs) {
      const path = pathOf(op.name);
      const m = op.outH * op.outW;
      const depth = op.inC * op.kernel * op.kernel;
      const direct = op.kernel === 1 && op.stride === 1 && op.pad === 0;
      // Fire expand branches write their channel slice of the concat buffer: row stride = all channels.
      const ldc = op.name.endsWith('.expand1x1') || op.name.endsWith('.expand3x3') ? row.output[0] : op.outC;
      const out = output + 4 * (op.name.endsWith('.expand3x3') && spec.kind === 'fire' ? spec.e1x1 : 0);
      const mark = arena.mark();

      // im2col + GEMM (or the GEMM alone on the map for a plain 1x1), whichever path the model takes.
      if (!direct) {
        await record(
          'f32_im2col_nhwc',
          path,
          op.name,
          `${op.inH}x${op.inW}x${op.inC} ${op.kernel}x${op.kernel}/${op.stride}/${op.pad} -> ${m}x${depth}`,
          null,
          4 * (op.inH * op.inW * op.inC + m * depth),
          () => k.f32_im2col_nhwc(input, op.inH, op.inW, op.inC, op.kernel, op.kernel, op.stride, op.pad, op.outH, op.outW, scratch),
        );
      }
      const size = packedGemmSize(op.outC, op.inC, op.kernel);
      const w = arena.alloc(size);
      const weight = Float32Array.from({ length: op.outC * depth }, () => rand() * 2 - 1);
      const bias = Float32Array.from({ length: op.outC }, () => rand() - 0.5);
      packGemmWeights(weight, bias, op.outC, op.inC, op.kernel, arena.view(w, size));
      const a = direct ? input : scratch;
      await record('f32_gemm_4x8', path, op.name, `${m}x${op.outC}x${depth}`, 2 * m * op.outC * depth, 4 * (m * depth + size + m * op.outC), () =>
        k.f32_gemm_4x8(m, op.outC, depth, a, depth, w, out, ldc, 1),
      );

      // Winograd F(2x2,3x3), called as src/model.ts does: transform, 16 GEMMs over tiles, inverse.
      if (winogradApplies(op.inC, op.outC, op.kernel, op.stride, op.pad)) {
        const th = Math.ceil(op.outH / 2);
        const tw = Math.ceil(op.outW / 2);
        const tiles = th * tw;
        const stride = packedGemmSize(op.outC, op.inC, 1);
        const raw = arena.alloc(op.outC * op.inC * 9);
        const u = arena.alloc(16 * op.outC * op.inC);
        const wg = arena.alloc(16 * stride);
        const b = arena.alloc(op.outC);
        fill(raw, op.outC * op.inC * 9, 0.3);
        fill(b, op.outC, 0.1);
        k.f32_pack_winograd23(raw, op.outC, op.inC, u, wg);
        await record(
          'f32_winograd23_input_nhwc',
          path,
          op.name,
          `${op.inH}x${op.inW}x${op.inC} -> 16x${tiles}x${op.inC}`,
          null,
          4 * (op.inH * op.inW * op.inC + 16 * tiles * op.inC),
          () => k.f32_winograd23_input_nhwc(input, op.inH, op.inW, op.inC, th, tw, scratch),
        );
        await record(
          'f32_gemm_4x8 x16',
          path,
          op.name,
          `16 x ${tiles}x${op.outC}x${op.inC}`,
          2 * 16 * tiles * op.outC * op.inC,
          4 * 16 * (tiles * op.inC + stride + tiles * op.outC),
          () => {
            for (let xi = 0; xi < 16; xi++) {
              k.f32_gemm_4x8(tiles, op.outC, op.inC, scratch + xi * tiles * op.inC * 4, op.inC, wg + xi * stride * 4, products + xi * tiles * op.outC * 4, op.outC, 0);
            }
          },
        );
        await record(
          'f32_winograd23_output_nhwc',
          path,
          op.name,
          `16x${tiles}x${op.outC} -> ${op.outH}x${op.outW}x${op.outC}`,
          null,
          4 * (16 * tiles * op.outC + m * op.outC),
          () => k.f32_winograd23_output_nhwc(products, th, tw, op.outC, b, out, op.outH, op.outW, ldc, 1),
        );
      }
      arena.release(mark);
    }
  }
  return rows;
}
