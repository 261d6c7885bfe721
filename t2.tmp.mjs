import { readFileSync } from 'node:fs';
globalThis.ImageData ??= class ImageData { constructor(data, width, height) { this.data = data; this.width = width; this.height = height; } };
const jpeg = await import('@jsquash/jpeg/decode.js');
await jpeg.init(await WebAssembly.compile(readFileSync('node_modules/@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
const ab = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
const good = readFileSync('test/data/images/baseline-420.jpg');
for (const [what, b] of [['cmyk', readFileSync('test/data/images/cmyk.jpg')], ['half', good.subarray(0, good.length >> 1)], ['garbage', Buffer.concat([good.subarray(0, 600), Buffer.alloc(500, 0x5a)])], ['hdr-only', good.subarray(0, 300)], ['good', good]]) {
  try { const d = await jpeg.default(ab(b)); console.log(what, 'ok', d.width, d.height); } catch (e) { console.log(what, 'ERR', e.message ?? e); }
}
const t0 = performance.now();
try { const d = await jpeg.default(ab(readFileSync('/work/shared/cases/progressive-4000x4000-4000-scans.jpg'))); console.log('prog ok', d.width, performance.now() - t0); } catch (e) { console.log('prog ERR', e.message, performance.now() - t0); }
