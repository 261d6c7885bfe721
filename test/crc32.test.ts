// src/codec/crc32.ts against zlib's CRC-32 (node:zlib), on any bytes and any sub-range.
import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/codec/crc32.js';

describe('crc32', () => {
  it('is zlib.crc32 of bytes[from, to), unsigned', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const from = bytes.length ? a % (bytes.length + 1) : 0;
        const to = from + (bytes.length - from ? b % (bytes.length - from + 1) : 0);
        const got = crc32(bytes, from, to);
        expect(got).toBe(zlibCrc32(bytes.subarray(from, to)));
        expect(got).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('gives the check value of the CRC-32 catalogue ("123456789" -> 0xCBF43926) and 0 for no bytes', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});
