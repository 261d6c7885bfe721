// Models are independent, calls are reentrant-safe, and a disposed model says so.
import { describe, expect, it } from 'vitest';
import { ARCHS, DisposedError, InputError, SqueezeNet, plan } from '../src/index.js';
import { randomWeights, seededRandom } from './helpers.js';

describe('model lifecycle', () => {
  const size = 39;
  const rand = seededRandom(99);
  const inputs = Array.from({ length: 8 }, () => Float32Array.from({ length: 3 * size * size }, () => rand() * 2 - 1));

  it('two models in one process do not interfere', async () => {
    const a = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], size), 1), inputSize: size });
    const b = await SqueezeNet.load({ arch: 'v1.0', weights: randomWeights(plan(ARCHS['v1.0'], size), 2), inputSize: size });
    const wantA = a.run(inputs[0]!);
    const wantB = b.run(inputs[0]!);
    for (let i = 0; i < 3; i++) {
      expect(b.run(inputs[0]!)).toEqual(wantB);
      expect(a.run(inputs[0]!)).toEqual(wantA);
    }
    expect(wantA).not.toEqual(wantB);
  });

  it('Promise.all of many calls gives the sequential results', async () => {
    const m = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], size), 3), inputSize: size });
    const sequential = inputs.map((x) => m.run(x));
    const concurrent = await Promise.all(inputs.map(async (x) => m.run(x)));
    expect(concurrent).toEqual(sequential);
    // results are copies: running again does not change an earlier result
    const kept = sequential[0]!.slice();
    m.run(inputs[1]!);
    expect(sequential[0]).toEqual(kept);
  });

  it('a disposed model throws DisposedError, and a failed run leaves the model usable', async () => {
    const m = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], size), 4), inputSize: size });
    const want = m.run(inputs[2]!);
    expect(() => m.run(new Float32Array(7))).toThrow(InputError);
    expect(m.run(inputs[2]!)).toEqual(want);
    m.dispose();
    expect(() => m.run(inputs[2]!)).toThrow(DisposedError);
    expect(() => m.trace(inputs[2]!)).toThrow(DisposedError);
  });

  it('does not grow WASM memory across runs at one size', async () => {
    const m = await SqueezeNet.load({ arch: 'v1.1', weights: randomWeights(plan(ARCHS['v1.1'], size), 5), inputSize: size });
    m.run(inputs[0]!);
    const bytes = m.memoryBytes;
    for (let i = 0; i < 50; i++) m.run(inputs[i % inputs.length]!);
    expect(m.memoryBytes).toBe(bytes);
  });
});
