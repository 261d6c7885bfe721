#!/usr/bin/env node
// What a lossless re-encoding of the Deep Compression .net can hope for (docs/COMPRESSION.md).
//
// 1. Static empirical entropies of its codes and of its sparsity pattern, alone and given the
//    contexts .sqz version 3 uses. They ignore the cost of learning or storing the model, so
//    they are below what any coder using those contexts reaches.
// 2. Adaptive code lengths: what an ideal binary arithmetic coder pays, learning included, with
//    richer models than version 3's, each alone and mixed (logistic mixing of the models'
//    predictions with online-trained weights, as the PAQ family of compressors does: Mahoney,
//    "Adaptive weighing of context models for lossless data compression", 2005). The models:
//    - sparsity: version 3's contexts; the same with the input channel's density over the
//      earlier filters; the most alike earlier filter's weight at the same position, by tap; the
//      input channel's density by tap;
//    - codes, as a sign then the rank of the magnitude on its side of 0 (a binary tree): the sign
//      given the signed mean of the already coded neighbours (3x3: left, upper left, up, upper
//      right; 1x1: the same input in the two previous filters and the previous input), given
//      the alike filter's weight, given version 3's neighbour class; the magnitude's top five
//      levels given the neighbours' mean magnitude, the filter's and the input channel's running
//      RMS, the alike filter's magnitude, version 3's class.
//    "The most alike earlier filter" is chosen by the encoder (largest |cosine|), so its index
//    and sign are counted as side information.
//
//   npm run build:ts && node scripts/lossless-bounds.mjs [path/to/compressed_SqueezeNet.net]

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = await import(join(ROOT, 'dist/src/index.js'));
const SHARED = process.env.SQUEEZENET_SHARED ?? join(ROOT, '..', 'shared');
const netBytes = readFileSync(process.argv[2] ?? join(SHARED, 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net'));
const { weights } = lib.decodeDeepCompression(netBytes);
const ops = lib.plan(lib.ARCHS['v1.0-caffe']).convs;

/** Sum over groups of n * H(group), in bytes: the static empirical entropy of symbols given their group. */
function entropyBytes(groups) {
  let bits = 0;
  for (const counts of groups.values()) {
    let n = 0;
    for (const c of counts.values()) n += c;
    for (const c of counts.values()) bits -= c * Math.log2(c / n);
  }
  return bits / 8;
}
const add = (groups, g, s) => {
  let m = groups.get(g);
  if (m === undefined) groups.set(g, (m = new Map()));
  m.set(s, (m.get(s) ?? 0) + 1);
};

/** Adaptive bit counts per context (KT-like start, halved past 1023: a slowly forgetting estimate). */
class Counts {
  m = new Map();
  get(ctx) {
    let s = this.m.get(ctx);
    if (s === undefined) this.m.set(ctx, (s = [0.4, 0.4]));
    return s;
  }
}
const stretch = (p) => Math.log(p / (1 - p));
/** Several models' predictions of the same decisions, alone (`alone[i]`) and mixed (`bits`), in bits. */
class Mixer {
  constructor(n) {
    this.models = Array.from({ length: n }, () => new Counts());
    this.weights = new Map();
    this.alone = new Float64Array(n);
    this.bits = 0;
  }
  code(set, contexts, bit) {
    const n = this.models.length;
    let w = this.weights.get(set);
    if (w === undefined) this.weights.set(set, (w = new Float64Array(n).fill(1 / n)));
    const st = new Float64Array(n);
    const states = [];
    let dot = 0;
    for (let i = 0; i < n; i++) {
      const s = this.models[i].get(contexts[i]);
      states.push(s);
      const p = s[1] / (s[0] + s[1]);
      this.alone[i] -= Math.log2(bit ? p : 1 - p);
      st[i] = stretch(p);
      dot += w[i] * st[i];
    }
    const p = Math.min(1 - 1 / 4096, Math.max(1 / 4096, 1 / (1 + Math.exp(-dot))));
    this.bits -= Math.log2(bit ? p : 1 - p);
    for (let i = 0; i < n; i++) w[i] += 0.02 * (bit - p) * st[i];
    for (const s of states) {
      s[bit]++;
      if (s[0] + s[1] > 1023) {
        s[0] /= 2;
        s[1] /= 2;
      }
    }
  }
}
const bucket = (x, edges) => {
  let i = 0;
  while (i < edges.length && x >= edges[i]) i++;
  return i;
};

const totals = { nonzero: 0, codes: 0, codesByNeighbour: 0, codesByFilter: 0, mask: 0, maskByContext: 0, side: 0 };
const adaptive = { mask: { bits: 0, alone: [0, 0, 0, 0] }, sign: { bits: 0, alone: [0, 0, 0] }, magnitude: { bits: 0, alone: [0, 0, 0, 0, 0, 0] }, v3codes: 0 };
const sum = (acc, m) => {
  acc.bits += m.bits / 8;
  m.alone.forEach((b, i) => (acc.alone[i] += b / 8));
};
for (const op of ops) {
  const w = weights.get(`${op.param}.weight`).data;
  const values = [...new Set(Array.from(w).filter((v) => v !== 0))].sort((a, b) => a - b);
  const code = new Map(values.map((v, i) => [v, i + 1]));
  const k = values.length;
  const negatives = values.filter((v) => v < 0).length; // codes 1..negatives are below 0
  const cls = (c) => (c === 0 ? 0 : 1 + Math.floor(((c - 1) * 8) / k));
  const KW = op.kernel;
  const T = KW * KW;
  const I = op.inC;
  const O = op.outC;
  const CI = I * T;
  const codes = Uint16Array.from(w, (v) => (v === 0 ? 0 : code.get(v)));
  let n = 0;
  let square = 0;
  for (const v of w) if (v !== 0) (n++, (square += v * v));
  const rms = Math.sqrt(square / n);
  const density = n / w.length;

  // The most alike earlier filter of each filter, and the sign of their cosine.
  const norm = new Float64Array(O);
  for (let o = 0; o < O; o++) for (let j = 0; j < CI; j++) norm[o] += w[o * CI + j] ** 2;
  const ref = new Int32Array(O).fill(-1);
  const refSign = new Float64Array(O).fill(1);
  for (let o = 1; o < O; o++) {
    let best = 0;
    for (let r = 0; r < o; r++) {
      let dot = 0;
      for (let j = 0; j < CI; j++) dot += w[o * CI + j] * w[r * CI + j];
      const cos = dot / Math.sqrt(norm[o] * norm[r] || 1);
      if (Math.abs(cos) > Math.abs(best)) (best = cos), (ref[o] = r);
    }
    refSign[o] = best < 0 ? -1 : 1;
    totals.side += (Math.log2(o) + 1) / 8;
  }

  const layer = new Map();
  const byNeighbour = new Map();
  const byFilter = new Map();
  const mask = new Map();
  const maskCtx = new Map();
  const maskModel = new Mixer(4);
  const signModel = new Mixer(3);
  const magnitudeModel = new Mixer(6);
  const v3codes = new Mixer(1);
  const colN = new Float64Array(I);
  const colSquare = new Float64Array(I);
  const bitsBelow = Math.ceil(Math.log2(negatives + 1));
  const bitsAbove = Math.ceil(Math.log2(k - negatives + 1));
  const nb = (x) => (x < 0 ? 0 : x === 0 ? 1 : 2);
  for (let o = 0; o < O; o++) {
    let rowN = 0;
    let rowSquare = 0;
    for (let i = 0; i < I; i++) {
      let kn = 0;
      for (let t = 0; t < T; t++) {
        const p = o * CI + i * T + t;
        const c = codes[p];
        const kx = t % KW;
        const ky = (t - kx) / KW;
        const tap = Math.min(t, 15);
        let v3;
        let pc;
        if (T > 1) {
          v3 = `${tap},${Math.min(kn, 9)},${nb(kx > 0 ? codes[p - 1] : -1)},${nb(t >= KW ? codes[p - KW] : -1)}`;
          const a = kx > 0 ? cls(codes[p - 1]) : 0;
          const b = t >= KW ? cls(codes[p - KW]) : 0;
          pc = a && b ? (a + b + 1) >> 1 : a + b;
        } else {
          v3 = `${nb(o > 0 ? codes[p - CI] : -1)},${nb(i > 0 ? codes[p - 1] : -1)}`;
          pc = o > 0 ? cls(codes[p - CI]) : 0;
        }
        add(mask, 0, c !== 0);
        add(maskCtx, v3, c !== 0);
        const r = ref[o];
        const alike = r >= 0 ? w[r * CI + i * T + t] * refSign[o] : NaN;
        const alikeClass = r >= 0 ? bucket(alike / rms, [-1.5, -1, -0.6, -0.3, -1e-4, 1e-4, 0.3, 0.6, 1, 1.5]) : 11;
        const column = o >= 4 ? bucket(colN[i] / (o * T) / density, [0.25, 0.5, 0.75, 0.9, 1.1, 1.3, 1.6, 2]) : 9;
        maskModel.code(0, [v3, `${v3}|${column}`, `${alikeClass}|${tap}`, `${column}|${tap}`], c !== 0 ? 1 : 0);
        if (c === 0) continue;

        totals.nonzero++;
        add(layer, 0, c);
        add(byNeighbour, pc, c);
        add(byFilter, o, c);
        let node = 1;
        for (let level = 0; level < 8; level++) {
          const bit = ((c - 1) >> (7 - level)) & 1;
          v3codes.code(0, [level < 4 ? `${pc},${node}` : `${node}`], bit);
          node = node * 2 + bit;
        }

        let signed = 0;
        let magnitude = 0;
        let count = 0;
        const neighbour = (q) => {
          signed += w[q];
          magnitude += Math.abs(w[q]);
          count++;
        };
        if (T > 1) {
          for (const [dy, dx] of [[0, -1], [-1, -1], [-1, 0], [-1, 1]]) {
            const x = kx + dx;
            if (ky + dy >= 0 && x >= 0 && x < KW) neighbour(p + dy * KW + dx);
          }
        } else {
          if (o > 0) neighbour(p - CI);
          if (o > 1) neighbour(p - 2 * CI);
          if (i > 0) neighbour(p - 1);
        }
        const signedClass = count ? bucket(signed / count / rms, [-1.2, -0.8, -0.5, -0.3, -0.15, -0.05, 0.05, 0.15, 0.3, 0.5, 0.8, 1.2]) : 13;
        const magnitudeClass = count ? bucket(magnitude / count / rms, [0.2, 0.5, 0.8, 1.1, 1.5]) : 7;
        const scale = (sq, m) => (m >= 4 ? bucket(Math.sqrt(sq / m) / rms, [0.6, 0.8, 0.9, 1, 1.1, 1.25, 1.5]) : 8);
        const filterScale = scale(rowSquare, rowN);
        const inputScale = scale(colSquare[i], colN[i]);
        const alikeMagnitude = r >= 0 ? bucket(Math.abs(alike) / rms, [1e-4, 0.3, 0.6, 1, 1.5]) : 7;
        const below = c <= negatives ? 1 : 0;
        signModel.code(0, [`${signedClass}`, `${alikeClass}`, `${pc}`], below);
        const rank = below ? negatives - c : c - negatives - 1; // 0: the value nearest 0 on its side
        const B = below ? bitsBelow : bitsAbove;
        node = 1;
        for (let level = 0; level < B; level++) {
          const bit = (rank >> (B - 1 - level)) & 1;
          const top = level < 5;
          const ctx = (name, cls) => (top ? `${below},${cls},${node}` : `${name}${below},${node}`);
          magnitudeModel.code(level, [`${below},${node}`, ctx('a', magnitudeClass), ctx('b', filterScale), ctx('c', inputScale), ctx('d', alikeMagnitude), ctx('e', pc)], bit);
          node = node * 2 + bit;
        }
        kn++;
        rowN++;
        rowSquare += w[p] ** 2;
        colN[i]++;
        colSquare[i] += w[p] ** 2;
      }
    }
  }
  totals.codes += entropyBytes(layer);
  totals.codesByNeighbour += entropyBytes(byNeighbour);
  totals.codesByFilter += entropyBytes(byFilter);
  totals.mask += entropyBytes(mask);
  totals.maskByContext += entropyBytes(maskCtx);
  sum(adaptive.mask, maskModel);
  sum(adaptive.sign, signModel);
  sum(adaptive.magnitude, magnitudeModel);
  adaptive.v3codes += v3codes.bits / 8;
}

const lossless = lib.compress(weights, { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false, version: 3 });
const s = lossless.sizes;
const int = (n) => Math.round(n).toLocaleString('en-US');
const row = (label, bytes, note = '') => console.log(`${label.padEnd(62)}${int(bytes).padStart(9)} bytes${note ? ` ${note}` : ''}`);
console.log(`the .net: ${int(netBytes.length)} bytes, ${int(totals.nonzero)} non-zero weights`);
console.log('static empirical entropies (no model cost):');
row('  codes, per layer', totals.codes);
row("  codes given the neighbours' class (version 3's context)", totals.codesByNeighbour);
row('  codes given the filter (255 symbols per filter)', totals.codesByFilter, "(the 3,976 filters' tables not counted)");
row('  sparsity pattern, independent bits per layer', totals.mask);
row("  sparsity pattern given version 3's contexts", totals.maskByContext);
console.log('adaptive, learning included (ideal arithmetic coding):');
// Each model alone, in the order the mixers hold them, then the mix.
const mixedRows = (what, names, model, mixed) => {
  names.forEach((name, i) => row(`  ${what}: ${name}`, model.alone[i]));
  row(`  ${what}: ${mixed}`, model.bits);
};
mixedRows('sparsity', ["version 3's contexts", "+ the input channel's density", "the alike filter's weight, by tap", "the input channel's density, by tap"], adaptive.mask, 'the four mixed');
row("  codes: version 3's model", adaptive.v3codes);
mixedRows('signs', ["given the neighbours' signed mean", "given the alike filter's weight", "given version 3's neighbour class"], adaptive.sign, 'the three mixed');
mixedRows(
  'magnitudes',
  ['per layer', "given the neighbours' mean magnitude", "given the filter's running RMS", "given the input channel's running RMS", "given the alike filter's magnitude", "given version 3's neighbour class"],
  adaptive.magnitude,
  'the six mixed',
);
row('  side information: the alike filters and their signs', totals.side);
const best = adaptive.mask.bits + adaptive.sign.bits + adaptive.magnitude.bits + totals.side;
row('  weights, all mixed, side information included', best, `(version 3: ${int(s.codes)})`);
console.log(
  `version 3 (adaptive, everything counted): weights ${int(s.codes)}, codebooks ${int(s.codebooks)}, biases ${int(s.biases)}, header ${int(s.header)}: ${int(s.total)} bytes`,
);
console.log(`the mixed weights with version 3's codebooks and biases, no header: ${int(best + s.codebooks + s.biases)} bytes`);
