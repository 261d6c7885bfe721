// Adaptive binary range coding: the carry-propagating range coder of LZMA (Igor Pavlov; the
// scheme of G. N. N. Martin, "Range encoding", 1979, with Subbotin's byte-wise normalisation),
// narrowed so that every decoder quantity stays a non-negative int32: the range lives in
// [2^23, 2^31), probabilities have 15 bits, a bound is (range >>> 15) * p < 2^31.
//
// Each binary context holds P(bit = 0) in 1..32767 (of 32768) and how often it was coded; the
// probability moves toward each coded bit by 1 / (count + 1.6) until the count reaches
// RATE_LIMIT, then by a fixed 1 / (RATE_LIMIT + 1.6): a fresh context learns like a
// Krichevsky-Trofimov estimator, an old one tracks slow drift.
//
// The decoder never reads outside its bytes (a byte past the end reads as 0 and is counted), and
// every loop over it is bounded by the symbols the caller asks for: a stream that never ends
// cannot make it loop; the caller compares the bytes consumed with the stream's length.

/** P(bit = 0) of a fresh context: one half, of 2^15. */
export const PROB_ONE = 32768;
export const PROB_HALF = 16384;
/** Counts saturate here; the adaptation rate is then fixed. */
export const RATE_LIMIT = 255;
/** Range after normalisation: at least 2^23, below 2^31. */
const TOP = 0x800000;
/** The range a stream starts with. */
const START = 0x7fffffff;

/** RATE[count]: the step toward a coded bit, in 1/65536: 65536 / (count + 1.6). */
export const RATE: Uint16Array = (() => {
  const r = new Uint16Array(RATE_LIMIT + 1);
  for (let n = 0; n <= RATE_LIMIT; n++) r[n] = Math.round(65536 / (n + 1.6));
  return r;
})();

/** A set of adaptive binary contexts: P(bit = 0) (15 bits) and a count each. */
export class Contexts {
  readonly probs: Uint16Array;
  readonly counts: Uint8Array;
  constructor(size: number) {
    this.probs = new Uint16Array(size).fill(PROB_HALF);
    this.counts = new Uint8Array(size);
  }
}

/** Encodes binary decisions into bytes; `finish()` flushes and returns them. */
export class RangeEncoder {
  private low = 0; // up to 2^32 + 2^31: a double, never wrapped
  private range = START;
  private cache = 0;
  private pending = 1; // bytes waiting for a possible carry: the cache and pending - 1 0xFF bytes
  private first = true; // the very first byte is always 0 and is not written
  private buf = new Uint8Array(1024);
  private length = 0;

  /** Codes `bit` in context `ctx` of `c` and adapts the context. */
  bit(c: Contexts, ctx: number, bit: number): void {
    const p = c.probs[ctx]!;
    const n = c.counts[ctx]!;
    const bound = (this.range >>> 15) * p;
    if (bit === 0) {
      this.range = bound;
      c.probs[ctx] = p + (((PROB_ONE - p) * RATE[n]!) >>> 16);
    } else {
      this.low += bound;
      this.range -= bound;
      c.probs[ctx] = p - ((p * RATE[n]!) >>> 16);
    }
    if (n < RATE_LIMIT) c.counts[ctx] = n + 1;
    while (this.range < TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  /**
   * Codes the low `bits` bits of `value` (0..32 bits; a double for more than 31), all values
   * equally likely: in chunks of at most 8 bits, high first, each chunk one division of the range.
   */
  direct(value: number, bits: number): void {
    for (let left = bits; left > 0; ) {
      const n = Math.min(8, left);
      left -= n;
      const chunk = Math.floor(value / 2 ** left) % 2 ** n;
      this.range = Math.floor(this.range / 2 ** n);
      this.low += chunk * this.range;
      while (this.range < TOP) {
        this.range *= 256;
        this.shiftLow();
      }
    }
  }

  /** Bytes written or waiting for a carry so far: where the stream is, to within a few bytes. */
  get size(): number {
    return this.length + this.pending - 1;
  }

  /** Flushes the coder and returns the bytes (the decoder reads exactly these). */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.buf.slice(0, this.length);
  }

  private shiftLow(): void {
    const carry = this.low >= 2 ** 32 ? 1 : 0;
    const low32 = this.low % 2 ** 32;
    if (low32 < 0xff000000 || carry) {
      let byte = this.cache;
      do {
        this.push((byte + carry) & 0xff);
        byte = 0xff;
      } while (--this.pending !== 0);
      this.cache = Math.floor(low32 / 2 ** 24);
    }
    this.pending++;
    this.low = (low32 % 2 ** 24) * 256;
  }

  private push(byte: number): void {
    if (this.first) {
      this.first = false;
      if (byte !== 0) throw new Error('range coder: the first byte must be 0'); // cannot happen: the start range is below 2^31
      return;
    }
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = byte;
  }
}

/**
 * Decoder state shared between the small decoder below and hot loops that inline the same
 * arithmetic: [range, code, next byte, end byte].
 */
export type RangeState = Int32Array;

/** Starts decoding `bytes[from, to)`: 4 bytes of code. A stream shorter than 4 bytes reads zeros past its end (and fails the length check). */
export function rangeStart(bytes: Uint8Array, from: number, to: number): RangeState {
  let code = 0;
  for (let i = 0; i < 4; i++) code = (code << 8) | (from + i < to ? bytes[from + i]! : 0);
  return Int32Array.of(START, code, from + 4, to);
}

/**
 * Decodes binary decisions from a {@link RangeState}; for the parts of a payload that are not hot
 * (codebooks, biases). Hot loops copy the state into locals and write it back.
 */
export class RangeDecoder {
  constructor(
    readonly bytes: Uint8Array,
    readonly state: RangeState,
  ) {}

  /** Decodes one bit in context `ctx` of `c` and adapts the context. */
  bit(c: Contexts, ctx: number): number {
    const s = this.state;
    let range = s[0]!;
    let code = s[1]!;
    const p = c.probs[ctx]!;
    const n = c.counts[ctx]!;
    const bound = (range >>> 15) * p;
    let bit: number;
    if (code < bound) {
      range = bound;
      c.probs[ctx] = p + (((PROB_ONE - p) * RATE[n]!) >>> 16);
      bit = 0;
    } else {
      code -= bound;
      range -= bound;
      c.probs[ctx] = p - ((p * RATE[n]!) >>> 16);
      bit = 1;
    }
    if (n < RATE_LIMIT) c.counts[ctx] = n + 1;
    this.normalize(range, code);
    return bit;
  }

  /** Decodes `bits` (0..32) equally likely bits as the encoder's `direct` codes them; a double for more than 31. */
  direct(bits: number): number {
    let v = 0;
    const s = this.state;
    for (let left = bits; left > 0; ) {
      const n = Math.min(8, left);
      left -= n;
      const range = s[0]! >>> n;
      let code = s[1]!;
      // A damaged stream can hold a code past the range: the chunk is capped, never negative.
      const chunk = code < 0 ? 0 : Math.min(Math.floor(code / range), 2 ** n - 1);
      code -= chunk * range;
      v = v * 2 ** n + chunk;
      this.normalize(range, code);
    }
    return v;
  }

  private normalize(range: number, code: number): void {
    const s = this.state;
    let at = s[2]!;
    const end = s[3]!;
    while (range < TOP) {
      range <<= 8;
      code = (code << 8) | (at < end ? this.bytes[at]! : 0);
      at++;
    }
    s[0] = range;
    s[1] = code;
    s[2] = at;
  }
}
