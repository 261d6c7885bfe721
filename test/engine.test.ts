// The whole engine against the plain-loop reference on random weights at small, awkward sizes.
import { describe, expect, it } from 'vitest';
import { ARCHS, SqueezeNet, plan, expectedWeights, WeightError, InputError, type ArchName } from '../src/index.js';
import { referenceConv2d, referenceFire, referenceGlobalAvgPool, referenceMaxPool, type Map3 } from './oracles/reference.js';
import { maxAbsDiff, randomWeights, seededRandom } from './helpers.js';

function referenceForward(arch: ArchName, w: Map<string, Float32Array>, x: Map3): Float32Array {
  const p = plan(ARCHS[arch], x.h, x.w);
  let m = x;
  for (const row of p.rows) {
    const s = row.spec;
    const c = row.convs;
    const get = (i: number): [Float32Array, Float32Array] => [w.get(`${c[i]!.param}.weight`)!, w.get(`${c[i]!.param}.bias`)!];
    if (s.kind === 'conv') m = referenceConv2d(m, ...get(0), s.out, s.kernel, s.stride, s.pad, true);
    else if (s.kind === 'maxpool') m = referenceMaxPool(m, s.size, s.stride, s.ceil);
    else if (s.kind === 'fire') {
      const out = referenceFire(m, { squeeze: get(0), expand1x1: get(1), expand3x3: get(2) }, s.s1x1, s.e1x1, s.e3x3);
      const by = s.bypass === 'complex' ? referenceConv2d(m, ...get(3), out.c, 1, 1, 0, false) : s.bypass === 'simple' ? m : undefined;
      if (by) for (let i = 0; i < out.data.length; i++) out.data[i]! += by.data[i]!;
      m = out;
    }
    else return referenceGlobalAvgPool(m);
  }
  throw new Error('no avgpool');
}

