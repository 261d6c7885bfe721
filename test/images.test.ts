// The command line's image decoding (cli/src/images.ts: sharp) against PIL, which the reference
// figures were measured with: the 100 sample photos and the shared image cases byte for byte
// (test/data/pil-checksums.json, written by scripts/pil-checksums.py: checksums only), every
// variant of test/data/images (scripts/make-test-images.py: PIL's pixels beside each), the eight
// EXIF orientations, the transparency rule, the formats, the bounds and the Node API.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFile, loadDefaultModel, parseBackground } from '../cli/src/api.js';
import { readImageHeader, readJpegInfo, sniffFormat, exifOrientation, MAX_JPEG_SCANS } from '../cli/src/image-header.js';
import { cmykToRgb, decodeImage, ImageDecodeError, type DecodedImage } from '../cli/src/images.js';
import { composite, InputError, loadDeepCompression, preprocess, type SqueezeNet } from '../src/index.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

interface PilEntry {
  file: string;
  width: number;
  height: number;
  sha256: string;
  orientation?: number;
  upright?: { width: number; height: number; sha256: string };
  over_white_sha256?: string;
}
const PIL = JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'pil-checksums.json'), 'utf8')) as { pil: string; samples: PilEntry[]; cases: PilEntry[] };
const DATA = join(ROOT, 'test', 'data', 'images');
const META = JSON.parse(readFileSync(join(DATA, 'images.json'), 'utf8')) as Record<
  string,
  { mode: string; size: [number, number]; format: string; orientation?: number; upright?: { size: [number, number]; sha256: string }; over_white_sha256?: string }
>;
const CASES = 'cases';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The RGB bytes of decoded pixels (RGBA: the colour channels only, as PIL's convert('RGB')). */
function rgbOf(img: DecodedImage): Uint8Array {
  if (img.channels === 3) return img.data;
  const out = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) out.set(img.data.subarray(4 * p, 4 * p + 3), 3 * p);
  return out;
}

/** The error a call throws (or a failure when it throws none). */
async function errorOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, got a result');
}

let model: SqueezeNet;
beforeAll(async () => {
  model = await loadDeepCompression(readFileSync(shared(MODEL)));
});
afterAll(() => model?.dispose());

describe(`the 100 sample photos: the same RGB bytes as PIL ${PIL.pil}'s Image.open(f).convert('RGB')`, () => {
  it('lists every sample photo', () => {
    expect(PIL.samples.length).toBe(100);
  });
  it('decodes all 100 to PIL\'s bytes (sha256 of each)', async () => {
    const differ: string[] = [];
    for (const s of PIL.samples) {
      const img = await decodeImage(shared(join(IMAGES, s.file)));
      const got = sha256(rgbOf(img));
      if (img.width !== s.width || img.height !== s.height || got !== s.sha256) differ.push(`${s.file}: ${img.width}x${img.height} ${got.slice(0, 12)}, PIL ${s.width}x${s.height} ${s.sha256.slice(0, 12)}`);
    }
    console.log(`decoded pixels equal to PIL's: ${100 - differ.length}/100${differ.length ? `\n  ${differ.join('\n  ')}` : ''}`);
    expect(differ).toEqual([]);
  });
});

