#!/usr/bin/env node
// What a lossless re-encoding of the Deep Compression .net can hope for: empirical entropies of
// its codes and of its sparsity pattern, alone and given the contexts .sqz version 3 uses, beside
// what version 3 takes. Static empirical entropies ignore the cost of learning or storing the
// model, so they are below what any coder using that context reaches (docs/COMPRESSION.md).
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

const totals = { nonzero: 0, codes: 0, codesByNeighbour: 0, codesByFilter: 0, mask: 0, maskByContext: 0 };
for (const op of ops) {
  const w = weights.get(`${op.param}.weight`).data;
  const values = [...new Set(Array.from(w).filter((v) => v !== 0))].sort((a, b) => a - b);
  const code = new Map(values.map((v, i) => [v, i + 1]));
  const k = values.length;
  const cls = (c) => (c === 0 ? 0 : 1 + Math.floor(((c - 1) * 8) / k));
  const T = op.kernel * op.kernel;
  const CI = op.inC * T;
  const codes = Uint16Array.from(w, (v) => (v === 0 ? 0 : code.get(v)));
  const layer = new Map();
  const byNeighbour = new Map();
  const byFilter = new Map();
  const mask = new Map();
  const maskCtx = new Map();
  for (let p = 0; p < codes.length; p++) {
    const t = p % T;
    const o = Math.floor(p / CI);
    const c = codes[p];
    const kx = t % op.kernel;
    const left = kx > 0 ? codes[p - 1] : -1;
    const up = t >= op.kernel ? codes[p - op.kernel] : -1;
    const kn = (() => {
      let n = 0;
      for (let q = p - t; q < p; q++) if (codes[q] !== 0) n++;
      return n;
    })();
    const nb = (x) => (x < 0 ? 0 : x === 0 ? 1 : 2);
    add(mask, 0, c !== 0);
    add(maskCtx, T > 1 ? `${Math.min(t, 15)},${Math.min(kn, 9)},${nb(left)},${nb(up)}` : `${nb(o > 0 ? codes[p - CI] : -1)},${nb(p % CI > 0 ? codes[p - 1] : -1)}`, c !== 0);
    if (c === 0) continue;
    totals.nonzero++;
    add(layer, 0, c);
    const a = left > 0 ? cls(left) : 0;
    const b = up > 0 ? cls(up) : 0;
    add(byNeighbour, T > 1 ? (a && b ? (a + b + 1) >> 1 : a + b) : o > 0 ? cls(codes[p - CI]) : 0, c);
    add(byFilter, o, c);
  }
  totals.codes += entropyBytes(layer);
  totals.codesByNeighbour += entropyBytes(byNeighbour);
  totals.codesByFilter += entropyBytes(byFilter);
  totals.mask += entropyBytes(mask);
  totals.maskByContext += entropyBytes(maskCtx);
}

const lossless = lib.compress(weights, { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false, version: 3 });
const int = (n) => Math.round(n).toLocaleString('en-US');
console.log(`the .net: ${int(netBytes.length)} bytes, ${int(totals.nonzero)} non-zero weights`);
console.log(`codes, zero-order entropy per layer                      ${int(totals.codes).padStart(9)} bytes`);
console.log(`codes given the neighbours' class (version 3's context)  ${int(totals.codesByNeighbour).padStart(9)} bytes (static: no model cost)`);
console.log(`codes given the filter (255 symbols per filter)          ${int(totals.codesByFilter).padStart(9)} bytes (static; the 3,976 filters' tables not counted)`);
console.log(`sparsity pattern, independent bits per layer             ${int(totals.mask).padStart(9)} bytes`);
console.log(`sparsity pattern given version 3's contexts              ${int(totals.maskByContext).padStart(9)} bytes (static)`);
console.log(`version 3 (adaptive, everything counted): weights ${int(lossless.sizes.codes)}, codebooks ${int(lossless.sizes.codebooks)}, biases ${int(lossless.sizes.biases)}, header ${int(lossless.sizes.header)}: ${int(lossless.sizes.total)} bytes`);
