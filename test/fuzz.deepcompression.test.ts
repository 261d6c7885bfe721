// Fuzz: the Deep Compression .net decoder never crashes, hangs or lies on damaged bytes (issue 8).
//
// Two targets, one line each (test/fuzz-harness.ts says what every case must end in):
//   - a small synthetic .net-like file over a 6-layer table with awkward shapes (a dense layer, an
//     empty one, fillers for long gaps, a 1-weight layer, the very last position set), decoded by
//     the same code as the real file (readDeepCompression): microseconds per case, so it
//     takes the 10,000 fast-check cases and every truncation;
//   - the released 0.66 MB compressed_SqueezeNet.net from ../shared (SQUEEZENET_SHARED): every
//     truncation in its first 64 KiB (the header, conv1, fire2 and fire3), every length within 32
//     bytes of each of its 26 x 5 section boundaries, the last 64, and 20,000 seeded lengths
//     elsewhere (~30,000 in all); and 600 fast-check mutations (a mutation that still decodes
//     costs ~10 ms: the whole network is decoded and checked). All 675,763 truncations pass too,
//     in ~6 s on an idle machine: FUZZ_TRUNCATIONS=all npx vitest run test/fuzz.deepcompression.
//
// Another format joins with one line in its own test/fuzz.<format>.test.ts:
//   fuzzLoader({ name: 'safetensors', format: 'safetensors', load: readSafetensors, valid: () => bytes });
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDeepCompression, type DeepCompressionLayer } from '../src/formats/deepcompression.js';
import { ARCHS, DEEP_COMPRESSION_LAYERS, decodeDeepCompression, expectedWeights, loadDeepCompression, plan, type DecodedTensor, type FormatError } from '../src/index.js';
import { formatErrorProblem, fuzzLoader } from './fuzz-harness.js';
import { seededRandom } from './helpers.js';
import { MODEL, shared } from './shared.js';

const FORMAT = 'Deep Compression .net';

/** A small layer table: dense, empty, sparse with fillers, one weight, odd shapes. */
const SYNTHETIC: readonly DeepCompressionLayer[] = [
  { caffe: 'conv1', param: 'a', outC: 3, inC: 3, kernel: 3 },
  { caffe: 'empty', param: 'b', outC: 7, inC: 3, kernel: 1 },
  { caffe: 'sparse', param: 'c', outC: 5, inC: 7, kernel: 3 },
  { caffe: 'single', param: 'd', outC: 1, inC: 1, kernel: 1 },
  { caffe: 'half', param: 'e', outC: 16, inC: 5, kernel: 1 },
  { caffe: 'wide', param: 'f', outC: 17, inC: 15, kernel: 3 },
];
const DENSITY = [1, 0, 0.04, 1, 0.5, 0.3];

