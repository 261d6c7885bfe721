// Reading an ONNX file: protobuf bytes to a model object (OnnxModel), nothing inferred. Only the
// parts of onnx.proto a SqueezeNet needs are read (ModelProto ir_version, producer, opset_import,
// metadata_props, graph; GraphProto node, initializer, input, output; NodeProto; AttributeProto;
// TensorProto; ValueInfoProto), with a bounds-checked protobuf reader (./protobuf.ts). Field
// numbers from onnx/onnx.proto. Which SqueezeNet the graph is, is ./onnx-match.ts's job.

import { halfTable, readFloats, toBytes } from './common.js';
import { ProtoBuffer, type ProtoField } from './protobuf.js';

/** How errors name the format. */
export const ONNX_FORMAT_NAME = 'ONNX';
const FORMAT = ONNX_FORMAT_NAME;

/** TensorProto.DataType names, for messages. */
const DATA_TYPES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128',
  16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4',
};
export const FLOAT = 1;
export const INT64 = 7;
export const FLOAT16 = 10;
export const BFLOAT16 = 16;
/** A TensorProto.DataType's name, for messages: `FLOAT16`, `data type 99`. */
export const typeName = (t: number): string => DATA_TYPES[t] ?? `data type ${t}`;

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
  /** The file the offsets point into (tensor values are read from it when asked for). */
  readonly bytes: Uint8Array;
  readonly irVersion: number;
  /** opset_import: domain ('' is the default ONNX domain) to version. */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producerName: string;
  readonly producerVersion: string;
  /** metadata_props: key to value (the last one wins when a key repeats). */
  readonly metadata: ReadonlyMap<string, string>;
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
 * Reads an ONNX file's structure: the model's versions, producer and metadata, the graph's
 * nodes, attributes, inputs, outputs and initializers (their values stay in the file; see
 * {@link onnxTensorValues}). Every varint and length is bounds-checked: a damaged file is a
 * {@link FormatError} with the offset.
 */
export function readOnnx(bytes: Uint8Array | ArrayBuffer): OnnxModel {
  const b = toBytes(bytes, 'an ONNX file');
  const p = new ProtoBuffer(b, FORMAT);
  let irVersion = 0;
  const opsets = new Map<string, number>();
  let producerName = '';
  let producerVersion = '';
  let graph: OnnxGraph | undefined;
  const metadata = new Map<string, string>();
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
      case 14: {
        p.expectWire(f, 2, 'StringStringEntryProto');
        let key = '';
        let value = '';
        p.fields(f.start, f.end, 'StringStringEntryProto', (g) => {
          if (g.field === 1) key = p.string(g, 'StringStringEntryProto.key');
          if (g.field === 2) value = p.string(g, 'StringStringEntryProto.value');
        });
        metadata.set(key, value);
        break;
      }
      default: break;
    }
  });
  if (!graph) throw p.fail('no graph (ModelProto field 7): not an ONNX model', b.length);
  return { bytes: b, irVersion, opsets, producerName, producerVersion, metadata, graph };
}

/** Product of dims, or a FormatError when negative or above 2^31 elements. */
export function elementCount(p: ProtoBuffer, t: OnnxTensor): number {
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

/** {@link onnxTensorValues} on a buffer already open. */
export function tensorFloats(p: ProtoBuffer, t: OnnxTensor): Float32Array {
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
export function tensorInts(p: ProtoBuffer, t: OnnxTensor): number[] {
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

