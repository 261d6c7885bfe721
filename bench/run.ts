// `npm run bench`: squeezenet-wasm against onnxruntime-web and tfjs-backend-wasm at 1 and 2
// threads (ours with the plain and the relaxed SIMD build where the runtime has both), on
// SqueezeNet v1.0 (Caffe flavour, 227x227) and v1.1 (224x224) with the fixture weights, in this
// Node, and with --node24 and --browser in Node 24 and headless Chromium too, all in one run: each
// row in its own process or page (bench/hosts.ts). What each column means: bench/README.md.

import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ARCHS, plan } from '../src/index.js';
import { measureCeiling, type Ceiling } from './ceiling.js';
import { coldStart, nodeBaseline, type ColdRun } from './cold-start.js';
import { ENGINES, unavailable, wasmFileOfSize, type EngineName } from './engines.js';
import { browserColdStart, chromiumRuntime, node24Bin, nodeRuntime, type Host, type RowConfig, type Runtime } from './hosts.js';
import { MODELS, MODEL_NAMES, ROOT, loadCase, type ModelName } from './fixtures.js';
import { benchKernels, type KernelRow } from './kernels.js';
import { median } from './timing.js';

const HELP = `npm run bench [-- options]        (builds first; then runs node dist/bench/run.js)

Times squeezenet-wasm (plain and relaxed SIMD), onnxruntime-web (wasm, SIMD) and
@tensorflow/tfjs-backend-wasm (SIMD) at each thread count on SqueezeNet v1.0 (Caffe flavour: 227x227,
conv10 padding 1) and v1.1 (224x224), batch 1, all with the fixture weights, each row in its own
process (or page). Every row's logits are checked against ours first; a row that disagrees gets no
timings. Tables go to stdout, progress to stderr.

Options:
  --json             print one JSON object on stdout and nothing else
  --json-out FILE    also write that JSON object to FILE (with the tables on stdout)
  --layers           add, for each of our rows, ms per Table-1 row and each thread's busy ms (model.profile)
  --kernels          instead of the engines: time every v1.0-caffe convolution as the engine
                     lowers it (src/conv.ts), by each method that can run it, and every pool
  --onnx DIR         where squeezenet1_0.onnx and squeezenet1_1.onnx are (default build/onnx); make
                     them with: /usr/bin/python3 fixtures/export.py --skip-real \\
                                  --out build/onnx/fixtures --onnx-out build/onnx
  --models LIST      v1.0,v1.1 (default both)
  --threads LIST     thread counts, each engine at each (default 1,2; 1 must be there)
  --node24           rows in Node 24 too (\$NODE24, or the one \`npm run test:node24\` installs)
  --browser          rows in headless Chromium too (/usr/bin/chromium or \$CHROMIUM), pages on
                     127.0.0.1 served cross-origin isolated by examples/web/serve.mjs
  --engines LIST     squeezenet-wasm,onnxruntime-web,tfjs-wasm (default all)
  --max-time S       seconds benchmark.js samples each row (default 5; kernels 0.5)
  --rounds N         split --max-time into N rounds over all rows, samples pooled (default 2)
  --warmup S         seconds of untimed runs before each row's first round (default 1)
  --cold-runs N      fresh processes per engine and model for cold start (default 5; 0 skips,
                     and then wasm bytes and peer memory are not measured)
  --layer-runs N     profile runs averaged for --layers (default 20)
  --quick            --max-time 1 --rounds 1 --warmup 0.3 --cold-runs 1 (a smoke test, not a measurement)
  --help             this text`;

/** Largest |peer - ours| relative to the largest |ours| that still counts as the same network. */
const TOLERANCE = 1e-4;

