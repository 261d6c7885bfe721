// The README's Node snippets (examples/node/classify.mjs, api.mjs), run as pasted in a child
// process: they import the packages by name (the workspace links resolve them to dist/) and let the
// library read the kernels and the default model from the package on disk.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IMAGES, ROOT, shared } from './shared.js';

it.each([
  ['000_n01440764_tench.JPEG', 'tench'],
  ['340_n02391049_zebra.JPEG', 'zebra'],
])('examples/node/classify.mjs %s -> %s', (image, label) => {
  const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/classify.mjs'), shared(`${IMAGES}/${image}`)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  console.log(out.trimEnd());
  const lines = out.trimEnd().split('\n');
  expect(lines).toHaveLength(5);
  expect(lines[0]).toMatch(new RegExp(`^\\d+\\.\\d%  ${label}$`));
});

it('examples/node/api.mjs: loadDefault, classify, preprocess, run, trace on pixels from anywhere', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/api.mjs')], { cwd: ROOT, encoding: 'utf8' });
  console.log(out.trimEnd());
  expect(out).toMatch(/index: \d+,\s+synset: 'n\d{8}'/);
  expect(out.trimEnd().split('\n').at(-1)).toMatch(/; 38 layers traced, conv1 1x96x111x111$/);
});
