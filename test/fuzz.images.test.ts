// Fuzz: the CLI's image decoder (cli/src/images.ts: jpeg-js, pngjs, and the checks in front of
// them) on damaged JPEG and PNG files, with the weight loaders' harness (test/fuzz-harness.ts):
// every case is a decoded image of consistent size or an ImageDecodeError with a one-line
// message; never another error, a hang, or a truncated file decoded as if whole (jpeg-js alone
// fills a missing part with grey and says nothing).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeImage, ImageDecodeError, MAX_MEGAPIXELS } from '../cli/src/images.js';
import type { ImagePixels } from '../src/index.js';
import { fuzzLoader } from './fuzz-harness.js';
import { ROOT } from './shared.js';

const file = (dir: string, name: string) => (): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'test', 'data', dir, name)));

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

const common = { load: decodeImage, check: checkImage, rejects, hotBytes: 700 } as const;

fuzzLoader({ ...common, name: 'JPEG baseline 4:2:0 (test/data/images/baseline-420.jpg)', valid: file('images', 'baseline-420.jpg'), runs: 2000 });
fuzzLoader({ ...common, name: 'JPEG progressive (test/data/images/progressive-420.jpg)', valid: file('images', 'progressive-420.jpg'), runs: 1000 });
fuzzLoader({ ...common, name: 'PNG RGB (test/data/images/rgb.png)', valid: file('images', 'rgb.png'), runs: 2000, counts: [{ offset: 16, littleEndian: false }, { offset: 20, littleEndian: false }, { offset: 33, littleEndian: false }] });
fuzzLoader({ ...common, name: 'PNG RGB, CRCs recomputed after the damage', valid: file('images', 'rgb.png'), runs: 2000, repair: fixPngCrcs });
fuzzLoader({ ...common, name: 'PNG palette, CRCs recomputed', valid: file('images', 'palette.png'), runs: 1000, repair: fixPngCrcs });
fuzzLoader({ ...common, name: 'PNG interlaced (test/data/robustness/interlaced.png)', valid: file('robustness', 'interlaced.png'), runs: 1000, repair: fixPngCrcs });
