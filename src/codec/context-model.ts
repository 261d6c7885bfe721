// Context-modelled coding of one convolution's payload (.sqz version 3, docs/FORMAT.md): its
// codebook, its biases and every weight, in one adaptive binary range-coded stream (range.ts).
//
//   codebook  the K values besides 0, strictly ascending, as order-preserving integer keys of
//             their float32 or float16 bits; each key's distance from the previous one coded as
//             its bit length (a 6-level binary tree whose contexts are the previous bit length)
//             then the bits below the leading 1 (the top two modelled, the rest flat)
//   biases    sign, exponent (a binary tree) and mantissa (flat) of each value's bits: exact
//   weights   every position of the [O][I][KH][KW] tensor in order: whether it is non-zero, in a
//             context of its tap, how many of its kernel's earlier taps are non-zero and whether
//             its left and upper neighbours are (1x1: the same input in the previous filter and
//             the previous input in the same filter); then, for a non-zero weight, its code - 1
//             as B binary decisions from the top bit down, the first four in a context of the
//             already decoded neighbours' values (8 classes of the ascending codebook), the rest
//             by tree node only. The tree's probabilities start from the codebook itself: for
//             k-means codebooks a cell's probability goes as 1 / width^2 (high-resolution
//             quantisation theory: centroid density ~ p^(1/3)), width being half the distance
//             between the neighbouring values.
//
// The weight loop (the only hot one: every position of every layer) runs on numbers and typed
// arrays only, the range decoder inlined, so that V8 optimises it early and fully.

import { toFloat16Bits, fromFloat16Bits } from './float16.js';
import { Contexts, PROB_HALF, RangeDecoder, RangeEncoder, RATE, RATE_LIMIT, rangeStart } from './range.js';

/** Levels of the code tree whose contexts include the neighbours' class. */
const TOP_LEVELS = 4;
/** Classes of a neighbour: 0 (none or zero), then 8 slices of the ascending codebook. */
const CLASSES = 9;
/** Taps told apart by the mask contexts (later taps share the last). */
const TAPS = 16;

// Context layout, one set per layer.
const MASK = 0; // TAPS * 10 * 3 * 3
const TOP = MASK + TAPS * 10 * 9; // CLASSES * 2^TOP_LEVELS
const LOW = TOP + CLASSES * (1 << TOP_LEVELS); // 2^12 tree nodes
const CB_LENGTH = LOW + 4096; // 34 previous lengths * 64 nodes
const CB_MANTISSA = CB_LENGTH + 34 * 64; // 33 lengths * 4 nodes
const BIAS_SIGN = CB_MANTISSA + 33 * 4;
const BIAS_EXPONENT = BIAS_SIGN + 1; // 256 nodes
const SIZE = BIAS_EXPONENT + 256;

/** How sure the codebook's prior is taken to be, in coded bits. */
const PRIOR_COUNT = 8;

/** One layer as the context model codes it. */
export interface ContextLayer {
  /** [out channels, in channels, kernel height, kernel width] */
  readonly shape: readonly [number, number, number, number];
  /** Code width B, 1..12: codes 1..K with K <= 2^B - 1. */
  readonly bits: number;
  /** `codebook[0] = 0`, then K non-zero finite values, strictly ascending. */
  readonly codebook: Float32Array;
  readonly codebookF16: boolean;
  readonly bias: Float32Array;
  readonly biasF16: boolean;
  /** The code of every position, [O][I][KH][KW]; 0 is the weight 0. */
  readonly codes: Uint16Array;
}

/** What a payload decodes to. */
export interface DecodedContextLayer {
  readonly codebook: Float32Array;
  readonly bias: Float32Array;
  /** The code of every position (0: the weight 0). */
  readonly codes: Uint16Array;
  readonly nonzero: number;
}

