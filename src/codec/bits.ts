// Bit streams, most significant bit first (as JPEG): a value of n bits is written high bit first,
// and a byte fills from its top bit down. The last byte of a stream is padded with zero bits.

/** Appends values of 0..24 bits to a growing byte buffer. */
export class BitWriter {
  private buf = new Uint8Array(1024);
  private length = 0;
  private acc = 0;
  private count = 0;

  /** Writes the low `bits` bits of `value` (0 <= bits <= 24), high bit first. */
  write(value: number, bits: number): void {
    if (bits === 0) return;
    this.acc = ((this.acc << bits) | (value & ((1 << bits) - 1))) >>> 0;
    this.count += bits;
    while (this.count >= 8) {
      this.count -= 8;
      this.push((this.acc >>> this.count) & 0xff);
    }
    this.acc &= (1 << this.count) - 1;
  }

  /** Pads to a whole byte with zero bits and returns the bytes written. */
  finish(): Uint8Array {
    if (this.count > 0) this.push((this.acc << (8 - this.count)) & 0xff);
    this.acc = 0;
    this.count = 0;
    return this.buf.slice(0, this.length);
  }

  private push(byte: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = byte;
  }
}

/** Makes the error a reader throws: `offset` is the byte (from the start of the whole buffer) where the problem is. */
export type Fail = (message: string, offset: number) => Error;

/** Reads values of 0..16 bits from `bytes[from, to)`; never reads outside it. */
export class BitReader {
  /** Bits consumed since `from`. */
  pos = 0;
  readonly bits: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly from: number,
    readonly to: number,
    readonly fail: Fail,
  ) {
    this.bits = 8 * (to - from);
  }

  /** The next `n` bits (n <= 16) without consuming them; bits past the end read as 0. */
  peek(n: number): number {
    const at = this.from + (this.pos >>> 3);
    const b0 = at < this.to ? this.bytes[at]! : 0;
    const b1 = at + 1 < this.to ? this.bytes[at + 1]! : 0;
    const b2 = at + 2 < this.to ? this.bytes[at + 2]! : 0;
    const window = (b0 << 16) | (b1 << 8) | b2;
    return (window >>> (24 - (this.pos & 7) - n)) & ((1 << n) - 1);
  }

  /** Consumes `n` bits; `what` names the value for the error when the stream is too short. */
  skip(n: number, what: string): void {
    if (this.pos + n > this.bits) {
      throw this.fail(`the stream ends inside ${what} (it has ${this.to - this.from} bytes)`, this.to);
    }
    this.pos += n;
  }

  /** Reads an `n`-bit value (n <= 16). */
  read(n: number, what: string): number {
    const v = this.peek(n);
    this.skip(n, what);
    return v;
  }

  /** The byte offset (in the whole buffer) of the bit being read. */
  get offset(): number {
    return this.from + (this.pos >>> 3);
  }

  /** Bytes used so far, the last one counted whole. */
  get bytesUsed(): number {
    return Math.ceil(this.pos / 8);
  }
}
