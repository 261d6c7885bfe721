#!/usr/bin/env node
// `npm run test:bundlers`: the packed library in fresh projects, bundled as a user would, each
// build served on 127.0.0.1 and opened in Chromium, where the page calls loadDefault() and
// classify() with no `wasm` option on the committed test image; its top-1 must be PyTorch's
// (fixtures/test-data-top5.json).
//
// Vite (`vite build`, the `vite` dev server, `vite preview`) and webpack 5 (`webpack --mode production`) run
// at their defaults: no config file. esbuild, Rollup and Bun do not rewrite
// `new URL('../build/squeezenet.wasm', import.meta.url)`; their lines copy the package's build/
// and models/ folders beside the bundle's folder. Each line below is the README's ("Bundlers"),
// checked word for word, run through bash with `npx ` dropped: the tools are this repository's
// devDependencies (on PATH), so their versions are the lockfile's; Bun comes from the npm registry
// (@oven/bun-linux-x64, pinned) and is skipped, saying so, where it cannot be installed.
// The projects live under the system's temporary folder; KEEP_TMP=1 keeps them.

import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import {
  checker, deadline, freePort, freshDir, npmInstall, pack, PROB_TOLERANCE, pytorchTop1, removeDir, requireBuild, ROOT, run,
  serveDir, summary, TEST_IMAGE, userEnv,
} from './packaging-common.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const BUN_PACKAGE = '@oven/bun-linux-x64@1.4.5';
const STEP_MS = 60_000;
const DEADLINE_MS = 300_000;

// The page every tool bundles: the README's API in a few lines, the image fetched beside the page.
const APP = `import { loadDefault, classify } from 'squeezenet-wasm';

const out = document.getElementById('out');
try {
  const model = await loadDefault();
  const blob = await (await fetch('./picture.png')).blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none' });
  const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
  context.drawImage(bitmap, 0, 0);
  const top = classify(model, context.getImageData(0, 0, bitmap.width, bitmap.height));
  out.textContent = JSON.stringify(top);
  Object.assign(out.dataset, { threads: String(model.threads), reason: model.threadsReason, isolated: String(self.crossOriginIsolated), cores: String(navigator.hardwareConcurrency) });
  out.dataset.state = 'done';
} catch (e) {
  out.textContent = \`\${e?.name}: \${e?.message}\`;
  out.dataset.state = 'error';
}
`;
const page = (script) => `<!doctype html>\n<meta charset="utf-8">\n<title>squeezenet-wasm</title>\n<pre id="out"></pre>\n${script}\n`;
const MODULE_PAGE = page('<script type="module" src="./js/index.js"></script>');
const COPY = 'cp -r node_modules/squeezenet-wasm/dist/build node_modules/squeezenet-wasm/dist/models dist/ && cp node_modules/squeezenet-wasm/dist/bundle/thread-worker.js dist/js/';
// What makes a page cross-origin isolated, so that the library may start its threads.
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * One project per tool. `line` is the README's command; `files` what the user writes beforehand;
 * after the build, `site` (in the project) is served with index.html and picture.png in it.
 */
const TOOLS = [
  {
    name: 'Vite',
    line: 'npx vite build',
    files: { 'index.html': page('<script type="module" src="/src/index.js"></script>') },
    image: 'public/picture.png',
    site: 'dist',
  },
  {
    name: 'webpack',
    line: 'npx webpack --mode production',
    after: { 'dist/index.html': page('<script src="main.js"></script>') },
    image: 'dist/picture.png',
    site: 'dist',
  },
  {
    name: 'esbuild',
    line: `npx esbuild src/index.js --bundle --format=esm --outdir=dist/js && ${COPY}`,
    after: { 'dist/index.html': MODULE_PAGE },
    image: 'dist/picture.png',
    site: 'dist',
  },
  {
    name: 'Rollup',
    line: `npx rollup src/index.js --plugin node-resolve --format es --dir dist/js && ${COPY}`,
    after: { 'dist/index.html': MODULE_PAGE },
    image: 'dist/picture.png',
    site: 'dist',
  },
  {
    name: 'Bun',
    line: `bun build src/index.js --outdir dist/js && ${COPY}`,
    after: { 'dist/index.html': MODULE_PAGE },
    image: 'dist/picture.png',
    site: 'dist',
    needs: 'bun',
  },
];

