// dist/bundle/squeezenet-wasm.min.js: the whole library as one minified ES module (for browsers
// and CDNs), which finds its kernels and the default model beside it as the per-file build does.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../cli/src/images.js';
import { assertBuilt } from './built.js';
import { IMAGES, ROOT, shared } from './shared.js';

const BUNDLE = join(ROOT, 'dist', 'bundle', 'squeezenet-wasm.min.js');

describe('the single-file bundle', () => {
  it('imports nothing and is minified', async () => {
    assertBuilt(BUNDLE);
    const { metafile } = await build({
      entryPoints: [BUNDLE],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'neutral',
      external: ['*'],
      logLevel: 'silent',
    });
    const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imports).toEqual([]);
    const bundled = statSync(BUNDLE).size;
    const perFile = readdirSync(join(ROOT, 'dist', 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js') && !f.startsWith('node'))
      .reduce((sum, f) => sum + statSync(join(ROOT, 'dist', 'src', f)).size, 0);
    console.log(`bundle: ${bundled.toLocaleString('en-US')} bytes; the per-file build: ${perFile.toLocaleString('en-US')} bytes`);
    expect(bundled).toBeLessThan(0.6 * perFile);
  });

  it('is the size the README says, within 10 % (bytes and gzipped)', () => {
    assertBuilt(BUNDLE);
    const said = /`squeezenet-wasm\/bundle`, (\d+) KB, (\d+) KB gzipped/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(said, 'README: "(`squeezenet-wasm/bundle`, N KB, M KB gzipped)"').not.toBeNull();
    const bytes = readFileSync(BUNDLE);
    const [kb, gzKb] = [bytes.length / 1000, gzipSync(bytes, { level: 9 }).length / 1000];
    const within = (x: number, y: number): boolean => Math.abs(x - y) <= 0.1 * y;
    expect(within(Number(said![1]), kb), `README says ${said![1]} KB, the bundle is ${kb.toFixed(0)} KB`).toBe(true);
    expect(within(Number(said![2]), gzKb), `README says ${said![2]} KB gzipped, the bundle is ${gzKb.toFixed(0)} KB gzipped`).toBe(true);
  });

  it('classifies a photo with loadDefault(), the kernels and the model found beside it', async () => {
    assertBuilt(BUNDLE);
    const lib = (await import(/* @vite-ignore */ pathToFileURL(BUNDLE).href)) as typeof import('../src/index.js');
    const model = await lib.loadDefault();
    try {
      const image = await decodeImage(shared(join(IMAGES, '340_n02391049_zebra.JPEG')));
      const [best] = lib.classify(model, image);
      expect(best).toMatchObject({ index: 340, label: 'zebra' });
    } finally {
      model.dispose();
    }
  });
});
