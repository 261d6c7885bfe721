// The examples (examples/worker/worker.ts, examples/web/app.js with // @ts-check) type-check
// against the library's declarations. They run in workerd and Chromium in `npm run test:worker`
// and `npm run test:browser`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './shared.js';

it('examples type-check (tsc -p examples)', () => {
  let output = '';
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'examples'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e);
  }
  expect(output).toBe('');
});
