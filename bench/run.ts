// `npm run bench`: squeezenet-wasm against onnxruntime-web and tfjs-backend-wasm, one thread each,
// on SqueezeNet v1.0 (Caffe flavour, 227x227) and v1.1 (224x224) with the fixture weights.
// What each column means and how it is measured: bench/README.md.

import { cpus, loadavg } from 'node:os';
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ARCHS, plan } from '../src/index.js';
import { measureCeiling, type Ceiling } from './ceiling.js';
import { coldStart, nodeBaseline, type ColdRun } from './cold-start.js';
import { ENGINES, openSession, unavailable, wasmFileOfSize, type EngineName, type Session } from './engines.js';
import { MODELS, MODEL_NAMES, ROOT, loadCase, type ModelName } from './fixtures.js';
import { benchKernels, type KernelRow } from './kernels.js';
import { median, time, type Timing } from './timing.js';

const HELP = `npm run bench [-- options]        (builds first; then runs node dist/bench/run.js)

Times squeezenet-wasm, onnxruntime-web (wasm, SIMD, 1 thread) and @tensorflow/tfjs-backend-wasm
(SIMD, no threads) on SqueezeNet v1.0 (Caffe flavour: 227x227, conv10 padding 1) and v1.1 (224x224),
batch 1, all with the fixture weights. Every engine's logits are checked against ours first; an
engine that disagrees gets no timings. Tables go to stdout, progress to stderr.

Options:
  --json             print one JSON object on stdout and nothing else
  --json-out FILE    also write that JSON object to FILE (with the tables on stdout)
  --layers           add ms, share and GFLOP/s per Table-1 row for squeezenet-wasm (model.profile)
  --kernels          instead of the engines: time every v1.0-caffe convolution as the engine
                     lowers it (src/conv.ts), by each method that can run it, and every pool
  --onnx DIR         where squeezenet1_0.onnx and squeezenet1_1.onnx are (default build/onnx); make
                     them with: /usr/bin/python3 fixtures/export.py --skip-real \\
                                  --out build/onnx/fixtures --onnx-out build/onnx
  --models LIST      v1.0,v1.1 (default both)
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
  threads: 1;
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
  /** Peer's median / ours: above 1 means ours is faster. */
  ratio_vs_ours: number | null;
  gflops: number | null;
  ceiling_share: number | null;
  first_ms: number | null;
  cold_start_ms: number | null;
  cold_start_runs_ms?: number[];
  load_ms: number | null;
  wasm_file: string | null;
  wasm_bytes: number | null;
  memory_bytes: number | null;
  memory_source: string;
  /** What the engine itself reports in the fresh process (ours: model.memoryBytes; tfjs: backend.wasm.HEAPU8), or null. */
  engine_memory_bytes?: number | null;
  max_abs_diff: number | null;
  rel_diff: number | null;
  /** Ours only: against PyTorch's logits in the fixture case. */
  pytorch_rel_diff?: number;
}

interface LayerRow {
  layer: string;
  output: string;
  macs: number;
  ms: number;
  share: number;
  gflops: number | null;
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

async function runEngines(o: Options): Promise<void> {
  const loadStart = loadavg();
  const macs = Object.fromEntries(MODEL_NAMES.map((m) => [m, plan(ARCHS[MODELS[m].arch]).macs])) as Record<ModelName, number>;

  progress('measuring the WASM SIMD mul+add ceiling');
  const ceilings: Ceiling[] = [await measureCeiling()];

  const rows: Row[] = [];
  const sessions = new Map<string, Session>();
  const key = (e: EngineName, m: ModelName): string => `${e} ${m}`;
  const blank = (engine: EngineName, model: ModelName): Row => ({
    engine,
    model,
    threads: 1,
    status: 'ok',
    median_ms: null,
    min_ms: null,
    ratio_vs_ours: null,
    gflops: null,
    ceiling_share: null,
    first_ms: null,
    cold_start_ms: null,
    load_ms: null,
    wasm_file: null,
    wasm_bytes: null,
    memory_bytes: null,
    memory_source: 'n/a',
    max_abs_diff: null,
    rel_diff: null,
  });

  // Load every engine and check its logits against ours before timing anything.
  const inputs = new Map<ModelName, Float32Array>();
  for (const model of o.models) {
    const fixture = loadCase(model);
    inputs.set(model, fixture.input);
    progress(`${model}: input and PyTorch logits from fixtures/${fixture.file}`);
    let ours: Float32Array | undefined;
    for (const engine of o.engines) {
      const row = blank(engine, model);
      rows.push(row);
      const why = unavailable(engine, model, o.onnx);
      if (why !== undefined) {
        row.status = 'absent';
        row.reason = why;
        progress(`${model} ${engine}: absent: ${why}`);
        continue;
      }
      try {
        progress(`${model} ${engine}: loading`);
        const t0 = performance.now();
        const session = await openSession(engine, model, o.onnx);
        row.load_ms = performance.now() - t0;
        const logits = Float32Array.from(await session.run(fixture.input));
        if (engine === 'squeezenet-wasm') {
          ours = logits;
          row.max_abs_diff = 0;
          row.rel_diff = 0;
          row.pytorch_rel_diff = compareLogits(logits, fixture.logits).rel;
          if (!(row.pytorch_rel_diff < TOLERANCE)) {
            throw new Error(
              `${model}: our logits differ from PyTorch's (fixtures/${fixture.file}) by ${row.pytorch_rel_diff.toExponential(2)} of max |logit|: ` +
                'a wrong engine has no speed worth reporting; run npm test',
            );
          }
        } else {
          const d = compareLogits(logits, ours!);
          row.max_abs_diff = d.maxAbs;
          row.rel_diff = d.rel;
          if (!(d.rel < TOLERANCE)) {
            row.status = 'disagrees';
            row.reason = `logits differ from ours by ${d.maxAbs.toExponential(2)} (${d.rel.toExponential(2)} of max |logit|, over the ${TOLERANCE} allowed): not timed`;
            progress(`${model} ${engine}: ${row.reason}`);
            await session.dispose();
            continue;
          }
        }
        progress(`${model} ${engine}: logits agree with ours (max abs diff ${row.max_abs_diff!.toExponential(2)}, relative ${row.rel_diff!.toExponential(2)})`);
        sessions.set(key(engine, model), session);
      } catch (e) {
        if (engine === 'squeezenet-wasm') throw e;
        row.status = 'failed';
        row.reason = (e as Error).message;
        progress(`${model} ${engine}: failed: ${row.reason}`);
      }
    }
  }

  // Steady state, benchmark.js, in rounds: each round times every row for maxTime / rounds, so that a
  // burst of load elsewhere on this 2-core machine falls on all engines rather than on one.
  const maxTime = o.maxTime ?? 5;
  const pooled = new Map<Row, Timing[]>();
  for (let round = 0; round < o.rounds; round++) {
    for (const row of rows) {
      const session = sessions.get(key(row.engine, row.model));
      if (session === undefined) continue;
      // The ceiling between rows too: on 2 vCPUs (maybe SMT siblings on the host) other load can halve it.
      ceilings.push(await measureCeiling(0.4));
      const input = inputs.get(row.model)!;
      const warmup = round === 0 ? o.warmup : Math.min(o.warmup, 0.25);
      progress(`round ${round + 1}/${o.rounds}: ${row.model} ${row.engine}: ${warmup}s warm-up, benchmark.js ${maxTime / o.rounds}s`);
      const t = await time(`${row.engine} ${row.model}`, () => session.run(input), !session.sync, {
        maxTime: maxTime / o.rounds,
        warmup,
      });
      pooled.set(row, [...(pooled.get(row) ?? []), t]);
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
      row.memory_bytes = sessions.get(key(row.engine, row.model))!.engineMemoryBytes();
      row.memory_source = 'model.memoryBytes';
    }
  }

  // Per-layer profile of our engine.
  const layers: Partial<Record<ModelName, LayerRow[]>> = {};
  if (o.layers) {
    const { SqueezeNet } = await import('../src/index.js');
    const { loadWeights } = await import('./fixtures.js');
    for (const model of o.models) {
      progress(`${model}: profiling squeezenet-wasm layer by layer (${o.layerRuns} runs)`);
      const net = await SqueezeNet.load({ arch: MODELS[model].arch, weights: loadWeights(model) });
      const input = inputs.get(model)!;
      for (let i = 0; i < 5; i++) net.run(input);
      const sums = new Map<string, number>();
      for (let r = 0; r < o.layerRuns; r++) {
        for (const { name, ms } of net.profile(input)) sums.set(name, (sums.get(name) ?? 0) + ms / o.layerRuns);
      }
      const total = [...sums.values()].reduce((a, b) => a + b, 0);
      layers[model] = net.plan.rows.map((row) => {
        const ms = sums.get(row.spec.name) ?? NaN;
        return {
          layer: row.spec.name,
          output: `${row.output[1]}x${row.output[2]}x${row.output[0]}`,
          macs: row.macs,
          ms,
          share: ms / total,
          gflops: row.macs > 0 ? (2 * row.macs) / ms / 1e6 : null,
        };
      });
      net.dispose();
    }
  }

  // Cold starts in fresh processes, round-robin so that a burst of load elsewhere spreads out.
  let nodeE0: number | null = null;
  const colds = new Map<string, ColdRun[]>();
  if (o.coldRuns > 0) {
    const base: number[] = [];
    for (let r = 0; r < o.coldRuns; r++) base.push(await nodeBaseline());
    nodeE0 = median(base);
    for (let r = 0; r < o.coldRuns; r++) {
      for (const row of rows) {
        if (!sessions.has(key(row.engine, row.model))) continue;
        progress(`cold start ${r + 1}/${o.coldRuns}: ${row.model} ${row.engine}`);
        try {
          const run = await coldStart(row.engine, row.model, o.onnx);
          colds.set(key(row.engine, row.model), [...(colds.get(key(row.engine, row.model)) ?? []), run]);
        } catch (e) {
          progress((e as Error).message);
        }
      }
    }
  }
  for (const row of rows) {
    const runs = colds.get(key(row.engine, row.model));
    if (runs === undefined || runs.length === 0) {
      if (sessions.has(key(row.engine, row.model)) && row.engine !== 'squeezenet-wasm') {
        row.memory_source = o.coldRuns === 0 ? 'n/a: --cold-runs 0' : 'n/a: cold start failed';
      }
      continue;
    }
    row.cold_start_ms = median(runs.map((r) => r.wall_ms));
    row.cold_start_runs_ms = runs.map((r) => r.wall_ms);
    row.first_ms = median(runs.map((r) => r.report.first_ms));
    const last = runs.at(-1)!.report;
    row.wasm_bytes = last.modules.reduce((a, b) => a + b, 0);
    row.wasm_file = last.modules
      .map((b) => {
        const f = wasmFileOfSize(row.engine, b);
        return f === undefined ? `${b} bytes` : f.slice(ROOT.length + 1);
      })
      .join(' + ');
    row.engine_memory_bytes = last.engine_memory_bytes;
    if (row.engine !== 'squeezenet-wasm') {
      const seen = last.memory_bytes.reduce((a, b) => a + b, 0);
      const own = last.engine_memory_bytes;
      row.memory_bytes = last.memory_bytes.length === 0 ? null : seen;
      row.memory_source =
        last.memory_bytes.length === 0
          ? 'n/a: no WebAssembly.Memory seen'
          : `${last.memory_bytes.length} WebAssembly.Memory in a fresh process after 4 runs` +
            (own === null ? ' (the engine reports none itself)' : own === seen ? ' (= what the engine reports)' : ` (the engine reports ${own})`);
    }
  }
  if (o.coldRuns === 0) {
    for (const row of rows) {
      if (row.engine !== 'squeezenet-wasm' || !sessions.has(key(row.engine, row.model))) continue;
      const file = join(ROOT, 'build', 'squeezenet.wasm');
      row.wasm_file = 'build/squeezenet.wasm';
      row.wasm_bytes = statSync(file).size;
    }
  }
  for (const s of sessions.values()) await s.dispose();

  progress('measuring the ceiling again');
  ceilings.push(await measureCeiling());
  const ceiling = ceilings.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  for (const row of rows) {
    if (row.median_ms === null) continue;
    const ours = rows.find((r) => r.model === row.model && r.engine === 'squeezenet-wasm')!;
    row.ratio_vs_ours = row.median_ms / ours.median_ms!;
    row.ceiling_share = row.gflops! / ceiling.gflops;
  }
  const loadEnd = loadavg();

  const { cpu, cores } = osInfo();
  const settings = { max_time_s: maxTime, rounds: o.rounds, warmup_s: o.warmup, cold_runs: o.coldRuns, tolerance: TOLERANCE };
  const json = `${JSON.stringify({
    ceiling_gflops: ceiling.gflops,
    ceiling_kernels: ceiling.kernels,
    node: process.version,
    v8: process.versions.v8,
    cpu,
    cores,
    load_average: { start: loadStart, end: loadEnd },
    node_e0_ms: nodeE0,
    settings,
    macs,
    rows,
    ...(o.layers ? { layers } : {}),
  })}\n`;
  if (o.jsonOut !== undefined) writeFileSync(o.jsonOut, json);
  if (o.json) {
    emit(json);
    return;
  }

  const out: string[] = [];
  out.push(`squeezenet-wasm benchmark: Node ${process.version} (V8 ${process.versions.v8}), ${cpu}, ${cores} cores`);
  out.push(`load average (1, 5, 15 min): ${loadStart.map((x) => x.toFixed(2)).join(' ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at end`);
  out.push(
    `WASM SIMD ceiling (f32x4 mul+add, no memory, best burst): ${ceiling.gflops.toFixed(1)} GFLOP/s` +
      ` [${Object.entries(ceiling.kernels).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}]`,
  );
  out.push(`node -e 0 (spawn to exit): ${fixed(nodeE0, 0)} ms, median of ${o.coldRuns}`);
  out.push(`batch 1, 1 thread; MACs from plan(): v1.0 (caffe, 227) ${thousands(macs['v1.0'])}, v1.1 (224) ${thousands(macs['v1.1'])}`);
  out.push('');
  out.push(
    table(
      ['model', 'engine', 'median ms', 'min ms', 'ours vs engine', 'GFLOP/s', '% ceiling', 'first ms', 'cold start ms', 'wasm bytes', 'memory MiB', 'logit diff'],
      rows.map((r) =>
        r.median_ms === null
          ? [r.model, r.engine, '—', '—', r.status, '', '', '', '', '', '', r.rel_diff === null ? '' : r.rel_diff.toExponential(1)]
          : [
              r.model,
              r.engine,
              fixed(r.median_ms, 2),
              fixed(r.min_ms, 2),
              r.engine === 'squeezenet-wasm' ? '—' : versus(r.ratio_vs_ours),
              fixed(r.gflops, 1),
              fixed(r.ceiling_share === null ? null : 100 * r.ceiling_share, 0),
              fixed(r.first_ms, 1),
              fixed(r.cold_start_ms, 0),
              thousands(r.wasm_bytes),
              mib(r.memory_bytes),
              r.engine === 'squeezenet-wasm' ? `torch ${r.pytorch_rel_diff!.toExponential(1)}` : r.rel_diff!.toExponential(1),
            ],
      ),
      [false, false, true, true, false, true, true, true, true, true, true, true],
    ),
  );
  out.push('');
  out.push(
    `timing: benchmark.js, one inference per sample, ${maxTime}s per row in ${o.rounds} round(s) after ${o.warmup}s warm-up (samples: ${rows
      .filter((r) => r.samples !== undefined)
      .map((r) => `${r.model} ${r.engine} ${r.samples} (rme ${fixed(r.rme_pct, 1)}%)`)
      .join('; ')})`,
  );
  out.push(`logit diff: max |engine - ours| / max |ours| (must be < ${TOLERANCE}); for ours, against PyTorch's logits`);
  out.push(`first ms and cold start: medians over ${o.coldRuns} fresh processes (first = the first run() there, baseline-tier code)`);
  for (const r of rows) {
    if (r.wasm_file !== null) out.push(`wasm: ${r.model} ${r.engine}: ${r.wasm_file}`);
  }
  for (const r of rows) if (r.engine !== 'squeezenet-wasm' && r.memory_bytes !== null) out.push(`memory: ${r.model} ${r.engine}: ${r.memory_source}`);
  for (const r of rows) if (r.reason !== undefined) out.push(`${r.model} ${r.engine} ${r.status}: ${r.reason}`);
  for (const model of o.models) {
    const ls = layers[model];
    if (ls === undefined) continue;
    out.push('');
    out.push(`squeezenet-wasm ${model} (${MODELS[model].arch}, ${MODELS[model].size}x${MODELS[model].size}) per layer, mean of ${o.layerRuns} model.profile() runs:`);
    const total = ls.reduce((a, b) => a + b.ms, 0);
    out.push(
      table(
        ['layer', 'output HxWxC', 'MACs', 'ms', 'share', 'GFLOP/s', '% ceiling'],
        [
          ...ls.map((l) => [
            l.layer,
            l.output,
            thousands(l.macs),
            fixed(l.ms, 3),
            `${fixed(100 * l.share, 1)}%`,
            fixed(l.gflops, 1),
            l.gflops === null ? '' : fixed((100 * l.gflops) / ceiling.gflops, 0),
          ]),
          ['total', '', thousands(macs[model]), fixed(total, 3), '100%', fixed((2 * macs[model]) / total / 1e6, 1), fixed((100 * (2 * macs[model]) / total / 1e6) / ceiling.gflops, 0)],
        ],
        [false, false, true, true, true, true, true],
      ),
    );
    out.push('(conv1 includes the NCHW -> NHWC transpose of the input)');
  }
  emit(`${out.join('\n')}\n`);
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
