// ONNX models of SqueezeNet v1.0 and v1.1 (torchvision exports, the ONNX model zoo's Caffe2 and
// MXNet conversions), whatever their tensor names: the graph is walked from its input and matched
// layer by layer against the arch tables, and the convolution weights are taken in that order.
//
//   input -> Conv -> Relu -> MaxPool -> Fire ... -> [Dropout] -> Conv -> Relu -> global average
//         -> [Flatten | Reshape | Squeeze] -> [Softmax]
//   Fire:  x -> Conv 1x1 -> Relu -+-> Conv 1x1 -> Relu -+-> Concat(axis 1) [-> Add(x or Conv 1x1(x))]
//                                 +-> Conv 3x3 -> Relu -+
//
// Every attribute that changes the arithmetic (kernel_shape, strides, pads, dilations, group,
// auto_pad, ceil_mode) is read and checked; a graph this engine cannot run exactly is a
// FormatError naming the node and the operator or attribute. Only the parts of onnx.proto that
// this needs are read (ModelProto.ir_version, opset_import, graph; GraphProto node, initializer,
// input, output; NodeProto; AttributeProto; TensorProto; ValueInfoProto), with a bounds-checked
// protobuf reader (./protobuf.ts). Field numbers from onnx/onnx.proto.

import { ARCHS, ARCH_NAMES, type ArchName, type LayerSpec } from '../arch.js';
import { FormatError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { plan, poolOutSize } from '../plan.js';
import type { DecodedTensor } from './deepcompression.js';
import { ProtoBuffer, type ProtoField } from './protobuf.js';
import { halfTable, readFloats, toBytes } from './safetensors.js';

const FORMAT = 'ONNX';

/** TensorProto.DataType names, for messages. */
const DATA_TYPES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128',
  16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4',
};
const FLOAT = 1;
const INT64 = 7;
const FLOAT16 = 10;
const BFLOAT16 = 16;
const typeName = (t: number): string => DATA_TYPES[t] ?? `data type ${t}`;

/** A TensorProto, its data left in the file until asked for. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Byte offset of the TensorProto. */
  readonly offset: number;
  /** raw_data as [start, end) byte offsets. */
  readonly raw?: readonly [number, number];
  readonly floatData: readonly ProtoField[];
  readonly int32Data: readonly ProtoField[];
  readonly int64Data: readonly ProtoField[];
  /** data_location EXTERNAL or external_data given: the values are in another file. */
  readonly external: boolean;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly t?: OnnxTensor;
  readonly ints: readonly number[];
  readonly floats: readonly number[];
}

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
  /** Byte offset of the NodeProto. */
  readonly offset: number;
}

export interface OnnxValueInfo {
  readonly name: string;
  /** Element type (TensorProto.DataType), 0 when not given. */
  readonly elemType: number;
  /** Dims: a number, a symbolic name, or undefined; undefined when no shape is given. */
  readonly shape?: readonly (number | string | undefined)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly sparseInitializers: ReadonlySet<string>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  /** opset_import: domain ('' is the default ONNX domain) to version. */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graph: OnnxGraph;
}

// --- Protobuf messages -------------------------------------------------------------------------

function parseTensor(p: ProtoBuffer, f: ProtoField): OnnxTensor {
  p.expectWire(f, 2, 'TensorProto');
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let raw: [number, number] | undefined;
  const floatData: ProtoField[] = [];
  const int32Data: ProtoField[] = [];
  const int64Data: ProtoField[] = [];
  let external = false;
  p.fields(f.start, f.end, 'TensorProto', (g) => {
    switch (g.field) {
      case 1: p.ints(g, 'TensorProto.dims', dims); break;
      case 2: dataType = p.int(g, 'TensorProto.data_type'); break;
      case 3: throw p.fail('TensorProto.segment (a tensor split across messages) is not supported', g.offset, name || undefined);
      case 4: floatData.push(g); break;
      case 5: int32Data.push(g); break;
      case 7: int64Data.push(g); break;
      case 8: name = p.string(g, 'TensorProto.name'); break;
      case 9: p.expectWire(g, 2, 'TensorProto.raw_data'); raw = [g.start, g.end]; break;
      case 13: external = true; break;
      case 14: if (p.int(g, 'TensorProto.data_location') === 1) external = true; break;
      default: break;
    }
  });
  return { name, dims, dataType, offset: f.offset, ...(raw ? { raw } : {}), floatData, int32Data, int64Data, external };
}

function parseAttribute(p: ProtoBuffer, f: ProtoField): OnnxAttribute {
  p.expectWire(f, 2, 'AttributeProto');
  let name = '';
  let type = 0;
  const a: { f?: number; i?: number; s?: string; t?: OnnxTensor } = {};
  const ints: number[] = [];
  const floats: number[] = [];
  p.fields(f.start, f.end, 'AttributeProto', (g) => {
    switch (g.field) {
      case 1: name = p.string(g, 'AttributeProto.name'); break;
      case 2: a.f = p.float(g, 'AttributeProto.f'); break;
      case 3: a.i = p.int(g, 'AttributeProto.i'); break;
      case 4: a.s = p.string(g, 'AttributeProto.s'); break;
      case 5: a.t = parseTensor(p, g); break;
      case 7: p.floats(g, 'AttributeProto.floats', floats); break;
      case 8: p.ints(g, 'AttributeProto.ints', ints); break;
      case 20: type = p.int(g, 'AttributeProto.type'); break;
      case 21: throw p.fail(`attribute ${name || '(unnamed)'} refers to a function attribute (ref_attr_name), which is not supported`, g.offset);
      default: break;
    }
  });
  return { name, type, offset: f.offset, ...a, ints, floats };
}

