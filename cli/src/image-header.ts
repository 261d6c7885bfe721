// What an image file is and how big, read from its first bytes and markers before any decoder
// runs: the bounds are checked here, so a hostile file is refused in microseconds instead of
// being decoded. No Node APIs: the Worker example (examples/worker) uses this file too.

import { SqueezeNetError } from 'squeezenet-wasm';

/** A file that is not an image we can decode; the message says why, in one line. */
export class ImageDecodeError extends SqueezeNetError {
  override name = 'ImageDecodeError';
  /** The format the bytes were recognised as, when they were. */
  readonly format?: string;
  /** The image's path, when it was given as one; the message then starts with it (`photo.jpg: no such file`). */
  readonly file?: string;
  /** What is wrong, without the path (`no such file`): for callers that name the file themselves. */
  readonly reason: string;
  constructor(reason: string, format?: string, file?: string) {
    super(file === undefined ? reason : `${file}: ${reason}`);
    this.reason = reason;
    if (format !== undefined) this.format = format;
    if (file !== undefined) this.file = file;
  }

  /** The same error, naming the image's path (unchanged if it already names one). */
  at(file: string): ImageDecodeError {
    return this.file === undefined ? new ImageDecodeError(this.reason, this.format, file) : this;
  }
}

/** The formats told apart by their first bytes: the ones decoded, and others named in errors. */
export type ImageFormat =
  | 'JPEG'
  | 'PNG'
  | 'WebP'
  | 'GIF'
  | 'TIFF'
  | 'AVIF'
  | 'HEIC'
  | 'BMP'
  | 'SVG'
  | 'JPEG XL'
  | 'JPEG 2000'
  | 'ICO'
  | 'PSD'
  | 'PDF'
  | 'QOI'
  | 'PNM';

/** Largest image decoded, in megapixels (8000x8000, above any camera's photo). */
export const MAX_MEGAPIXELS = 64;

/**
 * Most scans a JPEG may have. A progressive JPEG's decoder passes over the coefficients once per
 * scan, so its time grows with the scan count and not with the file's size: 163 KB holding 4,000
 * scans took libjpeg-turbo (sharp) 6 s and mozjpeg in WebAssembly 7.6 s. Encoders write about 10
 * (libjpeg's progressive script: 10 for colour, 6 for grey), so 100 refuses only such files.
 * libjpeg-turbo's own answer to them is the same kind of cap (TurboJPEG's scan limit).
 */
export const MAX_JPEG_SCANS = 100;

/**
 * Most pixels a complete JPEG can hold per byte of file: each 8x8 block of each component costs
 * at least one bit of Huffman code (a DC difference; a sequential scan adds an end-of-block), so a
 * grey image holds at most 512 pixels per byte, colour fewer. A header declaring more than twice
 * that is a truncated file or a decompression bomb: refused before anything is allocated.
 */
export const MAX_JPEG_PIXELS_PER_BYTE = 1024;

/** The formats the command line (sharp) decodes, for messages. */
export const DECODED_FORMATS = 'JPEG, PNG, WebP, GIF, TIFF and AVIF';

const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

