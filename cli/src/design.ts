// `squeezenet design`: Section 5's metaparameter sweeps as numbers, and optionally as an SVG.

import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, V1_0_METAPARAMETERS, designSvg, range, sweepDesign } from 'squeezenet-wasm';
import { intFlag, parseArgs, UsageError, type ParsedArgs, usageErrorText } from './args.js';
import { makeDirs } from './paths.js';

const HELP = `Usage: squeezenet design [--sr FROM:TO:STEP] [--pct FROM:TO:STEP | --pct LIST]
                        [--sr-for-pct SR] [--base-e N] [--incr-e N] [--freq N]
                        [--input N] [--json] [--svg FILE]

Sweeps the paper's metaparameters (Section 5) over the v1.0 layout and prints, for each
point, the Fire sizes' totals: parameters, size at 32 bits and convolution MACs.
  e_i = base_e + incr_e * floor(i / freq),  e3x3 = floor(e_i * pct3x3),
  e1x1 = e_i - e3x3,  s1x1 = floor(SR * e_i)

Options:
  --sr FROM:TO:STEP     squeeze-ratio sweep at pct3x3 0.5 (default 0.125:1:0.125)
  --pct FROM:TO:STEP    pct3x3 sweep (default 0.01,0.1,0.2,...,0.9,0.99); a comma list works too
  --sr-for-pct SR       the SR of the pct3x3 sweep (default 0.5, as in the paper)
  --base-e, --incr-e, --freq   the other metaparameters (default 128, 128, 2: v1.0)
  --input N             input size for MACs (default 224)
  --json                one JSON object per point, per line
  --svg FILE            also draw size against MACs, one line per sweep, as a self-contained SVG
  -h, --help            this text`;

function listFlag(args: ParsedArgs, name: string, fallback: number[]): number[] {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  const nums = (parts: string[]): number[] =>
    parts.map((x) => {
      const n = Number(x);
      if (x.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: ${JSON.stringify(x)} is not a number`);
      return n;
    });
  if (v.includes(':')) {
    const parts = nums(v.split(':'));
    if (parts.length !== 3) throw new UsageError(`--${name} takes FROM:TO:STEP, got ${v}`);
    try {
      return range(parts[0]!, parts[1]!, parts[2]!);
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`);
    }
  }
  return nums(v.split(','));
}

export function designCommand(argv: string[]): number {
  try {
    const args = parseArgs(argv, ['sr', 'pct', 'sr-for-pct', 'base-e', 'incr-e', 'freq', 'input', 'svg'], ['json', 'help']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const srs = listFlag(args, 'sr', range(0.125, 1, 0.125));
    const pcts = listFlag(args, 'pct', [0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99]);
    const srForPct = listFlag(args, 'sr-for-pct', [0.5]);
    if (srForPct.length !== 1) throw new UsageError('--sr-for-pct takes one number');
    for (const v of [...srs, ...pcts, ...srForPct]) {
      if (!(v > 0 && v <= 1)) throw new UsageError(`SR and pct3x3 must be in (0, 1], got ${v}`);
    }
    const base = {
      baseE: intFlag(args, 'base-e', V1_0_METAPARAMETERS.baseE),
      incrE: intFlag(args, 'incr-e', V1_0_METAPARAMETERS.incrE, 0),
      freq: intFlag(args, 'freq', V1_0_METAPARAMETERS.freq),
    };
    let points;
    try {
      points = sweepDesign({ srs, pcts, srForPct: srForPct[0]!, base, input: intFlag(args, 'input', 224) });
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      // An --input the network cannot take (too small for a window) is the user's to change.
      if (e instanceof InputError) throw new UsageError(`--input: ${e.message}`);
      throw e;
    }
    if (args.flags.has('json')) {
      for (const p of points) process.stdout.write(`${JSON.stringify({ sweep: p.sweep, ...p.meta, params: p.params, bytes: p.bytes, macs: p.macs })}\n`);
    } else {
      const rows = points.map((p) => [
        p.sweep,
        String(p.meta.sr),
        String(p.meta.pct3x3),
        p.params.toLocaleString('en-US'),
        (p.bytes / 2 ** 20).toFixed(2),
        p.macs.toLocaleString('en-US'),
      ]);
      const header = ['sweep', 'SR', 'pct3x3', 'parameters', 'MiB (32 bit)', 'MACs'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      process.stdout.write(
        `${[`v1.0 layout, base_e=${base.baseE}, incr_e=${base.incrE}, freq=${base.freq}`, '', line(header), ...rows.map(line)].join('\n')}\n`,
      );
    }
    const svg = args.flags.get('svg');
    if (typeof svg === 'string') {
      try {
        makeDirs(dirname(resolve(svg)));
        writeFileSync(svg, designSvg(points));
      } catch (e) {
        process.stderr.write(`squeezenet design: cannot write ${svg}: ${(e as Error).message}\n`);
        return 1;
      }
      process.stderr.write(`wrote ${svg}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('design', e, HELP));
      return 2;
    }
    throw e;
  }
}