function parseNode(p: ProtoBuffer, f: ProtoField): OnnxNode {
  p.expectWire(f, 2, 'NodeProto');
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  const attributes = new Map<string, OnnxAttribute>();
  p.fields(f.start, f.end, 'NodeProto', (g) => {
    switch (g.field) {
      case 1: inputs.push(p.string(g, 'NodeProto.input')); break;
      case 2: outputs.push(p.string(g, 'NodeProto.output')); break;
      case 3: name = p.string(g, 'NodeProto.name'); break;
      case 4: opType = p.string(g, 'NodeProto.op_type'); break;
      case 5: {
        const a = parseAttribute(p, g);
        if (attributes.has(a.name)) throw p.fail(`attribute ${a.name} given twice`, g.offset, name || undefined);
        attributes.set(a.name, a);
        break;
      }
      case 7: domain = p.string(g, 'NodeProto.domain'); break;
      default: break;
    }
  });
  return { name, opType, domain: domain === 'ai.onnx' ? '' : domain, inputs, outputs, attributes, offset: f.offset };
}

function parseValueInfo(p: ProtoBuffer, f: ProtoField): OnnxValueInfo {
  p.expectWire(f, 2, 'ValueInfoProto');
  let name = '';
  let elemType = 0;
  let shape: (number | string | undefined)[] | undefined;
  p.fields(f.start, f.end, 'ValueInfoProto', (g) => {
    if (g.field === 1) name = p.string(g, 'ValueInfoProto.name');
    if (g.field !== 2) return;
    p.expectWire(g, 2, 'TypeProto');
    p.fields(g.start, g.end, 'TypeProto', (h) => {
      if (h.field !== 1) return; // tensor_type
      p.expectWire(h, 2, 'TypeProto.Tensor');
      p.fields(h.start, h.end, 'TypeProto.Tensor', (k) => {
        if (k.field === 1) elemType = p.int(k, 'TypeProto.Tensor.elem_type');
        if (k.field !== 2) return;
        p.expectWire(k, 2, 'TensorShapeProto');
        shape = [];
        p.fields(k.start, k.end, 'TensorShapeProto', (d) => {
          if (d.field !== 1) return;
          p.expectWire(d, 2, 'TensorShapeProto.Dimension');
          let dim: number | string | undefined;
          p.fields(d.start, d.end, 'TensorShapeProto.Dimension', (e) => {
            if (e.field === 1) dim = p.int(e, 'Dimension.dim_value');
            if (e.field === 2) dim = p.string(e, 'Dimension.dim_param');
          });
          shape!.push(dim);
        });
      });
    });
  });
  return { name, elemType, ...(shape ? { shape } : {}) };
}

function parseGraph(p: ProtoBuffer, f: ProtoField): OnnxGraph {
  p.expectWire(f, 2, 'GraphProto');
  let name = '';
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  const sparseInitializers = new Set<string>();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  p.fields(f.start, f.end, 'GraphProto', (g) => {
    switch (g.field) {
      case 1: nodes.push(parseNode(p, g)); break;
      case 2: name = p.string(g, 'GraphProto.name'); break;
      case 5: {
        const t = parseTensor(p, g);
        if (initializers.has(t.name)) throw p.fail(`initializer ${t.name} given twice`, g.offset);
        initializers.set(t.name, t);
        break;
      }
      case 11: inputs.push(parseValueInfo(p, g)); break;
      case 12: outputs.push(parseValueInfo(p, g)); break;
      case 15: {
        // SparseTensorProto: values (1) is a TensorProto whose name is the initializer's.
        p.expectWire(g, 2, 'SparseTensorProto');
        p.fields(g.start, g.end, 'SparseTensorProto', (h) => {
          if (h.field === 1) sparseInitializers.add(parseTensor(p, h).name);
        });
        break;
      }
      default: break;
    }
  });
  return { name, nodes, initializers, sparseInitializers, inputs, outputs };
}

/**
 * Parses an ONNX file's structure: the model's versions, the graph's nodes, attributes, inputs,
 * outputs and initializers (their values stay in the file; see {@link onnxTensorValues}). Every
 * varint and length is bounds-checked: a damaged file is a {@link FormatError} with the offset.
 */
export function parseOnnx(bytes: Uint8Array | ArrayBuffer): OnnxModel {
  const b = toBytes(bytes, 'an ONNX file');
  const p = new ProtoBuffer(b, FORMAT);
  let irVersion = 0;
  const opsets = new Map<string, number>();
  let producerName = '';
  let producerVersion = '';
  let graph: OnnxGraph | undefined;
  p.fields(0, b.length, 'ModelProto', (f) => {
    switch (f.field) {
      case 1: irVersion = p.int(f, 'ModelProto.ir_version'); break;
      case 2: producerName = p.string(f, 'ModelProto.producer_name'); break;
      case 3: producerVersion = p.string(f, 'ModelProto.producer_version'); break;
      case 7:
        if (graph) throw p.fail('ModelProto has two graphs', f.offset);
        graph = parseGraph(p, f);
        break;
      case 8: {
        p.expectWire(f, 2, 'OperatorSetIdProto');
        let domain = '';
        let version = 0;
        p.fields(f.start, f.end, 'OperatorSetIdProto', (g) => {
          if (g.field === 1) domain = p.string(g, 'OperatorSetIdProto.domain');
          if (g.field === 2) version = p.int(g, 'OperatorSetIdProto.version');
        });
        opsets.set(domain === 'ai.onnx' ? '' : domain, version);
        break;
      }
      default: break;
    }
  });
  if (!graph) throw p.fail('no graph (ModelProto field 7): not an ONNX model', b.length);
  return { irVersion, opsets, producerName, producerVersion, graph };
}

/** Product of dims, or a FormatError when negative or above 2^31 elements. */
function elementCount(p: ProtoBuffer, t: OnnxTensor): number {
  let n = 1;
  for (const d of t.dims) {
    if (d < 0) throw p.fail(`dims [${t.dims.join(', ')}] has a negative dimension`, t.offset, t.name);
    n *= d;
    if (n > 2 ** 31) throw p.fail(`dims [${t.dims.join(', ')}] hold more than 2^31 elements`, t.offset, t.name);
  }
  return n;
}

