// `squeezenet compare A B`: two trace files (safetensors or .npz, written by `squeezenet trace`,
// fixtures/export_trace.py, or anyone in the same layout) layer by layer.

import { imagenetClass } from 'squeezenet-wasm';
import { parseArgs, UsageError, usageErrorText } from './args.js';
import { readTraceFile, TraceFileError, type Trace, type TraceTensor } from './trace-file.js';

export const DEFAULT_RTOL = 1e-5;

const HELP = `Usage: squeezenet compare [options] A B

Compares two trace files (written by \`squeezenet trace\`, fixtures/export_trace.py,
or anything writing the same layout: README, "Conformance kit"), safetensors or .npz,
told apart by their bytes, tensor by tensor with the same name:

  max abs     the largest |a - b|
  max rel     max abs / the layer's largest magnitude, max(max|A|, max|B|)
  cosine      a.b / (|a| |b|), in float64
  first diff  the first NCHW index (C order) where |a - b| > rtol x that magnitude;
              in a layer within the tolerance, the first index whose values differ
              at all, marked ~ (- when the tensors are identical)

A layer passes when max rel <= rtol. A position where both values are NaN is not
compared (a golden file that leaves positions out with NaN matches a dump that
writes NaN there too); NaN against a number, or an infinity against anything else,
is an infinite difference, so an engine's NaN never passes against a number. When the last layer
both files hold is a class vector (NxC or NxCx1x1), its top-1 class is shown for
each. Layers in only one file are listed, not fatal (with --require-all, a layer of
A missing from B fails). A shape that differs is
reported for that layer and fails it, unless the two differ only by dimensions of
size 1 (e.g. 1x1000 against 1x1000x1x1): then the values are compared and the
shapes noted.

Options:
  --rtol R         the tolerance (default 1e-5)
  --require-all    every layer of A must be in B too (for a CI that must catch an
                   engine skipping layers)
  --json           one JSON object: {a, b, metadataA, metadataB, rtol, pass, layers:
                   [{name, shape, shapeB, status, maxAbs, maxRel, scale, cosine,
                   compared, over, firstDiff, firstDiffOver}], onlyInA, onlyInB,
                   requireAll, top1}
  -h, --help       this text

Exit codes: 0 every common layer within rtol, 1 a layer over rtol or of another
shape (or no layer in common, or with --require-all one of A's missing from B),
2 usage or a file that cannot be read.`;

export interface LayerComparison {
  readonly name: string;
  /** A's shape; `shapeB` too when B's differs. */
  readonly shape: readonly number[];
  readonly shapeB?: readonly number[];
  /** `ok`, `over` (max rel above rtol), `shape` (shapes differ: values not compared). */
  readonly status: 'ok' | 'over' | 'shape';
  readonly maxAbs?: number;
  readonly maxRel?: number;
  /** max(max|A|, max|B|), the scale of the relative difference. */
  readonly scale?: number;
  readonly cosine?: number;
  /** Elements compared: all but the positions where both are NaN. */
  readonly compared?: number;
  /** Elements with |a - b| > rtol x scale. */
  readonly over?: number;
  /** The first NCHW index over the tolerance, if any. */
  readonly firstDiffOver?: number[];
  /** The first NCHW index whose values differ at all, if any. */
  readonly firstDiff?: number[];
}

export interface Top1 {
  readonly layer: string;
  readonly a: { index: number; label?: string }[];
  readonly b: { index: number; label?: string }[];
  readonly same: boolean;
}

export interface TraceComparison {
  readonly rtol: number;
  readonly pass: boolean;
  readonly layers: LayerComparison[];
  readonly onlyInA: string[];
  readonly onlyInB: string[];
  /** Whether a layer of A missing from B fails the comparison. */
  readonly requireAll: boolean;
  readonly top1?: Top1;
}

/** NCHW (or any C-order shape) coordinates of flat index `i`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    out[d] = n === 0 ? 0 : i % n;
    i = n === 0 ? 0 : Math.floor(i / n);
  }
  return out;
}

const squeezeOnes = (s: readonly number[]): string => s.filter((d) => d !== 1).join('x');

/**
 * One tensor against another. A NaN against a number, or an infinity against anything else,
 * is an infinite difference; two equal infinities do not differ, and a position where both
 * are NaN is not compared (no difference, left out of the cosine), so NaN can mask positions.
 */
