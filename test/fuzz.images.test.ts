// Fuzz: the CLI's image decoder (cli/src/images.ts: sharp, and the header checks in front of it,
// cli/src/image-header.ts) on damaged JPEG, PNG, WebP and GIF files, with the weight loaders'
// harness (test/fuzz-harness.ts): every case is a decoded image of consistent size or an
// ImageDecodeError with a one-line message; never another error, a hang, or a truncated file
// decoded as if whole (a JPEG decoder fills a missing part with grey and carries on). A PNG cut
// after its last image data chunk (only IEND missing) decodes, as PIL decodes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeImage, ImageDecodeError, MAX_MEGAPIXELS } from '../cli/src/images.js';
import type { ImagePixels } from '../src/index.js';
import { fuzzLoader } from './fuzz-harness.js';
import { ROOT } from './shared.js';

const file = (dir: string, name: string) => (): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'test', 'data', dir, name)));

/** Where a PNG's last IDAT chunk ends (its CRC included): a prefix shorter than that lacks pixel data. */
function pngDataEnd(b: Uint8Array): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let end = 0;
  for (let o = 8; o + 12 <= b.length; o += 12 + view.getUint32(o)) {
    if (String.fromCharCode(...b.subarray(o + 4, o + 8)) === 'IDAT') end = o + 12 + view.getUint32(o);
  }
  return end;
}

/** For PNG targets: a strict prefix of the valid file may decode only when it holds all the image data. */
function pngPrefixCheck(valid: () => Uint8Array): (img: ImagePixels, bytes: Uint8Array) => void {
  const v = valid();
  const end = pngDataEnd(v);
  return (img, bytes) => {
    checkImage(img);
    const prefix = bytes.length < v.length && bytes.every((x, i) => x === v[i]);
    if (prefix && bytes.length < end) throw new Error(`a PNG cut at ${bytes.length} of ${v.length} bytes (image data ends at ${end}) decoded`);
  };
}

function checkImage(img: ImagePixels): void {
  const c = img.channels ?? 0;
  if (!(Number.isSafeInteger(img.width) && Number.isSafeInteger(img.height) && img.width > 0 && img.height > 0)) throw new Error(`decoded ${img.width}x${img.height}`);
  if (img.width * img.height > MAX_MEGAPIXELS * 1e6) throw new Error(`decoded ${img.width}x${img.height}, over the limit`);
  if (img.data.length !== img.width * img.height * c) throw new Error(`decoded ${img.width}x${img.height}x${c} with ${img.data.length} bytes`);
}

function rejects(e: unknown): string | undefined {
  if (!(e instanceof ImageDecodeError)) return `expected an ImageDecodeError, got ${(e as Error)?.name}: ${(e as Error)?.message}`;
  if (e.message.length === 0 || /[\n\r]/.test(e.message)) return `not a one-line message: ${JSON.stringify(e.message)}`;
  return undefined;
}

/** Recomputes every chunk's CRC (the chunk lengths as they now stand), so damage gets past pngjs's CRC check. */
function fixPngCrcs(b: Uint8Array): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 8; o + 12 <= b.length; ) {
    const length = view.getUint32(o);
    if (o + 12 + length > b.length) break;
    view.setUint32(o + 8 + length, crc32(b.subarray(o + 4, o + 8 + length)));
    o += 12 + length;
  }
  return b;
}

const common = { load: (b: Uint8Array) => decodeImage(b), check: checkImage, rejects, hotBytes: 700 } as const;
const png = (dir: string, name: string) => ({ ...common, valid: file(dir, name), check: pngPrefixCheck(file(dir, name)), prefixesFail: false });

fuzzLoader({ ...common, name: 'JPEG baseline 4:2:0 (test/data/images/baseline-420.jpg)', valid: file('images', 'baseline-420.jpg'), runs: 2000 });
fuzzLoader({ ...common, name: 'JPEG progressive (test/data/images/progressive-420.jpg)', valid: file('images', 'progressive-420.jpg'), runs: 1000 });
fuzzLoader({ ...common, name: 'JPEG YCCK (test/data/images/ycck.jpg)', valid: file('images', 'ycck.jpg'), runs: 500 });
fuzzLoader({ ...png('images', 'rgb.png'), name: 'PNG RGB (test/data/images/rgb.png)', runs: 2000, counts: [{ offset: 16, littleEndian: false }, { offset: 20, littleEndian: false }, { offset: 33, littleEndian: false }] });
fuzzLoader({ ...png('images', 'rgb.png'), name: 'PNG RGB, CRCs recomputed after the damage', runs: 2000, repair: fixPngCrcs });
fuzzLoader({ ...png('images', 'palette.png'), name: 'PNG palette, CRCs recomputed', runs: 1000, repair: fixPngCrcs });
fuzzLoader({ ...png('robustness', 'interlaced.png'), name: 'PNG interlaced (test/data/robustness/interlaced.png)', runs: 1000, repair: fixPngCrcs });
fuzzLoader({ ...common, name: 'WebP lossy (test/data/images/lossy.webp)', valid: file('images', 'lossy.webp'), runs: 500, prefixesFail: false });
fuzzLoader({ ...common, name: 'GIF (test/data/images/two-frames.gif)', valid: file('images', 'two-frames.gif'), runs: 500, prefixesFail: false });