/**
 * An initializer's values as float32: FLOAT (raw_data or float_data), FLOAT16 and BFLOAT16
 * (raw_data, or the bit patterns in int32_data) widened exactly. Any other type, external data,
 * or a data length that disagrees with the dims is a {@link FormatError} naming the tensor.
 */
export function onnxTensorValues(bytes: Uint8Array | ArrayBuffer, t: OnnxTensor): Float32Array {
  const b = toBytes(bytes, 'an ONNX file');
  const p = new ProtoBuffer(b, FORMAT);
  return tensorFloats(p, t);
}

function tensorFloats(p: ProtoBuffer, t: OnnxTensor): Float32Array {
  if (t.external) throw p.fail('values are stored outside the model file (external data), which is not supported', t.offset, t.name);
  const count = elementCount(p, t);
  const size = t.dataType === FLOAT ? 4 : t.dataType === FLOAT16 || t.dataType === BFLOAT16 ? 2 : 0;
  if (size === 0) throw p.fail(`data type ${typeName(t.dataType)} is not supported: weights load from FLOAT, FLOAT16 or BFLOAT16`, t.offset, t.name);
  const typed = t.dataType === FLOAT ? t.floatData : t.int32Data;
  if (t.raw && typed.length > 0) throw p.fail('has both raw_data and typed data', t.offset, t.name);
  if (t.raw) {
    const [start, end] = t.raw;
    if (end - start !== count * size) {
      throw p.fail(`raw_data is ${end - start} bytes, dims [${t.dims.join(', ')}] of ${typeName(t.dataType)} need ${count * size}`, start, t.name);
    }
    return readFloats(p.bytes, start, count, t.dataType === FLOAT ? 'F32' : t.dataType === FLOAT16 ? 'F16' : 'BF16');
  }
  const out = new Float32Array(count);
  let n = 0;
  const put = (v: number, offset: number): void => {
    if (n >= count) throw p.fail(`holds more values than dims [${t.dims.join(', ')}] = ${count}`, offset, t.name);
    out[n++] = v;
  };
  if (t.dataType === FLOAT) {
    const values: number[] = [];
    for (const f of typed) {
      values.length = 0;
      p.floats(f, 'TensorProto.float_data', values);
      for (const v of values) put(v, f.offset);
    }
  } else {
    const table = halfTable();
    const bf16 = t.dataType === BFLOAT16;
    const bits = new Uint32Array(out.buffer);
    for (const f of typed) {
      p.varints32(f, 'TensorProto.int32_data', (v, offset) => {
        if (v > 0xffff) throw p.fail(`int32_data value ${v} is not a 16-bit pattern`, offset, t.name);
        if (n >= count) throw p.fail(`holds more values than dims [${t.dims.join(', ')}] = ${count}`, offset, t.name);
        if (bf16) bits[n++] = v << 16;
        else out[n++] = table[v]!;
      });
    }
  }
  if (n !== count) throw p.fail(`holds ${n} values, dims [${t.dims.join(', ')}] need ${count}`, t.offset, t.name);
  return out;
}

/** An INT64 initializer's values (raw_data or int64_data). */
function tensorInts(p: ProtoBuffer, t: OnnxTensor): number[] {
  if (t.dataType !== INT64) throw p.fail(`data type ${typeName(t.dataType)}, expected INT64`, t.offset, t.name);
  const count = elementCount(p, t);
  const out: number[] = [];
  if (t.raw) {
    const [start, end] = t.raw;
    if (end - start !== 8 * count) throw p.fail(`raw_data is ${end - start} bytes, ${count} INT64 need ${8 * count}`, start, t.name);
    for (let i = 0; i < count; i++) {
      const v = Number(p.view.getBigInt64(start + 8 * i, true));
      if (!Number.isSafeInteger(v)) throw p.fail(`value ${v} out of range`, start + 8 * i, t.name);
      out.push(v);
    }
  } else for (const f of t.int64Data) p.ints(f, 'TensorProto.int64_data', out);
  if (out.length !== count) throw p.fail(`holds ${out.length} values, dims need ${count}`, t.offset, t.name);
  return out;
}

// --- Recognising SqueezeNet ---------------------------------------------------------------------

interface ConvLayer {
  readonly node: OnnxNode;
  readonly weight: OnnxTensor;
  readonly bias?: OnnxTensor;
  readonly inC: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
}

type Step =
  | { readonly kind: 'conv'; readonly conv: ConvLayer }
  | { readonly kind: 'maxpool'; readonly node: OnnxNode; readonly size: number; readonly stride: number }
  | {
      readonly kind: 'fire';
      readonly squeeze: ConvLayer;
      readonly e1: ConvLayer;
      readonly e3: ConvLayer;
      readonly bypass?: 'simple' | 'complex';
      readonly bypassConv?: ConvLayer;
    }
  | { readonly kind: 'avgpool'; readonly node: OnnxNode };

/** What the network's output is: logits as `run()` returns them, or the graph's Softmax of them. */
export type OnnxHead = 'logits' | 'softmax' | 'log-softmax';

/** A SqueezeNet read from an ONNX file. */
export interface OnnxSqueezeNet {
  /** The network the graph is, layer for layer. */
  readonly arch: ArchName;
  /** torchvision state_dict names (`features.0.weight`, ...) to values and shapes. */
  readonly weights: Map<string, DecodedTensor>;
  /** The graph's image input, as declared: dims are numbers, symbolic names or undefined. */
  readonly input: { readonly name: string; readonly shape: readonly (number | string | undefined)[] };
  /** The graph's output value. */
  readonly output: string;
  /**
   * What the graph's output holds. `run()` always returns logits; a graph ending in Softmax
   * gives `softmax(run(x))` (see `softmax` in this library).
   */
  readonly head: OnnxHead;
  /** True when the graph ends in Softmax: its output is probabilities, `run()`'s are logits. */
  readonly outputIsProbabilities: boolean;
  /**
   * Set when the graph equals the network only at its declared input size: pools whose
   * rounding is spelled as end pads computed for that size (torch's exports before opset 10),
   * or an AveragePool whose kernel is the final map's size. At other sizes this engine runs
   * SqueezeNet as defined (ceil-mode pools, global average), which the graph may not.
   */
  readonly checkedAtInputSize?: readonly [number, number];
  /** The default-domain opset, 0 when the model names none. */
  readonly opset: number;
  readonly irVersion: number;
  readonly producer: string;
  /** What was noticed on the way: Dropout skipped, missing biases, Softmax at the end, ... */
  readonly notes: readonly string[];
}