/** Makes the error for a problem at a byte offset of the whole buffer. */
export type ContextFail = (message: string, offset: number) => Error;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The order-preserving key of a value's bits: larger values, larger keys. */
function keyOf(v: number, f16: boolean): number {
  if (f16) {
    const h = toFloat16Bits(v);
    return h & 0x8000 ? 0xffff - h : h + 0x8000;
  }
  F32[0] = v;
  const u = U32[0]!;
  return u >= 2 ** 31 ? 2 ** 32 - 1 - u : u + 2 ** 31;
}

function valueOf(key: number, f16: boolean): number {
  if (f16) return fromFloat16Bits(key >= 0x8000 ? key - 0x8000 : 0xffff - key);
  U32[0] = key >= 2 ** 31 ? key - 2 ** 31 : 2 ** 32 - 1 - key;
  return F32[0]!;
}

/** Bits of d, 0 <= d < 2^32 (0 for 0). */
const bitLength = (d: number): number => 32 - Math.clz32(d);

/** The class of each code for the neighbour contexts: 0 for code 0, else 1..8 by position in the codebook. */
function classes(k: number): Uint8Array {
  const cls = new Uint8Array(k + 1);
  for (let c = 1; c <= k; c++) cls[c] = 1 + Math.floor(((c - 1) * 8) / k);
  return cls;
}

/**
 * Starts the code tree's contexts from the codebook: leaf v (code v + 1) gets mass 1 / width^2,
 * every node P(left) = its left subtree's mass over its own. Only +, -, *, / and rounding: the
 * same numbers on every engine.
 */
function seedCodeTree(c: Contexts, codebook: Float32Array, bits: number): void {
  const k = codebook.length - 1;
  const leaves = 1 << bits;
  const mass = new Float64Array(2 * leaves);
  for (let v = 0; v < k; v++) {
    const x = codebook[v + 1]!;
    const lo = v > 0 ? codebook[v]! : x;
    const hi = v < k - 1 ? codebook[v + 2]! : x;
    const width = k === 1 ? 1 : (hi - lo) / (v > 0 && v < k - 1 ? 2 : 1);
    mass[leaves + v] = width > 0 ? 1 / (width * width) : 1;
  }
  for (let node = leaves - 1; node >= 1; node--) mass[node] = mass[2 * node]! + mass[2 * node + 1]!;
  const prob = (node: number): number => {
    const total = mass[node]!;
    if (!(total > 0) || !Number.isFinite(total)) return PROB_HALF;
    return Math.min(32704, Math.max(64, Math.round((32768 * mass[2 * node]!) / total)));
  };
  for (let node = 1; node < leaves; node++) {
    const level = 31 - Math.clz32(node);
    if (level < TOP_LEVELS) {
      for (let pc = 0; pc < CLASSES; pc++) {
        c.probs[TOP + pc * (1 << TOP_LEVELS) + node] = prob(node);
        c.counts[TOP + pc * (1 << TOP_LEVELS) + node] = PRIOR_COUNT;
      }
    } else {
      c.probs[LOW + node] = prob(node);
      c.counts[LOW + node] = PRIOR_COUNT;
    }
  }
}

/** A coded payload and about how many of its bytes each part took (the range coder's position after it). */
export interface EncodedContextLayer {
  readonly bytes: Uint8Array;
  readonly codebook: number;
  readonly bias: number;
  readonly weights: number;
}