/** The format of an image file, by its first bytes (never by its name), or undefined. */
export function sniffFormat(b: Uint8Array): ImageFormat | undefined {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n') return 'PNG';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'WebP';
  if (ascii(b, 0, 4) === 'GIF8') return 'GIF';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*' || ascii(b, 0, 4) === 'II+\0' || ascii(b, 0, 4) === 'MM\0+') return 'TIFF';
  if (ascii(b, 4, 8) === 'ftyp') {
    // ISO BMFF: the major brand, then the compatible ones.
    const size = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const brands = [ascii(b, 8, 12)];
    for (let o = 16; o + 4 <= Math.min(size, 64, b.length); o += 4) brands.push(ascii(b, o, o + 4));
    if (brands.some((x) => x === 'avif' || x === 'avis')) return 'AVIF';
    if (brands.some((x) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(x))) return 'HEIC';
    return undefined;
  }
  if (ascii(b, 0, 2) === 'BM') return 'BMP';
  if (b[0] === 0xff && b[1] === 0x0a) return 'JPEG XL';
  if (ascii(b, 0, 12) === '\0\0\0\x0cJXL \r\n\x87\n') return 'JPEG XL';
  if (ascii(b, 0, 12) === '\0\0\0\x0cjP  \r\n\x87\n' || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)) return 'JPEG 2000';
  if (b[0] === 0 && b[1] === 0 && (b[2] === 1 || b[2] === 2) && b[3] === 0 && b.length > 6) return 'ICO';
  if (ascii(b, 0, 4) === '8BPS') return 'PSD';
  if (ascii(b, 0, 5) === '%PDF-') return 'PDF';
  if (ascii(b, 0, 4) === 'qoif') return 'QOI';
  if (b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x37 && (b[2] === 0x0a || b[2] === 0x20 || b[2] === 0x0d || b[2] === 0x09)) return 'PNM';
  const head = ascii(b, 0, 512).replace(/^\uFEFF/, '').trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return 'SVG';
  return undefined;
}

/** What the markers of a JPEG say, up to its end-of-image marker. */
export interface JpegInfo {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** The frame's marker: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, 0xC3 lossless, 0xC9.. arithmetic. */
  readonly frameMarker: number;
  /** The Adobe APP14 colour transform (0 none: RGB or CMYK; 1 YCbCr; 2 YCCK), when that marker is present. */
  readonly adobeTransform?: number;
  /** EXIF orientation 1..8 (from the first APP1 Exif segment), when there is one. */
  readonly orientation?: number;
  /** Start-of-scan markers seen; counting stops at `maxScans + 1`. */
  readonly scans: number;
  /** `ends` at the end-of-image marker, `truncated` when the bytes run out first, `stopped` when counting stopped early. */
  readonly end: 'ends' | 'truncated' | 'stopped';
}

const u16be = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
const isFrameMarker = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks a JPEG's segments and scans: the frame header, the Adobe and EXIF markers, and the number
 * of scans, skipping entropy-coded data to the next marker (0xFF not followed by 0x00, a fill 0xFF
 * or RSTn). Linear in the file's size, no allocation. Returns undefined when there is no frame
 * header before the first scan or the end (the decoder then has its say).
 */
export function readJpegInfo(b: Uint8Array, maxScans = MAX_JPEG_SCANS): JpegInfo | undefined {
  let frame: { width: number; height: number; components: number; frameMarker: number } | undefined;
  let adobeTransform: number | undefined;
  let orientation: number | undefined;
  let scans = 0;
  const result = (end: JpegInfo['end']): JpegInfo | undefined =>
    frame === undefined
      ? undefined
      : {
          ...frame,
          ...(adobeTransform === undefined ? {} : { adobeTransform }),
          ...(orientation === undefined ? {} : { orientation }),
          scans,
          end,
        };
  let o = 2;
  for (;;) {
    // Between segments: fill bytes, and (damaged files) anything up to the next 0xFF, as libjpeg skips it.
    if (o < b.length && b[o] !== 0xff) {
      const next = b.indexOf(0xff, o);
      o = next < 0 ? b.length : next;
    }
    while (o + 1 < b.length && b[o + 1] === 0xff) o++;
    if (o + 2 > b.length) return result('truncated');
    const marker = b[o + 1]!;
    if (marker === 0xd9) return result('ends');
    if (marker === 0x01 || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd8)) {
      o += 2;
      continue;
    }
    if (o + 4 > b.length) return result('truncated');
    const length = u16be(b, o + 2);
    const body = o + 4;
    const end = o + 2 + length;
    if (length < 2) return result('truncated');
    if (end > b.length) return result('truncated');
    if (marker === 0xe1 && orientation === undefined && ascii(b, body, body + 6) === 'Exif\0\0') {
      orientation = exifOrientation(b.subarray(body + 6, end));
    } else if (marker === 0xee && length >= 14 && ascii(b, body, body + 5) === 'Adobe') {
      adobeTransform = b[body + 11];
    } else if (isFrameMarker(marker) && frame === undefined && length >= 8) {
      frame = { height: u16be(b, body + 1), width: u16be(b, body + 3), components: b[body + 5]!, frameMarker: marker };
    }
    o = end;
    if (marker !== 0xda) continue;
    if (++scans > maxScans) return result('stopped');
    // Entropy-coded data, up to the next marker.
    for (;;) {
      const ff = b.indexOf(0xff, o);
      if (ff < 0 || ff + 1 >= b.length) return result('truncated');
      const next = b[ff + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) o = ff + 2;
      else if (next === 0xff) o = ff + 1;
      else {
        o = ff;
        break;
      }
    }
  }
}

