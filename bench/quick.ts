// Scratch A/B timing: Winograd on and off, alternating, min of runs.
import { ARCHS, SqueezeNet, plan } from '../src/index.js';
import { randomWeights, seededRandom } from '../test/helpers.js';
for (const arch of ['v1.0-caffe', 'v1.1'] as const) {
  const p = plan(ARCHS[arch]);
  const w = randomWeights(p, 1);
  const models = [await SqueezeNet.load({ arch, weights: w }), await SqueezeNet.load({ arch, weights: w, winograd: false })];
  const r = seededRandom(2);
  const x = Float32Array.from({ length: 3 * p.input[1] * p.input[2] }, () => r());
  const best = [Infinity, Infinity];
  for (let i = 0; i < 15; i++) for (let j = 0; j < 2; j++) { const t = performance.now(); models[j]!.run(x); best[j] = Math.min(best[j]!, performance.now() - t); }
  console.log(arch, 'winograd', best[0]!.toFixed(1), 'ms; im2col', best[1]!.toFixed(1), 'ms');
  const acc = new Map<string, number>();
  for (let i = 0; i < 5; i++) for (const t of models[0]!.profile(x)) acc.set(t.name, Math.min(acc.get(t.name) ?? Infinity, t.ms));
  console.log([...acc].map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', '));
}
