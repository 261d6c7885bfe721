// The worker-thread pool gives exactly the single-threaded results, in order, and fails cleanly:
// typed errors with their fields across the thread boundary, a worker that exits is replaced and
// its jobs reject, bad inputs reject at once and leave nothing behind.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The pool starts worker threads from compiled files, so this test uses the build in dist/.
import {
  SqueezeNetPool,
  SqueezeNet,
  ARCHS,
  plan,
  InputError,
  DisposedError,
  WeightError,
  FormatError,
  WorkerError,
  SqueezeNetError,
} from '../dist/src/node/index.js';
import { fromWire, toWire } from '../dist/src/wire.js';
import { assertBuilt } from './built.js';
import { randomWeights, seededRandom } from './helpers.js';
import { ROOT } from './shared.js';

const size = 41;
const weights = randomWeights(plan(ARCHS['v1.1'], size), 3);
const rand = seededRandom(4);
const image = (n = size): Float32Array => Float32Array.from({ length: 3 * n * n }, () => rand() * 2 - 1);
const inputs = Array.from({ length: 6 }, () => image());

// The error a promise rejects with (fails the test if it resolves).
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, got a result');
}

// The worker thread of a pool's slot, to end it as a crash would (the pool keeps it private).
const workerOf = (pool: SqueezeNetPool, i: number): { terminate(): Promise<number>; threadId: number } =>
  (pool as unknown as { slots: { worker: { terminate(): Promise<number>; threadId: number } }[] }).slots[i]!.worker;

beforeAll(() => assertBuilt(join(ROOT, 'dist/src/node/pool.js')));

describe('SqueezeNetPool', () => {
  let pool: SqueezeNetPool | undefined;
  let model: SqueezeNet | undefined;
  afterAll(() => pool?.close());

  it('runs a batch on 2 workers with the same logits as one model, in input order', async () => {
    pool = await SqueezeNetPool.create({ arch: 'v1.1', weights, inputSize: size, workers: 2 });
    expect(pool.size).toBe(2);
    model = await SqueezeNet.load({ arch: 'v1.1', weights, inputSize: size });
    const want = inputs.map((x) => model!.run(x));
    const got = await pool.runBatch(inputs);
    expect(got).toEqual(want);
    expect(pool.pending).toBe(0);
  });

  it('rejects a bad input with the typed error and keeps serving', async () => {
    await expect(pool!.run(new Float32Array(5))).rejects.toThrow(/input has 5 values/);
    await expect(pool!.run(new Float32Array(5))).rejects.toThrow(InputError);
    expect((await pool!.run(inputs[0]!)).length).toBe(1000);
  });

  it('rejects an input that cannot be copied to a worker at once, with InputError, and leaks no job', async () => {
    const detached = image();
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    const e = await rejection(pool!.run(detached));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/could not be copied to a worker thread: .*detached/);
    expect(pool!.pending).toBe(0);
    const notAnArray = await rejection(pool!.run({ length: 5043 } as unknown as Float32Array));
    expect(notAnArray).toBeInstanceOf(InputError);
    expect(notAnArray.message).toMatch(/must be a Float32Array.*got Object/);
    expect(pool!.pending).toBe(0);
    // the next jobs are spread over both workers again, and answered
    expect(await pool!.runBatch(inputs.slice(0, 4))).toEqual(inputs.slice(0, 4).map((x) => model!.run(x)));
  });

  it('names the index of the input that failed in a batch, keeping its class', async () => {
    const batch = [inputs[0]!, inputs[1]!, new Float32Array(7), inputs[2]!];
    const e = await rejection(pool!.runBatch(batch));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(`inputs[2]: input has 7 values; 1x3x${size}x${size} needs ${3 * size * size}`);
    expect((e as InputError & { index: number }).index).toBe(2);
    const nan = Float32Array.from(inputs[3]!);
    nan[10] = NaN;
    const e2 = await rejection(pool!.runBatch([inputs[0]!, nan]));
    expect(e2).toBeInstanceOf(InputError);
    expect(e2.message).toMatch(/^inputs\[1\]: input value NaN at \[0, 0, 0, 10\] is not finite/);
  });

  it('rejects runBatch of something that is not an array with InputError', async () => {
    for (const bad of [null, undefined, 'images', inputs[0]]) {
      const e = await rejection(pool!.runBatch(bad as unknown as Float32Array[]));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(/inputs must be an array of Float32Array/);
    }
  });

  it('refuses work after close, a batch too, even an empty one', async () => {
    await pool!.close();
    await expect(pool!.run(inputs[0]!)).rejects.toThrow(DisposedError);
    await expect(pool!.runBatch([inputs[0]!])).rejects.toThrow(DisposedError);
    await expect(pool!.runBatch([])).rejects.toThrow(DisposedError);
    await pool!.close(); // a second close is harmless
  });
});

