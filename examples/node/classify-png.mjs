// node classify-png.mjs photo.png: the library alone (Node, Bun or Deno), the PNG decoded by pngjs.
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { loadDefault, classify } from 'squeezenet-wasm';

const model = await loadDefault(); // the model and the kernels are read from the package
const image = PNG.sync.read(await readFile(process.argv[2])); // { width, height, data }: RGBA
console.log(JSON.stringify(classify(model, image)[0])); // {"index", "synset", "label", "prob"}
