// The browser side of the threads test (scripts/test-browser.mjs) and of `npm run bench --
// --browser`: plain functions on window.harness that the driver calls with page.evaluate. The
// library is the compiled one (/dist/src/), its kernels fetched beside it as in any page.

import { ARCHS, SqueezeNet, expectedWeights, plan, relaxedSimdSupported } from '/dist/src/index.js';

/** What the page runs with. */
export function info() {
  return {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    relaxedSimd: relaxedSimdSupported(),
    userAgent: navigator.userAgent,
  };
}

// mulberry32, as scripts/seeded-random.mjs
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
