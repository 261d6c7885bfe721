// The worker-thread pool gives exactly the single-threaded results, in order, and fails cleanly.
import { afterAll, describe, expect, it } from 'vitest';
// The pool starts worker threads from compiled files, so this test uses the build in dist/.
import { SqueezeNetPool, SqueezeNet, ARCHS, plan, InputError, DisposedError } from '../dist/src/node/index.js';
import { randomWeights, seededRandom } from './helpers.js';

describe('SqueezeNetPool', () => {
  const size = 41;
  const weights = randomWeights(plan(ARCHS['v1.1'], size), 3);
  const rand = seededRandom(4);
  const inputs = Array.from({ length: 6 }, () => Float32Array.from({ length: 3 * size * size }, () => rand() * 2 - 1));
  let pool: SqueezeNetPool | undefined;
  afterAll(() => pool?.close());

  it('runs a batch on 2 workers with the same logits as one model, in input order', async () => {
    pool = await SqueezeNetPool.create({ arch: 'v1.1', weights, inputSize: size, workers: 2 });
    expect(pool.size).toBe(2);
    const model = await SqueezeNet.load({ arch: 'v1.1', weights, inputSize: size });
    const want = inputs.map((x) => model.run(x));
    const got = await pool.runBatch(inputs);
    expect(got).toEqual(want);
  });

  it('rejects a bad input with the typed error and keeps serving', async () => {
    await expect(pool!.run(new Float32Array(5))).rejects.toThrow(/input has 5 values/);
    await expect(pool!.run(new Float32Array(5))).rejects.toThrow(InputError);
    expect((await pool!.run(inputs[0]!)).length).toBe(1000);
  });

  it('refuses work after close', async () => {
    await pool!.close();
    await expect(pool!.run(inputs[0]!)).rejects.toThrow(DisposedError);
  });

  it('reports bad weights from the workers as WeightError at create', async () => {
    const bad = new Map(weights);
    bad.delete('classifier.1.bias');
    await expect(SqueezeNetPool.create({ arch: 'v1.1', weights: bad, workers: 1 })).rejects.toThrow(/classifier.1.bias: missing/);
  });
});
