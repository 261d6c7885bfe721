// @ts-check
// The example page: loads SqueezeNet v1.0 (the Deep Compression weights that ship with the
// library, dist/models/) with squeezenet-wasm, then classifies each image picked, dropped or
// chosen from the samples, and draws what the network sees: conv1's filters (from the weights)
// and the most active channels of each Fire module (from model.trace). In your own page the import reads `from 'squeezenet-wasm'` (with a
// bundler) or points at wherever you serve dist/src/.

import { decodeWeights, preprocess, RECIPES, SqueezeNet, topK } from '../../dist/src/index.js';
import { decodeImage } from './decode.js';

/** The network's input size under the Caffe recipe the Deep Compression weights were trained with. */
const SIZE = RECIPES.caffe.input;
const CAFFE_MEAN_BGR = [104, 117, 123];
const FIRE_CHANNELS = 8;

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e;
}
/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 */
function make(tag, className, text) {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}
/** @param {string} id */
const canvas = (id) => /** @type {HTMLCanvasElement} */ (el(id));
/** @param {HTMLCanvasElement | OffscreenCanvas} c */
function context2d(c) {
  const ctx = /** @type {CanvasRenderingContext2D | null} */ (c.getContext('2d', { willReadFrequently: true }));
  if (ctx === null) throw new Error('this browser gives no 2D canvas');
  return ctx;
}

/**
 * One status line under the picker. `state` is also what the tests wait for.
 * @param {string} text
 * @param {'loading' | 'ready' | 'running' | 'error'} state
 */
function status(text, state) {
  const s = el('status');
  s.textContent = text;
  s.dataset.state = state;
}

// The kernels are compiled once, while the weights download; the server sends application/wasm.
const wasm = WebAssembly.compileStreaming(fetch('../../build/squeezenet.wasm'));

/** @type {SqueezeNet | undefined} */
let model;

/** The model that ships with the library, as the package lays it out (dist/models/). */
const DEFAULT_MODEL = '../../dist/models/squeezenet1_0-deep-compression.sqz';

/**
 * Decodes a weight file of SqueezeNet v1.0 in its Caffe form (the default model's .sqz, the Deep
 * Compression .net, or any format `decodeWeights` reads), loads the network and draws conv1's
 * filters. The page preprocesses as Caffe did, so other networks are refused by name.
 * @param {ArrayBuffer} bytes
 * @param {string} name
 */
async function loadWeights(bytes, name) {
  status(`Loading ${name}...`, 'loading');
  const { weights, arch } = decodeWeights(bytes);
  const archName = typeof arch === 'string' ? arch : arch.name;
  if (archName !== 'v1.0-caffe') {
    throw new Error(`${name} holds SqueezeNet ${archName}: this page runs v1.0 in its Caffe form (the Deep Compression weights); \`squeezenet classify --weights\` takes any network`);
  }
  const next = await SqueezeNet.load({ arch: 'v1.0-caffe', weights, wasm: await wasm });
  model?.dispose();
  model = next;
  drawFilters(/** @type {{ data: Float32Array, shape: number[] }} */ (weights.get('features.0.weight')));
  el('inside').hidden = false;
  const mb = (model.memoryBytes / 2 ** 20).toFixed(1);
  status(`Ready: ${name} (${bytes.byteLength.toLocaleString('en')} bytes), ${mb} MB of WebAssembly memory. Choose an image.`, 'ready');
}

/** @param {number} p a probability */
const percent = (p) => `${100 * p >= 1 ? (100 * p).toFixed(1) : (100 * p).toPrecision(2)} %`;

/**
 * Decodes an image with the browser, classifies it and draws the results.
 * @param {Blob} blob
 * @param {string} name
 */
