// src/worker.js: POST a JPEG, get the top-5 classes.
import wasm from './squeezenet.wasm'; // node_modules/squeezenet-wasm/build/squeezenet.wasm, copied beside
import weights from './compressed_SqueezeNet.net';
import jpeg from 'jpeg-js';
import { loadDeepCompression, classify } from 'squeezenet-wasm';

let model; // one per isolate
export default {
  async fetch(request) {
    model ??= loadDeepCompression(weights, { wasm });
    const image = jpeg.decode(new Uint8Array(await request.arrayBuffer()), { useTArray: true, formatAsRGBA: false });
    return Response.json({ top: classify(await model, image) });
  },
};
