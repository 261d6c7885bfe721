// @ts-check
// The page's image decoding, the browser's own decoder under the command line's rules:
// - the command line's bounds first, from the file's header (cli/src/image-header.ts): at most
//   64 megapixels, a JPEG of at most 100 scans that reaches its end-of-image marker; past them
//   an ImageDecodeError with one line, in microseconds, before the browser decodes anything;
// - the decoded samples as they are stored (no colour management: `colorSpaceConversion: 'none'`,
//   as PIL and the command line ignore ICC profiles); Chromium's are PIL's exactly on the 100
//   sample photos (scripts/test-browser.mjs reports it);
// - EXIF orientation applied by default (`imageOrientation: 'from-image'`), as the command line's
//   `--exif apply`. With `exif: 'ignore'` the stored pixels: Chromium turns a JPEG upright whatever
//   `imageOrientation` says (156 treats 'none' as 'from-image'), so the turn is undone here from
//   the Orientation tag the header gives;
// - transparency: the canvas gives RGBA (`ImageData`), which the library's preprocess composites
//   over white (its `background` option), the command line's rule. A canvas keeps colours
//   premultiplied by alpha, so a pixel of alpha 0 comes back black and fully transparent: it is
//   the background either way; partly transparent pixels may differ from the command line's by a
//   level after the canvas's round trip.

import { readImageHeader } from '../../cli/dist/image-header.js';

/**
 * Decodes an image file (a Blob or File) to RGBA pixels.
 * @param {Blob} blob
 * @param {{ exif?: 'apply' | 'ignore' }} [options]
 * @returns {Promise<{ bitmap: ImageBitmap, pixels: ImageData, orientation: number }>}
 */
export async function decodeImage(blob, options = {}) {
  const exif = options.exif ?? 'apply';
  if (exif !== 'apply' && exif !== 'ignore') throw new Error(`exif must be 'apply' or 'ignore', got ${JSON.stringify(exif)}`);
  const header = readImageHeader(new Uint8Array(await blob.arrayBuffer()));
  const orientation = header.jpeg?.orientation ?? 1;
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D | null} */ (canvas.getContext('2d', { willReadFrequently: true }));
  if (ctx === null) throw new Error('this browser gives no 2D canvas');
  ctx.drawImage(bitmap, 0, 0);
  const upright = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const pixels = exif === 'ignore' && orientation !== 1 ? storedPixels(upright, orientation) : upright;
  return { bitmap, pixels, orientation };
}

/**
 * The pixels as stored in a file whose EXIF Orientation is `o`, from the upright ones: stored
 * pixel (x, y) is the upright pixel the orientation's turn sends it to (TIFF 6.0 / EXIF 2.3:
 * 2 mirrors left-right, 3 turns 180 degrees, 4 mirrors top-bottom, 5 transposes, 6 turns 90
 * clockwise, 7 transverses, 8 turns 90 counter-clockwise).
 * @param {ImageData} up
 * @param {number} o
 * @returns {ImageData}
 */
export function storedPixels(up, o) {
  const swap = o >= 5;
  const ws = swap ? up.height : up.width;
  const hs = swap ? up.width : up.height;
  const out = new ImageData(ws, hs);
  for (let y = 0; y < hs; y++) {
    for (let x = 0; x < ws; x++) {
      const [ux, uy] =
        o === 2 ? [ws - 1 - x, y]
        : o === 3 ? [ws - 1 - x, hs - 1 - y]
        : o === 4 ? [x, hs - 1 - y]
        : o === 5 ? [y, x]
        : o === 6 ? [hs - 1 - y, x]
        : o === 7 ? [hs - 1 - y, ws - 1 - x]
        : o === 8 ? [y, ws - 1 - x]
        : [x, y];
      const from = 4 * (uy * up.width + ux);
      out.data.set(up.data.subarray(from, from + 4), 4 * (y * ws + x));
    }
  }
  return out;
}
