// Intra-op threads: one image's layers split across N threads give bit for bit the logits (and
// every traced layer) of one thread, for N = 1..4, on every network and at awkward sizes where
// some threads get no unit of a layer; the `threads` option, the reason, the fallback without
// shared memory, profile() per thread, re-planning, runAsync and dispose().
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHS, InputError, DisposedError, SqueezeNet, plan, type ArchName, type LoadOptions } from '../src/index.js';
import { MAX_THREADS } from '../src/model.js';
import { WASM_FILES, compileKernels } from '../src/wasm.js';
import { assertBuilt } from './built.js';
import { randomWeights, seededRandom } from './helpers.js';
import { ROOT } from './shared.js';

// The worker threads run the compiled library (dist/src/thread-worker.js) even when the test runs
// the TypeScript sources: a stale build would test yesterday's code.
beforeAll(() => assertBuilt(join(ROOT, 'dist/src/thread-worker.js')));

const image = (h: number, w: number, seed: number): Float32Array => {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: 3 * h * w }, () => rand() * 2 - 1);
};

// Object.is on every value: +0 and -0, NaN's bits aside, must match.
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const bad = a.findIndex((v, i) => v !== b[i]);
  expect(bad, `${what}: first differing value at ${bad} (${got[bad]} vs ${want[bad]})`).toBe(-1);
}

interface Case {
  readonly arch: ArchName;
  readonly size: number | [number, number];
  readonly options?: Partial<LoadOptions>;
  /** Zero this share of conv10's weights, so that it runs as the sparse 1x1. */
  readonly prune?: number;
}

// Sizes chosen so that late layers have fewer rows, tile rows or channels than threads, and
// v1.0's conv1 (im2col, one band buffer per thread) many bands.
const CASES: readonly Case[] = [
  { arch: 'v1.0-caffe', size: 227 },
  { arch: 'v1.1', size: [41, 37] },
  { arch: 'v1.0', size: 47 },
  { arch: 'v1.0-caffe', size: 35, prune: 0.8 },
  { arch: 'simple-bypass', size: 43 },
  // no warmup: the first run is the first on the threads (a bypass's addition must run once per unit)
  { arch: 'complex-bypass', size: [39, 45], options: { warmup: false } },
  { arch: 'simple-bypass', size: 35, options: { warmup: false } },
  { arch: 'v1.1', size: 33, options: { winograd: false } },
];

describe.each(CASES)('$arch at $size: N threads give one thread\'s bits', (c) => {
  const p = plan(ARCHS[c.arch], ...((Array.isArray(c.size) ? c.size : [c.size, c.size]) as [number, number]));
  const [, h, w] = p.input;
  const weights = randomWeights(p, 11);
  if (c.prune) {
    const conv10 = Float32Array.from(weights.get('classifier.1.weight')!);
    const rand = seededRandom(12);
    for (let i = 0; i < conv10.length; i++) if (rand() < c.prune) conv10[i] = 0;
    weights.set('classifier.1.weight', conv10);
  }
  const inputs = [image(h, w, 1), image(h, w, 2)];
  const models: SqueezeNet[] = [];
  let one: SqueezeNet;
  beforeAll(async () => {
    one = await SqueezeNet.load({ arch: c.arch, weights, inputSize: c.size, threads: 1, ...c.options });
    models.push(one);
  });
  afterAll(() => models.forEach((m) => m.dispose()));

  it.each([2, 3, 4])('%i threads: logits and every traced layer', async (n) => {
    const m = await SqueezeNet.load({ arch: c.arch, weights, inputSize: c.size, threads: n, ...c.options });
    models.push(m);
    expect(m.threads).toBe(n);
    expect(m.threadsReason).toBe(`threads: ${n} was asked for`);
    expect(m.convMethods).toEqual(one.convMethods);
    if (c.prune) expect(m.convMethods.get('conv10')).toBe('sparse');
    for (const x of inputs) expectSameBits(m.run(x), one.run(x), `${n} threads, logits`);
    const want = one.trace(inputs[0]!);
    const got = m.trace(inputs[0]!);
    expect(got.layers.map((l) => l.name)).toEqual(want.layers.map((l) => l.name));
    got.layers.forEach((l, i) => expectSameBits(l.data, want.layers[i]!.data, `${n} threads, ${l.name}`));
    expectSameBits(got.logits, want.logits, `${n} threads, trace logits`);
  });
});

