// docs/ROBUSTNESS.md's table is what the cases do now: scripts/robustness-table.mjs --check runs
// every case against the built library and CLI and compares with the committed table.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL, ROOT, shared } from './shared.js';

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

describe('docs/ROBUSTNESS.md', () => {
  it('its table is what scripts/robustness-table.mjs produces from running every case', () => {
    const index = join(ROOT, 'dist', 'src', 'index.js');
    if (!existsSync(index) || statSync(index).mtimeMs < newestSource(join(ROOT, 'src'))) {
      throw new Error(`${index} is missing or older than src/: rebuild with \`npm run build\` (npm test does)`);
    }
    shared(MODEL); // fails, saying where it looked, without the shared data
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'robustness-table.mjs'), '--check'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.error, 'the script did not finish').toBeUndefined();
    if (r.status !== 0) throw new Error(r.stderr || `exit ${r.status}`);
    expect(r.stdout).toMatch(/the table is current \(\d+ cases\)/);
  });

  it('documents the NaN and Infinity policy and the memory figures with their command', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'ROBUSTNESS.md'), 'utf8');
    expect(doc).toMatch(/## NaN and Infinity: rejected, never propagated/);
    expect(doc).toContain('node --expose-gc dist/bench/memory.js --runs 10000 --input 64');
    expect(doc).toContain('node --expose-gc dist/bench/memory.js --runs 10000 ');
  });
});