const label = (n: OnnxNode): string => `node ${JSON.stringify(n.name || '(unnamed)')} (${n.domain ? `${n.domain}.` : ''}${n.opType})`;

/** Pool output size as ONNX defines it, with explicit begin/end pads; the last window must start inside (input + begin pad). */
function onnxPoolOut(n: number, k: number, s: number, begin: number, end: number, ceil: boolean): number {
  const span = n + begin + end - k;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + begin) out--;
  return out;
}

const convOut = (n: number, k: number, s: number, pad: number): number => Math.floor((n + 2 * pad - k) / s) + 1;

class Matcher {
  private readonly constants = new Map<string, OnnxTensor>();
  private readonly consumers = new Map<string, OnnxNode[]>();
  private readonly graphOutputs: Set<string>;
  readonly notes: string[] = [];
  /** Set when a check held only at the declared input size. */
  pinned = false;

  constructor(
    readonly p: ProtoBuffer,
    readonly model: OnnxModel,
  ) {
    const g = model.graph;
    for (const [name, t] of g.initializers) this.constants.set(name, t);
    for (const n of g.nodes) {
      if (n.opType === 'Constant' && n.domain === '' && n.outputs[0]) {
        const t = n.attributes.get('value')?.t;
        if (t) this.constants.set(n.outputs[0], { ...t, name: n.outputs[0] });
      }
      for (const i of n.inputs) {
        if (i === '') continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
    this.graphOutputs = new Set(g.outputs.map((o) => o.name));
  }

  fail(n: OnnxNode, message: string): FormatError {
    return this.p.fail(message, n.offset, label(n));
  }

  users(value: string): OnnxNode[] {
    return this.consumers.get(value) ?? [];
  }

  /** The one node that reads `value`, or undefined at the end of the graph. */
  only(value: string, after: string): OnnxNode | undefined {
    const list = this.users(value);
    if (list.length > 1) {
      throw this.p.fail(
        `${after}'s output ${JSON.stringify(value)} feeds ${list.length} nodes (${list.map(label).join(', ')}); only a Fire module branches`,
        list[1]!.offset,
        label(list[1]!),
      );
    }
    return list[0];
  }

  next(value: string, after: OnnxNode, op: string): OnnxNode {
    const n = this.only(value, label(after));
    if (n === undefined || n.opType !== op || n.domain !== '') {
      throw n === undefined
        ? this.fail(after, `the graph ends after this node; SqueezeNet has a ${op} next`)
        : this.fail(n, `expected ${op} after ${label(after)}, found ${n.opType}${n.opType === op ? ` in domain ${n.domain}` : ''}`);
    }
    return n;
  }

  attrs(n: OnnxNode, allowed: readonly string[]): void {
    for (const a of n.attributes.keys()) {
      if (!allowed.includes(a)) throw this.fail(n, `unsupported attribute ${a} on ${n.opType}`);
    }
  }

  ints(n: OnnxNode, name: string, length: number, fallback: number): number[] {
    const a = n.attributes.get(name);
    if (a === undefined) return new Array<number>(length).fill(fallback);
    if (a.ints.length !== length) throw this.fail(n, `attribute ${name} is [${a.ints.join(', ')}], expected ${length} values`);
    return [...a.ints];
  }

  int(n: OnnxNode, name: string, fallback: number): number {
    return n.attributes.get(name)?.i ?? fallback;
  }

  /** A Relu straight after `node` (its only reader); returns the Relu's output. */
  relu(after: OnnxNode, value: string): string {
    const r = this.next(value, after, 'Relu');
    if (r.inputs.length !== 1 || r.outputs.length !== 1) throw this.fail(r, `Relu with ${r.inputs.length} inputs and ${r.outputs.length} outputs`);
    return r.outputs[0]!;
  }

  constant(n: OnnxNode, value: string, what: string): OnnxTensor {
    const t = this.constants.get(value);
    if (t === undefined) {
      if (this.model.graph.sparseInitializers.has(value)) throw this.fail(n, `${what} ${JSON.stringify(value)} is a sparse initializer, which is not supported`);
      throw this.fail(n, `${what} ${JSON.stringify(value)} is not an initializer or a Constant (weights computed in the graph are not supported)`);
    }
    return t;
  }

  /** A Conv node whose input has `inC` channels: attributes and weight shapes checked. */
  conv(n: OnnxNode, inC: number): ConvLayer {
    if (n.domain !== '') throw this.fail(n, `operator ${n.domain}.${n.opType} is not supported`);
    this.attrs(n, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
    if (n.inputs.length < 2 || n.inputs.length > 3) throw this.fail(n, `Conv with ${n.inputs.length} inputs`);
    if (n.outputs.length !== 1) throw this.fail(n, `Conv with ${n.outputs.length} outputs`);
    const weight = this.constant(n, n.inputs[1]!, 'weight');
    const bias = n.inputs[2] ? this.constant(n, n.inputs[2], 'bias') : undefined;
    const d = weight.dims;
    if (d.length !== 4 || d[2] !== d[3]) throw this.fail(n, `weight ${weight.name} has dims [${d.join(', ')}], expected [out, in, k, k]`);
    const [outC, wInC, kernel] = d as [number, number, number, number];
    const group = this.int(n, 'group', 1);
    if (group !== 1) throw this.fail(n, `attribute group = ${group}: grouped convolutions are not SqueezeNet's`);
    if (wInC !== inC) throw this.fail(n, `weight ${weight.name} [${d.join(', ')}] takes ${wInC} input channels, the layer before gives ${inC}`);
    const ks = this.ints(n, 'kernel_shape', 2, kernel);
    if (ks[0] !== kernel || ks[1] !== kernel) throw this.fail(n, `attribute kernel_shape [${ks.join(', ')}] disagrees with weight dims [${d.join(', ')}]`);
    const strides = this.ints(n, 'strides', 2, 1);
    if (strides[0] !== strides[1] || strides[0]! < 1) throw this.fail(n, `attribute strides [${strides.join(', ')}]: only equal positive strides are supported`);
    const dil = this.ints(n, 'dilations', 2, 1);
    if (dil.some((v) => v !== 1)) throw this.fail(n, `attribute dilations [${dil.join(', ')}]: dilated convolutions are not supported`);
    const stride = strides[0]!;
    const pads = this.ints(n, 'pads', 4, 0);
    if (pads.some((v) => v !== pads[0])) throw this.fail(n, `attribute pads [${pads.join(', ')}]: only equal padding on every side is supported`);
    let pad = pads[0]!;
    const autoPad = n.attributes.get('auto_pad')?.s ?? 'NOTSET';
    if (autoPad !== 'NOTSET') {
      if (n.attributes.has('pads')) throw this.fail(n, `attributes auto_pad ${autoPad} and pads are both given`);
      if (autoPad === 'VALID') pad = 0;
      else if ((autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') && stride === 1 && kernel % 2 === 1) pad = (kernel - 1) / 2;
      else throw this.fail(n, `attribute auto_pad ${autoPad} with kernel ${kernel} and stride ${stride} is not supported`);
    }
    if (pad < 0) throw this.fail(n, `negative pads [${pads.join(', ')}]`);
    if (bias && (bias.dims.length !== 1 || bias.dims[0] !== outC)) {
      throw this.fail(n, `bias ${bias.name} has dims [${bias.dims.join(', ')}], expected [${outC}]`);
    }
    return { node: n, weight, ...(bias ? { bias } : {}), inC, outC, kernel, stride, pad };
  }

  /** MaxPool: must round as SqueezeNet's ceil-mode pools do, at `hw` or, when unknown, at every size. */
  maxpool(n: OnnxNode, hw: [number, number] | undefined): { size: number; stride: number; hw: [number, number] | undefined } {
    this.attrs(n, ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'dilations', 'auto_pad', 'storage_order']);
    if (n.inputs.length !== 1) throw this.fail(n, `MaxPool with ${n.inputs.length} inputs`);
    const indices = n.outputs[1];
    if (indices && (this.users(indices).length > 0 || this.graphOutputs.has(indices))) {
      throw this.fail(n, 'the Indices output of MaxPool is used: not supported');
    }
    const ks = this.ints(n, 'kernel_shape', 2, 0);
    if (!n.attributes.has('kernel_shape') || ks[0] !== ks[1] || ks[0]! < 1) throw this.fail(n, `attribute kernel_shape [${ks.join(', ')}]: a square kernel is needed`);
    const strides = this.ints(n, 'strides', 2, 1);
    if (strides[0] !== strides[1] || strides[0]! < 1) throw this.fail(n, `attribute strides [${strides.join(', ')}]: only equal positive strides are supported`);
    const dil = this.ints(n, 'dilations', 2, 1);
    if (dil.some((v) => v !== 1)) throw this.fail(n, `attribute dilations [${dil.join(', ')}] is not supported`);
    const autoPad = n.attributes.get('auto_pad')?.s ?? 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw this.fail(n, `attribute auto_pad ${autoPad} is not supported`);
    const pads = this.ints(n, 'pads', 4, 0);
    const ceil = this.int(n, 'ceil_mode', 0) !== 0;
    const size = ks[0]!;
    const stride = strides[0]!;
    if (pads.some((v) => v < 0)) throw this.fail(n, `attribute pads [${pads.join(', ')}]: negative padding`);
    if (pads[0] !== 0 || pads[1] !== 0) {
      throw this.fail(n, `attribute pads [${pads.join(', ')}]: padding before the first window shifts every window; SqueezeNet's pools have none`);
    }
    const fits = (len: number, end: number): boolean => onnxPoolOut(len, size, stride, 0, end, ceil) === poolOutSize(len, size, stride, 0, true);
    const spelled = `pads [${pads.join(', ')}] and ceil_mode ${ceil ? 1 : 0}`;
    if (hw) {
      hw.forEach((len, axis) => {
        if (!fits(len, pads[2 + axis]!)) {
          throw this.fail(
            n,
            `attributes ${spelled} give ${onnxPoolOut(len, size, stride, 0, pads[2 + axis]!, ceil)} outputs from ${len} along ${axis === 0 ? 'the height' : 'the width'}; SqueezeNet's pools round up (ceil_mode 1) and give ${poolOutSize(len, size, stride, 0, true)}`,
          );
        }
      });
      let everywhere = true;
      for (let len = size; len <= 1024 && everywhere; len++) everywhere = fits(len, pads[2]!) && fits(len, pads[3]!);
      if (!everywhere) this.pinned = true;
      const out: [number, number] = [poolOutSize(hw[0], size, stride, 0, true), poolOutSize(hw[1], size, stride, 0, true)];
      return { size, stride, hw: out };
    }
    for (let len = size; len <= 1024; len++) {
      for (const axis of [0, 1]) {
        if (!fits(len, pads[2 + axis]!)) {
          throw this.fail(
            n,
            `attributes ${spelled} give ${onnxPoolOut(len, size, stride, 0, pads[2 + axis]!, ceil)} outputs from ${len}, SqueezeNet's ceil-mode pool ${poolOutSize(len, size, stride, 0, true)} (the graph's input has no fixed size to check at)`,
          );
        }
      }
    }
    return { size, stride, hw: undefined };
  }
}

const matches = (step: Step, spec: LayerSpec): boolean => {
  switch (spec.kind) {
    case 'conv':
      return step.kind === 'conv' && step.conv.outC === spec.out && step.conv.kernel === spec.kernel && step.conv.stride === spec.stride && step.conv.pad === spec.pad;
    case 'maxpool':
      return step.kind === 'maxpool' && step.size === spec.size && step.stride === spec.stride && spec.ceil;
    case 'fire':
      return (
        step.kind === 'fire' &&
        step.squeeze.outC === spec.s1x1 &&
        step.e1.outC === spec.e1x1 &&
        step.e3.outC === spec.e3x3 &&
        step.bypass === spec.bypass
      );
    case 'avgpool':
      return step.kind === 'avgpool';
  }
};

const describeStep = (s: Step | undefined): string => {
  if (s === undefined) return 'nothing';
  switch (s.kind) {
    case 'conv':
      return `conv ${s.conv.outC} filters ${s.conv.kernel}x${s.conv.kernel} / ${s.conv.stride} pad ${s.conv.pad}`;
    case 'maxpool':
      return `maxpool ${s.size}x${s.size} / ${s.stride}`;
    case 'fire':
      return `fire ${s.squeeze.outC}, ${s.e1.outC}, ${s.e3.outC}${s.bypass ? ` with ${s.bypass} bypass` : ''}`;
    case 'avgpool':
      return 'global average pool';
  }
};

const describeSpec = (s: LayerSpec | undefined): string => {
  if (s === undefined) return 'nothing';
  switch (s.kind) {
    case 'conv':
      return `${s.name}: conv ${s.out} filters ${s.kernel}x${s.kernel} / ${s.stride} pad ${s.pad}`;
    case 'maxpool':
      return `${s.name}: maxpool ${s.size}x${s.size} / ${s.stride}`;
    case 'fire':
      return `${s.name}: fire ${s.s1x1}, ${s.e1x1}, ${s.e3x3}${s.bypass ? ` with ${s.bypass} bypass` : ''}`;
    case 'avgpool':
      return `${s.name}: global average pool`;
  }
};

const stepNode = (s: Step): OnnxNode => (s.kind === 'conv' ? s.conv.node : s.kind === 'fire' ? s.squeeze.node : s.node);

/**
 * Reads an ONNX SqueezeNet: walks the graph from its image input, recognises conv + Relu,
 * MaxPool, the Fire pattern (with Section 6's bypass Add), the final conv, the global average
 * (GlobalAveragePool, or AveragePool / ReduceMean over the whole map), Flatten / Reshape /
 * Squeeze and a final Softmax; Dropout and Identity pass through. The layers must be one of
 * {@link ARCHS} exactly (v1.0 has conv10 pads 0, v1.0-caffe 1); the weights come back under
 * torchvision's names, whatever the file calls them.
 *
 * Anything else (another operator, grouped or dilated convolutions, pools that round down, a
 * concat in the other order, external data, an unsupported data type) is a {@link FormatError}
 * naming the node, the operator or attribute and the byte offset of the node.
 */
export function decodeOnnx(bytes: Uint8Array | ArrayBuffer): OnnxSqueezeNet {
  const b = toBytes(bytes, 'an ONNX file');
  const model = parseOnnx(b);
  const p = new ProtoBuffer(b, FORMAT);
  const m = new Matcher(p, model);
  const g = model.graph;
  const notes = m.notes;
  const opset = model.opsets.get('') ?? 0;
  if (model.opsets.size === 0 && model.irVersion >= 3) {
    throw p.fail(`no opset_import (ModelProto field 8): a model of IR version ${model.irVersion} must name its operator set (truncated file?)`, b.length);
  }

  // The image input: the one graph input that is not an initializer.
  const images = g.inputs.filter((i) => !g.initializers.has(i.name));
  if (images.length !== 1) {
    throw p.fail(
      images.length === 0
        ? 'the graph has no input that is not an initializer'
        : `the graph has ${images.length} inputs (${images.map((i) => i.name).join(', ')}); SqueezeNet takes one image`,
      0,
    );
  }
  const input = images[0]!;
  const shape = input.shape ?? [];
  if (input.elemType !== 0 && input.elemType !== FLOAT) {
    throw p.fail(`input ${input.name} is ${typeName(input.elemType)}; only FLOAT inputs are supported`, 0);
  }
  if (input.shape && (shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3))) {
    throw p.fail(`input ${input.name} has shape [${shape.map(String).join(', ')}], expected [N, 3, H, W]`, 0);
  }
  let hw: [number, number] | undefined =
    typeof shape[2] === 'number' && typeof shape[3] === 'number' && shape[2] > 0 && shape[3] > 0 ? [shape[2], shape[3]] : undefined;
  const declared = hw;

  // Walk from the input: one step per row of Table 1.
  const steps: Step[] = [];
  let cur = input.name;
  let channels = 3;
  let head: OnnxHead = 'logits';
  let pooled = false;
  let last = `input ${JSON.stringify(input.name)}`;
  const seen = new Set<string>();
  for (;;) {
    if (seen.has(cur)) throw p.fail(`the graph has a cycle through ${JSON.stringify(cur)}`, 0);
    seen.add(cur);
    const users = m.users(cur);
    if (users.length === 0) break;
    // A Fire module: its squeeze is the Conv whose Relu feeds two Convs.
    const squeeze = users.find((n) => {
      if (n.opType !== 'Conv' || n.domain !== '' || pooled) return false;
      const r = m.users(n.outputs[0] ?? '');
      if (r.length !== 1 || r[0]!.opType !== 'Relu') return false;
      const e = m.users(r[0]!.outputs[0] ?? '');
      return e.length === 2 && e.every((x) => x.opType === 'Conv');
    });
    if (squeeze) {
      const others = users.filter((n) => n !== squeeze);
      if (others.length > 1) throw m.fail(others[1]!, `${last}'s output feeds ${users.length} nodes; a Fire module's input feeds at most its squeeze and a bypass`);
      const sq = m.conv(squeeze, channels);
      const sqOut = m.relu(squeeze, squeeze.outputs[0]!);
      const [x, y] = m.users(sqOut) as [OnnxNode, OnnxNode];
      const a = m.conv(x, sq.outC);
      const c = m.conv(y, sq.outC);
      const [e1, e3] = a.kernel === 1 && c.kernel !== 1 ? [a, c] : c.kernel === 1 && a.kernel !== 1 ? [c, a] : [a, c];
      const e1Out = m.relu(e1.node, e1.node.outputs[0]!);
      const e3Out = m.relu(e3.node, e3.node.outputs[0]!);
      const concat = m.next(e1Out, e1.node, 'Concat');
      if (m.only(e3Out, label(e3.node)) !== concat) throw m.fail(e3.node, 'the two expand branches of a Fire module do not meet in one Concat');
      m.attrs(concat, ['axis']);
      const axis = m.int(concat, 'axis', 1);
      if (axis !== 1 && axis !== -3) throw m.fail(concat, `attribute axis = ${axis}: a Fire module concatenates along channels (axis 1)`);
      if (concat.inputs.length !== 2) throw m.fail(concat, `Concat of ${concat.inputs.length} inputs; a Fire module has two`);
      if (concat.inputs[0] !== e1Out || concat.inputs[1] !== e3Out) {
        throw m.fail(concat, 'the Fire module concatenates expand 3x3 before expand 1x1; SqueezeNet puts the 1x1 branch first');
      }
      for (const [conv, kernel, pad, what] of [[sq, 1, 0, 'squeeze'], [e1, 1, 0, 'expand 1x1'], [e3, 3, 1, 'expand 3x3']] as const) {
        if (conv.kernel !== kernel || conv.stride !== 1 || conv.pad !== pad) {
          throw m.fail(conv.node, `a Fire module's ${what} convolution must be ${kernel}x${kernel} / 1 pad ${pad}; this one is ${conv.kernel}x${conv.kernel} / ${conv.stride} pad ${conv.pad}`);
        }
      }
      const outC = e1.outC + e3.outC;
      let out = concat.outputs[0]!;
      let bypass: 'simple' | 'complex' | undefined;
      let bypassConv: ConvLayer | undefined;
      const other = others[0];
      if (other) {
        let addend = cur;
        if (other.opType === 'Conv' && other.domain === '') {
          bypassConv = m.conv(other, channels);
          if (bypassConv.kernel !== 1 || bypassConv.stride !== 1 || bypassConv.pad !== 0 || bypassConv.outC !== outC) {
            throw m.fail(other, `a complex bypass is a 1x1 / 1 convolution to ${outC} channels; this one is ${describeStep({ kind: 'conv', conv: bypassConv })}`);
          }
          addend = other.outputs[0]!;
          bypass = 'complex';
        } else if (other.opType === 'Add' || other.opType === 'Sum') {
          if (channels !== outC) throw m.fail(other, `a simple bypass adds ${channels} input channels to ${outC} output channels`);
          bypass = 'simple';
        } else {
          throw m.fail(other, `unsupported operator ${other.opType} beside a Fire module (a bypass is Add, or Conv then Add)`);
        }
        const add = m.next(out, concat, other.opType === 'Sum' ? 'Sum' : 'Add');
        if (bypass === 'complex' && m.only(addend, label(other)) !== add) throw m.fail(other, 'the bypass convolution does not feed the Add after the Fire module');
        if (bypass === 'simple' && add !== other) throw m.fail(other, "the bypass Add does not add the Fire module's input to its output");
        if (add.inputs.length !== 2 || !add.inputs.includes(out) || !add.inputs.includes(addend)) {
          throw m.fail(add, `the bypass adds [${add.inputs.join(', ')}], expected the Fire module's output and its ${bypass === 'simple' ? 'input' : 'bypass convolution'}`);
        }
        out = add.outputs[0]!;
      }
      steps.push({ kind: 'fire', squeeze: sq, e1, e3, ...(bypass ? { bypass } : {}), ...(bypassConv ? { bypassConv } : {}) });
      channels = outC;
      cur = out;
      last = `fire module at ${label(squeeze)}`;
      continue;
    }
    const n = m.only(cur, last)!;
    if (n.domain !== '') throw m.fail(n, `unsupported operator ${n.domain}.${n.opType}`);
    switch (n.opType) {
      case 'Dropout':
      case 'Identity': {
        const extra = n.outputs.slice(1).find((o) => o && (m.users(o).length > 0 || g.outputs.some((x) => x.name === o)));
        if (extra) throw m.fail(n, `the ${n.opType} mask output ${extra} is used: not supported`);
        if (n.opType === 'Dropout') notes.push(`${label(n)} is the identity at inference and was skipped`);
        cur = n.outputs[0]!;
        break;
      }
      case 'Conv': {
        if (pooled) throw m.fail(n, 'a convolution after the global average pool is not SqueezeNet');
        const conv = m.conv(n, channels);
        if (!conv.bias) notes.push(`${label(n)} has no bias: zeros are used`);
        steps.push({ kind: 'conv', conv });
        cur = m.relu(n, n.outputs[0]!);
        channels = conv.outC;
        if (hw) hw = [convOut(hw[0], conv.kernel, conv.stride, conv.pad), convOut(hw[1], conv.kernel, conv.stride, conv.pad)];
        if (hw && (hw[0] < 1 || hw[1] < 1)) throw m.fail(n, `the declared input is too small: this convolution has no output`);
        break;
      }
      case 'MaxPool': {
        if (pooled) throw m.fail(n, 'a MaxPool after the global average pool is not SqueezeNet');
        const r = m.maxpool(n, hw);
        steps.push({ kind: 'maxpool', node: n, size: r.size, stride: r.stride });
        hw = r.hw;
        cur = n.outputs[0]!;
        break;
      }
      case 'GlobalAveragePool':
      case 'AveragePool':
      case 'ReduceMean': {
        if (pooled) throw m.fail(n, 'a second average pool');
        if (n.opType === 'AveragePool') {
          m.attrs(n, ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'count_include_pad', 'auto_pad']);
          const ks = m.ints(n, 'kernel_shape', 2, 0);
          const pads = m.ints(n, 'pads', 4, 0);
          if (pads.some((v) => v !== 0)) throw m.fail(n, `attribute pads [${pads.join(', ')}]: only an average over the whole map is supported`);
          if (!hw) throw m.fail(n, `AveragePool with kernel_shape [${ks.join(', ')}] averages the whole map at one input size only, and the graph's input has no fixed size`);
          if (ks[0] !== hw[0] || ks[1] !== hw[1]) {
            throw m.fail(n, `attribute kernel_shape [${ks.join(', ')}] is not the whole ${hw[0]}x${hw[1]} map: only a global average is supported`);
          }
          m.pinned = true;
        } else if (n.opType === 'ReduceMean') {
          m.attrs(n, ['axes', 'keepdims', 'noop_with_empty_axes']);
          let axes = n.attributes.get('axes')?.ints ?? [];
          if (n.inputs[1]) axes = tensorInts(p, m.constant(n, n.inputs[1], 'axes'));
          const sorted = axes.map((a) => (a < 0 ? a + 4 : a)).sort();
          if (sorted.length !== 2 || sorted[0] !== 2 || sorted[1] !== 3) throw m.fail(n, `attribute axes [${axes.join(', ')}]: only the mean over H and W (axes 2, 3) is supported`);
        } else {
          m.attrs(n, []);
        }
        steps.push({ kind: 'avgpool', node: n });
        pooled = true;
        cur = n.outputs[0]!;
        break;
      }
      case 'Flatten':
      case 'Reshape':
      case 'Squeeze':
        if (!pooled) throw m.fail(n, `${n.opType} before the global average pool is not SqueezeNet`);
        cur = n.outputs[0]!;
        break;
      case 'Softmax':
      case 'LogSoftmax': {
        if (!pooled) throw m.fail(n, `${n.opType} before the global average pool is not SqueezeNet`);
        m.attrs(n, ['axis']);
        const axis = m.int(n, 'axis', opset >= 13 ? -1 : 1);
        if (axis !== 1 && axis !== -1) throw m.fail(n, `attribute axis = ${axis}: only the softmax over the classes (axis 1) is supported`);
        head = n.opType === 'Softmax' ? 'softmax' : 'log-softmax';
        notes.push(`the graph ends in ${n.opType}: run() returns the logits before it`);
        cur = n.outputs[0]!;
        break;
      }
      default:
        throw m.fail(n, `unsupported operator ${n.opType} after ${last}`);
    }
    last = label(n);
  }
  if (!g.outputs.some((o) => o.name === cur)) {
    throw p.fail(`the walk from the input ends at ${JSON.stringify(cur)} (after ${last}), which is not a graph output`, 0);
  }

  // Which network it is: the arch whose table the steps match, row for row.
  let best: { arch: ArchName; at: number } = { arch: 'v1.0', at: -1 };
  let arch: ArchName | undefined;
  for (const name of ARCH_NAMES) {
    const layers = ARCHS[name].layers;
    let i = 0;
    while (i < layers.length && i < steps.length && matches(steps[i]!, layers[i]!)) i++;
    if (i === layers.length && i === steps.length) {
      arch = name;
      break;
    }
    if (i > best.at) best = { arch: name, at: i };
  }
  if (arch === undefined) {
    const step = steps[best.at];
    const where = step ? stepNode(step) : undefined;
    throw p.fail(
      `the graph is not a SqueezeNet this engine has: closest is ${best.arch}, which agrees on the first ${best.at} layers; then the graph has ${describeStep(step)}, ${best.arch} has ${describeSpec(ARCHS[best.arch].layers[best.at])}`,
      where?.offset ?? 0,
      where ? label(where) : undefined,
    );
  }

  // The weights, in the plan's order, under torchvision's names.
  const convs = steps.flatMap((s) => (s.kind === 'conv' ? [s.conv] : s.kind === 'fire' ? [s.squeeze, s.e1, s.e3, ...(s.bypassConv ? [s.bypassConv] : [])] : []));
  const ops = plan(ARCHS[arch]).convs;
  const weights = new Map<string, DecodedTensor>();
  convs.forEach((c, i) => {
    const op = ops[i]!;
    const wShape = [op.outC, op.inC, op.kernel, op.kernel];
    if (c.weight.dims.join() !== wShape.join()) throw m.fail(c.node, `weight dims [${c.weight.dims.join(', ')}], ${arch} ${op.name} has [${wShape.join(', ')}]`);
    weights.set(`${op.param}.weight`, { data: tensorFloats(p, c.weight), shape: wShape });
    weights.set(`${op.param}.bias`, { data: c.bias ? tensorFloats(p, c.bias) : new Float32Array(op.outC), shape: [op.outC] });
  });
  if (m.pinned && declared) notes.push(`checked at the declared input size ${declared[0]}x${declared[1]} only`);
  const outputIsProbabilities = head === 'softmax';
  return {
    arch,
    weights,
    input: { name: input.name, shape },
    output: cur,
    head,
    outputIsProbabilities,
    ...(m.pinned && declared ? { checkedAtInputSize: declared } : {}),
    opset,
    irVersion: model.irVersion,
    producer: `${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''}`,
    notes,
  };
}

/**
 * Reads an ONNX SqueezeNet and loads it: the arch from the graph, the weights from its
 * initializers. `run()` returns logits even when the graph ends in Softmax. torchvision and
 * model-zoo exports expect `preprocess(image, 'torchvision')`.
 */
export async function loadOnnx(bytes: Uint8Array | ArrayBuffer, options: Omit<LoadOptions, 'arch' | 'weights'> = {}): Promise<SqueezeNet> {
  const r = decodeOnnx(bytes);
  return SqueezeNet.load({ ...options, arch: r.arch, weights: r.weights });
}
