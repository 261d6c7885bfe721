// Steady-state timing with benchmark.js's loop and statistics.
//
// minTime is set to 1 ms so that benchmark.js keeps its count at 1 for anything slower than that
// (every whole-network inference): each sample is then one inference, and the median and minimum
// are over single inferences rather than over means of batches. benchmark.js stops after maxTime
// seconds once it has minSamples samples. For the per-kernel benchmark, where one call can take
// microseconds, minTime is left at benchmark.js's calibration (count grows until a sample lasts
// 50 ms) and a sample is the mean of that many calls.

import Benchmark from 'benchmark';

export interface Timing {
  /** Milliseconds per call, one entry per benchmark.js sample. */
  readonly samples: number[];
  readonly median: number;
  readonly min: number;
  readonly mean: number;
  /** benchmark.js's relative margin of error of the mean (95 %), in percent. */
  readonly rme: number;
  /** Calls per sample (1 for whole-network runs). */
  readonly count: number;
}

export interface TimingOptions {
  /** Seconds benchmark.js may spend sampling (it stops at the first sample past it). */
  readonly maxTime: number;
  readonly minSamples?: number;
  /** Seconds a sample must last at least; 0.001 makes each whole-network sample one call. */
  readonly minTime?: number;
  /** Seconds of untimed calls first, so that V8 has tiered the hot code up. */
  readonly warmup?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function warmUp(fn: () => unknown, seconds: number): Promise<void> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (n < 3 || performance.now() < end) {
    await fn();
    n++;
  }
}

/** Times `fn` (sync, or returning a promise when `async`) with benchmark.js. */
export async function time(name: string, fn: () => unknown, async: boolean, options: TimingOptions): Promise<Timing> {
  await warmUp(fn, options.warmup ?? 0.5);
  let failure: unknown;
  const bench: Benchmark = new Benchmark(name, {
    defer: async,
    fn: async
      ? (deferred: { resolve(): void }) => {
          (fn() as Promise<unknown>).then(
            () => deferred.resolve(),
            (e: unknown) => {
              failure = e;
              bench.abort();
            },
          );
        }
      : fn,
    maxTime: options.maxTime,
    minSamples: options.minSamples ?? 5,
    minTime: options.minTime ?? 0.001,
    initCount: 1,
    delay: 0,
  });
  await new Promise<void>((resolve, reject) => {
    bench.on('complete', () => (bench.error || failure ? reject(bench.error ?? failure) : resolve()));
    bench.on('error', () => reject(bench.error));
    bench.on('abort', () => reject(failure ?? new Error(`${name}: benchmark aborted`)));
    bench.run({ async: true });
  });
  const samples = bench.stats.sample.map((s) => s * 1000);
  return {
    samples,
    median: median(samples),
    min: Math.min(...samples),
    mean: bench.stats.mean * 1000,
    rme: bench.stats.rme,
    count: bench.count,
  };
}
