// The safetensors reader: round trips of the fixture weights (F32 and F16, lossless since the
// fixture weights are float16 values), the engine on them against PyTorch's logits, every float16
// class of value, the arch inferred from shapes, the interop fixture files, and a hand-made file
// for each rule of the format, each a FormatError that names the tensor and the byte.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ARCHS,
  FormatError,
  SAFETENSORS_MAX_HEADER,
  SqueezeNet,
  WeightError,
  readSafetensors,
  expectedWeights,
  halfToFloat,
  inferArch,
  loadSafetensors,
  plan,
} from '../src/index.js';
import { compare, dense, FIXTURES, readFixture, readManifest } from './fixture-reader.js';
import { f16Bytes, f32Bytes, floatToHalf, safetensors, safetensorsRaw, weightsToSafetensors } from './format-writers.js';
import { randomWeights } from './helpers.js';

const TOLERANCE = 1e-5;

const fixtureWeights = (file: string): Map<string, { data: Float32Array; shape: number[] }> => {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, t] of readFixture(file)) out.set(name, { data: dense(t, name), shape: t.shape });
  return out;
};

/** Runs `formatError` and returns the FormatError it throws. */
function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

const one = (dtype: string, shape: number[], bytes: Uint8Array) => safetensors([{ name: 'x', dtype, shape, bytes }]);

