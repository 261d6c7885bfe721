// Every block of code in the README that a user may paste is a checked twin of a file that a test
// runs (examples/...), and every `squeezenet` command it shows is one the command line accepts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from './built.js';
import { ARCHS, decodeWeights, plan } from '../src/index.js';
import { ROOT, shared } from './shared.js';

interface Block {
  lang: string;
  code: string;
  line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, code: `${body.join('\n')}\n`, line: start + 1 });
  }
  return out;
}

// The file each pasteable block is, told by its first line; the test that runs the file.
const TWINS: [first: RegExp, file: string, runBy: string][] = [
  [/^\/\/ node classify\.mjs photo\.jpg$/, 'examples/node/classify.mjs', 'test/runtime.node.test.ts'],
  [/^\/\/ node api\.mjs:/, 'examples/node/api.mjs', 'test/runtime.node.test.ts'],
  [/^\/\/ node classify-png\.mjs photo\.png:/, 'examples/node/classify-png.mjs', 'scripts/test-consumer.mjs (Node, Bun and Deno)'],
  [/^\/\/ node lower-level\.mjs:/, 'examples/node/lower-level.mjs', 'this file'],
  [/^\/\/ node weights\.mjs model\.onnx:/, 'examples/node/weights.mjs', 'this file'],
  [/^\/\/ node ops\.mjs:/, 'examples/node/ops.mjs', 'this file'],
  [/^\/\/ node engine-weights\.mjs DIR:/, 'examples/node/engine-weights.mjs', 'this file'],
  [/^<!doctype html>$/, 'examples/web/minimal.html', 'scripts/test-browser.mjs'],
  [/^\/\/ src\/worker\.js: POST a JPEG/, 'examples/worker/minimal.js', 'scripts/test-worker.mjs'],
  [/^name = "squeezenet"$/, 'examples/worker/wrangler.toml', 'this file (the configuration scripts/test-worker.mjs serves in workerd)'],
];

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CODE = blocks(README).filter((b) => ['js', 'ts', 'mjs', 'html', 'toml'].includes(b.lang));

