#!/usr/bin/env node
// Regenerates docs/COMPRESSION.md: the Deep Compression SqueezeNet (../shared, 8-bit .net)
// re-compressed into .sqz at 4..8 bits, with and without Huffman coding, each classified on the
// 100 shared images against the uncompressed (8-bit .net) model; then .sqz version 3 (lossless
// and at 420,000 bytes) and the file calibrated on the even-numbered 50 images, each scored on
// the two halves separately, with its decode time in a fresh process.
//
//   npm run build:ts && node scripts/compression-table.mjs [--shared DIR] [--tmp DIR] [--out FILE]
//
// Reads the weights and photos from ../shared (or --shared, or $SQUEEZENET_SHARED); writes the
// compressed files only to --tmp (default: a fresh folder under the system's temporary folder)
// and the table to --out (default docs/COMPRESSION.md; `-` for stdout only).

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 as seededRandom } from '../dist/src/random.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = await import(join(ROOT, 'dist/src/index.js')).catch((e) => {
  throw new Error(`cannot load dist/src/index.js (${e.message}): run \`npm run build:ts\` first`);
});
const { decodeImage } = await import(join(ROOT, 'cli/dist/images.js'));
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
const images = [];
for (const f of files) images.push({ file: f, label: Number(f.split('_')[0]), input: preprocess(await decodeImage(join(IMAGES, f)), 'caffe') });
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

const { weights } = decodeDeepCompression(net);
const margins = base.map((l) => {
  const s = Array.from(l).sort((a, b) => b - a);
  return s[0] - s[1];
});
const close = (m) => margins.filter((x) => x < m).length;

// Han et al.'s recipe: linear k-means, nearest value, float32 codebooks and biases.
const PAPER = { kmeans: 'linear', rounding: 'nearest', codebookF16: false, biasF16: false };
const settings = [];
for (const bits of [4, 5, 6, 7, 8]) for (const huffman of [true, false]) settings.push({ table: 'paper', label: `${bits}`, options: { ...PAPER, bits, huffman } });
for (const bits of [6, 7]) settings.push({ table: 'ours', label: `optimal k-means, ${bits} bits`, options: { kmeans: 'optimal', bits } });
settings.push({ table: 'ours', label: 'entropy-constrained, lambda 1e-4', options: { lambda: 1e-4 } });
settings.push({ table: 'ours', label: '**the default** (entropy-constrained, lambda 2.2e-4)', options: {} });
settings.push({ table: 'ours', label: 'entropy-constrained, lambda searched to fill 480,000 bytes (`--max-bytes 480000`)', options: { maxBytes: 480_000 } });
settings.push({ table: 'ours', label: 'entropy-constrained, lambda 5e-4', options: { lambda: 5e-4 } });
settings.push({ table: 'ours', label: 'the default with nearest rounding', options: { rounding: 'nearest' } });
settings.push({ table: 'ours', label: 'the default with float32 codebooks and biases', options: { codebookF16: false, biasF16: false } });

// Calibration: uniform random noise of 0.5 % and 1 % of each layer's RMS on its non-zero weights,
// three seeded draws each: how far the agreement count moves for reasons that are not the codebooks.
async function noiseAgreement(level, seed) {
  const rand = seededRandom(seed);
  const noisy = new Map();
  for (const [name, t] of weights) {
    if (!name.endsWith('.weight')) {
      noisy.set(name, t);
      continue;
    }
    let ms = 0;
    let nz = 0;
    for (const v of t.data) if (v !== 0) (ms += v * v), nz++;
    const amp = level * Math.sqrt(ms / nz) * Math.sqrt(3);
    noisy.set(name, { data: t.data.map((v) => (v === 0 ? 0 : v + (rand() * 2 - 1) * amp)), shape: t.shape });
  }
  const logits = await evaluate(await lib.SqueezeNet.load({ arch: 'v1.0-caffe', weights: noisy }));
  return logits.filter((l, i) => top1(l) === baseTop1[i]).length;
}
const noise = {};
for (const level of [0.005, 0.01]) {
  noise[level] = [];
  for (const seed of [1, 2, 3]) noise[level].push(await noiseAgreement(level, seed));
  log(`${level * 100} % RMS noise: agree ${noise[level].join(', ')}`);
}

const rows = [];
/** Largest and mean |logit - the 8-bit model's logit| over every image and class. */
function logitDrift(logits) {
  let drift = 0;
  let mean = 0;
  logits.forEach((l, i) => l.forEach((v, c) => {
    const d = Math.abs(v - base[i][c]);
    drift = Math.max(drift, d);
    mean += d / (l.length * logits.length);
  }));
  return { drift, mean };
}