/** Encodes codes (one per weight position, 0 = pruned) as a .net file: 4-bit gaps, fillers of code 0 for longer gaps. */
function encode(layers: readonly DeepCompressionLayer[], seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const parts = layers.map((l, i) => {
    const numel = l.outC * l.inC * l.kernel * l.kernel;
    const codes: number[] = [];
    const gaps: number[] = [];
    let last = -1;
    for (let p = 0; p < numel; p++) {
      const lastPosition = p === numel - 1 && DENSITY[i]! > 0;
      if (!(lastPosition || rand() < DENSITY[i]!)) continue;
      let gap = p - last - 1;
      for (; gap > 15; gap -= 16) {
        codes.push(0);
        gaps.push(15);
      }
      codes.push(1 + Math.floor(rand() * 255));
      gaps.push(gap);
      last = p;
    }
    const codebook = Float32Array.from({ length: 256 }, (_, k) => (k === 0 ? 0 : rand() - 0.5));
    const bias = Float32Array.from({ length: l.outC }, () => rand() - 0.5);
    const packed = new Uint8Array(Math.ceil(gaps.length / 2));
    gaps.forEach((g, k) => (packed[k >> 1] = packed[k >> 1]! | (k % 2 === 0 ? g : g << 4)));
    return { codebook, bias, codes: Uint8Array.from(codes), packed };
  });
  const size = 4 * layers.length + parts.reduce((s, p) => s + 1024 + 4 * p.bias.length + p.codes.length + p.packed.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  parts.forEach((p, i) => view.setUint32(4 * i, p.codes.length, true));
  let o = 4 * layers.length;
  for (const p of parts) {
    for (const [values, n] of [[p.codebook, 256], [p.bias, p.bias.length]] as const) {
      for (let k = 0; k < n; k++) view.setFloat32(o + 4 * k, values[k]!, true);
      o += 4 * n;
    }
    bytes.set(p.codes, o);
    o += p.codes.length;
    bytes.set(p.packed, o);
    o += p.packed.length;
  }
  return bytes;
}

/** Valid decoded weights: exactly the layers' tensors, of their shapes, every value finite. */
function checkDecoded(layers: readonly DeepCompressionLayer[], out: Map<string, DecodedTensor>): void {
  if (out.size !== 2 * layers.length) throw new Error(`decoded ${out.size} tensors, want ${2 * layers.length}`);
  for (const l of layers) {
    const shapes: [string, number[]][] = [[`${l.param}.weight`, [l.outC, l.inC, l.kernel, l.kernel]], [`${l.param}.bias`, [l.outC]]];
    for (const [name, shape] of shapes) {
      const t = out.get(name);
      if (t === undefined) throw new Error(`${name} missing`);
      if (t.shape.join() !== shape.join() || t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: shape [${t.shape}], data ${t.data.length}`);
      for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) throw new Error(`${name}[${i}] = ${t.data[i]}`);
    }
  }
}

/** A FormatError at a byte of the input that names its layer, unless the file is shorter than the header. */
const namesLayer = (layers: number) => (e: unknown, bytes: Uint8Array): string | undefined =>
  formatErrorProblem(e, bytes, FORMAT) ??
  ((e as FormatError).layer === undefined && bytes.length >= 4 * layers ? `FormatError names no layer: ${(e as Error).message}` : undefined);

const headerCounts = (layers: number) => Array.from({ length: layers }, (_, i) => ({ offset: 4 * i }));

/** Where each layer's codebook, biases, codes and gaps start, and where it ends, from the valid file's header. */
function sectionBoundaries(layers: readonly DeepCompressionLayer[], valid: Uint8Array): number[] {
  const view = new DataView(valid.buffer, valid.byteOffset, valid.byteLength);
  const out: number[] = [];
  let o = 4 * layers.length;
  layers.forEach((l, i) => {
    const n = view.getUint32(4 * i, true);
    out.push(o, o + 1024, o + 1024 + 4 * l.outC, o + 1024 + 4 * l.outC + n);
    o += 1024 + 4 * l.outC + n + Math.ceil(n / 2);
  });
  out.push(o);
  return out;
}

fuzzLoader({
  name: `${FORMAT} (synthetic 6-layer file)`,
  format: FORMAT,
  load: (b) => readDeepCompression(b, SYNTHETIC),
  valid: () => encode(SYNTHETIC, 8),
  check: (out) => checkDecoded(SYNTHETIC, out),
  rejects: namesLayer(SYNTHETIC.length),
  counts: headerCounts(SYNTHETIC.length),
  truncations: 'all',
});

fuzzLoader({
  name: `${FORMAT} (the released file)`,
  format: FORMAT,
  load: (b) => decodeDeepCompression(b).weights,
  valid: () => new Uint8Array(readFileSync(shared(MODEL))),
  check: (out) => checkDecoded(DEEP_COMPRESSION_LAYERS, out),
  rejects: namesLayer(DEEP_COMPRESSION_LAYERS.length),
  counts: headerCounts(DEEP_COMPRESSION_LAYERS.length),
  truncations: { head: 65536, sample: 20_000, boundaries: (b) => sectionBoundaries(DEEP_COMPRESSION_LAYERS, b) },
  runs: 600,
});

describe('fuzz: what a damaged file that still decodes gives', () => {
  it('a valid model: code bytes flipped in the released file load and run to finite logits', async () => {
    const bytes = new Uint8Array(readFileSync(shared(MODEL)));
    // The first code byte of conv1: after the header, conv1's codebook and its 96 biases.
    const codes = 104 + 1024 + 4 * 96;
    for (let k = 0; k < 64; k++) bytes[codes + 97 * k] = bytes[codes + 97 * k]! ^ 0x5a;
    const { weights } = decodeDeepCompression(bytes);
    expect([...weights.keys()]).toEqual([...expectedWeights(plan(ARCHS['v1.0-caffe'])).keys()]);
    const model = await loadDeepCompression(bytes);
    const logits = model.run(new Float32Array(3 * 227 * 227).fill(1));
    expect(logits.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});