/** Codes one layer's codebook, biases and weights; the layer must be valid (the .sqz writer checks it). */
export function encodeContextPayload(layer: ContextLayer): EncodedContextLayer {
  const [O, I, KH, KW] = layer.shape;
  const e = new RangeEncoder();
  const c = new Contexts(SIZE);
  const k = layer.codebook.length - 1;

  // Codebook: keys ascending, each distance from the previous as bit length then bits.
  let prevKey = -1;
  let prevLength = 33;
  for (let v = 1; v <= k; v++) {
    const key = keyOf(layer.codebook[v]!, layer.codebookF16);
    const d = key - prevKey - 1;
    const m = bitLength(d);
    let node = 1;
    for (let b = 5; b >= 0; b--) {
      const bit = (m >> b) & 1;
      e.bit(c, CB_LENGTH + prevLength * 64 + node, bit);
      node = node * 2 + bit;
    }
    if (m > 1) {
      const rest = d - 2 ** (m - 1); // the m - 1 bits below the leading 1
      let mnode = 1;
      const modelled = Math.min(2, m - 1);
      for (let b = m - 2; b >= m - 1 - modelled; b--) {
        const bit = Math.floor(rest / 2 ** b) % 2;
        e.bit(c, CB_MANTISSA + m * 4 + mnode, bit);
        mnode = mnode * 2 + bit;
      }
      e.direct(rest % 2 ** (m - 1 - modelled), m - 1 - modelled);
    }
    prevKey = key;
    prevLength = m;
  }

  const afterCodebook = e.size;
  // Biases: sign, exponent, mantissa of their bits.
  const eBits = layer.biasF16 ? 5 : 8;
  const mBits = layer.biasF16 ? 10 : 23;
  for (let o = 0; o < O; o++) {
    let u: number;
    if (layer.biasF16) u = toFloat16Bits(layer.bias[o]!);
    else {
      F32[0] = layer.bias[o]!;
      u = U32[0]!;
    }
    const sign = layer.biasF16 ? u >>> 15 : u >>> 31;
    const exponent = Math.floor(u / 2 ** mBits) % 2 ** eBits;
    e.bit(c, BIAS_SIGN, sign);
    let node = 1;
    for (let b = eBits - 1; b >= 0; b--) {
      const bit = (exponent >> b) & 1;
      e.bit(c, BIAS_EXPONENT + node, bit);
      node = node * 2 + bit;
    }
    e.direct(u % 2 ** mBits, mBits);
  }

  const afterBias = e.size;
  // Weights.
  seedCodeTree(c, layer.codebook, layer.bits);
  const cls = classes(k);
  const codes = layer.codes;
  const T = KH * KW;
  const CI = I * T;
  let p = 0;
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let kn = 0;
      let kx = 0;
      for (let t = 0; t < T; t++, p++) {
        let ctx: number;
        let pc: number;
        if (T > 1) {
          const left = kx > 0 ? (codes[p - 1] !== 0 ? 2 : 1) : 0;
          const up = t >= KW ? (codes[p - KW] !== 0 ? 2 : 1) : 0;
          ctx = MASK + ((Math.min(t, TAPS - 1) * 10 + Math.min(kn, 9)) * 3 + left) * 3 + up;
          const a = kx > 0 ? cls[codes[p - 1]!]! : 0;
          const b = t >= KW ? cls[codes[p - KW]!]! : 0;
          pc = a !== 0 && b !== 0 ? (a + b + 1) >> 1 : a + b;
        } else {
          const f = o > 0 ? (codes[p - CI] !== 0 ? 2 : 1) : 0;
          const prev = i > 0 ? (codes[p - 1] !== 0 ? 2 : 1) : 0;
          ctx = MASK + f * 3 + prev;
          pc = o > 0 ? cls[codes[p - CI]!]! : 0;
        }
        const code = codes[p]!;
        e.bit(c, ctx, code !== 0 ? 1 : 0);
        if (code !== 0) {
          kn++;
          const v = code - 1;
          let node = 1;
          for (let level = 0; level < layer.bits; level++) {
            const bit = (v >> (layer.bits - 1 - level)) & 1;
            e.bit(c, level < TOP_LEVELS ? TOP + pc * (1 << TOP_LEVELS) + node : LOW + node, bit);
            node = node * 2 + bit;
          }
        }
        if (++kx === KW) kx = 0;
      }
    }
  }
  const bytes = e.finish();
  return { bytes, codebook: afterCodebook, bias: afterBias - afterCodebook, weights: bytes.length - afterBias };
}

