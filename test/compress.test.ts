// The compressor (src/compress/*): k-means (linear start, exact optimum, entropy-constrained),
// balanced rounding and pruning on their own; then whole networks compressed and decoded, where
// every decoded weight must be exactly codebook[code] of the code the encoder gave it; the
// released Deep Compression file under 480,000 bytes, and at 8 bits reproduced bit for bit.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compressCommand } from '../cli/src/compress.js';
import { decodeImage } from '../cli/src/images.js';
import { roundFloat16 } from '../src/codec/float16.js';
import { balanceRounding, entropyConstrained, kmeans1d } from '../src/compress/kmeans.js';
import { pruneByMagnitude } from '../src/compress/pruning.js';
import {
  compress,
  decodeDeepCompression,
  decodeSqz,
  InputError,
  loadDeepCompression,
  loadSqz,
  metaArch,
  plan,
  preprocess,
  readSqz,
  topK,
  type CompressOptions,
  type CompressResult,
  type DecodedTensor,
} from '../src/index.js';
import { randomWeights, seededRandom } from './helpers.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20160224;
const property = <Ts extends [unknown, ...unknown[]]>(p: fc.IProperty<Ts>, numRuns: number): void => {
  try {
    fc.assert(p, { seed: SEED, numRuns });
  } catch (e) {
    const inner = (e as Error).cause;
    throw new Error(`property failed with FC_SEED=${SEED}\n${(e as Error).message}${inner instanceof Error ? `\nGot: ${inner.message}` : ''}`, { cause: e });
  }
};

const sse = (values: ArrayLike<number>, centroids: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    let best = Infinity;
    for (let j = 0; j < centroids.length; j++) best = Math.min(best, (values[i]! - centroids[j]!) ** 2);
    s += best;
  }
  return s;
};

/** The least squared error of any k clusters of sorted values: every contiguous partition. */
function bruteForceSse(values: readonly number[], k: number): number {
  const xs = [...values].sort((a, b) => a - b);
  const cost = (i: number, j: number): number => {
    const part = xs.slice(i, j);
    const m = part.reduce((a, b) => a + b, 0) / part.length;
    return part.reduce((a, v) => a + (v - m) ** 2, 0);
  };
  const best = (from: number, left: number): number => {
    if (from === xs.length) return 0;
    if (left === 1) return cost(from, xs.length);
    let b = cost(from, xs.length);
    for (let j = from + 1; j < xs.length; j++) b = Math.min(b, cost(from, j) + best(j, left - 1));
    return b;
  };
  return best(0, k);
}

describe('k-means', () => {
  it('linear: centroids start evenly over [min, max]; no more distinct values than k keeps them all (lossless)', () => {
    const km = kmeans1d([0.5, -1, 2, 2, 0.5], 7);
    expect(Array.from(km.centroids)).toEqual([-1, 0.5, 2]);
    expect([km.codeOf(-1), km.codeOf(0.5), km.codeOf(2)]).toEqual([0, 1, 2]);
    expect(() => km.codeOf(3)).toThrow(RangeError);
    // Two tight groups and linear starts at -1, 0, 1: the middle one ends empty and is dropped.
    const two = kmeans1d([-1, -1.1, -0.9, 1, 1.1, 0.9], 3);
    expect(Array.from(two.centroids).map((v) => Number(v.toFixed(6)))).toEqual([-1, 1]);
  });

  it('optimal: the least squared error of any clustering (against every partition of up to 9 values)', () => {
    property(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 9 }), fc.integer({ min: 1, max: 4 }), (ints, k) => {
        const values = ints.map((v) => v / 8);
        const km = kmeans1d(values, k, 'optimal');
        expect(km.centroids.length).toBeLessThanOrEqual(k);
        expect(sse(values, km.centroids)).toBeCloseTo(bruteForceSse(values, Math.min(k, new Set(values).size)), 9);
      }),
      300,
    );
  });

  it('optimal is never worse than linear; both are deterministic and ascending (random layers, 200 values)', () => {
    property(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 63 }), (seed, k) => {
        const rand = seededRandom(seed);
        const values = Array.from({ length: 200 }, () => Math.fround((rand() - 0.5) * (rand() < 0.1 ? 8 : 1)));
        const lin = kmeans1d(values, k, 'linear');
        const opt = kmeans1d(values, k, 'optimal');
        expect(sse(values, opt.centroids)).toBeLessThanOrEqual(sse(values, lin.centroids) * (1 + 1e-6) + 1e-12);
        expect(Array.from(kmeans1d(values, k, 'linear').centroids)).toEqual(Array.from(lin.centroids));
        for (const c of [lin.centroids, opt.centroids]) for (let j = 1; j < c.length; j++) expect(c[j]!).toBeGreaterThan(c[j - 1]!);
      }),
      100,
    );
  });

  it('optimal over more distinct values than it solves exactly (bins, then Lloyd): no worse than linear', () => {
    const rand = seededRandom(3);
    const values = Array.from({ length: 20_000 }, () => Math.fround(rand() * rand() - 0.3));
    expect(sse(values, kmeans1d(values, 31, 'optimal').centroids)).toBeLessThanOrEqual(sse(values, kmeans1d(values, 31, 'linear').centroids));
  });

  it('entropy: lambda 0 keeps every distinct value; a larger lambda never keeps more; k caps the count', () => {
    const rand = seededRandom(11);
    const values = Array.from({ length: 3000 }, () => Math.fround(Math.round((rand() - 0.5) * 400) / 100));
    const distinct = new Set(values).size;
    expect(entropyConstrained(values, 0, 1000).centroids.length).toBe(distinct);
    let last = Infinity;
    for (const lambda of [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]) {
      const n = entropyConstrained(values, lambda, 1000).centroids.length;
      expect(n).toBeLessThanOrEqual(last);
      last = n;
    }
    expect(last).toBeLessThan(10);
    expect(entropyConstrained(values, 0, 15).centroids.length).toBeLessThanOrEqual(15);
    expect(() => entropyConstrained(values, -1, 15)).toThrow(RangeError);
  });
});