interface Options {
  json: boolean;
  jsonOut: string | undefined;
  layers: boolean;
  kernels: boolean;
  onnx: string;
  models: ModelName[];
  engines: EngineName[];
  maxTime: number | undefined;
  warmup: number;
  coldRuns: number;
  rounds: number;
  layerRuns: number;
  threads: number[];
  node24: boolean;
  browser: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false,
    jsonOut: undefined,
    layers: false,
    kernels: false,
    onnx: join(ROOT, 'build', 'onnx'),
    models: [...MODEL_NAMES],
    engines: [...ENGINES],
    maxTime: undefined,
    warmup: 1,
    coldRuns: 5,
    rounds: 2,
    layerRuns: 20,
    threads: [1, 2],
    node24: false,
    browser: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value (see --help)`);
    return v;
  };
  const num = (s: string, flag: string, min: number): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} ${s}: want a number >= ${min}`);
    return n;
  };
  const list = <T extends string>(s: string, flag: string, allowed: readonly T[]): T[] => {
    const items = s.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !(allowed as readonly string[]).includes(x));
    if (bad.length > 0 || items.length === 0) throw new Error(`${flag} ${s}: choose from ${allowed.join(', ')}`);
    return items as T[];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--help':
      case '-h':
        process.stdout.write(`${HELP}\n`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      case '--json':
        o.json = true;
        break;
      case '--json-out':
        o.jsonOut = resolve(value(i++, a));
        break;
      case '--layers':
        o.layers = true;
        break;
      case '--kernels':
        o.kernels = true;
        break;
      case '--quick':
        o.maxTime = 1;
        o.warmup = 0.3;
        o.coldRuns = 1;
        o.rounds = 1;
        o.layerRuns = 5;
        break;
      case '--onnx':
        o.onnx = resolve(value(i++, a));
        break;
      case '--models':
        o.models = list(value(i++, a), a, MODEL_NAMES);
        break;
      case '--engines':
        o.engines = list(value(i++, a), a, ENGINES);
        break;
      case '--threads': {
        const v = value(i++, a);
        o.threads = v.split(',').map((x) => Math.floor(num(x, a, 1)));
        if (!o.threads.includes(1)) throw new Error(`${a} ${v}: 1 must be among them (the reference row)`);
        o.threads = [...new Set(o.threads)].sort((x, y) => x - y);
        break;
      }
      case '--node24':
        o.node24 = true;
        break;
      case '--browser':
        o.browser = true;
        break;
      case '--max-time':
        o.maxTime = num(value(i++, a), a, 0.05);
        break;
      case '--warmup':
        o.warmup = num(value(i++, a), a, 0);
        break;
      case '--cold-runs':
        o.coldRuns = Math.floor(num(value(i++, a), a, 0));
        break;
      case '--rounds':
        o.rounds = Math.floor(num(value(i++, a), a, 1));
        break;
      case '--layer-runs':
        o.layerRuns = Math.floor(num(value(i++, a), a, 1));
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (!o.engines.includes('squeezenet-wasm')) o.engines.unshift('squeezenet-wasm'); // the reference for agreement and ratios
  o.engines = ['squeezenet-wasm', ...o.engines.filter((e) => e !== 'squeezenet-wasm')];
  return o;
}

// --- output helpers ---------------------------------------------------------------------------

const progress = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

function table(headers: string[], rows: string[][], right: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const fixed = (x: number | null | undefined, digits: number): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
const thousands = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x).toLocaleString('en-US');
const mib = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : (x / 2 ** 20).toFixed(1);

/** "ours 1.42x faster" when the peer's median is 1.42 times ours. */
function versus(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '';
  return ratio >= 1 ? `ours ${ratio.toFixed(2)}x faster` : `ours ${(1 / ratio).toFixed(2)}x slower`;
}

// --- the measurement ------------------------------------------------------------------------------

interface Row {
  engine: EngineName;
  model: ModelName;
  /** `node v20.20.2`, `node v24.x`, `chromium 156...`. */
  runtime: string;
  /** Threads the engine runs one image on (as it reports them). */
  threads: number;
  /** Threads asked for. */
  threads_asked: number;
  /** `plain` SIMD, or `relaxed` (ours: f32x4.relaxed_madd). */
  simd: 'plain' | 'relaxed';
  /** How the engine came to those threads (ours: model.threadsReason). */
  note?: string;
  status: 'ok' | 'absent' | 'disagrees' | 'failed';
  reason?: string;
  median_ms: number | null;
  min_ms: number | null;
  mean_ms?: number;
  rme_pct?: number;
  samples?: number;
  /** Every sample, in the order taken (rounds one after the other). */
  samples_ms?: number[];
  calls_per_sample?: number;
  /** This row's median / ours at the same runtime, model and threads (our best SIMD): above 1 means ours is faster. */
  ratio_vs_ours: number | null;
  gflops: number | null;
  ceiling_share: number | null;
  load_ms: number | null;
  first_ms: number | null;
  cold_start_ms: number | null;
  cold_start_runs_ms?: number[];
  wasm_file: string | null;
  wasm_bytes: number | null;
  memory_bytes: number | null;
  memory_source: string;
  engine_memory_bytes?: number | null;
  max_abs_diff: number | null;
  rel_diff: number | null;
  /** Ours at 1 thread, plain, in this process's Node: against PyTorch's logits in the fixture case. */
  pytorch_rel_diff?: number;
  /** Ours, --layers: model.profile() per Table-1 row, wall ms and each thread's busy ms. */
  layers?: { name: string; ms: number; threads: number[] }[];
}

