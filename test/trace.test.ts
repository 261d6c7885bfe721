// `squeezenet trace` (the built CLI) on a sample photo: every layer as the engine's trace() gives
// it, with its metadata; then against PyTorch's activations with `squeezenet compare`, and a
// trace with one value changed failing.
//
// PyTorch's side comes from the committed fixtures, converted here into the trace layout:
// real-000_n01440764_tench (the Deep Compression model on the tench photo, PIL preprocessing)
// and real-synthetic-227x227 (the same model on a seeded synthetic input stored dense). Both
// keep 4,096 sampled positions per layer (a dense photo trace is the photo: not committed), so
// the converted trace holds NaN elsewhere, and our trace is masked to the same positions: compare
// leaves positions where both are NaN out. The full dense comparison is
// `/usr/bin/python3 fixtures/export_trace.py` (README, "Conformance kit").
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefault, preprocess, type SqueezeNet } from '../src/index.js';
import { decodeImage } from '../cli/src/images.js';
import { unravel, type TraceComparison } from '../cli/src/compare.js';
import { writeChunks } from '../cli/src/trace.js';
import { readTraceFile, safetensorsChunks, type LayerTensor, type Trace } from '../cli/src/trace-file.js';
import { assertBuilt } from './built.js';
import { readFixture, readManifest, type FixtureTensor } from './fixture-reader.js';
import { IMAGES, ROOT, shared } from './shared.js';

const CLI = join(ROOT, 'cli', 'dist', 'main.js');
const TENCH = '000_n01440764_tench.JPEG';

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  // SQUEEZENET_WEIGHTS empty: the default model that ships with the library
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, SQUEEZENET_WEIGHTS: '' }, timeout: 120_000, maxBuffer: 2 ** 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The names SqueezeNet.trace() gives, in the fixtures' names: PyTorch's logits are our avgpool10 (1x1000x1x1). */
const traceName = (fixtureName: string): string => (fixtureName === 'logits' ? 'avgpool10' : fixtureName);

/** A fixture as a trace: dense tensors as they are, sampled ones NaN but at their samples. */
function fixtureTrace(tensors: Map<string, FixtureTensor>): LayerTensor[] {
  return [...tensors.values()].map((t) => {
    const shape = t.name === 'logits' ? [...t.shape, 1, 1] : t.shape;
    if (t.storage === 'dense') return { name: traceName(t.name), shape, data: t.data };
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(NaN);
    for (let i = 0; i < t.indices.length; i++) data[t.indices[i]!] = t.values[i]!;
    return { name: traceName(t.name), shape, data };
  });
}

/** Our trace at the fixture's positions only (NaN elsewhere), so that compare sees the same samples. */
function maskedLike(ours: Trace, tensors: Map<string, FixtureTensor>): LayerTensor[] {
  return [...tensors.values()].map((t) => {
    const mine = ours.tensors.get(traceName(t.name));
    if (mine === undefined) throw new Error(`our trace has no ${traceName(t.name)}`);
    const src = Float32Array.from(mine.data);
    if (t.storage === 'dense') return { name: traceName(t.name), shape: mine.shape, data: src };
    const data = new Float32Array(src.length).fill(NaN);
    for (const i of t.indices) data[i] = src[i]!;
    return { name: traceName(t.name), shape: mine.shape, data };
  });
}

const realCase = (file: string) => {
  const c = readManifest().cases.find((x) => x.file === file);
  if (c === undefined) throw new Error(`fixtures/manifest.json has no case ${file}`);
  return c;
};

let tmp: string;
let model: SqueezeNet;
let ours: Trace;
const oursPath = (): string => join(tmp, 'ours.safetensors');
const photo = (): string => shared(join(IMAGES, TENCH));

