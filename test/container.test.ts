// The .sqz container (src/formats/sqz.ts, docs/FORMAT.md): a small file of awkward layers written
// and read back; bad magic, wrong version, CRC mismatches, truncation at every length, extra
// bytes, forged fields and payloads (with their CRCs recomputed, so the checks behind the CRC are
// reached): each a FormatError naming the layer and the byte, never a RangeError or a hang.
import { describe, expect, it } from 'vitest';
import { huffmanLengths } from '../src/codec/huffman.js';
import {
  FormatError,
  InputError,
  SQZ_MAGIC,
  SQZ_VERSION,
  decodeSqz,
  isSqz,
  layerWeights,
  loadSqz,
  readSqz,
  writeSqz,
  type SqzLayer,
} from '../src/index.js';
import { seededRandom } from './helpers.js';
import { formatError, layoutOf, reseal, smallFile } from './sqz-helpers.js';

const edit = (b: Uint8Array, f: (view: DataView, c: Uint8Array) => void, sealed = true): Uint8Array => {
  const c = b.slice();
  f(new DataView(c.buffer), c);
  return sealed ? reseal(c) : c;
};

describe('a small container', () => {
  const file = smallFile();
  const { bytes, header, layers } = writeSqz(file);

  it('reads back exactly: every codebook value, bias, code and gap', () => {
    const back = readSqz(bytes);
    expect(back.arch).toBe('v1.1');
    expect(back.layers.length).toBe(4);
    back.layers.forEach((l, i) => {
      const want = file.layers[i]!;
      expect({ ...l, codebook: [...l.codebook], bias: [...l.bias], codes: [...l.codes], gaps: [...l.gaps] }).toEqual({
        ...want,
        codebook: [...want.codebook],
        bias: [...want.bias],
        codes: [...want.codes],
        gaps: [...want.gaps],
      });
    });
    expect(file.layers[0]!.codes.filter((c) => c === 0).length).toBeGreaterThan(0); // fillers
    expect(file.layers[1]!.codes.length).toBe(0);
    console.log(`small container: ${bytes.length} bytes, header ${header}, payloads ${layers.map((p) => p.codebook + p.bias + p.codes + p.gaps).join(' + ')}`);
  });

  it('decodes to tensors: codebook[code] at each position, 0 elsewhere', () => {
    const t = decodeSqz(bytes).weights;
    expect([...t.keys()]).toEqual(['a.conv.weight', 'a.conv.bias', 'b.weight', 'b.bias', 'c.weight', 'c.bias', 'd.weight', 'd.bias']);
    expect(t.get('a.conv.weight')!.shape).toEqual([3, 2, 3, 3]);
    expect(Array.from(t.get('c.weight')!.data)).toEqual([1, 2, 3, 3, 2, 1].map((c) => file.layers[2]!.codebook[c]!));
    expect(Array.from(t.get('d.weight')!.data)).toEqual([-3]);
    expect(t.get('b.weight')!.data.every((v) => v === 0)).toBe(true);
    expect(Array.from(layerWeights(file.layers[0]!)).filter((v) => v !== 0).length).toBe(file.layers[0]!.codes.filter((c) => c !== 0).length);
  });

  it('starts with the magic; isSqz tells it from other bytes', () => {
    expect(Array.from(bytes.subarray(0, 8))).toEqual([...SQZ_MAGIC]);
    expect(new DataView(bytes.buffer).getUint16(8, true)).toBe(1); // no metadata: version 1, as before metadata existed
    expect(SQZ_VERSION).toBe(3);
    expect(isSqz(bytes)).toBe(true);
    expect(isSqz(bytes.subarray(0, 7))).toBe(false);
    expect(isSqz(new Uint8Array(100))).toBe(false);
  });

  it('writes the same bytes twice, and accepts an ArrayBuffer or a Uint8Array at an offset', () => {
    expect(writeSqz(smallFile()).bytes).toEqual(bytes);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect(readSqz(padded.subarray(5)).layers.length).toBe(4);
    expect(readSqz(bytes.slice().buffer).layers.length).toBe(4);
    expect(() => readSqz('x' as unknown as Uint8Array)).toThrow(InputError);
  });
});

