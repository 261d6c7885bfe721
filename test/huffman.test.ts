// Canonical Huffman coding (src/codec/huffman.ts) and the bit streams under it: fast-check
// properties on random symbol streams (one symbol, all equal, skewed past the 15-bit limit, the
// largest alphabets), package-merge against a plain Huffman reference, canonical codes against
// RFC 1951's example, and damaged streams.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../src/codec/bits.js';
import {
  canonicalCodes,
  HuffmanDecoder,
  huffmanBits,
  huffmanEncode,
  huffmanLengths,
  lengthsProblem,
  MAX_CODE_LENGTH,
} from '../src/codec/huffman.js';
import { SQZ_MAX_WIDTH } from '../src/formats/sqz.js';

/** The fast-check seed: `FC_SEED=<n> npx vitest run test/huffman.test.ts` to change it. */
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20160224;

function property<Ts extends [unknown, ...unknown[]]>(p: fc.IProperty<Ts>, numRuns: number): void {
  try {
    fc.assert(p, { seed: SEED, numRuns });
  } catch (e) {
    const inner = (e as Error).cause;
    throw new Error(`property failed with FC_SEED=${SEED}\n${(e as Error).message}${inner instanceof Error ? `\nGot: ${inner.message}` : ''}`, { cause: e });
  }
}

class StreamError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}
const fail = (message: string, offset: number): Error => new StreamError(message, offset);

const frequencies = (symbols: readonly number[], alphabet: number): number[] => {
  const f = new Array<number>(alphabet).fill(0);
  for (const s of symbols) f[s]!++;
  return f;
};

/** Encodes with lengths from the frequencies and decodes again; checks every invariant on the way. */
function roundTrip(symbols: readonly number[], alphabet: number): { lengths: Uint8Array; bytes: Uint8Array } {
  const freqs = frequencies(symbols, alphabet);
  const lengths = huffmanLengths(freqs);
  if (symbols.length > 0) expect(lengthsProblem(lengths)).toBeUndefined();
  const badLength = freqs.findIndex((f, s) => lengths[s]! > 0 !== f > 0 || lengths[s]! > MAX_CODE_LENGTH);
  expect(badLength, `symbol ${badLength}: frequency ${freqs[badLength]}, length ${lengths[badLength]}`).toBe(-1);
  const w = new BitWriter();
  huffmanEncode(w, symbols, lengths);
  const bytes = w.finish();
  expect(bytes.length).toBe(Math.ceil(huffmanBits(freqs, lengths) / 8));
  if (symbols.length === 0) return { lengths, bytes };
  const r = new BitReader(bytes, 0, bytes.length, fail);
  const out = new Uint16Array(symbols.length);
  new HuffmanDecoder(lengths).decodeInto(r, out, symbols.length, 'symbol');
  const wrong = symbols.findIndex((s, i) => out[i] !== s);
  expect(wrong, `symbol ${wrong}: decoded ${out[wrong]}, encoded ${symbols[wrong]}`).toBe(-1);
  expect(r.bytesUsed).toBe(bytes.length);
  return { lengths, bytes };
}

/** Plain Huffman (two smallest merged, no limit): the optimal total bits to compare against. */
function referenceHuffmanBits(freqs: readonly number[]): { bits: number; longest: number } {
  const nodes = freqs.flatMap((f) => (f > 0 ? [{ w: f, depth: 0, leaves: [f] }] : []));
  if (nodes.length <= 1) return { bits: 0, longest: nodes.length };
  let queue = nodes.map((n) => ({ w: n.w, leaves: [{ f: n.w, d: 0 }] }));
  while (queue.length > 1) {
    queue.sort((a, b) => a.w - b.w);
    const [a, b] = queue.splice(0, 2) as [(typeof queue)[0], (typeof queue)[0]];
    queue.push({ w: a.w + b.w, leaves: [...a.leaves, ...b.leaves].map((l) => ({ f: l.f, d: l.d + 1 })) });
  }
  const leaves = queue[0]!.leaves;
  return { bits: leaves.reduce((s, l) => s + l.f * l.d, 0), longest: Math.max(...leaves.map((l) => l.d)) };
}

describe('canonical codes', () => {
  it("are RFC 1951's example: lengths (3,3,3,3,3,2,4,4) give 010 011 100 101 110 00 1110 1111", () => {
    const codes = canonicalCodes([3, 3, 3, 3, 3, 2, 4, 4]);
    expect(Array.from(codes, (c, i) => c.toString(2).padStart([3, 3, 3, 3, 3, 2, 4, 4][i]!, '0'))).toEqual([
      '010',
      '011',
      '100',
      '101',
      '110',
      '00',
      '1110',
      '1111',
    ]);
  });

  it('lengthsProblem: complete codes and one symbol pass; oversubscribed, incomplete, empty and too long fail', () => {
    expect(lengthsProblem([1, 1])).toBeUndefined();
    expect(lengthsProblem([0, 0, 7, 0])).toBeUndefined();
    expect(lengthsProblem([1, 2, 3, 3])).toBeUndefined();
    expect(lengthsProblem([1, 1, 1])).toMatch(/oversubscribed/);
    expect(lengthsProblem([1, 2, 3])).toMatch(/incomplete/);
    expect(lengthsProblem([0, 0])).toMatch(/no symbol/);
    expect(lengthsProblem([16, 16])).toMatch(/not 0\.\.15/);
    expect(() => new HuffmanDecoder([1, 1, 1])).toThrow(RangeError);
  });
});