let browser;
const closers = [];
async function closeAll() {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  await browser?.close().catch(() => {});
}

function write(dir, files) {
  for (const [rel, text] of Object.entries(files ?? {})) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** Opens `url` in a fresh context, waits for the page's answer, and returns it with what went wrong on the way. */
async function classifyIn(url) {
  const context = await browser.newContext();
  const problems = [];
  const fetched = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.hostname === '127.0.0.1') return route.continue();
    problems.push(`blocked a request to ${u.href}`);
    return route.abort();
  });
  const tab = await context.newPage();
  tab.setDefaultTimeout(STEP_MS);
  tab.on('console', (m) => m.type() === 'error' && !/favicon/.test(m.location().url) && problems.push(`console: ${m.text()}`));
  tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  tab.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (/\.(wasm|sqz)$/.test(path)) fetched.push(`${path} ${r.status()} ${r.headers()['content-type'] ?? ''}`.trim());
    if (r.status() >= 400 && path !== '/favicon.ico') problems.push(`HTTP ${r.status()} for ${path}`);
  });
  const t0 = performance.now();
  try {
    await tab.goto(url);
    await tab.waitForFunction(() => ['done', 'error'].includes(document.getElementById('out')?.dataset.state ?? ''));
    const state = await tab.locator('#out').getAttribute('data-state');
    const text = await tab.locator('#out').innerText();
    const data = await tab.locator('#out').evaluate((e) => ({ ...e.dataset }));
    return { state, text, problems, fetched, ms: performance.now() - t0, threads: Number(data.threads), reason: data.reason, isolated: data.isolated === 'true', cores: Number(data.cores) };
  } finally {
    await context.close();
  }
}

function judge(check, what, result, expected) {
  if (result.state !== 'done') {
    check(false, `${what}: the page says "${result.text}"${result.problems.length ? `; ${result.problems.join('; ')}` : ''}`);
    return;
  }
  const [top] = JSON.parse(result.text);
  const ok = top?.index === expected.index && Math.abs(top.prob - expected.prob) <= PROB_TOLERANCE;
  check(
    ok,
    `${what}: top-1 ${top?.index} ${top?.label} (${(100 * top?.prob).toFixed(2)} %) | PyTorch ${expected.index} ${expected.label} ` +
      `(${(100 * expected.prob).toFixed(2)} %) | ${result.ms.toFixed(0)} ms | fetched ${result.fetched.join(', ') || 'nothing'}`,
  );
  check(result.problems.length === 0, `${what}: no console errors, page errors, failed or outside requests${result.problems.length ? `: ${result.problems.join('; ')}` : ''}`);
}

/** Served isolated, the page's model runs on every core the browser reports (the threads' script was found). */
function judgeThreads(check, what, result) {
  if (result.state !== 'done') return;
  check(result.isolated && result.threads === result.cores, `${what}: cross-origin isolated ${result.isolated}, ${result.threads} threads of ${result.cores} cores (${result.reason})`);
}

/** Starts `vite` (the dev server) or `vite preview` on a free port of 127.0.0.1 and resolves to its URL. */
async function viteServer(cwd, env, command) {
  const args = [...command, '--host', '127.0.0.1', '--port', String(await freePort()), '--strictPort'];
  console.log(`$ npx vite ${args.join(' ')}`);
  const child = spawn('vite', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  closers.push(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
  return new Promise((resolveUrl, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`vite dev server gave no URL in ${STEP_MS / 1000} s:\n${log}`)), STEP_MS);
    const take = (d) => {
      log += d;
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
      if (url) {
        clearTimeout(timer);
        console.log(`  serving at ${url}`);
        resolveUrl(url);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => reject(new Error(`vite exited (${code}) before serving:\n${log}`)));
  });
}

