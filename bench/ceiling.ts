// Measures the WASM SIMD f32 ceiling with the mul + add microkernels of bench/assembly/ceiling.ts
// (built to build/ceiling.wasm by `npm run bench`). The ceiling is the best rate seen: each kernel
// runs in short bursts and the fastest burst counts, since anything else running on the machine can
// only slow a burst down.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export const CEILING_WASM = join(ROOT, 'build', 'ceiling.wasm');

export interface Ceiling {
  /** The faster of the two kernels, GFLOP/s. */
  readonly gflops: number;
  /** Each kernel's best GFLOP/s. */
  readonly kernels: Record<string, number>;
}

interface CeilingExports {
  f32_muladd_chain_ceiling(iterations: number): number;
  f32_muladd_acc_ceiling(iterations: number): number;
  CHAIN_FLOPS_PER_ITERATION: WebAssembly.Global;
  ACC_FLOPS_PER_ITERATION: WebAssembly.Global;
}

/** Runs each kernel in bursts of about `burstMs` for about `seconds` in all, and keeps the best. */
export async function measureCeiling(seconds = 1.5, burstMs = 10): Promise<Ceiling> {
  if (!existsSync(CEILING_WASM)) {
    throw new Error(`no ${CEILING_WASM}: build it with \`npx asc --config bench/assembly/asconfig.json\` (npm run bench does)`);
  }
  const { instance } = await WebAssembly.instantiate(readFileSync(CEILING_WASM), { env: { abort() {} } });
  const e = instance.exports as unknown as CeilingExports;
  const kernels: [string, (n: number) => number, number][] = [
    ['f32_muladd_chain_ceiling', e.f32_muladd_chain_ceiling, e.CHAIN_FLOPS_PER_ITERATION.value as number],
    ['f32_muladd_acc_ceiling', e.f32_muladd_acc_ceiling, e.ACC_FLOPS_PER_ITERATION.value as number],
  ];
  const best: Record<string, number> = {};
  for (const [name, fn, flops] of kernels) {
    // Calibrate the burst length once the kernel is warm (tiered up from Liftoff to TurboFan).
    let iterations = 100_000;
    for (let i = 0; i < 20; i++) fn(iterations);
    const t = performance.now();
    fn(iterations);
    iterations = Math.max(10_000, Math.round((iterations * burstMs) / Math.max(performance.now() - t, 1e-3)));
    let gflops = 0;
    const end = performance.now() + (seconds * 1000) / kernels.length;
    while (performance.now() < end) {
      const t0 = performance.now();
      fn(iterations);
      const ms = performance.now() - t0;
      gflops = Math.max(gflops, (flops * iterations) / ms / 1e6);
    }
    best[name] = gflops;
  }
  return { gflops: Math.max(...Object.values(best)), kernels: best };
}
