#!/usr/bin/env node
// The `squeezenet` command: dispatches to one file per subcommand.

import { classifyCommand } from './classify.js';
import { compressCommand } from './compress.js';
import { designCommand } from './design.js';
import { evalCommand } from './eval.js';
import { summaryCommand } from './summary.js';

const USAGE = `squeezenet: SqueezeNet on WebAssembly SIMD, no GPU

Usage:
  squeezenet summary [--arch NAME] [--input N]
                            print Table 1 for a network (v1.0, v1.0-caffe, v1.1,
                            simple-bypass, complex-bypass): layer, output, kernel,
                            Fire sizes, parameters and MACs, with totals and sizes
  squeezenet classify [--weights FILE] [--top K] [--json] IMAGE...
                            the top classes of each photo (JPEG, PNG, WebP, GIF,
                            TIFF, AVIF), with the pretrained Deep Compression
                            SqueezeNet (0.66 MB); --exif, --background
  squeezenet eval [--weights FILE] [--json] DIR
                            top-1 and top-5 accuracy over DIR's images, each
                            labelled by the class index its name starts with
  squeezenet compress [--kmeans entropy|linear|optimal] [--bits N] [--max-bytes B]
                     [--prune D] [--no-huffman] IN OUT
                            Deep Compression into a .sqz file: pruning, a shared-
                            value codebook per layer, sparse gaps, Huffman coding;
                            prints the bytes of every part (the .net: < 480,000)
  squeezenet design [--sr A:B:STEP] [--pct A:B:STEP] [--svg FILE]
                            sweep Section 5's metaparameters: parameters, size and
                            MACs per design, optionally drawn as an SVG
  squeezenet help           this text

Run \`squeezenet <command> --help\` for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'summary':
      return summaryCommand(rest);
    case 'classify':
      return classifyCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'design':
      return designCommand(rest);
    case 'compress':
      return compressCommand(rest);
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