/**
 * Decodes one layer's payload `bytes[from, to)`. `n` is the number of non-zero weights the header
 * promises. Every problem (a codebook value out of order or not finite, a bias not finite, a code
 * past the codebook, a count or length that does not match) is `fail(message, offset)`.
 */
export function decodeContextPayload(
  bytes: Uint8Array,
  from: number,
  to: number,
  shape: readonly [number, number, number, number],
  bits: number,
  k: number,
  codebookF16: boolean,
  biasF16: boolean,
  n: number,
  fail: ContextFail,
): DecodedContextLayer {
  const [O, I, KH, KW] = shape;
  const state = rangeStart(bytes, from, to);
  if (state[1]! < 0 || state[1]! >= 0x7fffffff) throw fail('the stream does not start with a valid code value', from);
  const d = new RangeDecoder(bytes, state);
  const c = new Contexts(SIZE);

  const codebook = new Float32Array(k + 1);
  const maxKey = codebookF16 ? 0xffff : 2 ** 32 - 1;
  let prevKey = -1;
  let prevLength = 33;
  for (let v = 1; v <= k; v++) {
    let node = 1;
    for (let b = 0; b < 6; b++) node = node * 2 + d.bit(c, CB_LENGTH + prevLength * 64 + node);
    const m = node - 64;
    if (m > (codebookF16 ? 16 : 32)) throw fail(`codebook value ${v}: a step of ${m} bits, more than a key has`, Math.min(state[2]!, to));
    let delta = 0;
    if (m === 1) delta = 1;
    else if (m > 1) {
      const modelled = Math.min(2, m - 1);
      let mnode = 1;
      for (let b = 0; b < modelled; b++) mnode = mnode * 2 + d.bit(c, CB_MANTISSA + m * 4 + mnode);
      const high = mnode - (1 << modelled);
      delta = 2 ** (m - 1) + high * 2 ** (m - 1 - modelled) + d.direct(m - 1 - modelled);
    }
    const key = prevKey + 1 + delta;
    if (key > maxKey) throw fail(`codebook value ${v} steps past the largest ${codebookF16 ? 'float16' : 'float32'} key (the values must ascend)`, Math.min(state[2]!, to));
    const value = valueOf(key, codebookF16);
    if (!Number.isFinite(value) || value === 0) throw fail(`codebook value ${v} is ${Object.is(value, -0) ? '-0' : value}; values must be finite and non-zero`, Math.min(state[2]!, to));
    codebook[v] = value;
    prevKey = key;
    prevLength = m;
  }

  const bias = new Float32Array(O);
  const eBits = biasF16 ? 5 : 8;
  const mBits = biasF16 ? 10 : 23;
  for (let o = 0; o < O; o++) {
    const sign = d.bit(c, BIAS_SIGN);
    let node = 1;
    for (let b = 0; b < eBits; b++) node = node * 2 + d.bit(c, BIAS_EXPONENT + node);
    const exponent = node - (1 << eBits);
    const mantissa = d.direct(mBits);
    if (exponent === (1 << eBits) - 1) throw fail(`bias ${o} is ${mantissa === 0 ? 'infinite' : 'NaN'}, not a finite number`, Math.min(state[2]!, to));
    if (biasF16) bias[o] = fromFloat16Bits((sign << 15) | (exponent << 10) | mantissa);
    else {
      U32[0] = sign * 2 ** 31 + exponent * 2 ** 23 + mantissa;
      bias[o] = F32[0]!;
    }
  }

  seedCodeTree(c, codebook, bits);
  const codes = new Uint16Array(O * I * KH * KW);
  const result = (KH * KW > 1 ? decodeKernels : decodePointwise)(bytes, state, c.probs, c.counts, RATE, classes(k), codes, O, I, KH, KW, bits, k);
  if (result < 0) {
    const p = -result - 1;
    throw fail(`weight ${p} (${position(shape, p)}) decodes to code ${codes[p]}, past the codebook's ${k} values`, Math.min(state[2]!, to));
  }
  if (result !== n) throw fail(`${result} non-zero weights decoded where the header says ${n}`, Math.min(state[2]!, to));
  if (state[2]! !== to) {
    throw fail(
      state[2]! > to
        ? `the stream ends early: decoding needs ${state[2]! - from} bytes, the header gives it ${to - from}`
        : `${to - state[2]!} bytes after the stream's end (the stream size in the header is wrong)`,
      Math.min(state[2]!, to),
    );
  }
  return { codebook, bias, codes, nonzero: result };
}

