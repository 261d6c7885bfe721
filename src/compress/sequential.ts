// Sequential calibration (GPTQ's and Optimal Brain Compression's order of work): the network is
// compressed one stage at a time, and each stage's statistics are gathered on the network whose
// earlier stages already hold their compressed weights, with the uncompressed network's input at
// the same positions as the target (LayerStatistics.target). A layer then reproduces the
// uncompressed layer's output from the input it will really see, so it corrects, in the least-
// squares sense, the errors of every layer before it. A stage is a convolution, or a Fire module's
// squeeze, or its two expands (they read the same input).

import { ARCHS, type Arch } from '../arch.js';
import { plan } from '../plan.js';
import { weightMap, type WeightMap } from '../weights.js';
import { calibrationStatistics, type CalibrationOptions, type LayerStatistics } from './calibrate.js';
import { compressLayer, type CompressOptions } from './encoder.js';

export interface SequentialOptions extends CalibrationOptions {
  /** How every layer is compressed (a fixed `lambda`, no `maxBytes`; `calibration` is replaced). */
  readonly compress: CompressOptions;
  /** Statistics of the uncompressed network, for the layers before stage `from`. */
  readonly initial: ReadonlyMap<string, LayerStatistics>;
  /** The first stage gathered sequentially (default 0: every stage). */
  readonly from?: number;
  /** The compressed weights of the layers before stage `from` (as `compress` with `initial` gives them). */
  readonly before?: WeightMap;
  /** One stage per Fire module (see `calibrationStages`; default false). */
  readonly modules?: boolean;
  /** Ridge of each layer's target toward its own weights (LayerStatistics.target.damp). */
  readonly targetDamp?: number;
  readonly log?: (message: string) => void;
}

/**
 * The stages of a network, in order: lists of convolutions (our names). By default a Fire module
 * is two stages (its squeeze, then its expands, which read the squeeze); with `modules`, one (its
 * expands then see the uncompressed squeeze of the compressed earlier modules: half the passes,
 * and the next module corrects the squeeze's error).
 */
export function calibrationStages(arch: Arch, modules = false): string[][] {
  const stages: string[][] = [];
  for (const row of plan(arch).rows) {
    const squeeze = row.convs.filter((c) => c.name.endsWith('.squeeze'));
    if (squeeze.length > 0 && modules) {
      stages.push(row.convs.map((c) => c.name));
    } else if (squeeze.length > 0) {
      stages.push(squeeze.map((c) => c.name));
      stages.push(row.convs.filter((c) => !c.name.endsWith('.squeeze')).map((c) => c.name));
    } else {
      for (const c of row.convs) stages.push([c.name]);
    }
  }
  return stages;
}

/**
 * Statistics for `compress` (its `calibration`) gathered stage by stage on the partly compressed
 * network (see the header): the `initial` statistics before stage `from`, sequential ones after.
 * `inputs` as `calibrationStatistics` takes them.
 */
export async function sequentialStatistics(weights: WeightMap, inputs: readonly Float32Array[], options: SequentialOptions): Promise<Map<string, LayerStatistics>> {
  const arch = typeof options.arch === 'object' ? options.arch : ARCHS[options.arch ?? 'v1.0-caffe'];
  const p = plan(arch);
  const partial = weightMap(weights);
  const before = options.before === undefined ? undefined : weightMap(options.before);
  const stages = calibrationStages(arch, options.modules === true);
  const from = options.from ?? 0;
  const out = new Map<string, LayerStatistics>();
  const byName = new Map(p.convs.map((c) => [c.name, c]));
  stages.forEach((stage, s) => {
    if (s >= from) return;
    for (const name of stage) {
      out.set(name, options.initial.get(name)!);
      const param = byName.get(name)!.param;
      if (before !== undefined) for (const part of ['weight', 'bias']) partial.set(`${param}.${part}`, before.get(`${param}.${part}`)!);
    }
  });
  for (let s = from; s < stages.length; s++) {
    const stage = stages[s]!;
    const t = performance.now();
    const stats = await calibrationStatistics(weights, inputs, { arch, wasm: options.wasm, samplesPerDim: options.samplesPerDim, compressed: partial, layers: stage });
    for (const name of stage) {
      const got = stats.get(name)!;
      const st = options.targetDamp === undefined || got.target === undefined ? got : { ...got, target: { ...got.target, damp: options.targetDamp } };
      out.set(name, st);
      const { weight, bias } = compressLayer(weights, name, { ...options.compress, calibration: new Map([[name, st]]) });
      const param = byName.get(name)!.param;
      partial.set(`${param}.weight`, weight);
      partial.set(`${param}.bias`, bias);
    }
    options.log?.(`sequential stage ${stage.join(', ')}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  return out;
}
