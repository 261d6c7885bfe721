// Compression with calibration data (the `--calibrate DIR` of `squeezenet compress`): the layer-
// wise reconstruction of calibrate.ts, and bytes spent where the network's output needs them.
//
//   1. statistics: each convolution's input Gram matrix and mean on the calibration inputs
//      (and, by default, their mirror images);
//   2. a first file at the byte budget, every layer with the same rate trade-off lambda, codes
//      and codebooks refined on the statistics;
//   3. sensitivity: how far the logits move when each layer alone takes its compressed weights;
//      with each layer's weight error at the same lambda this gives how many logit errors a
//      unit of that layer's weight error costs, a_l. Minimising sum_l a_l D_l + mu * bits
//      splits into one entropy-constrained problem per layer with lambda_l = mu / a_l
//      (Lagrangian bit allocation: Shoham and Gersho, IEEE Trans. ASSP 1988);
//   4. the file again at the budget with those per-layer lambdas (mu searched), refined.
// Steps 3 and 4 run `allocationRounds` times (default 1; each measures at the last file).
//   5. sequential calibration (src/compress/sequential.ts): at the last file's lambdas, the
//      network compressed again one stage at a time, each stage's statistics gathered on the
//      network whose earlier stages are already compressed, each layer refined to reproduce the
//      uncompressed layer's output from that input (so it corrects the earlier layers' errors).
//      The mean logit drift on images held out of the calibration falls by ~8 %.

import { ARCHS, type ArchName } from '../arch.js';
import { InputError } from '../errors.js';
import { decodeSqz } from '../formats/sqz.js';
import type { WeightMap } from '../weights.js';
import { calibrationStatistics, layerSensitivity, type CalibrationOptions, type CalibrationStatistics } from './calibrate.js';
import { compress, type CompressOptions, type CompressResult } from './encoder.js';
import { sequentialStatistics } from './sequential.js';

export interface CalibratedOptions extends Omit<CompressOptions, 'calibration' | 'lambdaScale' | 'kmeans' | 'lambda'>, CalibrationOptions {
  /** The byte budget (required): the file is the most accurate found of at most this size. */
  readonly maxBytes: number;
  /** Add each input's mirror image (left to right) to the statistics (default true). */
  readonly flips?: boolean;
  /** Inputs the sensitivity is measured on: the first this many calibration inputs (default 16). */
  readonly sensitivityInputs?: number;
  /** Sensitivity measurements and re-allocations (default 1; 0: one lambda for every layer). */
  readonly allocationRounds?: number;
  /**
   * Step 5: gather the statistics again stage by stage on the compressed network, from this
   * stage on (src/compress/sequential.ts; default 0: every stage; false: no step 5): each layer
   * then reproduces the uncompressed output from the input it will really see, correcting the
   * earlier layers' errors.
   */
  readonly sequential?: number | false;
  /**
   * Step 5's stages: a Fire module's squeeze and expands apart (`layers`: 18 passes over the
   * inputs) or together (`modules`, the default: 10 passes; it kept most of the gain).
   */
  readonly sequentialStages?: 'layers' | 'modules';
  /**
   * Ridge of the sequential targets toward the weights, relative to the mean Gram diagonal
   * (default {@link SEQUENTIAL_TARGET_DAMP}).
   */
  readonly targetDamp?: number;
  /** Statistics already gathered for these weights (skips step 1). */
  readonly statistics?: CalibrationStatistics;
  /** Called with what each step did, for a progress line. */
  readonly log?: (message: string) => void;
}

export interface CalibratedResult extends CompressResult {
  /** Per layer (our name): its lambda multiplier in the file. */
  readonly lambdaScale: ReadonlyMap<string, number>;
  /** Per layer: the mean squared logit change when it alone takes the file's weights (last measured). */
  readonly sensitivity: ReadonlyMap<string, number>;
  readonly statistics: CalibrationStatistics;
}

/**
 * The default ridge of the sequential targets (LayerStatistics.target.damp): chosen by cross-
 * validation inside the calibration half of the sample images (docs/COMPRESSION.md).
 */
export const SEQUENTIAL_TARGET_DAMP = 1;

/** Mirrors an NCHW input left to right (a calibration augmentation). */
export function mirror(input: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = (c * height + y) * width;
      for (let x = 0; x < width; x++) out[row + x] = input[row + width - 1 - x]!;
    }
  }
  return out;
}

/**
 * Compresses `weights` into a .sqz file of at most `options.maxBytes` bytes that reproduces the
 * network's outputs on `inputs` (preprocessed NCHW Float32Arrays of the arch's input size, as
 * `preprocess` makes them) as closely as this method finds: entropy-constrained codebooks with
 * per-layer lambdas from the measured sensitivity, each layer's codes and codebook refined to its
 * output on the inputs (src/compress/calibrate.ts). Writes version 3 unless `version` says 1.
 *
 * @throws InputError for no inputs, inputs of the wrong size, a budget that cannot be met; what
 *   `compress` and `SqueezeNet.load` throw.
 */