export function compareTensors(name: string, a: TraceTensor, b: TraceTensor, rtol: number): LayerComparison {
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  const shapeB = sameShape ? {} : { shapeB: b.shape };
  if (!sameShape && (a.data.length !== b.data.length || squeezeOnes(a.shape) !== squeezeOnes(b.shape))) {
    return { name, shape: a.shape, ...shapeB, status: 'shape' };
  }
  const x = a.data;
  const y = b.data;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    const ax = Math.abs(x[i]!);
    const ay = Math.abs(y[i]!);
    if (ax === ax && ax !== Infinity && ax > scale) scale = ax;
    if (ay === ay && ay !== Infinity && ay > scale) scale = ay;
  }
  const bound = rtol * scale;
  let maxAbs = 0;
  let over = 0;
  let first = -1;
  let firstOver = -1;
  let compared = 0;
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    const u = x[i]!;
    const v = y[i]!;
    let d: number;
    if (u === v || (u !== u && v !== v)) d = 0;
    else if (u !== u || v !== v || !Number.isFinite(u) || !Number.isFinite(v)) d = Infinity;
    else d = Math.abs(u - v);
    if (d > 0 && first < 0) first = i;
    if (d > maxAbs) maxAbs = d;
    if (d > bound) {
      over++;
      if (firstOver < 0) firstOver = i;
    }
    if (u !== u && v !== v) continue; // both NaN: not compared (a masked position)
    compared++;
    dot += u * v;
    nx += u * u;
    ny += v * v;
  }
  const cosine = nx === 0 && ny === 0 ? 1 : nx === 0 || ny === 0 ? 0 : dot / Math.sqrt(nx * ny);
  const maxRel = maxAbs === 0 ? 0 : scale === 0 ? Infinity : maxAbs / scale;
  return {
    name,
    shape: a.shape,
    ...shapeB,
    status: over > 0 ? 'over' : 'ok',
    maxAbs,
    maxRel,
    scale,
    cosine,
    compared,
    over,
    ...(firstOver >= 0 ? { firstDiffOver: unravel(firstOver, a.shape) } : {}),
    ...(first >= 0 ? { firstDiff: unravel(first, a.shape) } : {}),
  };
}

/** The tensor names of a trace in forward order: its `layers` metadata when that names them all, else file order. */
export function layerOrder(t: Trace): string[] {
  const listed = (t.metadata.layers ?? '').split(',').filter((n) => t.tensors.has(n));
  const rest = [...t.tensors.keys()].filter((n) => !listed.includes(n));
  return [...listed, ...rest];
}

/**
 * Top-1 per batch item of an [N, C, ...] tensor (over C, at the first spatial position), read
 * with `shape` (A's, for a B whose shape differs only by 1s, such as 1000x1x1 for 1x1000x1x1).
 */
function top1Of(t: TraceTensor, shape: readonly number[] = t.shape): { index: number; label?: string }[] {
  const [n = 1, c = t.data.length] = shape.length >= 2 ? shape : [1, t.data.length];
  const inner = c === 0 ? 0 : t.data.length / (n * c);
  const out: { index: number; label?: string }[] = [];
  for (let k = 0; k < n; k++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let ch = 0; ch < c; ch++) {
      const v = t.data[(k * c + ch) * inner]!;
      if (v > bestValue) {
        bestValue = v;
        best = ch;
      }
    }
    out.push(c === 1000 && best >= 0 ? { index: best, label: imagenetClass(best).name } : { index: best });
  }
  return out;
}

/** Compares every tensor A and B share, in A's order; see the command's help for the measures. */
export function compareTraces(a: Trace, b: Trace, rtol = DEFAULT_RTOL, requireAll = false): TraceComparison {
  const order = layerOrder(a);
  const common = order.filter((n) => b.tensors.has(n));
  const layers = common.map((n) => compareTensors(n, a.tensors.get(n)!, b.tensors.get(n)!, rtol));
  const onlyInA = order.filter((n) => !b.tensors.has(n));
  const onlyInB = layerOrder(b).filter((n) => !a.tensors.has(n));
  // A class vector: [N, C] or [N, C, 1, 1] (avgpool10, logits).
  const classVector = (s: readonly number[]): boolean => s.length >= 2 && s.slice(2).every((d) => d === 1);
  const last = [...layers].reverse().find((l) => l.status !== 'shape');
  if (last !== undefined && !classVector(last.shape)) return finish(undefined);
  function finish(top1: Top1 | undefined): TraceComparison {
    const pass = layers.length > 0 && layers.every((l) => l.status === 'ok') && !(requireAll && onlyInA.length > 0);
    return { rtol, pass, layers, onlyInA, onlyInB, requireAll, ...(top1 ? { top1 } : {}) };
  }
  if (last === undefined) return finish(undefined);
  const ta = top1Of(a.tensors.get(last.name)!);
  const tb = top1Of(b.tensors.get(last.name)!, last.shape);
  return finish({ layer: last.name, a: ta, b: tb, same: ta.length === tb.length && ta.every((t, i) => t.index === tb[i]!.index) });
}

const num = (v: number): string => (v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v));
// Near 1 the digits that matter are in 1 - cosine: 1-2.3e-13.
const cos = (v: number | undefined): string =>
  v === undefined ? '' : Number.isNaN(v) ? 'nan' : v === 1 ? '1' : v > 0.999 ? `1-${(1 - v).toExponential(1)}` : v.toFixed(6);