for (const [n, s] of settings.entries()) {
  const t = performance.now();
  const r = compress(weights, s.options);
  const path = join(TMP, `squeezenet-${n}.sqz`);
  writeFileSync(path, r.bytes);
  const logits = await evaluate(await loadSqz(readFileSync(path)));
  const { drift, mean } = logitDrift(logits);
  const row = {
    ...s,
    bytes: r.bytes.length,
    sizes: r.sizes,
    k: Math.round(r.layers.reduce((a, l) => a + l.codebook.length - 1, 0) / r.layers.length),
    agree: logits.filter((l, i) => top1(l) === baseTop1[i]).length,
    top1: logits.filter((l, i) => top1(l) === images[i].label).length,
    top5: logits.filter((l, i) => top5(l).includes(images[i].label)).length,
    drift,
    mean,
  };
  rows.push(row);
  log(`${s.table} ${s.label} ${JSON.stringify(s.options)}: ${int(row.bytes)} bytes, agree ${row.agree}, top-1 ${row.top1}, top-5 ${row.top5}, drift ${drift.toFixed(3)} / mean ${mean.toFixed(4)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

// Version 3 and calibration: scored on the calibration half (even-numbered images) and the
// held-out half (odd-numbered) apart; decode ms: decodeWeights in a fresh Node process, median of 5.
const calibration = images.filter((_, i) => i % 2 === 0);
const decodeMs = (path) => {
  const child = `const t0 = performance.now(); const lib = await import(${JSON.stringify(join(ROOT, 'dist/src/index.js'))}); const b = (await import('node:fs')).readFileSync(${JSON.stringify(path)}); const t = performance.now(); lib.decodeWeights(b); console.log(performance.now() - t);`;
  const runs = Array.from({ length: 5 }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' })));
  return runs.sort((a, b) => a - b)[2];
};
const v3rows = [];
async function v3row(label, bytes, note) {
  const path = join(TMP, `squeezenet-v3-${v3rows.length}.sqz`);
  writeFileSync(path, bytes);
  const logits = await evaluate(await loadSqz(readFileSync(path)));
  const { drift, mean } = logitDrift(logits);
  const agree = (half) => logits.filter((l, i) => i % 2 === half && top1(l) === baseTop1[i]).length;
  const row = {
    label,
    note,
    bytes: bytes.length,
    version: new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true),
    cal: agree(0),
    held: agree(1),
    top1: logits.filter((l, i) => top1(l) === images[i].label).length,
    top5: logits.filter((l, i) => top5(l).includes(images[i].label)).length,
    drift,
    mean,
    ms: decodeMs(path),
  };
  v3rows.push(row);
  log(`${label}: ${int(row.bytes)} bytes, agree ${row.cal}/${row.held}, top-1 ${row.top1}, top-5 ${row.top5}, drift ${drift.toFixed(3)} / mean ${mean.toFixed(4)}, decode ${row.ms.toFixed(1)} ms`);
}
{
  const netPath = join(TMP, 'compressed_SqueezeNet.net');
  writeFileSync(netPath, net);
  v3rows.push({ label: 'the 8-bit model (the .net)', note: '', bytes: net.length, version: '-', cal: calibration.length, held: n0() - calibration.length, top1: baseScore.top1, top5: baseScore.top5, drift: 0, mean: 0, ms: decodeMs(netPath) });
}
function n0() {
  return images.length;
}
const bounds = execFileSync(process.execPath, [join(ROOT, 'scripts/lossless-bounds.mjs'), NET], { encoding: 'utf8' });
const boundsFigure = (label) => {
  const line = bounds.split('\n').find((l) => l.includes(label));
  if (line === undefined) throw new Error(`lossless-bounds.mjs printed no line with ${JSON.stringify(label)}`);
  return Number(line.slice(line.indexOf(label) + label.length).match(/[\d,]+/)[0].replaceAll(',', ''));
};
const boundsMixed = boundsFigure('weights, all mixed, side information included');
const nonzero = Number(bounds.match(/([\d,]+) non-zero weights/)[1].replaceAll(',', ''));
const boundsTotal = boundsFigure("the mixed weights with version 3's codebooks and biases, no header:");
const LOSSLESS = { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false };
const lossless1 = compress(weights, LOSSLESS);
await v3row('lossless, version 1 (Huffman): the default model', lossless1.bytes, '`--kmeans linear --bits 8 --rounding nearest --codebook f32 --bias f32`');
const lossless3 = compress(weights, { ...LOSSLESS, version: 3 });
const lossless3Parts = lossless3.sizes;
await v3row('lossless, version 3 (context-modelled)', lossless3.bytes, 'the same with `--sqz-version 3`');
await v3row("the paper's recipe: 6-bit linear k-means, Huffman", compress(weights, { ...PAPER, bits: 6, huffman: true }).bytes, '`--kmeans linear --bits 6 --rounding nearest --codebook f32 --bias f32`');
await v3row('data-free, version 3, at most 420,000 bytes', compress(weights, { maxBytes: 420_000, version: 3 }).bytes, '`--max-bytes 420000 --sqz-version 3`');
{
  const t = performance.now();
  const r = await lib.compressCalibrated(weights, calibration.map((im) => im.input), { maxBytes: 420_000, log });
  log(`calibrated: ${((performance.now() - t) / 1000).toFixed(0)} s`);
  await v3row('**calibrated**, version 3, at most 420,000 bytes', r.bytes, '`--calibrate DIR --max-bytes 420000` (DIR: the 50 even-numbered images)');
}

const line = (cells) => `| ${cells.join(' | ')} |`;
const n = images.length;
const target = (r) => (r.bytes <= 480_000 && r.agree >= 95 && Math.abs(r.top1 - baseScore.top1) <= 2 ? 'yes' : 'no');
const stats = (r) => [
  r.bytes <= 480_000 ? `**${int(r.bytes)}**` : int(r.bytes),
  `${(net.length / r.bytes).toFixed(2)}x`,
  `${r.agree}/${n}`,
  `${r.top1}/${n}`,
  `${r.top5}/${n}`,
  r.drift.toFixed(2),
  r.mean.toFixed(3),
];
const head = ['bytes', 'vs .net', 'top-1 = 8-bit model', 'top-1', 'top-5', 'largest logit drift', 'mean logit drift'];
const align = ['---:', '---:', '---:', '---:', '---:', '---:', '---:'];
const paperTable = [
  line(['bits', 'Huffman', ...head]),
  line(['---:', '---', ...align]),
  line(['8 (.net)', 'no', int(net.length), '1.00x', `${n}/${n}`, `${baseScore.top1}/${n}`, `${baseScore.top5}/${n}`, '0', '0']),
  ...rows.filter((r) => r.table === 'paper').map((r) => line([r.label, r.options.huffman ? 'yes' : 'no', ...stats(r)])),
].join('\n');
const oursTable = [
  line(['codebooks', 'values per layer (mean)', ...head, 'meets the target']),
  line(['---', '---:', ...align, '---']),
  ...rows.filter((r) => r.table === 'ours').map((r) => line([r.label, String(r.k), ...stats(r), target(r)])),
].join('\n');
const parts = [
  line(['setting', 'header', 'codebooks', 'biases', 'codes', 'gaps', 'total']),
  line(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
  ...rows.map((r) => line([r.table === 'paper' ? `${r.label} bits, ${r.options.huffman ? 'Huffman' : 'fixed width'}` : r.label, int(r.sizes.header), int(r.sizes.codebooks), int(r.sizes.biases), int(r.sizes.codes), int(r.sizes.gaps), int(r.sizes.total)])),
].join('\n');

const paper6 = rows.find((r) => r.table === 'paper' && r.label === '6' && r.options.huffman);
const paper6fixed = rows.find((r) => r.table === 'paper' && r.label === '6' && !r.options.huffman);
const paper8 = rows.find((r) => r.table === 'paper' && r.label === '8' && r.options.huffman);
const def = rows.find((r) => r.label.startsWith('**the default**'));

const doc = `# Compression results

Generated by \`node scripts/compression-table.mjs\` (after \`npm run build:ts\`); do not edit by hand.
It reads \`../shared\` (or \`--shared DIR\`) and writes the compressed files to a temporary folder only.

The starting point is the released Deep Compression SqueezeNet v1.0 (\`compressed_SqueezeNet.net\`,
${int(net.length)} bytes: pruned to 33 % density, an 8-bit codebook per layer, 4-bit gaps, no Huffman coding),
called "the 8-bit model" below. \`squeezenet compress\` re-encodes it into the project's container
(docs/FORMAT.md). Its sparsity pattern is kept (no further pruning), the non-zero weights of each
layer get a new codebook, the gap width is chosen per layer to minimise its size (or, for a layer
that is ~99 % dense, every position is stored, its few zeros as code 0: every gap is then 0, and a
Huffman stream of one symbol costs no bits, where coded gaps cost at least a bit per entry), and with Huffman the codes and the gaps each get a canonical Huffman code
per layer.

Every file is decoded from disk and classifies the ${n} images of \`../shared/data/imagenet-sample\`
(Caffe preprocessing, 227x227), against the 8-bit model's own results there (top-1 ${baseScore.top1}/${n},
top-5 ${baseScore.top5}/${n}). "top-1 = 8-bit model": images whose top-1 class is the 8-bit model's. Logit
drift: |logit - the 8-bit model's logit| over all images and all 1000 classes, largest and mean (the
8-bit model's logits reach ${baseMaxLogit.toFixed(1)} in absolute value). Sizes in **bold** are at most 480,000 bytes.
The target (issue 7): at most 480,000 bytes, top-1 equal to the 8-bit model's on at least 95 of the
${n} images, and top-1 accuracy within two images of its ${baseScore.top1}.

## The paper's recipe: k-means with a linear start, 4 to 8 bits

Han et al.'s weight sharing: per layer, k-means over the non-zero weights with 2^bits - 1
centroids started linearly over [min, max], each weight coded by its nearest centroid, float32
codebooks and biases (\`--kmeans linear --bits N --rounding nearest --codebook f32 --bias f32\`).

${paperTable}

- At 8 bits the .net's codebooks (at most 255 values per layer) are kept exactly: the same model,
  ${int(net.length - paper8.bytes)} bytes smaller, from Huffman coding and the per-layer gap width alone.
- The paper's Table 2 lists a 6-bit SqueezeNet of 0.47 MB: ${int(paper6fixed.bytes)} bytes here at 6 bits without
  Huffman coding, ${int(paper6.bytes)} with it. But the paper's 6-bit model was *retrained* with its shared
  weights (Han et al. fine-tune the centroids); re-clustering the 8-bit weights without retraining
  keeps the top-1 class of only ${paper6.agree} of the ${n} images. Lloyd's iterations barely move a linear start
  when the weights are already ~255 discrete values, so the codes stay evenly spread over [min, max]:
  many on the sparse tails, too few where most weights are.

## Keeping the predictions without retraining

What the defaults change, each measured below (every row uses the defaults except what it names;
src/compress/kmeans.ts has the methods):
- **optimal k-means** (\`--kmeans optimal\`): the exact minimum of the same squared error, by dynamic
  programming (Ckmeans.1d.dp), instead of Lloyd's local optimum;
- **entropy-constrained codebooks** (\`--kmeans entropy\`, the default; Chou, Lookabaugh and Gray 1989):
  squared error (relative to the layer's mean square) plus lambda times the bits of the Huffman-coded
  codes, minimised exactly by dynamic programming. With Huffman coding a code's cost is its
  frequency's information, not a fixed N bits, so this spends codes where they buy the most
  accuracy per byte; \`--bits\` is then only a cap (8: up to 255 values);
- **balanced rounding** (\`--rounding balanced\`, the default): each weight takes its nearest value, then
  the cheapest weights move to the neighbouring value until each filter's rounding errors sum to
  about zero, which keeps the filter's response to a constant input;
- and float16 codebooks and biases (\`--codebook f16 --bias f16\`, the defaults): their rounding is far
  below the clustering's and saves ~${int(Math.round((rows.find((r) => r.label.includes('float32 codebooks')).bytes - def.bytes) / 1000))} KB, spent on finer codebooks.

${oursTable}

## How close the target is

The ${n} images include ${close(0.1)} whose two best logits differ by less than 0.1 and ${close(0.25)} by less than 0.25
in the 8-bit model. Random noise added to the weights shows how much that alone moves the count:
uniform noise of 0.5 % of each layer's RMS keeps the top-1 class of ${noise[0.005].join(', ')} of the ${n} in three
seeded draws, 1 % keeps ${noise[0.01].join(', ')}. A codebook of fewer values than the .net's moves the weights by
about 1 % of their RMS (the err% column of \`squeezenet compress\`), so between neighbouring settings
the agreement count moves by a few images either way (compare the rows above), while the mean logit
drift falls steadily with the size: it is the better guide.
${(() => {
  const keep = rows.filter((r) => r.agree >= 95).sort((a, b) => a.bytes - b.bytes)[0];
  return keep ? `The smallest setting here that keeps at least 95 is ${keep.table === 'paper' ? `the paper's ${keep.label} bits${keep.options.huffman ? ' with Huffman coding' : ''}` : keep.label} at ${int(keep.bytes)} bytes; ` : '';
})()}the default, at ${int(def.bytes)} bytes, keeps ${def.agree}/${n} with top-1 ${def.top1}/${n}.
${rows.some((r) => target(r) === 'yes') ? `Settings that meet the target: ${rows.filter((r) => target(r) === 'yes').map((r) => `${r.table === 'paper' ? `the paper's ${r.label} bits` : r.label} (${int(r.bytes)} bytes, ${r.agree}/${n})`).join('; ')}. ` : ''}Retraining with shared weights, as the paper did, would be needed to keep every prediction at this size.

## Version 3 and calibration

\`--sqz-version 3\` codes each layer's codebook (its used values only), biases (exactly) and
weights as one context-modelled adaptive binary range-coded stream (docs/FORMAT.md);
\`--calibrate DIR\` (with \`--max-bytes\`) tunes every layer to reproduce its output on the images
of DIR and spends the bytes where the output needs them (src/compress/calibrated.ts: GPTQ
rounding with error feedback, least-squares codebooks and bias correction on each convolution's
input statistics; per-layer rate trade-offs from the measured sensitivity of the logits; then
sequential calibration, src/compress/sequential.ts: the network compressed again one stage at a
time, each layer fitted to reproduce the uncompressed layer's output from the input the
already-compressed layers before it give it, so that it corrects their errors). The
calibrated file here saw the ${calibration.length} even-numbered images (and their mirror images) only; "held-out"
counts the other ${n - calibration.length}, which it never saw. Decode ms: \`decodeWeights\` of the file in a fresh
Node process (median of 5; V8 has not optimised anything yet, as in a command-line call).

${[
  line(['file', 'settings', 'version', 'bytes', 'top-1 = 8-bit model, calibration half', 'held-out half', 'top-1', 'top-5', 'largest logit drift', 'mean logit drift', 'decode ms']),
  line(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ...v3rows.map((r) => line([r.label, r.note, String(r.version), int(r.bytes), `${r.cal}/${calibration.length}`, `${r.held}/${n - calibration.length}`, `${r.top1}/${n}`, `${r.top5}/${n}`, r.drift.toFixed(2), r.mean.toFixed(3), r.ms.toFixed(1)])),
].join('\n')}

- Lossless version 3 keeps every one of the 1,248,424 parameters bit for bit in ${int(lossless3.bytes.length)} bytes
  (codebooks ${int(lossless3Parts.codebooks)}, biases ${int(lossless3Parts.biases)}, weights ${int(lossless3Parts.codes)}, header ${int(lossless3Parts.header)}), against
  ${int(lossless1.bytes.length)} in version 1, but decodes ${(v3rows[2].ms / v3rows[1].ms).toFixed(1)}x slower (${v3rows[2].ms.toFixed(0)} ms against ${v3rows[1].ms.toFixed(0)}; the .net: ${v3rows[0].ms.toFixed(0)}): every weight
  costs adaptive binary decisions (a non-zero flag, then up to 8 code bits) where version 1
  costs a table lookup.
  The default model stays version 1. Under 500,000 bytes was the aim, and it is out of reach of
  every model tried: \`node scripts/lossless-bounds.mjs\` prints

  \`\`\`
${bounds.trim().split('\n').map((l) => `  ${l}`).join('\n')}
  \`\`\`

  The .net's weights are close to independent draws from each layer's distribution, and which of
  them survived pruning barely depends on where they are. Only the signs follow their neighbours
  (a kernel's taps tend to share one): coded apart from the magnitudes and given the neighbours,
  the ${int(nonzero)} signs take ${int(boundsFigure('signs: the three mixed'))} bytes, against ${int(nonzero / 8)} at a bit each. The magnitudes
  (${int(boundsFigure('magnitudes: per layer'))} bytes per layer) and the sparsity pattern (${int(boundsFigure("sparsity: version 3's contexts"))}), nine tenths of the bytes,
  move by 1 % at most under every model tried: the input channel's density, the filter's and the
  input channel's running scale, the neighbours' magnitudes, the most alike earlier filter (some
  cost more than they save). All of them mixed (logistic mixing, as PAQ-family compressors do),
  the weights take ${int(boundsMixed)} bytes, ${int(lossless3Parts.codes - boundsMixed)} below version 3's ${int(lossless3Parts.codes)}; with the codebooks and
  biases (float32 values with full mantissas, coded exactly) that is ${int(boundsTotal)} bytes before
  any header. Under 500,000 bytes would need the weights in about ${int(500_000 - lossless3Parts.codebooks - lossless3Parts.biases)} bytes,
  ${((100 * (boundsMixed - (500_000 - lossless3Parts.codebooks - lossless3Parts.biases))) / boundsMixed).toFixed(1)} % below the best mix found.
  The only context that seemed to save much, each filter's own 255-symbol statistics (${int(boundsFigure('codes given the filter (255 symbols per filter)'))}
  bytes static), is the cost of ~100 weights per table counted without the tables: adaptively,
  each filter's running scale saves nothing.
  Decoding speed rules the mix out in any case: it costs several models and a mixer per
  binary decision, where version 3 already decodes ${(v3rows[2].ms / v3rows[0].ms).toFixed(1)}x slower than the .net.
${(() => {
  const free = v3rows.find((r) => r.label.startsWith('data-free'));
  const cal = v3rows.find((r) => r.label.startsWith('**calibrated**'));
  return `- The calibrated file (${int(cal.bytes)} bytes) keeps the 8-bit model's top-1 class on ${cal.held} of the ${n - calibration.length} held-out images (${((100 * cal.held) / (n - calibration.length)).toFixed(0)} %) and ${cal.cal} of the ${calibration.length} it was calibrated on, with a mean logit drift of ${cal.mean.toFixed(3)}; the data-free file of about the same size (${int(free.bytes)} bytes): ${free.held} and ${free.cal}, drift ${free.mean.toFixed(3)}.`;
})()}
  The issue's bar, the 8-bit model's top-1 on 97 % (49) of the held-out half, is not met. The
  held-out half has 4 images whose two best logits differ by less than 0.08 (and 8 more under
  0.3); at a mean drift of ~0.05 a few of them flip whatever the method, and which ones moves
  with any detail (46, 46 and 47 of the 50 in three settings tried, different images missed).
  Keeping 49 reliably would need the drift roughly halved, about what ~35,000 more bytes buy.
- How the settings were chosen, without looking at the held-out half: by cross-validation inside
  the calibration half (calibrate on the 25 images numbered 0 mod 4, judge on the 25 numbered 2
  mod 4, and the reverse), by the judged images' mean logit drift, the steadier guide (agreement
  counts of 25 moved by 1 to 3 between settings of equal drift). Measured that way (judged drift,
  first split; the steps as in src/compress/calibrated.ts): steps 1-4 alone 0.0535 (reverse split
  0.0555); with sequential calibration and the targets' ridge toward the weights at 0.01, 0.1,
  0.3, 1 and 3 of the mean Gram diagonal: 0.0519, 0.0512, 0.0513, **0.0499** (reverse split
  **0.0511**), 0.0518; with plain sequential GPTQ (statistics of the compressed input, but the
  weights themselves as the target): 0.0580; with one pass re-gathering every statistic on the
  whole last file instead of stage by stage: 0.1074 (each layer then corrects errors the new file
  does not make). The default (for the time: \`npx vitest run test/compress.calibrated.test.ts\`
  should stay within a few minutes on two cores) does one allocation round instead of two and
  gathers each Fire module's sequential statistics in one pass instead of two (10 passes over the
  inputs instead of 18): 0.0512 (two rounds with module passes: 0.0507). Tried and dropped: sequential statistics without the mirror images (0.0517);
  rate-distortion rounding inside GPTQ (a weight takes a more frequent neighbouring code when that
  saves more bits than it costs error; 0.0564 and 0.0599 at half and full lambda); fitting conv10
  to the spatial mean of its input (what the average pool passes on) as well as to each
  position (0.0543, 0.0569); pruning beyond the .net's pattern to free bytes (magnitude pruning
  of 5 % of the non-zero weights more than doubled a data-free file's drift, 0.103 to 0.244).

## Bytes by part

Header: magic, version, architecture, 26 layer records with names, shapes and CRC-32s. The codes and
gaps columns include their Huffman code-length tables.

${parts}
`;

if (OUT === '-') process.stdout.write(doc);
else {
  writeFileSync(OUT, doc);
  process.stdout.write(`${paperTable}\n\n${oursTable}\n\n${parts}\n\nwrote ${OUT}; compressed files in ${TMP}\n`);
}
