// A Cloudflare Worker that classifies images: `POST /classify` with a JPEG or PNG body answers
// {"top": [{"index", "synset", "label", "prob"}, ...5], "ms": ...}.
//
// Workers may not compile WebAssembly from bytes at run time, so the kernels come in as a module
// import (a compiled WebAssembly.Module) and are handed to the library as `wasm`. The weights are
// a Data module (an ArrayBuffer) bundled beside it; examples/worker/build.mjs puts both there.
// In your own project the two library imports read `from 'squeezenet-wasm'`; the image decoder
// is the one the command line uses (jpeg-js and pngjs, bundled into the Worker).

import wasm from './squeezenet.wasm';
import weights from './weights.net';
import { classify, InputError, loadDeepCompression, type SqueezeNet } from '../../src/index.js';
import { decodeImage, ImageDecodeError } from '../../cli/src/images.js';

/** Largest request body accepted, in bytes. */
const MAX_BODY = 16 << 20;

// One model per isolate, loaded by the first request and reused by the next ones.
let model: Promise<SqueezeNet> | undefined;

function loadModel(): Promise<SqueezeNet> {
  model ??= loadDeepCompression(weights, { wasm }).catch((e: unknown) => {
    model = undefined;
    throw e;
  });
  return model;
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function classifyRequest(request: Request): Promise<Response> {
  const length = Number(request.headers.get('content-length') ?? NaN);
  if (length > MAX_BODY) return json({ error: `body is ${length} bytes, more than ${MAX_BODY}` }, 413);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > MAX_BODY) return json({ error: `body is ${bytes.length} bytes, more than ${MAX_BODY}` }, 413);
  const m = await loadModel();
  // `ms`: decoding, preprocessing and the network, not the model's load. workerd run locally
  // measures it to the millisecond; on Cloudflare's network a Worker's clock moves only on I/O
  // (a Spectre mitigation), so there it may read 0: time the request from outside instead.
  const t0 = performance.now();
  let image;
  try {
    image = decodeImage(bytes);
  } catch (e) {
    if (e instanceof ImageDecodeError) return json({ error: e.message }, 415);
    throw e;
  }
  const top = classify(m, image, { top: 5 });
  return json({ top, ms: performance.now() - t0 });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== '/classify') {
      return new Response('POST a JPEG or PNG to /classify for the top-5 ImageNet classes.\n', { status: 404 });
    }
    if (request.method !== 'POST') return json({ error: 'use POST with the image as the body' }, 405);
    try {
      return await classifyRequest(request);
    } catch (e) {
      const status = e instanceof InputError ? 422 : 500;
      return json({ error: `${(e as Error).name}: ${(e as Error).message}` }, status);
    }
  },
};