export async function compressCalibrated(weights: WeightMap, inputs: readonly Float32Array[], options: CalibratedOptions): Promise<CalibratedResult> {
  const log = options.log ?? ((): void => undefined);
  if (!(options.maxBytes > 0)) throw new InputError(`maxBytes must be positive, got ${options.maxBytes}`);
  if (inputs.length === 0) throw new InputError('calibration needs at least one input');
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[(options.arch ?? 'v1.0-caffe') as ArchName];
  if (arch === undefined) throw new InputError(`unknown arch ${JSON.stringify(options.arch)}: use one of ${Object.keys(ARCHS).join(', ')}`);
  const size = 3 * arch.input * arch.input;
  inputs.forEach((x, i) => {
    if (x.length !== size) throw new InputError(`calibration input ${i} has ${x.length} values; ${arch.name} takes 3x${arch.input}x${arch.input} = ${size}`);
  });
  const { flips, sensitivityInputs, allocationRounds, statistics, log: _log, wasm, samplesPerDim, sequential, sequentialStages, targetDamp, ...rest } = options;
  const base: CompressOptions = { ...rest, arch, kmeans: 'entropy', version: options.version ?? 3 };

  let t = performance.now();
  const seconds = (): string => {
    const s = ((performance.now() - t) / 1000).toFixed(1);
    t = performance.now();
    return s;
  };
  const all = flips === false ? [...inputs] : [...inputs, ...inputs.map((x) => mirror(x, 3, arch.input, arch.input))];
  const stats = statistics ?? (await calibrationStatistics(weights, all, { arch, wasm, samplesPerDim }));
  if (statistics === undefined) log(`statistics of ${all.length} inputs: ${seconds()} s`);

  let scale = new Map<string, number>();
  let result = compress(weights, { ...base, calibration: stats });
  log(`one lambda for every layer: ${result.sizes.total} bytes, ${seconds()} s`);
  let sensitivity = new Map<string, number>();
  const probe = inputs.slice(0, Math.max(1, sensitivityInputs ?? 16));
  for (let round = 0; round < (allocationRounds ?? 1); round++) {
    sensitivity = await layerSensitivity(weights, decodeSqz(result.bytes).weights, probe, { arch, wasm });
    // Each layer's weight error at its lambda, without refinement (what the codebook search weighs).
    const plain = compress(weights, { ...base, lambda: result.lambda, maxBytes: undefined, lambdaScale: Object.fromEntries(scale) });
    const next = new Map<string, number>();
    for (const l of plain.layers) {
      const s = Math.max(sensitivity.get(l.op)!, 1e-30);
      // lambda_l proportional to 1 / a_l = (relative error * weights) / sensitivity
      next.set(l.op, Math.max((l.relativeError * l.nonzero) / s, 1e-30));
    }
    let logMean = 0;
    for (const v of next.values()) logMean += Math.log(v) / next.size;
    for (const [k, v] of next) next.set(k, Math.min(1e4, Math.max(1e-4, v / Math.exp(logMean))));
    scale = next;
    log(`sensitivity measured on ${probe.length} inputs (sum ${[...sensitivity.values()].reduce((a, b) => a + b, 0).toExponential(2)}), ${seconds()} s`);
    result = compress(weights, { ...base, calibration: stats, lambdaScale: Object.fromEntries(scale) });
    log(`per-layer lambdas: ${result.sizes.total} bytes, ${seconds()} s`);
  }
  if (sequential !== false) {
    // The lambda of the last file; when the sequential file comes out too large (its codes differ
    // a little), again with lambda raised by what its overshoot needs (the size falls by about
    // 0.1 % per 1 % of lambda).
    let lambda = result.lambda!;
    const from = sequential ?? 0;
    const before = decodeSqz(result.bytes).weights;
    for (let attempt = 0; ; attempt++) {
      const fixed: CompressOptions = { ...base, lambda, lambdaScale: Object.fromEntries(scale), maxBytes: undefined };
      const seq = await sequentialStatistics(weights, all, { arch, wasm, samplesPerDim, compress: fixed, initial: stats, from, before, targetDamp: targetDamp ?? SEQUENTIAL_TARGET_DAMP, modules: sequentialStages !== 'layers', log });
      const next = compress(weights, { ...fixed, calibration: seq });
      log(`sequential from stage ${from}: ${next.sizes.total} bytes, ${seconds()} s`);
      if (next.sizes.total <= options.maxBytes) {
        result = next;
        break;
      }
      if (attempt === 2) {
        log(`the sequential file stays above ${options.maxBytes} bytes: keeping the last file`);
        break;
      }
      lambda *= 1 + 12 * ((next.sizes.total - options.maxBytes) / options.maxBytes) + 0.005;
    }
  }
  return { ...result, lambdaScale: scale, sensitivity, statistics: stats };
}
