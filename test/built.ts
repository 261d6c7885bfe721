// The tests that run the built CLI or library (dist/) first check that it is not older than src/,
// so that a stale build fails loudly instead of testing yesterday's code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './shared.js';

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/** Throws, saying how to rebuild, when `file` (under dist/) is missing or older than any src/ file. */
export function assertBuilt(file: string): void {
  if (!existsSync(file) || statSync(file).mtimeMs < newestSource(join(ROOT, 'src'))) {
    throw new Error(`${file} is missing or older than src/: rebuild with \`npm run build\` (npm test does)`);
  }
}
