// node classify.mjs compressed_SqueezeNet.net photo.jpg
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { loadDeepCompression, classify } from 'squeezenet-wasm';

const [weightsFile, photo] = process.argv.slice(2);
const model = await loadDeepCompression(await readFile(weightsFile)); // kernels: read from the package
const image = jpeg.decode(await readFile(photo), { useTArray: true, formatAsRGBA: false });
for (const p of classify(model, image)) console.log(`${(100 * p.prob).toFixed(1)}%  ${p.label}`);