describe('balanced rounding', () => {
  it('moves codes at most one step, and never leaves a group further from zero error than nearest rounding', () => {
    property(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 30 }), (seed, k) => {
        const rand = seededRandom(seed);
        const values = Array.from({ length: 300 }, () => rand() * 2 - 1);
        const centroids = kmeans1d(values, k, 'linear').centroids;
        const nearest = Int32Array.from(values, (v) => {
          let b = 0;
          for (let j = 1; j < centroids.length; j++) if (Math.abs(v - centroids[j]!) < Math.abs(v - centroids[b]!)) b = j;
          return b;
        });
        const codes = nearest.slice();
        const groups = Array.from({ length: 10 }, (_, g) => Array.from({ length: 30 }, (_, i) => g * 30 + i));
        balanceRounding(values, codes, centroids, groups);
        for (let i = 0; i < codes.length; i++) expect(Math.abs(codes[i]! - nearest[i]!)).toBeLessThanOrEqual(1);
        for (const g of groups) {
          const err = (c: Int32Array): number => Math.abs(g.reduce((s, i) => s + values[i]! - centroids[c[i]!]!, 0));
          expect(err(codes)).toBeLessThanOrEqual(err(nearest) + 1e-12);
        }
      }),
      200,
    );
  });
});

describe('pruning', () => {
  it('keeps the round(density * n) largest magnitudes (ties: the lower index), zeros stay zeros', () => {
    const w = Float32Array.from([0.5, -3, 0, 2, -0.5, 1, 0, -2]);
    expect(Array.from(pruneByMagnitude(w, 0.5))).toEqual([0, -3, 0, 2, 0, 1, 0, -2]);
    expect(Array.from(pruneByMagnitude(w, 0.25))).toEqual([0, -3, 0, 2, 0, 0, 0, 0]);
    expect(Array.from(pruneByMagnitude(w, 0.75))).toEqual(Array.from(w)); // 6 non-zero <= 6 kept
    expect(Array.from(pruneByMagnitude(w, 0))).toEqual(new Array<number>(8).fill(0));
    expect(() => pruneByMagnitude(w, 1.5)).toThrow(RangeError);
  });
});

/** A small v1.0-layout network (Section 5's metaparameters), so whole-network cases take milliseconds. */
const TINY = metaArch({ baseE: 8, incrE: 8, freq: 2, pct3x3: 0.5, sr: 0.25 });

