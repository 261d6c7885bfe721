// Element-wise operations: the bypass connections of Section 6.

// y[i] += x[i] for i < n.
export function f32_add_inplace(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  const end = y + ((<usize>n) << 2);
  const end4 = y + ((<usize>(n & ~3)) << 2);
  for (; y < end4; y += 16, x += 16) v128.store(y, f32x4.add(v128.load(y), v128.load(x)));
  for (; y < end; y += 4, x += 4) store<f32>(y, load<f32>(y) + load<f32>(x));
}

// Each of `rows` rows (stride ldc floats) gets the n values at src, clamped at 0 when relu != 0:
// what a padded 1x1 convolution outputs where its window sees only padding.
export function f32_fill_rows(dst: usize, rows: i32, n: i32, ldc: i32, src: usize, relu: i32): void {
  assert(rows >= 0 && n >= 0 && ldc >= n);
  const rowBytes = (<usize>ldc) << 2;
  const nBytes = (<usize>n) << 2;
  for (let r = 0; r < rows; r++) {
    const d = dst + <usize>r * rowBytes;
    for (let i: usize = 0; i < nBytes; i += 4) {
      const v = load<f32>(src + i);
      store<f32>(d + i, relu != 0 && v < 0 ? 0 : v);
    }
  }
}
