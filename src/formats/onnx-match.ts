// Matching an ONNX graph (an OnnxModel, see ./onnx-read.ts) to a SqueezeNet: torchvision
// exports, the ONNX model zoo's Caffe2 and MXNet conversions, float16 conversions, whatever their
// tensor names. The graph is walked from its input and matched layer by layer against the arch
// tables, and the convolution weights are taken in that order.
//
//   input -> [Cast] -> Conv -> Relu -> MaxPool -> Fire ... -> [Dropout] -> Conv -> Relu
//         -> global average -> [Flatten | Reshape | Squeeze] -> [Softmax] -> [Cast]
//   Fire:  x -> Conv 1x1 -> Relu -+-> Conv 1x1 -> Relu -+-> Concat(axis 1) [-> Add(x or Conv 1x1(x))]
//                                 +-> Conv 3x3 -> Relu -+
//
// Every attribute that changes the arithmetic (kernel_shape, strides, pads, dilations, group,
// auto_pad, ceil_mode) is read and checked. Max pools are taken as the graph spells them (ceil or
// floor, end pads), conv10 with any number of classes, weights through Identity and Cast nodes;
// the result is a built-in network or a table derived from one (`withClasses`, other pools). A
// graph this engine cannot run exactly is a FormatError naming the node and the operator or
// attribute.