async function installBun(dir) {
  if (platform() !== 'linux' || arch() !== 'x64') return { skipped: `no ${BUN_PACKAGE.split('@')[1]} build for ${platform()}-${arch()} pinned here` };
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', BUN_PACKAGE], { cwd: dir, timeout: 180_000 });
  const bin = join(dir, 'node_modules/@oven/bun-linux-x64/bin');
  if (r.code !== 0 || !existsSync(join(bin, 'bun'))) return { skipped: `npm could not install ${BUN_PACKAGE} (exit ${r.code})` };
  return { bin };
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM=/path/to/chrome`);
  requireBuild('dist/src/index.js', 'dist/build/squeezenet.wasm', 'dist/models/squeezenet1_0-deep-compression.sqz');
  const { check, counts } = checker();
  const expected = pytorchTop1();
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const tmp = freshDir('squeezenet-bundlers-');
  closers.push(async () => removeDir(tmp));
  console.log(`projects in ${tmp}; image ${TEST_IMAGE}: PyTorch top-1 ${expected.index} ${expected.label} (${(100 * expected.prob).toFixed(2)} %)\n`);

  const tarball = await pack(ROOT, tmp);
  const bunDir = join(tmp, 'bun-tool');
  mkdirSync(bunDir);
  const bun = await installBun(bunDir);
  // The repository's devDependencies first on PATH: `npx vite` in the README is `vite` here.
  const PATH = [join(ROOT, 'node_modules/.bin'), bun.bin, process.env.PATH].filter(Boolean).join(delimiter);
  const env = userEnv({ PATH });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: STEP_MS });
  console.log(`${CHROMIUM} (Chromium ${browser.version()})\n`);

  for (const tool of TOOLS) {
    console.log(`--- ${tool.name}`);
    check(readme.includes(tool.line), `${tool.name}: the README's "Bundlers" section has \`${tool.line}\``);
    if (tool.needs === 'bun' && bun.skipped) {
      console.log(`skip  ${tool.name}: ${bun.skipped}\n`);
      continue;
    }
    const dir = join(tmp, tool.name.toLowerCase());
    mkdirSync(dir);
    await npmInstall(dir, { dependencies: { 'squeezenet-wasm': `file:${tarball.path}` } });
    write(dir, { 'src/index.js': APP, ...tool.files });
    if (!tool.after) cpSync(join(ROOT, TEST_IMAGE), join(dir, tool.image));
    const r = await run('bash', ['-c', tool.line.replace(/^npx /, '')], { cwd: dir, env, show: tool.line, timeout: 180_000 });
    if (!check(r.code === 0, `${tool.name}: exits 0`)) continue;
    // Any warning fails, except webpack's performance hints about the size of the model file
    // (532 KiB; its limit is 244 KiB) and its count of them.
    const hints = /WARNING in (asset size limit|entrypoint size limit|webpack performance recommendations)|compiled with \d+ warnings?/;
    const warnings = `${r.stdout}\n${r.stderr}`
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((l) => /\b(warn|warning|error)\b|WARNING in|ERROR in|\(!\)|node:fs|Can't resolve|Critical dependency/i.test(l) && !hints.test(l));
    check(warnings.length === 0, `${tool.name}: no warnings${warnings.length ? `: ${warnings.join(' | ')}` : ''}`);
    write(dir, tool.after);
    if (tool.after) cpSync(join(ROOT, TEST_IMAGE), join(dir, tool.image));
    const site = join(dir, tool.site);
    const server = await serveDir(site, undefined, ISOLATED);
    closers.push(server.close);
    const result = await classifyIn(server.url);
    judge(check, `${tool.name} build in Chromium`, result, expected);
    judgeThreads(check, `${tool.name} build in Chromium`, result);
    console.log('');
  }

  // The dev server: pre-bundled dependencies, files served from node_modules, index.html for
  // anything it does not know. The library must find its files there too, or say which URL
  // failed. Then `vite preview`, which serves the build with the same index.html fallback.
  const viteDir = join(tmp, 'vite');
  for (const [what, command] of [['vite (dev server)', []], ['vite preview', ['preview']]]) {
    console.log(`--- ${what}`);
    if (!existsSync(join(viteDir, 'dist/index.html'))) {
      check(false, `${what}: the Vite project was not built`);
      continue;
    }
    const url = await viteServer(viteDir, env, command);
    judge(check, `${what} in Chromium`, await classifyIn(url), expected);
  }

  console.log(`\n${tarball.filename}: ${tarball.size.toLocaleString('en-US')} bytes`);
  summary('test:bundlers', counts);
}

const cancel = deadline(DEADLINE_MS, 'test:bundlers', closeAll);
try {
  await main();
} catch (e) {
  console.error(`test:bundlers: FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await closeAll();
  cancel();
}
