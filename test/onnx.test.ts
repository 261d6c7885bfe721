// The ONNX reader: the protobuf wire reader's bounds checks; hand-made SqueezeNet graphs in every
// layout the reader claims (torch's opset 9 end pads and opset 13 ceil_mode, anonymous names,
// float16 and float_data storage, Dropout, AveragePool / ReduceMean, Reshape, Softmax, bypass
// Adds, nodes out of order) read back to the same weights and arch, and run by onnxruntime-web to
// the same logits as the engine; graphs it cannot run rejected with the node and the reason; and
// the interop files exported by PyTorch against the fixture logits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHS,
  FormatError,
  SqueezeNet,
  V1_0_METAPARAMETERS,
  decodeOnnx,
  describeArch,
  expectedWeights,
  halfToFloat,
  metaArch,
  onnxTensorValues,
  readOnnx,
  plan,
  type Arch,
  type ArchName,
} from '../src/index.js';
import { ProtoBuffer, type ProtoField } from '../src/formats/protobuf.js';
import { compare, dense, FIXTURES, readFixture, readManifest } from './fixture-reader.js';
import {
  Pb,
  floatToHalf,
  onnxModel,
  onnxTensor,
  squeezenetGraph,
  squeezenetOnnx,
  valueInfo,
  type GraphSpec,
  type NodeSpec,
  type SqueezeNetOnnxOptions,
} from './format-writers.js';
import { randomWeights, seededRandom } from './helpers.js';

const TOLERANCE = 1e-5;

type Named = Map<string, { data: Float32Array; shape: number[] }>;