import {
  ARCHS,
  ARCH_NAMES,
  archOrName,
  classifierSpec,
  describeArch,
  poolRounding,
  withClasses,
  type Arch,
  type ArchName,
  type AvgPoolSpec,
  type LayerSpec,
  type MaxPoolSpec,
} from '../arch.js';
import { FormatError } from '../errors.js';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { plan, poolOutSize } from '../plan.js';
import { toBytes, type DecodedTensor, type DecodedWeights } from './common.js';
import {
  BFLOAT16,
  FLOAT,
  FLOAT16,
  ONNX_FORMAT_NAME,
  readOnnx,
  tensorFloats,
  tensorInts,
  typeName,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-read.js';
import { ProtoBuffer } from './protobuf.js';
import { inferRecipe } from './recipe.js';

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
  | { readonly kind: 'maxpool'; readonly node: OnnxNode; readonly size: number; readonly stride: number; readonly ceil: boolean; readonly padEnd?: readonly [number, number] }
  | {
      readonly kind: 'fire';
      readonly squeeze: ConvLayer;
      readonly e1: ConvLayer;
      readonly e3: ConvLayer;
      readonly bypass?: 'simple' | 'complex';
      readonly bypassConv?: ConvLayer;
    }
  | { readonly kind: 'avgpool'; readonly node: OnnxNode; readonly window?: readonly [number, number] };

/** What the network's output is: logits as `run()` returns them, or the graph's Softmax of them. */
export type OnnxHead = 'logits' | 'softmax' | 'log-softmax';

/** A SqueezeNet read from an ONNX file. */
export interface OnnxSqueezeNet extends DecodedWeights {
  readonly format: 'onnx';
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
   * Set when the graph's average pool is an AveragePool whose window is the final map of this
   * (declared) input size: the global average there and at any size ending in a map of the same
   * size, not elsewhere. The model is planned at this size; `run()` refuses sizes whose final map
   * is another with an InputError.
   */
  readonly fixedInputSize?: readonly [number, number];
  /** The default-domain opset, 0 when the model names none. */
  readonly opset: number;
  readonly irVersion: number;
  readonly producer: string;
  /** The model's metadata_props. */
  readonly metadata: ReadonlyMap<string, string>;
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
  /** Values that are a constant through Identity or Cast nodes: value -> how, for notes. */
  private readonly aliases = new Map<string, string>();
  private readonly consumers = new Map<string, OnnxNode[]>();
  private readonly graphOutputs: Set<string>;
  readonly notes: string[] = [];

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
    }
    // torch's exporter folds equal initializers into one, read through Identity nodes; float16
    // converters leave FLOAT16 initializers behind Cast(to FLOAT) nodes. Both are the constant
    // itself (a Cast to float32 widens float16 exactly). Chains resolve in as many passes.
    for (let changed = true; changed; ) {
      changed = false;
      for (const n of g.nodes) {
        const out = n.outputs[0];
        const src = n.inputs[0];
        if (n.domain !== '' || out === undefined || src === undefined || this.constants.has(out) || n.inputs.length !== 1) continue;
        const t = this.constants.get(src);
        if (t === undefined) continue;
        if (n.opType === 'Identity') {
          this.constants.set(out, t);
          this.aliases.set(out, `${JSON.stringify(out)} is ${JSON.stringify(t.name)} through Identity`);
          changed = true;
        } else if (n.opType === 'Cast') {
          const to = n.attributes.get('to')?.i;
          const widening = to === FLOAT && (t.dataType === FLOAT || t.dataType === FLOAT16 || t.dataType === BFLOAT16);
          if (!widening && !(to === t.dataType)) continue; // left for constant() to report
          this.constants.set(out, t);
          this.aliases.set(out, `${JSON.stringify(out)} is ${typeName(t.dataType)} ${JSON.stringify(t.name)} cast to ${typeName(to ?? 0)}`);
          changed = true;
        }
      }
    }
    for (const n of g.nodes) {
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
      const producer = this.model.graph.nodes.find((x) => x.outputs.includes(value));
      if (producer?.opType === 'Cast') {
        throw this.fail(n, `${what} ${JSON.stringify(value)} is a Cast to ${typeName(producer.attributes.get('to')?.i ?? 0)}; weights load through a Cast to FLOAT only`);
      }
      throw this.fail(n, `${what} ${JSON.stringify(value)} is not an initializer or a Constant, nor one through Identity or Cast (weights computed in the graph are not supported)`);
    }
    return t;
  }

  /** How many weights were read through Identity or Cast nodes, and an example, for the notes. */
  aliasNote(used: readonly string[]): string | undefined {
    const through = used.filter((v) => this.aliases.has(v));
    if (through.length === 0) return undefined;
    const cast = through.some((v) => this.aliases.get(v)!.includes(' cast to '));
    return `${through.length} weight tensor${through.length === 1 ? ' is' : 's are'} read through ${cast ? 'Cast' : 'Identity'} nodes (e.g. ${this.aliases.get(through[0]!)})${cast ? ', widened exactly to float32' : ''}`;
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

  /**
   * MaxPool: its window and stride, and how it rounds, normalised: `ceil` or `floor` when the
   * graph's ceil_mode and end pads give that at every input size, else the graph's own spelling
   * (ceil_mode and end pads), which the engine runs as it is (`MaxPoolSpec.padEnd`).
   */
  maxpool(n: OnnxNode): { size: number; stride: number; ceil: boolean; padEnd?: [number, number] } {
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
    if (pads[2]! >= size || pads[3]! >= size) {
      throw this.fail(n, `attribute pads [${pads.join(', ')}]: an end pad as wide as the ${size}x${size} window gives windows of padding only`);
    }
    const same = (asCeil: boolean): boolean => {
      for (let len = size; len <= 1024; len++) {
        for (const end of [pads[2]!, pads[3]!]) {
          if (onnxPoolOut(len, size, stride, 0, end, ceil) !== poolOutSize(len, size, stride, 0, asCeil)) return false;
        }
      }
      return true;
    };
    if (same(true)) return { size, stride, ceil: true };
    if (same(false)) return { size, stride, ceil: false };
    return { size, stride, ceil, padEnd: [pads[2]!, pads[3]!] };
  }
}