function compareLogits(got: Float32Array, want: Float32Array): { maxAbs: number; rel: number } {
  if (got.length !== want.length) return { maxAbs: Infinity, rel: Infinity };
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    maxRef = Math.max(maxRef, Math.abs(want[i]!));
  }
  return { maxAbs, rel: maxAbs / Math.max(maxRef, 1e-30) };
}

function osInfo(): { cpu: string; cores: number } {
  const c = cpus();
  return { cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length };
}

interface ColdRow {
  runtime: string;
  engine: EngineName | 'node -e 0' | 'blank page';
  model: ModelName | null;
  threads: number | null;
  cold_start_ms: number | null;
  runs_ms: number[];
  first_ms?: number | null;
  note?: string;
}

/** The rows of one run: every engine at every thread count (ours with each SIMD build the runtime has). */
function rowConfigs(o: Options, rt: Runtime, model: ModelName): RowConfig[] {
  const out: RowConfig[] = [];
  for (const engine of o.engines) {
    for (const threads of o.threads) {
      if (engine === 'squeezenet-wasm') {
        for (const simd of rt.relaxed ? (['plain', 'relaxed'] as const) : (['plain'] as const)) out.push({ engine, model, threads, simd });
      } else {
        out.push({ engine, model, threads });
      }
    }
  }
  return out;
}

async function runEngines(o: Options): Promise<void> {
  const loadStart = loadavg();
  const macs = Object.fromEntries(MODEL_NAMES.map((m) => [m, plan(ARCHS[MODELS[m].arch]).macs])) as Record<ModelName, number>;

  progress('measuring the WASM SIMD mul+add ceiling');
  const ceilings: Ceiling[] = [await measureCeiling()];

  const runtimes: Runtime[] = [nodeRuntime()];
  if (o.node24) runtimes.push(nodeRuntime(node24Bin()));
  let browser: Awaited<ReturnType<typeof chromiumRuntime>> | undefined;
  if (o.browser) {
    progress('starting Chromium and the cross-origin-isolated pages (examples/web/serve.mjs)');
    browser = await chromiumRuntime();
    runtimes.push(browser);
  }
  try {
    await measure(o, runtimes, browser, macs, ceilings, loadStart);
  } finally {
    await browser?.closeAll();
  }
}

