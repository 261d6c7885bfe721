#!/usr/bin/env node
// The `squeezenet` command: dispatches to one file per subcommand.

import { summaryCommand } from './summary.js';

const USAGE = `squeezenet: SqueezeNet on WebAssembly SIMD, no GPU

Usage:
  squeezenet summary [--arch v1.0|v1.0-caffe|v1.1] [--input N]
                            print Table 1 for a network: layer, output, kernel,
                            Fire sizes, parameters and MACs, with totals
  squeezenet help           this text

Run \`squeezenet <command> --help\` for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'summary':
      return summaryCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`squeezenet: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as Error;
    process.stderr.write(`squeezenet: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