describe('the image cases of ../shared/cases (their README gives each right value)', () => {
  const pil = (file: string): PilEntry => PIL.cases.find((c) => c.file === file)!;
  const top1 = async (file: string, options = {}) => (await classifyFile(model, shared(join(CASES, file)), { top: 1, ...options }))[0]!;

  it('jpeg-adobe-rgb-transform0.jpg: RGB-stored components decoded as RGB, PIL\'s bytes; tench 98.96 %', async () => {
    const file = 'jpeg-adobe-rgb-transform0.jpg';
    const img = await decodeImage(shared(join(CASES, file)));
    expect(sha256(rgbOf(img))).toBe(pil(file).sha256);
    const best = await top1(file);
    expect(best.label).toBe('tench');
    expect((100 * best.prob).toFixed(2)).toBe('98.96');
  });

  it('jpeg-exif-orientation-6.jpg: upright by default (PIL\'s exif_transpose, tench); the stored pixels with exif: ignore (PIL\'s Image.open)', async () => {
    const file = 'jpeg-exif-orientation-6.jpg';
    const want = pil(file);
    expect(want.orientation).toBe(6);
    const upright = await decodeImage(shared(join(CASES, file)));
    expect([upright.width, upright.height, upright.orientation]).toEqual([want.upright!.width, want.upright!.height, 6]);
    expect(sha256(rgbOf(upright))).toBe(want.upright!.sha256);
    const stored = await decodeImage(shared(join(CASES, file)), { exif: 'ignore' });
    expect([stored.width, stored.height]).toEqual([want.width, want.height]);
    expect(sha256(rgbOf(stored))).toBe(want.sha256);
    const best = await top1(file);
    const sideways = await top1(file, { exif: 'ignore' });
    console.log(`jpeg-exif-orientation-6.jpg: upright ${best.label} ${(100 * best.prob).toFixed(2)} %, exif ignore ${sideways.label} ${(100 * sideways.prob).toFixed(2)} %`);
    expect(best.label).toBe('tench');
    expect(sideways.label).not.toBe('tench');
  });

  it('png-rgba-hidden-colour-under-alpha0.png: RGBA as stored; composited over white as PIL\'s alpha_composite; one rule, written in PreprocessOptions', async () => {
    const file = 'png-rgba-hidden-colour-under-alpha0.png';
    const want = pil(file);
    const img = await decodeImage(shared(join(CASES, file)));
    expect(img.channels).toBe(4);
    expect(sha256(rgbOf(img))).toBe(want.sha256); // the colours under alpha 0 are kept by the decoder
    expect(sha256(composite(img).data)).toBe(want.over_white_sha256);
    // preprocess applies the same rule: the tensor of the RGBA equals the tensor of the composite.
    expect(preprocess(img)).toEqual(preprocess(composite(img)));
    const white = await top1(file);
    const ignore = await top1(file, { background: 'ignore' });
    const black = await top1(file, { background: [0, 0, 0] });
    console.log(
      `png-rgba-hidden-colour-under-alpha0.png: over white ${white.label} ${(100 * white.prob).toFixed(2)} %, ` +
        `alpha ignored ${ignore.label} ${(100 * ignore.prob).toFixed(2)} %, over black ${black.label} ${(100 * black.prob).toFixed(2)} %`,
    );
    expect(white.label).toBe('tench');
    // 'ignore' is PIL's convert('RGB'): the trailing-bytes file holds the same RGB, and classifies the same.
    expect((100 * ignore.prob).toFixed(2)).toBe('98.09');
  });

  it('png-trailing-bytes-after-iend.png: decoded as PIL decodes it (the bytes after IEND ignored); tench 98.09 %', async () => {
    const file = 'png-trailing-bytes-after-iend.png';
    const img = await decodeImage(shared(join(CASES, file)));
    expect(sha256(rgbOf(img))).toBe(pil(file).sha256);
    const best = await top1(file);
    expect(best.label).toBe('tench');
    expect((100 * best.prob).toFixed(2)).toBe('98.09');
  });

  it(`progressive-4000x4000-4000-scans.jpg: refused from its markers (more than ${MAX_JPEG_SCANS} scans), before any decoding`, async () => {
    const bytes = new Uint8Array(readFileSync(shared(join(CASES, 'progressive-4000x4000-4000-scans.jpg'))));
    const info = readJpegInfo(bytes, 1e6)!;
    expect([info.width, info.height, info.frameMarker, info.end]).toEqual([4000, 4000, 0xc2, 'ends']);
    expect(info.scans).toBe(4001); // the README's "4,000 scans", counted exactly
    // The header check alone refuses it: no decoder runs.
    expect(() => readImageHeader(bytes)).toThrow(/^JPEG has more than 100 scans/);
    const t0 = performance.now();
    const e = await errorOf(() => decodeImage(bytes));
    console.log(`progressive-4000x4000-4000-scans.jpg: refused in ${(performance.now() - t0).toFixed(1)} ms: ${e.message}`);
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect(e.message).toMatch(/^JPEG has more than 100 scans \(encoders write about 10\)/);
    expect(e.message).not.toMatch(/\n/);
  });
});

