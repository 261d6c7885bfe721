// Image files to pixels for the command line: JPEG with jpeg-js, PNG with pngjs (both pure JS).
// The library itself never decodes files: it takes pixels (see src/preprocess.ts).

import { statSync, type Stats } from 'node:fs';
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImagePixels } from 'squeezenet-wasm';

/** A file that is not an image we can decode; the message says why, in one line. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** The file extensions `eval` picks up (any case). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/**
 * Largest image decoded, in megapixels: 8000x8000, above any camera's photo. The decoders are
 * pure JS and hungry: jpeg-js keeps an Int32Array per 8x8 block, ~30 bytes per pixel (2.1 GB
 * and ~100 s for a 64-megapixel 4:4:4 JPEG), pngjs ~8 bytes per pixel.
 */
export const MAX_MEGAPIXELS = 64;

/** What jpeg-js may allocate, by its own count (which leaves out each block's object: the real peak is about twice). */
export const MAX_JPEG_MEMORY_MB = 1024;

/** Largest image file read: a 64-megapixel 16-bit RGBA PNG stored uncompressed is 512 MiB. */
export const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;

/**
 * Most pixels a complete JPEG can hold per byte of file: each 8x8 block of each component costs
 * at least one bit of Huffman code (a DC difference; a sequential scan adds an end-of-block),
 * so a grey image holds at most 512 pixels per byte, colour fewer. A header declaring more than
 * twice that is a truncated file or a decompression bomb: rejected before anything is allocated.
 */
export const MAX_JPEG_PIXELS_PER_BYTE = 1024;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (b: Uint8Array, magic: readonly number[]): boolean => magic.every((m, i) => b[i] === m);

// Recognised only to say what a file is when we cannot read it.
function sniff(b: Uint8Array): string | undefined {
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (ascii(0, 4) === 'GIF8') return 'GIF';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'WebP';
  if (ascii(0, 2) === 'BM') return 'BMP';
  if (ascii(4, 8) === 'ftyp') return 'HEIF/AVIF';
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a)) return 'TIFF';
  return undefined;
}

const oneLine = (e: unknown): string => String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim();

const FILE_KINDS: [string, (s: Stats) => boolean][] = [
  ['a directory', (s) => s.isDirectory()],
  ['a FIFO', (s) => s.isFIFO()],
  ['a character device', (s) => s.isCharacterDevice()],
  ['a block device', (s) => s.isBlockDevice()],
  ['a socket', (s) => s.isSocket()],
];

/**
 * Checks, before anything reads it, that `path` is a regular file of at most `maxBytes`: a FIFO
 * or a device (/dev/zero, /dev/stdin) would block forever or never end. Throws ImageDecodeError
 * (`no such file`, `is a directory`, `not a regular file (a FIFO)`, `is N bytes, more than ...`).
 */
export function checkImageFile(path: string, maxBytes = MAX_IMAGE_FILE_BYTES): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ImageDecodeError(err.code === 'ENOENT' ? 'no such file' : err.code === 'ENOTDIR' ? 'no such file (a parent is not a directory)' : oneLine(err));
  }
  if (st.isDirectory()) throw new ImageDecodeError('is a directory');
  if (!st.isFile()) {
    const kind = FILE_KINDS.find(([, is]) => is(st))?.[0] ?? 'not a file';
    throw new ImageDecodeError(`not a regular file (${kind})`);
  }
  if (st.size > maxBytes) throw new ImageDecodeError(`is ${st.size} bytes, more than the ${maxBytes} an image file may have`);
}

/**
 * Decodes JPEG (baseline, progressive, grayscale, Adobe CMYK/YCCK) or PNG (any bit depth, palette,
 * grayscale, alpha, interlaced; 16-bit samples rounded to 8) into pixels, by content, not by name.
 * JPEG gives RGB; PNG gives RGBA, whose alpha the preprocessing ignores (as PIL's convert('RGB')).
 * EXIF orientation is not applied (PIL does not either). Throws ImageDecodeError.
 */