describe('threads: the option, the default and the fallback', () => {
  const p = plan(ARCHS['v1.1'], 35);
  const weights = randomWeights(p, 3);
  const load = (o: Partial<LoadOptions>): Promise<SqueezeNet> => SqueezeNet.load({ arch: 'v1.1', weights, inputSize: 35, ...o });

  it('defaults to the available cores in Node, and says so', async () => {
    const m = await load({});
    const cores = availableParallelism();
    expect(m.threads).toBe(cores);
    expect(m.threadsReason).toBe(`${cores} available core${cores === 1 ? '' : 's'} (os.availableParallelism())`);
    m.dispose();
  });

  it('rejects a thread count that is not an integer from 1 to MAX_THREADS with InputError', async () => {
    for (const bad of [0, -1, 1.5, NaN, MAX_THREADS + 1, '2', null]) {
      await expect(load({ threads: bad as number }), String(bad)).rejects.toThrow(InputError);
    }
    await expect(load({ threads: 0 })).rejects.toThrow(`threads must be an integer from 1 to ${MAX_THREADS}, got 0`);
  });

  it('runs on one thread, with the reason, where there is no SharedArrayBuffer (Cloudflare Workers, a page that is not cross-origin isolated)', async () => {
    const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
    const saved = g.SharedArrayBuffer;
    const want = await load({ threads: 1 });
    try {
      g.SharedArrayBuffer = undefined;
      const m = await load({ threads: 4 });
      expect(m.threads).toBe(1);
      expect(m.threadsReason).toBe('SharedArrayBuffer is missing in this runtime: one thread');
      g.crossOriginIsolated = false;
      const page = await load({});
      expect(page.threads).toBe(1);
      expect(page.threadsReason).toMatch(/^SharedArrayBuffer is missing: the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\): one thread$/);
      const x = image(35, 35, 5);
      expectSameBits(m.run(x), want.run(x), 'no shared memory');
    } finally {
      g.SharedArrayBuffer = saved;
      delete g.crossOriginIsolated;
    }
  });

  it('runs the debug build, and a given single-thread module, on one thread, saying why', async () => {
    const debug = await load({ debug: true, threads: 2 });
    expect([debug.threads, debug.threadsReason, debug.simd]).toEqual([1, 'the debug build runs on one thread', 'plain']);
    const plain = await load({ wasm: await compileKernels(undefined), threads: 2 });
    expect(plain.threads).toBe(1);
    expect(plain.threadsReason).toMatch(/the `wasm` given is the single-thread build/);
    // the threads build given as bytes runs threaded
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(join(ROOT, 'build', WASM_FILES.threads));
    const threaded = await load({ wasm: bytes, threads: 2 });
    expect([threaded.threads, threaded.simd]).toEqual([2, 'plain']);
    const x = image(35, 35, 6);
    expectSameBits(threaded.run(x), plain.run(x), 'given threads build');
    for (const m of [debug, plain, threaded]) m.dispose();
  });

  it('re-plans for another size on every thread', async () => {
    const one = await load({ threads: 1 });
    const three = await load({ threads: 3 });
    for (const [hh, ww] of [[51, 45], [35, 35], [29, 61]] as const) {
      const x = image(hh, ww, hh);
      expectSameBits(three.run(x, { height: hh, width: ww }), one.run(x, { height: hh, width: ww }), `${hh}x${ww}`);
    }
    one.dispose();
    three.dispose();
  });

  it('keeps one thread\'s bits when the memory grows under the threads (a much larger input, v1.0-caffe\'s padded conv10 copied by the workers)', async () => {
    const w = randomWeights(plan(ARCHS['v1.0-caffe'], 35), 9);
    const one = await SqueezeNet.load({ arch: 'v1.0-caffe', weights: w, inputSize: 35, threads: 1, warmup: false });
    const two = await SqueezeNet.load({ arch: 'v1.0-caffe', weights: w, inputSize: 35, threads: 2, warmup: false });
    const bytes = two.memoryBytes;
    for (const size of [35, 227, 35, 301]) {
      const x = image(size, size, size);
      expectSameBits(two.run(x, { height: size }), one.run(x, { height: size }), `${size}x${size}`);
    }
    expect(two.memoryBytes).toBeGreaterThan(bytes);
    one.dispose();
    two.dispose();
  });

  it('a worker reads a program published beyond the memory it saw when it started (the memory grown since)', async () => {
    const { ThreadTeam } = await import('../src/threads.js');
    const { Arena } = await import('../src/arena.js');
    const { instantiate } = await import('../src/wasm.js');
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
    const module = await compileKernels(undefined, false, { threads: true });
    const team = await ThreadTeam.start(module, memory, 2);
    try {
      const arena = new Arena(await instantiate(module, { memory }));
      // grown after the worker instantiated the module: an empty program at 4 MiB
      const at = arena.alloc(1 << 20);
      const json = new TextEncoder().encode('[]');
      new Uint8Array(memory.buffer, at, json.length).set(json);
      team.publish(at, json.length, 0);
      expect(() => team.run(arena, [], [], 0)).not.toThrow();
    } finally {
      team.dispose();
    }
  });

  it('profile(): a row per row of Table 1, with the busy milliseconds of each thread', async () => {
    const m = await load({ threads: 3 });
    const rows = m.profile(image(35, 35, 7));
    expect(rows.map((r) => r.name)).toEqual(m.plan.rows.map((r) => r.spec.name));
    for (const r of rows) {
      expect(r.threads).toHaveLength(3);
      for (const t of r.threads) expect(t).toBeGreaterThanOrEqual(0);
      // a thread cannot have been busy longer than the row took on the calling thread, which waited for it (timer rounding aside)
      expect(r.threads[0]!).toBeLessThanOrEqual(r.ms + 0.5);
    }
    expect(rows.find((r) => r.name === 'fire9')!.threads.filter((t) => t > 0).length).toBeGreaterThan(1);
    m.dispose();
  });

  it('runAsync gives run\'s logits; dispose() stops the threads and later calls throw DisposedError', async () => {
    const m = await load({ threads: 2 });
    const x = image(35, 35, 8);
    expectSameBits(await m.runAsync(x), m.run(x), 'runAsync');
    m.dispose();
    expect(() => m.run(x)).toThrow(DisposedError);
    await expect(m.runAsync(x)).rejects.toThrow(DisposedError);
  });
});

