// Canonical Huffman codes with a length limit (Huffman, 1952; canonical assignment as DEFLATE,
// RFC 1951 section 3.2.2). Lengths come from package-merge (Larmore and Hirschberg, 1990), which
// gives the optimal code under the limit, so no after-the-fact length fixing is needed. Decoding
// looks each symbol up in one table indexed by the next `maxLength` bits.
//
// One convention beyond DEFLATE: when a stream uses a single symbol, its code costs 0 bits (the
// table says length 1 for it; nothing is written or read). A dense layer's gaps (all 0) are free.

import { BitReader, BitWriter } from './bits.js';

/** The longest code: 15 bits, so a length fits in a 4-bit field (0 = symbol unused). */
export const MAX_CODE_LENGTH = 15;

/**
 * Optimal code lengths for symbol frequencies, none longer than `maxLength` (package-merge).
 * Unused symbols (frequency 0) get length 0; a single used symbol gets length 1.
 * Ties are broken by symbol index, so the result is deterministic.
 */
export function huffmanLengths(freqs: ArrayLike<number>, maxLength = MAX_CODE_LENGTH): Uint8Array {
  const lengths = new Uint8Array(freqs.length);
  const used: number[] = [];
  for (let s = 0; s < freqs.length; s++) {
    const f = freqs[s]!;
    if (!(f >= 0) || !Number.isFinite(f)) throw new RangeError(`frequency of symbol ${s} is ${f}`);
    if (f > 0) used.push(s);
  }
  const n = used.length;
  if (n === 0) return lengths;
  if (n === 1) {
    lengths[used[0]!] = 1;
    return lengths;
  }
  if (n > 2 ** maxLength) throw new RangeError(`${n} symbols cannot all have codes of at most ${maxLength} bits`);
  used.sort((a, b) => freqs[a]! - freqs[b]! || a - b);

  // Nodes 0..n-1 are the leaves (in weight order); packages are appended with their two children.
  const weight: number[] = used.map((s) => freqs[s]!);
  const left: number[] = new Array<number>(n).fill(-1);
  const right: number[] = new Array<number>(n).fill(-1);
  const leaves = Array.from({ length: n }, (_, i) => i);
  let list = leaves;
  for (let level = 1; level < maxLength; level++) {
    const packages: number[] = [];
    for (let j = 0; j + 1 < list.length; j += 2) {
      weight.push(weight[list[j]!]! + weight[list[j + 1]!]!);
      left.push(list[j]!);
      right.push(list[j + 1]!);
      packages.push(weight.length - 1);
    }
    const merged: number[] = [];
    let a = 0;
    let b = 0;
    while (a < leaves.length || b < packages.length) {
      if (b >= packages.length || (a < leaves.length && weight[leaves[a]!]! <= weight[packages[b]!]!)) merged.push(leaves[a++]!);
      else merged.push(packages[b++]!);
    }
    list = merged;
  }
  // Each leaf's length is how often it occurs in the first 2n - 2 items.
  const stack: number[] = [];
  for (let i = 0; i < 2 * n - 2; i++) {
    stack.push(list[i]!);
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node < n) lengths[used[node]!]!++;
      else stack.push(left[node]!, right[node]!);
    }
  }
  return lengths;
}

/**
 * What is wrong with a table of code lengths, or undefined when it is a usable canonical code:
 * every length 0..maxLength, and either exactly one used symbol or a complete prefix code (the
 * Kraft sum of the used lengths is exactly 1).
 */
export function lengthsProblem(lengths: ArrayLike<number>, maxLength = MAX_CODE_LENGTH): string | undefined {
  let used = 0;
  let kraft = 0; // in units of 2^-maxLength
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s]!;
    if (!Number.isInteger(l) || l < 0 || l > maxLength) return `symbol ${s} has code length ${l}, not 0..${maxLength}`;
    if (l === 0) continue;
    used++;
    kraft += 2 ** (maxLength - l);
  }
  if (used === 0) return 'no symbol has a code';
  if (used === 1) return undefined;
  if (kraft > 2 ** maxLength) return 'the code lengths are oversubscribed (Kraft sum above 1): not a prefix code';
  if (kraft < 2 ** maxLength) return 'the code lengths are incomplete (Kraft sum below 1): some bit patterns decode to nothing';
  return undefined;
}

/** Canonical codes for the lengths: shorter codes first, then by symbol (RFC 1951 3.2.2). */
export function canonicalCodes(lengths: ArrayLike<number>): Uint32Array {
  let maxLength = 0;
  for (let s = 0; s < lengths.length; s++) maxLength = Math.max(maxLength, lengths[s]!);
  const count = new Uint32Array(maxLength + 2);
  for (let s = 0; s < lengths.length; s++) count[lengths[s]!]!++;
  count[0] = 0;
  const next = new Uint32Array(maxLength + 2);
  let code = 0;
  for (let l = 1; l <= maxLength; l++) {
    code = (code + count[l - 1]!) << 1;
    next[l] = code;
  }
  const codes = new Uint32Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s]!;
    if (l > 0) codes[s] = next[l]!++;
  }
  return codes;
}