async function measure(
  o: Options,
  runtimes: Runtime[],
  browser: Awaited<ReturnType<typeof chromiumRuntime>> | undefined,
  macs: Record<ModelName, number>,
  ceilings: Ceiling[],
  loadStart: number[],
): Promise<void> {
  const rows: Row[] = [];
  const hosts = new Map<Row, Host>();
  const inputs = new Map<ModelName, Float32Array>();
  const refs = new Map<ModelName, Float32Array>();

  for (const model of o.models) {
    const fixture = loadCase(model);
    inputs.set(model, fixture.input);
    progress(`${model}: input and PyTorch logits from fixtures/${fixture.file}`);
    for (const rt of runtimes) {
      for (const c of rowConfigs(o, rt, model)) {
        const row: Row = {
          engine: c.engine,
          model,
          runtime: rt.name,
          threads: c.threads,
          threads_asked: c.threads,
          simd: c.simd ?? 'plain',
          status: 'ok',
          median_ms: null,
          min_ms: null,
          ratio_vs_ours: null,
          gflops: null,
          ceiling_share: null,
          load_ms: null,
          first_ms: null,
          cold_start_ms: null,
          wasm_file: null,
          wasm_bytes: null,
          memory_bytes: null,
          memory_source: 'n/a',
          max_abs_diff: null,
          rel_diff: null,
        };
        rows.push(row);
        const label = `${model} ${rt.name} ${c.engine} ${c.threads}t${c.simd ? ` ${c.simd}` : ''}`;
        const why = unavailable(c.engine, model, o.onnx);
        if (why !== undefined) {
          row.status = 'absent';
          row.reason = why;
          progress(`${label}: absent: ${why}`);
          continue;
        }
        let host: Host | undefined;
        try {
          progress(`${label}: loading`);
          host = await rt.host();
          const opened = await host.open(c, o.onnx, fixture.input);
          Object.assign(row, { threads: opened.threads, simd: opened.simd, note: opened.note, load_ms: opened.load_ms });
          const logits = await host.logits();
          if (!refs.has(model)) {
            // the reference: ours, 1 thread, plain SIMD, in this Node; checked against PyTorch
            if (c.engine !== 'squeezenet-wasm' || c.threads !== 1 || c.simd !== 'plain' || rt !== runtimes[0]) {
              throw new Error('the first row must be ours at 1 thread, plain SIMD (keep 1 in --threads)');
            }
            row.pytorch_rel_diff = compareLogits(logits, fixture.logits).rel;
            if (!(row.pytorch_rel_diff < TOLERANCE)) {
              throw new Error(
                `${model}: our logits differ from PyTorch's (fixtures/${fixture.file}) by ${row.pytorch_rel_diff.toExponential(2)} of max |logit|: ` +
                  'a wrong engine has no speed worth reporting; run npm test',
              );
            }
            refs.set(model, logits);
          }
          const d = compareLogits(logits, refs.get(model)!);
          row.max_abs_diff = d.maxAbs;
          row.rel_diff = d.rel;
          if (!(d.rel < TOLERANCE)) {
            row.status = 'disagrees';
            row.reason = `logits differ from ours by ${d.maxAbs.toExponential(2)} (${d.rel.toExponential(2)} of max |logit|, over the ${TOLERANCE} allowed): not timed`;
            progress(`${label}: ${row.reason}`);
            await host.close();
            continue;
          }
          progress(`${label}: ${opened.threads} thread(s), ${opened.simd} (${opened.note}); logits agree with ours 1t plain (relative ${d.rel.toExponential(2)})`);
          hosts.set(row, host);
        } catch (e) {
          if (c.engine === 'squeezenet-wasm' && c.threads === 1 && rt === runtimes[0]) throw e;
          row.status = 'failed';
          row.reason = (e as Error).message.split('\n')[0]!;
          progress(`${label}: failed: ${row.reason}`);
          await host?.close().catch(() => {});
        }
      }
    }
  }

  // Steady state, in rounds: each round times every row for maxTime / rounds, so that a burst of
  // load elsewhere on this shared machine falls on all rows rather than on one. Each row's process
  // (or page) is idle while another row is timed.
  const maxTime = o.maxTime ?? 5;
  const pooled = new Map<Row, { samples: number[]; count: number }[]>();
  for (let round = 0; round < o.rounds; round++) {
    for (const [row, host] of hosts) {
      ceilings.push(await measureCeiling(0.4));
      const warmup = round === 0 ? o.warmup : Math.min(o.warmup, 0.25);
      progress(`round ${round + 1}/${o.rounds}: ${row.model} ${row.runtime} ${row.engine} ${row.threads}t ${row.simd}: ${warmup}s warm-up, ${maxTime / o.rounds}s`);
      try {
        pooled.set(row, [...(pooled.get(row) ?? []), await host.time(maxTime / o.rounds, warmup)]);
      } catch (e) {
        row.status = 'failed';
        row.reason = `while timing: ${(e as Error).message}`;
        hosts.delete(row);
        pooled.delete(row);
      }
    }
  }
  for (const [row, ts] of pooled) {
    const samples = ts.flatMap((t) => t.samples);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(samples.length - 1, 1));
    Object.assign(row, {
      median_ms: median(samples),
      min_ms: Math.min(...samples),
      mean_ms: mean,
      rme_pct: (100 * 1.96 * sd) / Math.sqrt(samples.length) / mean,
      samples: samples.length,
      samples_ms: samples.map((x) => Math.round(x * 1000) / 1000),
      calls_per_sample: Math.max(...ts.map((t) => t.count)),
    });
    row.gflops = (2 * macs[row.model]) / row.median_ms! / 1e6;
    if (row.engine === 'squeezenet-wasm') {
      row.memory_bytes = await hosts.get(row)!.memory();
      row.memory_source = 'model.memoryBytes';
    }
  }

  // Per-layer, per-thread profile of our rows.
  if (o.layers) {
    for (const [row, host] of hosts) {
      if (row.engine !== 'squeezenet-wasm' || row.median_ms === null) continue;
      progress(`${row.model} ${row.runtime} ours ${row.threads}t ${row.simd}: profiling layer by layer (${o.layerRuns} runs)`);
      row.layers = await host.profile(o.layerRuns);
    }
  }
  for (const host of hosts.values()) await host.close().catch(() => {});

  // Cold starts in fresh processes (pages), round-robin so that a burst of load elsewhere spreads
  // out: each engine as a user gets it (ours: its default threads and SIMD; the others 1 thread).
  const colds: ColdRow[] = [];
  const coldReports = new Map<string, ColdRun[]>();
  if (o.coldRuns > 0) {
    for (const rt of runtimes) {
      const base: ColdRow = { runtime: rt.name, engine: rt.kind === 'node' ? 'node -e 0' : 'blank page', model: null, threads: null, cold_start_ms: null, runs_ms: [] };
      const timed = o.models.flatMap((model) =>
        o.engines
          .filter((engine) => rows.some((r) => r.runtime === rt.name && r.model === model && r.engine === engine && r.median_ms !== null))
          .map((engine): ColdRow => ({ runtime: rt.name, engine, model, threads: null, cold_start_ms: null, runs_ms: [] })),
      );
      colds.push(base, ...timed);
      for (let r = 0; r < o.coldRuns; r++) {
        base.runs_ms.push(rt.kind === 'node' ? await nodeBaseline(rt.bin) : await browserColdStart(browser!, 'blank'));
        for (const c of timed) {
          progress(`cold start ${r + 1}/${o.coldRuns}: ${rt.name} ${c.model} ${c.engine}`);
          try {
            if (rt.kind === 'node') {
              const run = await coldStart(c.engine as EngineName, c.model!, o.onnx, rt.bin);
              c.runs_ms.push(run.wall_ms);
              coldReports.set(`${rt.name} ${c.engine} ${c.model}`, [...(coldReports.get(`${rt.name} ${c.engine} ${c.model}`) ?? []), run]);
            } else {
              // ours with its defaults (threads: navigator.hardwareConcurrency), the others on one thread
              const threads = c.engine === 'squeezenet-wasm' ? undefined : 1;
              c.runs_ms.push(await browserColdStart(browser!, { engine: c.engine as EngineName, model: c.model!, threads: threads as number }));
            }
          } catch (e) {
            c.note = (e as Error).message.split('\n')[0];
            progress(`cold start ${rt.name} ${c.model} ${c.engine}: ${c.note}`);
          }
        }
      }
      for (const c of [base, ...timed]) c.cold_start_ms = c.runs_ms.length > 0 ? median(c.runs_ms) : null;
    }
  }
  for (const row of rows) {
    const runs = coldReports.get(`${row.runtime} ${row.engine} ${row.model}`);
    if (runs === undefined || runs.length === 0) continue;
    const last = runs.at(-1)!.report;
    row.first_ms = median(runs.map((r) => r.report.first_ms));
    row.cold_start_ms = median(runs.map((r) => r.wall_ms));
    row.wasm_bytes = last.modules.reduce((a, b) => a + b, 0);
    row.wasm_file = last.modules
      .map((b) => {
        const f = wasmFileOfSize(row.engine, b);
        return f === undefined ? `${b} bytes` : f.slice(ROOT.length + 1);
      })
      .join(' + ');
    if (row.engine !== 'squeezenet-wasm' && last.memory_bytes.length > 0) {
      row.memory_bytes = last.memory_bytes.reduce((a, b) => a + b, 0);
      row.memory_source = `${last.memory_bytes.length} WebAssembly.Memory in a fresh process after 4 runs (1 thread)`;
    }
  }

  progress('measuring the ceiling again');
  ceilings.push(await measureCeiling());
  const ceiling = ceilings.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  // ours at the same runtime, model and threads, the best SIMD build it ran
  const oursAt = (r: Row): Row | undefined =>
    rows
      .filter((x) => x.engine === 'squeezenet-wasm' && x.runtime === r.runtime && x.model === r.model && x.threads_asked === r.threads_asked && x.median_ms !== null)
      .sort((a, b) => a.median_ms! - b.median_ms!)[0];
  for (const row of rows) {
    if (row.median_ms === null) continue;
    const ours = oursAt(row);
    row.ratio_vs_ours = ours === undefined ? null : row.median_ms / ours.median_ms!;
    row.ceiling_share = row.gflops! / ceiling.gflops;
  }
  const targets = targetRows(rows, colds);
  const loadEnd = loadavg();

  const { cpu, cores } = osInfo();
  const settings = { max_time_s: maxTime, rounds: o.rounds, warmup_s: o.warmup, cold_runs: o.coldRuns, tolerance: TOLERANCE, threads: o.threads };
  const json = `${JSON.stringify({
    ceiling_gflops: ceiling.gflops,
    ceiling_kernels: ceiling.kernels,
    node: process.version,
    v8: process.versions.v8,
    runtimes: runtimes.map((r) => ({ name: r.name, relaxed_simd: r.relaxed })),
    cpu,
    cores,
    load_average: { start: loadStart, end: loadEnd },
    settings,
    macs,
    rows,
    cold_start: colds,
    targets,
  })}\n`;
  if (o.jsonOut !== undefined) writeFileSync(o.jsonOut, json);
  if (o.json) {
    emit(json);
    return;
  }

  const out: string[] = [];
  out.push(`squeezenet-wasm benchmark: ${runtimes.map((r) => `${r.name}${r.relaxed ? ' (relaxed SIMD)' : ''}`).join(', ')}; ${cpu}, ${cores} cores`);
  out.push(`load average (1, 5, 15 min): ${loadStart.map((x) => x.toFixed(2)).join(' ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at end`);
  out.push(
    `WASM SIMD ceiling (f32x4 mul+add, one thread, no memory, best burst, ${process.version}): ${ceiling.gflops.toFixed(1)} GFLOP/s` +
      ` [${Object.entries(ceiling.kernels).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}]`,
  );
  out.push(`batch 1; MACs from plan(): v1.0 (caffe, 227) ${thousands(macs['v1.0'])}, v1.1 (224) ${thousands(macs['v1.1'])}`);
  out.push('');
  out.push(
    table(
      ['model', 'runtime', 'engine', 'threads', 'simd', 'median ms', 'min ms', 'ours vs engine', 'GFLOP/s', '% ceiling', 'memory MiB', 'logit diff'],
      rows.map((r) =>
        r.median_ms === null
          ? [r.model, r.runtime, r.engine, String(r.threads_asked), r.simd, '—', '—', r.status, '', '', '', r.rel_diff === null ? '' : r.rel_diff.toExponential(1)]
          : [
              r.model,
              r.runtime,
              r.engine,
              r.threads === r.threads_asked ? String(r.threads) : `${r.threads} (of ${r.threads_asked})`,
              r.simd,
              fixed(r.median_ms, 2),
              fixed(r.min_ms, 2),
              r.engine === 'squeezenet-wasm' ? '—' : versus(r.ratio_vs_ours),
              fixed(r.gflops, 1),
              fixed(r.ceiling_share === null ? null : 100 * r.ceiling_share, 0),
              mib(r.memory_bytes),
              r.pytorch_rel_diff !== undefined ? `torch ${r.pytorch_rel_diff.toExponential(1)}` : r.rel_diff!.toExponential(1),
            ],
      ),
      [false, false, false, true, false, true, true, false, true, true, true, true],
    ),
  );
  out.push('');
  out.push('targets (ratios of medians within this run):');
  out.push(
    table(
      ['runtime', 'model', 'target', 'ratio', 'wanted', 'met'],
      targets.map((t) => [t.runtime, t.model ?? '', t.what, t.ratio === null ? 'n/a' : `${t.ratio.toFixed(2)}${t.unit}`, `${t.op} ${t.want}${t.unit}`, t.met === null ? '' : t.met ? 'yes' : `no (${t.gap})`]),
      [false, false, false, true, true, false],
    ),
  );
  if (colds.length > 0) {
    out.push('');
    out.push(`cold start (spawn or navigation to the first logits; medians of ${o.coldRuns}; ours with its defaults, the others 1 thread):`);
    out.push(
      table(
        ['runtime', 'what', 'model', 'cold start ms', 'runs ms'],
        colds.map((c) => [c.runtime, c.engine, c.model ?? '', fixed(c.cold_start_ms, 0), c.runs_ms.map((x) => x.toFixed(0)).join(' ') + (c.note ? ` (${c.note})` : '')]),
        [false, false, false, true, false],
      ),
    );
  }
  out.push('');
  out.push(
    `timing: one inference per sample (Node: benchmark.js; Chromium: performance.now() around each call), ${maxTime}s per row in ${o.rounds} round(s) ` +
      `after ${o.warmup}s warm-up; each row in its own process or page`,
  );
  out.push(`logit diff: max |engine - ours at 1 thread, plain| / max |ours| (must be < ${TOLERANCE}); for that row, against PyTorch's logits`);
  for (const r of rows) if (r.note !== undefined && r.engine !== 'onnxruntime-web' && r.median_ms !== null) out.push(`threads: ${r.model} ${r.runtime} ${r.engine} ${r.threads_asked}t ${r.simd}: ${r.note}`);
  for (const r of rows) if (r.reason !== undefined) out.push(`${r.model} ${r.runtime} ${r.engine} ${r.threads_asked}t ${r.status}: ${r.reason}`);
  for (const r of rows) {
    if (r.layers === undefined) continue;
    out.push('');
    out.push(`${r.model} ${r.runtime} squeezenet-wasm ${r.threads}t ${r.simd} per layer, mean of ${o.layerRuns} model.profile() runs (ms; busy: each thread's computing ms):`);
    const total = r.layers.reduce((a, b) => a + b.ms, 0);
    out.push(
      table(
        ['layer', 'ms', 'share', ...r.layers[0]!.threads.map((_, i) => `busy t${i}`), 'idle share'],
        [
          ...r.layers.map((l) => [
            l.name,
            fixed(l.ms, 3),
            `${fixed((100 * l.ms) / total, 1)}%`,
            ...l.threads.map((t) => fixed(t, 3)),
            `${fixed(100 * (1 - l.threads.reduce((a, b) => a + b, 0) / (l.ms * l.threads.length)), 0)}%`,
          ]),
          ['total', fixed(total, 3), '100%', ...r.layers[0]!.threads.map((_, i) => fixed(r.layers!.reduce((a, l) => a + l.threads[i]!, 0), 3)), ''],
        ],
        [false, true, true, ...r.layers[0]!.threads.map(() => true), true],
      ),
    );
  }
  emit(`${out.join('\n')}\n`);
}