describe('shareOf: the threads\' shares of a stage cover every unit exactly once', () => {
  it('for 1..9 threads and 0..40 units split over one to three tasks', async () => {
    const { shareOf } = await import('../src/schedule.js');
    for (let n = 1; n <= 9; n++) {
      for (const units of [[0], [1], [3], [16], [40], [5, 7], [1, 1, 1], [13, 0, 9]]) {
        const stage = { row: 0, captures: [], tasks: units.map((u) => ({ op: 'add' as const, y: 0, x: 0, rowFloats: 1, units: u })) };
        const seen = units.map((u) => new Array<number>(u).fill(0));
        let sizes: number[] = [];
        for (let t = 0; t < n; t++) {
          let mine = 0;
          for (const [i, from, to] of shareOf(stage, t, n)) {
            for (let u = from; u < to; u++) seen[i]![u]!++;
            mine += to - from;
          }
          sizes.push(mine);
        }
        expect(seen.flat().every((c) => c === 1), `${n} threads, units ${units}`).toBe(true);
        // as even as whole units allow
        sizes = sizes.sort((a, b) => a - b);
        expect(sizes.at(-1)! - sizes[0]!).toBeLessThanOrEqual(1);
      }
    }
  });

  it('splits a stage of tasks whose units cost differently by cost, each thread within one unit of an equal share', async () => {
    const { shareOf } = await import('../src/schedule.js');
    const rand = seededRandom(21);
    for (let trial = 0; trial < 200; trial++) {
      const tasks = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({
        op: 'conv' as const,
        layers: [],
        io: { x: 0, y: 0, ldc: 1, first: 0, relu: false },
        phase: 0,
        units: Math.floor(rand() * 60),
        cost: 1 + Math.floor(rand() * 1000),
      }));
      const stage = { row: 0, captures: [], tasks };
      const n = 1 + Math.floor(rand() * 5);
      const total = tasks.reduce((a, t) => a + t.units * t.cost, 0);
      const worst = Math.max(0, ...tasks.filter((t) => t.units > 0).map((t) => t.cost));
      const seen = tasks.map((t) => new Array<number>(t.units).fill(0));
      for (let t = 0; t < n; t++) {
        let cost = 0;
        for (const [i, from, to] of shareOf(stage as never, t, n)) {
          for (let u = from; u < to; u++) seen[i]![u]!++;
          cost += (to - from) * tasks[i]!.cost;
        }
        if (tasks.length > 1) expect(Math.abs(cost - total / n), JSON.stringify({ tasks, n, t })).toBeLessThanOrEqual(worst);
      }
      expect(seen.flat().every((c) => c === 1)).toBe(true);
    }
  });
});
