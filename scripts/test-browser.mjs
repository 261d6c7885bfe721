#!/usr/bin/env node
// `npm run test:browser`: the example page (examples/web/) in Chromium, driven by playwright-core.
// Serves the page on 127.0.0.1, picks shared photos through its file input (and one sample
// button), checks the top-1 shown against PyTorch's (fixtures/real-top5.json); picks the image
// cases of ../shared/cases and checks each answer against the command line's; decodes the eight
// EXIF orientations with the page's decoder (examples/web/decode.js) and checks them upright (and
// stored, with exif: 'ignore'); and saves a screenshot to out/screenshots/web.png. Then the
// threads, on the harness page (bench/browser/, cross-origin isolated): 2, 3 and 4 threads (Web
// Workers on one shared memory) give one thread's logits bit for bit, with the plain and the
// relaxed SIMD build; without isolation, one thread. The browser is Debian's /usr/bin/chromium (or
// $CHROMIUM): nothing is downloaded, and the page may reach 127.0.0.1 only. Browser and server
// are closed whatever happens; the run fails after a deadline rather than hang.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../examples/web/serve.mjs';
import { weightsPath } from '../examples/weights-path.mjs';
import { deadline, pytorchTop1, requireBuild, ROOT, samplePath, shared, summary } from './runtime-common.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];
// The last one picked is the one in the screenshot.
const PICKED = ['290_n02128925_jaguar.JPEG', '970_n09193705_alp.JPEG', '000_n01440764_tench.JPEG'];
const SAMPLE_BUTTON = { text: 'sea lion', image: '150_n02077923_sea_lion.JPEG' };
const MINIMAL_IMAGE = '340_n02391049_zebra.JPEG';
/** The image cases (../shared/cases/README.md): each answer must be the command line's. */
const CASES = ['jpeg-adobe-rgb-transform0.jpg', 'jpeg-exif-orientation-6.jpg', 'png-rgba-hidden-colour-under-alpha0.png', 'png-trailing-bytes-after-iend.png'];
const TEST_IMAGES = join(ROOT, 'test', 'data', 'images');
/** The orientation pictures' four quadrants, upright (scripts/make-test-images.py). */
const QUADRANTS = [[220, 30, 30], [30, 200, 40], [40, 60, 220], [235, 225, 40]];
const SCREENSHOT = join(ROOT, 'out/screenshots/web.png');
const STEP_MS = 60_000;
const DEADLINE_MS = 360_000;
/** Networks and sizes the threads are checked on: full size, and an awkward one where late layers have fewer rows than threads. */
const THREAD_CASES = [['v1.0-caffe', 227, 227], ['v1.1', 41, 37]];

