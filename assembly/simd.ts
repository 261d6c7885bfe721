// What differs between the builds of the same source: f32x4 multiply-add. The relaxed build
// (`--enable relaxed-simd`, build/squeezenet*.relaxed.wasm) fuses it into one f32x4.relaxed_madd,
// which V8 lowers to an FMA where the CPU has one (one rounding instead of two); the plain build
// multiplies, then adds. Every kernel that multiplies and accumulates calls this, so one build
// computes every output element by the same instruction sequence whatever path reaches it (the
// sparse 1x1 stays bit for bit the dense one within a build).

// acc + a * b, lane by lane.
@inline
export function vmuladd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// acc + a * b on scalars, rounded as vmuladd rounds lane 0.
@inline
export function muladd(acc: f32, a: f32, b: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(acc)), 0);
  return acc + a * b;
}

// Which build this is: 1 for relaxed SIMD (fused multiply-add), 0 for plain SIMD.
export function simd_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// 1 when the module imports a shared memory (the threads build), 0 when it owns its memory.
export function shared_memory(): i32 {
  return ASC_FEATURE_THREADS ? 1 : 0;
}
