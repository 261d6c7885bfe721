// Autodetection: each format is told by its bytes (the Deep Compression .net by its exact length),
// damaged files get their own format's error, anything else a FormatError showing its first bytes;
// the arch override; a registered format; and the CLI classifying with safetensors and ONNX weights.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ARCHS,
  FormatError,
  InputError,
  WEIGHT_FORMATS,
  WeightError,
  decodeDeepCompression,
  detectWeightFormat,
  expectedWeights,
  decodeWeights,
  describeArch,
  plan,
  registerWeightFormat,
  type ArchName,
  type OnnxSqueezeNet,
  type WeightFormat,
} from '../src/index.js';
import { squeezenetOnnx, weightsToSafetensors } from './format-writers.js';
import { randomWeights } from './helpers.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

function weightsFor(arch: ArchName, seed: number): Map<string, { data: Float32Array; shape: number[] }> {
  const p = plan(ARCHS[arch]);
  const shapes = expectedWeights(p);
  return new Map([...randomWeights(p, seed)].map(([n, data]) => [n, { data, shape: [...shapes.get(n)!] }]));
}

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

const v11 = weightsFor('v1.1', 11);
const v10 = weightsFor('v1.0', 10);
const st11 = weightsToSafetensors(v11);
const st10 = weightsToSafetensors(v10);
const onnx10 = squeezenetOnnx('v1.0', v10, { opset: 9 });