/** Random weights for an arch, rounded to float16 values so that f16 storage is lossless. */
function weightsFor(arch: ArchName | Arch, seed: number): Named {
  const p = plan(typeof arch === 'string' ? ARCHS[arch] : arch);
  const shapes = expectedWeights(p);
  const out: Named = new Map();
  for (const [name, data] of randomWeights(p, seed)) {
    for (let i = 0; i < data.length; i++) data[i] = halfToFloat(floatToHalf(data[i]!));
    out.set(name, { data, shape: [...shapes.get(name)!] });
  }
  return out;
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

const fields = (bytes: ArrayLike<number>): ProtoField[] => {
  const b = Uint8Array.from(bytes);
  const p = new ProtoBuffer(b, 'test');
  const out: ProtoField[] = [];
  p.fields(0, b.length, 'message', (f) => out.push(f));
  return out;
};

describe('protobuf wire reader: every varint and length is bounds-checked', () => {
  it('reads varints (up to 64 bits, negative int64 as ten bytes), fixed32, fixed64 and lengths', () => {
    const msg = new Pb().varint(1, 300).varint(2, -1).varint(3, 2 ** 53 - 1).float(4, 1.5).string(5, 'héllo').tag(6, 1).raw([1, 0, 0, 0, 0, 0, 0, 0]).finish();
    const b = Uint8Array.from(msg);
    const p = new ProtoBuffer(b, 'test');
    const f = fields(b);
    expect(f.map((x) => [x.field, x.wire])).toEqual([[1, 0], [2, 0], [3, 0], [4, 5], [5, 2], [6, 1]]);
    expect(p.uint(f[0]!, 'a')).toBe(300);
    expect(p.int(f[1]!, 'b')).toBe(-1);
    expect(p.uint(f[2]!, 'c')).toBe(2 ** 53 - 1);
    expect(p.float(f[3]!, 'd')).toBe(1.5);
    expect(p.string(f[4]!, 'e')).toBe('héllo');
    const ints: number[] = [];
    const packed = new Pb().packedVarints(1, [0, -3, 7, -(2 ** 40)]).finish();
    new ProtoBuffer(packed, 'test').ints(fields(packed)[0]!, 'p', ints);
    expect(ints).toEqual([0, -3, 7, -(2 ** 40)]);
  });

  it('a truncated varint, in a tag, a value or a length', () => {
    expect(formatError(() => fields([0x08, 0x96])).message).toMatch(/test at byte 1: truncated varint \(field 1 of message\)/);
    expect(formatError(() => fields([0x80])).message).toMatch(/at byte 0: truncated varint \(field tag in message\)/);
    expect(formatError(() => fields([0x0a, 0xff])).message).toMatch(/truncated varint \(length of field 1/);
  });

  it('a varint longer than 10 bytes, or overflowing 64 bits', () => {
    expect(formatError(() => fields([0x08, ...new Array(10).fill(0x80), 0x01])).message).toMatch(/longer than 10 bytes/);
    expect(formatError(() => fields([0x08, ...new Array(9).fill(0xff), 0x02])).message).toMatch(/overflows 64 bits/);
    const big = fields([0x08, ...new Array(9).fill(0xff), 0x00]);
    expect(formatError(() => new ProtoBuffer(new Uint8Array(1), 'test').uint(big[0]!, 'x')).message).toMatch(/too large/);
  });

  it('a length past the end of the message, fixed fields cut short', () => {
    const e = formatError(() => fields([0x0a, 0x05, 1, 2, 3]));
    expect(e.message).toMatch(/at byte 0: field 1 of message says its length is 5 bytes, only 3 remain/);
    expect(formatError(() => fields([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])).message).toMatch(/length is 4294967295 bytes/);
    expect(formatError(() => fields([0x0d, 1, 2])).message).toMatch(/fixed32 field 1 of message runs past the end/);
    expect(formatError(() => fields([0x09, 1, 2, 3, 4])).message).toMatch(/fixed64 field 1 of message runs past the end/);
  });

  it('groups, undefined wire types, field number 0, wrong wire type for a field', () => {
    expect(formatError(() => fields([0x0b])).message).toMatch(/deprecated group wire type 3/);
    expect(formatError(() => fields([0x0e])).message).toMatch(/wire type 6, which protobuf does not define/);
    expect(formatError(() => fields([0x00, 0x00])).message).toMatch(/field number 0/);
    const f = fields([0x08, 0x01]);
    expect(formatError(() => new ProtoBuffer(new Uint8Array(2), 'test').string(f[0]!, 'name')).message).toMatch(/name \(field 1\) has wire type 0, expected 2/);
  });

  it('a nested message whose length runs past its parent', () => {
    const inner = new Pb().string(1, 'abc').finish();
    const outer = new Pb().bytes(7, inner).finish();
    outer[1] = inner.length; // the graph's length is right, but lie inside it
    const lying = Uint8Array.from(outer);
    lying[3] = 10; // the string inside claims 10 bytes
    expect(formatError(() => readOnnx(lying)).message).toMatch(/ONNX at byte 2: field 1 of GraphProto says its length is 10 bytes/);
  });
});

describe('ONNX: hand-made SqueezeNets read back exactly', () => {
  const cases: [string, ArchName, SqueezeNetOnnxOptions][] = [
    ['v1.1, opset 13, ceil_mode', 'v1.1', { opset: 13 }],
    ['v1.1, opset 9, end pads for 224', 'v1.1', { opset: 9 }],
    ['v1.0, opset 9, end pads for 224 (maxpool4 on 54: pad 2)', 'v1.0', { opset: 9 }],
    ['v1.0-caffe (conv10 pads 1), opset 13 at 227', 'v1.0-caffe', { opset: 13 }],
    ['v1.1, names W0, W1, ..., nodes unnamed and in reverse order', 'v1.1', { names: 'anon', shuffle: true }],
    ['v1.1, float_data storage, Reshape, Softmax', 'v1.1', { storage: 'float_data', flatten: 'reshape', softmax: true }],
    ['v1.0, FLOAT16 raw_data, AveragePool 13x13, no Flatten', 'v1.0', { storage: 'raw-f16', avg: 'fixed', flatten: 'none' }],
    ['v1.1, FLOAT16 in int32_data, ReduceMean, no Dropout', 'v1.1', { storage: 'int32-f16', avg: 'reducemean', dropout: false }],
    ['v1.1, symbolic input size, end pads 1 (ceil at every size)', 'v1.1', { opset: 9, pool: 'pads-always', input: 'dynamic' }],
    ['v1.0-caffe as the zoo lays it out: initializers among the inputs, input data_0, end pads 1, Softmax', 'v1.0-caffe', { opset: 8, pool: 'pads-always', initializersAsInputs: true, inputName: 'data_0', softmax: true }],
    ['simple-bypass (Add around fire3, 5, 7, 9)', 'simple-bypass', {}],
    ['complex-bypass (1x1 conv + Add around fire2, 4, 6, 8)', 'complex-bypass', {}],
  ];
  cases.forEach(([title, arch, options], i) => {
    it(title, () => {
      const w = weightsFor(arch, 100 + i);
      const r = decodeOnnx(squeezenetOnnx(arch, w, options));
      // torch's opset 9 end pads are 2 where a pool sees an even size (v1.0's maxpool4: 54), which
      // rounds up there but not at every size: the arch then keeps the graph's spelling (padEnd);
      // an AveragePool's kernel fits one size only (fixedInputSize).
      const pinned = options.opset === 9 && options.pool !== 'pads-always' && arch === 'v1.0';
      const fixed = options.avg === 'fixed';
      if (pinned || fixed) {
        const table = r.arch as Arch;
        expect(typeof table).toBe('object');
        expect(table.name).toBe(arch);
        const pads = table.layers.filter((l) => l.kind === 'maxpool').map((l) => (l.kind === 'maxpool' ? (l.padEnd?.join('x') ?? (l.ceil ? 'ceil' : 'floor')) : ''));
        expect(pads).toEqual(pinned ? ['ceil', '2x2', 'ceil'] : ['ceil', 'ceil', 'ceil']);
      } else {
        expect(r.arch).toBe(arch);
      }
      expect(r.fixedInputSize).toEqual(fixed ? [ARCHS[arch].input, ARCHS[arch].input] : undefined);
      expect(r.weights.size).toBe(w.size);
      for (const [name, t] of w) {
        const got = r.weights.get(name);
        expect(got, name).toBeDefined();
        expect(got!.shape).toEqual(t.shape);
        expect(Buffer.from(got!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
      }
      expect(r.head).toBe(options.softmax ? 'softmax' : 'logits');
      expect(r.outputIsProbabilities).toBe(!!options.softmax);
      expect(r.output).toBe('logits');
      expect(r.opset).toBe(options.opset ?? 13);
      if (options.dropout !== false) expect(r.notes.some((n) => n.includes('Dropout'))).toBe(true);
    });
  });
});

describe('ONNX: onnxruntime-web runs the hand-made graphs to the same logits as the engine', () => {
  let ort: typeof import('onnxruntime-web');
  beforeAll(async () => {
    ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
  });
  const cases: [ArchName, [number, number], SqueezeNetOnnxOptions][] = [
    ['v1.0', [37, 37], { opset: 9 }],
    ['v1.0-caffe', [39, 35], { opset: 13, storage: 'float_data' }],
    ['v1.1', [30, 41], { opset: 9, names: 'anon' }],
    ['complex-bypass', [35, 39], { opset: 13, names: 'anon' }],
  ];
  for (const [arch, [h, w], options] of cases) {
    it(`${arch} at ${h}x${w}, opset ${options.opset}`, async () => {
      const weights = weightsFor(arch, h * w);
      const bytes = squeezenetOnnx(arch, weights, { ...options, input: [h, w] });
      const r = decodeOnnx(bytes);
      expect(typeof r.arch === 'string' ? r.arch : r.arch.name).toBe(arch);
      const rand = seededRandom(h + w);
      const input = Float32Array.from({ length: 3 * h * w }, () => rand() * 4 - 2);
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, h, w]) });
      const want = out.logits!.data as Float32Array;
      const model = await SqueezeNet.load({ arch: r.arch, weights: r.weights, inputSize: [h, w], warmup: false });
      let got = model.run(input);
      if (r.outputIsProbabilities) {
        const max = Math.max(...got);
        const e = got.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, b) => a + b, 0);
        got = e.map((v) => v / sum);
      }
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < want.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
        maxRef = Math.max(maxRef, Math.abs(want[i]!));
      }
      console.log(`${arch} ${h}x${w} opset ${options.opset}: max |engine - onnxruntime| ${maxDiff.toExponential(2)} (max |ref| ${maxRef.toExponential(2)})`);
      expect(want.length).toBe(1000);
      expect(maxDiff).toBeLessThanOrEqual(TOLERANCE * maxRef);
      model.dispose();
      await session.release();
    });
  }
});

