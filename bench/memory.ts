// Memory over a long run: WASM memory and process RSS after 0, 1,000, ... inferences on one model,
// plus the WASM memory one v1.0 model needs (what a 128 MB Workers isolate must hold).
// Usage: node dist/bench/memory.js [--runs N] [--arch NAME] [--input N] [--json]
import { ARCHS, ARCH_NAMES, SqueezeNet, type ArchName } from '../src/index.js';
import { randomWeights } from './random-weights.js';

const HELP = `Usage: node dist/bench/memory.js [--runs N] [--arch NAME] [--input N] [--json]

Runs N inferences (default 10000) in a row on one model with random weights and prints WASM
memory and the process's RSS at 0, 1, 10, 100, 1000, ... and N runs; then the WASM memory of one
v1.0-caffe model at 227. Takes minutes at full size: --input 64 runs the same code paths faster.
  --arch NAME   ${ARCH_NAMES.join(' | ')} (default v1.1)
  --input N     input height and width (default the arch's own)
  --json        one JSON object at the end`;

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const runs = Number(flag('runs') ?? 10000);
const archName = (flag('arch') ?? 'v1.1') as ArchName;
if (!(archName in ARCHS) || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bad arguments\n\n${HELP}\n`);
  process.exit(2);
}
const arch = ARCHS[archName];
const size = Number(flag('input') ?? arch.input);


const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const model = await SqueezeNet.load({ arch: archName, weights: randomWeights(archName, 7), inputSize: size });
const input = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.01));
const first = model.run(input);
const rows: { runs: number; wasm_bytes: number; rss_bytes: number; heap_used_bytes: number }[] = [];
const checkpoints = new Set([0, 1, 10, 100, 1000, 2000, 5000, 10000, runs]);
let last = first;
const t0 = performance.now();
for (let i = 0; i <= runs; i++) {
  if (checkpoints.has(i)) {
    globalThis.gc?.();
    const m = process.memoryUsage();
    rows.push({ runs: i, wasm_bytes: model.memoryBytes, rss_bytes: m.rss, heap_used_bytes: m.heapUsed });
    process.stderr.write(`[${i}/${runs}] WASM ${mib(model.memoryBytes)}, RSS ${mib(m.rss)}, JS heap ${mib(m.heapUsed)} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  if (i < runs) last = model.run(input);
}
const same = last.every((v, i) => v === first[i]);
model.dispose();

const v10 = await SqueezeNet.load({ arch: 'v1.0-caffe', weights: randomWeights('v1.0-caffe', 7) });
v10.run(new Float32Array(3 * 227 * 227));
const v10Bytes = v10.memoryBytes;

if (argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ arch: archName, input: size, rows, identical_logits: same, v1_0_caffe_wasm_bytes: v10Bytes })}\n`);
} else {
  process.stdout.write(`${archName} at ${size}x${size}, ${runs} inferences on one model:\n`);
  process.stdout.write(`${'runs'.padStart(8)}  ${'WASM memory'.padStart(12)}  ${'RSS'.padStart(10)}  ${'JS heap'.padStart(10)}\n`);
  for (const r of rows) {
    process.stdout.write(`${String(r.runs).padStart(8)}  ${mib(r.wasm_bytes).padStart(12)}  ${mib(r.rss_bytes).padStart(10)}  ${mib(r.heap_used_bytes).padStart(10)}\n`);
  }
  process.stdout.write(`logits after the last run ${same ? 'identical to' : 'DIFFER from'} the first\n`);
  process.stdout.write(`one v1.0-caffe model at 227x227 holds ${mib(v10Bytes)} of WASM memory (weights, activations, scratch)\n`);
}
process.exitCode = same ? 0 : 1;