let browser;
let server;
async function closeAll() {
  await browser?.close().catch(() => {});
  await server?.close();
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's (apt-get update && apt-get install -y chromium) or set CHROMIUM=/path/to/chrome`);
  }
  requireBuild('dist/src/index.js');
  requireBuild('build/squeezenet.wasm');
  let passed = 0;
  let failed = 0;
  const check = (ok, line) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${line}`);
    if (ok) passed++;
    else failed++;
  };
  const problems = [];

  server = await serve({ log: (line) => problems.push(`server: ${line}`) });
  // launch() gives the browser a fresh temporary --user-data-dir of its own and removes it on close.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: STEP_MS });
  console.log(`${CHROMIUM} (Chromium ${browser.version()}), page ${server.url}\n`);
  const context = await browser.newContext({ viewport: { width: 1180, height: 900 }, deviceScaleFactor: 1 });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
    problems.push(`blocked a request to ${url.href}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  const t0 = performance.now();
  await page.goto(server.url);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.getElementById('status')?.dataset.state ?? ''));
  const loaded = await page.locator('#status').innerText();
  check(/^Ready: squeezenet1_0-deep-compression\.sqz /.test(loaded), `page loaded the network in ${(performance.now() - t0).toFixed(0)} ms: "${loaded}"`);

  /** Waits until the page shows its answer for `image`, and checks its top-1 against PyTorch's. */
  const expectAnswer = async (image, how) => {
    const t = performance.now();
    await page.waitForFunction(
      (name) => {
        const r = document.getElementById('result');
        return (r?.dataset.image === name && r.dataset.state === 'done') || document.getElementById('status')?.dataset.state === 'error';
      },
      image,
    );
    const state = await page.locator('#status').getAttribute('data-state');
    const expected = pytorchTop1(image);
    if (state === 'error') {
      check(false, `${image} (${how}): the page says "${await page.locator('#status').innerText()}"`);
      return;
    }
    const label = await page.locator('#top1').innerText();
    const index = Number(await page.locator('#top1').getAttribute('data-index'));
    const prob = await page.locator('#top5 li:first-child .prob').innerText();
    const timing = await page.locator('#timing').innerText();
    check(
      index === expected.index && label === expected.label,
      `${image.padEnd(34)} (${how}) page top-1 ${index} ${label} (${prob}) | PyTorch ${expected.index} ${expected.label} ` +
        `(${(100 * expected.prob).toFixed(1)} %) | ${(performance.now() - t).toFixed(0)} ms to answer; the page says: ${timing}`,
    );
  };

  await page.locator('#samples button', { hasText: SAMPLE_BUTTON.text }).click();
  await expectAnswer(SAMPLE_BUTTON.image, 'sample button');
  // A photo picked as weights: a typed error in the status line, not a crash.
  await page.locator('#weights-input').setInputFiles(samplePath(PICKED[0]));
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'error');
  const notWeights = await page.locator('#status').innerText();
  check(/^FormatError: weight file at byte 0: not a /.test(notWeights), `a photo picked as weights: "${notWeights}"`);
  problems.splice(0, problems.length, ...problems.filter((p) => !/console: FormatError: weight file at byte 0: not a /.test(p)));
  // Other weights picked by hand: the released Deep Compression .net, in place of the default model.
  const weights = weightsPath().path;
  await page.locator('#weights-input').setInputFiles(weights);
  await page.waitForFunction(() => /^(Ready: (?!squeezenet1_0-deep-compression\.sqz )|.*Error)/.test(document.getElementById('status')?.innerText ?? ''));
  const reloaded = await page.locator('#status').innerText();
  check(reloaded.startsWith(`Ready: ${basename(weights)} `), `weights picked by hand: "${reloaded}"`);
  for (const image of PICKED) {
    await page.locator('#image-input').setInputFiles(samplePath(image));
    await expectAnswer(image, 'file input');
  }

  // The image cases: the same top-1 as the command line (sharp), and for the PNGs (decoded
  // losslessly, alpha 0 or 255 only) the same probability as shown.
  const { classifyFile } = await import(requireBuild('cli/dist/api.js'));
  const { loadDeepCompression } = await import(requireBuild('dist/src/index.js'));
  const cliModel = await loadDeepCompression(readFileSync(weightsPath().path));
  for (const name of CASES) {
    await page.locator('#image-input').setInputFiles(shared(`cases/${name}`));
    await page.waitForFunction(
      (n) => (document.getElementById('result')?.dataset.image === n && document.getElementById('result')?.dataset.state === 'done') || document.getElementById('status')?.dataset.state === 'error',
      name,
    );
    const [want] = await classifyFile(cliModel, shared(`cases/${name}`), { top: 1 });
    const wantText = `${(100 * want.prob).toFixed(1)} %`;
    if ((await page.locator('#status').getAttribute('data-state')) === 'error') {
      check(false, `${name}: the page says "${await page.locator('#status').innerText()}"`);
      continue;
    }
    const label = await page.locator('#top1').innerText();
    const prob = await page.locator('#top5 li:first-child .prob').innerText();
    const png = name.endsWith('.png');
    check(label === want.label && (!png || prob === wantText), `${name.padEnd(40)} page ${label} ${prob} | command line ${want.label} ${wantText}`);
  }
  cliModel.dispose();
  // The 4,001-scan progressive JPEG: refused from its header, at once, as the command line does.
  const t = performance.now();
  await page.locator('#image-input').setInputFiles(shared('cases/progressive-4000x4000-4000-scans.jpg'));
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'error');
  const refused = await page.locator('#status').innerText();
  check(/JPEG has more than 100 scans/.test(refused), `progressive-4000x4000-4000-scans.jpg: "${refused}" after ${(performance.now() - t).toFixed(0)} ms`);
  problems.splice(0, problems.length, ...problems.filter((p) => !/console: ImageDecodeError: JPEG has more than 100 scans/.test(p)));

  // EXIF orientation: the eight stored ways of one upright picture, through the page's decoder.
  const files = Array.from({ length: 8 }, (_, i) => [`orientation-${i + 1}.jpg`, [...readFileSync(join(TEST_IMAGES, `orientation-${i + 1}.jpg`))]]);
  const decoded = await page.evaluate(async (list) => {
    const { decodeImage } = await import('./decode.js');
    const px = (img, x, y) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
    const out = [];
    for (const [name, bytes] of list) {
      const blob = new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
      const { pixels: up } = await decodeImage(blob);
      const { pixels: stored } = await decodeImage(blob, { exif: 'ignore' });
      // The stored pixels at the centres of their quadrants (a 24x32 image when turned).
      const [sw, sh] = [stored.width, stored.height];
      const points = [[sw >> 2, sh >> 2], [(3 * sw) >> 2, sh >> 2], [sw >> 2, (3 * sh) >> 2], [(3 * sw) >> 2, (3 * sh) >> 2]];
      out.push({ name, size: [up.width, up.height], quadrants: [px(up, 8, 6), px(up, 24, 6), px(up, 8, 18), px(up, 24, 18)], stored: [sw, sh], points, storedAt: points.map(([x, y]) => px(stored, x, y)) });
    }
    return out;
  }, files);
  const meta = JSON.parse(readFileSync(join(TEST_IMAGES, 'images.json'), 'utf8'));
  const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 8);
  const upright = decoded.filter((d) => d.size.join('x') === '32x24' && d.quadrants.every((q, i) => near(q, QUADRANTS[i])));
  // Stored: PIL's own pixels of the file (NAME.rgb, without the turn) at the same points.
  const stored = decoded.filter((d) => {
    const rgb = readFileSync(join(TEST_IMAGES, `${d.name}.rgb`));
    const [w] = meta[d.name].size;
    return d.stored.join('x') === meta[d.name].size.join('x') && d.points.every(([x, y], i) => near(d.storedAt[i], [...rgb.subarray(3 * (y * w + x), 3 * (y * w + x) + 3)]));
  });
  check(
    upright.length === 8 && stored.length === 8,
    `orientation-1..8.jpg through decode.js: ${upright.length}/8 upright (32x24, the four quadrants in place), ${stored.length}/8 stored with exif: 'ignore'` +
      (upright.length < 8 ? `\n      ${decoded.map((d) => `${d.name} ${d.size.join('x')} ${JSON.stringify(d.quadrants)}`).join('\n      ')}` : ''),
  );

  // How the browser's own JPEG decoder compares with PIL's (and the command line's): reported, not
  // required (a browser may pick another IDCT or chroma upsampling than libjpeg-turbo's default).
  const checksums = JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'pil-checksums.json'), 'utf8')).samples;
  const sampleDir = join(samplePath(PICKED[0]), '..');
  const names = readdirSync(sampleDir).filter((f) => /\.jpe?g$/i.test(f)).sort();
  let same = 0;
  for (const name of names) {
    const sha = await page.evaluate(async (bytes) => {
      const { decodeImage } = await import('./decode.js');
      const { pixels } = await decodeImage(new Blob([new Uint8Array(bytes)]), { exif: 'ignore' });
      const rgb = new Uint8Array(pixels.width * pixels.height * 3);
      for (let p = 0; p < pixels.width * pixels.height; p++) rgb.set(pixels.data.subarray(4 * p, 4 * p + 3), 3 * p);
      return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', rgb)), (b) => b.toString(16).padStart(2, '0')).join('');
    }, [...readFileSync(join(sampleDir, name))]);
    if (sha === checksums.find((c) => c.file === name)?.sha256) same++;
  }
  console.log(`(information) Chromium's decoded pixels equal PIL's on ${same} of ${names.length} sample photos`);

  // What the network sees: 96 filters in the conv1 grid, 8 maps for each of the 8 Fire modules.
  const filters = await page.locator('#filters').evaluate((c) => [c.width, c.height]);
  const fires = await page.locator('#fires .fire').count();
  const maps = await page.locator('#fires .fire canvas').count();
  check(filters[0] === 129 && filters[1] === 49 && fires === 8 && maps === 64, `pictures: conv1 grid ${filters.join('x')} px, ${fires} Fire rows, ${maps} maps`);

  // The README's page (examples/web/minimal.html), as pasted.
  const minimal = await context.newPage();
  minimal.setDefaultTimeout(STEP_MS);
  minimal.on('console', (m) => m.type() === 'error' && problems.push(`minimal.html console: ${m.text()}`));
  minimal.on('pageerror', (e) => problems.push(`minimal.html page error: ${e.message}`));
  await minimal.goto(new URL('minimal.html', server.url).href);
  await minimal.waitForFunction(() => document.querySelector('input')?.onchange != null);
  await minimal.locator('input').setInputFiles(samplePath(MINIMAL_IMAGE));
  await minimal.waitForFunction(() => (document.querySelector('pre')?.textContent ?? '') !== '');
  const lines = (await minimal.locator('pre').innerText()).split('\n');
  const expected = pytorchTop1(MINIMAL_IMAGE);
  check(lines[0]?.endsWith(`  ${expected.label}`), `minimal.html, ${MINIMAL_IMAGE}: "${lines[0]}" | PyTorch ${expected.label}`);
  await minimal.close();

  mkdirSync(join(ROOT, 'out/screenshots'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`\nscreenshot: ${SCREENSHOT}`);

  await checkThreads(context, server, check, problems);

  check(problems.length === 0, `no console errors, page errors, failed or outside requests${problems.length ? `:\n      ${problems.join('\n      ')}` : ''}`);
  summary('test:browser', passed, failed);
}