/** The symbol that a single-symbol table always decodes to, or -1 when it has two or more. */
function onlySymbol(lengths: ArrayLike<number>): number {
  let only = -1;
  for (let s = 0; s < lengths.length; s++) {
    if (lengths[s] === 0) continue;
    if (only >= 0) return -1;
    only = s;
  }
  return only;
}

/** Bits the symbols take with these lengths (0 when a single symbol is used). */
export function huffmanBits(freqs: ArrayLike<number>, lengths: ArrayLike<number>): number {
  if (onlySymbol(lengths) >= 0) return 0;
  let bits = 0;
  for (let s = 0; s < freqs.length; s++) bits += freqs[s]! * (lengths[s] ?? 0);
  return bits;
}

/** Writes each symbol's canonical code. Every symbol must have a non-zero length. */
export function huffmanEncode(writer: BitWriter, symbols: ArrayLike<number>, lengths: ArrayLike<number>): void {
  if (symbols.length === 0) return;
  const only = onlySymbol(lengths);
  if (only >= 0) {
    for (let i = 0; i < symbols.length; i++) {
      if (symbols[i] !== only) throw new RangeError(`symbol ${symbols[i]} has no code`);
    }
    return;
  }
  const codes = canonicalCodes(lengths);
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i]!;
    const l = lengths[s] ?? 0;
    if (l === 0) throw new RangeError(`symbol ${s} has no code`);
    writer.write(codes[s]!, l);
  }
}

/** A decoding table for one canonical code: one lookup of the next `maxLength` bits per symbol. */
export class HuffmanDecoder {
  private readonly table: Uint32Array;
  private readonly maxLength: number;
  private readonly only: number;

  /** `lengths` must be usable (see {@link lengthsProblem}); this throws a RangeError otherwise. */
  constructor(lengths: ArrayLike<number>) {
    const problem = lengthsProblem(lengths);
    if (problem !== undefined) throw new RangeError(problem);
    this.only = onlySymbol(lengths);
    let maxLength = 0;
    for (let s = 0; s < lengths.length; s++) maxLength = Math.max(maxLength, lengths[s]!);
    this.maxLength = maxLength;
    this.table = new Uint32Array(this.only >= 0 ? 0 : 1 << maxLength);
    if (this.only >= 0) return;
    const codes = canonicalCodes(lengths);
    for (let s = 0; s < lengths.length; s++) {
      const l = lengths[s]!;
      if (l === 0) continue;
      const first = codes[s]! << (maxLength - l);
      this.table.fill((s << 4) | l, first, first + (1 << (maxLength - l)));
    }
  }

  /** Reads one symbol; `what` names it for the error when the stream ends inside its code. */
  decode(reader: BitReader, what: string): number {
    if (this.only >= 0) return this.only;
    const entry = this.table[reader.peek(this.maxLength)]!;
    reader.skip(entry & 15, what);
    return entry >>> 4;
  }

  /** Decodes `count` symbols into `out`; `what` names them for the error when the stream ends early. */
  decodeInto(reader: BitReader, out: Uint16Array | Uint8Array, count: number, what: string): void {
    if (this.only >= 0) {
      out.fill(this.only, 0, count);
      return;
    }
    const end = decodeSymbols(this.table, this.maxLength, reader.bytes, reader.from, reader.to, reader.pos, out, count);
    if (end < 0) {
      // Symbol -end - 1 runs past the stream: step to its start for the message.
      const i = -end - 1;
      reader.pos = decodeSymbols(this.table, this.maxLength, reader.bytes, reader.from, reader.to, reader.pos, out, i);
      reader.skip(this.table[reader.peek(this.maxLength)]! & 15, `${what} ${i} of ${count}`);
    }
    reader.pos = end;
  }
}

// The hot loop of loading a .sqz: numbers and typed arrays only (no property access V8 could lack
// feedback for when it optimises the loop mid-run), a local bit buffer refilled a byte at a time.
// Returns the bit position after the last symbol, or -(i + 1) when symbol i would end past `to`.
function decodeSymbols(
  table: Uint32Array,
  maxLength: number,
  bytes: Uint8Array,
  from: number,
  to: number,
  pos: number,
  out: Uint16Array | Uint8Array,
  count: number,
): number {
  const mask = (1 << maxLength) - 1;
  const limit = 8 * (to - from);
  let at = from + (pos >>> 3);
  let have = 8 - (pos & 7);
  let acc = at < to ? bytes[at]! & ((1 << have) - 1) : 0;
  at++;
  for (let i = 0; i < count; i++) {
    while (have < maxLength) {
      acc = (acc << 8) | (at < to ? bytes[at]! : 0);
      at++;
      have += 8;
    }
    const entry = table[(acc >>> (have - maxLength)) & mask]!;
    const l = entry & 15;
    if (pos + l > limit) return -(i + 1);
    pos += l;
    have -= l;
    acc &= (1 << have) - 1;
    out[i] = entry >>> 4;
  }
  return pos;
}
