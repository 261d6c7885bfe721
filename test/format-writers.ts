// Small writers for hand-made weight files: safetensors (any header, any dtype) and ONNX (a
// protobuf encoder and a SqueezeNet graph builder with the layouts torch and the model zoo use),
// so the readers' tests and fuzz cases need no fixture on disk.
import { ARCHS, plan, type Arch, type ArchName } from '../src/index.js';

// --- float16 -----------------------------------------------------------------------------------

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 -> IEEE binary16 bits, round to nearest even (overflow to infinity, NaN kept). */
export function floatToHalf(v: number): number {
  F32[0] = v;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

// --- safetensors -------------------------------------------------------------------------------

export interface StEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The bytes of the tensor (already in its dtype). */
  readonly bytes: Uint8Array;
}

export function f32Bytes(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * data.length);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i]!, true);
  return out;
}

export function f16Bytes(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(2 * data.length);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) v.setUint16(2 * i, floatToHalf(data[i]!), true);
  return out;
}

/** A safetensors file from a header object (written as given) and a data section. */
export function safetensorsRaw(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** A well-formed safetensors file: tensors back to back in the order given. */
export function safetensors(entries: readonly StEntry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let o = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [o, o + e.bytes.length] };
    o += e.bytes.length;
  }
  const data = new Uint8Array(o);
  o = 0;
  for (const e of entries) {
    data.set(e.bytes, o);
    o += e.bytes.length;
  }
  return safetensorsRaw(header, data);
}

type Weights = ReadonlyMap<string, { readonly data: Float32Array; readonly shape: readonly number[] }>;

/** torchvision-named weights as a safetensors file of F32 or F16. */
export function weightsToSafetensors(weights: Weights, dtype: 'F32' | 'F16' = 'F32', metadata?: Record<string, string>): Uint8Array {
  return safetensors(
    [...weights].map(([name, t]) => ({ name, dtype, shape: t.shape, bytes: dtype === 'F32' ? f32Bytes(t.data) : f16Bytes(t.data) })),
    metadata,
  );
}

// --- protobuf ----------------------------------------------------------------------------------

/** A protobuf message under construction (chunks, joined once by `finish`). */
export class Pb {
  private readonly parts: Uint8Array[] = [];