export function decodeImage(bytes: Uint8Array): ImagePixels {
  if (bytes.length === 0) throw new ImageDecodeError('empty file');
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes);
  if (startsWith(bytes, PNG_MAGIC)) {
    // The size, from the IHDR chunk that must come first, before pngjs allocates anything.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length >= 29 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR') {
      const [w, h] = [view.getUint32(16), view.getUint32(20)];
      if (w * h > MAX_MEGAPIXELS * 1e6) throw new ImageDecodeError(`PNG is ${w}x${h}, more than ${MAX_MEGAPIXELS} megapixels`);
      checkPngData(bytes, w, h, bytes[24]!, bytes[25]!, bytes[28] === 1);
    }
    let img;
    try {
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      img = PNG.sync.read(buffer);
    } catch (e) {
      const why = oneLine(e);
      // pngjs's words (sic) for data that stops before the IEND chunk.
      if (/read requests waitng on finished stream/.test(why)) throw new ImageDecodeError('PNG could not be decoded: truncated (the data ends before the IEND chunk)');
      throw new ImageDecodeError(`PNG could not be decoded: ${why}`);
    }
    if (!(img.width > 0 && img.height > 0)) throw new ImageDecodeError(`PNG has no pixels (${img.width}x${img.height})`);
    const data = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    return { width: img.width, height: img.height, data, channels: 4 };
  }
  const kind = sniff(bytes);
  throw new ImageDecodeError(kind ? `${kind} images are not supported (JPEG and PNG only)` : 'not a JPEG or PNG file');
}

interface JpegFrame {
  readonly width: number;
  readonly height: number;
  /** Sampling factors per component, in frame order. */
  readonly sampling: readonly { readonly h: number; readonly v: number }[];
  /** The Adobe APP14 colour transform flag, when that marker is present. */
  readonly adobeTransform?: number;
}

// Walks the markers up to the first scan: the frame header and the Adobe marker, nothing else.
function readJpegFrame(b: Uint8Array): JpegFrame | undefined {
  let adobeTransform: number | undefined;
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return undefined;
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    const length = (b[o + 2]! << 8) | b[o + 3]!;
    const body = o + 4;
    if (marker === 0xee && length >= 12 && String.fromCharCode(...b.subarray(body, body + 5)) === 'Adobe') {
      adobeTransform = b[body + 11];
    }
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (body + 6 > b.length) return undefined;
      const height = (b[body + 1]! << 8) | b[body + 2]!;
      const width = (b[body + 3]! << 8) | b[body + 4]!;
      const n = b[body + 5]!;
      const sampling = [];
      for (let k = 0; k < n; k++) {
        const f = b[body + 6 + 3 * k + 1];
        if (f === undefined) return undefined;
        sampling.push({ h: f >> 4, v: f & 15 });
      }
      return { width, height, sampling, adobeTransform };
    }
    if (marker === 0xda || length < 2) return undefined;
    o += 2 + length;
  }
  return undefined;
}

/**
 * Walks the JPEG's segments and scans to its end-of-image marker: `truncated` when the bytes run
 * out first (jpeg-js would decode the missing part as grey without a word), `ends` when the marker
 * is there, `unknown` when the structure is not what we can walk (jpeg-js then has its say).
 */
function jpegEnd(b: Uint8Array): 'ends' | 'truncated' | 'unknown' {
  let o = 2;
  for (;;) {
    while (o < b.length && b[o] === 0xff && b[o + 1] === 0xff) o++;
    if (o + 2 > b.length) return 'truncated';
    if (b[o] !== 0xff) return 'unknown';
    const marker = b[o + 1]!;
    if (marker === 0xd9) return 'ends';
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    if (o + 4 > b.length) return 'truncated';
    const length = (b[o + 2]! << 8) | b[o + 3]!;
    if (length < 2) return 'unknown';
    o += 2 + length;
    if (o > b.length) return 'truncated';
    if (marker !== 0xda) continue;
    // Entropy-coded data: up to the next marker (0xFF not followed by 0x00, a fill 0xFF or RSTn).
    for (;;) {
      while (o < b.length && b[o] !== 0xff) o++;
      if (o + 1 >= b.length) return 'truncated';
      const next = b[o + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) o += 2;
      else if (next === 0xff) o += 1;
      else break;
    }
  }
}

/** Channels per PNG colour type: grey, -, RGB, palette, grey + alpha, -, RGBA. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Most bytes deflate can turn one compressed byte into: 258 per length-distance pair of two 1-bit codes. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * pngjs fills image data that ends early with zeros and says nothing (a 2 KB file whose header
 * claims 1048637x47 decodes to 49 megapixels of black in 1.2 s and 500 MB), and inflates an
 * interlaced image's data with no bound (a few MB of zeros become GBs). So the IDAT data is
 * inflated here first, bounded by the size a w x h image's rows take, and must fill them.
 */
