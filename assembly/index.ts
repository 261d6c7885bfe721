// The module's exports: kernels take byte offsets into this module's memory, which
// src/arena.ts alone lays out and grows. Nothing here allocates.

export { f32_gemm_4x8 } from "./gemm";
export { f32_spmm_32x1 } from "./sparse";
export { f32_im2col_nhwc, f32_im2col_nhwc_rows } from "./im2col";
export { f32_maxpool_nhwc, f32_global_avgpool_nhwc, f32_maxpool2d_nhwc, f32_avgpool2d_nhwc } from "./pool";
export { f32_transpose } from "./layout";
export { f32_add_inplace, f32_fill_rows } from "./eltwise";
export { f32_winograd23_input_nhwc, f32_winograd23_output_nhwc } from "./winograd";
export { f32_pack_gemm, f32_pack_winograd23 } from "./pack";
export { f32_find_nonfinite } from "./finite";

// First byte the arena may use: everything below belongs to the module's static data.
export function heap_base(): usize {
  return __heap_base;
}

// Which build this is (relaxed SIMD or plain; a shared imported memory or its own).
export { simd_relaxed, shared_memory } from "./simd";
