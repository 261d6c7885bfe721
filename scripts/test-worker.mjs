#!/usr/bin/env node
// `npm run test:worker`: the example Worker (examples/worker/) in workerd, Cloudflare's runtime,
// on 127.0.0.1. Builds it, posts shared photos (JPEG, and one as PNG) to /classify, checks each
// top-1 against PyTorch's (fixtures/real-top5.json) and reports the time per request. workerd is
// stopped whatever happens, and the whole run fails after a deadline rather than hang.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import workerdPackage from 'workerd';
import { buildWorker } from '../examples/worker/build.mjs';
import { deadline, freePort, pytorchTop1, requireBuild, samplePath, summary } from './runtime-common.mjs';

// Confident and borderline photos, and two where PyTorch's top-1 is not the label (jaguar, alp):
// the engine must agree with PyTorch, not with the label.
const IMAGES = [
  '000_n01440764_tench.JPEG',
  '340_n02391049_zebra.JPEG',
  '510_n03095699_container_ship.JPEG',
  '290_n02128925_jaguar.JPEG',
  '970_n09193705_alp.JPEG',
];
const PNG_OF = '340_n02391049_zebra.JPEG';
const MINIMAL_IMAGES = ['000_n01440764_tench.JPEG', '340_n02391049_zebra.JPEG'];
const READY_MS = 30_000;
// The package's main export is the binary's path (CommonJS `exports.default`).
const workerdBinary = workerdPackage.default;
const DEADLINE_MS = 180_000;

let workerd;
let workerdLog = '';

