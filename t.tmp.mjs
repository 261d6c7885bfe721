import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
globalThis.ImageData ??= class ImageData { constructor(data, width, height) { this.data = data; this.width = width; this.height = height; } };
const jpeg = await import('@jsquash/jpeg/decode.js');
await jpeg.init(await WebAssembly.compile(readFileSync('node_modules/@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
const png = await import('@jsquash/png/decode.js');
await png.init(await WebAssembly.compile(readFileSync('node_modules/@jsquash/png/codec/pkg/squoosh_png_bg.wasm')));
const webp = await import('@jsquash/webp/decode.js');
await webp.init(await WebAssembly.compile(readFileSync('node_modules/@jsquash/webp/codec/dec/webp_dec.wasm')));
const meta = JSON.parse(readFileSync('test/data/images/images.json'));
const rgbOf = (d) => { const n = d.width * d.height; const out = Buffer.alloc(n * 3); for (let p = 0; p < n; p++) { out[3*p]=d.data[4*p]; out[3*p+1]=d.data[4*p+1]; out[3*p+2]=d.data[4*p+2]; } return out; };
for (const name of Object.keys(meta)) {
  const bytes = readFileSync('test/data/images/' + name);
  const dec = name.endsWith('.jpg') ? (b, o) => jpeg.default(b, o) : name.endsWith('.png') ? (b) => png.default(b) : name.endsWith('.webp') ? (b) => webp.default(b) : null;
  if (!dec) continue;
  for (const opt of [{ preserveOrientation: false }, { preserveOrientation: true }]) {
    if (!name.startsWith('orientation') && opt.preserveOrientation) continue;
    try {
      const d = await dec(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), opt);
      const rgb = rgbOf(d);
      const want = readFileSync('test/data/images/' + name + '.rgb');
      let n = 0, max = 0; for (let i = 0; i < Math.min(want.length, rgb.length); i++) { const x = Math.abs(want[i]-rgb[i]); if (x) n++; max = Math.max(max, x); }
      const sha = createHash('sha256').update(rgb).digest('hex');
      console.log(name, JSON.stringify(opt), d.width, d.height, 'vs stored PIL: ndiff', n, 'max', max, meta[name].upright ? (sha === meta[name].upright.sha256 ? 'UPRIGHT-EQUAL' : 'not upright-equal') : '');
    } catch (e) { console.log(name, 'ERR', e.message); }
  }
}
