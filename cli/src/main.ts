#!/usr/bin/env node
// The `squeezenet` command: dispatches to one file per subcommand.

import { readFileSync } from 'node:fs';
import { classifyCommand } from './classify.js';
import { compareCommand } from './compare.js';
import { compressCommand } from './compress.js';
import { designCommand } from './design.js';
import { evalCommand } from './eval.js';
import { summaryCommand } from './summary.js';
import { traceCommand } from './trace.js';

const USAGE = `squeezenet: SqueezeNet on WebAssembly SIMD, no GPU

Usage:
  squeezenet summary [--arch NAME] [--input N]
                            print Table 1 for a network (v1.0, v1.0-caffe, v1.1,
                            simple-bypass, complex-bypass): layer, output, kernel,
                            Fire sizes, parameters and MACs, with totals and sizes
  squeezenet classify [--weights FILE] [--top K] [--json] IMAGE|DIR|- ...
                            the top classes of each photo (JPEG, PNG, WebP, GIF,
                            TIFF, AVIF; files, folders, or - for standard input),
                            with the pretrained Deep Compression SqueezeNet v1.0
                            that ships with the library; more options (--recipe,
                            --labels, --exif, --background, -r) in classify --help
  squeezenet eval [--weights FILE] [--json] DIR
                            top-1 and top-5 accuracy over DIR's images, each
                            labelled by the class index its name starts with
  squeezenet compress [--kmeans entropy|linear|optimal] [--bits N] [--max-bytes B]
                     [--prune D] [--no-huffman] [--sqz-version 1|3]
                     [--calibrate DIR] IN OUT
                            Deep Compression into a .sqz file: pruning, a shared-
                            value codebook per layer, sparse gaps, Huffman coding;
                            prints the bytes of every part (the .net: < 480,000)
  squeezenet design [--sr A:B:STEP] [--pct A:B:STEP] [--svg FILE]
                            sweep Section 5's metaparameters: parameters, size and
                            MACs per design, optionally drawn as an SVG
  squeezenet trace [--weights FILE] IMAGE --out FILE
                            golden vectors: the input and every layer's output,
                            NCHW float32 with metadata, as safetensors or .npz
  squeezenet compare [--rtol R] [--require-all] [--json] A B
                            two traces layer by layer: max abs and relative
                            difference, first differing index, cosine, top-1
  squeezenet help [COMMAND]  this text, or a command's options
  squeezenet --version      the versions of the command and of the library

Run \`squeezenet <command> --help\` for a command's options.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number> | number> = {
  summary: summaryCommand,
  classify: classifyCommand,
  eval: evalCommand,
  design: designCommand,
  compress: compressCommand,
  trace: traceCommand,
  compare: compareCommand,
};

/** `squeezenet-wasm-cli 0.1.0 (library squeezenet-wasm 0.1.0, Node v20.20.2)`. */
export function versionText(): string {
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  let lib = 'not found';
  try {
    const url = new URL(import.meta.resolve('squeezenet-wasm/package.json'));
    lib = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    // reported as not found
  }
  return `${own.name} ${own.version} (library squeezenet-wasm ${lib}, Node ${process.version})`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && command in COMMANDS) return COMMANDS[command]!(rest);
  switch (command) {
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${versionText()}\n`);
      return 0;
    case 'help':
      if (rest[0] !== undefined && rest[0] in COMMANDS) return COMMANDS[rest[0]]!(['--help']);
      if (rest[0] !== undefined) {
        process.stderr.write(`squeezenet help: unknown command '${rest[0]}': ${Object.keys(COMMANDS).join(', ')}\n`);
        return 2;
      }
    // falls through
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`squeezenet: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

// A closed pipe (\`squeezenet classify *.jpg | head -1\`) ends the command quietly, as for any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
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
