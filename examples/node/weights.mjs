// node weights.mjs model.onnx: any SqueezeNet weight file, preprocessed as its weights were trained
// (none at hand? the model that ships: node_modules/squeezenet-wasm/dist/models/*.sqz).
import { readFile } from 'node:fs/promises';
import { load, classify, decodeWeights } from 'squeezenet-wasm';

const bytes = await readFile(process.argv[2]); // .onnx, .safetensors, .sqz or the Deep Compression .net
const { format, arch, recipe, recipeSource } = decodeWeights(bytes); // recipeSource: { kind, reason }
console.log(`${format} ${typeof arch === 'string' ? arch : arch.name}: recipe ${recipe} (${recipeSource.kind}: ${recipeSource.reason})`);
const model = await load(bytes); // the same weights, loaded: model.recipe is that recipe
const pixels = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(120) };
console.log(classify(model, pixels, { top: 1 })[0]); // preprocessed with model.recipe
