// Image files to pixels, as the reference pipeline (PIL's Image.open(f).convert('RGB')) decodes
// them, with sharp: libvips over libjpeg-turbo (mozjpeg's decoder), libpng, libwebp, giflib-style
// cgif, libtiff and libheif/aom. Why sharp: it is the Node ecosystem's standard image library, its
// prebuilt binaries come from npm (@img/sharp-*, nothing to compile), and libjpeg-turbo's IDCT and
// chroma upsampling give PIL's pixels exactly (all 100 sample photos, byte for byte), which no
// pure-JS decoder did. The library itself never decodes files: it takes pixels (src/preprocess.ts).

import { statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { InputError, type ImagePixels } from 'squeezenet-wasm';
import { checkSize, DECODED_FORMATS, ImageDecodeError, MAX_MEGAPIXELS, readImageHeader, type ImageFormat } from './image-header.js';
import { fileProblem } from './paths.js';

export { ImageDecodeError, MAX_MEGAPIXELS } from './image-header.js';

/** The file extensions `eval` picks up (any case). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

/** Largest image file read: a 64-megapixel 16-bit RGBA PNG stored uncompressed is 512 MiB. */
export const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;

/**
 * A last bound on one decode, in seconds (libvips stops the pipeline past it). The bounds checked
 * before decoding (pixels, JPEG scans) keep every file we know of far below it: a 64-megapixel
 * JPEG decodes in about a second.
 */
export const DECODE_TIMEOUT_SECONDS = 10;

/** The formats decoded here. */
const DECODED: readonly ImageFormat[] = ['JPEG', 'PNG', 'WebP', 'GIF', 'TIFF', 'AVIF'];

/**
 * EXIF orientation: `apply` (the default) turns the pixels upright as the Orientation tag says,
 * as browsers and phones show them; `ignore` keeps the stored pixels, as PIL's `Image.open` and
 * torchvision's loaders do (for conformance runs against them).
 */
export type ExifMode = 'apply' | 'ignore';

export interface DecodeOptions {
  /** Default `apply`. */
  readonly exif?: ExifMode;
}

/** An image file: its path, or its bytes (a Buffer is a Uint8Array). */
export type ImageInput = string | Uint8Array | ArrayBuffer;

/** Decoded pixels: 8-bit RGB, or RGBA (not premultiplied) when the file has transparency. */
export interface DecodedImage extends ImagePixels {
  readonly data: Uint8Array;
  readonly channels: 3 | 4;
  /** The file's format, told by its bytes. */
  readonly format: ImageFormat;
  /** The file's EXIF orientation (1..8; 1 when it has none), applied unless `exif: 'ignore'`. */
  readonly orientation: number;
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
 * naming `path` (`x.jpg: no such file`, `is a directory`, `not a regular file (a FIFO)`, `is N
 * bytes, more than ...`; its `reason` without the path).
 */
export function checkImageFile(path: string, maxBytes = MAX_IMAGE_FILE_BYTES): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ImageDecodeError(fileProblem(e), undefined, path);
  }
  if (st.isDirectory()) throw new ImageDecodeError('is a directory', undefined, path);
  if (!st.isFile()) {
    const kind = FILE_KINDS.find(([, is]) => is(st))?.[0] ?? 'not a file';
    throw new ImageDecodeError(`not a regular file (${kind})`, undefined, path);
  }
  if (st.size > maxBytes) throw new ImageDecodeError(`is ${st.size} bytes, more than the ${maxBytes} an image file may have`, undefined, path);
}

async function bytesOf(input: ImageInput): Promise<Uint8Array> {
  if (typeof input === 'string') {
    checkImageFile(input); // a FIFO or /dev/zero would block or never end
    try {
      return await readFile(input);
    } catch (e) {
      throw new ImageDecodeError(`cannot read: ${oneLine(e)}`, undefined, input);
    }
  }
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new InputError(`an image must be a file path, a Buffer, a Uint8Array or an ArrayBuffer, got ${input === null ? 'null' : typeof input}`);
}

function checkOptions(options: DecodeOptions | undefined): ExifMode {
  const exif = options?.exif ?? 'apply';
  if (exif !== 'apply' && exif !== 'ignore') throw new InputError(`exif must be 'apply' or 'ignore', got ${JSON.stringify(exif)}`);
  return exif;
}