describe('README code blocks', () => {
  it('every js, ts, html and toml block is a twin of a file a test runs, word for word', () => {
    expect(CODE.length).toBeGreaterThanOrEqual(TWINS.length);
    const seen = new Set<string>();
    for (const block of CODE) {
      const first = block.code.split('\n')[0]!;
      const twin = TWINS.find(([re]) => re.test(first));
      expect(twin, `README line ${block.line}: a ${block.lang} block with no twin file (first line: ${first})`).toBeDefined();
      const [, file] = twin!;
      expect(block.code, `README line ${block.line} differs from ${file}`).toBe(readFileSync(join(ROOT, file), 'utf8'));
      seen.add(file);
    }
    expect([...seen].sort()).toEqual(TWINS.map(([, f]) => f).sort());
  });

  it('examples/node/lower-level.mjs runs: SqueezeNet.load with the default model\'s weights', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/lower-level.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim()).toMatch(/^([\w' -]+ \d+\.\d%, ){4}[\w' -]+ \d+\.\d%$/);
  });

  it('examples/node/weights.mjs runs on the default model and on the model zoo\'s Caffe-form ONNX (../shared/cases)', () => {
    const run = (file: string): string => execFileSync(process.execPath, [join(ROOT, 'examples/node/weights.mjs'), file], { cwd: ROOT, encoding: 'utf8' });
    expect(run(join(ROOT, 'models/squeezenet1_0-deep-compression.sqz'))).toMatch(/^sqz v1\.0-caffe: recipe caffe \(architecture: /);
    const dir = mkdtempSync(join(tmpdir(), 'readme-'));
    try {
      const onnx = join(dir, 'zoo.onnx');
      writeFileSync(onnx, gunzipSync(readFileSync(shared('cases/caffe-v1.0-zoo-style-zeroweights.onnx.gz'))));
      expect(run(onnx)).toMatch(/^onnx v1\.0-caffe: recipe caffe \(architecture: .*the input is named data_0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('examples/node/ops.mjs runs: each op\'s output shape', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/ops.mjs')], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['y: 3x64x5x5', 'p: 3x17x5x6', 'a: 3x17x5x6', 'g: 3x17x1x1', 'c: 3x34x5x6']);
  });

  it("examples/node/engine-weights.mjs writes each convolution's weights and bias as the model holds them, with its geometry", () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-weights-'));
    try {
      const out = execFileSync(process.execPath, [join(ROOT, 'examples/node/engine-weights.mjs'), dir], { cwd: ROOT, encoding: 'utf8' });
      expect(out).toMatch(/^26 convolutions in .*: conv1 k7\/s2\/p0, fire2\.squeeze k1\/s1\/p0, fire2\.expand1x1 k1\/s1\/p0, fire2\.expand3x3 k3\/s1\/p1, /);
      const layers = JSON.parse(readFileSync(join(dir, 'layers.json'), 'utf8')) as { name: string; torchvision: string; kernel: number; input: number[]; output: number[] }[];
      const { weights } = decodeWeights(readFileSync(join(ROOT, 'models/squeezenet1_0-deep-compression.sqz')));
      const map = weights as Map<string, { data: Float32Array; shape: number[] }>;
      expect(layers.map((l) => l.name)).toEqual(plan(ARCHS['v1.0-caffe']).convs.map((c) => c.name));
      for (const l of layers) {
        for (const part of ['weight', 'bias']) {
          const bytes = readFileSync(join(dir, `${l.name}.${part}.f32`));
          const got = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
          expect(Array.from(got), `${l.name}.${part}`).toEqual(Array.from(map.get(`${l.torchvision}.${part}`)!.data));
        }
        expect(map.get(`${l.torchvision}.weight`)!.shape).toEqual([l.output[0], l.input[0], l.kernel, l.kernel]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the wrangler rule bundles the model the Worker imports as data', () => {
    const toml = readFileSync(join(ROOT, 'examples/worker/wrangler.toml'), 'utf8');
    const worker = readFileSync(join(ROOT, 'examples/worker/minimal.js'), 'utf8');
    const data = /import model from '\.\/([\w.-]+)'/.exec(worker)?.[1];
    expect(data).toBe('squeezenet1_0-deep-compression.sqz');
    // fallthrough: wrangler's default rules (*.bin, ...) still apply after this one, and it says nothing.
    expect(toml).toMatch(/\{ type = "Data", globs = \["\*\*\/\*\.sqz"\], fallthrough = true \}/);
    expect(toml).toMatch(/^main = "src\/worker\.js"$/m);
  });

  it('every `squeezenet` command shown is accepted by the command line (its options exist)', () => {
    const commands = blocks(README)
      .filter((b) => b.lang === 'console' || b.lang === '' || b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .map((l) => /^\$ (?:npx )?squeezenet (.*)$/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined);
    expect(commands.length).toBeGreaterThan(3);
    expectAccepted(commands);
  });
});

/** Runs each command line with --help after its own words: node:util rejects an unknown option before help runs. */
function expectAccepted(commands: string[]): void {
  const cli = join(ROOT, 'cli', 'dist', 'main.js');
  assertBuilt(cli);
  for (const c of commands) {
    const args = c.split(/\s+/).filter((a) => a !== '' && !a.startsWith('|') && !a.startsWith('>'));
    const r = spawnSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' });
    expect(r.status, `squeezenet ${c}: ${r.stderr.split('\n')[0]}`).toBe(0);
  }
}

// The command line package's own README (its npm page): short, and checked the same way.
describe('cli/README.md', () => {
  const CLI_README = readFileSync(join(ROOT, 'cli', 'README.md'), 'utf8');

  it('is in the package (package.json files) and its Node example is examples/node/classify.mjs, word for word', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'cli', 'package.json'), 'utf8')).files).toContain('README.md');
    const js = blocks(CLI_README).filter((b) => b.lang === 'js');
    expect(js.length).toBe(1);
    expect(js[0]!.code).toBe(readFileSync(join(ROOT, 'examples/node/classify.mjs'), 'utf8'));
  });

  it('every `squeezenet` command it shows is accepted by the command line', () => {
    const commands = blocks(CLI_README)
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .map((l) => /^(?:npx -p squeezenet-wasm-cli )?squeezenet\b(.*?)(?:\s+#.*)?$/.exec(l.replace(/^npm install .*$/, ''))?.[1])
      .filter((c): c is string => c !== undefined);
    expect(commands.length).toBeGreaterThanOrEqual(2);
    expectAccepted(commands);
  });
});
