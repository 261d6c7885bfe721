// The three engines behind one interface: load a model with the fixture weights, run one NCHW image.
// Each engine is imported only when asked for, so a cold-start child pays for its own engine only.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS, ROOT, loadWeights, type ModelName } from './fixtures.js';

export const ENGINES = ['squeezenet-wasm', 'onnxruntime-web', 'tfjs-wasm'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface Session {
  readonly engine: EngineName;
  readonly model: ModelName;
  /** True when `run` returns the logits directly, false when it returns a promise (onnxruntime-web). */
  readonly sync: boolean;
  run(input: Float32Array): Float32Array | Promise<Float32Array>;
  /** Bytes of WASM memory, as the engine itself reports them; null when it reports none. */
  engineMemoryBytes(): number | null;
  dispose(): Promise<void> | void;
}

/** Why an engine cannot run here (a missing ONNX file), or undefined when it can. */
export function unavailable(engine: EngineName, model: ModelName, onnxDir: string): string | undefined {
  if (engine !== 'onnxruntime-web') return undefined;
  const file = join(onnxDir, MODELS[model].onnx);
  if (existsSync(file)) return undefined;
  return (
    `no ${file}: write the ONNX graphs (same seeded weights as the fixtures) with\n` +
    `  /usr/bin/python3 fixtures/export.py --skip-real --out build/onnx/fixtures --onnx-out ${onnxDir}\n` +
    `(--out keeps export.py from rewriting fixtures/; it writes a scratch copy there)`
  );
}

const ORT_DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
const TFJS_DIST = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');

/** The .wasm files an engine can load, for naming the one the probe saw by its size. */
export function candidateWasmFiles(engine: EngineName): string[] {
  const dir = engine === 'squeezenet-wasm' ? join(ROOT, 'build') : engine === 'onnxruntime-web' ? ORT_DIST : TFJS_DIST;
  const files = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  return files.map((f) => join(dir, f));
}

/** The file among an engine's .wasm files with exactly `bytes` bytes. */
export function wasmFileOfSize(engine: EngineName, bytes: number): string | undefined {
  return candidateWasmFiles(engine).find((f) => statSync(f).size === bytes);
}

export async function openSession(engine: EngineName, model: ModelName, onnxDir: string): Promise<Session> {
  switch (engine) {
    case 'squeezenet-wasm':
      return openOurs(model);
    case 'onnxruntime-web':
      return openOrt(model, onnxDir);
    case 'tfjs-wasm':
      return openTfjs(model);
  }
}

async function openOurs(model: ModelName): Promise<Session> {
  const { SqueezeNet } = await import('../src/index.js');
  const net = await SqueezeNet.load({ arch: MODELS[model].arch, weights: loadWeights(model) });
  return {
    engine: 'squeezenet-wasm',
    model,
    sync: true,
    run: (input) => net.run(input),
    engineMemoryBytes: () => net.memoryBytes,
    dispose: () => net.dispose(),
  };
}

async function openOrt(model: ModelName, onnxDir: string): Promise<Session> {
  const why = unavailable('onnxruntime-web', model, onnxDir);
  if (why !== undefined) throw new Error(why);
  const ort = await import('onnxruntime-web');
  // One thread, SIMD (the only build 1.30 ships), the plain wasm backend, no proxy worker.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(join(onnxDir, MODELS[model].onnx), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const { size } = MODELS[model];
  return {
    engine: 'onnxruntime-web',
    model,
    sync: false,
    async run(input) {
      const feeds = { [inputName!]: new ort.Tensor('float32', input, [1, 3, size, size]) };
      const out = await session.run(feeds);
      return out[outputName!]!.data as Float32Array;
    },
    engineMemoryBytes: () => null,
    dispose: () => session.release(),
  };
}

let tfjsReady: Promise<typeof import('@tensorflow/tfjs-core')> | undefined;

/** tfjs-core on the wasm backend, the SIMD binary without threads, from node_modules. */
function tfjs(): Promise<typeof import('@tensorflow/tfjs-core')> {
  tfjsReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    backend.setWasmPaths(`${TFJS_DIST}/`);
    // Take the SIMD binary without threads (tfjs-backend-wasm-simd.wasm): one thread, no workers.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
    await tf.ready();
    return tf;
  })();
  return tfjsReady;
}

async function openTfjs(model: ModelName): Promise<Session> {
  const tf = await tfjs();
  const { buildTfjsSqueezeNet } = await import('./tfjs-squeezenet.js');
  const net = buildTfjsSqueezeNet(tf, MODELS[model].arch, loadWeights(model));
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return {
    engine: 'tfjs-wasm',
    model,
    sync: true,
    run: (input) => net.run(input),
    engineMemoryBytes: () => wasm?.HEAPU8?.buffer.byteLength ?? null,
    dispose: () => net.dispose(),
  };
}
