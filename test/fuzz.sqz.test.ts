// Fuzz: the .sqz reader never crashes, hangs or lies on damaged bytes (test/fuzz-harness.ts says
// what every case must end in). Three targets over the small container of test/sqz-helpers.ts
// (a sparse Huffman layer with fillers, an empty one, a fixed-width float16 one, a one-weight one):
//   - as damaged: most cases stop at a CRC check, every truncation is tried;
//   - resealed: each mutated file gets its CRCs recomputed first (`repair`), so the damage
//     reaches the field checks and the Huffman and fixed-width stream decoders behind them;
//   - the released .net compressed with the defaults (~480 KB): fewer cases, resealed;
//   - version 3 (context-modelled range coding): the small container as damaged and resealed
//     (10,000 cases each: the range decoder meets every kind of garbage stream, lying counts
//     and stream sizes included), and the .net re-encoded losslessly, resealed.
// A decoded result is valid when every layer's tensor fills its shape and its values are finite.
import { readFileSync } from 'node:fs';
import { compress, decodeDeepCompression, decodeSqz, SQZ_FORMAT, writeSqz, type DecodedTensor } from '../src/index.js';
import { fuzzLoader } from './fuzz-harness.js';
import { MODEL, shared } from './shared.js';
import { layoutOf, reseal, smallFile } from './sqz-helpers.js';

function check(out: Map<string, DecodedTensor>): void {
  for (const [name, t] of out) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    if (!t.data.every(Number.isFinite)) throw new Error(`${name}: a value is not finite`);
  }
}

/** The entry count and the two stream sizes of every layer record: where lies go. */
const counts = (b: Uint8Array) => layoutOf(b).records.flatMap((r) => [{ offset: r.n }, { offset: r.codeBytes }, { offset: r.gapBytes }]);
const boundaries = (b: Uint8Array): number[] => {
  const l = layoutOf(b);
  return [l.crcAt, ...l.records.flatMap((r) => [r.at, r.payload, r.payload + r.payloadBytes])];
};
const small = (): Uint8Array => writeSqz(smallFile()).bytes;
const small3 = (): Uint8Array => writeSqz({ ...smallFile(), version: 3 }).bytes;

fuzzLoader({ name: '.sqz (small container)', format: SQZ_FORMAT, load: (b) => decodeSqz(b).weights, valid: small, check, counts, truncations: 'all' });
fuzzLoader({ name: '.sqz (small container, CRCs recomputed)', format: SQZ_FORMAT, load: (b) => decodeSqz(b).weights, valid: small, check, counts, repair: reseal, truncations: 'all' });
fuzzLoader({
  name: '.sqz (the .net compressed with the defaults, CRCs recomputed)',
  format: SQZ_FORMAT,
  load: (b) => decodeSqz(b).weights,
  valid: () => compress(decodeDeepCompression(readFileSync(shared(MODEL))).weights).bytes,
  check,
  counts,
  repair: reseal,
  runs: 300,
  truncations: { head: 2048, sample: 300, boundaries },
});

fuzzLoader({ name: '.sqz version 3 (small container)', format: SQZ_FORMAT, load: (b) => decodeSqz(b).weights, valid: small3, check, counts, truncations: 'all' });
fuzzLoader({ name: '.sqz version 3 (small container, CRCs recomputed)', format: SQZ_FORMAT, load: (b) => decodeSqz(b).weights, valid: small3, check, counts, repair: reseal, truncations: 'all' });
fuzzLoader({
  name: '.sqz version 3 (the .net, lossless, CRCs recomputed)',
  format: SQZ_FORMAT,
  load: (b) => decodeSqz(b).weights,
  valid: () => {
    const lossless = compress(decodeDeepCompression(readFileSync(shared(MODEL))).weights, { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false });
    return writeSqz({ ...lossless.file, version: 3 }).bytes;
  },
  check,
  counts,
  repair: reseal,
  runs: 300,
  truncations: { head: 2048, sample: 300, boundaries },
});
