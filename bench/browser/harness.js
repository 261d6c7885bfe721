// The browser side of the threads test (scripts/test-browser.mjs) and of `npm run bench --
// --browser`: plain functions on window.harness that the driver calls with page.evaluate. The
// library is the compiled one (/dist/src/), its kernels fetched beside it as in any page.

import { ARCHS, SqueezeNet, expectedWeights, plan, relaxedSimdSupported } from '/dist/src/index.js';
import { mulberry32 as seeded } from '/dist/src/random.js';

/** What the page runs with. */
export function info() {
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    relaxedSimd: relaxedSimdSupported(),
    userAgent: navigator.userAgent,
  };
}

/** Seeded uniform weights scaled by fan-in, for an arch at a size. */
export function randomWeights(arch, h, w, seed = 1) {
  const rand = seeded(seed);
  const out = new Map();
  for (const [name, shape] of expectedWeights(plan(ARCHS[arch], h, w))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fan = shape.length === 4 ? shape[1] * shape[2] * shape[3] : 1;
    const scale = shape.length === 4 ? Math.sqrt(6 / fan) : 0.1;
    out.set(name, Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale));
  }
  return out;
}

const image = (h, w, seed) => {
  const rand = seeded(seed);
  return Float32Array.from({ length: 3 * h * w }, () => rand() * 2 - 1);
};

const sameBits = (a, b) => {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
};

/**
 * Loads `arch` at [h, w] on 1 thread and on each of `counts` threads (SIMD `simd`), runs two
 * images with runAsync (on the threads; the page's main thread may not block) and with run (the
 * main thread alone), and says whether every logit has one thread's bits.
 */
export async function threads({ arch, h, w, counts, simd }) {
  const weights = randomWeights(arch, h, w, 3);
  const inputs = [image(h, w, 1), image(h, w, 2)];
  const one = await SqueezeNet.load({ arch, weights, inputSize: [h, w], threads: 1, simd });
  const want = inputs.map((x) => one.run(x));
  const rows = [];
  for (const n of counts) {
    const m = await SqueezeNet.load({ arch, weights, inputSize: [h, w], threads: n, simd });
    const viaThreads = [];
    for (const x of inputs) viaThreads.push(await m.runAsync(x));
    const alone = inputs.map((x) => m.run(x));
    rows.push({
      threads: m.threads,
      reason: m.threadsReason,
      simd: m.simd,
      runAsync: viaThreads.every((l, i) => sameBits(l, want[i])),
      run: alone.every((l, i) => sameBits(l, want[i])),
    });
    m.dispose();
  }
  one.dispose();
  return rows;
}

/** A model with the default options: how many threads, and why. */
export async function defaults(arch = 'v1.1', size = 35) {
  const m = await SqueezeNet.load({ arch, weights: randomWeights(arch, size, size), inputSize: size });
  const out = { threads: m.threads, reason: m.threadsReason, simd: m.simd };
  m.dispose();
  return out;
}

// --- the benchmark (npm run bench -- --browser): one engine and model per page -------------------

const MODELS = {
  'v1.0': { arch: 'v1.0-caffe', size: 227, onnx: '/build/onnx/squeezenet1_0.onnx' },
  'v1.1': { arch: 'v1.1', size: 224, onnx: '/build/onnx/squeezenet1_1.onnx' },
};

let session;

// The ONNX graph (the fixtures' seeded weights) as bytes, and its weights as Float32Arrays by name.
async function graph(model) {
  const bytes = new Uint8Array(await (await fetch(MODELS[model].onnx)).arrayBuffer());
  const { decodeWeights } = await import('/dist/src/index.js');
  const { weights } = decodeWeights(bytes);
  const plain = new Map([...weights].map(([k, v]) => [k, v instanceof Float32Array ? v : v.data]));
  return { bytes, weights: plain };
}

async function openEngine(engine, model, threads, simd) {
  const { arch, size } = MODELS[model];
  const { bytes, weights } = await graph(model);
  if (engine === 'squeezenet-wasm') {
    const net = await SqueezeNet.load({ arch, weights, threads, simd });
    // the page's main thread may not block: runAsync runs on the model's Web Workers
    return { threads: net.threads, simd: net.simd, note: net.threadsReason, run: (x) => net.runAsync(x), memory: () => net.memoryBytes, net };
  }
  if (engine === 'onnxruntime-web') {
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const [inputName] = s.inputNames;
    const [outputName] = s.outputNames;
    return {
      threads,
      simd: 'plain',
      note: `env.wasm.numThreads = ${threads}`,
      run: async (x) => (await s.run({ [inputName]: new ort.Tensor('float32', x, [1, 3, size, size]) }))[outputName].data,
      memory: () => null,
    };
  }
  if (engine === 'tfjs-wasm') {
    const tf = await import('@tensorflow/tfjs-core');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    backend.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
    await tf.ready();
    const { buildTfjsSqueezeNet } = await import('/dist/bench/tfjs-squeezenet.js');
    const net = buildTfjsSqueezeNet(tf, arch, weights);
    const actual = threads > 1 ? backend.getThreadsCount() : 1;
    return {
      threads: actual,
      simd: 'plain',
      note: threads > 1 ? `threaded SIMD build, getThreadsCount() = ${actual} (tfjs takes half of navigator.hardwareConcurrency ${navigator.hardwareConcurrency})` : 'WASM_HAS_MULTITHREAD_SUPPORT = false',
      run: (x) => net.run(x),
      memory: () => null,
    };
  }
  throw new Error(`unknown engine ${engine}`);
}

/** Opens one engine on one model in this page; `input` the NCHW image every later call runs. */
export async function open({ engine, model, threads, simd, input }) {
  const t0 = performance.now();
  session = await openEngine(engine, model, threads, simd);
  session.input = Float32Array.from(input);
  return { threads: session.threads, simd: session.simd, note: session.note, load_ms: performance.now() - t0, runtime: `chromium ${/Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ?? '?'}` };
}

export async function logits() {
  return Array.from(await session.run(session.input));
}

/** `warmup` seconds of untimed runs, then one sample per call for `maxTime` seconds (at least 5). */
export async function time({ maxTime, warmup }) {
  let end = performance.now() + warmup * 1000;
  for (let n = 0; n < 3 || performance.now() < end; n++) await session.run(session.input);
  const samples = [];
  end = performance.now() + maxTime * 1000;
  while (samples.length < 5 || performance.now() < end) {
    const t = performance.now();
    await session.run(session.input);
    samples.push(performance.now() - t);
  }
  return { samples, count: 1 };
}

export function memory() {
  return { bytes: session.memory() };
}

/** Ours: profile() rows averaged over `runs` (the page's main thread alone: profile is synchronous). */
export function profile({ runs }) {
  const net = session.net;
  const sums = new Map();
  for (let r = 0; r < runs; r++) {
    for (const row of net.profile(session.input)) {
      const s = sums.get(row.name) ?? { ms: 0, threads: row.threads.map(() => 0) };
      s.ms += row.ms / runs;
      row.threads.forEach((t, i) => (s.threads[i] += t / runs));
      sums.set(row.name, s);
    }
  }
  return { rows: [...sums].map(([name, s]) => ({ name, ...s })) };
}

/** Cold start: navigation to the first logits, ms (performance.now() counts from the navigation). */
export async function cold({ engine, model, threads, simd }) {
  if (engine === 'none') return { first_logits_ms: performance.now() };
  const { size } = MODELS[model];
  const s = await openEngine(engine, model, threads, simd);
  const x = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37) * 1.5);
  await s.run(x);
  return { first_logits_ms: performance.now() };
}
