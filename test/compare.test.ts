// `squeezenet compare` (cli/src/compare.ts): the measures on small traces made here, where the
// answer is known, and the command's behaviour: table, --json, --rtol, exit codes, layers in one
// file only, shapes that differ, hostile files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTensors, compareTraces, layerOrder, unravel, type TraceComparison } from '../cli/src/compare.js';
import { concatChunks, npzChunks, safetensorsChunks, type LayerTensor, type Trace, type TraceTensor } from '../cli/src/trace-file.js';
import { assertBuilt } from './built.js';
import { ROOT } from './shared.js';

const CLI = join(ROOT, 'cli', 'dist', 'main.js');

const tensor = (shape: number[], values: ArrayLike<number>): TraceTensor => ({ shape, data: Float32Array.from(values), dtype: 'F32' });
const trace = (entries: [string, TraceTensor][], metadata: Record<string, string> = {}): Trace => ({ tensors: new Map(entries), metadata, format: 'safetensors' });

describe('compareTensors', () => {
  it('identical tensors: 0, cosine 1, no first difference', () => {
    const r = compareTensors('x', tensor([1, 2, 2, 2], [1, -2, 3, 4, 0, 5, 6, -7]), tensor([1, 2, 2, 2], [1, -2, 3, 4, 0, 5, 6, -7]), 1e-5);
    expect(r).toMatchObject({ status: 'ok', maxAbs: 0, maxRel: 0, cosine: 1, scale: 7, over: 0, compared: 8 });
    expect(r.firstDiff).toBeUndefined();
    expect(r.firstDiffOver).toBeUndefined();
  });

  it('max abs, max rel against the larger magnitude of either side, cosine in float64, the first index over as NCHW', () => {
    const a = tensor([1, 2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const b = tensor([1, 2, 1, 3], [1, 2.0001, 3, 4, 5, 8]);
    const r = compareTensors('x', a, b, 1e-3);
    expect(r.maxAbs).toBe(2);
    expect(r.scale).toBe(8);
    expect(r.maxRel).toBe(0.25);
    expect(r.status).toBe('over');
    expect(r.over).toBe(1); // 2.0001 vs 2 is within 1e-3 x 8
    expect(r.firstDiff).toEqual([0, 0, 0, 1]);
    expect(r.firstDiffOver).toEqual([0, 1, 0, 2]);
    const dot = 1 + 2 * Math.fround(2.0001) + 9 + 16 + 25 + 48;
    const cos = dot / Math.sqrt((1 + 4 + 9 + 16 + 25 + 36) * (1 + Math.fround(2.0001) ** 2 + 9 + 16 + 25 + 64));
    expect(r.cosine).toBeCloseTo(cos, 14);
  });

  it('NaN against a number and an infinity against a finite value are infinite differences; two NaNs are left out', () => {
    const r = compareTensors('x', tensor([4], [NaN, 1, Infinity, NaN]), tensor([4], [NaN, 1, Infinity, 2]), 1e-5);
    expect(r).toMatchObject({ status: 'over', maxAbs: Infinity, maxRel: Infinity, over: 1, compared: 3, firstDiffOver: [3] });
    expect(compareTensors('x', tensor([2], [1, Infinity]), tensor([2], [1, -Infinity]), 1).status).toBe('over');
    expect(compareTensors('x', tensor([3], [NaN, NaN, 2]), tensor([3], [NaN, NaN, 2]), 0)).toMatchObject({ status: 'ok', compared: 1, cosine: 1 });
  });

  it('all zeros on both sides pass; zeros against anything else do not, at any rtol', () => {
    expect(compareTensors('x', tensor([3], [0, 0, 0]), tensor([3], [0, -0, 0]), 0)).toMatchObject({ status: 'ok', maxRel: 0, cosine: 1 });
    expect(compareTensors('x', tensor([3], [0, 0, 0]), tensor([3], [0, 1e-30, 0]), 0.5)).toMatchObject({ status: 'over', cosine: 0 });
  });

  it('shapes: another shape fails the layer without comparing values; shapes equal but for 1s are compared and noted', () => {
    expect(compareTensors('x', tensor([1, 4], [1, 2, 3, 4]), tensor([2, 2], [1, 2, 3, 4]), 1e-5)).toEqual({ name: 'x', shape: [1, 4], shapeB: [2, 2], status: 'shape' });
    expect(compareTensors('x', tensor([1, 4], [1, 2, 3, 4]), tensor([1, 5], [1, 2, 3, 4, 5]), 1e-5).status).toBe('shape');
    const r = compareTensors('logits', tensor([1, 4], [1, 2, 3, 4]), tensor([1, 4, 1, 1], [1, 2, 3, 4]), 1e-5);
    expect(r).toMatchObject({ status: 'ok', shape: [1, 4], shapeB: [1, 4, 1, 1], maxAbs: 0 });
  });

  it('unravel: C-order coordinates', () => {
    expect(unravel(0, [1, 96, 111, 111])).toEqual([0, 0, 0, 0]);
    expect(unravel(111 * 111 * 5 + 111 * 7 + 9, [1, 96, 111, 111])).toEqual([0, 5, 7, 9]);
    expect(unravel(2 * 3 * 4 * 5 - 1, [2, 3, 4, 5])).toEqual([1, 2, 3, 4]);
  });
});

describe('compareTraces', () => {
  const logits = (best: number): TraceTensor => tensor([1, 1000, 1, 1], Array.from({ length: 1000 }, (_, i) => (i === best ? 5 : i / 1000)));

  it("A's order (its layers metadata first), layers in one file only listed, top-1 of the last class vector with labels", () => {
    const a = trace([['conv1', tensor([1], [1])], ['input', tensor([1], [2])], ['extra', tensor([1], [0])], ['avgpool10', logits(0)]], { layers: 'input,conv1,avgpool10' });
    const b = trace([['mine', tensor([1], [0])], ['avgpool10', logits(340)], ['conv1', tensor([1], [1])], ['input', tensor([1], [2])]]);
    expect(layerOrder(a)).toEqual(['input', 'conv1', 'avgpool10', 'extra']);
    const r = compareTraces(a, b, 1e-5);
    expect(r.layers.map((l) => l.name)).toEqual(['input', 'conv1', 'avgpool10']);
    expect(r.onlyInA).toEqual(['extra']);
    expect(r.onlyInB).toEqual(['mine']);
    expect(r.top1).toEqual({ layer: 'avgpool10', a: [{ index: 0, label: 'tench' }], b: [{ index: 340, label: 'zebra' }], same: false });
    expect(r.pass).toBe(false);
    expect(r.layers.find((l) => l.name === 'avgpool10')!.status).toBe('over');
  });

  it('no top-1 when the last common layer is a feature map; no common layer fails', () => {
    const a = trace([['conv1', tensor([1, 2, 2, 1], [1, 2, 3, 4])]]);
    expect(compareTraces(a, a).top1).toBeUndefined();
    expect(compareTraces(a, a).pass).toBe(true);
    const r = compareTraces(a, trace([['other', tensor([1], [1])]]));
    expect(r.pass).toBe(false);
    expect(r.layers).toEqual([]);
  });

  it("a B without the batch dimension (1000x1x1 against 1x1000x1x1): its top-1 read with A's shape", () => {
    const a = trace([['avgpool10', logits(340)]]);
    const b = trace([['avgpool10', tensor([1000, 1, 1], logits(340).data)]]);
    const r = compareTraces(a, b);
    expect(r.layers[0]).toMatchObject({ status: 'ok', shapeB: [1000, 1, 1] });
    expect(r.top1).toEqual({ layer: 'avgpool10', a: [{ index: 340, label: 'zebra' }], b: [{ index: 340, label: 'zebra' }], same: true });
  });

  it('requireAll: a layer of A missing from B fails; one only in B does not', () => {
    const a = trace([['input', tensor([1], [1])], ['conv1', tensor([1], [2])]]);
    const b = trace([['input', tensor([1], [1])], ['mine', tensor([1], [0])]]);
    expect([compareTraces(a, b).pass, compareTraces(a, b, 1e-5, true).pass]).toEqual([true, false]);
    expect(compareTraces(b, trace([['input', tensor([1], [1])], ['mine', tensor([1], [0])], ['extra', tensor([1], [0])]]), 1e-5, true).pass).toBe(true);
  });

  it('top-1 per batch item of an NxC layer', () => {
    const a = trace([['logits', tensor([2, 3], [0, 1, 0, 9, 0, 0])]]);
    expect(compareTraces(a, a).top1).toEqual({ layer: 'logits', a: [{ index: 1 }, { index: 0 }], b: [{ index: 1 }, { index: 0 }], same: true });
  });
});

describe('squeezenet compare (the built CLI)', () => {
  let tmp: string;
  const write = (name: string, layers: LayerTensor[], metadata: Record<string, string> = {}, npz = false): string => {
    const path = join(tmp, name);
    writeFileSync(path, concatChunks((npz ? npzChunks : safetensorsChunks)(layers, metadata)));
    return path;
  };
  const run = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [CLI, 'compare', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const layer = (name: string, shape: number[], values: number[]): LayerTensor => ({ name, shape, data: Float32Array.from(values) });
  let a: string;
  let b: string;

  beforeAll(() => {
    assertBuilt(CLI);
    tmp = mkdtempSync(join(tmpdir(), 'squeezenet-compare-'));
    a = write('a.safetensors', [layer('input', [1, 1, 2, 2], [1, 2, 3, 4]), layer('conv1', [1, 2, 1, 1], [10, 20]), layer('only.a', [1], [0])], { generator: 'test A', arch: 'v1.1' });
    b = write('b.npz', [layer('input', [1, 1, 2, 2], [1, 2, 3, 4]), layer('conv1', [1, 2, 1, 1], [10, 20.001]), layer('only.b', [1], [0])], { generator: 'test B' }, true);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a table: both files described, one row per common layer, the layers in one file only, the verdict', () => {
    const r = run([a, b]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`A: ${a} (safetensors, test A, v1.1)`);
    expect(lines[1]).toBe(`B: ${b} (npz, test B)`);
    expect(lines[3]).toMatch(/^layer\s+shape\s+max abs\s+max rel\s+cosine\s+first diff$/);
    expect(lines[4]).toMatch(/^input\s+1x1x2x2\s+0\s+0\s+1\s+-\s+ok$/);
    expect(lines[5]).toMatch(/^conv1\s+1x2x1x1\s+9\.99e-4\s+5\.00e-5\s+1-\S+\s+\[0,1,0,0\]\s+OVER \(1 values\)$/);
    expect(r.stdout).toContain('only in A: only.a\nonly in B: only.b\n');
    expect(lines.at(-2)).toBe('2 layers compared: 1 not within rtol 1e-5, the first conv1');
  });

  it('--rtol moves the verdict; --json is one object with the same numbers', () => {
    expect(run(['--rtol', '1e-4', a, b]).code).toBe(0);
    const r = run(['--json', '--rtol', '1e-4', a, b]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as TraceComparison & { a: string; b: string; metadataA: Record<string, string> };
    expect(out.a).toBe(a);
    expect(out.metadataA).toEqual({ generator: 'test A', arch: 'v1.1' });
    expect(out.rtol).toBe(1e-4);
    expect(out.pass).toBe(true);
    expect(out.onlyInA).toEqual(['only.a']);
    const conv1 = out.layers.find((l) => l.name === 'conv1')!;
    expect(conv1).toMatchObject({ status: 'ok', firstDiff: [0, 1, 0, 0], compared: 2, over: 0 });
    expect(conv1.maxAbs).toBe(Math.fround(20.001) - 20);
  });

  it('--require-all fails on a layer of A missing from B and says which; inputs that differ are said to be the cause', () => {
    const d = write('d.safetensors', [layer('input', [1, 1, 2, 2], [1, 2, 3, 4])]);
    expect(run([a, d]).code).toBe(0);
    const strict = run(['--require-all', a, d]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('only in A: conv1, only.a (MISSING from B: --require-all)\n');
    expect(strict.stdout.trimEnd().split('\n').at(-1)).toBe("1 layers compared: all within rtol 1e-5, but 2 of A's missing from B");
    const other = write('e.safetensors', [layer('input', [1, 1, 2, 2], [1, 2, 3, 5]), layer('conv1', [1, 2, 1, 1], [10, 21])]);
    expect(run([a, other]).stdout).toContain('the inputs differ, so every later layer differs too: give both engines the same input (squeezenet trace --input-from)\n');
  });

  it('a shape mismatch is reported on its row and fails', () => {
    const c = write('c.safetensors', [layer('input', [1, 1, 4, 1], [1, 2, 3, 4]), layer('conv1', [1, 2, 1, 1], [10, 20])]);
    const r = run([a, c]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\ninput\s+1x1x2x2\s+SHAPE: B is 1x1x4x1\n/);
  });

  it('usage errors exit 2; a file that cannot be read exits 2 with one line naming it and what is wrong', () => {
    for (const args of [[a], [a, b, a], ['--rtol', 'x', a, b], ['--rtol=-1', a, b], ['--rtol=', a, b], ['--bogus', a, b]]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^squeezenet compare: .*\n\nUsage: squeezenet compare/);
    }
    const garbage = join(tmp, 'garbage.bin');
    writeFileSync(garbage, 'not a trace at all');
    const truncated = join(tmp, 'truncated.npz');
    writeFileSync(truncated, concatChunks(npzChunks([layer('x', [3], [1, 2, 3])], {})).subarray(0, 100));
    const cases: [string, RegExp][] = [
      [join(tmp, 'missing.safetensors'), /missing\.safetensors: no such file$/],
      [tmp, /: is a directory$/],
      [garbage, /garbage\.bin: neither safetensors nor \.npz \(first bytes 6e 6f 74 20 61 20 74 72\)$/],
      [truncated, /truncated\.npz: not a complete ZIP archive: no end-of-central-directory record \(truncated\?\)$/],
    ];
    for (const [file, message] of cases) {
      const r = run([a, file]);
      expect(r.code, file).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(/^squeezenet compare: /);
      expect(lines[0]).toMatch(message);
    }
  });

  it('--help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: squeezenet compare \[options\] A B/);
    expect(r.stdout).toMatch(/--rtol R +the tolerance \(default 1e-5\)/);
  });
});