beforeAll(async () => {
  assertBuilt(CLI);
  tmp = mkdtempSync(join(tmpdir(), 'squeezenet-trace-'));
  const r = cli(['trace', photo(), '--out', oursPath()]);
  expect(r.code, r.stderr).toBe(0);
  // what classify says too: the weights and the recipe, and why
  expect(r.stderr).toMatch(/^squeezenet trace: sqz weights, SqueezeNet v1\.0-caffe, 1000 classes\nsqueezenet trace: recipe caffe \(.*\), because /);
  ours = readTraceFile(oursPath());
  model = await loadDefault();
});
afterAll(() => {
  model?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('squeezenet trace IMAGE --out FILE', () => {
  it('says what it wrote: format, tensors, bytes, arch, recipe, input size, top-1', () => {
    const r = cli(['trace', photo(), '--out', join(tmp, 'again.safetensors')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/again\.safetensors: safetensors, 39 tensors, [\d,]+ bytes; v1\.0-caffe, caffe, input 227x227; top-1 0 tench \(\d+\.\d+%\)/);
  });

  it('holds the input and every layer of SqueezeNet.trace(), NCHW, bit for bit, in forward order', async () => {
    const input = preprocess(await decodeImage(photo()), 'caffe');
    const want = model.trace(input).layers;
    expect([...ours.tensors.keys()]).toEqual(['input', ...want.map((l) => l.name)]);
    expect([...ours.tensors.keys()].slice(0, 8)).toEqual(['input', 'conv1', 'maxpool1', 'fire2.squeeze', 'fire2.expand1x1', 'fire2.expand3x3', 'fire2', 'fire3.squeeze']);
    expect(ours.tensors.get('input')!.shape).toEqual([1, 3, 227, 227]);
    expect(Buffer.from((ours.tensors.get('input')!.data as Float32Array).buffer).equals(Buffer.from(input.buffer))).toBe(true);
    for (const l of want) {
      const t = ours.tensors.get(l.name)!;
      expect(t.dtype, l.name).toBe('F32');
      expect(t.shape, l.name).toEqual(l.shape);
      expect(Buffer.from((t.data as Float32Array).buffer).equals(Buffer.from(l.data.buffer)), `${l.name} bit for bit`).toBe(true);
    }
    expect(ours.tensors.get('avgpool10')!.shape).toEqual([1, 1000, 1, 1]);
  });

  it('metadata: layout, arch, recipe, input size, the weights file and its SHA-256, the project version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const weights = join(ROOT, 'models', 'squeezenet1_0-deep-compression.sqz');
    expect(ours.metadata).toMatchObject({
      format: 'squeezenet-trace',
      format_version: '1',
      layout: 'NCHW',
      dtype: 'F32',
      arch: 'v1.0-caffe',
      recipe: 'caffe',
      classes: '1000',
      input_size: '227x227',
      image: TENCH,
      recipe_source: expect.stringMatching(/Caffe form/),
      weights: 'squeezenet1_0-deep-compression.sqz',
      weights_format: 'sqz',
      weights_sha256: createHash('sha256').update(readFileSync(weights)).digest('hex'),
      version: pkg.version,
    });
    expect(ours.metadata.layers!.split(',')).toEqual([...ours.tensors.keys()]);
    expect(ours.metadata.generator).toMatch(/^squeezenet-wasm-cli \S+ \(library squeezenet-wasm \S+, Node v/);
  });

  it('.npz (by the extension, or --format npz) holds the same tensors bit for bit', () => {
    for (const args of [['--out', join(tmp, 'ours.npz')], ['--format', 'npz', '--out', join(tmp, 'ours.trace')]]) {
      const r = cli(['trace', photo(), ...args]);
      expect(r.code, r.stderr).toBe(0);
      const npz = readTraceFile(args.at(-1)!);
      expect(npz.format).toBe('npz');
      expect(npz.metadata).toEqual(ours.metadata);
      for (const [name, t] of ours.tensors) {
        expect(npz.tensors.get(name)!.shape).toEqual(t.shape);
        expect(Buffer.from((npz.tensors.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
      }
    }
  });

  it('--input-from TRACE runs on that trace\'s input tensor: the same layers as from the image', () => {
    const again = join(tmp, 'from-input.safetensors');
    const r = cli(['trace', '--input-from', oursPath(), '--out', again]);
    expect(r.code, r.stderr).toBe(0);
    const t = readTraceFile(again);
    expect(t.metadata).toMatchObject({ input_from: 'ours.safetensors', recipe: 'caffe', image: TENCH });
    for (const [name, x] of ours.tensors) {
      expect(Buffer.from((t.tensors.get(name)!.data as Float32Array).buffer).equals(Buffer.from((x.data as Float32Array).buffer)), name).toBe(true);
    }
  });

  it('usage errors exit 2 with the help; unreadable inputs exit 1 with one line naming the file', () => {
    for (const args of [[photo()], ['--out', join(tmp, 'x.safetensors')], [photo(), photo(), '--out', join(tmp, 'x.safetensors')], [photo(), '--input-from', oursPath(), '--out', join(tmp, 'x.st')], [photo(), '--format', 'hdf5', '--out', join(tmp, 'x')], ['--input-from', oursPath(), '--recipe', 'caffe', '--out', join(tmp, 'x')]]) {
      const r = cli(['trace', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^squeezenet trace: .*\n\nUsage: squeezenet trace/);
    }
    const missing = cli(['trace', join(tmp, 'nope.jpg'), '--out', join(tmp, 'x.safetensors')]);
    expect(missing.code).toBe(1);
    const last = (stderr: string): string => stderr.trimEnd().split('\n').at(-1)!;
    expect(last(missing.stderr)).toBe(`squeezenet trace: ${join(tmp, 'nope.jpg')}: no such file`);
    const notTrace = cli(['trace', '--input-from', photo(), '--out', join(tmp, 'x.safetensors')]);
    expect(notTrace.code).toBe(1);
    expect(last(notTrace.stderr)).toMatch(new RegExp(`^squeezenet trace: ${photo().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: neither safetensors nor \\.npz \\(first bytes ff d8 .*\\)$`));
    const noInput = cli(['trace', '--input-from', join(ROOT, 'fixtures', 'trace', 'numpy-savez.npz'), '--out', join(tmp, 'x.safetensors')]);
    expect(noInput.code).toBe(1);
    expect(last(noInput.stderr)).toMatch(/numpy-savez\.npz: has no tensor named input \(it has a, b, c, d\)$/);
  });

  it('--help', () => {
    const r = cli(['trace', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: squeezenet trace \[options\] IMAGE --out FILE/);
    expect(r.stdout).toMatch(/--input-from TRACE/);
    expect(cli(['help', 'trace']).stdout).toBe(r.stdout);
  });
});

function compareJson(a: string, b: string, ...flags: string[]): { code: number | null; result: TraceComparison; stderr: string } {
  const r = cli(['compare', '--json', ...flags, a, b]);
  return { code: r.code, result: JSON.parse(r.stdout) as TraceComparison, stderr: r.stderr };
}

describe('squeezenet compare against PyTorch (fixtures converted to the trace layout)', () => {
  it('the tench photo: every layer at the fixture\'s 4,096 positions within 0.1 of its largest value (the JPEG decoders differ), the same top-1', () => {
    const fixture = readFixture('real-000_n01440764_tench.sqzf.gz');
    const torchPath = join(tmp, 'torch-tench.safetensors');
    const maskedPath = join(tmp, 'ours-tench-masked.safetensors');
    writeChunks(torchPath, safetensorsChunks(fixtureTrace(fixture), { generator: 'fixtures/export.py via test/trace.test.ts' }));
    writeChunks(maskedPath, safetensorsChunks(maskedLike(ours, fixture), ours.metadata));
    // PIL's libjpeg and jpeg-js round their IDCTs differently (up to 2 levels a pixel:
    // test/preprocess.test.ts); that moves layers by up to 4e-2 of their largest value
    // (test/classify.test.ts). The strict comparison is the next test, on one input.
    const { code, result } = compareJson(maskedPath, torchPath, '--rtol', '0.1');
    console.log(cli(['compare', '--rtol', '0.1', maskedPath, torchPath]).stdout);
    expect(result.layers.map((l) => l.name)).toEqual(realCase('real-000_n01440764_tench.sqzf.gz').layers.map(traceName));
    for (const l of result.layers) {
      expect(l.status, l.name).toBe('ok');
      expect(l.compared, l.name).toBe(l.name === 'avgpool10' ? 1000 : 4096);
    }
    expect(result.top1).toMatchObject({ layer: 'avgpool10', a: [{ index: 0, label: 'tench' }], b: [{ index: 0, label: 'tench' }], same: true });
    expect(code).toBe(0);
  });

  it('the same model on one input (real-synthetic-227x227, via --input-from): every layer within the default rtol 1e-5', () => {
    const fixture = readFixture('real-synthetic-227x227.sqzf.gz');
    expect(fixture.get('input')!.storage).toBe('dense');
    const torchPath = join(tmp, 'torch-synthetic.safetensors');
    const oursSynth = join(tmp, 'ours-synthetic.safetensors');
    const maskedPath = join(tmp, 'ours-synthetic-masked.safetensors');
    writeChunks(torchPath, safetensorsChunks(fixtureTrace(fixture), { generator: 'fixtures/export.py via test/trace.test.ts' }));
    const r = cli(['trace', '--input-from', torchPath, '--out', oursSynth]);
    expect(r.code, r.stderr).toBe(0);
    writeChunks(maskedPath, safetensorsChunks(maskedLike(readTraceFile(oursSynth), fixture), {}));
    const { code, result } = compareJson(maskedPath, torchPath);
    console.log(cli(['compare', maskedPath, torchPath]).stdout);
    expect(result.rtol).toBe(1e-5);
    expect(result.layers.length).toBe(realCase('real-synthetic-227x227.sqzf.gz').layers.length);
    for (const l of result.layers) {
      expect(l.status, l.name).toBe('ok');
      expect(l.maxRel, l.name).toBeLessThanOrEqual(1e-5);
      expect(l.cosine, l.name).toBeGreaterThan(1 - 1e-9);
    }
    expect(result.layers.find((l) => l.name === 'input')!.maxAbs).toBe(0);
    expect(result.top1!.same).toBe(true);
    expect(code).toBe(0);
  });
});

const largest = (data: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]!));
  return m;
};

describe('squeezenet compare: a trace with one value changed', () => {
  const LAYER = 'fire6.expand3x3';

  function changed(at: number, by: number): string {
    const layers: LayerTensor[] = [...ours.tensors].map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data) }));
    const target = layers.find((l) => l.name === LAYER)!;
    const before = target.data[at]!;
    (target.data as Float32Array)[at] = before + by;
    expect(target.data[at]).not.toBe(before);
    const path = join(tmp, `changed-${at}-${by}.safetensors`);
    writeChunks(path, safetensorsChunks(layers, ours.metadata));
    return path;
  }

  it('fails (exit 1) on that layer alone, at its NCHW index, one value over; every other layer identical', () => {
    const t = ours.tensors.get(LAYER)!;
    const at = 123_457;
    const scale = largest(t.data);
    const path = changed(at, 1e-3 * scale);
    const { code, result } = compareJson(oursPath(), path);
    expect(code).toBe(1);
    expect(result.pass).toBe(false);
    for (const l of result.layers) {
      if (l.name !== LAYER) {
        expect(l.status, l.name).toBe('ok');
        expect(l.maxAbs, l.name).toBe(0);
        continue;
      }
      expect(l.status).toBe('over');
      expect(l.over).toBe(1);
      expect(l.firstDiffOver).toEqual(unravel(at, t.shape));
      expect(l.firstDiff).toEqual(unravel(at, t.shape));
      expect(l.maxRel).toBeCloseTo(1e-3, 5);
    }
    const table = cli(['compare', oursPath(), path]);
    expect(table.code).toBe(1);
    const row = table.stdout.split('\n').find((line) => line.startsWith(`${LAYER} `))!;
    expect(row).toMatch(new RegExp(`\\[${unravel(at, t.shape).join(',')}\\]\\s+OVER \\(1 values\\)$`));
    expect(table.stdout).toMatch(new RegExp(`39 layers compared: 1 not within rtol 1e-5, the first ${LAYER.replace('.', '\\.')}\\n$`));
  });

  it('a change under the tolerance passes (exit 0) and is still shown where it is, marked ~', () => {
    const t = ours.tensors.get(LAYER)!;
    const at = 4_321;
    const scale = largest(t.data);
    const path = changed(at, 1e-6 * scale);
    const { code, result } = compareJson(oursPath(), path);
    expect(code).toBe(0);
    const l = result.layers.find((x) => x.name === LAYER)!;
    expect(l.status).toBe('ok');
    expect(l.firstDiffOver).toBeUndefined();
    expect(l.firstDiff).toEqual(unravel(at, t.shape));
    expect(cli(['compare', oursPath(), path]).stdout).toContain(`~[${unravel(at, t.shape).join(',')}]`);
    // and over it with a tighter --rtol
    expect(compareJson(oursPath(), path, '--rtol', '1e-7').code).toBe(1);
  });
});
