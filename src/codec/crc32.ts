// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the checksum of zlib, PNG and gzip, so
// `zlib.crc32` or `python3 -c "import zlib; print(zlib.crc32(b))"` give the same number.

let TABLE: Uint32Array | undefined;

function table(): Uint32Array {
  if (TABLE) return TABLE;
  TABLE = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    TABLE[n] = c >>> 0;
  }
  return TABLE;
}

/** CRC-32 of `bytes[from, to)`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const t = table();
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
