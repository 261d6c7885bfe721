#!/usr/bin/env node
// A small static server for the example page, on 127.0.0.1 only:
//
//   npm run build && node examples/web/serve.mjs      # then open http://127.0.0.1:8080/ (PORT=... for another)
//
// It serves the pages (examples/web/: index.html, and minimal.html, the README's), the compiled
// library (dist/src/), the kernels (build/*.wasm, and dist/build/ where the library looks for
// them), the model that ships with the library (dist/models/), a few sample photos when the shared
// folder is there ($SQUEEZENET_SHARED, else ../shared; never committed), and the threads and
// benchmark harness (bench/browser/, with the ONNX graphs in build/onnx/ and the peers' files from
// node_modules/); nothing else. GET and HEAD only.
//
// Every answer is cross-origin isolated (Cross-Origin-Opener-Policy: same-origin,
// Cross-Origin-Embedder-Policy: require-corp), which a page needs for SharedArrayBuffer and so for
// the library's threads. The same files under /no-isolation/ come without those headers: there
// the library runs on one thread and says why.

import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sharedDir } from '../weights-path.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLES_DIR = join(sharedDir(), 'data/imagenet-sample');
/** The sample photos the page offers as buttons (when the shared folder is there). */
const SAMPLES = ['000_n01440764_tench.JPEG', '340_n02391049_zebra.JPEG', '150_n02077923_sea_lion.JPEG', '550_n03297495_espresso_maker.JPEG'];

/** Content types by file extension (scripts/packaging-common.mjs's server uses them too). */
export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.net': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

// URL prefix -> folder; a request must resolve inside its folder.
const MOUNTS = [
  ['/examples/web/samples/', SAMPLES_DIR],
  ['/examples/web/', join(ROOT, 'examples/web')],
  ['/dist/src/', join(ROOT, 'dist/src')],
  // The package's other files: the single-file bundle, the kernels and the default model beside it.
  ['/dist/', join(ROOT, 'dist')],
  // The command line's header checks (image-header.js), which the page applies before decoding.
  ['/cli/dist/', join(ROOT, 'cli/dist')],
  ['/build/onnx/', join(ROOT, 'build/onnx')],
  ['/build/', join(ROOT, 'build')],
  // the browser benchmark (npm run bench -- --browser): its pages, and the other engines
  ['/bench/browser/', join(ROOT, 'bench/browser')],
  ['/node_modules/onnxruntime-web/dist/', join(ROOT, 'node_modules/onnxruntime-web/dist')],
  ['/node_modules/@tensorflow/tfjs-core/dist/', join(ROOT, 'node_modules/@tensorflow/tfjs-core/dist')],
  ['/node_modules/@tensorflow/tfjs-backend-wasm/dist/', join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist')],
];

/** The headers that make a page cross-origin isolated. */
export const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const NO_ISOLATION = '/no-isolation';

// minimal.html (the README's page) loads the library as an installed package would sit beside it.
const PACKAGE = '/examples/web/node_modules/squeezenet-wasm/';

function fileFor(pathname) {
  if (pathname.startsWith(PACKAGE)) pathname = `/${pathname.slice(PACKAGE.length)}`;
  if (pathname.endsWith('/')) pathname += 'index.html';
  for (const [prefix, dir] of MOUNTS) {
    if (!pathname.startsWith(prefix)) continue;
    const file = resolve(dir, `.${sep}${pathname.slice(prefix.length)}`);
    if (prefix.endsWith('/build/') && !file.endsWith('.wasm')) return undefined;
    return file.startsWith(dir + sep) ? file : undefined;
  }
  return undefined;
}

/**
 * Starts the server on 127.0.0.1 (port 0: any free one) and resolves to { url, close }.
 * `log` receives one line per request that was not answered 200.
 */
export function serve({ port = 0, log = () => {} } = {}) {
  const server = createServer((req, res) => {
    let isolation = ISOLATION;
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      if (status !== 200) log(`${status} ${req.method} ${req.url}`);
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...isolation }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET or HEAD only\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(400, 'bad URL\n');
    }
    if (pathname.startsWith(`${NO_ISOLATION}/`)) {
      pathname = pathname.slice(NO_ISOLATION.length);
      isolation = {};
    }
    if (pathname === '/') {
      res.writeHead(302, { location: '/examples/web/', ...isolation }).end();
      return;
    }
    if (pathname === '/examples/web/samples.json') {
      const available = existsSync(SAMPLES_DIR) ? SAMPLES.filter((f) => readdirSync(SAMPLES_DIR).includes(f)) : [];
      return send(200, JSON.stringify(available), TYPES['.json']);
    }
    const file = fileFor(pathname);
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) return send(404, `not found: ${pathname}\n`);
    const headers = {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
      ...isolation,
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolveServer({
        url: `http://127.0.0.1:${actual}/examples/web/`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.PORT ?? 8080);
  try {
    const { url } = await serve({ port, log: (line) => console.log(line) });
    console.log(`serving the example page at ${url} (Ctrl-C to stop)`);
  } catch (e) {
    if (e?.code !== 'EADDRINUSE') throw e;
    console.error(`port ${port} on 127.0.0.1 is in use: choose another, e.g. PORT=${port + 1} node examples/web/serve.mjs (PORT=0: any free port)`);
    process.exitCode = 1;
  }
}