function checkPngData(b: Uint8Array, w: number, h: number, depth: number, colorType: number, interlaced: boolean): void {
  const channels = PNG_CHANNELS[colorType];
  if (w === 0 || h === 0) throw new ImageDecodeError(`PNG has no pixels (${w}x${h})`);
  if (channels === undefined) return; // pngjs says what is wrong
  const bits = channels * depth;
  const rowBytes = (pw: number): number => 1 + Math.ceil((pw * bits) / 8);
  let expected = 0;
  if (!interlaced) expected = h * rowBytes(w);
  for (const [x0, y0, dx, dy] of interlaced ? ADAM7 : []) {
    const pw = Math.ceil((w - x0) / dx);
    const ph = Math.ceil((h - y0) / dy);
    if (pw > 0 && ph > 0) expected += ph * rowBytes(pw);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const idat: Uint8Array[] = [];
  for (let o = 8; o + 8 <= b.length; ) {
    const length = view.getUint32(o);
    const type = String.fromCharCode(...b.subarray(o + 4, o + 8));
    if (type === 'IDAT') idat.push(b.subarray(o + 8, Math.min(b.length, o + 8 + length)));
    if (type === 'IEND') break;
    o += 12 + length;
  }
  const compressed = idat.reduce((n, c) => n + c.length, 0);
  if (expected > DEFLATE_MAX_RATIO * compressed + 1024) {
    throw new ImageDecodeError(
      `PNG declares ${w}x${h} pixels (${expected} bytes of rows) in only ${compressed} bytes of image data, more than deflate can hold (a truncated file, or a decompression bomb)`,
    );
  }
  let inflated: number;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 }).length;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ERR_BUFFER_TOO_LARGE') throw new ImageDecodeError(`PNG could not be decoded: its image data is damaged or truncated (${oneLine(err)})`);
    inflated = expected + 1;
  }
  if (inflated < expected) {
    throw new ImageDecodeError(`PNG could not be decoded: its image data inflates to ${inflated} bytes, ${w}x${h} needs ${expected} (truncated or damaged)`);
  }
  if (inflated > expected && interlaced) {
    throw new ImageDecodeError(`PNG image data inflates to more than the ${expected} bytes a ${w}x${h} interlaced image holds (a decompression bomb?)`);
  }
}

/** The seven Adam7 passes: first column and row, column and row steps. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

function decodeJpeg(bytes: Uint8Array): ImagePixels {
  const frame = readJpegFrame(bytes);
  // jpeg-js allocates every block of the frame before it reads a byte of the scans: check the
  // declared size against the limit and against what the file's bytes can hold first.
  if (frame !== undefined) {
    const { width: w, height: h } = frame;
    if (w * h > MAX_MEGAPIXELS * 1e6) throw new ImageDecodeError(`JPEG is ${w}x${h}, more than ${MAX_MEGAPIXELS} megapixels`);
    if (w * h > MAX_JPEG_PIXELS_PER_BYTE * bytes.length) {
      throw new ImageDecodeError(
        `JPEG declares ${w}x${h} pixels in only ${bytes.length} bytes, more than a JPEG can hold (a truncated file, or a decompression bomb)`,
      );
    }
  }
  if (jpegEnd(bytes) === 'truncated') throw new ImageDecodeError('JPEG could not be decoded: truncated (the data ends before the end-of-image marker)');
  // YCbCr (3 components, no Adobe marker) with the luma at full resolution: take jpeg-js's planes
  // (its IDCT) and do libjpeg's chroma upsampling and colour conversion here, which brings the
  // pixels within a level or two of PIL's; anything else as jpeg-js converts it.
  const ycc =
    frame !== undefined &&
    frame.sampling.length === 3 &&
    frame.adobeTransform === undefined &&
    chromaFactors(frame) !== undefined;
  let img;
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: true,
      maxResolutionInMP: MAX_MEGAPIXELS,
      maxMemoryUsageInMB: MAX_JPEG_MEMORY_MB,
      ...(ycc ? { colorTransform: false } : {}),
    });
  } catch (e) {
    const why = oneLine(e);
    if (/maxMemoryUsageInMB/.test(why)) throw new ImageDecodeError(`JPEG needs more than the ${MAX_JPEG_MEMORY_MB} MB its decoder may use (${why})`);
    throw new ImageDecodeError(`JPEG could not be decoded: ${why}`);
  }
  if (!(img.width > 0 && img.height > 0)) throw new ImageDecodeError(`JPEG has no pixels (${img.width}x${img.height})`);
  if (ycc && img.width === frame.width && img.height === frame.height) {
    yccToRgb(img.data, img.width, img.height, chromaFactors(frame)!);
  }
  return { width: img.width, height: img.height, data: img.data, channels: 3 };
}

/** How many times each chroma plane is subsampled (x, y), when libjpeg would upsample it by a method we reproduce. */
function chromaFactors(frame: JpegFrame): [number, number][] | undefined {
  const [y, ...chroma] = frame.sampling as [{ h: number; v: number }, ...{ h: number; v: number }[]];
  const maxH = Math.max(...frame.sampling.map((s) => s.h));
  const maxV = Math.max(...frame.sampling.map((s) => s.v));
  if (y.h !== maxH || y.v !== maxV) return undefined;
  const out: [number, number][] = [];
  for (const c of chroma) {
    if (c.h === 0 || c.v === 0 || maxH % c.h !== 0 || maxV % c.v !== 0) return undefined;
    const f: [number, number] = [maxH / c.h, maxV / c.v];
    if (f[0] > 2 || f[1] > 2) return undefined;
    out.push(f);
  }
  return out;
}