describe('ONNX: graphs the engine cannot run are FormatErrors naming the node', () => {
  const w11 = weightsFor('v1.1', 1);
  const w10 = weightsFor('v1.0', 2);
  const g11 = (options: SqueezeNetOnnxOptions = {}): GraphSpec => squeezenetGraph('v1.1', w11, options);
  const edit = (g: GraphSpec, fn: (n: NodeSpec, i: number) => NodeSpec | NodeSpec[]): Uint8Array =>
    onnxModel({ ...g, nodes: g.nodes.flatMap((n, i) => fn(n, i)) });
  const firstOf = (g: GraphSpec, op: string, nth = 0): number => g.nodes.map((n, i) => [n, i] as const).filter(([n]) => n.op === op)[nth]![1];

  it('an unsupported operator', () => {
    const g = g11();
    const at = firstOf(g, 'Relu', 2);
    const e = formatError(() => decodeOnnx(edit(g, (n, i) => (i === at ? { ...n, op: 'LeakyRelu', name: 'lrelu' } : n))));
    expect(e.message).toMatch(/ONNX layer node "lrelu" \(LeakyRelu\) at byte \d+: expected Relu after node .*, found LeakyRelu/);
    const g2 = g11();
    const e2 = formatError(() =>
      decodeOnnx(
        edit(g2, (n, i) =>
          i === firstOf(g2, 'MaxPool')
            ? [
                { op: 'BatchNormalization', name: 'bn', inputs: [n.inputs[0]!, 's', 'b', 'm', 'v'], outputs: ['bn_out'] },
                { ...n, inputs: ['bn_out'] },
              ]
            : n,
        ),
      ),
    );
    expect(e2.message).toMatch(/layer node "bn" \(BatchNormalization\) at byte \d+: unsupported operator BatchNormalization after node/);
    const e3 = formatError(() => decodeOnnx(edit(g, (n, i) => (i === firstOf(g, 'MaxPool') ? { ...n, domain: 'com.microsoft' } : n))));
    expect(e3.message).toMatch(/unsupported operator com\.microsoft\.MaxPool/);
  });

  it('grouped, dilated, asymmetrically padded convolutions; unknown attributes', () => {
    const g = g11();
    const conv = (attrs: Record<string, unknown>) => edit(g, (n, i) => (i === 0 ? { ...n, name: 'conv1', attrs: { ...n.attrs, ...attrs } as NodeSpec['attrs'] } : n));
    expect(formatError(() => decodeOnnx(conv({ group: 2 }))).message).toMatch(/node "conv1" \(Conv\) .*attribute group = 2/);
    expect(formatError(() => decodeOnnx(conv({ dilations: [2, 2] }))).message).toMatch(/attribute dilations \[2, 2\]/);
    expect(formatError(() => decodeOnnx(conv({ pads: [0, 0, 1, 1] }))).message).toMatch(/attribute pads \[0, 0, 1, 1\]: only equal padding/);
    expect(formatError(() => decodeOnnx(conv({ strides: [2, 1] }))).message).toMatch(/attribute strides \[2, 1\]/);
    expect(formatError(() => decodeOnnx(conv({ kernel_shape: [5, 5] }))).message).toMatch(/kernel_shape \[5, 5\] disagrees with weight dims/);
    expect(formatError(() => decodeOnnx(conv({ foo: 1 }))).message).toMatch(/unsupported attribute foo on Conv/);
  });

  it('pools that pad the start, or pad the end by a whole window', () => {
    const g = g11();
    const at = firstOf(g, 'MaxPool');
    const e2 = formatError(() => decodeOnnx(edit(g, (n, i) => (i === at ? { ...n, attrs: { ...n.attrs, pads: [1, 1, 1, 1] } } : n))));
    expect(e2.message).toMatch(/pads \[1, 1, 1, 1\]: padding before the first window/);
    const e3 = formatError(() => decodeOnnx(edit(g, (n, i) => (i === at ? { ...n, attrs: { ...n.attrs, pads: [0, 0, 3, 3], ceil_mode: 0 } } : n))));
    expect(e3.message).toMatch(/pads \[0, 0, 3, 3\]: an end pad as wide as the 3x3 window gives windows of padding only/);
  });

  it('pools that round down are read as such (a floor-mode network), with or without a fixed input size', () => {
    for (const input of [undefined, 'dynamic'] as const) {
      const r = decodeOnnx(squeezenetOnnx('v1.0', w10, { pool: 'floor', ...(input ? { input } : {}) }));
      expect(describeArch(r.arch)).toBe('v1.0 (max pools floor)');
      expect((r.arch as Arch).layers.filter((l) => l.kind === 'maxpool').every((l) => l.kind === 'maxpool' && !l.ceil && l.padEnd === undefined)).toBe(true);
    }
  });

  it('a Fire module concatenated in the other order, or along another axis', () => {
    const g = g11();
    const at = firstOf(g, 'Concat');
    const swapped = formatError(() => decodeOnnx(edit(g, (n, i) => (i === at ? { ...n, inputs: [n.inputs[1]!, n.inputs[0]!] } : n))));
    expect(swapped.message).toMatch(/\(Concat\) at byte \d+: the Fire module concatenates expand 3x3 before expand 1x1/);
    const axis = formatError(() => decodeOnnx(edit(g, (n, i) => (i === at ? { ...n, attrs: { axis: 2 } } : n))));
    expect(axis.message).toMatch(/attribute axis = 2/);
  });

  it('a graph of the wrong sizes names the closest network and the first layer that differs', () => {
    // Section 5's SR = 0.25: every squeeze layer twice v1.0's.
    const wide = metaArch({ ...V1_0_METAPARAMETERS, sr: 0.25 });
    const e = formatError(() => decodeOnnx(squeezenetOnnx(wide, weightsFor(wide, 3))));
    expect(e.message).toMatch(/node "\/features\.3\.squeeze\/Conv" \(Conv\) at byte \d+: the graph is not a SqueezeNet this engine has: closest is v1\.0, which agrees on the first 2 layers; then the graph has fire 32, 64, 64, v1\.0 has fire2: fire 16, 64, 64/);
    const g = squeezenetGraph('v1.1', weightsFor('v1.1', 3));
    const conv10Pad2 = formatError(() =>
      decodeOnnx(onnxModel({ ...g, nodes: g.nodes.map((n) => (n.name === '/classifier.1/Conv' ? { ...n, attrs: { ...n.attrs, pads: [2, 2, 2, 2] } } : n)) })),
    );
    expect(conv10Pad2.message).toMatch(/closest is v1\.1, which agrees on the first 12 layers; then the graph has conv 1000 filters 1x1 \/ 1 pad 2, v1\.1 has conv10: conv 1000 filters 1x1 \/ 1 pad 0/);
  });

  it('tensors: external data, unsupported types, data that disagrees with the dims', () => {
    const small = (t: Pb): Uint8Array =>
      onnxModel({
        nodes: [{ op: 'Conv', name: 'c', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [t],
        inputs: [valueInfo('x', [1, 3, 8, 8])],
        outputs: [valueInfo('y', [1, 64, 3, 3])],
        opset: 13,
      });
    const ext = new Pb().varint(1, 64).varint(1, 3).varint(1, 3).varint(1, 3).varint(2, 1).string(8, 'w').varint(14, 1);
    // The graph is too short to be SqueezeNet, so ask for the tensor directly, as decodeOnnx would.
    const read = (t: Pb): Float32Array => {
      const bytes = small(t);
      const m = readOnnx(bytes);
      return onnxTensorValues(bytes, m.graph.initializers.get('w')!);
    };
    expect(formatError(() => read(ext)).message).toMatch(/layer w at byte \d+: values are stored outside the model file \(external data\)/);
    const dbl = new Pb().varint(1, 2).varint(2, 11).string(8, 'w').bytes(9, new Uint8Array(16));
    expect(formatError(() => read(dbl)).message).toMatch(/layer w at byte \d+: data type DOUBLE is not supported/);
    const short = new Pb().varint(1, 4).varint(2, 1).string(8, 'w').bytes(9, new Uint8Array(12));
    expect(formatError(() => read(short)).message).toMatch(/raw_data is 12 bytes, dims \[4\] of FLOAT need 16/);
    const fewer = new Pb().varint(1, 4).varint(2, 1).string(8, 'w').bytes(4, new Uint8Array(8));
    expect(formatError(() => read(fewer)).message).toMatch(/holds 2 values, dims \[4\] need 4/);
    const notHalf = new Pb().varint(1, 1).varint(2, 10).string(8, 'w').packedVarints(5, [70000]);
    expect(formatError(() => read(notHalf)).message).toMatch(/not a 16-bit pattern/);
    const huge = new Pb().varint(1, 2 ** 20).varint(1, 2 ** 20).varint(2, 1).string(8, 'w');
    expect(formatError(() => read(huge)).message).toMatch(/more than 2\^31 elements/);
    expect(read(onnxTensor('w', [4, 3, 3, 3], new Float32Array(108).fill(0.5), 'int32-f16'))[107]).toBe(0.5);
  });

  it('not a model, two image inputs, a weight computed in the graph, the Indices of MaxPool used', () => {
    expect(formatError(() => decodeOnnx(new Pb().varint(1, 7).finish())).message).toMatch(/no graph \(ModelProto field 7\)/);
    const g = g11();
    expect(formatError(() => decodeOnnx(onnxModel({ ...g, inputs: [...g.inputs, valueInfo('other', [1])] }))).message).toMatch(
      /the graph has 2 inputs \(input, other\)/,
    );
    const conv0 = g.nodes[0]!;
    expect(formatError(() => decodeOnnx(edit(g, (n, i) => (i === 0 ? { ...conv0, inputs: [conv0.inputs[0]!, 'computed', conv0.inputs[2]!] } : n)))).message).toMatch(
      /weight "computed" is not an initializer or a Constant/,
    );
    const at = firstOf(g, 'MaxPool');
    const e = formatError(() =>
      decodeOnnx(
        onnxModel({
          ...g,
          nodes: g.nodes.map((n, i) => (i === at ? { ...n, outputs: [n.outputs[0]!, 'idx'] } : n)),
          outputs: [...g.outputs, valueInfo('idx', [1])],
        }),
      ),
    );
    expect(e.message).toMatch(/the Indices output of MaxPool is used/);
  });

  it('a cycle in the graph ends in a FormatError, not a hang', () => {
    const g = g11();
    const nodes = [...g.nodes];
    const first = nodes[0]!;
    const relu = nodes[1]!;
    nodes[1] = { ...relu, outputs: ['input'] };
    expect(() => decodeOnnx(onnxModel({ ...g, nodes: [first, ...nodes.slice(1)] }))).toThrow(FormatError);
  });

  it('Constant-node weights and a Reshape with an INT64 shape are read', () => {
    const g = g11({ flatten: 'reshape' });
    const w = w11.get('features.0.weight')!;
    const constant: NodeSpec = { op: 'Constant', inputs: [], outputs: ['cw'], attrs: { value: { t: onnxTensor('cw', w.shape, w.data) } } };
    const r = decodeOnnx(onnxModel({ ...g, nodes: [constant, ...g.nodes.map((n, i) => (i === 0 ? { ...n, inputs: [n.inputs[0]!, 'cw', n.inputs[2]!] } : n))] }));
    expect(r.arch).toBe('v1.1');
    expect(Buffer.from(r.weights.get('features.0.weight')!.data.buffer).equals(Buffer.from(w.data.buffer))).toBe(true);
  });
});

// The interop files: torchvision's SqueezeNets exported by torch.onnx (gzipped in fixtures/).
const manifest = readManifest() as ReturnType<typeof readManifest> & { interop?: { file: string; format: string; arch: string; matches_case: string }[] };
const interop = (manifest.interop ?? []).filter((f) => f.format === 'onnx');

describe('ONNX: interop fixtures exported by torch.onnx', () => {
  for (const f of interop) {
    it(`${f.file} is ${f.arch} and reproduces ${f.matches_case}'s logits`, async () => {
      const path = join(FIXTURES, f.file);
      expect(existsSync(path), `${path} is listed in manifest.json but missing`).toBe(true);
      let bytes = readFileSync(path);
      if (f.file.endsWith('.gz')) bytes = gunzipSync(bytes);
      const r = decodeOnnx(bytes);
      expect(describeArch(r.arch)).toMatch(new RegExp(`^${f.arch.replace('.', '\\.')}( \\(max pools .*\\))?$`));
      const c = readFixture(f.matches_case);
      const [, , h, w] = c.get('input')!.shape as [number, number, number, number];
      const model = await SqueezeNet.load({ arch: r.arch, weights: r.weights, inputSize: [h, w], warmup: false });
      const cmp = compare(model.run(dense(c.get('input'), 'input')), c.get('logits')!);
      console.log(
        `${f.file} (${r.arch}, opset ${r.opset}, ${r.producer}${typeof r.arch === 'string' ? '' : `, ${describeArch(r.arch)}`}) vs ${f.matches_case}: max |diff| ${cmp.maxDiff.toExponential(2)}, max |logit| ${cmp.maxRef.toExponential(2)}`,
      );
      expect(cmp.maxDiff).toBeLessThanOrEqual(TOLERANCE * cmp.maxRef);
      model.dispose();
    });
  }
});
