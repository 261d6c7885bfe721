// Decode and load of the model files, each in a fresh process (what a CLI call or a cold
// serverless start pays): the Deep Compression .net against the .sqz that ships in the package.
//   npm run build && node dist/bench/load.js [--runs N] [--net PATH]
// A child (`node dist/bench/load.js --child FILE`) imports the library, reads the file, decodes
// it (decodeWeights), loads it (SqueezeNet.load: pack, warm-up) and prints its timings as JSON.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = parseArgs({ options: { child: { type: 'string' }, runs: { type: 'string', default: '9' }, net: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });

interface Timing {
  import_ms: number;
  decode_ms: number;
  load_ms: number;
}

if (args.values.help) {
  console.log('usage: node dist/bench/load.js [--runs N] [--net path/to/compressed_SqueezeNet.net]\nmedians over N fresh processes per file');
} else if (args.values.child !== undefined) {
  const t0 = performance.now();
  const lib = await import('../src/index.js');
  const t1 = performance.now();
  const bytes = readFileSync(args.values.child);
  const w = lib.decodeWeights(bytes);
  const t2 = performance.now();
  const model = await lib.SqueezeNet.load({ arch: w.arch, weights: w.weights });
  const t3 = performance.now();
  model.dispose();
  process.stdout.write(JSON.stringify({ import_ms: t1 - t0, decode_ms: t2 - t1, load_ms: t3 - t2 } satisfies Timing));
} else {
  const shared = process.env.SQUEEZENET_SHARED ?? join(ROOT, '..', 'shared');
  const files = {
    '.net (Deep Compression)': args.values.net ?? join(shared, 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net'),
    '.sqz (the default model)': join(ROOT, 'models/squeezenet1_0-deep-compression.sqz'),
  };
  const runs = Number(args.values.runs);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const samples: Record<string, Timing[]> = {};
  // Interleaved, so that a busy moment of the machine falls on both files alike.
  for (let r = 0; r < runs; r++) {
    for (const [name, file] of Object.entries(files)) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], { encoding: 'utf8' });
      (samples[name] ??= []).push(JSON.parse(out) as Timing);
    }
  }
  console.log(`decode and load in a fresh process, medians of ${runs} (Node ${process.version})`);
  console.log('file                        bytes    import ms  decode ms  load ms  decode+load ms');
  const totals: number[] = [];
  for (const [name, file] of Object.entries(files)) {
    const s = samples[name]!;
    const total = median(s.map((t) => t.decode_ms + t.load_ms));
    totals.push(total);
    console.log(
      `${name.padEnd(26)} ${readFileSync(file).length.toLocaleString('en-US').padStart(8)} ${median(s.map((t) => t.import_ms)).toFixed(1).padStart(10)} ${median(s.map((t) => t.decode_ms)).toFixed(1).padStart(10)} ${median(s.map((t) => t.load_ms)).toFixed(1).padStart(8)} ${total.toFixed(1).padStart(15)}`,
    );
  }
  console.log(`.sqz / .net decode+load: ${(totals[1]! / totals[0]!).toFixed(2)}x`);
}
