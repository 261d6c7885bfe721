// The README's Node snippet (examples/node/classify.mjs), run as pasted in a child process: it
// imports 'squeezenet-wasm' by name (the package's self-reference resolves it to dist/) and lets
// the library read the kernels from the package on disk.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

it.each([
  ['000_n01440764_tench.JPEG', 'tench'],
  ['340_n02391049_zebra.JPEG', 'zebra'],
])('examples/node/classify.mjs %s -> %s', (image, label) => {
  const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/classify.mjs'), shared(MODEL), shared(`${IMAGES}/${image}`)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  console.log(out.trimEnd());
  const lines = out.trimEnd().split('\n');
  expect(lines).toHaveLength(5);
  expect(lines[0]).toMatch(new RegExp(`^\\d+\\.\\d%  ${label}$`));
});
