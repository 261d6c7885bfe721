// Fuzz: the safetensors reader never crashes, hangs or lies on damaged bytes (the harness in
// test/fuzz-harness.ts says what every case must end in). Two targets:
//   - a small file with every dtype the reader loads (F32, F16 with subnormals and infinities,
//     BF16), a zero-element tensor and __metadata__: 10,000 fast-check cases, every truncation,
//     lies in the 8-byte header length;
//   - a whole SqueezeNet v1.1 in F16 (2.5 MB, ~10 ms a decode): fewer cases.
// A decoded result is valid when every tensor's values fill its shape; values may be any float
// (a flipped bit can make an infinity: the engine rejects non-finite weights when it loads them).
import { ARCHS, readSafetensors, expectedWeights, plan, type SafetensorsFile } from '../src/index.js';
import { f16Bytes, f32Bytes, safetensors, weightsToSafetensors } from './format-writers.js';
import { fuzzLoader } from './fuzz-harness.js';
import { randomWeights } from './helpers.js';

function check(out: SafetensorsFile): void {
  for (const [name, t] of out.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
}

function small(): Uint8Array {
  return safetensors(
    [
      { name: 'conv.weight', dtype: 'F32', shape: [2, 3, 1, 1], bytes: f32Bytes([1, -2, 3.5, 0, -0.25, 7]) },
      { name: 'conv.bias', dtype: 'F16', shape: [5], bytes: f16Bytes([2 ** -24, 65504, -Infinity, 0.1, -3]) },
      { name: 'bf', dtype: 'BF16', shape: [1, 1, 2], bytes: Uint8Array.from([0x80, 0x3f, 0x00, 0xc0]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
      { name: 'last', dtype: 'F32', shape: [3], bytes: f32Bytes([0.5, 0.75, 1]) },
    ],
    { format: 'pt', note: 'fuzz' },
  );
}

/** Header end and each tensor's first byte. */
function boundaries(b: Uint8Array): number[] {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, { data_offsets?: [number, number] }>;
  return [8, 8 + n, ...Object.values(header).flatMap((e) => (e.data_offsets ? [8 + n + e.data_offsets[0]] : []))];
}

fuzzLoader({
  name: 'safetensors (small file, every loadable dtype)',
  format: 'safetensors',
  load: readSafetensors,
  valid: small,
  check,
  counts: [{ offset: 0, size: 8 }],
  truncations: 'all',
});

fuzzLoader({
  name: 'safetensors (SqueezeNet v1.1, F16)',
  format: 'safetensors',
  load: readSafetensors,
  valid: () => {
    const p = plan(ARCHS['v1.1']);
    const shapes = expectedWeights(p);
    return weightsToSafetensors(new Map([...randomWeights(p, 9)].map(([n, data]) => [n, { data, shape: [...shapes.get(n)!] }])), 'F16');
  },
  check,
  counts: [{ offset: 0, size: 8 }],
  truncations: { head: 8192, sample: 500, boundaries },
  runs: 400,
});
