// Weight packing at load, in WASM because it runs once on cold code, where JS would still be
// interpreted. src/conv.ts calls these; the plain-TS packers in test/oracles/pack.ts are what the
// tests hold them to.

// [out][in][kernel][kernel] weights + bias -> per 8 outputs: 8 biases, then rows of 8 for each
// (ky, kx, in), zero-padded past outC.
export function f32_pack_gemm(weight: usize, bias: usize, outC: i32, inC: i32, kernel: i32, dst: usize): void {
  const kk = kernel * kernel;
  const k = inC * kk;
  const blocks = (outC + 7) >> 3;
  memory.fill(dst, 0, (<usize>blocks * <usize>(k + 1)) << 5);
  for (let b = 0; b < blocks; b++) {
    const base = dst + ((<usize>b * <usize>(k + 1)) << 5);
    for (let j = 0; j < 8; j++) {
      const o = (b << 3) + j;
      if (o >= outC) break;
      store<f32>(base + ((<usize>j) << 2), bias == 0 ? 0 : load<f32>(bias + ((<usize>o) << 2)));
      const wo = weight + ((<usize>o * <usize>k) << 2);
      for (let c = 0; c < inC; c++) {
        for (let t = 0; t < kk; t++) {
          const p = t * inC + c;
          store<f32>(base + ((<usize>(p + 1)) << 5) + ((<usize>j) << 2), load<f32>(wo + ((<usize>(c * kk + t)) << 2)));
        }
      }
    }
  }
}

// Winograd F(2x2, 3x3) weights: U = G g G^T per (out, in), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
// written as 16 GEMM-packed matrices (zero bias), each of packedGemmSize(outC, inC, 1) floats.
// u is scratch of 16 * outC * inC floats.
export function f32_pack_winograd23(weight: usize, outC: i32, inC: i32, u: usize, dst: usize): void {
  const plane = <usize>outC * <usize>inC;
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      const at = <usize>o * <usize>inC + <usize>c;
      const g = weight + (at * 9 << 2);
      for (let i = 0; i < 4; i++) {
        // row i of G g, then times G^T
        let a: f64, b: f64, d: f64;
        if (i == 0) {
          a = load<f32>(g); b = load<f32>(g, 4); d = load<f32>(g, 8);
        } else if (i == 3) {
          a = load<f32>(g, 24); b = load<f32>(g, 28); d = load<f32>(g, 32);
        } else {
          const s: f64 = i == 1 ? 1 : -1;
          a = 0.5 * (<f64>load<f32>(g) + s * <f64>load<f32>(g, 12) + <f64>load<f32>(g, 24));
          b = 0.5 * (<f64>load<f32>(g, 4) + s * <f64>load<f32>(g, 16) + <f64>load<f32>(g, 28));
          d = 0.5 * (<f64>load<f32>(g, 8) + s * <f64>load<f32>(g, 20) + <f64>load<f32>(g, 32));
        }
        store<f32>(u + (((<usize>(4 * i)) * plane + at) << 2), <f32>a);
        store<f32>(u + (((<usize>(4 * i + 1)) * plane + at) << 2), <f32>(0.5 * (a + b + d)));
        store<f32>(u + (((<usize>(4 * i + 2)) * plane + at) << 2), <f32>(0.5 * (a - b + d)));
        store<f32>(u + (((<usize>(4 * i + 3)) * plane + at) << 2), <f32>d);
      }
    }
  }
  const size = (<usize>((outC + 7) >> 3) * <usize>(inC + 1)) << 5;
  for (let xi = 0; xi < 16; xi++) {
    f32_pack_gemm(u + ((<usize>xi * plane) << 2), 0, outC, inC, 1, dst + <usize>xi * size);
  }
}
