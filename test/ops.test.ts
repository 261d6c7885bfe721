// The per-layer API (src/ops.ts) against PyTorch on awkward shapes (fixtures/ops.sqzf.gz and
// fixtures/ops.json, written by fixtures/export_ops.py): batches of 1 and 3, channels 1, 3, 7,
// 17, odd sizes, asymmetric pads, ceil and floor, count_include_pad both ways, every method the
// engine lowers a convolution by; in the release and the debug build (whose kernels check their
// arguments). Then the errors: every bad argument named, SqueezeNet's unneeded attributes refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseConvMethod, type ConvMethod } from '../src/conv.js';
import { createOps, DisposedError, InputError, OpError, type Ops, type OpTensor } from '../src/index.js';
import { dense, FIXTURES, readFixture } from './fixture-reader.js';

interface OpCase {
  readonly name: string;
  readonly op: 'conv2d' | 'maxPool2d' | 'avgPool2d' | 'globalAvgPool2d' | 'relu' | 'concat';
  readonly attributes: Record<string, unknown>;
  readonly inputs: string[];
  readonly shapes: Record<string, number[]>;
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'ops.json'), 'utf8')) as { cases: OpCase[]; container: string };
const tensors = readFixture(manifest.container);
const tensor = (c: OpCase, name: string): OpTensor => ({ data: dense(tensors.get(`${c.name}/${name}`), `${c.name}/${name}`), shape: c.shapes[name]! });

/**
 * Largest |ours - PyTorch| allowed, as a share of the output's largest magnitude. Convolutions sum
 * in another order than PyTorch (and Winograd transforms the tiles): 1e-5, as the network's
 * conformance tests. Average pools sum the same window in another order: 1e-6. A max, a ReLU and
 * a concatenation pick values: exact.
 */
const TOLERANCE: Record<OpCase['op'], number> = { conv2d: 1e-5, avgPool2d: 1e-6, globalAvgPool2d: 1e-6, maxPool2d: 0, relu: 0, concat: 0 };

function run(ops: Ops, c: OpCase): { data: Float32Array; shape: number[] } {
  const a = c.attributes;
  switch (c.op) {
    case 'conv2d':
      return ops.conv2d(tensor(c, 'x'), tensor(c, 'weight'), tensor(c, 'bias'), a as never);
    case 'maxPool2d':
      return ops.maxPool2d(tensor(c, 'x'), a as never);
    case 'avgPool2d':
      return ops.avgPool2d(tensor(c, 'x'), a as never);
    case 'globalAvgPool2d':
      return ops.globalAvgPool2d(tensor(c, 'x'));
    case 'relu':
      return ops.relu(tensor(c, 'x'));
    case 'concat':
      return ops.concat(c.inputs.map((n) => tensor(c, n)), a.axis as number);
  }
}

describe.each(['release', 'debug'] as const)('every op against PyTorch (%s build)', (build) => {
  let ops: Ops;
  const rows: string[] = [];
  beforeAll(async () => {
    ops = await createOps({ debug: build === 'debug' });
  });
  afterAll(() => {
    ops?.dispose();
    console.log(`ops (${build}): largest |ours - PyTorch| / max|PyTorch| per case\n${rows.join('\n')}`);
  });
  for (const c of manifest.cases) {
    it(`${c.name}`, () => {
      const want = tensor(c, 'y');
      const got = run(ops, c);
      expect(got.shape).toEqual(want.shape);
      let diff = 0;
      let max = 0;
      for (let i = 0; i < want.data.length; i++) {
        diff = Math.max(diff, Math.abs(got.data[i]! - want.data[i]!));
        max = Math.max(max, Math.abs(want.data[i]!));
      }
      rows.push(`  ${c.name.padEnd(44)} ${(diff / max).toExponential(2)}`);
      expect(Number.isFinite(diff)).toBe(true);
      expect(diff).toBeLessThanOrEqual(TOLERANCE[c.op] * max);
    });
  }
});

