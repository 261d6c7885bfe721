// What the packaging tests (scripts/test-consumer.mjs, scripts/test-bundlers.mjs) share: packing
// the packages, fresh projects under the system's temporary folder, commands run with a printed
// transcript, a static server on 127.0.0.1, PyTorch's answer for the committed test image, and
// the pass/fail count. Nothing here reads ../shared: these tests run as a user would, without it.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deadline } from './runtime-common.mjs';
import { TYPES } from '../examples/web/serve.mjs';

export { deadline };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The committed test image (a formula, scripts/make-test-images.py) and PyTorch's top-5 for it. */
export const TEST_IMAGE = 'test/data/images/picture-240x180.png';

/** PyTorch's answer for TEST_IMAGE (fixtures/test-data-top5.json): { index, synset, label, prob, sha256 }. */
export function pytorchTop1() {
  const fixture = JSON.parse(readFileSync(join(ROOT, 'fixtures/test-data-top5.json'), 'utf8'));
  const r = fixture.results.find((x) => x.image === TEST_IMAGE);
  if (r === undefined) throw new Error(`fixtures/test-data-top5.json has no result for ${TEST_IMAGE}: run /usr/bin/python3 fixtures/test-data-top5.py`);
  return { index: r.top5[0], synset: r.synsets[0], label: r.labels[0], prob: r.prob[0], sha256: r.sha256 };
}

/**
 * The largest difference allowed between our top-1 probability and PyTorch's: float32 in both,
 * summed in another order; the conformance tests see logits agree to about 1e-4 on these weights.
 */
export const PROB_TOLERANCE = 1e-3;

/** Throws, saying to build, when a built file the package ships is missing. */
export function requireBuild(...rels) {
  for (const rel of rels) {
    if (!existsSync(join(ROOT, rel))) throw new Error(`${rel} is missing: run \`npm run build\` first (npm test does)`);
  }
}

/**
 * The environment for commands run as a user would: no SQUEEZENET_* variables, and none of what
 * `npm run` adds about this repository (its package.json fields, its folder as npm's local
 * prefix). npm's own settings (registry, cache, certificates) are kept.
 */
export function userEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if (k.startsWith('SQUEEZENET_') || /^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$)/.test(lower)) continue;
    env[k] = v;
  }
  // Quiet, offline-friendly npm: no update notice, no funding or audit lines.
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** A fresh folder under the system's temporary folder (not inside the repository, no ../shared beside it). */
export function freshDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (existsSync(join(dir, '..', 'shared', 'models'))) throw new Error(`${dir} has a shared folder beside it (${join(dir, '..', 'shared')}): set TMPDIR elsewhere`);
  return dir;
}

export function removeDir(dir) {
  if (dir && process.env.KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs a command, prints it and its output as a transcript (`$ cmd` then the output, indented;
 * `show` replaces the command line shown), and resolves to { code, stdout, stderr }. Rejects only when the command cannot start or runs
 * past `timeout` ms (then it is killed).
 */
export function run(cmd, args, { cwd, env = userEnv(), input, timeout = 120_000, show, quiet = false } = {}) {
  const shown = `$ ${show ?? [cmd, ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))].join(' ')}`;
  console.log(shown);
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${shown} still running after ${timeout / 1000} s: killed`));
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (!quiet) {
        const text = (stdout + (stderr ? (stdout ? '\n' : '') + stderr : '')).replace(/\s+$/, '');
        if (text) console.log(text.replace(/^/gm, '  '));
      }
      if (code !== 0) console.log(`  (exit ${code ?? signal})`);
      resolveRun({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/**
 * `npm pack` of the package in `dir` (the library at the root, or a workspace) into `dest`,
 * without its scripts (npm test has just built it; `prepare` would build again). Resolves to
 * npm's record: { filename, size (bytes of the .tgz), unpackedSize, entryCount, files }.
 */
export async function pack(dir, dest) {
  const args = ['pack', '--ignore-scripts', '--json', '--pack-destination', dest];
  const r = await run('npm', args, { cwd: dir, quiet: true, show: `${dir === ROOT ? '' : `cd ${relative(ROOT, dir)} && `}npm ${args.join(' ')}` });
  if (r.code !== 0) throw new Error(`npm pack in ${dir} failed:\n${r.stderr}`);
  const [record] = JSON.parse(r.stdout);
  record.path = join(dest, record.filename);
  console.log(`  ${record.filename}: ${record.size.toLocaleString('en-US')} bytes packed, ${record.unpackedSize.toLocaleString('en-US')} unpacked, ${record.entryCount} files`);
  return record;
}

/** Writes package.json into `dir` and runs `npm install --no-audit --no-fund` there. */
export async function npmInstall(dir, pkg) {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', ...pkg }, null, 2)}\n`);
  const r = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, timeout: 300_000 });
  if (r.code !== 0) throw new Error(`npm install in ${dir} failed (exit ${r.code})`);
}

/**
 * A static server for `dir` on 127.0.0.1 (any free port), as a production host serves a build:
 * a missing file is a 404 (no index.html fallback). `log` gets one line per answer that is not 200;
 * `headers` are added to every file's answer. Resolves to { url, close }.
 */
export function serveDir(dir, log = () => {}, headers = {}) {
  const server = createServer((req, res) => {
    const send = (status, body) => {
      log(`${status} ${req.method} ${req.url}`);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET or HEAD only\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad URL\n');
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = resolve(dir, `.${sep}${pathname}`);
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return send(404, `not found: ${pathname}\n`);
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': statSync(file).size, 'cache-control': 'no-store' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolveServer({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Counts checks and prints each: `ok` or `FAIL`, then the line. */
export function checker() {
  const counts = { passed: 0, failed: 0 };
  const check = (ok, line) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${line}`);
    if (ok) counts.passed++;
    else counts.failed++;
    return ok;
  };
  return { check, counts };
}

/** The closing line: 'N passed, N failed', which CI reads. */
export function summary(what, { passed, failed }) {
  console.log(`\n${what}: ${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) process.exitCode = 1;
}

