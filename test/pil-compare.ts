// Decodes a test image with the CLI's decoder and compares it with PIL's RGB bytes beside it
// (`NAME.rgb`, written by the scripts that made the image).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeImage } from '../cli/src/images.js';

/** Largest and mean |ours - PIL| over the RGB channels of `dir/name` (stored pixels), after checking its size. */
export async function diffAgainstPil(dir: string, name: string, size: readonly [number, number]): Promise<{ max: number; mean: number }> {
  const img = await decodeImage(join(dir, name), { exif: 'ignore' });
  const want = readFileSync(join(dir, `${name}.rgb`));
  expect([img.width, img.height]).toEqual(size);
  const c = img.channels;
  let max = 0;
  let sum = 0;
  for (let p = 0; p < img.width * img.height; p++) {
    for (let k = 0; k < 3; k++) {
      const d = Math.abs(img.data[p * c + k]! - want[p * 3 + k]!);
      max = Math.max(max, d);
      sum += d;
    }
  }
  return { max, mean: sum / want.length };
}