/** Every decoded weight is codebook[code] of the code the encoder gave it, bit for bit; biases as stored. */
function expectExactRoundTrip(r: CompressResult, original: ReadonlyMap<string, Float32Array | DecodedTensor>, biasF16: boolean): Map<string, DecodedTensor> {
  const decoded = decodeSqz(r.bytes).weights;
  for (const l of r.layers) {
    const w = decoded.get(`${l.name}.weight`)!.data;
    expect(w.length).toBe(l.weights);
    let wrong = -1;
    for (let p = 0; p < w.length && wrong < 0; p++) if (!Object.is(w[p], l.codebook[l.codes[p]!]!) && !(w[p] === 0 && l.codes[p] === 0)) wrong = p;
    expect(wrong, `${l.op}: position ${wrong}`).toBe(-1);
    const orig = original.get(`${l.name}.bias`)!;
    const b = orig instanceof Float32Array ? orig : orig.data;
    expect(Array.from(decoded.get(`${l.name}.bias`)!.data)).toEqual(Array.from(b, (v) => (biasF16 ? roundFloat16(v) : v)));
  }
  return decoded;
}

describe('whole networks (random weights, a small v1.0-layout network)', () => {
  const weights = randomWeights(plan(TINY), 5);

  const cases: [string, CompressOptions][] = [];
  for (const kmeans of ['linear', 'optimal', 'entropy'] as const) {
    for (const rounding of ['nearest', 'balanced'] as const) {
      for (const huffman of [true, false]) {
        cases.push([`${kmeans}, ${rounding}, ${huffman ? 'Huffman' : 'fixed width'}`, { kmeans, rounding, huffman, bits: kmeans === 'entropy' ? 8 : 5, lambda: kmeans === 'entropy' ? 1e-3 : undefined }]);
      }
    }
  }
  cases.push(['float32 codebook and biases', { codebookF16: false, biasF16: false }]);
  cases.push(['pruned to 30 %, 4-bit gaps', { density: 0.3, gapBits: 4 }]);
  cases.push(['per layer: 3 bits, conv1 8, conv10 pruned to 10 %', { kmeans: 'linear', bits: { '*': 3, conv1: 8 }, density: { conv10: 0.1 } }]);

  for (const [name, options] of cases) {
    it(`round trip, ${name}: decoded = codebook[code], exactly`, () => {
      const r = compress(weights, { arch: TINY, ...options });
      expectExactRoundTrip(r, weights, options.biasF16 !== false);
      for (const l of r.layers) {
        const bits = typeof options.bits === 'object' ? (options.bits[l.op] ?? options.bits['*']!) : (options.bits ?? 8);
        expect(l.codebook.length - 1, l.op).toBeLessThanOrEqual(2 ** bits - 1);
        expect(l.codebook[0]).toBe(0);
        const density = typeof options.density === 'object' ? (options.density[l.op] ?? 1) : (options.density ?? 1);
        expect(l.nonzero, l.op).toBe(Math.min(l.nonzeroBefore, Math.round(density * l.weights)));
        if (options.gapBits !== undefined) expect(l.gapBits).toBe(options.gapBits);
      }
      expect(r.sizes.total).toBe(r.bytes.length);
      expect(r.sizes.header + r.sizes.codebooks + r.sizes.biases + r.sizes.codes + r.sizes.gaps).toBe(r.sizes.total);
      expect(compress(weights, { arch: TINY, ...options }).bytes).toEqual(r.bytes); // deterministic
    });
  }

  it('maxBytes: the most accurate file that fits, and a tighter budget gives a smaller file', () => {
    const loose = compress(weights, { arch: TINY, maxBytes: 60_000 });
    const tight = compress(weights, { arch: TINY, maxBytes: 30_000 });
    expect(loose.sizes.total).toBeLessThanOrEqual(60_000);
    expect(tight.sizes.total).toBeLessThanOrEqual(30_000);
    expect(tight.lambda!).toBeGreaterThan(loose.lambda!);
    expect(() => compress(weights, { arch: TINY, maxBytes: 100 })).toThrow(/prune more/);
  });

  it('refuses what makes no sense (InputError)', () => {
    expect(() => compress(weights, { arch: TINY, bits: { fire10: 3 } })).toThrow(/no layer named "fire10"/);
    expect(() => compress(weights, { arch: TINY, bits: 13 })).toThrow(InputError);
    expect(() => compress(weights, { arch: TINY, density: 1.5 })).toThrow(InputError);
    expect(() => compress(weights, { arch: TINY, kmeans: 'linear', lambda: 1 })).toThrow(/entropy-constrained clustering only/);
    expect(() => compress(weights, { arch: 'v1.1' })).toThrow(/features.0.weight/);
  });
});

