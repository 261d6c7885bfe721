// Finiteness: NaN and infinities are rejected at the door (the input image at every run, each
// weight tensor at load), in WASM because the first call runs on cold code, where JS would still
// be interpreted.

// Index of the first NaN or infinite value among n floats, or -1.
export function f32_find_nonfinite(src: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(src + ((<usize>i) << 2));
    if (!isFinite(v)) return i;
  }
  return -1;
}
