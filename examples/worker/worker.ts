// A Cloudflare Worker that classifies images: `POST /classify` with a JPEG, PNG or WebP body
// answers {"top": [{"index", "synset", "label", "prob"}, ...5], "ms": ...}. Query options, as the
// command line's flags: `?exif=ignore` keeps the stored pixels (default: turned upright by the
// EXIF orientation), `?background=ignore|R,G,B|#rrggbb|white|black` is the transparency rule
// (default: composited over white).
//
// Workers may not compile WebAssembly from bytes at run time, so the kernels and the image
// decoders come in as module imports (compiled WebAssembly.Modules): squeezenet.wasm for the
// library, and the decoders of @jsquash/jpeg (mozjpeg, libjpeg-turbo's decoder: the same pixels
// as PIL and the command line), @jsquash/png and @jsquash/webp. The model is the one that ships with
// the library (dist/models/squeezenet1_0-deep-compression.sqz), a Data module (an ArrayBuffer).
// examples/worker/build.mjs puts them all beside the bundle. No Node compatibility
// is needed. In your own project the library import reads `from 'squeezenet-wasm'`.
//
// Bounds, before any decoding (the command line's header checks, cli/src/image-header.ts): the
// body at most 16 MiB, read as a stream and cut off past it; at most 6 megapixels; a JPEG of at
// most 100 scans, that reaches its end-of-image marker and does not declare more pixels than its
// bytes can hold. Past them: 413 (the body) or 422 (the image), one line of JSON, in microseconds.
// The pixel bound is memory: an isolate has 128 MB; measured in workerd, the loaded model took
// ~48 MB of RSS and each decoded megapixel ~10.4 MB more (the decoder's WebAssembly heap, which
// never shrinks, and the RGBA copy handed to JavaScript): 4 MP +41 MB, 8 MP +83 MB, 12.2 MP +131 MB.

import wasm from './squeezenet.wasm';
import defaultModel from './squeezenet1_0-deep-compression.sqz';
import jpegWasm from './mozjpeg_dec.wasm';
import pngWasm from './squoosh_png_bg.wasm';
import webpWasm from './webp_dec.wasm';
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import { classify, InputError, loadDefault, type Rgb, type SqueezeNet } from '../../src/index.js';
import { ImageDecodeError, readImageHeader } from '../../cli/src/image-header.js';

/** Largest request body accepted, in bytes. */
const MAX_BODY = 16 << 20;
/** Largest image decoded, in pixels: ~48 MB for the model plus ~62 MB for the image fit in 128 MB. */
const MAX_PIXELS = 6e6;

// The decoders build their results with `new ImageData(...)`, which Workers do not have: a plain
// holder of the same shape does (the library reads width, height and data).
(globalThis as { ImageData?: unknown }).ImageData ??= class {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
};

// One model and one set of decoders per isolate, made by the first request and reused.
let model: Promise<SqueezeNet> | undefined;
let decoders: Promise<unknown> | undefined;

function loadModel(): Promise<SqueezeNet> {
  model ??= loadDefault({ model: defaultModel, wasm }).catch((e: unknown) => {
    model = undefined;
    throw e;
  });
  return model;
}

function loadDecoders(): Promise<unknown> {
  decoders ??= Promise.all([initJpeg(jpegWasm), initPng(pngWasm), initWebp(webpWasm)]).catch((e: unknown) => {
    decoders = undefined;
    throw e;
  });
  return decoders;
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body, read chunk by chunk and refused (413) as soon as it passes `max` bytes, whatever Content-Length says. */
async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > max) throw new HttpError(413, `body is ${declared} bytes, more than ${max}`);
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > max) {
      await reader.cancel();
      throw new HttpError(413, `body is more than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** `?background=`: the command line's --background values. */
function background(text: string | null): Rgb | 'ignore' | undefined {
  if (text === null) return undefined;
  const t = text.trim().toLowerCase();
  const named: Record<string, Rgb> = { white: [255, 255, 255], black: [0, 0, 0], grey: [128, 128, 128], gray: [128, 128, 128] };
  if (t === 'ignore') return 'ignore';
  if (named[t]) return named[t];
  const hex = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(t);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const parts = t.split(',');
  if (parts.length === 3 && parts.every((x) => /^\d{1,3}$/.test(x.trim()) && Number(x) <= 255)) return parts.map(Number) as unknown as Rgb;
  throw new HttpError(400, `background must be white, black, grey, R,G,B, rrggbb or ignore, got ${JSON.stringify(text)}`);
}

/** Decodes the body to RGBA pixels, after the header checks. */
async function decode(bytes: Uint8Array, exif: 'apply' | 'ignore'): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  let header;
  try {
    header = readImageHeader(bytes, { maxPixels: MAX_PIXELS });
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new HttpError(e.message.includes('not an image format') || e.message === 'empty file' ? 415 : 422, e.message);
    throw e;
  }
  const { format } = header;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  await loadDecoders();
  try {
    if (format === 'JPEG') {
      // mozjpeg in WebAssembly converts to RGBA only from grey, YCbCr and RGB: its CMYK attempt
      // ends the module's program (it recovers, but says nothing useful), so refuse those first.
      if (header.jpeg!.components === 4) throw new HttpError(415, 'CMYK and YCCK JPEGs are not decoded by this Worker (mozjpeg in WebAssembly converts only grey, YCbCr and RGB); the command line decodes them');
      return await decodeJpeg(buffer, { preserveOrientation: exif === 'apply' });
    }
    if (format === 'PNG') return await decodePng(buffer);
    if (format === 'WebP') return await decodeWebp(buffer);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(422, `${format} could not be decoded: ${String((e as Error)?.message ?? e).replace(/\s+/g, ' ')}`);
  }
  throw new HttpError(415, `${format} images are not supported by this Worker: JPEG, PNG and WebP are decoded`);
}

async function classifyRequest(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const exif = url.searchParams.get('exif') ?? 'apply';
  if (exif !== 'apply' && exif !== 'ignore') throw new HttpError(400, `exif must be apply or ignore, got ${JSON.stringify(exif)}`);
  const bg = background(url.searchParams.get('background'));
  const bytes = await readBody(request, MAX_BODY);
  const m = await loadModel();
  // `ms`: decoding, preprocessing and the network, not the model's load. workerd run locally
  // measures it to the millisecond; on Cloudflare's network a Worker's clock moves only on I/O
  // (a Spectre mitigation), so there it may read 0: time the request from outside instead.
  const t0 = performance.now();
  const image = await decode(bytes, exif);
  const top = classify(m, { width: image.width, height: image.height, data: image.data, channels: 4 }, { top: 5, ...(bg === undefined ? {} : { background: bg }) });
  return json({ top, ms: performance.now() - t0 });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== '/classify') {
      return new Response('POST a JPEG, PNG or WebP to /classify for the top-5 ImageNet classes.\n', { status: 404 });
    }
    if (request.method !== 'POST') return json({ error: 'use POST with the image as the body' }, 405);
    try {
      return await classifyRequest(request);
    } catch (e) {
      if (e instanceof HttpError) return json({ error: e.message }, e.status);
      const status = e instanceof InputError ? 422 : 500;
      return json({ error: `${(e as Error).name}: ${(e as Error).message}` }, status);
    }
  },
};