describe('the fixtures cover', () => {
  const cases = manifest.cases;
  it('every method the engine lowers a convolution by (src/conv.ts chooseConvMethod on the same shapes and weights)', () => {
    const methods = new Set<ConvMethod>();
    for (const c of cases.filter((x) => x.op === 'conv2d')) {
      const [, inC] = c.shapes.x!;
      const [outC, , k] = c.shapes.weight!;
      const [top, left, bottom, right] = c.attributes.pads as number[];
      // unequal pads are applied to the input first: the lowering sees pad 0
      const pad = top === left && top === bottom && top === right ? top! : 0;
      const s = c.attributes.stride as number;
      methods.add(chooseConvMethod({ inC: inC!, outC: outC!, kernel: k!, stride: s, pad }, tensor(c, 'weight').data));
    }
    expect([...methods].sort()).toEqual(['gemm1x1', 'im2col', 'padded1x1', 'sparse', 'winograd']);
  });

  it('batch 3, channels 1, 3, 7 and 17, asymmetric pads, ceil and floor, count_include_pad both ways, 13x13 and 15x15 windows', () => {
    for (const op of ['conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool2d', 'relu', 'concat'] as const) {
      const mine = cases.filter((c) => c.op === op);
      expect(mine.some((c) => (c.shapes.x ?? c.shapes['xs.0'])![0] === 3), `${op}: batch 3`).toBe(true);
    }
    const channels = new Set(cases.flatMap((c) => c.inputs.map((n) => c.shapes[n]![1])));
    for (const ch of [1, 3, 7, 17]) expect(channels.has(ch), `channels ${ch}`).toBe(true);
    const asym = (c: OpCase): boolean => {
      const p = c.attributes.pads as number[] | undefined;
      return p !== undefined && !(p[0] === p[1] && p[1] === p[2] && p[2] === p[3]);
    };
    for (const op of ['conv2d', 'maxPool2d', 'avgPool2d']) expect(cases.some((c) => c.op === op && asym(c)), `${op}: asymmetric pads`).toBe(true);
    for (const op of ['maxPool2d', 'avgPool2d']) {
      expect(cases.some((c) => c.op === op && c.attributes.ceil === true), `${op} ceil`).toBe(true);
      expect(cases.some((c) => c.op === op && c.attributes.ceil === false), `${op} floor`).toBe(true);
    }
    const padded = cases.filter((c) => c.op === 'avgPool2d' && (c.attributes.pads as number[]).some((p) => p > 0));
    expect(padded.some((c) => c.attributes.countIncludePad === true)).toBe(true);
    expect(padded.some((c) => c.attributes.countIncludePad === false)).toBe(true);
    expect(cases.some((c) => c.op === 'avgPool2d' && c.attributes.kernel === 13)).toBe(true);
    expect(cases.some((c) => c.op === 'avgPool2d' && c.attributes.kernel === 15)).toBe(true);
  });
});