describe('test/data/images (scripts/make-test-images.py): every variant against PIL', () => {
  for (const [name, m] of Object.entries(META)) {
    it(`${name} (${m.format} ${m.mode}): PIL's RGB bytes exactly`, async () => {
      const img = await decodeImage(join(DATA, name), { exif: 'ignore' });
      expect([img.width, img.height]).toEqual(m.size);
      expect(img.format).toBe(m.format === 'WEBP' ? 'WebP' : m.format);
      const want = readFileSync(join(DATA, `${name}.rgb`));
      const got = rgbOf(img);
      let differ = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++;
      expect(differ, `${differ} of ${want.length} samples differ from PIL's`).toBe(0);
      // RGBA exactly when the file has transparency.
      const transparent = m.over_white_sha256 !== undefined;
      expect(img.channels).toBe(transparent ? 4 : 3);
      if (transparent) expect(sha256(composite(img).data), 'over white, as PIL\'s alpha_composite').toBe(m.over_white_sha256);
    });
  }

  it('has the variants the decoder must read', () => {
    for (const name of ['cmyk.jpg', 'cmyk-no-adobe.jpg', 'ycck.jpg', 'rgb-adobe-transform0.jpg', 'rgb-component-ids.jpg', 'progressive-420.jpg', 'grey.jpg', 'grey16.png', 'palette-trns.png', 'lossy.webp', 'lossless.webp', 'two-frames.gif', 'lzw.tiff']) {
      expect(META[name], name).toBeDefined();
    }
    expect(readJpegInfo(new Uint8Array(readFileSync(join(DATA, 'ycck.jpg'))))!.adobeTransform).toBe(2);
    expect(readJpegInfo(new Uint8Array(readFileSync(join(DATA, 'cmyk-no-adobe.jpg'))))!.adobeTransform).toBeUndefined();
  });

  it('two-frames.gif: the first frame (PIL\'s), not the second', async () => {
    const img = await decodeImage(join(DATA, 'two-frames.gif'));
    expect(sha256(rgbOf(img))).toBe(sha256(readFileSync(join(DATA, 'two-frames.gif.rgb'))));
  });
});