async function classifyImage(blob, name) {
  if (model === undefined) throw new Error('the weights are not loaded yet: wait for "Ready", or choose a weight file');
  const result = el('result');
  result.dataset.state = 'running';
  status(`Classifying ${name}...`, 'running');
  const t0 = performance.now();
  // The stored samples (no colour management), upright by the EXIF orientation (decode.js).
  const { bitmap, pixels } = await decodeImage(blob);
  const t1 = performance.now();
  // Transparency composited over white, the command line's rule (preprocess's default background).
  const input = preprocess(pixels, 'caffe');
  const t2 = performance.now();
  const logits = model.run(input, { height: SIZE, width: SIZE });
  const t3 = performance.now();
  const top = topK(logits, 5);

  drawPhoto(bitmap, name);
  drawInput(input);
  const list = el('top5');
  list.replaceChildren(
    ...top.map((p, i) => {
      const label = make('span', 'label', p.label ?? `class ${p.index}`);
      if (i === 0) label.id = 'top1';
      label.dataset.index = String(p.index);
      const fill = make('div', '', '');
      fill.style.width = `${(100 * p.prob).toFixed(2)}%`;
      const bar = make('div', 'bar', '');
      bar.append(fill);
      const li = document.createElement('li');
      li.append(label, make('span', 'prob', percent(p.prob)), bar, make('span', 'id', `class ${p.index} · ${p.synset}`));
      return li;
    }),
  );
  el('timing').textContent =
    `Network ${(t3 - t2).toFixed(0)} ms (WebAssembly SIMD, one thread) · preprocessing ${(t2 - t1).toFixed(0)} ms · ` +
    `decoding ${(t1 - t0).toFixed(0)} ms`;
  result.hidden = false;

  drawFires(model.trace(input, { height: SIZE, width: SIZE }).layers);
  bitmap.close();
  result.dataset.image = name;
  result.dataset.state = 'done';
  status(`${name}: ${top[0]?.label}, ${percent(top[0]?.prob ?? 0)}. Choose another image.`, 'ready');
}

/**
 * @param {ImageBitmap} bitmap
 * @param {string} name
 */
function drawPhoto(bitmap, name) {
  const c = canvas('photo');
  const ctx = context2d(c);
  const scale = Math.min(c.width / bitmap.width, c.height / bitmap.height);
  const [w, h] = [bitmap.width * scale, bitmap.height * scale];
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.drawImage(bitmap, (c.width - w) / 2, (c.height - h) / 2, w, h);
  el('photo-caption').textContent = `${name}, ${bitmap.width}x${bitmap.height}`;
}

/**
 * The input tensor back as a picture: BGR minus the means, planar, to RGBA.
 * @param {Float32Array} input
 */
