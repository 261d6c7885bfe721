// The three engines behind one interface: load a model with the fixture weights, run one NCHW image.
// Each engine is imported only when asked for, so a cold-start child pays for its own engine only.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS, ROOT, loadWeights, type ModelName } from './fixtures.js';

export const ENGINES = ['squeezenet-wasm', 'onnxruntime-web', 'tfjs-wasm'] as const;
export type EngineName = (typeof ENGINES)[number];

/** How a row runs an engine: threads, and (ours) the SIMD build. */
export interface SessionConfig {
  readonly threads: number;
  /** Ours only: 'plain' or 'relaxed' (default: what the runtime has). */
  readonly simd?: 'plain' | 'relaxed';
}

export interface Session {
  readonly engine: EngineName;
  readonly model: ModelName;
  /** What the engine runs with: threads, SIMD flavour, and how they came about. */
  readonly threads: number;
  readonly simd: 'plain' | 'relaxed';
  readonly note: string;
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

/**
 * Opens an engine on a model. `config` undefined: each engine's defaults (ours: the available
 * cores and the runtime's best SIMD; the others one thread), as a user gets them.
 */
export async function openSession(engine: EngineName, model: ModelName, onnxDir: string, config?: SessionConfig): Promise<Session> {
  switch (engine) {
    case 'squeezenet-wasm':
      return openOurs(model, config);
    case 'onnxruntime-web':
      return openOrt(model, onnxDir, config?.threads ?? 1);
    case 'tfjs-wasm':
      return openTfjs(model, config?.threads ?? 1);
  }
}

async function openOurs(model: ModelName, config: SessionConfig | undefined): Promise<Session> {
  const { SqueezeNet } = await import('../src/index.js');
  const net = await SqueezeNet.load({ arch: MODELS[model].arch, weights: loadWeights(model), threads: config?.threads, simd: config?.simd });
  return {
    engine: 'squeezenet-wasm',
    model,
    threads: net.threads,
    simd: net.simd,
    note: net.threadsReason,
    sync: true,
    run: (input) => net.run(input),
    engineMemoryBytes: () => net.memoryBytes,
    dispose: () => net.dispose(),
  };
}

async function openOrt(model: ModelName, onnxDir: string, threads: number): Promise<Session> {
  const why = unavailable('onnxruntime-web', model, onnxDir);
  if (why !== undefined) throw new Error(why);
  const ort = await import('onnxruntime-web');
  // SIMD (the only build 1.30 ships), the plain wasm backend, no proxy worker; numThreads is
  // read once per process, when the first session starts the backend (1: no worker threads).
  ort.env.wasm.numThreads = threads;
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
    threads,
    simd: 'plain',
    note: `env.wasm.numThreads = ${threads}`,
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

/**
 * tfjs-core on the wasm backend from node_modules: the SIMD binary without threads, or with
 * `threaded` its threaded SIMD build (which needs workers it starts from a blob: URL, and Node
 * refuses those: then this throws tfjs's own message).
 */
function tfjs(threaded: boolean): Promise<typeof import('@tensorflow/tfjs-core')> {
  tfjsReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    backend.setWasmPaths(`${TFJS_DIST}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    const errors: string[] = [];
    const log = console.warn;
    console.warn = (...a: unknown[]) => void errors.push(a.map(String).join(' '));
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error(`tfjs: the wasm backend did not initialise${errors.length ? `: ${errors.join('; ')}` : ''}`);
    } finally {
      console.warn = log;
    }
    await tf.ready();
    return tf;
  })();
  return tfjsReady;
}

async function openTfjs(model: ModelName, threads: number): Promise<Session> {
  const tf = await tfjs(threads > 1);
  const { buildTfjsSqueezeNet } = await import('./tfjs-squeezenet.js');
  const net = buildTfjsSqueezeNet(tf, MODELS[model].arch, loadWeights(model));
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  const backend = await import('@tensorflow/tfjs-backend-wasm');
  const actual = threads > 1 ? backend.getThreadsCount() : 1;
  return {
    engine: 'tfjs-wasm',
    model,
    threads: actual,
    simd: 'plain',
    note: threads > 1 ? `threaded SIMD build, getThreadsCount() = ${actual}` : 'WASM_HAS_MULTITHREAD_SUPPORT = false',
    sync: true,
    run: (input) => net.run(input),
    engineMemoryBytes: () => wasm?.HEAPU8?.buffer.byteLength ?? null,
    dispose: () => net.dispose(),
  };
}