describe('round trips (fast-check, FC_SEED)', () => {
  it('random streams over random alphabets (1..300 symbols, 0..3000 long)', () => {
    property(
      fc.property(fc.integer({ min: 1, max: 300 }).chain((m) => fc.tuple(fc.constant(m), fc.array(fc.integer({ min: 0, max: m - 1 }), { maxLength: 3000 }))), ([m, symbols]) => {
        roundTrip(symbols, m);
      }),
      300,
    );
  });

  it('a stream of one symbol, and streams that are all one symbol: 0 bits each', () => {
    property(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 1, max: 5000 }), (s, n) => {
        const { lengths, bytes } = roundTrip(new Array<number>(n).fill(s), s + 1);
        expect(bytes.length).toBe(0);
        expect(lengths[s]).toBe(1);
      }),
      200,
    );
  });

  it('skewed streams (geometric and Fibonacci frequencies) stay within 15 bits and still decode', () => {
    property(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.boolean(), (m, ratio, fib) => {
        // Fibonacci frequencies make plain Huffman's longest code m - 1 bits: the limit must bind.
        const freqs: number[] = [];
        for (let s = 0; s < m; s++) freqs.push(fib ? (s < 2 ? 1 : freqs[s - 1]! + freqs[s - 2]!) : Math.max(1, Math.round(1e6 * ratio ** s)));
        const symbols = freqs.flatMap((f, s) => new Array<number>(Math.min(f, 2000)).fill(s));
        const { lengths } = roundTrip(symbols, m);
        expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_CODE_LENGTH);
      }),
      150,
    );
  });

  it(`the largest alphabet of the container (2^${SQZ_MAX_WIDTH} = ${2 ** SQZ_MAX_WIDTH} symbols, all used) and of a 15-bit code (2^15, all length 15)`, () => {
    const m = 2 ** SQZ_MAX_WIDTH;
    const symbols = Array.from({ length: 3 * m }, (_, i) => (i * 2654435761) % m);
    for (let s = 0; s < 40; s++) symbols.push(...new Array<number>(200).fill(s)); // skew the head
    roundTrip(symbols, m);
    const full = Array.from({ length: 2 ** 15 }, (_, i) => i);
    const { lengths } = roundTrip(full, 2 ** 15);
    expect(lengths.every((l) => l === 15)).toBe(true);
    expect(() => huffmanLengths(new Array<number>(2 ** 15 + 1).fill(1))).toThrow(RangeError);
  });
});

describe('package-merge lengths', () => {
  it('cost exactly what plain Huffman costs whenever plain Huffman fits in 15 bits, and never less', () => {
    property(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 120 }), (freqs) => {
        const lengths = huffmanLengths(freqs);
        const ref = referenceHuffmanBits(freqs);
        const bits = huffmanBits(freqs, lengths);
        if (ref.longest <= MAX_CODE_LENGTH) expect(bits).toBe(ref.bits);
        expect(bits).toBeGreaterThanOrEqual(ref.bits);
      }),
      500,
    );
  });

  it('Fibonacci frequencies over 30 symbols: plain Huffman needs 29 bits, these stop at 15 and stay a complete code', () => {
    const fib = [1, 1];
    while (fib.length < 30) fib.push(fib.at(-1)! + fib.at(-2)!);
    expect(referenceHuffmanBits(fib).longest).toBe(29);
    const lengths = huffmanLengths(fib);
    expect(Math.max(...lengths)).toBe(15);
    expect(lengthsProblem(lengths)).toBeUndefined();
  });

  it('with a tighter limit (4 bits over 16 symbols) every length is 4', () => {
    const lengths = huffmanLengths(Array.from({ length: 16 }, (_, s) => 2 ** s), 4);
    expect(Array.from(lengths)).toEqual(new Array<number>(16).fill(4));
  });

  it('are deterministic: equal frequencies are ordered by symbol', () => {
    // The lightest, lowest-numbered symbols are merged first and end deepest.
    expect(Array.from(huffmanLengths([1, 1, 1]))).toEqual([2, 2, 1]);
    expect(Array.from(huffmanLengths([5, 5, 5, 5, 5]))).toEqual([3, 3, 2, 2, 2]);
  });
});

describe('bit streams', () => {
  it('write and read values of 0..16 bits, most significant bit first', () => {
    property(
      fc.property(fc.array(fc.integer({ min: 0, max: 16 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: 2 ** b - 1 }))), { maxLength: 500 }), (values) => {
        const w = new BitWriter();
        for (const [b, v] of values) w.write(v, b);
        const bytes = w.finish();
        expect(bytes.length).toBe(Math.ceil(values.reduce((s, [b]) => s + b, 0) / 8));
        const r = new BitReader(bytes, 0, bytes.length, fail);
        for (const [b, v] of values) expect(r.read(b, 'value')).toBe(v);
      }),
      300,
    );
    const w = new BitWriter();
    w.write(0b101, 3);
    expect(Array.from(w.finish())).toEqual([0b1010_0000]);
  });

  it('a stream cut short is the reader’s error (with the byte), never a RangeError; peeking past the end reads zeros', () => {
    const symbols = Array.from({ length: 1000 }, (_, i) => (i * 7) % 13);
    const lengths = huffmanLengths(frequencies(symbols, 13));
    const w = new BitWriter();
    huffmanEncode(w, symbols, lengths);
    const bytes = w.finish();
    const decoder = new HuffmanDecoder(lengths);
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = new BitReader(bytes, 0, cut, fail);
      const out = new Uint16Array(symbols.length);
      let error: unknown;
      try {
        decoder.decodeInto(r, out, symbols.length, 'symbol');
      } catch (e) {
        error = e;
      }
      expect(error, `cut at ${cut}`).toBeInstanceOf(StreamError);
      expect((error as StreamError).offset).toBe(cut);
      expect((error as StreamError).message).toMatch(/the stream ends inside symbol \d+ of 1000/);
    }
    expect(new BitReader(Uint8Array.of(0xff), 0, 1, fail).peek(16)).toBe(0xff00);
  });
});