describe('decodeWeights: each format told by its bytes', () => {
  it('the Deep Compression .net: v1.0-caffe, the Caffe recipe, the decoder’s tensors', () => {
    const bytes = readFileSync(shared(MODEL));
    expect(detectWeightFormat(bytes)?.name).toBe('deepcompression');
    const r = decodeWeights(bytes);
    expect(r.format).toBe('deepcompression');
    expect(r.arch).toBe('v1.0-caffe');
    expect(r.recipe).toBe('caffe');
    expect(r.recipeSource.kind).toBe('architecture');
    const direct = decodeDeepCompression(bytes).weights;
    expect([...r.weights.keys()]).toEqual([...direct.keys()]);
    expect(r.weights.get('classifier.1.bias')!.data).toEqual(direct.get('classifier.1.bias')!.data);
  });

  it('safetensors: arch from the shapes, the torchvision recipe (a guess)', () => {
    const r = decodeWeights(st11);
    expect([r.format, r.arch, r.recipe, r.recipeSource.kind]).toEqual(['safetensors', 'v1.1', 'torchvision', 'default']);
    expect(r.weights.get('features.0.weight')!.data).toEqual(v11.get('features.0.weight')!.data);
    expect(decodeWeights(st10.buffer.slice(st10.byteOffset, st10.byteOffset + st10.byteLength) as ArrayBuffer).arch).toBe('v1.0');
  });

  it('ONNX: arch from the graph, the torchvision recipe, what the graph outputs', () => {
    const r = decodeWeights(onnx10) as OnnxSqueezeNet;
    expect([r.format, describeArch(r.arch), r.recipe, r.head, r.outputIsProbabilities]).toEqual(['onnx', 'v1.0 (max pools maxpool1 ceil, maxpool4 floor + end pads 2x2, maxpool8 ceil)', 'torchvision', 'logits', false]);
    const soft = decodeWeights(squeezenetOnnx('v1.1', v11, { softmax: true })) as OnnxSqueezeNet;
    expect(soft.outputIsProbabilities).toBe(true);
    expect(soft.notes.join('\n')).toMatch(/ends in Softmax: run\(\) returns the logits before it/);
  });

  it('the .sqz magic goes to the .sqz reader, whose errors are reported', () => {
    const fake = Uint8Array.from([0x89, 0x53, 0x51, 0x5a, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect(detectWeightFormat(fake)?.name).toBe('sqz');
    const e = formatError(() => decodeWeights(fake));
    expect(e.format).not.toBe('weight file');
  });
});

describe('decodeWeights: damaged and foreign files', () => {
  it('anything else: a FormatError listing the formats and showing the first bytes', () => {
    const e = formatError(() => decodeWeights(new TextEncoder().encode('hello, this is not a model file at all')));
    expect(e.message).toMatch(
      /^weight file at byte 0: not a \.sqz, Deep Compression \.net, safetensors or ONNX file: first bytes are 68 65 6c 6c 6f 2c 20 74 68 69 73 20 69 73 20 6e \.\.\. \(38 bytes\)$/,
    );
    expect(formatError(() => decodeWeights(new Uint8Array(0))).message).toMatch(/it is empty \(0 bytes\)/);
    // A PNG, a gzip stream, a zip (PyTorch's .pth): none is claimed.
    for (const magic of [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0x1f, 0x8b, 8, 0], [0x50, 0x4b, 3, 4]]) {
      expect(formatError(() => decodeWeights(Uint8Array.from([...magic, ...new Array(200).fill(0x41)]))).message).toMatch(/not a \.sqz/);
    }
  });

  it('a truncated .net is reported by the Deep Compression decoder, with the layer and byte', () => {
    const bytes = readFileSync(shared(MODEL)).subarray(0, 600_000);
    const e = formatError(() => decodeWeights(bytes));
    expect(e.message).toMatch(/^Deep Compression \.net layer conv_final \(classifier\.1\) at byte 600000: file ends inside/);
  });

  it('truncated safetensors and ONNX files are reported by their own readers', () => {
    expect(formatError(() => decodeWeights(st11.subarray(0, 5000))).format).toBe('safetensors');
    for (const cut of [3, 100, 5000, onnx10.length - 1]) expect(formatError(() => decodeWeights(onnx10.subarray(0, cut))).format).toBe('ONNX');
  });
});

describe('decodeWeights: running weights as another network', () => {
  it('v1.0 weights as v1.0-caffe or simple-bypass; not as v1.1; an ONNX graph only as itself', () => {
    expect(decodeWeights(st10, { arch: 'v1.0-caffe' }).arch).toBe('v1.0-caffe');
    expect(decodeWeights(st10, { arch: 'simple-bypass' }).arch).toBe('simple-bypass');
    expect(() => decodeWeights(st10, { arch: 'v1.1' })).toThrow(WeightError);
    expect(() => decodeWeights(st10, { arch: 'v1.1' })).toThrow(/do not fit v1\.1/);
    expect(() => decodeWeights(onnx10, { arch: 'v1.0-caffe' })).toThrow(InputError);
    expect(describeArch(decodeWeights(onnx10, { arch: 'v1.0' }).arch)).toMatch(/^v1\.0 \(max pools/);
  });
});

describe('registerWeightFormat: a format with its own magic joins the detection', () => {
  it('is tried first, and can be replaced by name', () => {
    const before = [...WEIGHT_FORMATS];
    const mine: WeightFormat = {
      name: 'mine',
      description: 'mine',
      sniff: (b) => b[0] === 0x4d && b[1] === 0x49 && b[2] === 0x4e && b[3] === 0x45,
      decode: () => ({ format: 'mine', arch: 'v1.1', weights: new Map(), recipe: 'torchvision', recipeSource: { kind: 'default', reason: 'test' }, notes: [] }),
    };
    try {
      registerWeightFormat(mine);
      registerWeightFormat(mine);
      expect(WEIGHT_FORMATS.filter((f) => f.name === 'mine')).toHaveLength(1);
      expect(decodeWeights(new TextEncoder().encode('MINE')).format).toBe('mine');
      expect(formatError(() => decodeWeights(new TextEncoder().encode('MINX'))).message).toMatch(/not a mine, \.sqz, Deep Compression/);
    } finally {
      WEIGHT_FORMATS.splice(0, WEIGHT_FORMATS.length, ...before);
    }
  });
});

describe('the CLI: classify --weights with safetensors and ONNX (gzipped too), recipe from the format', () => {
  const CLI = join(ROOT, 'cli', 'dist', 'main.js');
  const tmp = mkdtempSync(join(tmpdir(), 'sqz-detect-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const cli = (args: string[]) => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it with \`npm run build:ts\` (npm test does)`);
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const tench = () => join(shared(IMAGES), '000_n01440764_tench.JPEG');

  it('safetensors and ONNX files run; --json reports five classes', () => {
    const st = join(tmp, 'v11.safetensors');
    writeFileSync(st, st11);
    const onnx = join(tmp, 'v10.onnx.gz');
    writeFileSync(onnx, gzipSync(onnx10));
    for (const [file, what] of [[st, 'safetensors weights, SqueezeNet v1.1'], [onnx, 'onnx weights, SqueezeNet v1.0 (max pools']] as const) {
      const r = cli(['classify', '--json', '--weights', file, tench()]);
      // stderr: the weights, then the recipe, a guess for these files, and how to change it
      expect(r.stderr.split('\n')[0]).toContain(what);
      expect(r.stderr).toMatch(/warning: recipe torchvision \(224x224, RGB 0\.\.1, ImageNet mean and std\) is a guess: .*pass --recipe caffe/);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { top: unknown[] };
      expect(out.top).toHaveLength(5);
    }
  });

  it('--recipe and --arch are checked; a file of no known format says what it saw', () => {
    const st = join(tmp, 'v10.safetensors');
    writeFileSync(st, st10);
    expect(cli(['classify', '--weights', st, '--recipe', 'caffe', '--arch', 'v1.0-caffe', tench()]).code).toBe(0);
    const bad = cli(['classify', '--weights', st, '--recipe', 'tf', tench()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--recipe must be one of caffe, torchvision, got tf/);
    expect(cli(['classify', '--weights', st, '--arch', 'v2', tench()]).code).toBe(2);
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, 'not weights');
    const r = cli(['classify', '--weights', junk, tench()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/junk\.bin: weight file at byte 0: not a \.sqz, Deep Compression \.net, safetensors or ONNX file: first bytes are 6e 6f 74/);
  });
});