const matches = (step: Step, spec: LayerSpec, classifier: boolean): boolean => {
  switch (spec.kind) {
    case 'conv':
      // conv10's filters are the classes: any number matches (see withClasses)
      return step.kind === 'conv' && (classifier || step.conv.outC === spec.out) && step.conv.kernel === spec.kernel && step.conv.stride === spec.stride && step.conv.pad === spec.pad;
    case 'maxpool':
      // any rounding: the arch takes the graph's (see archFor)
      return step.kind === 'maxpool' && step.size === spec.size && step.stride === spec.stride;
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
 * Matches an ONNX model to a SqueezeNet: walks the graph from its image input, recognises
 * conv + Relu, MaxPool, the Fire pattern (with Section 6's bypass Add), the final conv, the
 * global average (GlobalAveragePool, or AveragePool / ReduceMean over the whole map), Flatten /
 * Reshape / Squeeze and a final Softmax; Dropout, Identity and float Casts pass through. The
 * layers must be those of one of {@link ARCHS} (v1.0 has conv10 pads 0, v1.0-caffe 1), with
 * conv10 for any number of classes and max pools rounding as the graph says; the weights come
 * back under torchvision's names, whatever the file calls them, and the recipe with the
 * evidence for it (metadata_props `recipe`; Caffe's form, a 227 input, a Caffe producer, the
 * zoo's `data_0` input name; else torchvision's, as a guess).
 *
 * Anything else (another operator, grouped or dilated convolutions, a concat in the other order,
 * external data, an unsupported data type) is a {@link FormatError} naming the node, the
 * operator or attribute and the byte offset of the node.
 */
export function matchOnnx(model: OnnxModel): OnnxSqueezeNet {
  const b = model.bytes;
  const p = new ProtoBuffer(b, ONNX_FORMAT_NAME);
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
  if (input.elemType !== 0 && input.elemType !== FLOAT && input.elemType !== FLOAT16) {
    throw p.fail(`input ${input.name} is ${typeName(input.elemType)}; only FLOAT and FLOAT16 inputs are supported`, 0);
  }
  if (input.elemType === FLOAT16) {
    notes.push(`the graph's input ${input.name} is FLOAT16: run() takes float32 values and uses them as they are, without rounding them to float16`);
  }
  if (input.shape && (shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3))) {
    throw p.fail(`input ${input.name} has shape [${shape.map(String).join(', ')}], expected [N, 3, H, W]`, 0);
  }
  let hw: [number, number] | undefined =
    typeof shape[2] === 'number' && typeof shape[3] === 'number' && shape[2] > 0 && shape[3] > 0 ? [shape[2], shape[3]] : undefined;
  const declared = hw;
  let floatCast = false;

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
      case 'Cast': {
        m.attrs(n, ['to', 'saturate']);
        const to = m.int(n, 'to', 0);
        if (to !== FLOAT && to !== FLOAT16 && to !== BFLOAT16) throw m.fail(n, `a Cast to ${typeName(to)} on the way through the network: only float casts are supported`);
        floatCast = true;
        cur = n.outputs[0]!;
        break;
      }
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
        const r = m.maxpool(n);
        steps.push({ kind: 'maxpool', node: n, size: r.size, stride: r.stride, ceil: r.ceil, ...(r.padEnd ? { padEnd: r.padEnd } : {}) });
        if (hw) {
          const [eh, ew] = r.padEnd ?? [0, 0];
          hw = [poolOutSize(hw[0], r.size, r.stride, 0, r.ceil, eh), poolOutSize(hw[1], r.size, r.stride, 0, r.ceil, ew)];
          if (hw[0] < 1 || hw[1] < 1) throw m.fail(n, 'the declared input is too small: this pool has no output');
        }
        cur = n.outputs[0]!;
        break;
      }
      case 'GlobalAveragePool':
      case 'AveragePool':
      case 'ReduceMean': {
        if (pooled) throw m.fail(n, 'a second average pool');
        let window: [number, number] | undefined;
        if (n.opType === 'AveragePool') {
          m.attrs(n, ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'count_include_pad', 'auto_pad']);
          const ks = m.ints(n, 'kernel_shape', 2, 0);
          const pads = m.ints(n, 'pads', 4, 0);
          if (pads.some((v) => v !== 0)) throw m.fail(n, `attribute pads [${pads.join(', ')}]: only an average over the whole map is supported`);
          if (!hw) throw m.fail(n, `AveragePool with kernel_shape [${ks.join(', ')}] averages the whole map at one input size only, and the graph's input has no fixed size`);
          if (ks[0] !== hw[0] || ks[1] !== hw[1]) {
            throw m.fail(n, `attribute kernel_shape [${ks.join(', ')}] is not the whole ${hw[0]}x${hw[1]} map: only a global average is supported`);
          }
          window = [ks[0]!, ks[1]!];
        } else if (n.opType === 'ReduceMean') {
          m.attrs(n, ['axes', 'keepdims', 'noop_with_empty_axes']);
          let axes = n.attributes.get('axes')?.ints ?? [];
          if (n.inputs[1]) axes = tensorInts(p, m.constant(n, n.inputs[1], 'axes'));
          const sorted = axes.map((a) => (a < 0 ? a + 4 : a)).sort();
          if (sorted.length !== 2 || sorted[0] !== 2 || sorted[1] !== 3) throw m.fail(n, `attribute axes [${axes.join(', ')}]: only the mean over H and W (axes 2, 3) is supported`);
        } else {
          m.attrs(n, []);
        }
        steps.push({ kind: 'avgpool', node: n, ...(window ? { window } : {}) });
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
  let base: ArchName | undefined;
  for (const name of ARCH_NAMES) {
    const layers = ARCHS[name].layers;
    const classifier = classifierSpec(ARCHS[name]);
    let i = 0;
    while (i < layers.length && i < steps.length && matches(steps[i]!, layers[i]!, layers[i] === classifier)) i++;
    if (i === layers.length && i === steps.length) {
      base = name;
      break;
    }
    if (i > best.at) best = { arch: name, at: i };
  }
  if (base === undefined) {
    const step = steps[best.at];
    const where = step ? stepNode(step) : undefined;
    throw p.fail(
      `the graph is not a SqueezeNet this engine has: closest is ${best.arch}, which agrees on the first ${best.at} layers; then the graph has ${describeStep(step)}, ${best.arch} has ${describeSpec(ARCHS[best.arch].layers[best.at])}`,
      where?.offset ?? 0,
      where ? label(where) : undefined,
    );
  }
  const table = archFor(ARCHS[base], steps);
  const arch = archOrName(table);

  // The weights, in the plan's order, under torchvision's names.
  const convs = steps.flatMap((s) => (s.kind === 'conv' ? [s.conv] : s.kind === 'fire' ? [s.squeeze, s.e1, s.e3, ...(s.bypassConv ? [s.bypassConv] : [])] : []));
  const ops = plan(table, ...(declared ?? [])).convs;
  const weights = new Map<string, DecodedTensor>();
  convs.forEach((c, i) => {
    const op = ops[i]!;
    const wShape = [op.outC, op.inC, op.kernel, op.kernel];
    if (c.weight.dims.join() !== wShape.join()) throw m.fail(c.node, `weight dims [${c.weight.dims.join(', ')}], ${describeArch(table)} ${op.name} has [${wShape.join(', ')}]`);
    weights.set(`${op.param}.weight`, { data: tensorFloats(p, c.weight), shape: wShape });
    weights.set(`${op.param}.bias`, { data: c.bias ? tensorFloats(p, c.bias) : new Float32Array(op.outC), shape: [op.outC] });
  });
  const aliased = m.aliasNote(convs.flatMap((c) => [c.node.inputs[1]!, ...(c.node.inputs[2] ? [c.node.inputs[2]] : [])]));
  if (aliased) notes.push(aliased);
  const halves = convs.flatMap((c) => [c.weight, ...(c.bias ? [c.bias] : [])]).filter((t) => t.dataType === FLOAT16 || t.dataType === BFLOAT16);
  if (halves.length > 0) notes.push(`${halves.length} weight tensor${halves.length === 1 ? ' is' : 's are'} ${typeName(halves[0]!.dataType)}, widened exactly to float32`);
  if (floatCast) notes.push('the graph casts its activations between float types: this engine computes in float32 throughout');
  const output = g.outputs.find((o) => o.name === cur);
  if (output?.elemType === FLOAT16) notes.push(`the graph's output ${cur} is FLOAT16: run() returns float32 logits`);
  const classes = classifierSpec(table).out;
  if (classes !== 1000) notes.push(`conv10 has ${classes} filter${classes === 1 ? '' : 's'}: ${classes} class${classes === 1 ? '' : 'es'}, not ImageNet's 1000`);
  for (const s of steps) {
    if (s.kind === 'maxpool' && s.padEnd) {
      const at = declared ? ` (at the declared ${declared[0]}x${declared[1]} input it rounds up, as torch's exports before opset 10 spell a ceil-mode pool)` : '';
      notes.push(`${label(s.node)} rounds ${poolRounding({ kind: 'maxpool', name: '', size: s.size, stride: s.stride, ceil: s.ceil, padEnd: s.padEnd })}${at}; it runs as the graph spells it at every size`);
    }
  }
  const fixed = steps.find((s): s is Extract<Step, { kind: 'avgpool' }> => s.kind === 'avgpool')?.window;
  if (fixed && declared) {
    notes.push(`the final AveragePool's ${fixed[0]}x${fixed[1]} window is the whole map at the declared ${declared[0]}x${declared[1]} input: sizes that end in another map are refused`);
  }

  // The preprocessing: metadata, else evidence of Caffe training, else torchvision's (a guess).
  const evidence: string[] = [];
  if (declared && declared[0] === 227 && declared[1] === 227) evidence.push("the graph's input is 227x227, Caffe's crop");
  if (/caffe/i.test(model.producerName)) evidence.push(`the producer is ${model.producerName}`);
  if (input.name === 'data_0') evidence.push('the input is named data_0, as in the model zoo\'s Caffe2 conversions');
  const recipe = inferRecipe(table, model.metadata.get('recipe'), evidence);
  notes.push(...recipe.notes);

  const outputIsProbabilities = head === 'softmax';
  return {
    format: 'onnx',
    arch,
    weights,
    recipe: recipe.recipe,
    recipeSource: recipe.recipeSource,
    input: { name: input.name, shape },
    output: cur,
    head,
    outputIsProbabilities,
    ...(fixed && declared ? { fixedInputSize: declared } : {}),
    opset,
    irVersion: model.irVersion,
    producer: `${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''}`,
    metadata: model.metadata,
    notes,
  };
}

/**
 * The built-in network `base` as the graph has it: conv10 with the graph's number of classes,
 * each max pool rounding as the graph's does, the average pool's fixed window if it has one.
 */
function archFor(base: Arch, steps: readonly Step[]): Arch {
  const classes = steps.filter((s): s is Extract<Step, { kind: 'conv' }> => s.kind === 'conv').at(-1)!.conv.outC;
  const withN = withClasses(base, classes);
  let changed = false;
  const layers = withN.layers.map((l, i): LayerSpec => {
    const s = steps[i]!;
    if (l.kind === 'maxpool' && s.kind === 'maxpool' && (s.ceil !== l.ceil || s.padEnd !== undefined)) {
      changed = true;
      const pool: MaxPoolSpec = { kind: 'maxpool', name: l.name, size: l.size, stride: l.stride, ceil: s.ceil, ...(s.padEnd ? { padEnd: s.padEnd } : {}) };
      return pool;
    }
    if (l.kind === 'avgpool' && s.kind === 'avgpool' && s.window) {
      changed = true;
      const avg: AvgPoolSpec = { ...l, window: s.window };
      return avg;
    }
    return l;
  });
  if (!changed) return withN;
  const pools = steps.filter((s): s is Extract<Step, { kind: 'maxpool' }> => s.kind === 'maxpool');
  const kinds = [...new Set(pools.map((s) => (s.ceil ? 'ceil' : 'floor') + (s.padEnd ? ' with end pads' : '')))];
  return { ...withN, description: `${withN.description}, as an ONNX graph has it (max pools ${kinds.join(' and ')})`, layers };
}

/**
 * Reads an ONNX SqueezeNet ({@link readOnnx}, then {@link matchOnnx}): the network, its weights
 * under torchvision's names and the recipe.
 */
export function decodeOnnx(bytes: Uint8Array | ArrayBuffer): OnnxSqueezeNet {
  return matchOnnx(readOnnx(toBytes(bytes, 'an ONNX file')));
}

/**
 * Reads an ONNX SqueezeNet and loads it: the arch from the graph, the weights from its
 * initializers, the recipe as {@link decodeOnnx} infers it (`options.recipe` overrides it), so
 * `classify(model, pixels)` preprocesses as the weights expect. `run()` returns logits even
 * when the graph ends in Softmax. A graph with a fixed average window is planned at its
 * declared size.
 */
export async function loadOnnx(bytes: Uint8Array | ArrayBuffer, options: Omit<LoadOptions, 'arch' | 'weights'> = {}): Promise<SqueezeNet> {
  const r = decodeOnnx(bytes);
  return SqueezeNet.load({
    ...(r.fixedInputSize ? { inputSize: r.fixedInputSize } : {}),
    ...options,
    arch: r.arch,
    weights: r.weights,
    recipe: options.recipe ?? r.recipe,
  });
}
