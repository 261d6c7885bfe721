// Reads the PyTorch fixtures written by fixtures/export.py (format: fixtures/README.md). The
// benchmark reads them with it too, from dist/test/, so fixtures/ is found from the package root.
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { halfTable } from '../src/formats/common.js';

/** The repository root: the nearest directory above this file whose package.json is ours. */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'squeezenet-wasm') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no squeezenet-wasm package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();
export const FIXTURES = join(ROOT, 'fixtures');
const MAGIC = 'SQZF';
const VERSION = 1;
export const REGENERATE = 'regenerate them with `/usr/bin/python3 fixtures/export.py` (see fixtures/README.md)';

export interface DenseTensor {
  readonly name: string;
  readonly shape: number[];
  readonly storage: 'dense';
  readonly data: Float32Array;
}
export interface SampledTensor {
  readonly name: string;
  readonly shape: number[];
  readonly storage: 'sampled';
  readonly indices: Uint32Array;
  readonly values: Float32Array;
  readonly sum: number;
  readonly sumAbs: number;
}
export type FixtureTensor = DenseTensor | SampledTensor;

export interface FixtureCase {
  readonly file: string;
  readonly arch: string;
  readonly weights: string;
  readonly input: number[];
  readonly layers: string[];
  readonly shapes: Record<string, number[]>;
  readonly ceil_edge_pools?: string[];
  readonly storage: 'dense' | 'sampled';
  /** Section 5 metaparameters, for cases of the v1.0 layout with other Fire sizes. */
  readonly meta?: { baseE: number; incrE: number; freq: number; pct3x3: number; sr: number };
  /** `floor`: every max pool rounds down (torchvision's ceil_mode=False); default ceil. */
  readonly maxpool?: 'ceil' | 'floor';
  /** conv10's filters when not ImageNet's 1000 (a fine-tuned network). */
  readonly classes?: number;
}
export interface Manifest {
  readonly version: number;
  readonly seed: number;
  readonly weights: Record<string, string>;
  readonly cases: FixtureCase[];
}

export function readManifest(): Manifest {
  const path = join(FIXTURES, 'manifest.json');
  if (!existsSync(path)) throw new Error(`fixtures/manifest.json is missing: ${REGENERATE}`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (m.version !== VERSION) throw new Error(`fixtures/manifest.json is version ${m.version}, this reader wants ${VERSION}: ${REGENERATE}`);
  return m;
}

export function readFixture(file: string): Map<string, FixtureTensor> {
  const path = join(FIXTURES, file);
  if (!existsSync(path)) throw new Error(`fixture ${file} is missing: ${REGENERATE}`);
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new Error(`${file}: magic is ${JSON.stringify(magic)}, not ${MAGIC}: ${REGENERATE}`);
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new Error(`${file}: version ${version}, this reader wants ${VERSION}: ${REGENERATE}`);
  const count = view.getUint32(8, true);
  let o = 12;
  // Copied into a fresh (aligned) buffer: a payload can start at any byte. (Little-endian hosts.)
  const f32 = (n: number): Float32Array => {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(o, o + 4 * n));
    o += 4 * n;
    return out;
  };
  const out = new Map<string, FixtureTensor>();
  for (let t = 0; t < count; t++) {
    const nameLen = view.getUint16(o, true);
    const name = new TextDecoder().decode(bytes.subarray(o + 2, o + 2 + nameLen));
    o += 2 + nameLen;
    const dtype = view.getUint8(o);
    const ndim = view.getUint8(o + 1);
    o += 2;
    const shape: number[] = [];
    for (let i = 0; i < ndim; i++) shape.push(view.getUint32(o + 4 * i, true));
    o += 4 * ndim;
    const storage = view.getUint8(o);
    o += 1;
    const size = shape.reduce((a, b) => a * b, 1);
    if (storage === 0) {
      let data: Float32Array;
      if (dtype === 0) data = f32(size);
      else if (dtype === 1) {
        data = new Float32Array(size);
        const table = halfTable();
        for (let i = 0; i < size; i++) data[i] = table[view.getUint16(o + 2 * i, true)]!;
        o += 2 * size;
      } else throw new Error(`${file}: ${name} has unknown dtype ${dtype}`);
      out.set(name, { name, shape, storage: 'dense', data });
    } else if (storage === 1) {
      const n = view.getUint32(o, true);
      o += 4;
      const indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) indices[i] = view.getUint32(o + 4 * i, true);
      o += 4 * n;
      const values = f32(n);
      const sum = view.getFloat64(o, true);
      const sumAbs = view.getFloat64(o + 8, true);
      o += 16;
      out.set(name, { name, shape, storage: 'sampled', indices, values, sum, sumAbs });
    } else throw new Error(`${file}: ${name} has unknown storage ${storage}`);
  }
  if (o !== bytes.length) throw new Error(`${file}: ${bytes.length - o} trailing bytes: ${REGENERATE}`);
  return out;
}

export function dense(t: FixtureTensor | undefined, what: string): Float32Array {
  if (t === undefined) throw new Error(`fixture has no tensor ${what}`);
  if (t.storage !== 'dense') throw new Error(`fixture tensor ${what} is sampled, not dense`);
  return t.data;
}

export interface Comparison {
  /** Largest |got - want| over the compared elements (all of them, or the samples). */
  readonly maxDiff: number;
  /** Largest |want| over the compared elements. */
  readonly maxRef: number;
  /** For sampled tensors: |sum(got) - sum(want)| relative to sum(|want|), over the whole tensor. */
  readonly sumRelErr?: number;
  readonly compared: number;
}

export function compare(got: Float32Array, want: FixtureTensor): Comparison {
  let maxDiff = 0;
  let maxRef = 0;
  if (want.storage === 'dense') {
    if (got.length !== want.data.length) throw new Error(`${want.name}: ${got.length} values, fixture has ${want.data.length}`);
    for (let i = 0; i < got.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want.data[i]!));
      maxRef = Math.max(maxRef, Math.abs(want.data[i]!));
    }
    return { maxDiff, maxRef, compared: got.length };
  }
  const size = want.shape.reduce((a, b) => a * b, 1);
  if (got.length !== size) throw new Error(`${want.name}: ${got.length} values, fixture shape has ${size}`);
  for (let i = 0; i < want.indices.length; i++) {
    const v = want.values[i]!;
    maxDiff = Math.max(maxDiff, Math.abs(got[want.indices[i]!]! - v));
    maxRef = Math.max(maxRef, Math.abs(v));
  }
  let sum = 0;
  for (let i = 0; i < got.length; i++) sum += got[i]!;
  const sumRelErr = Math.abs(sum - want.sum) / Math.max(want.sumAbs, 1e-30);
  return { maxDiff, maxRef, sumRelErr, compared: want.indices.length };
}