function drawInput(input) {
  const c = canvas('seen');
  c.width = c.height = SIZE;
  const ctx = context2d(c);
  const img = ctx.createImageData(SIZE, SIZE);
  const plane = SIZE * SIZE;
  for (let p = 0; p < plane; p++) {
    for (let rgb = 0; rgb < 3; rgb++) {
      const bgr = 2 - rgb;
      img.data[4 * p + rgb] = (input[bgr * plane + p] ?? 0) + (CAFFE_MEAN_BGR[bgr] ?? 0);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * conv1's 96 filters (out 96, in 3 in BGR order, 7x7) as RGB thumbnails, each stretched to its
 * own minimum and maximum, in a grid with one-pixel gaps.
 * @param {{ data: Float32Array, shape: number[] }} weight
 */
function drawFilters(weight) {
  const [count = 0, channels = 0, k = 0] = weight.shape;
  const cols = 16;
  const rows = Math.ceil(count / cols);
  const c = canvas('filters');
  c.width = cols * (k + 1) + 1;
  c.height = rows * (k + 1) + 1;
  const ctx = context2d(c);
  const img = ctx.createImageData(c.width, c.height);
  img.data.fill(255);
  const size = channels * k * k;
  for (let f = 0; f < count; f++) {
    const w = weight.data.subarray(f * size, (f + 1) * size);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const x0 = 1 + (f % cols) * (k + 1);
    const y0 = 1 + Math.floor(f / cols) * (k + 1);
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const o = 4 * ((y0 + y) * c.width + x0 + x);
        for (let rgb = 0; rgb < 3; rgb++) img.data[o + rgb] = ((w[(2 - rgb) * k * k + y * k + x] ?? 0) - lo) * scale;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

// viridis, five stops: dark blue (no response) to yellow (the channel's strongest).
const PALETTE = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
/** @param {number} t 0..1 */
function colour(t) {
  const x = Math.min(Math.max(t, 0), 1) * (PALETTE.length - 1);
  const i = Math.min(Math.floor(x), PALETTE.length - 2);
  const [a, b] = [PALETTE[i] ?? [0, 0, 0], PALETTE[i + 1] ?? [0, 0, 0]];
  return a.map((v, j) => v + ((b[j] ?? 0) - v) * (x - i));
}

/**
 * For each Fire module's output, its most active channels (by mean), each scaled to its maximum.
 * @param {{ name: string, shape: readonly number[], data: Float32Array }[]} layers
 */
function drawFires(layers) {
  const rows = layers
    .filter((l) => /^fire\d+$/.test(l.name))
    .map((layer) => {
      const [, channels = 0, h = 0, w = 0] = layer.shape;
      const plane = h * w;
      const means = Array.from({ length: channels }, (_, ch) => {
        let s = 0;
        for (let p = 0; p < plane; p++) s += layer.data[ch * plane + p] ?? 0;
        return { ch, mean: s / plane };
      });
      const chosen = means.sort((a, b) => b.mean - a.mean).slice(0, FIRE_CHANNELS);
      const maps = chosen.map(({ ch }) => {
        const c = document.createElement('canvas');
        c.className = 'pixelated';
        c.width = w;
        c.height = h;
        c.title = `${layer.name}, channel ${ch}`;
        const ctx = context2d(c);
        const img = ctx.createImageData(w, h);
        const data = layer.data.subarray(ch * plane, (ch + 1) * plane);
        let max = 0;
        for (const v of data) max = Math.max(max, v);
        for (let p = 0; p < plane; p++) {
          const [r = 0, g = 0, b = 0] = colour(max > 0 ? (data[p] ?? 0) / max : 0);
          img.data.set([r, g, b, 255], 4 * p);
        }
        ctx.putImageData(img, 0, 0);
        return c;
      });
      const row = document.createElement('div');
      row.className = 'fire';
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = layer.name;
      const dims = document.createElement('span');
      dims.textContent = `${channels} channels, ${h}x${w}`;
      name.append(dims);
      const strip = document.createElement('div');
      strip.className = 'maps';
      strip.append(...maps);
      row.append(name, strip);
      return row;
    });
  el('fires').replaceChildren(...rows);
}

/**
 * Runs an action from the page, showing any failure in the status line.
 * @param {() => Promise<void>} action
 */
async function attempt(action) {
  try {
    await action();
  } catch (e) {
    console.error(e);
    el('result').dataset.state = 'error';
    status(e instanceof Error ? `${e.name}: ${e.message}` : String(e), 'error');
  }
}

/** @param {File | undefined} file */
const pickImage = (file) => file && attempt(() => classifyImage(file, file.name));

const imageInput = /** @type {HTMLInputElement} */ (el('image-input'));
imageInput.addEventListener('change', () => {
  pickImage(imageInput.files?.[0]);
  imageInput.value = '';
});
const weightsInput = /** @type {HTMLInputElement} */ (el('weights-input'));
weightsInput.addEventListener('change', () => {
  const file = weightsInput.files?.[0];
  if (file) attempt(async () => loadWeights(await file.arrayBuffer(), file.name));
});
const drop = el('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  pickImage(e.dataTransfer?.files[0]);
});

// The model that ships with the library; the user may pick other weights.
attempt(async () => {
  el('weights-picker').hidden = false;
  const res = await fetch(DEFAULT_MODEL);
  if (!res.ok) throw new Error(`${DEFAULT_MODEL}: HTTP ${res.status} (run \`npm run build\`, which copies models/ to dist/models/)`);
  await loadWeights(await res.arrayBuffer(), DEFAULT_MODEL.split('/').at(-1) ?? DEFAULT_MODEL);
});

// A few sample photos, when the server offers them.
attempt(async () => {
  const res = await fetch('samples.json');
  const names = res.ok ? /** @type {string[]} */ (await res.json()) : [];
  const box = el('samples');
  for (const name of names) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = name.replace(/^\d+_n\d+_/, '').replace(/\.\w+$/, '').replace(/_/g, ' ');
    b.addEventListener('click', () =>
      attempt(async () => {
        const r = await fetch(`samples/${name}`);
        if (!r.ok) throw new Error(`samples/${name}: HTTP ${r.status}`);
        await classifyImage(await r.blob(), name);
      }),
    );
    box.append(b);
  }
  box.hidden = names.length === 0;
});
