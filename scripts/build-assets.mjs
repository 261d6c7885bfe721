#!/usr/bin/env node
// Copies the files the library reads at run time beside its compiled code, so that
// `new URL('../build/squeezenet.wasm', import.meta.url)` and `new URL('../models/...', ...)`
// resolve the same from src/ (a checkout, TS runners) and from dist/src/ (the package).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const copies = [
  ['build', 'dist/build', (f) => f.endsWith('.wasm')],
  ['models', 'dist/models', () => true],
];
for (const [from, to, keep] of copies) {
  mkdirSync(join(ROOT, to), { recursive: true });
  for (const f of readdirSync(join(ROOT, from)).filter(keep)) copyFileSync(join(ROOT, from, f), join(ROOT, to, f));
}