describe('safetensors: round trips', () => {
  for (const [arch, file] of [['v1.0', 'weights-v1.0.sqzf.gz'], ['v1.1', 'weights-v1.1.sqzf.gz']] as const) {
    for (const dtype of ['F32', 'F16'] as const) {
      it(`${arch} fixture weights as ${dtype}: every value back bit for bit, arch ${arch} inferred`, () => {
        const w = fixtureWeights(file);
        const decoded = readSafetensors(weightsToSafetensors(w, dtype, { format: 'pt' }));
        expect(decoded.metadata).toEqual({ format: 'pt' });
        expect([...decoded.tensors.keys()]).toEqual([...w.keys()]);
        for (const [name, t] of w) {
          const got = decoded.tensors.get(name)!;
          expect(got.shape, name).toEqual(t.shape);
          expect(got.dtype).toBe(dtype);
          expect(Buffer.from(got.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
        }
        expect(inferArch(decoded.tensors)).toBe(arch);
      });
    }
  }

  it('complex-bypass weights are recognised by their bypass tensors; v1.0 weights load as v1.0-caffe on request', async () => {
    const p = plan(ARCHS['complex-bypass']);
    const shapes = expectedWeights(p);
    const withShapes = new Map([...randomWeights(p, 7)].map(([n, data]) => [n, { data, shape: shapes.get(n)! }]));
    expect(inferArch(readSafetensors(weightsToSafetensors(withShapes)).tensors)).toBe('complex-bypass');
    const model = await loadSafetensors(weightsToSafetensors(fixtureWeights('weights-v1.0.sqzf.gz')), { arch: 'v1.0-caffe', warmup: false });
    expect(model.plan.arch.name).toBe('v1.0-caffe');
    model.dispose();
  });

  it('the engine on F16 safetensors weights matches PyTorch logits (v1.1 at 224, v1.0 at 224)', async () => {
    for (const [arch, weights, file] of [
      ['v1.1', 'weights-v1.1.sqzf.gz', 'case-v1.1-224x224.sqzf.gz'],
      ['v1.0', 'weights-v1.0.sqzf.gz', 'case-v1.0-224x224.sqzf.gz'],
    ] as const) {
      const bytes = weightsToSafetensors(fixtureWeights(weights), 'F16');
      const model = await loadSafetensors(bytes, { warmup: false });
      expect(model.plan.arch.name).toBe(arch);
      const c = readFixture(file);
      const r = compare(model.run(dense(c.get('input'), 'input')), c.get('logits')!);
      console.log(`safetensors F16 ${arch} ${file}: max |engine - PyTorch| logits ${r.maxDiff.toExponential(2)} (max |logit| ${r.maxRef.toExponential(2)})`);
      expect(r.maxDiff).toBeLessThanOrEqual(TOLERANCE * r.maxRef);
      model.dispose();
    }
  });
});

describe('safetensors: values', () => {
  it('float16: zeros, subnormals, normals, the largest, infinities and NaN widen exactly', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x8000, -0],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const bits = new Uint8Array(2 * (cases.length + 2));
    const view = new DataView(bits.buffer);
    cases.forEach(([h], i) => view.setUint16(2 * i, h, true));
    view.setUint16(2 * cases.length, 0x7e00, true);
    view.setUint16(2 * cases.length + 2, 0xfd01, true);
    const got = readSafetensors(one('F16', [cases.length + 2], bits)).tensors.get('x')!.data;
    cases.forEach(([h, v], i) => {
      expect(Object.is(got[i], v), `0x${h.toString(16)} -> ${got[i]}, want ${v}`).toBe(true);
      expect(Object.is(halfToFloat(h), v)).toBe(true);
    });
    expect(got[cases.length]).toBeNaN();
    expect(got[cases.length + 1]).toBeNaN();
    // Every pattern: the table agrees with the formula and with the writer's rounding.
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v) ? (h & 0x7c00) !== 0x7c00 : floatToHalf(v) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('BF16 widens to the float32 with those top 16 bits; F32 at an odd offset reads right', () => {
    const b = new Uint8Array([0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f]);
    expect([...readSafetensors(one('BF16', [3], b)).tensors.get('x')!.data]).toEqual([1, -2, Infinity]);
    const file = safetensors([
      { name: 'a', dtype: 'F16', shape: [1], bytes: f16Bytes([3]) },
      { name: 'b', dtype: 'F32', shape: [2], bytes: f32Bytes([1.5, -7.25]) },
    ]);
    expect([...readSafetensors(file).tensors.get('b')!.data]).toEqual([1.5, -7.25]);
  });

  it('zero-element tensors and an empty file of tensors are fine', () => {
    expect(readSafetensors(one('F32', [0, 3], new Uint8Array(0))).tensors.get('x')!.data.length).toBe(0);
    expect(readSafetensors(safetensorsRaw({}, new Uint8Array(0))).tensors.size).toBe(0);
    expect(readSafetensors(safetensorsRaw({}, new Uint8Array(0), '{}    ')).tensors.size).toBe(0);
  });
});

describe('safetensors: every rule of the format is checked', () => {
  const good = one('F32', [2, 2], f32Bytes([1, 2, 3, 4]));
  const header = (h: unknown, data = new Uint8Array(16)) => safetensorsRaw(h, data);

  it('fewer than 8 bytes', () => {
    expect(formatError(() => readSafetensors(new Uint8Array(5))).message).toMatch(/5 bytes, fewer than the 8/);
  });

  it('header larger than 100 MB, or than the file', () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, BigInt(SAFETENSORS_MAX_HEADER + 1), true);
    expect(formatError(() => readSafetensors(big)).message).toMatch(/header length is 100000001 bytes, more than the 100000000/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expect(formatError(() => readSafetensors(huge)).message).toMatch(/more than the 100000000/);
    const past = good.slice();
    new DataView(past.buffer).setBigUint64(0, BigInt(good.length), true);
    const e = formatError(() => readSafetensors(past));
    expect(e.message).toMatch(/only \d+ follow the 8-byte length/);
    expect(e.offset).toBe(0);
  });

  it("header not JSON, not UTF-8, not an object, not starting with '{'", () => {
    expect(formatError(() => readSafetensors(safetensorsRaw(null, new Uint8Array(0), '{"x": '))).message).toMatch(/not valid JSON/);
    expect(formatError(() => readSafetensors(safetensorsRaw(null, new Uint8Array(0), ' {}'))).message).toMatch(/must start with '\{'/);
    expect(formatError(() => readSafetensors(safetensorsRaw(null, new Uint8Array(0), '[1]'))).message).toMatch(/must start with '\{'/);
    const bad = safetensorsRaw(null, new Uint8Array(0), '{"\u00e9":1}');
    bad[10] = 0xff;
    expect(formatError(() => readSafetensors(bad)).message).toMatch(/not valid UTF-8/);
  });

  it('overlapping offsets name both tensors', () => {
    const e = formatError(() =>
      readSafetensors(header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12))),
    );
    expect(e.message).toMatch(/layer b at byte \d+: data_offsets \[4, 12\] overlap a, which ends at 8/);
    expect(e.layer).toBe('b');
  });

  it('a gap between tensors, and data not covered at the end', () => {
    expect(formatError(() => readSafetensors(header({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)))).message).toMatch(
      /leave a gap: the data begins at 0/,
    );
    expect(formatError(() => readSafetensors(header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)))).message).toMatch(
      /cover 4 bytes of data, the file has 8/,
    );
  });

  it('offsets past the end of the buffer, or ending before they begin', () => {
    const e = formatError(() => readSafetensors(header({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(12))));
    expect(e.message).toMatch(/layer a at byte \d+: data_offsets \[0, 16\] run past the end of the data \(12 bytes/);
    expect(formatError(() => readSafetensors(header({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, new Uint8Array(8)))).message).toMatch(
      /end before they begin/,
    );
  });

  it('shape times dtype size must equal the byte range', () => {
    const e = formatError(() => readSafetensors(header({ w: { dtype: 'F16', shape: [3, 3], data_offsets: [0, 16] } })));
    expect(e.message).toMatch(/layer w at byte \d+: shape \[3, 3\] of F16 is 9 elements = 18 bytes, but data_offsets \[0, 16\] hold 16 bytes/);
  });

  it('a shape whose element count overflows is caught, not wrapped', () => {
    const e = formatError(() => readSafetensors(header({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 16], data_offsets: [0, 16] } })));
    expect(e.message).toMatch(/more than 2\^53 elements/);
    const e2 = formatError(() => readSafetensors(header({ w: { dtype: 'F64', shape: [2 ** 51], data_offsets: [0, 16] } })));
    expect(e2.message).toMatch(/hold 16 bytes/);
    expect(formatError(() => readSafetensors(header({ w: { dtype: 'F32', shape: [2 ** 60], data_offsets: [0, 16] } }))).message).toMatch(
      /not a list of non-negative integers/,
    );
    expect(formatError(() => readSafetensors(header({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }))).message).toMatch(
      /not a list of non-negative integers/,
    );
    expect(formatError(() => readSafetensors(header({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 1e300] } }))).message).toMatch(
      /not \[begin, end\]/,
    );
  });

  it('unknown and unsupported dtypes name the tensor and the dtype', () => {
    const e = formatError(() => readSafetensors(header({ 'features.0.weight': { dtype: 'I64', shape: [2], data_offsets: [0, 16] } })));
    expect(e.message).toMatch(/layer features\.0\.weight at byte \d+: dtype I64 is not supported: SqueezeNet weights load from F32, F16 or BF16/);
    expect(e.layer).toBe('features.0.weight');
    expect(formatError(() => readSafetensors(header({ x: { dtype: 'F33', shape: [4], data_offsets: [0, 16] } }))).message).toMatch(
      /layer x at byte \d+: dtype "F33" is not a safetensors dtype/,
    );
    expect(formatError(() => readSafetensors(header({ x: { shape: [4], data_offsets: [0, 16] } }))).message).toMatch(/dtype is missing/);
  });

  it('the error offset points at the tensor entry in the header', () => {
    const file = header({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, bad: { dtype: 'X', shape: [], data_offsets: [16, 16] } });
    const e = formatError(() => readSafetensors(file));
    expect(new TextDecoder().decode(file.subarray(e.offset, e.offset + 5))).toBe('"bad"');
  });

  it('__metadata__ must be strings', () => {
    expect(formatError(() => readSafetensors(header({ __metadata__: { a: 1 } }, new Uint8Array(0)))).message).toMatch(/__metadata__ must be an object of strings/);
  });
});

