// What the runtime tests (scripts/test-worker.mjs, scripts/test-browser.mjs) share: where the
// shared photos are, PyTorch's answers for them, a free port on 127.0.0.1, and a deadline.

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The URL of a built file (dist/, build/); throws, saying to build, when it is missing. */
export function requireBuild(rel) {
  const path = join(ROOT, rel);
  if (!existsSync(path)) throw new Error(`${rel} is missing: run \`npm run build\` first (npm test does)`);
  return pathToFileURL(path).href;
}

/** $SQUEEZENET_SHARED, else ../shared beside the project. */
export const SHARED_DIR = process.env.SQUEEZENET_SHARED ? resolve(process.env.SQUEEZENET_SHARED) : join(ROOT, '..', 'shared');

/** The absolute path of a shared file; throws, saying where it looked, when it is missing. */
export function shared(rel) {
  const path = join(SHARED_DIR, rel);
  if (!existsSync(path)) {
    throw new Error(
      `${rel} from the shared data is not at ${path}: put the shared folder beside the project (../shared) ` +
        'or set SQUEEZENET_SHARED=/path/to/shared',
    );
  }
  return path;
}

export const samplePath = (image) => shared(`data/imagenet-sample/${image}`);

const CLASS_NAMES = readFileSync(shared('data/imagenet-classes.tsv'), 'utf8')
  .split('\n')
  .filter((l) => /^\d+\t/.test(l))
  .map((l) => l.split('\t')[2]);

/** PyTorch's top-1 on the real weights for a shared photo (fixtures/real-top5.json): { index, label, prob }. */
export function pytorchTop1(image) {
  const results = JSON.parse(readFileSync(join(ROOT, 'fixtures/real-top5.json'), 'utf8')).results;
  const r = results.find((x) => x.image === image);
  if (r === undefined) throw new Error(`fixtures/real-top5.json has no result for ${image}`);
  return { index: r.top5[0], label: CLASS_NAMES[r.top5[0]], prob: r.prob[0] };
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Fails the whole run after `ms`, calling `cleanup` first: a hung runtime never hangs the tests. */
export function deadline(ms, what, cleanup) {
  const timer = setTimeout(async () => {
    console.error(`\n${what}: FAILED, still running after ${ms / 1000} s; stopping it`);
    try {
      await cleanup();
    } finally {
      process.exit(1);
    }
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** The closing line: 'N passed, N failed', which CI reads. */
export function summary(what, passed, failed) {
  console.log(`\n${what}: ${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) process.exitCode = 1;
}
