// The portable entry (src/index.ts) in a context with no Node at all: no process, require,
// Buffer, node: modules or fetch. Bundled with esbuild for the neutral platform (what a Worker or
// browser bundler sees), its import graph walked, then run in a bare node:vm context where it
// classifies a real photo given only a compiled WebAssembly.Module and the weight bytes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../cli/src/images.js';
import { relaxedSimdSupported } from '../src/wasm.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

const ENTRY = join(ROOT, 'src/index.ts');
const WASM = join(ROOT, 'build/squeezenet.wasm');
// No Node built-in: src/assets.ts reaches node:fs only at run time, through
// process.getBuiltinModule (or an import of a variable that bundlers skip).
const ALLOWED_NODE_IMPORTS: unknown[] = [];

// Web platform globals that every target has (browsers, Workers, Deno) and V8 alone does not;
// nothing else is given to the context.
const WEB_GLOBALS = { URL, TextEncoder, TextDecoder };

async function bundle(format: 'esm' | 'iife'): Promise<{ code: string; metafile: Metafile }> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format,
    globalName: format === 'iife' ? 'squeezenet' : undefined,
    platform: 'neutral',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // A script has no import.meta: give wasm.ts a web URL, as a page would, so that the
    // "nothing given" path takes the fetch branch (and fails: this context has no fetch).
    define: format === 'iife' ? { 'import.meta.url': '"https://example.invalid/dist/src/wasm.js"' } : {},
  });
  return { code: result.outputFiles![0]!.text, metafile: result.metafile! };
}

describe('portable entry: src/index.ts without Node', () => {
  let esm: { code: string; metafile: Metafile };
  beforeAll(async () => {
    esm = await bundle('esm');
  });

  it('bundles for the neutral platform from src/ only, naming no Node built-in', () => {
    const inputs = Object.keys(esm.metafile.inputs);
    const outside = inputs.filter((f) => !f.startsWith('src/') || f.startsWith('src/node/'));
    expect(outside, 'files outside the portable library in the import graph').toEqual([]);
    const nodeImports = Object.entries(esm.metafile.inputs).flatMap(([from, input]) =>
      input.imports
        // A relative import esbuild drops (a TS import used only as a type) shows as external too.
        .filter((i) => i.path.startsWith('node:') || (i.external === true && !i.path.startsWith('.')))
        .map((i) => ({ from, path: i.path, kind: i.kind })),
    );
    console.log(`import graph: ${inputs.length} files; external imports: ${JSON.stringify(nodeImports)}`);
    expect(nodeImports).toEqual(ALLOWED_NODE_IMPORTS);
  });

  it('has no eval, new Function or Function(...) in the bundle', () => {
    const hits = esm.code.split('\n').filter((line) => /\beval\s*\(|\bnew\s+Function\b|\bFunction\s*\(/.test(line));
    expect(hits).toEqual([]);
  });

  it('classifies a photo in a bare vm context, given a compiled module and the weight bytes', async () => {
    const iife = await bundle('iife');
    const context = vm.createContext({ ...WEB_GLOBALS });
    vm.runInContext(`${iife.code};globalThis.squeezenet = squeezenet;`, context, { filename: 'squeezenet.iife.js' });
    expect(vm.runInContext('[typeof process, typeof require, typeof Buffer, typeof fetch]', context)).toEqual([
      'undefined',
      'undefined',
      'undefined',
      'undefined',
    ]);

    // Typed arrays and the Module must belong to the context's realm (instanceof checks), so the
    // host copies raw bytes into arrays made there.
    const bytesIn = (b: Uint8Array): Uint8Array => {
      const a = vm.runInContext(`new Uint8Array(${b.length})`, context) as Uint8Array;
      a.set(b);
      return a;
    };
    const image = await decodeImage(shared(`${IMAGES}/000_n01440764_tench.JPEG`));
    context.wasmBytes = bytesIn(readFileSync(WASM));
    context.weightBytes = bytesIn(readFileSync(shared(MODEL)));
    context.pixels = bytesIn(image.data as Uint8Array);
    context.size = [image.width, image.height];
    const top = (await vm.runInContext(
      `(async () => {
        const { loadDeepCompression, classify } = squeezenet;
        const wasm = new WebAssembly.Module(wasmBytes);
        const model = await loadDeepCompression(weightBytes, { wasm });
        return classify(model, { width: size[0], height: size[1], data: pixels, channels: 3 });
      })()`,
      context,
    )) as { label: string; prob: number }[];
    console.log(`vm context top-5: ${top.map((p) => `${p.label} ${p.prob.toFixed(4)}`).join(', ')}`);
    expect(top[0]!.label).toBe('tench');
    expect(top[0]!.prob).toBeGreaterThan(0.98);
  });

  it('says what is missing, as a WasmError, when given no module there', async () => {
    const iife = await bundle('iife');
    const context = vm.createContext({ ...WEB_GLOBALS });
    vm.runInContext(`${iife.code};globalThis.squeezenet = squeezenet;`, context);
    const error = (await vm.runInContext(
      `squeezenet.instantiate().then(() => null, (e) => ({ name: e.name, message: e.message }))`,
      context,
    )) as { name: string; message: string } | null;
    expect(error?.name).toBe('WasmError');
    // the build this runtime picks: relaxed SIMD where it validates (Node >= 22), else plain
    const file = relaxedSimdSupported() ? 'squeezenet\\.relaxed\\.wasm' : 'squeezenet\\.wasm';
    expect(error?.message).toMatch(
      new RegExp(`could not read the kernels \\(${file}\\) from https://example\\.invalid/dist/build/${file}: .*pass the compiled module or its bytes as \`wasm\``, 's'),
    );
  });
});

describe('package contents', () => {
  it('npm pack ships the kernels, the default model with its licence, and the compiled library', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const builds = ['squeezenet', 'squeezenet.debug', 'squeezenet.relaxed', 'squeezenet.threads', 'squeezenet.threads.relaxed'].map((b) => `dist/build/${b}.wasm`);
    for (const f of [...builds, 'dist/src/thread-worker.js', 'dist/bundle/thread-worker.js', 'dist/models/squeezenet1_0-deep-compression.sqz', 'dist/models/LICENSE', 'LICENSE']) {
      expect(files).toContain(f);
    }
    expect(files).toContain('dist/src/index.js');
    expect(files.filter((f) => /^(test|examples|scripts|fixtures|out)\//.test(f))).toEqual([]);
  });
});
