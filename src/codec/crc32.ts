// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the checksum of zlib, PNG and gzip, so
// `zlib.crc32` or `python3 -c "import zlib; print(zlib.crc32(b))"` give the same number.

// The table and the running value are signed 32-bit integers, converted to unsigned only at the
// end: values past 2^31 inside the loop would make V8 deoptimise it ("lost precision") and
// finish a model's checksums in the interpreter.
let TABLE: Int32Array | undefined;

function table(): Int32Array {
  if (TABLE) return TABLE;
  TABLE = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    TABLE[n] = c;
  }
  return TABLE;
}

/** CRC-32 of `bytes[from, to)`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  return ~signedCrc32(bytes, from, to) >>> 0;
}

// The loop, apart: its result stays a signed 32-bit integer, so no value of it can break the
// optimised code's assumptions (the unsigned conversion above is outside the loop).
function signedCrc32(bytes: Uint8Array, from: number, to: number): number {
  const t = table();
  let c = -1;
  for (let i = from; i < to; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}