  static varintBytes(v: number | bigint): number[] {
    if (typeof v === 'number' && v >= 0 && v <= 0x7fffffff) {
      const out: number[] = [];
      while (v > 0x7f) {
        out.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.push(v);
      return out;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      out.push(b);
    } while (x !== 0n);
    return out;
  }

  raw(bytes: ArrayLike<number>): this {
    this.parts.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.raw(Pb.varintBytes(field * 8 + wire));
  }
  varint(field: number, v: number | bigint): this {
    return this.tag(field, 0).raw(Pb.varintBytes(v));
  }
  bytes(field: number, b: ArrayLike<number>): this {
    return this.tag(field, 2).raw(Pb.varintBytes(b.length)).raw(b);
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).raw(b);
  }
  packedVarints(field: number, vs: readonly (number | bigint)[]): this {
    const out: number[] = [];
    for (const v of vs) for (const b of Pb.varintBytes(v)) out.push(b);
    return this.bytes(field, out);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// --- ONNX --------------------------------------------------------------------------------------

export type TensorStorage = 'raw-f32' | 'float_data' | 'raw-f16' | 'int32-f16';

export function onnxTensor(name: string, dims: readonly number[], data: ArrayLike<number>, storage: TensorStorage = 'raw-f32'): Pb {
  const t = new Pb();
  for (const d of dims) t.varint(1, d);
  switch (storage) {
    case 'raw-f32':
      return t.varint(2, 1).string(8, name).bytes(9, f32Bytes(data));
    case 'float_data':
      return t.varint(2, 1).bytes(4, f32Bytes(data)).string(8, name);
    case 'raw-f16':
      return t.varint(2, 10).string(8, name).bytes(9, f16Bytes(data));
    case 'int32-f16':
      return t.varint(2, 10).packedVarints(5, Array.from(data, (v) => floatToHalf(v))).string(8, name);
  }
}

export function int64Tensor(name: string, values: readonly number[]): Pb {
  return new Pb().varint(1, values.length).varint(2, 7).string(8, name).packedVarints(7, values);
}

export type Attr = number | readonly number[] | string | { readonly f: number } | { readonly t: Pb };

export function attribute(name: string, v: Attr): Pb {
  const a = new Pb().string(1, name);
  if (typeof v === 'number') return a.varint(3, v).varint(20, 2);
  if (typeof v === 'string') return a.string(4, v).varint(20, 3);
  if ('f' in v) return a.float(2, (v as { f: number }).f).varint(20, 1);
  if ('t' in v) return a.message(5, (v as { t: Pb }).t).varint(20, 4);
  for (const x of v as readonly number[]) a.varint(8, x);
  return a.varint(20, 7);
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attrs?: Readonly<Record<string, Attr>>;
  readonly domain?: string;
}

export function onnxNode(n: NodeSpec): Pb {
  const p = new Pb();
  for (const i of n.inputs) p.string(1, i);
  for (const o of n.outputs) p.string(2, o);
  if (n.name !== undefined) p.string(3, n.name);
  p.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) p.message(5, attribute(k, v));
  if (n.domain !== undefined) p.string(7, n.domain);
  return p;
}

/** A ValueInfoProto of a tensor: `elemType` 1 (FLOAT) unless given, e.g. 10 (FLOAT16). */
export function valueInfo(name: string, dims: readonly (number | string)[], elemType = 1): Pb {
  const shape = new Pb();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Pb().varint(1, d) : new Pb().string(2, d));
  return new Pb().string(1, name).message(2, new Pb().message(1, new Pb().varint(1, elemType).message(2, shape)));
}

export interface GraphSpec {
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly Pb[];
  readonly inputs: readonly Pb[];
  readonly outputs: readonly Pb[];
  readonly opset: number;
  readonly irVersion?: number;
  /** ModelProto.producer_name (default `squeezenet-wasm tests`). */
  readonly producer?: string;
  /** ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export function onnxModel(g: GraphSpec): Uint8Array {
  const graph = new Pb();
  for (const n of g.nodes) graph.message(1, onnxNode(n));
  graph.string(2, 'squeezenet');
  for (const t of g.initializers) graph.message(5, t);
  for (const i of g.inputs) graph.message(11, i);
  for (const o of g.outputs) graph.message(12, o);
  const model = new Pb()
    .varint(1, g.irVersion ?? (g.opset >= 13 ? 7 : 4))
    .string(2, g.producer ?? 'squeezenet-wasm tests')
    .string(3, '1')
    .message(7, graph)
    .message(8, new Pb().string(1, '').varint(2, g.opset));
  for (const [k, v] of Object.entries(g.metadata ?? {})) model.message(14, new Pb().string(1, k).string(2, v));
  return model.finish();
}

export interface SqueezeNetOnnxOptions {
  readonly opset?: number;
  /** How ceil-mode pools are written: ceil_mode 1, or torch's opset < 10 end pads for the declared size. */
  readonly pool?: 'ceil' | 'pads' | 'pads-always' | 'floor';
  /** Initializer and value names: torch-like, or W0, W1, ... */
  readonly names?: 'torch' | 'anon';
  readonly storage?: TensorStorage;
  /** Final pooling: GlobalAveragePool, an AveragePool with the map's size as kernel, or ReduceMean. */
  readonly avg?: 'global' | 'fixed' | 'reducemean';
  readonly flatten?: 'flatten' | 'reshape' | 'none';
  readonly softmax?: boolean;
  readonly dropout?: boolean;
  /** Declared input size, or 'dynamic' for symbolic H and W. */
  readonly input?: readonly [number, number] | 'dynamic';
  /** Write nodes in reverse order (the reader must not depend on topological order). */
  readonly shuffle?: boolean;
  /** List every initializer among the graph's inputs too, as IR version 3 models (the zoo's) do. */
  readonly initializersAsInputs?: boolean;
  /** The image input's name (default `input`). */
  readonly inputName?: string;
}