const position = (shape: readonly number[], p: number): string => {
  const [, I, KH, KW] = shape as [number, number, number, number];
  const kw = p % KW;
  const kh = Math.floor(p / KW) % KH;
  const i = Math.floor(p / (KW * KH)) % I;
  const o = Math.floor(p / (KW * KH * I));
  return `[${o}][${i}][${kh}][${kw}]`;
};

// The hot loops: every position of a layer, here for kernels of more than one tap. Numbers and
// typed arrays only; the range decoder of
// range.ts inlined twice (the mask bit, the code bits). Writes `codes` (code + 1 of each non-zero
// weight), updates the state; returns the non-zero count, or -(p + 1) when position p decodes to
// a code past the codebook (`codes[p]` then holds it).
function decodeKernels(
  b: Uint8Array,
  s: Int32Array,
  probs: Uint16Array,
  counts: Uint8Array,
  rate: Uint16Array,
  cls: Uint8Array,
  codes: Uint16Array,
  O: number,
  I: number,
  KH: number,
  KW: number,
  B: number,
  K: number,
): number {
  let range = s[0]!;
  let code = s[1]!;
  let at = s[2]!;
  const end = s[3]!;
  const T = KH * KW;
  const leaves = 1 << B;
  let p = 0;
  let nonzero = 0;
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let kn = 0;
      let kx = 0;
      for (let t = 0; t < T; t++) {
        let ctx = 0;
        let pc = 0;
        {
          let left = 0;
          let a = 0;
          if (kx > 0) {
            const l = codes[p - 1]!;
            left = l !== 0 ? 2 : 1;
            a = cls[l]!;
          }
          let up = 0;
          let u = 0;
          if (t >= KW) {
            const l = codes[p - KW]!;
            up = l !== 0 ? 2 : 1;
            u = cls[l]!;
          }
          ctx = (((t < 15 ? t : 15) * 10 + (kn < 9 ? kn : 9)) * 3 + left) * 3 + up;
          pc = a !== 0 && u !== 0 ? (a + u + 1) >> 1 : a + u;
        }
        // The mask bit (MASK is 0).
        let prob = probs[ctx]!;
        let count = counts[ctx]!;
        let bound = (range >>> 15) * prob;
        let bit = 0;
        if (code < bound) {
          range = bound;
          probs[ctx] = prob + (((32768 - prob) * rate[count]!) >>> 16);
        } else {
          code -= bound;
          range -= bound;
          probs[ctx] = prob - ((prob * rate[count]!) >>> 16);
          bit = 1;
        }
        if (count < 255) counts[ctx] = count + 1;
        while (range < 0x800000) {
          range <<= 8;
          code = (code << 8) | (at < end ? b[at]! : 0);
          at++;
        }
        if (bit !== 0) {
          kn++;
          let node = 1;
          for (let level = 0; level < B; level++) {
            ctx = level < 4 ? 1440 + pc * 16 + node : 1584 + node; // TOP, LOW
            prob = probs[ctx]!;
            count = counts[ctx]!;
            bound = (range >>> 15) * prob;
            if (code < bound) {
              range = bound;
              probs[ctx] = prob + (((32768 - prob) * rate[count]!) >>> 16);
              node = node * 2;
            } else {
              code -= bound;
              range -= bound;
              probs[ctx] = prob - ((prob * rate[count]!) >>> 16);
              node = node * 2 + 1;
            }
            if (count < 255) counts[ctx] = count + 1;
            while (range < 0x800000) {
              range <<= 8;
              code = (code << 8) | (at < end ? b[at]! : 0);
              at++;
            }
          }
          const v = node - leaves;
          codes[p] = v + 1;
          if (v >= K) {
            s[0] = range;
            s[1] = code;
            s[2] = at;
            return -(p + 1);
          }
          nonzero++;
        }
        p++;
        if (++kx === KW) kx = 0;
      }
    }
  }
  s[0] = range;
  s[1] = code;
  s[2] = at;
  return nonzero;
}