describe('EXIF orientation: all 8 (test/data/images/orientation-N.jpg, one upright picture stored 8 ways)', () => {
  for (let o = 1; o <= 8; o++) {
    const name = `orientation-${o}.jpg`;
    it(`${name}: upright by default (PIL's exif_transpose), stored with exif: 'ignore'`, async () => {
      const m = META[name]!;
      expect(m.orientation).toBe(o);
      const bytes = new Uint8Array(readFileSync(join(DATA, name)));
      expect(readJpegInfo(bytes)!.orientation).toBe(o);
      const upright = await decodeImage(bytes);
      expect(upright.orientation).toBe(o);
      expect([upright.width, upright.height]).toEqual(m.upright!.size);
      expect(sha256(rgbOf(upright))).toBe(m.upright!.sha256);
      const stored = await decodeImage(bytes, { exif: 'ignore' });
      expect([stored.width, stored.height]).toEqual(m.size);
      expect(sha256(rgbOf(stored))).toBe(sha256(readFileSync(join(DATA, `${name}.rgb`))));
      // All eight are the same picture upright (32x24, four flat quadrants): check one pixel per quadrant.
      const at = (x: number, y: number) => Array.from(upright.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
      const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 8);
      expect(near(at(8, 6), [220, 30, 30]) && near(at(24, 6), [30, 200, 40]) && near(at(8, 18), [40, 60, 220]) && near(at(24, 18), [235, 225, 40])).toBe(true);
    });
  }

  it('reads the Orientation tag in either byte order and ignores what is malformed', () => {
    const tiff = (le: boolean, type: number, count: number, value: number): Uint8Array => {
      const b = new Uint8Array(26);
      const v = new DataView(b.buffer);
      b.set(le ? [0x49, 0x49] : [0x4d, 0x4d]);
      v.setUint16(2, 42, le);
      v.setUint32(4, 8, le);
      v.setUint16(8, 1, le);
      v.setUint16(10, 0x0112, le);
      v.setUint16(12, type, le);
      v.setUint32(14, count, le);
      v.setUint16(18, value, le);
      return b;
    };
    expect(exifOrientation(tiff(true, 3, 1, 6))).toBe(6);
    expect(exifOrientation(tiff(false, 3, 1, 8))).toBe(8);
    expect(exifOrientation(tiff(true, 3, 1, 9))).toBeUndefined();
    expect(exifOrientation(tiff(true, 4, 1, 6))).toBeUndefined();
    expect(exifOrientation(tiff(true, 3, 1, 6).subarray(0, 20))).toBeUndefined();
    expect(exifOrientation(new Uint8Array(3))).toBeUndefined();
  });
});

describe('formats', () => {
  it('AVIF (written here by sharp): decoded', async () => {
    const rgb = readFileSync(join(DATA, 'rgb.png.rgb'));
    const avif = await sharp(rgb, { raw: { width: 61, height: 47, channels: 3 } }).avif({ quality: 90 }).toBuffer();
    expect(sniffFormat(avif)).toBe('AVIF');
    const img = await decodeImage(avif);
    expect([img.format, img.width, img.height, img.channels]).toEqual(['AVIF', 61, 47, 3]);
    let sum = 0;
    for (let i = 0; i < rgb.length; i++) sum += Math.abs(img.data[i]! - rgb[i]!);
    expect(sum / rgb.length).toBeLessThan(6); // lossy, but the picture
  });

  const others: [string, Uint8Array, string][] = [
    ['BMP', new Uint8Array([0x42, 0x4d, 0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0]), 'BMP'],
    ['SVG', new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'SVG'],
    ['HEIC', new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypheic'), 0, 0, 0, 0, ...new TextEncoder().encode('mif1heic')]), 'HEIC'],
    ['JPEG XL', new Uint8Array([0xff, 0x0a, 0xfa, 0x7f, 0x01, 0x90]), 'JPEG XL'],
    ['JPEG 2000', new Uint8Array([0xff, 0x4f, 0xff, 0x51, 0, 0x2f, 0, 0]), 'JPEG 2000'],
    ['PSD', new TextEncoder().encode('8BPS\0\x01\0\0\0\0\0\0'), 'PSD'],
    ['PDF', new TextEncoder().encode('%PDF-1.7\n'), 'PDF'],
    ['QOI', new TextEncoder().encode('qoif\0\0\0\x01\0\0\0\x01\x03\0'), 'QOI'],
  ];
  for (const [what, bytes, format] of others) {
    it(`${what}: a one-line error naming the format and what is decoded`, async () => {
      const e = await errorOf(() => decodeImage(bytes));
      expect(e).toBeInstanceOf(ImageDecodeError);
      expect(e.message).toBe(`${format} images are not supported: JPEG, PNG, WebP, GIF, TIFF and AVIF are decoded`);
      expect((e as ImageDecodeError).format).toBe(format);
    });
  }

  it('unknown bytes, and an empty file', async () => {
    expect((await errorOf(() => decodeImage(new TextEncoder().encode('hello, world')))).message).toBe(
      'not an image format we know (it starts 68 65 6c 6c 6f 2c 20 77); JPEG, PNG, WebP, GIF, TIFF and AVIF are decoded',
    );
    expect((await errorOf(() => decodeImage(new Uint8Array(0)))).message).toBe('empty file');
  });
});

/** A copy of a JPEG whose first frame header declares another size. */
function withSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const b = Uint8Array.from(jpeg);
  for (let o = 2; o + 4 <= b.length; ) {
    if (b[o + 1]! >= 0xc0 && b[o + 1]! <= 0xc2) {
      b.set([height >> 8, height & 255, width >> 8, width & 255], o + 5);
      return b;
    }
    o += 2 + ((b[o + 2]! << 8) | b[o + 3]!);
  }
  throw new Error('no frame header');
}