interface Target {
  runtime: string;
  model: ModelName | null;
  what: string;
  ratio: number | null;
  op: '>=' | '<=';
  want: number;
  unit: string;
  met: boolean | null;
  gap?: string;
}

/** The issue's targets, as ratios of medians within this run. */
function targetRows(rows: Row[], colds: ColdRow[]): Target[] {
  const out: Target[] = [];
  const med = (rt: string, model: ModelName, engine: EngineName, threads: number, simd?: 'plain' | 'relaxed'): number | null => {
    const ms = rows
      .filter((r) => r.runtime === rt && r.model === model && r.engine === engine && r.threads_asked === threads && (simd === undefined || r.simd === simd) && r.median_ms !== null)
      .map((r) => r.median_ms!);
    return ms.length === 0 ? null : Math.min(...ms);
  };
  const add = (runtime: string, model: ModelName | null, what: string, num: number | null, den: number | null, want: number): void => {
    const ratio = num === null || den === null ? null : num / den;
    out.push({
      runtime,
      model,
      what,
      ratio,
      op: '>=',
      want,
      unit: 'x',
      met: ratio === null ? null : ratio >= want,
      gap: ratio === null || ratio >= want ? undefined : `${(100 * (want / ratio - 1)).toFixed(0)}% short: ${((num! / want) ).toFixed(1)} ms wanted, ${den!.toFixed(1)} ms measured`,
    });
  };
  for (const runtime of [...new Set(rows.map((r) => r.runtime))]) {
    for (const model of [...new Set(rows.map((r) => r.model))]) {
      const o1 = med(runtime, model, 'squeezenet-wasm', 1);
      const o2 = med(runtime, model, 'squeezenet-wasm', 2);
      add(runtime, model, 'ours 2 threads vs ours 1 thread', o1, o2, 1.8);
      add(runtime, model, 'ours 2 threads vs onnxruntime-web 2 threads', med(runtime, model, 'onnxruntime-web', 2), o2, 1.8);
      add(runtime, model, 'ours 1 thread vs tfjs-wasm 1 thread', med(runtime, model, 'tfjs-wasm', 1), o1, 1.6);
      add(runtime, model, 'ours 1 thread vs onnxruntime-web 1 thread', med(runtime, model, 'onnxruntime-web', 1), o1, 2);
      add(runtime, model, 'ours relaxed vs plain SIMD, 1 thread', med(runtime, model, 'squeezenet-wasm', 1, 'plain'), med(runtime, model, 'squeezenet-wasm', 1, 'relaxed'), 1.1);
    }
    // the cold-start target is Node's (spawn to first logits beside node -e 0); a page's is shown, not judged
    const base = colds.find((c) => c.runtime === runtime && c.model === null && c.engine === 'node -e 0');
    const ours = colds.find((c) => c.runtime === runtime && c.engine === 'squeezenet-wasm' && c.model === 'v1.1');
    if (base?.cold_start_ms != null && ours?.cold_start_ms != null) {
      const d = ours.cold_start_ms - base.cold_start_ms;
      out.push({ runtime, model: 'v1.1', what: `cold start minus ${base.engine}`, ratio: d, op: '<=', want: 200, unit: ' ms', met: d <= 200, gap: d <= 200 ? undefined : `${(d - 200).toFixed(0)} ms over` });
    }
  }
  return out;
}