const exp = (v: number | undefined): string => (v === undefined ? '' : v === 0 ? '0' : v === Infinity ? 'inf' : v.toExponential(2));
const idx = (l: LayerComparison): string =>
  l.firstDiffOver ? `[${l.firstDiffOver.join(',')}]` : l.firstDiff ? `~[${l.firstDiff.join(',')}]` : l.status === 'shape' ? '' : '-';

function describeFile(path: string, t: Trace): string {
  const m = t.metadata;
  const parts = [t.format, m.generator, m.arch, m.recipe, m.input_size, m.weights_sha256 ? `weights sha256 ${m.weights_sha256.slice(0, 12)}` : undefined];
  return `${path} (${parts.filter((p) => p !== undefined && p !== '').join(', ')})`;
}

/** The table `squeezenet compare` prints. */
export function formatComparison(r: TraceComparison, pathA: string, a: Trace, pathB: string, b: Trace): string {
  const lines = [`A: ${describeFile(pathA, a)}`, `B: ${describeFile(pathB, b)}`, ''];
  const head = ['layer', 'shape', 'max abs', 'max rel', 'cosine', 'first diff', ''];
  const rows = r.layers.map((l) => [
    l.name,
    l.shape.join('x'),
    exp(l.maxAbs),
    exp(l.maxRel),
    cos(l.cosine),
    idx(l),
    l.status === 'ok'
      ? l.shapeB
        ? `ok (B is ${l.shapeB.join('x')})`
        : 'ok'
      : l.status === 'over'
        ? `OVER (${l.over} values)`
        : `SHAPE: B is ${l.shapeB!.join('x')}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = [false, false, true, true, true, false, false];
  const fmt = (row: string[]): string => row.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  lines.push(fmt(head), ...rows.map(fmt));
  lines.push('');
  if (r.top1) {
    const show = (t: { index: number; label?: string }[]): string => t.map((x) => `${x.index}${x.label ? ` ${x.label}` : ''}`).join(', ');
    lines.push(`top-1 of ${r.top1.layer}: A ${show(r.top1.a)}; B ${show(r.top1.b)}${r.top1.same ? ' (the same)' : ' (DIFFERENT)'}`);
  }
  if (r.onlyInA.length) lines.push(`only in A: ${r.onlyInA.join(', ')}${r.requireAll ? ' (MISSING from B: --require-all)' : ''}`);
  if (r.onlyInB.length) lines.push(`only in B: ${r.onlyInB.join(', ')}`);
  const bad = r.layers.filter((l) => l.status !== 'ok');
  // Every later layer differs when the inputs do: that is the finding, not the layers.
  if (bad[0]?.name === 'input') lines.push('the inputs differ, so every later layer differs too: give both engines the same input (squeezenet trace --input-from)');
  if (r.layers.length === 0) lines.push('no tensor name in common: nothing compared');
  else if (bad.length === 0 && !r.pass) lines.push(`${r.layers.length} layers compared: all within rtol ${num(r.rtol)}, but ${r.onlyInA.length} of A's missing from B`);
  else if (bad.length === 0) lines.push(`${r.layers.length} layers compared: all within rtol ${num(r.rtol)}`);
  else lines.push(`${r.layers.length} layers compared: ${bad.length} not within rtol ${num(r.rtol)}, the first ${bad[0]!.name}`);
  return lines.join('\n');
}

const jsonNumber = (v: number | undefined): number | string | undefined => (v === undefined || Number.isFinite(v) ? v : String(v));

export async function compareCommand(argv: string[]): Promise<number> {
  let args;
  let rtol = DEFAULT_RTOL;
  try {
    args = parseArgs(argv, ['rtol'], ['json', 'help', 'require-all']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const r = args.flags.get('rtol');
    if (r !== undefined) {
      rtol = Number(r);
      if (r === true || r.trim() === '' || !Number.isFinite(rtol) || rtol < 0) throw new UsageError(`--rtol must be a number >= 0, got ${String(r)}`);
    }
    if (args.positionals.length !== 2) throw new UsageError(`two trace files are needed, got ${args.positionals.length}`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('compare', e, HELP));
      return 2;
    }
    throw e;
  }
  const [pathA, pathB] = args.positionals as [string, string];
  let a: Trace;
  let b: Trace;
  try {
    a = readTraceFile(pathA);
    b = readTraceFile(pathB);
  } catch (e) {
    if (!(e instanceof TraceFileError)) throw e;
    process.stderr.write(`squeezenet compare: ${e.message}\n`);
    return 2;
  }
  const r = compareTraces(a, b, rtol, args.flags.has('require-all'));
  if (args.flags.has('json')) {
    const layers = r.layers.map((l) => ({ ...l, maxAbs: jsonNumber(l.maxAbs), maxRel: jsonNumber(l.maxRel), cosine: jsonNumber(l.cosine) }));
    process.stdout.write(`${JSON.stringify({ a: pathA, b: pathB, metadataA: a.metadata, metadataB: b.metadata, ...r, layers })}\n`);
  } else {
    process.stdout.write(`${formatComparison(r, pathA, a, pathB, b)}\n`);
  }
  return r.pass ? 0 : 1;
}