describe('bounds, checked before decoding', () => {
  const jpeg = new Uint8Array(readFileSync(join(DATA, 'baseline-444.jpg')));

  it(`a JPEG of ${MAX_JPEG_SCANS} scans is read (repeated scans), one more is refused`, async () => {
    // baseline-444.jpg is one interleaved scan: repeat its SOS segment and data (a decoder reads
    // each again over the same coefficients). The walker counts them; the limit is exact.
    const eoi = jpeg.length - 2;
    const info = readJpegInfo(jpeg)!;
    expect(info.scans).toBe(1);
    let sos = 2;
    while (!(jpeg[sos] === 0xff && jpeg[sos + 1] === 0xda)) sos += 2 + ((jpeg[sos + 2]! << 8) | jpeg[sos + 3]!);
    const scan = jpeg.subarray(sos, eoi);
    const withScans = (n: number): Uint8Array => {
      const parts = [jpeg.subarray(0, sos), ...Array.from({ length: n }, () => scan), jpeg.subarray(eoi)];
      const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) (out.set(p, o), (o += p.length));
      return out;
    };
    expect(readJpegInfo(withScans(MAX_JPEG_SCANS))!.scans).toBe(MAX_JPEG_SCANS);
    expect(() => readImageHeader(withScans(MAX_JPEG_SCANS))).not.toThrow();
    expect(() => readImageHeader(withScans(MAX_JPEG_SCANS + 1))).toThrow(/^JPEG has more than 100 scans/);
  });

  it('more than 64 megapixels, declared by any header, is refused before decoding', async () => {
    expect((await errorOf(() => decodeImage(withSize(jpeg, 8001, 8000)))).message).toBe('JPEG is 8001x8000, more than 64 megapixels');
    const png = Uint8Array.from(readFileSync(join(DATA, 'rgb.png')));
    new DataView(png.buffer).setUint32(16, 100000);
    new DataView(png.buffer).setUint32(20, 100000);
    expect((await errorOf(() => decodeImage(png))).message).toBe('PNG is 100000x100000, more than 64 megapixels');
    // TIFF: no size in the first bytes we read; sharp's header gives it, checked before the pixels.
    const tiff = await sharp({ create: { width: 9000, height: 8000, channels: 3, background: '#808080' } }).tiff({ compression: 'lzw' }).toBuffer();
    expect((await errorOf(() => decodeImage(tiff))).message).toBe('TIFF is 9000x8000, more than 64 megapixels');
  });

  it('a JPEG that ends before its end-of-image marker, or declares more pixels than its bytes hold', async () => {
    expect((await errorOf(() => decodeImage(jpeg.subarray(0, jpeg.length - 2)))).message).toBe(
      'JPEG could not be decoded: truncated (the data ends before the end-of-image marker)',
    );
    expect((await errorOf(() => decodeImage(withSize(jpeg, 8000, 8000)))).message).toMatch(/^JPEG declares 8000x8000 pixels in only \d+ bytes, more than a JPEG can hold/);
  });

  it('a zero size', async () => {
    expect((await errorOf(() => decodeImage(withSize(jpeg, 61, 0)))).message).toBe('JPEG has no pixels (61x0)');
  });
});

