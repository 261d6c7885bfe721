// docs/ROBUSTNESS.md's table is what the cases do now: scripts/robustness-table.mjs --check runs
// every case against the built library and CLI and compares with the committed table.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from './built.js';
import { MODEL, ROOT, shared } from './shared.js';

describe('docs/ROBUSTNESS.md', () => {
  it('its table is what scripts/robustness-table.mjs produces from running every case', () => {
    assertBuilt(join(ROOT, 'dist', 'src', 'index.js'));
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
