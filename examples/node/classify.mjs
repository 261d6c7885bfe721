// node classify.mjs compressed_SqueezeNet.net photo.jpg
import { readFile } from 'node:fs/promises';
import { loadDeepCompression } from 'squeezenet-wasm';
import { classifyFile } from 'squeezenet-wasm-cli';

const [weightsFile, photo] = process.argv.slice(2);
const model = await loadDeepCompression(await readFile(weightsFile)); // kernels: read from the package
// Decoded as PIL decodes it (sharp), upright by its EXIF orientation, transparency over white.
for (const p of await classifyFile(model, photo)) console.log(`${(100 * p.prob).toFixed(1)}%  ${p.label}`);
