// The WASM SIMD f32 ceiling: how many f32x4.mul + f32x4.add per second this runtime retires when
// nothing touches memory. Two shapes of the same work; bench/ceiling.ts reports the faster one.
// Build: npx asc --config bench/assembly/asconfig.json (writes build/ceiling.wasm).
//
// Read the machine code before trusting a number here (node --print-wasm-code): TurboFan hoists
// loop-invariant products out of the loop, merges identical ones (x * y written twice is one mul),
// and rematerialises splat constants inside the loop when registers run short (x64 gives wasm
// 14 or so xmm registers), any of which makes a ceiling lie.

// 12 chains of v = v * b + c. Each chain waits on its own mul then add, so this needs
// (mul latency + add latency) x (mul + add ports) / 2 chains in flight to saturate the FPU.
export function f32_muladd_chain_ceiling(iterations: i32): f32 {
  const vb = f32x4.splat(0.999);
  const vc = f32x4.splat(0.001);
  let v0 = f32x4.splat(1.0);
  let v1 = f32x4.splat(1.1);
  let v2 = f32x4.splat(1.2);
  let v3 = f32x4.splat(1.3);
  let v4 = f32x4.splat(1.4);
  let v5 = f32x4.splat(1.5);
  let v6 = f32x4.splat(1.6);
  let v7 = f32x4.splat(1.7);
  let v8 = f32x4.splat(1.8);
  let v9 = f32x4.splat(1.9);
  let v10 = f32x4.splat(2.0);
  let v11 = f32x4.splat(2.1);
  for (let i = 0; i < iterations; i++) {
    v0 = f32x4.add(f32x4.mul(v0, vb), vc);
    v1 = f32x4.add(f32x4.mul(v1, vb), vc);
    v2 = f32x4.add(f32x4.mul(v2, vb), vc);
    v3 = f32x4.add(f32x4.mul(v3, vb), vc);
    v4 = f32x4.add(f32x4.mul(v4, vb), vc);
    v5 = f32x4.add(f32x4.mul(v5, vb), vc);
    v6 = f32x4.add(f32x4.mul(v6, vb), vc);
    v7 = f32x4.add(f32x4.mul(v7, vb), vc);
    v8 = f32x4.add(f32x4.mul(v8, vb), vc);
    v9 = f32x4.add(f32x4.mul(v9, vb), vc);
    v10 = f32x4.add(f32x4.mul(v10, vb), vc);
    v11 = f32x4.add(f32x4.mul(v11, vb), vc);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)), f32x4.add(f32x4.add(v4, v5), f32x4.add(v6, v7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(v8, v9), f32x4.add(v10, v11))), 0);
}

/** Floating-point operations per iteration of f32_muladd_chain_ceiling: 12 vectors x 4 lanes x (mul + add). */
export const CHAIN_FLOPS_PER_ITERATION: i32 = 96;

// The shape of a GEMM micro-kernel's inner loop: vacc += va * vb into 8 accumulators, so only the
// add is on a chain. The 4 multiplicands rotate every iteration (register moves, no FP work) so
// that no product is loop-invariant; the 8 (a, b) pairs differ as ordered pairs, and TurboFan in
// Node 20 does not reorder commutative operands, so it emits all 8 muls (checked as above).
export function f32_muladd_acc_ceiling(iterations: i32): f32 {
  let va0 = f32x4.splat(1.0);
  let va1 = f32x4.splat(1.001);
  let vb0 = f32x4.splat(0.999);
  let vb1 = f32x4.splat(0.998);
  let vacc0 = f32x4.splat(0);
  let vacc1 = f32x4.splat(0);
  let vacc2 = f32x4.splat(0);
  let vacc3 = f32x4.splat(0);
  let vacc4 = f32x4.splat(0);
  let vacc5 = f32x4.splat(0);
  let vacc6 = f32x4.splat(0);
  let vacc7 = f32x4.splat(0);
  for (let i = 0; i < iterations; i++) {
    vacc0 = f32x4.add(vacc0, f32x4.mul(va0, vb0));
    vacc1 = f32x4.add(vacc1, f32x4.mul(va0, vb1));
    vacc2 = f32x4.add(vacc2, f32x4.mul(va1, vb0));
    vacc3 = f32x4.add(vacc3, f32x4.mul(va1, vb1));
    vacc4 = f32x4.add(vacc4, f32x4.mul(vb0, va0));
    vacc5 = f32x4.add(vacc5, f32x4.mul(vb1, va0));
    vacc6 = f32x4.add(vacc6, f32x4.mul(vb0, va1));
    vacc7 = f32x4.add(vacc7, f32x4.mul(vb1, va1));
    const vt = va0;
    va0 = vb0;
    vb0 = va1;
    va1 = vb1;
    vb1 = vt;
  }
  const s = f32x4.add(f32x4.add(f32x4.add(vacc0, vacc1), f32x4.add(vacc2, vacc3)), f32x4.add(f32x4.add(vacc4, vacc5), f32x4.add(vacc6, vacc7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(va0, 1);
}

/** Floating-point operations per iteration of f32_muladd_acc_ceiling: 8 vectors x 4 lanes x (mul + add). */
export const ACC_FLOPS_PER_ITERATION: i32 = 64;
