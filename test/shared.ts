// Where the tests find ../shared (the Deep Compression model, the sample photos, the class list).
// A test that needs it fails, saying where it looked, when it is missing: it never skips.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** $SQUEEZENET_SHARED, else ../shared beside the repository. */
export const SHARED_DIR = process.env.SQUEEZENET_SHARED ? resolve(process.env.SQUEEZENET_SHARED) : join(ROOT, '..', 'shared');

export const MODEL = 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net';
export const IMAGES = 'data/imagenet-sample';
export const CLASSES = 'data/imagenet-classes.tsv';

/** The absolute path of a file or folder in the shared directory; throws a clear error when it is missing. */
export function shared(rel: string): string {
  const path = join(SHARED_DIR, rel);
  if (!existsSync(path)) {
    throw new Error(
      `this test needs ${rel} from the shared data, not found at ${path}; ` +
        `put the shared folder beside the repository (../shared) or set SQUEEZENET_SHARED=/path/to/shared`,
    );
  }
  return path;
}
