import sharp from 'sharp';
import { decodeImage } from './cli/dist/images.js';
const noise = Buffer.alloc(8000 * 8000 * 3); for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
const jpeg = await sharp(noise, { raw: { width: 8000, height: 8000, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
const png = await sharp(noise, { raw: { width: 8000, height: 8000, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
for (const [what, b] of [['jpeg', jpeg], ['png', png]]) {
  const t0 = performance.now(); const img = await decodeImage(b); const rss = process.memoryUsage().rss;
  console.log(what, b.length, img.width, img.height, (performance.now() - t0).toFixed(0), 'ms rss', (rss / 2 ** 20).toFixed(0), 'MiB');
}
