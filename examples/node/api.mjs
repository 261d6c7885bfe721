// node api.mjs: the library alone, on pixels from any decoder ({ width, height, data }: RGB or RGBA bytes, e.g. ImageData).
import { loadDefault, classify, preprocess, topK } from 'squeezenet-wasm';

const model = await loadDefault(); // the Deep Compression SqueezeNet v1.0 (ImageNet), shipped in the package
const pixels = { width: 4, height: 3, data: new Uint8Array(4 * 3 * 3).fill(200) };
console.log(classify(model, pixels, { top: 3 })); // [{ index, synset, label, prob }, ...]

const input = preprocess(pixels, model.recipe); // NCHW Float32Array: 1x3x227x227, the Caffe recipe
const logits = model.run(input); // 1000 logits
const { layers } = model.trace(input); // every layer's output: { name, shape, data } (NCHW)
console.log(`${topK(logits, 1)[0].label}; ${layers.length} layers traced, conv1 ${layers[0].shape.join('x')}`);
model.dispose();