type Named = ReadonlyMap<string, { readonly data: Float32Array; readonly shape: readonly number[] }>;

/**
 * A SqueezeNet of `arch` as an ONNX graph with the weights given (torchvision names), laid out
 * as torch's exporter does: Conv + Relu, MaxPool, Fire (Conv, Relu, two Conv + Relu, Concat),
 * [Dropout], conv10 + Relu, GlobalAveragePool, Flatten; variants by `options`.
 */
export function squeezenetOnnx(arch: ArchName | Arch, weights: Named, options: SqueezeNetOnnxOptions = {}): Uint8Array {
  return onnxModel(squeezenetGraph(arch, weights, options));
}

/** The graph of {@link squeezenetOnnx}, as plain node objects a test can change before encoding. */
export function squeezenetGraph(arch: ArchName | Arch, weights: Named, options: SqueezeNetOnnxOptions = {}): GraphSpec {
  const opset = options.opset ?? 13;
  const storage = options.storage ?? 'raw-f32';
  const poolStyle = options.pool ?? (opset >= 10 ? 'ceil' : 'pads');
  const table = typeof arch === 'string' ? ARCHS[arch] : arch;
  const size = options.input === 'dynamic' ? undefined : (options.input ?? [table.input, table.input]);
  const p = size ? plan(table, size[0], size[1]) : plan(table);
  const nodes: NodeSpec[] = [];
  const inits: Pb[] = [];
  let counter = 0;
  const anon = options.names === 'anon';
  const value = (hint: string): string => (anon ? `v${counter++}` : `${hint}_${counter++}`);
  let w = 0;
  const param = (name: string): string => {
    const t = weights.get(name);
    if (!t) throw new Error(`no ${name}`);
    const n = anon ? `W${w++}` : name;
    inits.push(onnxTensor(n, t.shape, t.data, storage));
    initNames.push([n, t.shape]);
    return n;
  };
  const conv = (x: string, prefix: string, kernel: number, stride: number, pad: number): string => {
    const out = value(`${prefix}.conv`);
    nodes.push({
      op: 'Conv',
      name: anon ? '' : `/${prefix}/Conv`,
      inputs: [x, param(`${prefix}.weight`), param(`${prefix}.bias`)],
      outputs: [out],
      attrs: { dilations: [1, 1], group: 1, kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride] },
    });
    return out;
  };
  const relu = (x: string, prefix: string): string => {
    const out = value(`${prefix}.relu`);
    nodes.push({ op: 'Relu', name: anon ? '' : `/${prefix}/Relu`, inputs: [x], outputs: [out] });
    return out;
  };
  const inputName = options.inputName ?? 'input';
  const initNames: [string, readonly number[]][] = [];
  let x = inputName;
  for (const row of p.rows) {
    const spec = row.spec;
    if (spec.kind === 'conv') {
      const op = row.convs[0]!;
      if (op.param === 'classifier.1' && options.dropout !== false) {
        const out = value('dropout');
        nodes.push({ op: 'Dropout', name: '/classifier/Dropout', inputs: [x], outputs: [out], ...(opset < 12 ? { attrs: { ratio: { f: 0.5 } } } : {}) });
        x = out;
      }
      x = relu(conv(x, op.param, op.kernel, op.stride, op.pad), op.param);
    } else if (spec.kind === 'maxpool') {
      const [, h, wd] = row.input;
      // torch's symbolic_opset9 `_get_pool_ceil_padding`: the end pad that makes a floor pool ceil.
      const endPad = (n: number): number => {
        if (poolStyle === 'pads-always') return 1;
        const k = spec.size;
        const st = spec.stride;
        let out = Math.ceil((n - k) / st) + 1;
        if ((out - 1) * st >= n) out--;
        const pad = k - (n - ((out - 1) * st + 1));
        return pad >= k ? k - 1 : pad;
      };
      const attrs: Record<string, Attr> =
        poolStyle === 'ceil'
          ? { ceil_mode: 1, kernel_shape: [spec.size, spec.size], pads: [0, 0, 0, 0], strides: [spec.stride, spec.stride] }
          : poolStyle === 'floor'
            ? { kernel_shape: [spec.size, spec.size], strides: [spec.stride, spec.stride] }
            : { kernel_shape: [spec.size, spec.size], pads: [0, 0, endPad(size ? h : 0), endPad(size ? wd : 0)], strides: [spec.stride, spec.stride] };
      const out = value(spec.name);
      nodes.push({ op: 'MaxPool', name: `/${spec.name}/MaxPool`, inputs: [x], outputs: [out], attrs });
      x = out;
    } else if (spec.kind === 'fire') {
      const [sq, e1, e3, by] = row.convs as [typeof row.convs[0], typeof row.convs[0], typeof row.convs[0], typeof row.convs[0] | undefined];
      const s = relu(conv(x, sq!.param, 1, 1, 0), sq!.param);
      const a = relu(conv(s, e1!.param, 1, 1, 0), e1!.param);
      const b = relu(conv(s, e3!.param, 3, 1, 1), e3!.param);
      const cat = value(`${spec.name}.concat`);
      nodes.push({ op: 'Concat', name: `/${spec.name}/Concat`, inputs: [a, b], outputs: [cat], attrs: { axis: 1 } });
      if (spec.bypass) {
        const addend = spec.bypass === 'complex' ? conv(x, by!.param, 1, 1, 0) : x;
        const sum = value(`${spec.name}.add`);
        nodes.push({ op: 'Add', name: `/${spec.name}/Add`, inputs: [cat, addend], outputs: [sum] });
        x = sum;
      } else x = cat;
    } else {
      const out = value('pool');
      const [, h, wd] = row.input;
      if (options.avg === 'fixed') nodes.push({ op: 'AveragePool', inputs: [x], outputs: [out], attrs: { kernel_shape: [h, wd], strides: [1, 1] } });
      else if (options.avg === 'reducemean') nodes.push({ op: 'ReduceMean', inputs: [x], outputs: [out], attrs: { axes: [2, 3], keepdims: 1 } });
      else nodes.push({ op: 'GlobalAveragePool', name: '/classifier/GlobalAveragePool', inputs: [x], outputs: [out] });
      x = out;
    }
  }
  const flatten = options.flatten ?? 'flatten';
  if (flatten === 'flatten') {
    nodes.push({ op: 'Flatten', name: '/Flatten', inputs: [x], outputs: ['flat'], attrs: { axis: 1 } });
    x = 'flat';
  } else if (flatten === 'reshape') {
    inits.push(int64Tensor('shape', [1, -1]));
    nodes.push({ op: 'Reshape', inputs: [x, 'shape'], outputs: ['flat'] });
    x = 'flat';
  }
  if (options.softmax) {
    nodes.push({ op: 'Softmax', name: '/Softmax', inputs: [x], outputs: ['prob'], attrs: { axis: 1 } });
    x = 'prob';
  }
  // Rename the last value to the graph's output name.
  const last = nodes[nodes.length - 1]!;
  nodes[nodes.length - 1] = { ...last, outputs: ['logits'] };
  const dims: (number | string)[] = size ? [1, 3, size[0], size[1]] : ['N', 3, 'H', 'W'];
  return {
    nodes: options.shuffle ? [...nodes].reverse() : nodes,
    initializers: inits,
    inputs: [valueInfo(inputName, dims), ...(options.initializersAsInputs ? initNames.map(([n, d]) => valueInfo(n, d)) : [])],
    outputs: [valueInfo('logits', flatten === 'none' ? [1, 1000, 1, 1] : [1, 1000])],
    opset,
  };
}