// The same for 1x1 convolutions (T = 1): their own function, so that neither loop meets a branch
// it has no type feedback for when V8 optimises it.
function decodePointwise(
  b: Uint8Array,
  s: Int32Array,
  probs: Uint16Array,
  counts: Uint8Array,
  rate: Uint16Array,
  cls: Uint8Array,
  codes: Uint16Array,
  O: number,
  I: number,
  KH: number,
  KW: number,
  B: number,
  K: number,
): number {
  let range = s[0]!;
  let code = s[1]!;
  let at = s[2]!;
  const end = s[3]!;
  const T = KH * KW;
  const CI = I * T;
  const leaves = 1 << B;
  let p = 0;
  let nonzero = 0;
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let kn = 0;
      let kx = 0;
      for (let t = 0; t < T; t++) {
        let ctx = 0;
        let pc = 0;
        {
          let f = 0;
          if (o > 0) {
            const l = codes[p - CI]!;
            f = l !== 0 ? 2 : 1;
            pc = cls[l]!;
          }
          ctx = f * 3 + (i > 0 ? (codes[p - 1] !== 0 ? 2 : 1) : 0);
        }
        // The mask bit (MASK is 0).
        let prob = probs[ctx]!;
        let count = counts[ctx]!;
        let bound = (range >>> 15) * prob;
        let bit = 0;
        if (code < bound) {
          range = bound;
          probs[ctx] = prob + (((32768 - prob) * rate[count]!) >>> 16);
        } else {
          code -= bound;
          range -= bound;
          probs[ctx] = prob - ((prob * rate[count]!) >>> 16);
          bit = 1;
        }
        if (count < 255) counts[ctx] = count + 1;
        while (range < 0x800000) {
          range <<= 8;
          code = (code << 8) | (at < end ? b[at]! : 0);
          at++;
        }
        if (bit !== 0) {
          kn++;
          let node = 1;
          for (let level = 0; level < B; level++) {
            ctx = level < 4 ? 1440 + pc * 16 + node : 1584 + node; // TOP, LOW
            prob = probs[ctx]!;
            count = counts[ctx]!;
            bound = (range >>> 15) * prob;
            if (code < bound) {
              range = bound;
              probs[ctx] = prob + (((32768 - prob) * rate[count]!) >>> 16);
              node = node * 2;
            } else {
              code -= bound;
              range -= bound;
              probs[ctx] = prob - ((prob * rate[count]!) >>> 16);
              node = node * 2 + 1;
            }
            if (count < 255) counts[ctx] = count + 1;
            while (range < 0x800000) {
              range <<= 8;
              code = (code << 8) | (at < end ? b[at]! : 0);
              at++;
            }
          }
          const v = node - leaves;
          codes[p] = v + 1;
          if (v >= K) {
            s[0] = range;
            s[1] = code;
            s[2] = at;
            return -(p + 1);
          }
          nonzero++;
        }
        p++;
        if (++kx === KW) kx = 0;
      }
    }
  }
  s[0] = range;
  s[1] = code;
  s[2] = at;
  return nonzero;
}

// Constants the hot loop hard-codes, checked against the layout once.
if (MASK !== 0 || TOP !== 1440 || LOW !== 1584 || TOP_LEVELS !== 4 || TAPS !== 16 || RATE_LIMIT !== 255) throw new Error('context-model: the hot loop constants are out of date');
