// The pruned Deep Compression SqueezeNet v1.0 with and without the sparse 1x1 path, side by side:
// whole-network ms (benchmark.js, rounds alternating so that load elsewhere falls on both) and
// conv10's ms from model.profile().
// Usage: node dist/bench/sparse.js [--weights FILE] [--rounds N] [--json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqueezeNet, decodeWeights } from '../src/index.js';
import { ROOT } from './fixtures.js';
import { median, time } from './timing.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    'Usage: node dist/bench/sparse.js [--weights FILE] [--rounds N] [--json]\n' +
      'SqueezeNet v1.0 with the Deep Compression weights (default $SQUEEZENET_WEIGHTS, else the model that ships\n' +
      'with the library, models/squeezenet1_0-deep-compression.sqz: the same weights as compressed_SqueezeNet.net),\n' +
      'once with the sparse 1x1 path (conv10 keeps 20 % of its weights) and once dense, timed in alternating rounds\n' +
      '(default 4, 2 s each). Any v1.0-caffe weight file the library reads will do.\n',
  );
  process.exit(0);
}
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const file = flag('weights') ?? process.env.SQUEEZENET_WEIGHTS ?? join(ROOT, 'models/squeezenet1_0-deep-compression.sqz');
let bytes: Uint8Array;
try {
  bytes = readFileSync(file);
} catch (e) {
  process.stderr.write(`cannot read the weights at ${file} (${(e as Error).message}); pass --weights FILE\n`);
  process.exit(1);
}
const rounds = Number(flag('rounds') ?? 4);
const { weights } = decodeWeights(bytes);
const models = {
  sparse: await SqueezeNet.load({ arch: 'v1.0-caffe', weights }),
  dense: await SqueezeNet.load({ arch: 'v1.0-caffe', weights, sparse: false }),
};
const input = Float32Array.from({ length: 3 * 227 * 227 }, (_, i) => Math.sin(i * 0.37) * 60);
const a = models.sparse.run(input);
const b = models.dense.run(input);
let diff = 0;
for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));

const samples: Record<string, number[]> = { sparse: [], dense: [] };
const conv10: Record<string, number[]> = { sparse: [], dense: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of ['sparse', 'dense'] as const) {
    const m = models[name];
    const t = await time(name, () => m.run(input), false, { maxTime: 2, warmup: r === 0 ? 1 : 0.2 });
    samples[name]!.push(...t.samples);
    for (let i = 0; i < 10; i++) conv10[name]!.push(m.profile(input).find((l) => l.name === 'conv10')!.ms);
  }
  process.stderr.write(`[sparse] round ${r + 1}/${rounds}\n`);
}
const row = (name: string) => ({
  path: name,
  median_ms: median(samples[name]!),
  min_ms: Math.min(...samples[name]!),
  conv10_median_ms: median(conv10[name]!),
  samples: samples[name]!.length,
  memory_bytes: models[name as 'sparse' | 'dense'].memoryBytes,
});
const rows = [row('sparse'), row('dense')];
if (argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ weights: file, max_logit_diff: diff, rows })}\n`);
} else {
  process.stdout.write(`Deep Compression SqueezeNet v1.0 (227x227), one thread; logits of the two paths differ by at most ${diff}\n`);
  process.stdout.write('path     median ms  min ms  conv10 ms  WASM MiB  samples\n');
  for (const r of rows) {
    process.stdout.write(
      `${r.path.padEnd(7)}  ${r.median_ms.toFixed(2).padStart(9)}  ${r.min_ms.toFixed(2).padStart(6)}  ${r.conv10_median_ms.toFixed(2).padStart(9)}  ${(r.memory_bytes / 2 ** 20).toFixed(1).padStart(8)}  ${String(r.samples).padStart(7)}\n`,
    );
  }
  process.stdout.write(`sparse is ${(rows[1]!.median_ms / rows[0]!.median_ms).toFixed(2)}x the dense path's speed; conv10 ${(rows[1]!.conv10_median_ms / rows[0]!.conv10_median_ms).toFixed(2)}x\n`);
}
