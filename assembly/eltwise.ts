// Element-wise operations: the bypass connections of Section 6.

// y[i] += x[i] for i < n.
export function f32_add_inplace(y: usize, x: usize, n: i32): void {
  assert(n >= 0);
  const end = y + ((<usize>n) << 2);
  const end4 = y + ((<usize>(n & ~3)) << 2);
  for (; y < end4; y += 16, x += 16) v128.store(y, f32x4.add(v128.load(y), v128.load(x)));
  for (; y < end; y += 4, x += 4) store<f32>(y, load<f32>(y) + load<f32>(x));
}