// libjpeg's YCbCr -> RGB in 16-bit fixed point (jdcolor.c), as tables over the 256 chroma values.
const SCALE = 16;
const HALF_SCALE = 1 << (SCALE - 1);
const fix = (x: number): number => Math.trunc(x * (1 << SCALE) + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + HALF_SCALE) >> SCALE;
  CB_B[i] = (fix(1.772) * x + HALF_SCALE) >> SCALE;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + HALF_SCALE;
}
const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * In place: full-resolution Y, Cb, Cr as jpeg-js leaves them with colorTransform off (chroma
 * repeated nearest-neighbour) to RGB as libjpeg-turbo (PIL's decoder) makes it: the chroma
 * samples upsampled with its "fancy" triangle filter (jdsample.c: 3/4 nearest, 1/4 next,
 * edges replicated, its rounding biases), then its fixed-point colour conversion.
 */
function yccToRgb(data: Uint8Array, width: number, height: number, factors: [number, number][]): void {
  const planes = factors.map(([fx, fy], k) => upsampleChroma(data, width, height, 1 + k, fx, fy));
  const [cb, cr] = planes as [Uint8Array, Uint8Array];
  for (let p = 0, q = 0; p < width * height; p++, q += 3) {
    const y = data[q]!;
    const b = cb[p]!;
    const r = cr[p]!;
    data[q] = clamp255(y + CR_R[r]!);
    data[q + 1] = clamp255(y + ((CB_G[b]! + CR_G[r]!) >> SCALE));
    data[q + 2] = clamp255(y + CB_B[b]!);
  }
}

function upsampleChroma(data: Uint8Array, width: number, height: number, channel: number, fx: number, fy: number): Uint8Array {
  const w = Math.ceil(width / fx);
  const h = Math.ceil(height / fy);
  // The subsampled plane: sample (i, j) sits at pixel (i * fy, j * fx) of jpeg-js's output.
  const c = new Uint8Array(w * h);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) c[i * w + j] = data[(i * fy * width + j * fx) * 3 + channel]!;
  const out = new Uint8Array(width * height);
  const fancyH = fx === 2 && w > 2;
  const fancyV = fy === 2 && (fx === 1 || fancyH);
  const row = new Int32Array(w);
  for (let y = 0; y < height; y++) {
    // Vertical: 3 x nearest row + the next nearest (above for even rows, below for odd).
    const near = Math.floor(y / fy);
    if (fancyV) {
      const far = y % 2 === 0 ? Math.max(near - 1, 0) : Math.min(near + 1, h - 1);
      for (let j = 0; j < w; j++) row[j] = 3 * c[near * w + j]! + c[far * w + j]!;
    } else {
      for (let j = 0; j < w; j++) row[j] = c[near * w + j]!;
    }
    const o = y * width;
    if (fancyH) {
      // Horizontal: 3 x nearest column + the next nearest, sums over 16 (h2v2) or 4 (h2v1).
      const [shift, even, odd] = fancyV ? [4, 8, 7] : [2, 1, 2];
      for (let x = 0; x < width; x++) {
        const j = x >> 1;
        const other = x % 2 === 0 ? Math.max(j - 1, 0) : Math.min(j + 1, w - 1);
        out[o + x] = (3 * row[j]! + row[other]! + (x % 2 === 0 ? even : odd)) >> shift;
      }
    } else if (fancyV) {
      // h1v2: sums over 4, bias 1 for even rows and 2 for odd.
      for (let x = 0; x < width; x++) out[o + x] = (row[x]! + (y % 2 === 0 ? 1 : 2)) >> 2;
    } else {
      for (let x = 0; x < width; x++) out[o + x] = row[Math.floor(x / fx)]!;
    }
  }
  return out;
}
