// One row of the benchmark in its own process (bench/run.ts spawns it with the Node it measures:
// the machine's, or Node 24), so that each engine gets its own process-wide settings (onnxruntime-
// web's numThreads, tfjs's backend), its own threads, and nothing of the others in its heap:
//   node dist/bench/row-child.js
// Requests and answers are JSON lines on stdin and stdout (anything an engine prints goes to stderr):
//   {"op":"open","engine","model","onnx","threads","simd"} -> {"threads","simd","note","load_ms","runtime"}
//   {"op":"logits"}                  -> {"logits":[...]}  (the fixture case's input)
//   {"op":"time","maxTime","warmup"} -> {"samples":[ms...],"count"}
//   {"op":"profile","runs"}          -> {"rows":[{"name","ms","threads":[ms...]}]}  (ours: model.profile means)
//   {"op":"memory"}                  -> {"bytes"}
//   {"op":"close"}                   -> exits
// A failure answers {"error": message}.

import { createInterface } from 'node:readline';
import { openSession, type EngineName, type Session } from './engines.js';
import { loadCase, loadWeights, MODELS, type ModelName } from './fixtures.js';
import { time } from './timing.js';

const write = process.stdout.write.bind(process.stdout);
const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
process.stdout.write = toStderr;
console.log = console.info = console.debug = console.warn = console.error;

let session: Session | undefined;
let input: Float32Array | undefined;
let profiled: { profile(x: Float32Array): { name: string; ms: number; threads: readonly number[] }[]; dispose(): void } | undefined;
let opened: { engine: EngineName; model: ModelName; threads: number; simd?: 'plain' | 'relaxed' } | undefined;

async function handle(m: Record<string, unknown>): Promise<unknown> {
  switch (m.op) {
    case 'open': {
      const engine = m.engine as EngineName;
      const model = m.model as ModelName;
      const t0 = performance.now();
      session = await openSession(engine, model, m.onnx as string, { threads: m.threads as number, simd: m.simd as 'plain' | 'relaxed' | undefined });
      const load_ms = performance.now() - t0;
      input = loadCase(model).input;
      opened = { engine, model, threads: m.threads as number, simd: m.simd as 'plain' | 'relaxed' | undefined };
      return { threads: session.threads, simd: session.simd, note: session.note, load_ms, runtime: `node ${process.version}` };
    }
    case 'logits':
      return { logits: Array.from(await session!.run(input!)) };
    case 'time': {
      const t = await time(`${session!.engine} ${session!.model}`, () => session!.run(input!), !session!.sync, {
        maxTime: m.maxTime as number,
        warmup: m.warmup as number,
      });
      return { samples: t.samples, count: t.count };
    }
    case 'profile': {
      if (opened?.engine !== 'squeezenet-wasm') throw new Error('profile: ours only');
      if (profiled === undefined) {
        const { SqueezeNet } = await import('../src/index.js');
        profiled = await SqueezeNet.load({ arch: MODELS[opened.model].arch, weights: loadWeights(opened.model), threads: opened.threads, simd: opened.simd });
      }
      const runs = m.runs as number;
      for (let i = 0; i < 5; i++) profiled.profile(input!);
      const sums = new Map<string, { ms: number; threads: number[] }>();
      for (let r = 0; r < runs; r++) {
        for (const row of profiled.profile(input!)) {
          const s = sums.get(row.name) ?? { ms: 0, threads: row.threads.map(() => 0) };
          s.ms += row.ms / runs;
          row.threads.forEach((t, i) => (s.threads[i]! += t / runs));
          sums.set(row.name, s);
        }
      }
      return { rows: [...sums].map(([name, s]) => ({ name, ...s })) };
    }
    case 'memory':
      return { bytes: session!.engineMemoryBytes() };
    case 'close':
      await session?.dispose();
      profiled?.dispose();
      process.exit(0);
    // eslint-disable-next-line no-fallthrough
    default:
      throw new Error(`unknown op ${String(m.op)}`);
  }
}

// One request at a time, in order.
let chain = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  chain = chain.then(async () => {
    let answer: unknown;
    try {
      answer = await handle(JSON.parse(line) as Record<string, unknown>);
    } catch (e) {
      answer = { error: (e as Error).message ?? String(e) };
    }
    write(`${JSON.stringify(answer)}\n`);
  });
});
process.stdin.on('end', () => void chain.then(() => process.exit(0)));
