// The benchmark's inputs: the fixture weights (fixtures/weights-*.sqzf.gz) and, for each model,
// the PyTorch case at its full input size (the dense input and logits), read with the tests'
// reader (test/fixture-reader.ts).

import { dense, readFixture, readManifest, REGENERATE } from '../test/fixture-reader.js';

export { ROOT } from '../test/fixture-reader.js';

/** The two networks the benchmark runs, each with the arch our engine plans and its ONNX file. */
export const MODELS = {
  'v1.0': { arch: 'v1.0-caffe', size: 227, weights: 'v1.0', onnx: 'squeezenet1_0.onnx' },
  'v1.1': { arch: 'v1.1', size: 224, weights: 'v1.1', onnx: 'squeezenet1_1.onnx' },
} as const;
export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

/** The fixture weights of a model, by torchvision state_dict name. */
export function loadWeights(model: ModelName): Map<string, Float32Array> {
  const file = readManifest().weights[MODELS[model].weights];
  if (file === undefined) throw new Error(`fixtures/manifest.json lists no weights ${MODELS[model].weights}: ${REGENERATE}`);
  return new Map([...readFixture(file)].map(([name, t]) => [name, dense(t, `${file} ${name}`)]));
}

/** The benchmark input (NCHW) and PyTorch's logits for it: the fixture case at the model's full size. */
export function loadCase(model: ModelName): { file: string; input: Float32Array; logits: Float32Array } {
  const { arch, size, weights } = MODELS[model];
  const m = readManifest();
  const c = m.cases.find((k) => k.arch === arch && k.weights === m.weights[weights] && k.input[2] === size && k.input[3] === size);
  if (c === undefined) throw new Error(`fixtures/manifest.json has no ${arch} case at ${size}x${size}: ${REGENERATE}`);
  const t = readFixture(c.file);
  return { file: c.file, input: dense(t.get('input'), `${c.file} input`), logits: dense(t.get('logits'), `${c.file} logits`) };
}
