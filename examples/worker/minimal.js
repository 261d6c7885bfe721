// src/worker.js: POST a JPEG, get the top-5 classes.
import wasm from './squeezenet.wasm'; // node_modules/squeezenet-wasm/build/squeezenet.wasm, copied beside
import jpegWasm from './mozjpeg_dec.wasm'; // node_modules/@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm, copied beside
import weights from './compressed_SqueezeNet.net';
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import { loadDeepCompression, classify } from 'squeezenet-wasm';

globalThis.ImageData ??= class { constructor(data, width, height) { Object.assign(this, { data, width, height }); } };
let model, decoder; // one per isolate
export default {
  async fetch(request) {
    model ??= loadDeepCompression(weights, { wasm });
    await (decoder ??= initJpeg(jpegWasm));
    // libjpeg-turbo's pixels (as PIL's), turned upright by the EXIF orientation as a browser shows them.
    const image = await decodeJpeg(await request.arrayBuffer(), { preserveOrientation: true });
    return Response.json({ top: classify(await model, image) });
  },
};