describe('safetensors: arch inference', () => {
  const v11 = () => readSafetensors(weightsToSafetensors(fixtureWeights('weights-v1.1.sqzf.gz'))).tensors;

  it('a tensor of no SqueezeNet, a wrong shape, a missing tensor: WeightError naming it', () => {
    const extra = v11();
    extra.set('features.0.running_mean', { data: new Float32Array(64), shape: [64], dtype: 'F32' });
    expect(() => inferArch(extra)).toThrow(WeightError);
    expect(() => inferArch(extra)).toThrow(/features\.0\.running_mean: not a tensor of any SqueezeNet \(closest: v1\.1\)/);
    const wrong = v11();
    wrong.set('features.3.squeeze.weight', { data: new Float32Array(10 * 64), shape: [10, 64, 1, 1], dtype: 'F32' });
    expect(() => inferArch(wrong)).toThrow(/features\.3\.squeeze\.weight: shape \[10, 64, 1, 1\] fits no SqueezeNet \(v1\.1 has \[16, 64, 1, 1\]\)/);
    const classes = v11();
    classes.set('classifier.1.weight', { data: new Float32Array(10 * 512), shape: [10, 512, 1, 1], dtype: 'F32' });
    expect(() => inferArch(classes)).toThrow(/classifier\.1\.bias: shape \[1000\] fits no SqueezeNet \(v1\.1 has \[10\]\)/);
    const missing = v11();
    missing.delete('features.3.squeeze.bias');
    expect(() => inferArch(missing)).toThrow(/features\.3\.squeeze\.bias: missing/);
  });
});

// The interop files: safetensors written by PyTorch's safetensors package.
const manifest = readManifest() as ReturnType<typeof readManifest> & { interop?: { file: string; matches_case: string }[] };
const interop = (manifest.interop ?? []).filter((f) => f.file.includes('.safetensors'));

describe('safetensors: interop fixtures written by the safetensors package', () => {
  for (const f of interop) {
    it(`${f.file} reproduces ${f.matches_case}'s logits`, async () => {
      const path = join(FIXTURES, f.file);
      expect(existsSync(path), `${path} is listed in manifest.json but missing`).toBe(true);
      let bytes = readFileSync(path);
      if (f.file.endsWith('.gz')) bytes = gunzipSync(bytes);
      const c = readFixture(f.matches_case);
      const [, , h, w] = c.get('input')!.shape as [number, number, number, number];
      const { tensors } = readSafetensors(bytes);
      const arch = inferArch(tensors);
      const model = await SqueezeNet.load({ arch, weights: tensors, inputSize: [h, w], warmup: false });
      const r = compare(model.run(dense(c.get('input'), 'input')), c.get('logits')!);
      console.log(`${f.file} (${arch}, ${[...new Set([...tensors.values()].map((t) => t.dtype))].join('/')}) vs ${f.matches_case}: max |diff| ${r.maxDiff.toExponential(2)}, max |logit| ${r.maxRef.toExponential(2)}`);
      expect(r.maxDiff).toBeLessThanOrEqual(TOLERANCE * r.maxRef);
      model.dispose();
    });
  }
});