describe('bad arguments: an OpError (an InputError) naming the op and the argument', () => {
  let ops: Ops;
  beforeAll(async () => {
    ops = await createOps();
  });
  afterAll(() => ops?.dispose());

  const t = (shape: number[], fill = 0.5): OpTensor => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape });
  const x = t([2, 3, 8, 8]);
  const w = t([4, 3, 3, 3]);

  function fails(f: () => unknown, argument: string, message: RegExp): void {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OpError);
    expect(error).toBeInstanceOf(InputError);
    expect((error as OpError).argument).toBe(argument);
    expect((error as Error).message).toMatch(message);
  }

  it('tensors: not a tensor, not Float32Array, a shape that does not fit the data', () => {
    fails(() => ops.conv2d(null as never, w), 'x', /^conv2d: x must be a tensor/);
    fails(() => ops.conv2d({ data: [1, 2], shape: [2] } as never, w), 'x', /\.data must be a Float32Array, got Array/);
    fails(() => ops.conv2d({ data: new Float32Array(5), shape: [1, 1, 2, 2] }, w), 'x', /has 5 values; shape \[1, 1, 2, 2\] needs 4/);
    fails(() => ops.relu({ data: new Float32Array(0), shape: [0] }), 'x', /\.shape must be a list of positive integers/);
  });

  it('1-D and 3-D inputs, groups, dilations and auto_pad are refused by name', () => {
    fails(() => ops.conv2d(t([1, 3, 8]), w), 'x', /1-D conv2d \(N, C, W\) is not supported, only 2-D/);
    fails(() => ops.maxPool2d(t([1, 3, 4, 4, 4]), { kernel: 2, stride: 2 }), 'x', /3-D maxPool2d \(N, C, D, H, W\) is not supported/);
    fails(() => ops.conv2d(x, w, null, { groups: 3 }), 'groups', /grouped convolutions are not supported/);
    fails(() => ops.conv2d(x, w, null, { dilations: [2, 2] }), 'dilations', /dilated convolutions are not supported/);
    fails(() => ops.maxPool2d(x, { kernel: 2, stride: 2, dilations: 2 }), 'dilations', /dilated pools are not supported/);
    fails(() => ops.conv2d(x, w, null, { auto_pad: 'SAME_UPPER' } as never), 'auto_pad', /give explicit pads/);
    fails(() => ops.conv2d(x, w, null, { pad: 1 } as never), 'options', /unknown key 'pad' \(conv2d takes stride, pads, relu\)/);
    // the defaults are accepted
    expect(ops.conv2d(x, w, null, { groups: 1, dilations: [1, 1] }).shape).toEqual([2, 4, 6, 6]);
  });

  it('conv2d: channels, kernel, bias, stride, pads, sizes', () => {
    fails(() => ops.conv2d(x, t([4, 2, 3, 3])), 'weight', /has shape \[4, 2, 3, 3\]: 2 input channels, x has 3/);
    fails(() => ops.conv2d(x, t([4, 3, 3, 5])), 'weight', /3x5 kernel: only square kernels/);
    fails(() => ops.conv2d(x, w, new Float32Array(3)), 'bias', /has 3 values; weight has 4 output channels/);
    fails(() => ops.conv2d(x, w, null, { stride: [1, 2] }), 'stride', /only equal strides/);
    fails(() => ops.conv2d(x, w, null, { stride: 0 }), 'stride', /must be an integer >= 1/);
    fails(() => ops.conv2d(x, w, null, { pads: [1, 1, 1] as never }), 'pads', /must be \[top, left, bottom, right\]/);
    fails(() => ops.conv2d(x, w, null, { relu: 1 as never }), 'relu', /must be true or false/);
    fails(() => ops.conv2d(t([1, 3, 2, 2]), w), 'x', /is 2x2 \(2x2 padded\), smaller than the 3x3 kernel/);
  });

  it('pools: kernel and stride required, pads at most half the window, countIncludePad required with pads', () => {
    fails(() => ops.maxPool2d(x, undefined as never), 'options', /must give \{ kernel, stride \}/);
    fails(() => ops.maxPool2d(x, { kernel: 3 } as never), 'stride', /is required \(PyTorch defaults it to the kernel, ONNX to 1\)/);
    fails(() => ops.avgPool2d(x, { stride: 1 } as never), 'kernel', /is required/);
    fails(() => ops.maxPool2d(x, { kernel: 3, stride: 1, pads: [2, 0, 0, 0] }), 'pads', /exceed half the 3x3 window/);
    fails(() => ops.avgPool2d(x, { kernel: 3, stride: 1, pads: 1 }), 'countIncludePad', /must be given when pads are non-zero/);
    fails(() => ops.maxPool2d(t([1, 1, 2, 2]), { kernel: 3, stride: 1 }), 'x', /smaller than the 3x3 window/);
    fails(() => ops.avgPool2d(x, { kernel: 3, stride: 1, ceil: 'yes' as never }), 'ceil', /must be true or false/);
    // without padding countIncludePad changes nothing and may be left out
    expect(ops.avgPool2d(x, { kernel: 3, stride: 2, ceil: true }).shape).toEqual([2, 3, 4, 4]);
  });

  it('non-finite values, named with their NCHW index', () => {
    const bad = t([2, 3, 4, 5]);
    bad.data[1 * 60 + 2 * 20 + 3 * 5 + 4] = NaN;
    fails(() => ops.relu(bad), 'x', /value NaN at \[1, 2, 3, 4\] is not finite/);
    fails(() => ops.maxPool2d(bad, { kernel: 2, stride: 2 }), 'x', /value NaN at \[1, 2, 3, 4\] is not finite/);
    fails(() => ops.globalAvgPool2d(bad), 'x', /at \[1, 2, 3, 4\]/);
    const badW = t([4, 3, 3, 3]);
    badW.data[7] = Infinity;
    fails(() => ops.conv2d(x, badW), 'weight', /value Infinity at index 7 is not finite/);
    fails(() => ops.concat([t([1, 2]), { data: Float32Array.of(1, -Infinity), shape: [1, 2] }], 0), 'xs[1]', /value -Infinity at flat index 1 is not finite/);
  });

  it('concat: ranks, shapes outside the axis, the axis', () => {
    fails(() => ops.concat([]), 'xs', /non-empty list/);
    fails(() => ops.concat([t([1, 2, 3, 3]), t([1, 2, 3])]), 'xs[1]', /rank 3; xs\[0\] has rank 4/);
    fails(() => ops.concat([t([1, 2, 3, 3]), t([1, 2, 4, 3])]), 'xs[1]', /differs outside axis 1/);
    fails(() => ops.concat([t([1, 2, 3, 3])], 4), 'axis', /must be an integer in \[-4, 3\]/);
  });

  it('a call needing more than MAX_OP_BYTES is refused before any memory grows', () => {
    const before = ops.memoryBytes;
    fails(() => ops.conv2d(t([1, 1, 2048, 2048]), t([128, 1, 1, 1])), 'x', /MiB of WebAssembly memory for this call, more than the 1024 MiB allowed/);
    expect(ops.memoryBytes).toBe(before);
  });

  it('memory is freed after each call, and after an error; use after dispose is a DisposedError', async () => {
    const own = await createOps();
    own.conv2d(x, w);
    const after = own.memoryBytes;
    for (let i = 0; i < 20; i++) {
      own.conv2d(x, w, null, { pads: [1, 0, 2, 1] });
      own.avgPool2d(x, { kernel: 3, stride: 2, pads: 1, countIncludePad: false, ceil: true });
      expect(() => own.relu({ data: Float32Array.of(NaN), shape: [1] })).toThrow(OpError);
    }
    expect(own.memoryBytes).toBe(after);
    own.dispose();
    expect(own.memoryBytes).toBe(0);
    expect(() => own.relu(t([1]))).toThrow(DisposedError);
    expect(() => own.concat([t([1])])).toThrow(DisposedError);
  });
});
