// node lower-level.mjs: SqueezeNet.load with weights from anywhere, by torchvision state_dict name.
import { readFile } from 'node:fs/promises';
import { SqueezeNet, decodeWeights, preprocess, topK } from 'squeezenet-wasm';

// load's weights: name -> Float32Array or { data, shape } (decodeWeights gives a Map of those); here the default model's.
const file = new URL(import.meta.resolve('squeezenet-wasm/squeezenet1_0-deep-compression.sqz'));
const { weights } = decodeWeights(await readFile(file));
const model = await SqueezeNet.load({ arch: 'v1.0-caffe', weights, recipe: 'caffe' });
const pixels = { width: 300, height: 200, data: new Uint8Array(300 * 200 * 4).fill(90) }; // RGBA
const input = preprocess(pixels, model.recipe); // NCHW 1x3x227x227 Float32Array
const logits = model.run(input); // 1000 logits
console.log(topK(logits, 5).map((p) => `${p.label} ${(100 * p.prob).toFixed(1)}%`).join(', '));
