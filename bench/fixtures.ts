// The benchmark's inputs: the fixture weights (fixtures/weights-*.sqzf.gz) and, for each model,
// the PyTorch case at its full input size (the dense input and logits). A small reader of the SQZF
// container (format: fixtures/README.md; the tests' reader is test/fixture-reader.ts, which finds
// fixtures/ relative to its own file and so cannot be imported from dist/bench/).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The repository root: the nearest directory above this file whose package.json is ours. */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'squeezenet-wasm') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`bench: no squeezenet-wasm package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

export const FIXTURES = join(ROOT, 'fixtures');
const REGENERATE = 'regenerate them with `/usr/bin/python3 fixtures/export.py` (see fixtures/README.md)';

/** The two networks the benchmark runs, each with the arch our engine plans and its ONNX file. */
export const MODELS = {
  'v1.0': { arch: 'v1.0-caffe', size: 227, weights: 'v1.0', onnx: 'squeezenet1_0.onnx' },
  'v1.1': { arch: 'v1.1', size: 224, weights: 'v1.1', onnx: 'squeezenet1_1.onnx' },
} as const;
export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

let halves: Float32Array | undefined;

/** Every IEEE half as a float, by its 16 bits (the weights are stored as float16). */
function halfTable(): Float32Array {
  if (halves === undefined) {
    halves = new Float32Array(65536);
    for (let x = 0; x < 65536; x++) {
      const s = x & 0x8000 ? -1 : 1;
      const e = (x >> 10) & 0x1f;
      const f = x & 0x3ff;
      halves[x] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
    }
  }
  return halves;
}

/** Dense tensors of one SQZF file by name (sampled tensors are skipped). */
export function readDense(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const path = join(FIXTURES, file);
  if (!existsSync(path)) throw new Error(`fixture ${file} is missing: ${REGENERATE}`);
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'SQZF' || view.getUint32(4, true) !== 1) {
    throw new Error(`${file}: not an SQZF version 1 file (magic ${JSON.stringify(magic)}): ${REGENERATE}`);
  }
  const count = view.getUint32(8, true);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let o = 12;
  for (let t = 0; t < count; t++) {
    const nameLen = view.getUint16(o, true);
    const name = new TextDecoder().decode(bytes.subarray(o + 2, o + 2 + nameLen));
    o += 2 + nameLen;
    const dtype = view.getUint8(o);
    const ndim = view.getUint8(o + 1);
    o += 2;
    const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(o + 4 * i, true));
    o += 4 * ndim;
    const storage = view.getUint8(o);
    o += 1;
    const size = shape.reduce((a, b) => a * b, 1);
    if (storage === 0) {
      const data = new Float32Array(size);
      if (dtype === 0) {
        // Copy into a fresh (aligned) buffer: the payload can start at any byte.
        new Uint8Array(data.buffer).set(bytes.subarray(o, o + 4 * size));
        o += 4 * size;
      } else if (dtype === 1) {
        const table = halfTable();
        for (let i = 0; i < size; i++) data[i] = table[view.getUint16(o + 2 * i, true)]!;
        o += 2 * size;
      } else {
        throw new Error(`${file}: ${name} has unknown dtype ${dtype}: ${REGENERATE}`);
      }
      out.set(name, { shape, data });
    } else if (storage === 1) {
      const n = view.getUint32(o, true);
      o += 4 + 8 * n + 16; // indices, values, sum, sum of |x|
    } else {
      throw new Error(`${file}: ${name} has unknown storage ${storage}: ${REGENERATE}`);
    }
  }
  if (o !== bytes.length) throw new Error(`${file}: ${bytes.length - o} trailing bytes: ${REGENERATE}`);
  return out;
}

interface Manifest {
  readonly weights: Record<string, string>;
  readonly cases: { file: string; arch: string; weights: string; input: number[] }[];
}

function manifest(): Manifest {
  const path = join(FIXTURES, 'manifest.json');
  if (!existsSync(path)) throw new Error(`fixtures/manifest.json is missing: ${REGENERATE}`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** The fixture weights of a model, by torchvision state_dict name. */
export function loadWeights(model: ModelName): Map<string, Float32Array> {
  const file = manifest().weights[MODELS[model].weights];
  if (file === undefined) throw new Error(`fixtures/manifest.json lists no weights ${MODELS[model].weights}: ${REGENERATE}`);
  return new Map([...readDense(file)].map(([name, t]) => [name, t.data]));
}

/** The benchmark input (NCHW) and PyTorch's logits for it: the fixture case at the model's full size. */
export function loadCase(model: ModelName): { file: string; input: Float32Array; logits: Float32Array } {
  const { arch, size, weights } = MODELS[model];
  const m = manifest();
  const c = m.cases.find((k) => k.arch === arch && k.weights === m.weights[weights] && k.input[2] === size && k.input[3] === size);
  if (c === undefined) throw new Error(`fixtures/manifest.json has no ${arch} case at ${size}x${size}: ${REGENERATE}`);
  const t = readDense(c.file);
  const input = t.get('input')?.data;
  const logits = t.get('logits')?.data;
  if (input === undefined || logits === undefined) throw new Error(`${c.file}: needs dense input and logits: ${REGENERATE}`);
  return { file: c.file, input, logits };
}