async function stopWorkerd() {
  if (!workerd || workerd.exitCode !== null || workerd.signalCode !== null) return;
  const exited = new Promise((r) => workerd.once('exit', r));
  workerd.kill('SIGTERM');
  const killer = setTimeout(() => workerd.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(killer);
}

async function waitReady(base) {
  const start = Date.now();
  for (;;) {
    if (workerd.exitCode !== null) throw new Error(`workerd exited (code ${workerd.exitCode}) before serving:\n${workerdLog}`);
    try {
      await fetch(`${base}/`);
      return Date.now() - start;
    } catch {
      if (Date.now() - start > READY_MS) throw new Error(`workerd did not answer on ${base} within ${READY_MS / 1000} s:\n${workerdLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Posts one body; returns the JSON answer, the HTTP status and the round-trip milliseconds. */
async function post(base, body, type) {
  const t0 = performance.now();
  const res = await fetch(`${base}/classify`, { method: 'POST', body, headers: { 'content-type': type } });
  const json = await res.json();
  return { status: res.status, json, ms: performance.now() - t0 };
}

function checkAnswer(json) {
  const problems = [];
  if (!Array.isArray(json.top) || json.top.length !== 5) problems.push(`top is not 5 predictions: ${JSON.stringify(json).slice(0, 200)}`);
  for (const p of json.top ?? []) {
    if (!Number.isInteger(p.index) || typeof p.synset !== 'string' || typeof p.label !== 'string' || !(p.prob >= 0 && p.prob <= 1)) {
      problems.push(`malformed prediction ${JSON.stringify(p)}`);
    }
  }
  if (typeof json.ms !== 'number') problems.push('no ms');
  return problems;
}

async function main() {
  let passed = 0;
  let failed = 0;
  const check = (ok, line) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${line}`);
    if (ok) passed++;
    else failed++;
  };

  const { decodeImage } = await import(requireBuild('cli/dist/images.js'));
  const [port, minimalPort] = [await freePort(), await freePort()];
  const config = await buildWorker();
  const base = `http://127.0.0.1:${port}`;
  const minimalBase = `http://127.0.0.1:${minimalPort}`;
  console.log(`workerd ${workerdBinary}\nserving ${config}: worker.ts on ${base}, minimal.js on ${minimalBase}`);
  const sockets = ['--socket-addr', `http=127.0.0.1:${port}`, '--socket-addr', `minimal=127.0.0.1:${minimalPort}`];
  workerd = spawn(workerdBinary, ['serve', config, ...sockets], { stdio: ['ignore', 'pipe', 'pipe'] });
  workerd.stdout.on('data', (d) => (workerdLog += d));
  workerd.stderr.on('data', (d) => (workerdLog += d));
  console.log(`workerd answered after ${await waitReady(base)} ms\n`);

  const times = [];
  for (const [i, image] of IMAGES.entries()) {
    const { status, json, ms } = await post(base, readFileSync(samplePath(image)), 'image/jpeg');
    const expected = pytorchTop1(image);
    const problems = status === 200 ? checkAnswer(json) : [`HTTP ${status}: ${JSON.stringify(json)}`];
    const got = json.top?.[0];
    if (got && got.index !== expected.index) problems.push(`PyTorch says ${expected.index} ${expected.label}`);
    if (i > 0) times.push(ms);
    check(
      problems.length === 0,
      `${image.padEnd(34)} top-1 ${got ? `${got.index} ${got.label} (${got.prob.toFixed(3)})` : '-'}` +
        ` | PyTorch ${expected.index} ${expected.label} (${expected.prob.toFixed(3)})` +
        ` | ${ms.toFixed(0)} ms per request (worker: ${json.ms} ms)${i === 0 ? ', the first loads the model' : ''}` +
        (problems.length ? `\n      ${problems.join('\n      ')}` : ''),
    );
  }

  // The same photo as PNG (the JPEG's decoded pixels, losslessly): the same answer, through pngjs.
  const rgb = decodeImage(readFileSync(samplePath(PNG_OF)));
  const png = new PNG({ width: rgb.width, height: rgb.height });
  for (let p = 0; p < rgb.width * rgb.height; p++) {
    png.data.set(rgb.data.subarray(3 * p, 3 * p + 3), 4 * p);
    png.data[4 * p + 3] = 255;
  }
  const pngBytes = PNG.sync.write(png, { colorType: 2 });
  const fromPng = await post(base, pngBytes, 'image/png');
  const jpegAnswer = await post(base, readFileSync(samplePath(PNG_OF)), 'image/jpeg');
  times.push(fromPng.ms, jpegAnswer.ms);
  const same = JSON.stringify(fromPng.json.top) === JSON.stringify(jpegAnswer.json.top);
  check(
    fromPng.status === 200 && same,
    `${PNG_OF.replace('.JPEG', '.png')} (${pngBytes.length} bytes) top-1 ${fromPng.json.top?.[0]?.label ?? JSON.stringify(fromPng.json)}, ` +
      `top-5 ${same ? 'identical to' : 'DIFFERENT from'} the JPEG's | ${fromPng.ms.toFixed(0)} ms`,
  );

  // What a client gets wrong is answered, in JSON, with a status that says so.
  const notImage = await post(base, new TextEncoder().encode('GIF89a not really'), 'image/gif');
  check(
    notImage.status === 415 && /GIF images are not supported/.test(notImage.json.error),
    `a GIF body: HTTP ${notImage.status} ${JSON.stringify(notImage.json)}`,
  );
  const get = await fetch(`${base}/classify`);
  check(get.status === 405, `GET /classify: HTTP ${get.status}`);

  // The README's Worker (examples/worker/minimal.js), built from the package without Node compatibility.
  console.log('\nminimal.js, the README\'s Worker (no nodejs_compat):');
  for (const image of MINIMAL_IMAGES) {
    const t0 = performance.now();
    const res = await fetch(`${minimalBase}/`, { method: 'POST', body: readFileSync(samplePath(image)) });
    const ms = performance.now() - t0;
    const json = await res.json();
    const got = json.top?.[0];
    const expected = pytorchTop1(image);
    check(
      res.status === 200 && got?.index === expected.index,
      `${image.padEnd(34)} top-1 ${got ? `${got.index} ${got.label} (${got.prob.toFixed(3)})` : JSON.stringify(json)}` +
        ` | PyTorch ${expected.index} ${expected.label} | ${ms.toFixed(0)} ms`,
    );
  }

  times.sort((a, b) => a - b);
  console.log(
    `\nworkerd, per request after the first (${times.length}): median ${times[times.length >> 1].toFixed(0)} ms, ` +
      `min ${times[0].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms (2 shared cores: noisy)`,
  );
  summary('test:worker', passed, failed);
}

const cancel = deadline(DEADLINE_MS, 'test:worker', stopWorkerd);
try {
  await main();
} catch (e) {
  console.error(`test:worker: FAILED: ${e.stack ?? e}`);
  if (workerdLog) console.error(`workerd said:\n${workerdLog}`);
  process.exitCode = 1;
} finally {
  await stopWorkerd();
  cancel();
}
