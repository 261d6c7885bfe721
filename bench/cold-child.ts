// One cold start, run by bench/cold-start.ts in a fresh `node` process:
//   node dist/bench/cold-child.js ENGINE MODEL ONNX_DIR
// Loads the engine and the model from disk, runs one image and prints `logits ...` the moment the
// logits exist (the parent times spawn -> that line). Then it runs a few more times and prints a
// `report {json}` line: load and first-inference times, the .wasm modules it compiled and the
// WebAssembly memories it holds, as seen by bench/wasm-probe.ts.

import { installWasmProbe, probed } from './wasm-probe.js';

installWasmProbe();

const [engine, model, onnxDir] = process.argv.slice(2);
const { ENGINES, openSession } = await import('./engines.js');
const { MODELS } = await import('./fixtures.js');
if (!(ENGINES as readonly string[]).includes(engine!) || !(model! in MODELS) || onnxDir === undefined) {
  console.error(`usage: node dist/bench/cold-child.js <${ENGINES.join('|')}> <${Object.keys(MODELS).join('|')}> <onnx dir>`);
  process.exit(2);
}
const name = model as keyof typeof MODELS;

const t0 = performance.now();
const session = await openSession(engine as (typeof ENGINES)[number], name, onnxDir);
const t1 = performance.now();
const size = MODELS[name].size;
const input = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37) * 1.5);
const t2 = performance.now();
const logits = await session.run(input);
const t3 = performance.now();
let best = 0;
for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
process.stdout.write(`logits ${logits.length} argmax ${best} max ${logits[best]}\n`);

// A few more runs, so that memory has reached what steady inference needs.
for (let i = 0; i < 3; i++) await session.run(input);
const seen = probed();
process.stdout.write(
  `report ${JSON.stringify({
    load_ms: t1 - t0,
    first_ms: t3 - t2,
    process_ms: performance.now(),
    modules: seen.modules.map((m) => m.bytes),
    memory_bytes: seen.memoryBytes,
    engine_memory_bytes: session.engineMemoryBytes(),
  })}\n`,
);
await session.dispose();
process.exit(0);
