// Images per second with 1 and 2 worker threads (SqueezeNetPool), batch of N, per model.
// Usage: node dist/bench/throughput.js [--images N] [--json]
import { SqueezeNetPool } from '../src/node/index.js';
import { ARCHS, plan } from '../src/index.js';
import { randomWeights } from './random-weights.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write('Usage: node dist/bench/throughput.js [--images N] [--json]\nImages per second with 1 and 2 worker threads, v1.0 (227) and v1.1 (224), random weights.\n');
  process.exit(0);
}
const images = Number(argv[argv.indexOf('--images') + 1] ?? 0) || 40;
const json = argv.includes('--json');


const rows: { model: string; workers: number; images: number; ms: number; images_per_s: number }[] = [];
for (const [model, arch] of [['v1.0', 'v1.0-caffe'], ['v1.1', 'v1.1']] as const) {
  const p = plan(ARCHS[arch]);
  const input = Float32Array.from({ length: 3 * p.input[1] * p.input[2] }, (_, i) => Math.sin(i) * 100);
  const w = randomWeights(arch);
  for (const workers of [1, 2]) {
    const pool = await SqueezeNetPool.create({ arch, weights: w, workers });
    await pool.runBatch(Array.from({ length: workers * 3 }, () => input));
    const t = performance.now();
    await pool.runBatch(Array.from({ length: images }, () => input));
    const ms = performance.now() - t;
    await pool.close();
    rows.push({ model, workers, images, ms, images_per_s: (images * 1000) / ms });
    process.stderr.write(`${model} ${workers} worker(s): ${((images * 1000) / ms).toFixed(1)} images/s\n`);
  }
}
if (json) process.stdout.write(`${JSON.stringify({ rows })}\n`);
else {
  for (const model of ['v1.0', 'v1.1']) {
    const [one, two] = rows.filter((r) => r.model === model);
    process.stdout.write(
      `${model}: 1 worker ${one!.images_per_s.toFixed(1)} images/s, 2 workers ${two!.images_per_s.toFixed(1)} images/s (${(two!.images_per_s / one!.images_per_s).toFixed(2)}x)\n`,
    );
  }
}
