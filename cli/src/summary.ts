// `squeezenet summary`: Table 1 for a network at an input size.

import { ARCHS, ARCH_NAMES, type ArchName, InputError, plan, formatSummary } from 'squeezenet-wasm';
import { intFlag, parseArgs, UsageError, usageErrorText } from './args.js';

const HELP = `Usage: squeezenet summary [--arch NAME] [--input N | --input HxW] [--json]

Prints the paper's Table 1 for a network: each layer's output (HxWxC), kernel and
stride, the Fire module sizes (s1x1, e1x1, e3x3), parameters and multiply-accumulates,
with totals. Everything is derived from the same table the engine runs.

Options:
  --arch NAME   ${ARCH_NAMES.join(' | ')} (default v1.0-caffe, the released model)
  --input N     input height and width (default: the network's own, 224 or 227);
                HxW for a non-square input
  --json        print the rows as JSON instead of a table
  -h, --help    this text`;

export function summaryCommand(argv: string[]): number {
  let args;
  try {
    args = parseArgs(argv, ['arch', 'input'], ['json', 'help']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const name = (args.flags.get('arch') ?? 'v1.0-caffe') as string;
    if (!(name in ARCHS)) throw new UsageError(`unknown --arch ${name}: use one of ${ARCH_NAMES.join(', ')}`);
    const arch = ARCHS[name as ArchName];
    const input = args.flags.get('input');
    let h = arch.input;
    let w = arch.input;
    if (typeof input === 'string' && /^\d+x\d+$/.test(input)) {
      [h, w] = input.split('x').map(Number) as [number, number];
    } else {
      h = w = intFlag(args, 'input', arch.input);
    }
    let p;
    try {
      p = plan(arch, h, w);
    } catch (e) {
      // An --input the network cannot take (too small for a window) is the user's to change.
      if (e instanceof InputError) throw new UsageError(`--input: ${e.message}`);
      throw e;
    }
    if (args.flags.has('json')) {
      const rows = p.rows.map((r) => ({ layer: r.spec.name, output: [r.output[1], r.output[2], r.output[0]], params: r.params, macs: r.macs }));
      process.stdout.write(`${JSON.stringify({ arch: arch.name, input: [h, w, 3], rows, params: p.params, macs: p.macs })}\n`);
    } else {
      process.stdout.write(`${formatSummary(p)}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('summary', e, HELP));
      return 2;
    }
    throw e;
  }
}
