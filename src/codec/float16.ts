// IEEE 754 half precision: rounding to it (ties to even) for .sqz codebooks and biases, and reading
// it back (the .sqz, safetensors and ONNX readers).

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float16 bit pattern nearest to `value` (out of range: +-Infinity; NaN stays NaN). */
export function toFloat16Bits(value: number): number {
  F32[0] = value;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** The value of a float16 bit pattern. */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** `value` rounded to float16 and back. */
export const roundFloat16 = (value: number): number => fromFloat16Bits(toFloat16Bits(value));

let HALF_TABLE: Float32Array | undefined;

/** Every binary16 bit pattern widened to float32, built once (256 KB). */
export function halfTable(): Float32Array {
  if (HALF_TABLE === undefined) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = fromFloat16Bits(h);
  }
  return HALF_TABLE;
}