describe('the released compressed_SqueezeNet.net', () => {
  let net: Uint8Array;
  let weights: Map<string, DecodedTensor>;
  beforeAll(() => {
    net = readFileSync(shared(MODEL));
    weights = decodeDeepCompression(net).weights;
  });

  it('with the defaults: at most 480,000 bytes, decoded = codebook[code] exactly, the sparsity pattern kept', () => {
    const r = compress(weights);
    const decoded = expectExactRoundTrip(r, weights, true);
    console.log(`defaults: ${r.sizes.total.toLocaleString('en-US')} bytes (${JSON.stringify(r.sizes)}), lambda ${r.lambda}`);
    expect(r.sizes.total).toBeLessThanOrEqual(480_000);
    for (const [name, t] of weights) {
      if (!name.endsWith('.weight')) continue;
      const d = decoded.get(name)!.data;
      let moved = -1;
      for (let i = 0; i < d.length && moved < 0; i++) if ((t.data[i] === 0) !== (d[i] === 0)) moved = i;
      expect(moved, `${name}: a zero appeared or vanished at ${moved}`).toBe(-1);
    }
  });

  it('~99 % dense layers store every position (every gap 0, a gap stream of 3 bytes); the 20-33 % dense ones keep coded gaps', () => {
    const r = compress(weights);
    for (const l of r.layers) {
      const density = l.nonzero / l.weights;
      if (density > 0.98) {
        expect(l.dense, `${l.op} at ${density}`).toBe(true);
        expect(l.entries).toBe(l.weights);
        expect(l.bytes.gaps, l.op).toBe(3);
      }
      if (density < 0.4) expect(l.dense, `${l.op} at ${density}`).toBe(false);
    }
    // a fixed gap width turns it off: every layer then codes its gaps, at a bit or more per entry
    const fixed = compress(weights, { gapBits: { '*': 1 } });
    for (const l of fixed.layers) expect(l.dense).toBe(false);
    expect(fixed.sizes.codes + fixed.sizes.gaps).toBeGreaterThan(r.sizes.codes + r.sizes.gaps);
  });

  it("at 8 bits (linear k-means, float32, nearest) it is the .net's model bit for bit, in fewer bytes", () => {
    const r = compress(weights, { kmeans: 'linear', bits: 8, rounding: 'nearest', codebookF16: false, biasF16: false });
    const decoded = decodeSqz(r.bytes).weights;
    for (const [name, t] of weights) {
      const d = decoded.get(name)!.data;
      let wrong = -1;
      for (let i = 0; i < d.length && wrong < 0; i++) if (!Object.is(d[i], t.data[i])) wrong = i;
      expect(wrong, `${name} at ${wrong}`).toBe(-1);
    }
    console.log(`8-bit lossless: ${r.sizes.total.toLocaleString('en-US')} bytes, the .net ${net.length.toLocaleString('en-US')}`);
    expect(r.sizes.total).toBeLessThan(net.length);
  });

  it("the paper's recipe (6-bit linear k-means): at most 63 shared values per layer", () => {
    const r = compress(weights, { kmeans: 'linear', bits: 6, rounding: 'nearest', codebookF16: false, biasF16: false });
    expect(Math.max(...r.layers.map((l) => l.codebook.length - 1))).toBeLessThanOrEqual(63);
    expectExactRoundTrip(r, weights, false);
  });

  it('issue 7 target, --kmeans optimal --bits 7: at most 480,000 bytes, top-1 = the .net model on >= 95 of the 100 shared images, accuracy within 2', async () => {
    const r = compress(weights, { kmeans: 'optimal', bits: 7 });
    expect(r.sizes.total).toBeLessThanOrEqual(480_000);
    const dir = shared(IMAGES);
    const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    expect(files).toHaveLength(100);
    const [a, b] = await Promise.all([loadDeepCompression(net), loadSqz(r.bytes)]);
    const best = (l: Float32Array): number => topK(l, 1)[0]!.index;
    let agree = 0;
    let correctA = 0;
    let correctB = 0;
    for (const f of files) {
      const x = preprocess(await decodeImage(join(dir, f)), 'caffe');
      const [ta, tb] = [best(a.run(x)), best(b.run(x))];
      const label = Number(f.split('_')[0]);
      agree += ta === tb ? 1 : 0;
      correctA += ta === label ? 1 : 0;
      correctB += tb === label ? 1 : 0;
    }
    a.dispose();
    b.dispose();
    console.log(`optimal 7-bit: ${r.sizes.total.toLocaleString('en-US')} bytes, top-1 agreement ${agree}/100, top-1 ${correctB} (the .net ${correctA})`);
    expect(agree).toBeGreaterThanOrEqual(95);
    expect(Math.abs(correctB - correctA)).toBeLessThanOrEqual(2);
  });

  it('loads like any weights and gives the .net model’s top class on the tench photo', async () => {
    const pixels = preprocess(await decodeImage(shared(join(IMAGES, '000_n01440764_tench.JPEG'))), 'caffe');
    const [a, b] = await Promise.all([loadDeepCompression(net), loadSqz(compress(weights).bytes)]);
    const want = topK(a.run(pixels), 1)[0]!;
    const got = topK(b.run(pixels), 1)[0]!;
    a.dispose();
    b.dispose();
    expect(got.index).toBe(want.index);
    expect(got.index).toBe(0);
  });
});