/**
 * The Orientation tag (0x0112) of IFD0 of an EXIF block (a TIFF header and its IFDs), 1..8, or
 * undefined when it is absent, malformed or out of range. Every offset is checked against the block.
 */
export function exifOrientation(t: Uint8Array): number | undefined {
  if (t.length < 8) return undefined;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const u16 = (o: number): number => (le ? t[o]! | (t[o + 1]! << 8) : (t[o]! << 8) | t[o + 1]!);
  const u32 = (o: number): number => (le ? (t[o]! | (t[o + 1]! << 8) | (t[o + 2]! << 16) | (t[o + 3]! << 24)) >>> 0 : ((t[o]! << 24) | (t[o + 1]! << 16) | (t[o + 2]! << 8) | t[o + 3]!) >>> 0);
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > t.length) return undefined;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > t.length) return undefined;
    if (u16(e) !== 0x0112) continue;
    // SHORT (3), one value, stored in the first two bytes of the value field.
    if (u16(e + 2) !== 3 || u32(e + 4) !== 1) return undefined;
    const v = u16(e + 8);
    return v >= 1 && v <= 8 ? v : undefined;
  }
  return undefined;
}

/** A PNG's IHDR: size, bit depth, colour type and interlace method. */
export interface PngInfo {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly colorType: number;
  readonly interlaced: boolean;
}

