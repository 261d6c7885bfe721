// node engine-weights.mjs DIR: every convolution's weights and geometry for an engine of your own, named as in a trace.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCHS, decodeWeights, plan } from 'squeezenet-wasm';

const dir = process.argv[2] ?? 'weights';
const file = new URL(import.meta.resolve('squeezenet-wasm/squeezenet1_0-deep-compression.sqz')); // or any weight file
const { arch, weights } = decodeWeights(await readFile(file)); // weights: Map, torchvision name -> { data, shape }
await mkdir(dir, { recursive: true });
const layers = [];
for (const c of plan(typeof arch === 'string' ? ARCHS[arch] : arch).convs) {
  // conv1 is features.0, fire2.squeeze features.3.squeeze, ..., conv10 classifier.1
  for (const part of ['weight', 'bias']) {
    const t = weights.get(`${c.param}.${part}`); // weight OIHW, bias O: float32, little-endian on every host we know
    await writeFile(join(dir, `${c.name}.${part}.f32`), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  const { name, param, kernel, stride, pad, inC, inH, inW, outC, outH, outW } = c;
  layers.push({ name, torchvision: param, kernel, stride, pad, input: [inC, inH, inW], output: [outC, outH, outW] });
}
await writeFile(join(dir, 'layers.json'), `${JSON.stringify(layers, null, 1)}\n`);
console.log(`${layers.length} convolutions in ${dir}: ${layers.map((l) => `${l.name} k${l.kernel}/s${l.stride}/p${l.pad}`).join(', ')}`);