describe('SqueezeNetPool: a worker that exits', () => {
  it('rejects the jobs it held with WorkerError, is replaced, and the pool keeps serving', async () => {
    // a size where each job takes a few ms, so that the worker still holds jobs when it is ended
    const big = 113;
    const w = randomWeights(plan(ARCHS['v1.1'], big), 5);
    const pool = await SqueezeNetPool.create({ arch: 'v1.1', weights: w, inputSize: big, workers: 2 });
    try {
      const model = await SqueezeNet.load({ arch: 'v1.1', weights: w, inputSize: big });
      const batch = Array.from({ length: 12 }, () => image(big));
      const jobs = batch.map((x) => pool.run(x));
      const victim = workerOf(pool, 0);
      const threadId = victim.threadId;
      void victim.terminate();
      const settled = await Promise.allSettled(jobs);
      const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as WorkerError] : []));
      expect(failed.length).toBeGreaterThan(0);
      for (const e of failed) {
        expect(e).toBeInstanceOf(WorkerError);
        expect(e.threadId).toBe(threadId);
        expect(e.exitCode).toBe(1);
        expect(e.message).toBe(`worker thread ${threadId} exited with code 1`);
      }
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') expect(s.value).toEqual(model.run(batch[i]!));
      });
      expect(pool.pending).toBe(0);
      // replaced: two workers again, a new thread in slot 0, and every later job is answered
      expect(pool.size).toBe(2);
      expect(await pool.runBatch(batch.slice(0, 4))).toEqual(batch.slice(0, 4).map((x) => model.run(x)));
      expect(workerOf(pool, 0).threadId).not.toBe(threadId);
    } finally {
      await pool.close();
    }
  });
});

describe('SqueezeNetPool: errors cross the thread boundary with their class and fields', () => {
  it('reports bad weights from the workers as WeightError, with the tensor, at create', async () => {
    const bad = new Map(weights);
    bad.delete('classifier.1.bias');
    const e = await rejection(SqueezeNetPool.create({ arch: 'v1.1', weights: bad, workers: 1 }));
    expect(e).toBeInstanceOf(WeightError);
    expect(e).toBeInstanceOf(SqueezeNetError);
    expect((e as WeightError).tensor).toBe('classifier.1.bias');
    expect(e.message).toMatch(/^classifier.1.bias: missing/);
    const nan = new Map(weights);
    const t = Float32Array.from(nan.get('features.0.weight')!);
    t[7] = NaN;
    nan.set('features.0.weight', t);
    const e2 = await rejection(SqueezeNetPool.create({ arch: 'v1.1', weights: nan, inputSize: size, workers: 2 }));
    expect(e2).toBeInstanceOf(WeightError);
    expect(e2.name).toBe('WeightError');
    expect((e2 as WeightError).tensor).toBe('features.0.weight');
    expect(e2.message).toBe('features.0.weight: value NaN at index 7 is not finite');
  });

  it('rebuilds every error class with its fields (wire format)', () => {
    const cases: Error[] = [
      new FormatError('truncated', 'safetensors', 1234, 'conv1'),
      new WeightError('wrong shape', 'features.0.weight'),
      new WorkerError('gone', 7, 1),
      new InputError('bad'),
      new DisposedError('disposed'),
      new TypeError('a bug'),
    ];
    for (const original of cases) {
      const wire = structuredClone(toWire(original));
      const back = fromWire(wire);
      expect(back.constructor).toBe(original.constructor);
      expect(back.name).toBe(original.name);
      expect(back.message).toBe(original.message);
      expect({ ...back }).toEqual({ ...original });
      expect(back.stack).toBe(original.stack);
    }
    const f = fromWire(structuredClone(toWire(cases[0]))) as FormatError;
    expect([f.format, f.offset, f.layer]).toEqual(['safetensors', 1234, 'conv1']);
    // a name it does not know stays visible on a SqueezeNetError
    const other = fromWire({ name: 'DataCloneError', message: 'x', fields: {} });
    expect(other).toBeInstanceOf(SqueezeNetError);
    expect(other.name).toBe('DataCloneError');
  });
});

describe('SqueezeNetPool: dispose()', () => {
  it('rejects pending and later jobs with DisposedError, as SqueezeNet does after dispose()', async () => {
    const pool = await SqueezeNetPool.create({ arch: 'v1.1', weights, inputSize: size, workers: 1 });
    const pending = pool.run(inputs[0]!);
    pool.dispose();
    const e = await rejection(pending);
    expect(e).toBeInstanceOf(DisposedError);
    await expect(pool.run(inputs[0]!)).rejects.toThrow(DisposedError);
    await expect(pool.runBatch([inputs[0]!])).rejects.toThrow(DisposedError);
    expect(pool.pending).toBe(0);
  });
});