/** The IHDR chunk, which must come first; undefined when it does not. */
export function readPngInfo(b: Uint8Array): PngInfo | undefined {
  if (b.length < 29 || ascii(b, 12, 16) !== 'IHDR') return undefined;
  const u32 = (o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  return { width: u32(16), height: u32(20), depth: b[24]!, colorType: b[25]!, interlaced: b[28] === 1 };
}

/** A WebP's canvas size, from its first chunk (VP8X, VP8L or VP8); undefined when it cannot be read. */
export function readWebpSize(b: Uint8Array): { width: number; height: number } | undefined {
  const chunk = ascii(b, 12, 16);
  const d = 20;
  if (chunk === 'VP8X' && b.length >= d + 10) {
    const u24 = (o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
    return { width: u24(d + 4) + 1, height: u24(d + 7) + 1 };
  }
  if (chunk === 'VP8L' && b.length >= d + 5 && b[d] === 0x2f) {
    const bits = b[d + 1]! | (b[d + 2]! << 8) | (b[d + 3]! << 16) | (b[d + 4]! << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && b.length >= d + 10 && b[d + 3] === 0x9d && b[d + 4] === 0x01 && b[d + 5] === 0x2a) {
    return { width: (b[d + 6]! | (b[d + 7]! << 8)) & 0x3fff, height: (b[d + 8]! | (b[d + 9]! << 8)) & 0x3fff };
  }
  return undefined;
}

/** A GIF's logical screen size. */
export function readGifSize(b: Uint8Array): { width: number; height: number } | undefined {
  return b.length >= 10 ? { width: b[6]! | (b[7]! << 8), height: b[8]! | (b[9]! << 8) } : undefined;
}

/** What {@link readImageHeader} found: the format and, where its header says, the size. */
export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width?: number;
  readonly height?: number;
  readonly jpeg?: JpegInfo;
  readonly png?: PngInfo;
}

export interface HeaderLimits {
  /** Most pixels (width x height). Default {@link MAX_MEGAPIXELS} million. */
  readonly maxPixels?: number;
  /** Most JPEG scans. Default {@link MAX_JPEG_SCANS}. */
  readonly maxScans?: number;
}

/**
 * The format and size of an image file, checked before any decoding: empty or unrecognised bytes,
 * a size of zero or over `maxPixels`, a JPEG with more than `maxScans` scans, a JPEG whose bytes
 * end before its end-of-image marker (decoders fill the missing part with grey and carry on) or
 * that declares more pixels than its bytes can hold. Every refusal is an ImageDecodeError with a
 * one-line message; the work is one pass over the markers (no pixel is decoded).
 */
export function readImageHeader(b: Uint8Array, limits: HeaderLimits = {}): ImageHeader {
  const maxPixels = limits.maxPixels ?? MAX_MEGAPIXELS * 1e6;
  const maxScans = limits.maxScans ?? MAX_JPEG_SCANS;
  if (b.length === 0) throw new ImageDecodeError('empty file');
  const format = sniffFormat(b);
  if (format === undefined) {
    const hex = Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new ImageDecodeError(`not an image format we know (it starts ${hex}); ${DECODED_FORMATS} are decoded`);
  }
  let size: { width: number; height: number } | undefined;
  let jpeg: JpegInfo | undefined;
  let png: PngInfo | undefined;
  if (format === 'JPEG') {
    jpeg = readJpegInfo(b, maxScans);
    size = jpeg;
  } else if (format === 'PNG') {
    png = readPngInfo(b);
    size = png;
  } else if (format === 'WebP') size = readWebpSize(b);
  else if (format === 'GIF') size = readGifSize(b);
  const header: ImageHeader = { format, ...(size ? { width: size.width, height: size.height } : {}), ...(jpeg ? { jpeg } : {}), ...(png ? { png } : {}) };
  if (size !== undefined) checkSize(format, size.width, size.height, maxPixels);
  if (format === 'JPEG' && jpeg === undefined) {
    throw new ImageDecodeError('JPEG could not be decoded: no frame header (SOF) before its first scan or its end: there is no image in it', format);
  }
  if (jpeg !== undefined) {
    if (jpeg.end === 'stopped') {
      throw new ImageDecodeError(`JPEG has more than ${maxScans} scans (encoders write about 10): refused, as each scan is another pass over the whole image`, format);
    }
    if (jpeg.end === 'truncated') throw new ImageDecodeError('JPEG could not be decoded: truncated (the data ends before the end-of-image marker)', format);
    if (jpeg.width * jpeg.height > MAX_JPEG_PIXELS_PER_BYTE * b.length) {
      throw new ImageDecodeError(
        `JPEG declares ${jpeg.width}x${jpeg.height} pixels in only ${b.length} bytes, more than a JPEG can hold (a truncated file, or a decompression bomb)`,
        format,
      );
    }
  }
  return header;
}

/** Throws when a size is zero or over the pixel limit. */
export function checkSize(format: string, width: number, height: number, maxPixels = MAX_MEGAPIXELS * 1e6): void {
  if (width === 0 || height === 0) throw new ImageDecodeError(`${format} has no pixels (${width}x${height})`, format);
  if (width * height > maxPixels) {
    const limit = maxPixels % 1e6 === 0 ? `${maxPixels / 1e6} megapixels` : `${maxPixels} pixels`;
    throw new ImageDecodeError(`${format} is ${width}x${height}, more than ${limit}`, format);
  }
}