/**
 * Decodes an image file (by its bytes, never its name) to 8-bit pixels equal to PIL's
 * `Image.open(f).convert('RGB')` (byte for byte on the 100 sample photos and every variant in
 * test/data/images): JPEG (baseline, progressive, grey, CMYK and YCCK with or without the Adobe
 * marker, RGB-stored), PNG (every bit depth, palette, interlaced; 16-bit samples keep their high
 * byte; bytes after IEND ignored), WebP, GIF and TIFF (their first frame or page) and AVIF. RGBA
 * when the file has transparency (the library composites it: see `preprocess`'s `background`).
 * The EXIF orientation is applied unless `exif: 'ignore'`; ICC profiles are ignored, as PIL does.
 *
 * Bounds, before any decoding: at most {@link MAX_MEGAPIXELS} megapixels, {@link MAX_JPEG_SCANS}
 * JPEG scans, a JPEG that ends before its end-of-image marker or declares more pixels than its
 * bytes hold; a path must name a regular file under {@link MAX_IMAGE_FILE_BYTES}. Throws
 * ImageDecodeError with a one-line message (`GIF is 70000x70000, more than 64 megapixels`, `BMP
 * images are not supported: ...`), which starts with the path when `input` is one (`file`, and
 * `reason` without it, are on the error); InputError for a bad argument.
 */
export async function decodeImage(input: ImageInput, options: DecodeOptions = {}): Promise<DecodedImage> {
  const exif = checkOptions(options);
  const bytes = await bytesOf(input);
  try {
    return await decodeBytes(bytes, exif);
  } catch (e) {
    throw typeof input === 'string' && e instanceof ImageDecodeError ? e.at(input) : e;
  }
}

async function decodeBytes(bytes: Uint8Array, exif: ExifMode): Promise<DecodedImage> {
  const header = readImageHeader(bytes);
  const { format } = header;
  if (!DECODED.includes(format)) throw new ImageDecodeError(`${format} images are not supported: ${DECODED_FORMATS} are decoded`, format);
  const open = (limitInputPixels: number | false = MAX_MEGAPIXELS * 1e6) =>
    sharp(bytes, {
      failOn: 'error', // PIL's rule: truncated or corrupt data is an error; a warning (extra bytes) is not
      limitInputPixels,
      ignoreIcc: true, // PIL's convert('RGB') keeps the stored samples
      autoOrient: exif === 'apply',
      pages: 1,
      page: 0,
    }).timeout({ seconds: DECODE_TIMEOUT_SECONDS });
  let meta;
  try {
    meta = await open(false).metadata(); // the header only: the size is checked next, with our message
  } catch (e) {
    throw new ImageDecodeError(`${format} could not be decoded: ${sharpMessage(e)}`, format);
  }
  checkSize(format, meta.width ?? 0, meta.height ?? 0);
  const orientation = meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  try {
    if (meta.space === 'cmyk') {
      // Raw CMYK samples (libjpeg's, Adobe-inverted as PIL reads them), turned into RGB as PIL does.
      const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels !== 4) throw new Error(`CMYK with ${info.channels} channels`);
      return { width: info.width, height: info.height, data: cmykToRgb(data), channels: 3, format, orientation };
    }
    const { data, info } = await open().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels === 3 || info.channels === 4) return { width: info.width, height: info.height, data: pixels, channels: info.channels, format, orientation };
    throw new Error(`${info.channels} channels after conversion to sRGB`);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(`${format} could not be decoded: ${sharpMessage(e)}`, format);
  }
}

/** sharp's message on one line, without libvips's loader prefixes (`VipsJpeg: `, `jpegload_buffer: `). */
function sharpMessage(e: unknown): string {
  // libvips repeats a message once per attempt ("... no image ... no image"): each sentence once.
  const text = oneLine(e)
    .replace(/\b(vips\w*|\w+load(_buffer)?): /gi, '')
    .replace(/(.+?)(?: \1)+$/, '$1');
  if (/timeout/i.test(text)) return `took more than ${DECODE_TIMEOUT_SECONDS} s (${text})`;
  if (/premature end|truncated|unexpected end|not enough data|read error/i.test(text)) return `truncated or damaged (${text})`;
  return text;
}

/**
 * CMYK to RGB as PIL's `convert('RGB')` does it (Pillow's Convert.c, cmyk2rgb): each channel
 * (255 - C)(255 - K) / 255, rounded, computed as 255 - K - round(C (255 - K) / 255).
 */
export function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const n = cmyk.length >> 2;
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) {
    const nk = 255 - cmyk[4 * p + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk[4 * p + c]! * nk + 128;
      out[3 * p + c] = nk - ((t + (t >> 8)) >> 8);
    }
  }
  return out;
}
