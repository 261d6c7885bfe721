// Every layer of every PyTorch fixture (seeded random weights), shapes exact and values within
// a relative tolerance. The table printed per case shows the largest difference per layer. Each
// case runs on 3 threads (bit for bit one thread's result: test/threads.test.ts), once with the
// plain SIMD build and once with the relaxed one (fused multiply-add) where the runtime has it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  SqueezeNet,
  ARCHS,
  metaArch,
  decodeDeepCompression,
  withClasses,
  withPooling,
  type Arch,
  type ArchName,
  type LayerOutput,
  type WeightMap,
} from '../src/index.js';
import { relaxedSimdSupported, type SimdFlavor } from '../src/wasm.js';
import { MODEL, shared } from './shared.js';
import { compare, dense, readFixture, readManifest, type Comparison, type FixtureCase } from './fixture-reader.js';

/**
 * f32 convolutions summed in another order than PyTorch's differ by a few ulps of the largest
 * partial sums; 1e-5 of the layer's largest value leaves room for that through 26 layers
 * (measured: about 1e-6), and is far below any indexing or padding mistake.
 */
const TOLERANCE = 1e-5;

const manifest = readManifest();
const weightCache = new Map<string, Map<string, { data: Float32Array; shape: number[] }>>();

export function fixtureWeights(file: string): Map<string, { data: Float32Array; shape: number[] }> {
  let w = weightCache.get(file);
  if (!w) {
    w = new Map();
    for (const [name, t] of readFixture(file)) w.set(name, { data: dense(t, name), shape: t.shape });
    weightCache.set(file, w);
  }
  return w;
}

// The real Deep Compression weights come from ../shared at run time, never from the repository.
function caseWeights(c: FixtureCase): WeightMap {
  return c.weights === 'real' ? decodeDeepCompression(readFileSync(shared(MODEL))).weights : fixtureWeights(c.weights);
}

export const engineName = (fixtureName: string): string => (fixtureName === 'logits' ? 'avgpool10' : fixtureName);

/** The SIMD builds this runtime runs (relaxed: Node >= 22; `npm run test:node24` runs it). */
const FLAVOURS: readonly SimdFlavor[] = relaxedSimdSupported() ? ['plain', 'relaxed'] : ['plain'];
if (FLAVOURS.length === 1) console.log(`conformance: Node ${process.version} has no relaxed SIMD; \`npm run test:node24\` runs the relaxed build`);
const THREADS = 3;

function describeCase(c: FixtureCase, simd: SimdFlavor): void {
  const [, , h, w] = c.input as [number, number, number, number];
  const label = `${c.meta ? `${c.arch} SR=${c.meta.sr} pct3x3=${c.meta.pct3x3}` : c.arch}${c.maxpool === 'floor' ? ' floor-mode pools' : ''}${c.classes ? ` ${c.classes} class${c.classes === 1 ? '' : 'es'}` : ''} [${simd} SIMD, ${THREADS} threads]`;
  describe(`${label} at ${h}x${w} (${c.file}, ${c.storage})`, () => {
    let layers: Map<string, LayerOutput>;
    let tensors: ReturnType<typeof readFixture>;
    const rows: string[] = [];
    beforeAll(async () => {
      tensors = readFixture(c.file);
      let arch: Arch = c.meta ? metaArch(c.meta) : ARCHS[c.arch as ArchName];
      expect(arch, `unknown arch ${c.arch}`).toBeDefined();
      if (c.maxpool) arch = withPooling(arch, c.maxpool);
      if (c.classes) arch = withClasses(arch, c.classes);
      const model = await SqueezeNet.load({
        arch,
        weights: caseWeights(c),
        inputSize: [h, w],
        threads: THREADS,
        simd,
      });
      expect([model.threads, model.simd]).toEqual([THREADS, simd]);
      const trace = model.trace(dense(tensors.get('input'), 'input'));
      layers = new Map(trace.layers.map((l) => [l.name, l]));
      model.dispose();
    });
    afterAll(() => {
      console.log(`${label} ${h}x${w} (${c.file}): largest |engine - PyTorch| per layer, tolerance ${TOLERANCE} x max|PyTorch|\n${rows.join('\n')}`);
    });
    for (const name of c.layers.filter((n) => n !== 'input')) {
      const shape = c.shapes[name]!;
      it(`${name} [${shape.join('x')}]`, () => {
        const got = layers.get(engineName(name));
        expect(got, `engine has no layer ${engineName(name)}`).toBeDefined();
        const want = tensors.get(name)!;
        expect(want.shape).toEqual(shape);
        expect(got!.shape.slice(0, want.shape.length === 2 ? 2 : 4)).toEqual(want.shape);
        const r: Comparison = compare(got!.data, want);
        rows.push(
          `  ${name.padEnd(16)} ${shape.join('x').padEnd(16)} maxdiff ${r.maxDiff.toExponential(2)}  max|ref| ${r.maxRef.toExponential(2)}` +
            `  (${r.compared} values${r.sumRelErr === undefined ? '' : `, sum rel err ${r.sumRelErr.toExponential(2)}`})`,
        );
        expect(r.maxDiff).toBeLessThanOrEqual(TOLERANCE * Math.max(r.maxRef, 1e-3));
        if (r.sumRelErr !== undefined) expect(r.sumRelErr).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });
}

// Every random-weight case, and the real weights on the synthetic input stored dense (the photo
// cases keep only samples of their input, so they are compared in classify.test.ts).
for (const c of manifest.cases.filter((c) => c.weights !== 'real' || (c as { input_storage?: string }).input_storage === 'dense')) {
  for (const simd of FLAVOURS) describeCase(c, simd);
}

describe('fixture coverage', () => {
  it('covers floor-mode pools at three or more sizes where floor and ceil differ, and 10 and 1 classes', () => {
    const floor = manifest.cases.filter((c) => c.maxpool === 'floor');
    expect(new Set(floor.map((c) => c.input.slice(2).join('x'))).size).toBeGreaterThanOrEqual(3);
    for (const c of floor) expect(c.ceil_edge_pools!.length, c.file).toBeGreaterThan(0);
    expect(manifest.cases.some((c) => c.classes === 10)).toBe(true);
    expect(manifest.cases.some((c) => c.classes === 1)).toBe(true);
  });

  it('covers every arch at full size and at small sizes hitting the ceil-mode pool edge', () => {
    const cases = manifest.cases.filter((c) => c.weights !== 'real');
    for (const [arch, size] of [['v1.0', 224], ['v1.0-caffe', 227], ['v1.1', 224]] as const) {
      expect(cases.some((c) => c.arch === arch && c.input[2] === size && c.input[3] === size)).toBe(true);
      expect(cases.some((c) => c.arch === arch && (c.ceil_edge_pools ?? []).length > 0)).toBe(true);
    }
  });
});