describe('damaged containers: FormatError with the layer and the byte', () => {
  const { bytes } = writeSqz(smallFile());
  const L = layoutOf(bytes);
  const rec = (name: string) => L.records.find((r) => r.name === name)!;

  for (let i = 0; i < 8; i++) {
    it(`bad magic at byte ${i}`, () => {
      const e = formatError(edit(bytes, (_, c) => (c[i] = c[i]! ^ 0x20), false));
      expect([e.offset, e.layer]).toEqual([i, undefined]);
      expect(e.message).toMatch(/not a \.sqz file: it starts with .*, a \.sqz file with 89 53 51 5A 0D 0A 1A 0A/);
    });
  }

  for (const version of [0, 4, 0xffff]) {
    it(`version ${version}`, () => {
      const e = formatError(edit(bytes, (v) => v.setUint16(8, version, true)));
      expect([e.offset, e.layer]).toEqual([8, undefined]);
      expect(e.message).toMatch(new RegExp(`version ${version}; this library reads versions 1, 2 and 3`));
    });
  }

  it('a header byte changed: header CRC mismatch at the CRC field', () => {
    const e = formatError(edit(bytes, (_, c) => (c[L.archAt + 2] = 0x78), false));
    expect([e.offset, e.layer]).toEqual([L.crcAt, undefined]);
    expect(e.message).toMatch(/header CRC-32 mismatch: the header says [0-9a-f]{8}, its bytes 0\.\.\d+ give [0-9a-f]{8}/);
  });

  for (const name of ['a.conv', 'c', 'd']) {
    it(`a payload byte of ${name} changed: its CRC mismatch, at its first byte`, () => {
      const r = rec(name);
      const e = formatError(edit(bytes, (_, c) => (c[r.payload + r.payloadBytes - 1] = c[r.payload + r.payloadBytes - 1]! ^ 1), false));
      expect([e.offset, e.layer]).toEqual([r.payload, name]);
      expect(e.message).toMatch(/payload CRC-32 mismatch/);
    });
  }

  it(`truncated at every length 0..${bytes.length - 1}: never read, the cut named`, () => {
    for (let n = 0; n < bytes.length; n++) {
      const e = formatError(bytes.subarray(0, n));
      if (n >= L.records[0]!.payload) {
        const r = L.records.find((x) => n < x.payload + x.payloadBytes)!;
        expect([e.offset, e.layer], `cut at ${n}`).toEqual([n, r.name]);
        expect(e.message).toMatch(/the file ends inside this layer's (codebook|biases|code stream|gap stream)/);
      } else if (n >= 8) {
        expect(e.offset, `cut at ${n}`).toBe(n);
        expect(e.message).toMatch(/the file ends inside the header/);
      }
    }
  });

  for (const extra of [1, 100]) {
    it(`${extra} byte(s) after the last payload`, () => {
      const longer = new Uint8Array(bytes.length + extra);
      longer.set(bytes);
      const e = formatError(longer);
      expect([e.offset, e.layer]).toEqual([bytes.length, 'd']);
      expect(e.message).toMatch(new RegExp(`${extra} bytes after the last layer's payload`));
    });
  }

  const a = rec('a.conv');
  const c = rec('c');
  for (const [what, field, value, size, pattern] of [
    ['a code width of 0', a.bits, 0, 1, /code width 0 bits; 1\.\.12 allowed/],
    ['a code width of 13', a.bits, 13, 1, /code width 13 bits/],
    ['a gap width of 0', a.gapBits, 0, 1, /gap width 0 bits/],
    ['a codebook larger than the code width allows', a.k, 16, 2, /codebook of 16 values does not fit 4-bit codes/],
    ['more entries than weights', a.n, 55, 4, /55 entries, more than the 54 weights/],
    ['2^32 - 1 entries', a.n, 0xffffffff, 4, /4294967295 entries/],
    ['an unknown flag', a.flags, 0x13, 1, /flags 19 set unknown bits/],
    ['a fixed-width code stream of the wrong size', c.codeBytes, 3, 4, /code stream of 3 bytes; 6 fixed 2-bit codes take 2/],
    ['a Huffman gap stream under 2 bytes', a.gapBytes, 1, 4, /gap stream of 1 bytes; .* take 2 at least/],
  ] as const) {
    it(`a forged header (CRC recomputed): ${what}`, () => {
      const e = formatError(edit(bytes, (v) => (size === 1 ? v.setUint8(field, value) : size === 2 ? v.setUint16(field, value, true) : v.setUint32(field, value, true))));
      expect(e.layer).toBe(field === c.codeBytes ? 'c' : 'a.conv');
      expect(e.offset).toBe(field);
      expect(e.message).toMatch(pattern);
    });
  }

  it('a forged header: a shape with a zero size, and one of more than 2^24 weights', () => {
    const zero = formatError(edit(bytes, (v) => v.setUint16(a.fields + 2, 0, true)));
    expect([zero.offset, zero.layer]).toEqual([a.fields, 'a.conv']);
    expect(zero.message).toMatch(/shape \[3, 0, 3, 3\] has a zero size/);
    const huge = formatError(edit(bytes, (v) => (v.setUint16(a.fields, 65535, true), v.setUint16(a.fields + 2, 65535, true))));
    expect(huge.message).toMatch(/more than the 16777216 a layer may have/);
  });

  it('a forged header: two layers of one name, a name and an arch that are not printable, no layers', () => {
    const dup = formatError(edit(bytes, (_, x) => (x[rec('c').at + 1] = 'd'.charCodeAt(0))));
    expect([dup.offset, dup.layer]).toEqual([rec('d').at, 'd']);
    expect(dup.message).toMatch(/a layer of this name comes earlier/);
    const name = formatError(edit(bytes, (_, x) => (x[rec('b').at + 1] = 0x20)));
    expect(name.offset).toBe(rec('b').at + 1);
    const arch = formatError(edit(bytes, (_, x) => (x[L.archAt + 1] = 0x0a)));
    expect(arch.offset).toBe(L.archAt);
    const none = formatError(reseal(Uint8Array.from([...bytes.subarray(0, L.countAt), 0, 0, 0, 0, 0, 0])));
    expect([none.offset, none.message.includes('the file has no layers')]).toEqual([L.countAt, true]);
  });

  it('a forged payload: oversubscribed Huffman code lengths', () => {
    // a.conv's code stream starts with its alphabet size (2 bytes) and then the 4-bit lengths.
    const at = a.payload + 4 * 11 + 4 * 3 + 2;
    const e = formatError(edit(bytes, (_, x) => (x[at] = 0x11)));
    expect([e.offset, e.layer]).toEqual([at, 'a.conv']);
    expect(e.message).toMatch(/code stream: bad code lengths: the code lengths are oversubscribed/);
  });

  it('a forged payload: a Huffman alphabet larger than the width allows', () => {
    const at = a.payload + 4 * 11 + 4 * 3;
    const e = formatError(edit(bytes, (v) => v.setUint16(at, 17, true)));
    expect([e.offset, e.layer]).toEqual([at, 'a.conv']);
    expect(e.message).toMatch(/alphabet of 17 symbols; 4-bit symbols allow 16/);
  });

  it('a forged payload: a code beyond the codebook (its last value cut out of the file and the count)', () => {
    // a.conv's codebook is 11 float32 values; code 11 is used. Drop the 11th value, say k = 10.
    const last = a.payload + 4 * 10;
    const cut = Uint8Array.from([...bytes.subarray(0, last), ...bytes.subarray(last + 4)]);
    const e = formatError(edit(cut, (v) => v.setUint16(a.k, 10, true)));
    expect(e.layer).toBe('a.conv');
    expect(e.message).toMatch(/code stream: entry \d+ has code 11, the codebook has 10 values besides 0/);
    expect(e.offset).toBeGreaterThan(last);
  });

  it('a forged payload: fixed-width gaps that run past the end of the tensor', () => {
    const at = c.payload + 6 + 4 + 2;
    const e = formatError(edit(bytes, (_, x) => (x[at] = 0xff)));
    expect([e.offset, e.layer]).toEqual([at, 'c']);
    expect(e.message).toMatch(/gap stream: entry 3 of 6 lands at position 7, past the end of the 6-weight tensor/);
  });

  it('a forged payload: NaN in a codebook, infinity in a float16 bias', () => {
    const nan = formatError(edit(bytes, (v) => v.setFloat32(a.payload + 8, NaN, true)));
    expect([nan.offset, nan.layer]).toEqual([a.payload + 8, 'a.conv']);
    expect(nan.message).toMatch(/codebook value 3 is NaN/);
    const inf = formatError(edit(bytes, (v) => v.setUint16(c.payload + 6 + 2, 0x7c00, true)));
    expect([inf.offset, inf.layer]).toEqual([c.payload + 8, 'c']);
    expect(inf.message).toMatch(/bias 1 is Infinity/);
  });

  it('a forged payload: a Huffman stream with a byte too many after its last symbol', () => {
    const b = rec('b');
    const longer = Uint8Array.from([...bytes.subarray(0, b.payload + b.payloadBytes), 0, ...bytes.subarray(b.payload + b.payloadBytes)]);
    const e = formatError(edit(longer, (v) => v.setUint32(b.gapBytes, v.getUint32(b.gapBytes, true) + 1, true)));
    expect(e.layer).toBe('b');
    expect(e.message).toMatch(/gap stream: 1 bytes after the last of its 0 symbols/);
  });

  it('random damage, CRCs recomputed (seed 1602, 3000 cases): a FormatError or a valid file, never another error', () => {
    const rand = seededRandom(1602);
    const kinds = { read: 0, format: 0 };
    for (let t = 0; t < 3000; t++) {
      const c2 = bytes.slice();
      const r = rand();
      const hits = 1 + Math.floor(rand() * 4);
      for (let h = 0; h < hits; h++) {
        const at = r < 0.5 ? Math.floor(rand() * L.records[0]!.payload) : Math.floor(rand() * c2.length);
        c2[at] = rand() < 0.5 ? c2[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
      }
      const sealed = reseal(c2);
      try {
        const f = readSqz(sealed);
        for (const l of f.layers) layerWeights(l);
        kinds.read++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`case ${t}: ${(e as Error).name}: ${(e as Error).message}`);
        expect(e.offset).toBeLessThanOrEqual(sealed.length);
        kinds.format++;
      }
    }
    console.log(`random damage (seed 1602): ${kinds.format} FormatErrors, ${kinds.read} still valid`);
    expect(kinds.format).toBeGreaterThan(1000);
  });
});

describe('what writeSqz refuses (InputError)', () => {
  const base = smallFile().layers[0]!;
  for (const [what, l] of [
    ['a code beyond the codebook', { ...base, codes: Uint16Array.from([...base.codes.subarray(0, 1), 12]), gaps: base.gaps.subarray(0, 2) }],
    ['a gap wider than the gap width', { ...base, gaps: Uint16Array.from(base.gaps, (g, i) => (i === 0 ? 4 : g)) }],
    ['entries past the end of the tensor', { ...base, shape: [1, 1, 3, 3] as const }],
    ['a codebook not starting with 0', { ...base, codebook: Float32Array.from([1, 2]) }],
    ['more values than the code width allows', { ...base, bits: 3 }],
    ['a float16 codebook with a value float16 cannot hold', { ...base, codebookF16: true, codebook: Float32Array.from(base.codebook, (v, i) => (i === 1 ? 0.1 : v)) }],
    ['biases of the wrong count', { ...base, bias: new Float32Array(2) }],
    ['a width of 13 bits', { ...base, gapBits: 13 }],
  ] as const) {
    it(what, () => {
      expect(() => writeSqz({ arch: 'v1.1', layers: [l as SqzLayer] })).toThrow(InputError);
    });
  }
  it('an architecture name with a space, no layers, a name given twice', () => {
    expect(() => writeSqz({ arch: 'v 1', layers: [base] })).toThrow(InputError);
    expect(() => writeSqz({ arch: 'v1.1', layers: [] })).toThrow(InputError);
    expect(() => writeSqz({ arch: 'v1.1', layers: [base, base] })).toThrow(InputError);
  });
});

describe('loading', () => {
  it('a container of an unknown network is a FormatError unless { arch } says which', async () => {
    const f = smallFile();
    const e = await loadSqz(writeSqz({ ...f, arch: 'lenet' }).bytes).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FormatError);
    expect((e as FormatError).message).toMatch(/architecture "lenet" is not one this library knows/);
  });

  it('huffmanLengths is what the writer uses: the single-symbol layer d takes no stream bits', () => {
    expect(Array.from(huffmanLengths([0, 3]))).toEqual([0, 1]);
    const { layers } = writeSqz(smallFile());
    expect(layers[3]).toEqual({ codebook: 4, bias: 4, codes: 3, gaps: 3 });
  });
});
