// Plain-TS weight packers: the oracles that f32_pack_gemm and f32_pack_winograd23 (assembly/pack.ts,
// which the engine runs at load through src/conv.ts) are held to. PyTorch's [out][in][ky][kx]
// becomes, for each block of 8 output channels, 8 biases then one row of 8 weights per
// (ky, kx, in), zero-padded.

import { GEMM_NR, packedGemmSize } from '../../src/conv.js';

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

/**
 * Winograd F(2x2, 3x3) weights U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], as 16
 * GEMM-packed matrices (one per transformed position, zero bias) of `packedGemmSize(outC, inC, 1)`.
 */
export function packWinogradWeights(weight: Float32Array, outC: number, inC: number, dst: Float32Array): void {
  const size = packedGemmSize(outC, inC, 1);
  const u = Array.from({ length: 16 }, () => new Float32Array(outC * inC));
  const g = new Float64Array(9);
  const t = new Float64Array(12);
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      for (let i = 0; i < 9; i++) g[i] = weight[(o * inC + c) * 9 + i]!;
      // t = G g (4x3)
      for (let j = 0; j < 3; j++) {
        t[j] = g[j]!;
        t[3 + j] = 0.5 * (g[j]! + g[3 + j]! + g[6 + j]!);
        t[6 + j] = 0.5 * (g[j]! - g[3 + j]! + g[6 + j]!);
        t[9 + j] = g[6 + j]!;
      }
      // u = t G^T (4x4)
      for (let i = 0; i < 4; i++) {
        const a = t[3 * i]!;
        const b = t[3 * i + 1]!;
        const d = t[3 * i + 2]!;
        const at = o * inC + c;
        u[4 * i]![at] = a;
        u[4 * i + 1]![at] = 0.5 * (a + b + d);
        u[4 * i + 2]![at] = 0.5 * (a - b + d);
        u[4 * i + 3]![at] = d;
      }
    }
  }
  const zeros = new Float32Array(outC);
  for (let xi = 0; xi < 16; xi++) packGemmWeights(u[xi]!, zeros, outC, inC, 1, dst.subarray(xi * size, (xi + 1) * size));
}
