// A protobuf wire-format reader: just enough to walk messages field by field, for the ONNX reader.
// Every varint and every length is bounds-checked against the enclosing message, so a damaged
// file is a FormatError with the byte offset, never a RangeError, a hang or a read past the end.
// Wire format: https://protobuf.dev/programming-guides/encoding/

import { FormatError } from '../errors.js';

/** Wire types: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit (3 and 4, groups, are rejected). */
export type WireType = 0 | 1 | 2 | 5;

/** One field of a message. */
export interface ProtoField {
  /** Field number (1 and up). */
  readonly field: number;
  readonly wire: WireType;
  /** Byte offset of the field's tag. */
  readonly offset: number;
  /** Varint: the low and high 32 bits (unsigned). Fixed32: the 32 bits in `lo`. */
  readonly lo: number;
  readonly hi: number;
  /** Length-delimited and fixed: where the payload starts and ends. */
  readonly start: number;
  readonly end: number;
}

const MAX_VARINT_BYTES = 10;

/** A buffer being read as protobuf, with the name of the format for errors. */
export class ProtoBuffer {
  readonly view: DataView;
  private lo = 0;
  private hi = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly format: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, offset: number, layer?: string): FormatError {
    return new FormatError(oneLine(message), this.format, offset, layer === undefined ? undefined : oneLine(layer));
  }

  /** Reads a varint at `pos` that must end before `end`; leaves its bits in lo/hi and returns the next position. */
  private varint(pos: number, end: number, what: string): number {
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const p = pos + i;
      if (p >= end) throw this.fail(`truncated varint (${what}): the message ends at byte ${end} before the varint does`, pos);
      const byte = b[p]!;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else {
        if (i === 9 && bits > 1) throw this.fail(`varint (${what}) overflows 64 bits`, pos);
        hi |= bits << (7 * i - 32);
      }
      if ((byte & 0x80) === 0) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return p + 1;
      }
    }
    throw this.fail(`varint (${what}) longer than ${MAX_VARINT_BYTES} bytes`, pos);
  }

  /**
   * Calls `onField` for every field of the message in [start, end), in file order. Lengths are
   * checked against `end`; groups and unknown wire types are errors.
   */
  fields(start: number, end: number, what: string, onField: (f: ProtoField) => void): void {
    let pos = start;
    while (pos < end) {
      const offset = pos;
      pos = this.varint(pos, end, `field tag in ${what}`);
      if (this.hi !== 0 || this.lo > 0x1fffffff * 8 + 7) throw this.fail(`field number out of range in ${what}`, offset);
      const tag = this.lo;
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) throw this.fail(`field number 0 in ${what} (not a valid protobuf field)`, offset);
      let lo = 0;
      let hi = 0;
      let s = pos;
      let e = pos;
      switch (wire) {
        case 0:
          pos = this.varint(pos, end, `field ${field} of ${what}`);
          lo = this.lo;
          hi = this.hi;
          s = e = pos;
          break;
        case 1:
          if (end - pos < 8) throw this.fail(`fixed64 field ${field} of ${what} runs past the end of the message (byte ${end})`, offset);
          lo = this.view.getUint32(pos, true);
          hi = this.view.getUint32(pos + 4, true);
          e = pos += 8;
          break;
        case 5:
          if (end - pos < 4) throw this.fail(`fixed32 field ${field} of ${what} runs past the end of the message (byte ${end})`, offset);
          lo = this.view.getUint32(pos, true);
          e = pos += 4;
          break;
        case 2: {
          pos = this.varint(pos, end, `length of field ${field} of ${what}`);
          const room = end - pos;
          if (this.hi !== 0 || this.lo > room) {
            const len = this.hi * 2 ** 32 + this.lo;
            throw this.fail(`field ${field} of ${what} says its length is ${len} bytes, only ${room} remain in the message (which ends at byte ${end})`, offset);
          }
          s = pos;
          e = pos += this.lo;
          break;
        }
        case 3:
        case 4:
          throw this.fail(`field ${field} of ${what} uses the deprecated group wire type ${wire}`, offset);
        default:
          throw this.fail(`field ${field} of ${what} has wire type ${wire}, which protobuf does not define`, offset);
      }
      onField({ field, wire: wire as WireType, offset, lo, hi, start: s, end: e });
    }
  }

  /** A varint field as an unsigned integer; a FormatError if it is above 2^53 or the wire type is wrong. */
  uint(f: ProtoField, what: string): number {
    this.expectWire(f, 0, what);
    const v = f.hi * 2 ** 32 + f.lo;
    if (!Number.isSafeInteger(v)) throw this.fail(`${what} is ${v}, too large`, f.offset);
    return v;
  }

  /** A varint field as a signed 64-bit integer (two's complement); a FormatError outside +-2^53. */
  int(f: ProtoField, what: string): number {
    this.expectWire(f, 0, what);
    return this.signed(f.lo, f.hi, f.offset, what);
  }

  private signed(lo: number, hi: number, offset: number, what: string): number {
    if ((hi & 0x80000000) === 0) {
      const v = hi * 2 ** 32 + lo;
      if (!Number.isSafeInteger(v)) throw this.fail(`${what} is ${v}, too large`, offset);
      return v;
    }
    const v = Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
    if (!Number.isSafeInteger(v)) throw this.fail(`${what} is ${v}, too large`, offset);
    return v;
  }

  /** A fixed32 field as a float. */
  float(f: ProtoField, what: string): number {
    this.expectWire(f, 5, what);
    return this.view.getFloat32(f.start, true);
  }

  /** A length-delimited field as UTF-8 text (invalid sequences become U+FFFD). */
  string(f: ProtoField, what: string): string {
    this.expectWire(f, 2, what);
    return TEXT.decode(this.bytes.subarray(f.start, f.end));
  }

  /** A repeated signed int64 field, packed or not: appends to `out`. */
  ints(f: ProtoField, what: string, out: number[]): void {
    if (f.wire === 0) {
      out.push(this.int(f, what));
      return;
    }
    this.expectWire(f, 2, what);
    let pos = f.start;
    while (pos < f.end) {
      const at = pos;
      pos = this.varint(pos, f.end, what);
      out.push(this.signed(this.lo, this.hi, at, what));
    }
  }

  /** A repeated float field, packed or not: appends to `out`. */
  floats(f: ProtoField, what: string, out: number[]): void {
    if (f.wire === 5) {
      out.push(this.view.getFloat32(f.start, true));
      return;
    }
    this.expectWire(f, 2, what);
    if ((f.end - f.start) % 4 !== 0) throw this.fail(`packed ${what} is ${f.end - f.start} bytes, not a multiple of 4`, f.offset);
    for (let p = f.start; p < f.end; p += 4) out.push(this.view.getFloat32(p, true));
  }

  /**
   * Calls `each` with every value of a repeated unsigned varint field (packed or not), low 32 bits
   * only: for int32 fields holding small values (ONNX keeps float16 bit patterns in int32_data).
   */
  varints32(f: ProtoField, what: string, each: (v: number, offset: number) => void): void {
    if (f.wire === 0) {
      each(f.lo, f.offset);
      return;
    }
    this.expectWire(f, 2, what);
    let pos = f.start;
    while (pos < f.end) {
      const at = pos;
      pos = this.varint(pos, f.end, what);
      each(this.lo, at);
    }
  }

  expectWire(f: ProtoField, wire: WireType, what: string): void {
    if (f.wire !== wire) {
      throw this.fail(`${what} (field ${f.field}) has wire type ${f.wire}, expected ${wire} (${WIRE_NAMES[wire]})`, f.offset);
    }
  }
}

/** Control characters (a name read from a damaged file may hold any) escaped, so an error stays one line. */
export const oneLine = (s: string): string =>
  s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const WIRE_NAMES: Record<WireType, string> = { 0: 'varint', 1: 'fixed64', 2: 'length-delimited', 5: 'fixed32' };
const TEXT = new TextDecoder('utf-8');
