#!/usr/bin/env node
// Regenerates docs/COMPRESSION.md: the Deep Compression SqueezeNet (../shared, 8-bit .net)
// re-compressed into .sqz at 4..8 bits, with and without Huffman coding, each classified on the
// 100 shared images against the uncompressed (8-bit .net) model.
//
//   npm run build:ts && node scripts/compression-table.mjs [--shared DIR] [--tmp DIR] [--out FILE]
//
// Reads the weights and photos from ../shared (or --shared, or $SQUEEZENET_SHARED); writes the
// compressed files only to --tmp (default: a fresh folder under the system's temporary folder)
// and the table to --out (default docs/COMPRESSION.md; `-` for stdout only).

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = await import(join(ROOT, 'dist/src/index.js')).catch((e) => {
  throw new Error(`cannot load dist/src/index.js (${e.message}): run \`npm run build:ts\` first`);
});
const { decodeImage } = await import(join(ROOT, 'dist/src/cli/images.js'));
const { compress, decodeDeepCompression, loadDeepCompression, loadSqz, preprocess, topK } = lib;

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const SHARED = resolve(flag('shared', process.env.SQUEEZENET_SHARED ?? join(ROOT, '..', 'shared')));
const NET = join(SHARED, 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net');
const IMAGES = join(SHARED, 'data/imagenet-sample');
const TMP = flag('tmp', undefined) ?? mkdtempSync(join(tmpdir(), 'squeezenet-compression-'));
const OUT = flag('out', join(ROOT, 'docs/COMPRESSION.md'));
mkdirSync(TMP, { recursive: true });

const int = (n) => n.toLocaleString('en-US');
const log = (s) => process.stderr.write(`${s}\n`);

// The 100 photos, preprocessed once (Caffe recipe, 227x227) and kept in memory.
let net;
try {
  net = readFileSync(NET);
} catch {
  throw new Error(`the Deep Compression model is not at ${NET}: put the shared folder beside the project or pass --shared DIR`);
}
const files = readdirSync(IMAGES).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
const images = files.map((f) => ({ file: f, label: Number(f.split('_')[0]), input: preprocess(decodeImage(readFileSync(join(IMAGES, f))), 'caffe') }));
log(`${images.length} images preprocessed`);

async function evaluate(model) {
  const logits = images.map((im) => model.run(im.input));
  model.dispose();
  return logits;
}

const top1 = (l) => topK(l, 1)[0].index;
const top5 = (l) => topK(l, 5).map((p) => p.index);

const t0 = performance.now();
const base = await evaluate(await loadDeepCompression(net));
const baseTop1 = base.map(top1);
const baseScore = { top1: base.filter((l, i) => baseTop1[i] === images[i].label).length, top5: base.filter((l, i) => top5(l).includes(images[i].label)).length };
let baseMaxLogit = 0;
for (const l of base) for (const v of l) baseMaxLogit = Math.max(baseMaxLogit, Math.abs(v));
log(`8-bit .net: top-1 ${baseScore.top1}, top-5 ${baseScore.top5} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const weights = decodeDeepCompression(net);
const settings = [];
for (const bits of [4, 5, 6, 7, 8]) for (const huffman of [true, false]) settings.push({ bits, huffman, biasF16: false });
settings.push({ bits: 6, huffman: true, biasF16: true });
settings.push({ bits: 5, huffman: true, biasF16: true });

const rows = [];
for (const s of settings) {
  const t = performance.now();
  const r = compress(weights, { bits: s.bits, huffman: s.huffman, biasF16: s.biasF16 });
  const path = join(TMP, `squeezenet-${s.bits}bit${s.huffman ? '-huffman' : ''}${s.biasF16 ? '-f16' : ''}.sqz`);
  writeFileSync(path, r.bytes);
  const logits = await evaluate(await loadSqz(readFileSync(path)));
  let drift = 0;
  logits.forEach((l, i) => l.forEach((v, c) => (drift = Math.max(drift, Math.abs(v - base[i][c])))));
  const row = {
    ...s,
    bytes: r.bytes.length,
    sizes: r.sizes,
    agree: logits.filter((l, i) => top1(l) === baseTop1[i]).length,
    top1: logits.filter((l, i) => top1(l) === images[i].label).length,
    top5: logits.filter((l, i) => top5(l).includes(images[i].label)).length,
    drift,
  };
  rows.push(row);
  log(`${s.bits} bits, ${s.huffman ? 'Huffman' : 'fixed'}${s.biasF16 ? ', f16 biases' : ''}: ${int(row.bytes)} bytes, agree ${row.agree}, top-1 ${row.top1}, top-5 ${row.top5}, drift ${drift.toFixed(3)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

const line = (cells) => `| ${cells.join(' | ')} |`;
const table = [
  line(['bits', 'Huffman', 'biases', 'bytes', 'vs .net', 'top-1 = 8-bit model', 'top-1', 'top-5', 'largest logit drift']),
  line(['---:', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:']),
  line(['8 (.net)', 'no', 'f32', int(net.length), '1.00x', `${images.length}/${images.length}`, `${baseScore.top1}/100`, `${baseScore.top5}/100`, '0']),
  ...rows.map((r) =>
    line([
      String(r.bits),
      r.huffman ? 'yes' : 'no',
      r.biasF16 ? 'f16' : 'f32',
      r.bytes <= 480_000 ? `**${int(r.bytes)}**` : int(r.bytes),
      `${(net.length / r.bytes).toFixed(2)}x`,
      `${r.agree}/${images.length}`,
      `${r.top1}/100`,
      `${r.top5}/100`,
      r.drift.toFixed(3),
    ]),
  ),
].join('\n');

const parts = [
  line(['bits', 'Huffman', 'biases', 'header', 'codebooks', 'biases', 'codes', 'gaps', 'total']),
  line(['---:', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ...rows.map((r) => line([String(r.bits), r.huffman ? 'yes' : 'no', r.biasF16 ? 'f16' : 'f32', int(r.sizes.header), int(r.sizes.codebooks), int(r.sizes.biases), int(r.sizes.codes), int(r.sizes.gaps), int(r.sizes.total)])),
].join('\n');

const doc = `# Compression results

Generated by \`node scripts/compression-table.mjs\` (after \`npm run build:ts\`); do not edit by hand.

The starting point is the released Deep Compression SqueezeNet v1.0
(\`compressed_SqueezeNet.net\`, ${int(net.length)} bytes: pruned to 33 % density, an 8-bit codebook per
layer, 4-bit gaps, no Huffman coding). \`squeezenet compress --bits N [--no-huffman] [--bias f16]\` re-encodes
it into the project's container (docs/FORMAT.md): its sparsity pattern is kept (no further pruning),
each layer's non-zero weights are re-clustered by k-means into 2^N - 1 shared values (linear
initialisation over [min, max], as Han et al.), the gap width is chosen per layer to minimise
its size, and with Huffman the codes and gaps each get a canonical Huffman code per layer.
Without Huffman they are stored at N bits and at the chosen gap width.

Every file is decoded from disk and classifies the ${images.length} images of \`../shared/data/imagenet-sample\`
(Caffe preprocessing, 227x227). "top-1 = 8-bit model": images whose top-1 class equals the
uncompressed .net model's. "largest logit drift": the largest |difference| between a logit and the
8-bit model's, over all images and all 1000 classes (the 8-bit model's logits reach ${baseMaxLogit.toFixed(1)} in
absolute value). Sizes in **bold** meet the target of at most 480,000 bytes.

${table}

## Bytes by part

Header: magic, version, architecture, 26 layer records with names, shapes and CRC-32s.
The codes and gaps columns include their Huffman code-length tables.

${parts}

## Reading the table

- At 8 bits the .net's codebooks (at most 255 values per layer) are reproduced exactly, so the
  model is the same and the only saving is the container's: Huffman coding and the per-layer gap width.
- The paper's Table 2 lists the 6-bit model at 0.47 MB: ${int(rows.find((r) => r.bits === 6 && !r.huffman).bytes)} bytes here
  without Huffman coding; Huffman coding takes it to ${int(rows.find((r) => r.bits === 6 && r.huffman && !r.biasF16).bytes)}.
- Biases as float16 save ${int(rows.find((r) => r.bits === 6 && r.huffman && !r.biasF16).bytes - rows.find((r) => r.bits === 6 && r.huffman && r.biasF16).bytes)} bytes at 6 bits; the rows with f16
  show what they cost in predictions.
`;

if (OUT === '-') process.stdout.write(doc);
else {
  writeFileSync(OUT, doc);
  process.stdout.write(`${table}\n\n${parts}\n\nwrote ${OUT}; compressed files in ${TMP}\n`);
}