describe('engine vs reference', () => {
  for (const [arch, h, w] of [
    ['v1.0', 37, 37],
    ['v1.0-caffe', 39, 45],
    ['v1.1', 33, 47],
    ['simple-bypass', 41, 37],
    ['complex-bypass', 37, 43],
  ] as const) {
    it(`${arch} at ${h}x${w}: logits match the plain-loop reference`, async () => {
      const seed = 1234;
      const weights = randomWeights(plan(ARCHS[arch], h, w), seed);
      const rand = seededRandom(seed + 1);
      const data = Float32Array.from({ length: 3 * h * w }, () => rand() * 2 - 1);
      const model = await SqueezeNet.load({ arch, weights, inputSize: [h, w] });
      const got = model.run(data);
      const want = referenceForward(arch, weights, { c: 3, h, w, data });
      const scale = Math.max(...want.map(Math.abs));
      const diff = maxAbsDiff(got, want);
      console.log(`${arch} ${h}x${w} (seed ${seed}): max |logit diff| ${diff.toExponential(2)} (max |logit| ${scale.toExponential(2)})`);
      expect(got.length).toBe(1000);
      expect(diff).toBeLessThanOrEqual(1e-5 * scale);
    });
  }

  for (const [arch, h, w] of [
    ['v1.1', 33, 47],
    ['v1.0-caffe', 39, 45],
  ] as const) {
    it(`${arch} at ${h}x${w}, 1x1 layers pruned to 20 %: the sparse path runs them, as the reference and bit for bit as the dense path`, async () => {
      const weights = randomWeights(plan(ARCHS[arch], h, w), 77);
      const rand = seededRandom(78);
      const pruned = ['classifier.1.weight', 'features.12.squeeze.weight', 'features.12.expand1x1.weight'];
      for (const name of pruned) weights.set(name, weights.get(name)!.map((v) => (rand() < 0.2 ? v : 0)));
      const data = Float32Array.from({ length: 3 * h * w }, () => rand() * 2 - 1);
      const sparse = await SqueezeNet.load({ arch, weights, inputSize: [h, w] });
      const dense = await SqueezeNet.load({ arch, weights, inputSize: [h, w], sparse: false });
      const methods = (m: SqueezeNet): string[] => [...m.convMethods].filter(([, method]) => method === 'sparse').map(([n]) => n);
      expect(methods(sparse)).toEqual(['fire9.squeeze', 'fire9.expand1x1', 'conv10']);
      expect(methods(dense)).toEqual([]);
      const got = sparse.run(data);
      expect(Array.from(got)).toEqual(Array.from(dense.run(data)));
      const want = referenceForward(arch, weights, { c: 3, h, w, data });
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5 * Math.max(...want.map(Math.abs)));
      expect(sparse.memoryBytes).toBeLessThanOrEqual(dense.memoryBytes);
    });
  }

  it('re-plans for another input size and gives the same answer as a model planned for it', async () => {
    const weights = randomWeights(plan(ARCHS['v1.1'], 35), 7);
    const rand = seededRandom(8);
    const data = Float32Array.from({ length: 3 * 35 * 41 }, () => rand());
    const a = await SqueezeNet.load({ arch: 'v1.1', weights, inputSize: 64 });
    const b = await SqueezeNet.load({ arch: 'v1.1', weights, inputSize: [35, 41] });
    expect(a.run(data, { height: 35, width: 41 })).toEqual(b.run(data));
  });

  it('names a wrong, missing or misshapen weight', async () => {
    const weights = randomWeights(plan(ARCHS['v1.1']), 1);
    const missing = new Map(weights);
    missing.delete('features.3.squeeze.bias');
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: missing })).rejects.toThrow(/features.3.squeeze.bias: missing/);
    const extra = new Map(weights).set('features.3.squeeze.weights', new Float32Array(1));
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: extra })).rejects.toThrow(WeightError);
    const short = new Map(weights).set('classifier.1.weight', new Float32Array(10));
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: short })).rejects.toThrow(/classifier.1.weight: has 10 values/);
    const shaped = new Map<string, Float32Array | { data: Float32Array; shape: number[] }>(weights);
    shaped.set('features.0.weight', { data: weights.get('features.0.weight')!, shape: [64, 3, 9] });
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: shaped })).rejects.toThrow(/features.0.weight: shape is \[64,3,9\]/);
    expect(expectedWeights(plan(ARCHS['v1.1'])).size).toBe(52);
  });

  it('a NaN or infinite weight is a WeightError naming the tensor and the index', async () => {
    const weights = randomWeights(plan(ARCHS['v1.1']), 5);
    const bad = new Map(weights);
    const t = bad.get('features.6.expand3x3.weight')!.slice();
    t[1234] = Infinity;
    bad.set('features.6.expand3x3.weight', t);
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: bad })).rejects.toThrow(
      new WeightError('value Infinity at index 1234 is not finite', 'features.6.expand3x3.weight'),
    );
    const nanBias = new Map(weights).set('classifier.1.bias', new Float32Array(1000).fill(NaN));
    await expect(SqueezeNet.load({ arch: 'v1.1', weights: nanBias })).rejects.toThrow(/classifier.1.bias: value NaN at index 0/);
  });

  it('convMethods: how each convolution runs, by layer (v1.0-caffe: conv1 by im2col bands, squeezes and expand1x1s as 1x1 GEMMs, expand3x3s by Winograd, conv10 padded)', async () => {
    const model = await SqueezeNet.load({ arch: 'v1.0-caffe', weights: randomWeights(plan(ARCHS['v1.0-caffe'], 39), 3), inputSize: 39, warmup: false });
    const methods = model.convMethods;
    expect(methods.size).toBe(26);
    expect(methods.get('conv1')).toBe('im2col');
    expect(methods.get('fire2.squeeze')).toBe('gemm1x1');
    expect(methods.get('fire2.expand1x1')).toBe('gemm1x1');
    expect(methods.get('fire2.expand3x3')).toBe('winograd');
    expect(methods.get('conv10')).toBe('padded1x1');
    (methods as Map<string, string>).set('conv10', 'im2col');
    expect(model.convMethods.get('conv10')).toBe('padded1x1');
  });

  it('rejects an input of the wrong length or with NaN', async () => {
    const model = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1']), 1), inputSize: 33 });
    expect(() => model.run(new Float32Array(10))).toThrow(InputError);
    const x = new Float32Array(3 * 33 * 33);
    x[3 * 33 + 4] = NaN;
    expect(() => model.run(x)).toThrow(/input value NaN at \[0, 0, 3, 4\]/);
  });
});