/** The library's threads in the page: bit for bit one thread's logits; one thread without cross-origin isolation. */
async function checkThreads(context, server, check, problems) {
  console.log('');
  const open = async (path) => {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS * 2);
    page.on('console', (m) => m.type() === 'error' && problems.push(`${path} console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`${path} page error: ${e.message}`));
    await page.goto(new URL(path, server.url).href);
    await page.waitForFunction(() => document.body?.dataset.ready === 'true');
    return page;
  };
  const page = await open('/bench/browser/');
  const info = await page.evaluate(() => window.harness.info());
  check(info.crossOriginIsolated === true, `bench/browser/ is cross-origin isolated (COOP/COEP from examples/web/serve.mjs); navigator.hardwareConcurrency ${info.hardwareConcurrency}`);
  check(info.relaxedSimd === true, `Chromium validates relaxed SIMD (f32x4.relaxed_madd): ${info.relaxedSimd}`);
  const d = await page.evaluate(() => window.harness.defaults());
  check(
    d.threads === info.hardwareConcurrency && d.reason.includes('navigator.hardwareConcurrency') && d.simd === (info.relaxedSimd ? 'relaxed' : 'plain'),
    `default: ${d.threads} threads (${d.reason}), ${d.simd} SIMD`,
  );
  for (const simd of info.relaxedSimd ? ['plain', 'relaxed'] : ['plain']) {
    for (const [arch, h, w] of THREAD_CASES) {
      const t = performance.now();
      const rows = await page.evaluate((a) => window.harness.threads(a), { arch, h, w, counts: [2, 3, 4], simd });
      for (const r of rows) {
        check(
          r.runAsync && r.run && r.simd === simd && /was asked for/.test(r.reason),
          `${arch} ${h}x${w}, ${simd} SIMD, ${r.threads} threads: runAsync (Web Workers) ${r.runAsync ? 'bit for bit' : 'DIFFERS from'} one thread; ` +
            `run (the main thread alone) ${r.run ? 'bit for bit' : 'DIFFERS'}`,
        );
      }
      console.log(`      (${(performance.now() - t).toFixed(0)} ms)`);
    }
  }
  await page.close();
  const plain = await open('/no-isolation/bench/browser/');
  const pInfo = await plain.evaluate(() => window.harness.info());
  const p = await plain.evaluate(() => window.harness.defaults());
  check(
    pInfo.crossOriginIsolated === false && p.threads === 1 && /not cross-origin isolated/.test(p.reason),
    `without COOP/COEP: crossOriginIsolated ${pInfo.crossOriginIsolated}, ${p.threads} thread: "${p.reason}"`,
  );
  await plain.close();
}

const cancel = deadline(DEADLINE_MS, 'test:browser', closeAll);
try {
  await main();
} catch (e) {
  console.error(`test:browser: FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await closeAll();
  cancel();
}
