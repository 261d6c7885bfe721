// Per-layer kernel benchmark at SqueezeNet v1.0's real shapes (the Caffe flavour, 227x227), layer by
// layer as XNNPACK's benchmarks do it. Every convolution is packed, given its scratch and run by
// src/conv.ts, the engine's own lowering, so a row times the calls SqueezeNet makes: each layer by
// the method the engine picks (`SqueezeNet.convMethods`) and by every other method that can run it
// (except `sparse`, which only pays on pruned weights: bench/sparse.ts), and the engine's method
// phase by phase where it has several (Winograd's transforms and 16 GEMMs). Pools as the engine
// calls them. Weights are the seeded random ones the engine benchmark uses, inputs random; the row
// strides are the engine's (a Fire expand writes its slice of the concat buffer).

import { ARCHS, SqueezeNet, instantiate, plan, poolOutSize, type ConvOp } from '../src/index.js';
import { Arena } from '../src/arena.js';
import {
  applicableMethods,
  convLayer,
  convScratchFloats,
  packConv,
  runConv,
  runConvPhase,
  type ConvIO,
  type ConvLayer,
  type ConvMethod,
} from '../src/conv.js';
import { randomWeights } from './random-weights.js';
import { time, type TimingOptions } from './timing.js';

export interface KernelRow {
  /** `conv`: a whole layer as runConv runs it; `phase`: one phase of the engine's method; `maxpool`. */
  readonly what: 'conv' | 'phase' | 'maxpool';
  readonly layer: string;
  /** The method timed (src/conv.ts ConvMethod), or `maxpool`. */
  readonly method: string;
  /** The method the engine runs the layer by (`maxpool` for a pool). */
  readonly model_path: string;
  /** The kernels the row calls. */
  readonly kernel: string;
  /** Convolutions: `HxWxC -> HxWxC kxk/s/p`; phases: units and what they are; pools: in -> out. */
  readonly shape: string;
  readonly median_ms: number;
  readonly min_ms: number;
  /** Calls per benchmark.js sample. */
  readonly count: number;
  /**
   * Whole convolutions: 2 x the layer's MACs / median time (the same count whatever the method, so
   * Winograd can exceed its real rate); the 16 Winograd GEMMs: the flops they do; else null.
   */
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

// Bytes a phase must read and write at least, and the flops of its GEMMs (null: none worth a rate).
function phaseCost(l: ConvLayer, phase: number): { bytes: number; flops: number | null } {
  const inMap = l.inH * l.inW * l.inC;
  const outMap = l.outH * l.outW * l.outC;
  const tiles = Math.ceil(l.outH / 2) * Math.ceil(l.outW / 2);
  if (l.method === 'winograd') {
    if (phase === 0) return { bytes: 4 * (inMap + 16 * tiles * l.inC), flops: null };
    if (phase === 1) return { bytes: 4 * (16 * tiles * (l.inC + l.outC) + l.wFloats), flops: 2 * 16 * tiles * l.outC * l.inC };
    return { bytes: 4 * (16 * tiles * l.outC + outMap), flops: null };
  }
  if (l.method === 'sparse') {
    if (phase === 0) return { bytes: 4 * 2 * inMap, flops: null };
    if (phase === 1) return { bytes: 4 * (inMap + 2 * (l.csr?.nonzero ?? 0) + outMap), flops: null };
  }
  return { bytes: 4 * outMap, flops: null };
}

/** Times every convolution (by each method that can run it, and the engine's phase by phase) and pool of one v1.0-caffe forward pass. */
export async function benchKernels(options: TimingOptions, progress: (s: string) => void): Promise<KernelRow[]> {
  const p = plan(ARCHS['v1.0-caffe']);
  const weights = randomWeights('v1.0-caffe');
  const net = await SqueezeNet.load({ arch: 'v1.0-caffe', weights, warmup: false });
  const engineMethods = net.convMethods;
  net.dispose();
  const arena = new Arena(await instantiate());
  const rand = seeded(1602);
  const fill = (offset: number, floats: number, scale = 1): void => {
    const v = arena.view(offset, floats);
    for (let i = 0; i < floats; i++) v[i] = (rand() * 2 - 1) * scale;
  };

  // One buffer each for the input map and the output, sized for the largest layer; scratch per layer.
  let inFloats = 0;
  let outFloats = 0;
  for (const row of p.rows) {
    inFloats = Math.max(inFloats, row.input[0] * row.input[1] * row.input[2]);
    outFloats = Math.max(outFloats, row.output[0] * row.output[1] * row.output[2]);
  }
  const input = arena.alloc(inFloats);
  const output = arena.alloc(outFloats);
  fill(input, inFloats);

  const rows: KernelRow[] = [];
  const record = async (
    row: Omit<KernelRow, 'median_ms' | 'min_ms' | 'count' | 'gflops' | 'gbytes_per_s'>,
    flops: number | null,
    bytes: number,
    fn: () => void,
  ): Promise<void> => {
    progress(`${row.layer} ${row.method} ${row.what === 'phase' ? row.kernel : ''}`);
    const t = await time(`${row.layer} ${row.method} ${row.kernel}`, fn, false, { minTime: 0, ...options });
    rows.push({
      ...row,
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
      const shape = `${h}x${w}x${c} -> ${oh}x${ow}`;
      await record({ what: 'maxpool', layer: spec.name, method: 'maxpool', model_path: 'maxpool', kernel: 'f32_maxpool_nhwc', shape }, null, 4 * c * (h * w + oh * ow), () =>
        arena.kernels.f32_maxpool_nhwc(input, h, w, c, spec.size, spec.stride, 0, oh, ow, output),
      );
      continue;
    }
    for (const op of row.convs) {
      const chosen = engineMethods.get(op.name)!;
      // As forward() calls it: Fire expands write their channel slice of the concat buffer.
      const io: ConvIO = {
        x: input,
        y: output,
        ldc: op.name.endsWith('.expand1x1') || op.name.endsWith('.expand3x3') ? row.output[0] : op.outC,
        first: op.name.endsWith('.expand3x3') && spec.kind === 'fire' ? spec.e1x1 : 0,
        relu: !op.name.endsWith('.bypass'),
      };
      const methods = applicableMethods(op).filter((m) => m !== 'sparse' || m === chosen);
      for (const method of [chosen, ...methods.filter((m) => m !== chosen)]) {
        const mark = arena.mark();
        const layer = prepare(arena, op, weights, method, fill);
        const shape = `${op.inH}x${op.inW}x${op.inC} -> ${op.outH}x${op.outW}x${op.outC} ${op.kernel}x${op.kernel}/${op.stride}/${op.pad}`;
        const macs = op.outH * op.outW * op.outC * op.inC * op.kernel * op.kernel;
        const bytes = 4 * (op.inH * op.inW * op.inC + layer.wFloats + op.outH * op.outW * op.outC);
        const kernels = layer.phases.map((ph) => ph.kernels).join('; ');
        await record({ what: 'conv', layer: op.name, method, model_path: chosen, kernel: kernels, shape }, 2 * macs, bytes, () => runConv(arena, layer, io));
        if (method === chosen && layer.phases.length > 1) {
          for (let i = 0; i < layer.phases.length; i++) {
            const phase = layer.phases[i]!;
            const cost = phaseCost(layer, i);
            await record(
              { what: 'phase', layer: op.name, method, model_path: chosen, kernel: phase.kernels, shape: `${phase.units} ${phase.unit}` },
              cost.flops,
              cost.bytes,
              () => runConvPhase(arena, layer, io, i, 0, phase.units),
            );
          }
        }
        arena.release(mark);
      }
    }
  }
  return rows;
}

// A layer by `method`, packed from the benchmark's weights, with scratch (random-filled, so a
// phase timed alone reads numbers) as the engine would give it.
function prepare(
  arena: Arena,
  op: ConvOp,
  weights: ReadonlyMap<string, Float32Array>,
  method: ConvMethod,
  fill: (offset: number, floats: number) => void,
): ConvLayer {
  const names = { weight: `${op.param}.weight`, bias: `${op.param}.bias` };
  const packed = packConv(arena, op, weights.get(names.weight)!, weights.get(names.bias)!, method, names);
  const floats = convScratchFloats(method, op);
  const scratch = (n: number): number => {
    const at = arena.alloc(n);
    fill(at, n);
    return at;
  };
  return convLayer(op, packed, {
    cols: scratch(floats.cols),
    transposed: scratch(floats.transposed),
    wgInput: scratch(floats.wgInput),
    wgProducts: scratch(floats.wgProducts),
  });
}
