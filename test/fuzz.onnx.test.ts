// Fuzz: the ONNX reader (protobuf wire format, graph recognition, tensor values) never crashes,
// hangs or lies on damaged bytes (the harness in test/fuzz-harness.ts says what every case must
// end in). Two targets:
//   - a small model read structurally (readOnnx, then the values of every FLOAT, FLOAT16 and
//     BFLOAT16 initializer): nodes with every attribute kind, negative int64s, symbolic and fixed
//     dims, raw_data, packed float_data, float16 in int32_data: 10,000 fast-check cases and every
//     truncation. Protobuf has no end marker, so a prefix that ends between two fields is itself
//     a well-formed message: prefixes may decode here (to fewer fields, checked all the same);
//   - a whole SqueezeNet v1.1 (FLOAT16, 2.5 MB) through decodeOnnx, graph walk and all, which
//     must reject every prefix (opset_import comes last, as torch writes it): 1,000 cases, a
//     quarter of them aimed at the nodes, and ~9,000 truncations.
// A decoded result is valid when every tensor's values fill its dims and, for decodeOnnx, the
// weights are exactly the arch's, of its shapes. Values may be any float (the engine rejects
// non-finite weights when it loads them).
import { ARCHS, decodeOnnx, expectedWeights, onnxTensorValues, readOnnx, plan, type OnnxSqueezeNet } from '../src/index.js';
import { Pb, int64Tensor, onnxModel, onnxTensor, squeezenetOnnx, valueInfo } from './format-writers.js';
import { fuzzLoader } from './fuzz-harness.js';
import { randomWeights } from './helpers.js';

function small(): Uint8Array {
  return onnxModel({
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], group: 1 } },
      { op: 'Relu', name: 'relu', inputs: ['y'], outputs: ['z'] },
      { op: 'Reshape', inputs: ['z', 'shape'], outputs: ['r'], attrs: { allowzero: 0 } },
      { op: 'Softmax', name: 's', inputs: ['r'], outputs: ['out'], attrs: { axis: -1, note: 'x', scale: { f: 0.5 } } },
    ],
    initializers: [
      onnxTensor('w', [2, 1, 3, 3], Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1)),
      onnxTensor('b', [2], [0.5, -0.5], 'float_data'),
      onnxTensor('h', [3], [1, 2 ** -24, -65504], 'int32-f16'),
      onnxTensor('g', [2, 2], [0.25, -1, 3, 4], 'raw-f16'),
      new Pb().varint(1, 2).varint(2, 16).string(8, 'bf').bytes(9, Uint8Array.from([0x80, 0x3f, 0x00, 0xc0])),
      int64Tensor('shape', [1, -1]),
    ],
    inputs: [valueInfo('x', ['N', 1, 5, 5])],
    outputs: [valueInfo('out', ['N', 50])],
    opset: 13,
  });
}

const FLOATS = new Set([1, 10, 16]);

function readAll(b: Uint8Array): number {
  const m = readOnnx(b);
  let n = 0;
  for (const t of m.graph.initializers.values()) {
    if (!FLOATS.has(t.dataType)) continue;
    const v = onnxTensorValues(b, t);
    const want = t.dims.reduce((a, c) => a * c, 1);
    if (v.length !== want) throw new Error(`${t.name}: ${v.length} values for dims [${t.dims.join(', ')}]`);
    n += v.length;
  }
  return n;
}

fuzzLoader({
  name: 'ONNX (small model: protobuf structure and tensor values)',
  format: 'ONNX',
  load: readAll,
  valid: small,
  truncations: 'all',
  prefixesFail: false,
});

function checkSqueezeNet(r: OnnxSqueezeNet): void {
  const want = expectedWeights(plan(typeof r.arch === 'string' ? ARCHS[r.arch] : r.arch));
  if (r.weights.size !== want.size) throw new Error(`${r.weights.size} tensors, ${r.arch} has ${want.size}`);
  for (const [name, shape] of want) {
    const t = r.weights.get(name);
    if (!t || t.shape.join() !== shape.join() || t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${name} wrong or missing`);
  }
}

fuzzLoader({
  name: 'ONNX (SqueezeNet v1.1 through decodeOnnx)',
  format: 'ONNX',
  load: decodeOnnx,
  valid: () => {
    const p = plan(ARCHS['v1.1']);
    const shapes = expectedWeights(p);
    const w = new Map([...randomWeights(p, 5)].map(([n, data]) => [n, { data, shape: [...shapes.get(n)!] }]));
    return squeezenetOnnx('v1.1', w, { storage: 'raw-f16', opset: 9 });
  },
  check: checkSqueezeNet,
  truncations: { head: 8192, sample: 500 },
  // The nodes come first in the graph (about 11 KB): aim a quarter of the mutations at them.
  hotBytes: 12_000,
  runs: 1000,
});