async function runKernels(o: Options): Promise<void> {
  const loadStart = loadavg();
  progress('measuring the WASM SIMD mul+add ceiling');
  const ceiling = await measureCeiling();
  const maxTime = o.maxTime ?? 0.5;
  const rows: KernelRow[] = await benchKernels({ maxTime, warmup: Math.min(o.warmup, 0.2) }, (s) => progress(s));
  const loadEnd = loadavg();
  const json = `${JSON.stringify({ ceiling_gflops: ceiling.gflops, ceiling_kernels: ceiling.kernels, load_average: { start: loadStart, end: loadEnd }, kernels: rows })}\n`;
  if (o.jsonOut !== undefined) writeFileSync(o.jsonOut, json);
  if (o.json) {
    emit(json);
    return;
  }
  const out: string[] = [];
  out.push(`squeezenet-wasm kernels at SqueezeNet v1.0-caffe (227x227) shapes: Node ${process.version}, ${osInfo().cpu}`);
  out.push(`load average: ${loadStart.map((x) => x.toFixed(2)).join(' ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at end`);
  out.push(`WASM SIMD ceiling: ${ceiling.gflops.toFixed(1)} GFLOP/s; benchmark.js ${maxTime}s per kernel; GEMM shape is M (pixels) x N (channels) x K (depth)`);
  out.push('');
  out.push(
    table(
      ['layer', 'method', 'timed', 'kernels', 'shape', 'median ms', 'min ms', 'calls/sample', 'GFLOP/s', '% ceiling', 'GB/s'],
      rows.map((r) => [
        r.layer,
        r.method === r.model_path ? `${r.method} *` : r.method,
        r.what,
        r.kernel,
        r.shape,
        fixed(r.median_ms, 4),
        fixed(r.min_ms, 4),
        String(r.count),
        r.gflops === null ? '' : fixed(r.gflops, 1),
        r.gflops === null ? '' : fixed((100 * r.gflops) / ceiling.gflops, 0),
        fixed(r.gbytes_per_s, 1),
      ]),
      [false, false, false, false, false, true, true, true, true, true, true],
    ),
  );
  // One forward's worth: each layer by the engine's method (and the pools); then with im2col bands
  // for the layers the engine runs by Winograd.
  const whole = rows.filter((r) => r.what !== 'phase');
  const sum = (rs: KernelRow[]): string => rs.reduce((a, r) => a + r.median_ms, 0).toFixed(2);
  const engine = whole.filter((r) => r.method === r.model_path);
  const winogradLayers = engine.filter((r) => r.method === 'winograd');
  const instead = whole.filter((r) => r.model_path === 'winograd' && r.method === 'im2col');
  out.push('');
  out.push(
    `one v1.0-caffe forward as the engine runs it (without the input transpose and avgpool): ${sum(engine)} ms` +
      (winogradLayers.length > 0
        ? `; with im2col bands + GEMM for the Winograd layers instead: ${sum([...engine.filter((r) => r.method !== 'winograd'), ...instead])} ms` +
          ` (those layers: Winograd ${sum(winogradLayers)} ms, im2col ${sum(instead)} ms)`
        : ''),
  );
  out.push(
    'method: * marks the one the engine runs the layer by (SqueezeNet.convMethods); timed: conv = the whole layer by src/conv.ts runConv, ' +
      'phase = one phase of it (runConvPhase), maxpool = f32_maxpool_nhwc. GFLOP/s of a conv row counts its direct MACs whatever the method.',
  );
  emit(`${out.join('\n')}\n`);
}

// In --json mode stdout must carry the JSON object alone, so anything an engine prints goes to stderr.
const stdoutWrite = process.stdout.write.bind(process.stdout);
const emit = (s: string): void => void stdoutWrite(s);

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (o.json) {
    const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    process.stdout.write = toStderr;
    console.log = console.info = console.debug = console.warn = console.error;
  }
  if (o.kernels) await runKernels(o);
  else await runEngines(o);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
