// The Worker example's decoders (@jsquash/jpeg: mozjpeg, @jsquash/png, @jsquash/webp), run here in
// Node from the same .wasm files the Worker imports, against PIL's pixels of test/data/images
// (scripts/make-test-images.py): what examples/worker/worker.ts decodes must be what the command
// line decodes. (scripts/test-worker.mjs runs the Worker itself in workerd.)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './shared.js';

const DATA = join(ROOT, 'test', 'data', 'images');
const META = JSON.parse(readFileSync(join(DATA, 'images.json'), 'utf8')) as Record<string, { format: string; mode: string; upright?: { size: [number, number]; sha256: string } }>;
const require = createRequire(import.meta.url);
const wasmOf = (pkg: string, rel: string): Promise<WebAssembly.Module> => WebAssembly.compile(readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), rel)));

type Decoded = { width: number; height: number; data: Uint8ClampedArray };
let jpeg: (b: ArrayBuffer, o?: { preserveOrientation: boolean }) => Promise<Decoded>;
let png: (b: ArrayBuffer) => Promise<Decoded>;
let webp: (b: ArrayBuffer) => Promise<Decoded>;

beforeAll(async () => {
  const [j, p, w] = await Promise.all([import('@jsquash/jpeg/decode.js'), import('@jsquash/png/decode.js'), import('@jsquash/webp/decode.js')]);
  await Promise.all([
    j.init(await wasmOf('@jsquash/jpeg', 'codec/dec/mozjpeg_dec.wasm')),
    p.init(await wasmOf('@jsquash/png', 'codec/pkg/squoosh_png_bg.wasm')),
    w.init(await wasmOf('@jsquash/webp', 'codec/dec/webp_dec.wasm')),
  ]);
  jpeg = j.default as typeof jpeg;
  png = p.default as unknown as typeof png;
  webp = w.default as typeof webp;
});

const bytes = (name: string): ArrayBuffer => {
  const b = readFileSync(join(DATA, name));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};
const rgbOf = (d: Decoded): Uint8Array => {
  const out = new Uint8Array(d.width * d.height * 3);
  for (let p = 0; p < d.width * d.height; p++) out.set(d.data.subarray(4 * p, 4 * p + 3), 3 * p);
  return out;
};
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('the Worker\'s decoders give PIL\'s pixels (stored, as exif: ignore)', () => {
  // The Worker refuses 4-component JPEGs (CMYK, YCCK) before decoding: mozjpeg converts only grey, YCbCr and RGB.
  const names = Object.keys(META).filter((n) => /\.(jpg|png|webp)$/.test(n) && META[n]!.mode !== 'CMYK');
  it('covers JPEG, PNG and WebP variants', () => expect(names.length).toBeGreaterThan(20));
  for (const name of names) {
    it(name, async () => {
      const d = name.endsWith('.jpg') ? await jpeg(bytes(name), { preserveOrientation: false }) : name.endsWith('.png') ? await png(bytes(name)) : await webp(bytes(name));
      const want = readFileSync(join(DATA, `${name}.rgb`));
      const got = rgbOf(d);
      let differ = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
      expect(got.length).toBe(want.length);
      expect(differ, `${differ} samples differ from PIL's`).toBe(0);
    });
  }
});

describe('mozjpeg with preserveOrientation (the Worker\'s default): PIL\'s exif_transpose, all 8 orientations', () => {
  for (let o = 1; o <= 8; o++) {
    it(`orientation-${o}.jpg`, async () => {
      const m = META[`orientation-${o}.jpg`]!;
      const d = await jpeg(bytes(`orientation-${o}.jpg`), { preserveOrientation: true });
      expect([d.width, d.height]).toEqual(m.upright!.size);
      expect(sha256(rgbOf(d))).toBe(m.upright!.sha256);
    });
  }
});