describe('squeezenet compress', () => {
  let dir: string;
  let out: string[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'squeezenet-compress-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    out = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      const code = await compressCommand(args);
      return { code, stdout: out.join(''), stderr: err.join('') };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('writes the .sqz and prints every part and each layer', async () => {
    const file = join(dir, 'out.sqz');
    const r = await run([shared(MODEL), file]);
    expect(r.stderr).toBe(
      `squeezenet compress: ${shared(MODEL)} (deepcompression, SqueezeNet v1.0-caffe): recipe caffe, because a Deep Compression .net holds the released Caffe model (v1.0-caffe), trained in Caffe; written into ${file}'s metadata\n`,
    );
    expect(r.code).toBe(0);
    const bytes = readFileSync(file);
    expect(readSqz(bytes).layers.length).toBe(26);
    expect(readSqz(bytes).metadata).toEqual({ recipe: 'caffe' });
    for (const part of ['header', 'codebooks', 'biases', 'codes', 'gaps', 'total']) expect(r.stdout).toMatch(new RegExp(`^${part} +[\\d,]+ bytes`, 'm'));
    expect(r.stdout).toContain(`total    ${bytes.length.toLocaleString('en-US').padStart(11)} bytes`);
    expect(r.stdout).toMatch(/^fire9\.expand3x3 +256x64x3x3 +30\.0%/m);
  });

  it('--json, --no-huffman, --bits per layer, and compressing a .sqz again', async () => {
    const first = join(dir, 'paper.sqz');
    const r = await run(['--json', '--kmeans', 'linear', '--bits', '6,conv1=8', '--no-huffman', '--rounding', 'nearest', shared(MODEL), first]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { sizes: { total: number }; layers: { op: string; k: number; bits: number }[] };
    expect(json.layers[0]).toMatchObject({ op: 'conv1', bits: 8 });
    expect(json.layers[1]!.bits).toBe(6);
    expect(json.sizes.total).toBe(readFileSync(first).length);
    const again = await run(['--kmeans', 'linear', '--bits', '8', first, join(dir, 'again.sqz')]);
    expect(again.code).toBe(0);
  });

  it('usage errors exit 2; an unreadable input exits 1', async () => {
    expect((await run([shared(MODEL)])).code).toBe(2);
    expect((await run(['--bits', '0', shared(MODEL), join(dir, 'x.sqz')])).code).toBe(2);
    expect((await run(['--bits', '6,conv99=4', shared(MODEL), join(dir, 'x.sqz')])).code).toBe(1);
    expect((await run(['--lambda', '1e-4', '--kmeans', 'optimal', shared(MODEL), join(dir, 'x.sqz')])).code).toBe(2);
    expect((await run(['--kmeans', 'median', shared(MODEL), join(dir, 'x.sqz')])).code).toBe(2);
    const missing = await run([join(dir, 'nothing.net'), join(dir, 'x.sqz')]);
    expect([missing.code, missing.stderr.includes('no such file')]).toEqual([1, true]);
    const junk = join(dir, 'junk.bin');
    await import('node:fs').then((fs) => fs.writeFileSync(junk, 'not weights'));
    const bad = await run([junk, join(dir, 'x.sqz')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^squeezenet compress: .*junk\.bin: weight file at byte 0: not a \.sqz, Deep Compression \.net, safetensors or ONNX file/m);
  });

  it('--sqz-version 3 writes version 3; --calibrate needs --max-bytes and a folder of images', async () => {
    const v3 = join(dir, 'v3.sqz');
    const r = await run(['--sqz-version', '3', shared(MODEL), v3]);
    expect(r.code).toBe(0);
    expect(readSqz(readFileSync(v3)).version).toBe(3);
    expect(r.stdout).toContain('context-modelled range-coded (.sqz version 3)');
    const usage = async (args: string[], pattern: RegExp): Promise<void> => {
      const u = await run([...args, shared(MODEL), join(dir, 'x.sqz')]);
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.stderr).toMatch(pattern);
    };
    await usage(['--sqz-version', '2'], /--sqz-version must be 1 or 3, got 2/);
    await usage(['--calibrate', dir], /--calibrate needs --max-bytes/);
    await usage(['--calibrate', dir, '--max-bytes', '420000', '--lambda', '1e-4'], /leave out --lambda/);
    await usage(['--calibrate', dir, '--max-bytes', '420000', '--kmeans', 'optimal'], /--max-bytes applies to --kmeans entropy only/);
    const notDir = await run(['--calibrate', join(dir, 'v3.sqz'), '--max-bytes', '420000', shared(MODEL), join(dir, 'x.sqz')]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toContain(`squeezenet compress: --calibrate ${join(dir, 'v3.sqz')}: not a directory\n`);
    const empty = mkdtempSync(join(dir, 'empty-'));
    const none = await run(['--calibrate', empty, '--max-bytes', '420000', shared(MODEL), join(dir, 'x.sqz')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`squeezenet compress: --calibrate ${empty}: no images in it\n`);
  });

  it('--max-bytes: --progress shows each file the lambda search tries; without it (not a terminal) nothing more', async () => {
    const shipped = join(ROOT, 'models', 'squeezenet1_0-deep-compression.sqz');
    const [a, b] = [join(dir, 'search-a.sqz'), join(dir, 'search-b.sqz')];
    const shown = await run(['--max-bytes', '450000', '--progress', shipped, a]);
    const quiet = await run(['--max-bytes', '450000', shipped, b]);
    expect([shown.code, quiet.code]).toEqual([0, 0]);
    const steps = [...shown.stderr.matchAll(/^lambda (\S+): ([\d,]+) bytes, budget 450,000$/gm)].map((m) => ({ lambda: Number(m[1]), bytes: Number(m[2]!.replace(/,/g, '')) }));
    expect(steps.length).toBeGreaterThanOrEqual(3);
    // The best that fits is what was written, and a larger lambda never gave a larger file.
    const fits = steps.filter((t) => t.bytes <= 450_000);
    expect(readFileSync(a).length).toBe(Math.max(...fits.map((t) => t.bytes)));
    const byLambda = [...steps].sort((x, y) => x.lambda - y.lambda);
    expect(byLambda.every((t, i) => i === 0 || t.bytes <= byLambda[i - 1]!.bytes)).toBe(true);
    expect(quiet.stderr).not.toMatch(/^lambda /m);
    expect(readFileSync(b)).toEqual(readFileSync(a));
  });

  it("the README's lossless command: version 3 of the shipped model, every parameter bit-identical and fewer bytes", async () => {
    const shipped = join(ROOT, 'models', 'squeezenet1_0-deep-compression.sqz');
    const out = join(dir, 'lossless-v3.sqz');
    const r = await run(['--kmeans', 'linear', '--bits', '8', '--rounding', 'nearest', '--codebook', 'f32', '--bias', 'f32', '--sqz-version', '3', shipped, out]);
    expect(r.code, r.stderr).toBe(0);
    const before = decodeSqz(readFileSync(shipped)).weights;
    const after = decodeSqz(readFileSync(out)).weights;
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, t] of before) {
      const a = after.get(name)!.data;
      let differ = 0;
      for (let i = 0; i < t.data.length; i++) if (!Object.is(a[i], t.data[i])) differ++;
      expect(differ, name).toBe(0);
    }
    expect(readSqz(readFileSync(out)).version).toBe(3);
    expect(readFileSync(out).length).toBeLessThan(readFileSync(shipped).length);
  });

  it('an input that is not a regular file (a directory, /dev/zero) exits 1 at once, as classify --weights does', async () => {
    for (const input of [dir, '/dev/zero']) {
      const r = await run([input, join(dir, 'x.sqz')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`squeezenet compress: ${input} is not a regular file`);
    }
  });
});