describe('the Node API: classifyFile and decodeImage (squeezenet-wasm-cli)', () => {
  const tench = () => shared(join(IMAGES, '000_n01440764_tench.JPEG'));

  it('a path, a Buffer, a Uint8Array and an ArrayBuffer give the same answer; the default model is the command line\'s', async () => {
    const buffer = readFileSync(tench());
    const u8 = new Uint8Array(buffer);
    const answers = [
      await classifyFile(model, tench()),
      await classifyFile(model, buffer),
      await classifyFile(model, u8),
      await classifyFile(model, u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength)),
      await classifyFile(undefined, tench()),
    ];
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]!.length).toBe(5);
    expect(answers[0]![0]!.label).toBe('tench');
    expect((await classifyFile(model, tench(), { top: 2 })).length).toBe(2);
    (await loadDefaultModel()).dispose();
  });

  it('bad arguments are InputErrors, bad files ImageDecodeErrors', async () => {
    expect(await errorOf(() => classifyFile(model, 42 as unknown as string))).toBeInstanceOf(InputError);
    expect(await errorOf(() => classifyFile(model, tench(), { exif: 'sideways' as 'apply' }))).toBeInstanceOf(InputError);
    expect(await errorOf(() => classifyFile(model, tench(), { background: [300, 0, 0] }))).toBeInstanceOf(InputError);
    expect(await errorOf(() => classifyFile({} as SqueezeNet, tench()))).toBeInstanceOf(InputError);
    const missing = await errorOf(() => classifyFile(model, join(ROOT, 'no-such-file.jpg')));
    const path = join(ROOT, 'no-such-file.jpg');
    const { file, reason } = missing as ImageDecodeError;
    expect([missing.name, missing.message, file, reason]).toEqual(['ImageDecodeError', `${path}: no such file`, path, 'no such file']);
    expect((await errorOf(() => decodeImage('/dev/zero'))).message).toBe('/dev/zero: not a regular file (a character device)');
    // The bytes' faults name the path too when one was given, and no path when bytes were.
    const text = join(mkdtempSync(join(tmpdir(), 'images-')), 'text.jpg');
    writeFileSync(text, 'not an image');
    expect((await errorOf(() => decodeImage(text))).message.startsWith(`${text}: not an image format we know`)).toBe(true);
    expect((await errorOf(() => decodeImage(readFileSync(text)))).message).toMatch(/^not an image format we know/);
  });

  it('--background values', () => {
    expect(parseBackground('white')).toEqual([255, 255, 255]);
    expect(parseBackground('#0a0B0c')).toEqual([10, 11, 12]);
    expect(parseBackground(' 1, 2,3 ')).toEqual([1, 2, 3]);
    expect(parseBackground('ignore')).toBe('ignore');
    for (const bad of ['256,0,0', '1,2', '#12345', 'purple', '']) expect(parseBackground(bad), bad).toBeUndefined();
  });
});

describe('cmykToRgb: PIL\'s formula', () => {
  it('(255 - C)(255 - K) / 255 rounded, for every C and K', () => {
    const cmyk = new Uint8Array(256 * 256 * 4);
    for (let c = 0; c < 256; c++) for (let k = 0; k < 256; k++) cmyk.set([c, c, c, k], 4 * (c * 256 + k));
    const rgb = cmykToRgb(cmyk);
    for (let c = 0; c < 256; c++) {
      for (let k = 0; k < 256; k++) {
        const want = Math.round(((255 - c) * (255 - k)) / 255);
        if (rgb[3 * (c * 256 + k)] !== want) expect(`C ${c} K ${k}: ${rgb[3 * (c * 256 + k)]}`).toBe(`C ${c} K ${k}: ${want}`);
      }
    }
  });
});
