// src/worker.js: POST a JPEG, get the top-5 classes.
import wasm from './squeezenet.wasm'; // node_modules/squeezenet-wasm/dist/build/squeezenet.wasm, copied beside
import model from './squeezenet1_0-deep-compression.sqz'; // node_modules/squeezenet-wasm/dist/models/, copied beside
import jpegWasm from './mozjpeg_dec.wasm'; // node_modules/@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm, copied beside
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import { loadDefault, classify } from 'squeezenet-wasm';

globalThis.ImageData ??= class { constructor(data, width, height) { Object.assign(this, { data, width, height }); } };
let net, decoder; // one per isolate
export default {
  async fetch(request) {
    const bytes = await request.arrayBuffer();
    const [a, b] = new Uint8Array(bytes, 0, Math.min(2, bytes.byteLength));
    if (a !== 0xff || b !== 0xd8) return Response.json({ error: 'not a JPEG (it must start ff d8)' }, { status: 415 });
    net ??= loadDefault({ model, wasm });
    await (decoder ??= initJpeg(jpegWasm));
    let image;
    try {
      // libjpeg-turbo's pixels (as PIL's), turned upright by the EXIF orientation as a browser shows them.
      image = await decodeJpeg(bytes, { preserveOrientation: true });
    } catch (e) {
      return Response.json({ error: `the JPEG could not be decoded (${e?.message ?? e})` }, { status: 422 });
    }
    return Response.json({ top: classify(await net, image) });
  },
};
