// Weight packing for f32_gemm_4x8, done once at load: PyTorch's [out][in][ky][kx] becomes, for each
// block of 8 output channels, 8 biases then one row of 8 weights per (ky, kx, in), zero-padded.

export const GEMM_NR = 8;

/** Floats that the packed form of a convolution takes. */
export function packedGemmSize(outC: number, inC: number, kernel: number): number {
  return Math.ceil(outC / GEMM_NR) * (inC * kernel * kernel + 1) * GEMM_NR;
}

export function packGemmWeights(
  weight: Float32Array,
  bias: Float32Array,
  outC: number,
  inC: number,
  kernel: number,
  dst: Float32Array,
): void {
  const k = inC * kernel * kernel;
  const kk = kernel * kernel;
  const blocks = Math.ceil(outC / GEMM_NR);
  dst.fill(0, 0, blocks * (k + 1) * GEMM_NR);
  for (let b = 0; b < blocks; b++) {
    const base = b * (k + 1) * GEMM_NR;
    for (let j = 0; j < GEMM_NR; j++) {
      const o = b * GEMM_NR + j;
      if (o >= outC) break;
      dst[base + j] = bias[o]!;
      for (let ky = 0; ky < kernel; ky++) {
        for (let kx = 0; kx < kernel; kx++) {
          for (let c = 0; c < inC; c++) {
            const p = (ky * kernel + kx) * inC + c;
            dst[base + (p + 1) * GEMM_NR + j] = weight[o * inC * kk + c * kk + ky * kernel + kx]!;
          }
        }
      }
    }
  }
}
