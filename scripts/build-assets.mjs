#!/usr/bin/env node
// The last step of `npm run build:ts`:
// - copies the files the library reads at run time beside its compiled code, so that
//   `new URL('../build/squeezenet.wasm', import.meta.url)` and `new URL('../models/...', ...)`
//   resolve the same from src/ (a checkout, TS runners), dist/src/ and dist/bundle/ (the package);
// - writes dist/bundle/squeezenet-wasm.min.js, the whole library as one minified ES module for
//   browsers and CDNs (`squeezenet-wasm/bundle`): one request instead of 40 modules, and beside it
//   thread-worker.js, the script of its worker threads;
// - makes the CLI's entry executable.
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const copies = [
  ['build', 'dist/build', (f) => f.endsWith('.wasm')],
  ['models', 'dist/models', () => true],
];
for (const [from, to, keep] of copies) {
  mkdirSync(join(ROOT, to), { recursive: true });
  for (const f of readdirSync(join(ROOT, from)).filter(keep)) copyFileSync(join(ROOT, from, f), join(ROOT, to, f));
}

// The library, and the script of its worker threads beside it (found as new URL('./thread-worker.js', import.meta.url)).
for (const [entry, out] of [['src/index.ts', 'squeezenet-wasm.min.js'], ['src/thread-worker.ts', 'thread-worker.js']]) await build({
  entryPoints: [join(ROOT, entry)],
  outfile: join(ROOT, 'dist/bundle', out),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  legalComments: 'eof',
  banner: { js: '/* squeezenet-wasm (MIT); the default model it loads: BSD, Song Han et al. (dist/models/LICENSE) */' },
  logLevel: 'warning',
});

const cli = join(ROOT, 'cli/dist/main.js');
chmodSync(cli, 0o755);
