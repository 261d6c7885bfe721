// `squeezenet compress`: Deep Compression (prune, share weights, sparse gaps, Huffman) of any
// weights the project reads, into the .sqz container; prints the size of every part.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ARCHS,
  ARCH_NAMES,
  type ArchName,
  compress,
  compressCalibrated,
  DEFAULT_LAMBDA,
  type CompressOptions,
  type CompressResult,
  type PerLayer,
  preprocess,
  RECIPES,
  type Recipe,
  SQZ_MAX_WIDTH,
  SqueezeNetError,
  decodeWeights,
  describeArch,
} from 'squeezenet-wasm';
import { parseArgs, UsageError, usageErrorText } from './args.js';
import { makeDirs } from './paths.js';
import { checkImageFile, decodeImage } from './images.js';
import { expandInputs } from './inputs.js';
import { CliError, oneLine, Progress, readWeightsFile } from './load.js';

const HELP = `Usage: squeezenet compress [options] IN OUT

Compresses the weights in IN (the Deep Compression .net, a .sqz file, or any format the
project reads) into OUT, a .sqz container (docs/FORMAT.md), as Deep Compression does:
magnitude pruning, a codebook of shared values per layer (code 0 is the pruned zero),
sparse storage with relative position gaps and filler entries, and canonical Huffman
coding of the codes and the gaps. Prints each layer's density, bits and bytes, and the
bytes of every part. The defaults keep the predictions best per byte (docs/COMPRESSION.md):
the Deep Compression file comes out under 480,000 bytes.

Codebook:
  --kmeans entropy|linear|optimal
                           entropy (default): entropy-constrained clustering, squared
                           error plus lambda times the bits of the coded weights;
                           linear: k-means from a linear start over [min, max] (Han et
                           al.; --kmeans linear --bits 6 --rounding nearest --codebook f32
                           --bias f32 is the paper's recipe); optimal: the exact k-means
  --bits N[,LAYER=N...]    code width, 1..${SQZ_MAX_WIDTH}: at most 2^N - 1 shared values per
                           layer (default 6 for linear and optimal, 8 for entropy), e.g.
                           6,conv1=8
  --lambda X               entropy: relative squared error per bit (default ${DEFAULT_LAMBDA})
  --max-bytes B            entropy: search lambda for the most accurate file of at most
                           B bytes
  --rounding balanced|nearest
                           balanced (default): nearest value, then nudged so that each
                           filter's rounding errors sum to about zero; nearest: nearest
  --codebook f16|f32       codebook precision (default f16)
  --bias f16|f32           bias precision (default f16)

Storage:
  --prune D[,LAYER=D...]   keep the fraction D (0..1) of each layer's weights, largest
                           magnitudes first (default 1: only zeros are dropped, so the
                           .net's pruning is kept as it is), e.g. 0.33 or 1,conv10=0.2
  --gap-bits auto|N        gap width per layer, 1..${SQZ_MAX_WIDTH}, or auto (default): the width
                           that makes the layer smallest
  --no-huffman             store codes and gaps at fixed width (N and the gap width)
  --sqz-version 1|3        1: Huffman or fixed-width streams (the default without
                           --calibrate); 3: every layer one context-modelled range-coded
                           stream, smaller, slower to decode (the default with --calibrate).
                           A Deep Compression IN (the .net, the model that ships) stays
                           bit-identical with --kmeans linear --bits 8 --rounding
                           nearest --codebook f32 --bias f32

Calibration (without it, compression looks at the weights alone):
  --calibrate DIR          the images in DIR (and their mirror images) tune
                           each layer's codebook and codes to reproduce its output, bytes
                           go to the layers the output is most sensitive to, biases are
                           corrected, and then, layer after layer, each layer is refitted
                           to correct the errors of the compressed layers before it
                           (docs/COMPRESSION.md); needs --max-bytes and --kmeans entropy.
                           Takes minutes

  --arch NAME              the network of IN when its format does not say
                           (${ARCH_NAMES.join(', ')}); default: from the file
  --recipe caffe|torchvision
                           the preprocessing the weights expect, written into OUT's
                           metadata; default: IN's (its metadata, else Caffe evidence,
                           else torchvision, a guess: stderr says which and why)
  --json                   print the result as one JSON object
  --progress               show each step of a --max-bytes search on stderr even when
                           it is not a terminal (one line each)
  --no-progress            never show them (on a terminal they show in one line)
  -h, --help               this text

LAYER is a layer name (conv1, fire2.squeeze, fire2.expand1x1, fire2.expand3x3, ...,
conv10) or its torchvision path (features.0, ..., classifier.1). Usage errors exit 2;
a file that cannot be read or decoded exits 1.`;

/** `6` or `6,conv1=8` -> 6 or { '*': 6, conv1: 8 }. */
export function perLayer(value: string, flag: string, check: (n: number) => boolean, range: string): PerLayer<number> {
  const out: { [layer: string]: number } = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '*' : part.slice(0, eq).trim();
    const text = (eq < 0 ? part : part.slice(eq + 1)).trim();
    const n = Number(text);
    if (text === '' || !check(n)) throw new UsageError(`--${flag}: ${JSON.stringify(part)} is not ${range}`);
    if (key in out) throw new UsageError(`--${flag}: ${key === '*' ? 'the default' : key} is given twice`);
    out[key] = n;
  }
  return Object.keys(out).length === 1 && '*' in out ? out['*']! : out;
}

const int = (n: number): string => n.toLocaleString('en-US');

export function formatReport(r: CompressResult, input: string, inputBytes: number, output: string, kmeansName: string, rounding: string): string {
  const v3 = r.file.version === 3;
  const rows = r.layers.map((l) => {
    const b = l.bytes;
    const density = l.nonzero === l.nonzeroBefore
      ? `${((100 * l.nonzero) / l.weights).toFixed(1)}%`
      : `${((100 * l.nonzeroBefore) / l.weights).toFixed(1)}->${((100 * l.nonzero) / l.weights).toFixed(1)}%`;
    return [
      l.op,
      l.shape.join('x'),
      density,
      int(v3 ? l.nonzero : l.entries),
      int(v3 ? 0 : l.fillers),
      String(l.bits),
      String(l.codebook.length - 1),
      v3 ? '-' : l.dense ? 'none' : String(l.gapBits),
      (100 * Math.sqrt(l.relativeError)).toFixed(2),
      int(b.codebook),
      int(b.bias),
      int(b.codes),
      int(b.gaps),
      int(b.codebook + b.bias + b.codes + b.gaps),
    ];
  });
  const s = r.sizes;
  const weights = r.layers.reduce((a, l) => a + l.weights, 0);
  const nonzero = r.layers.reduce((a, l) => a + l.nonzero, 0);
  const entries = v3 ? nonzero : r.layers.reduce((a, l) => a + l.entries, 0);
  const fillers = v3 ? 0 : r.layers.reduce((a, l) => a + l.fillers, 0);
  rows.push([
    'all layers',
    '',
    `${((100 * nonzero) / weights).toFixed(1)}%`,
    int(entries),
    int(fillers),
    '',
    '',
    '',
    '',
    int(s.codebooks),
    int(s.biases),
    int(s.codes),
    int(s.gaps),
    int(s.total - s.header),
  ]);
  const head = ['layer', 'shape', 'density', 'entries', 'fillers', 'bits', 'k', 'gap', 'err%', 'codebook', 'biases', 'codes', 'gaps', 'bytes'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i < 2 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  const huffman = r.file.version === 3 ? 'context-modelled range-coded (.sqz version 3)' : r.file.layers[0]!.huffmanCodes ? 'Huffman-coded' : 'fixed-width';
  const precision = (f16: boolean): string => (f16 ? 'float16' : 'float32');
  const method = `${kmeansName}${r.lambda === undefined ? '' : ` (lambda ${Number(r.lambda.toPrecision(3))})`}, ${rounding} rounding`;
  const mib = (n: number): string => `${(n / 1e6).toFixed(3)} MB`;
  return [
    `${input} (${int(inputBytes)} bytes) -> ${output}: ${r.file.arch}; codebooks by ${method}; ${huffman} codes and gaps`,
    '',
    line(head),
    ...rows.slice(0, -1).map(line),
    line(rows.at(-1)!),
    '',
    `density: non-zero weights over all weights; entries: stored (non-zero + fillers); bits: code width;`,
    `k: codebook values besides 0; gap: gap width in bits (none: every position stored, zeros as code 0, so every gap is 0 and costs no bits); err%: RMS of (weight - shared value) over RMS of the weights`,
    '',
    `header     ${int(s.header).padStart(9)} bytes  (magic, version, arch, ${r.layers.length} layer records, CRC-32s)`,
    `codebooks  ${int(s.codebooks).padStart(9)} bytes  (${precision(r.file.layers.every((l) => l.codebookF16))})`,
    `biases     ${int(s.biases).padStart(9)} bytes  (${precision(r.file.layers.every((l) => l.biasF16))})`,
    v3
      ? `weights    ${int(s.codes).padStart(9)} bytes  (which are non-zero and their codes, range-coded; codebooks and biases are coded in the same stream, their bytes about)`
      : `codes      ${int(s.codes).padStart(9)} bytes  (with their Huffman tables, if any)`,
    `gaps       ${int(s.gaps).padStart(9)} bytes`,
    `total      ${int(s.total).padStart(9)} bytes  = ${mib(s.total)}, ${(inputBytes / s.total).toFixed(2)}x smaller than the input; ${((8 * s.total) / nonzero).toFixed(2)} bits per non-zero weight`,
  ].join('\n');
}

/** The images of a calibration folder, decoded and preprocessed; a CliError when there are none or one cannot be read. */
async function calibrationInputs(dir: string, recipe: Parameters<typeof preprocess>[1]): Promise<Float32Array[]> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new CliError(`--calibrate ${dir}: not a directory`);
  const files = expandInputs([dir], false).filter((f) => f !== dir);
  if (files.length === 0) throw new CliError(`--calibrate ${dir}: no images in it`);
  const inputs: Float32Array[] = [];
  for (const f of files) {
    try {
      checkImageFile(f);
      inputs.push(preprocess(await decodeImage(readFileSync(f)), recipe));
    } catch (e) {
      throw new CliError(`--calibrate: ${f}: ${oneLine(e)}`);
    }
  }
  return inputs;
}

export async function compressCommand(argv: string[]): Promise<number> {
  let args;
  let options;
  let calibrate: string | undefined;
  let recipe: Recipe | undefined;
  try {
    args = parseArgs(
      argv,
      ['bits', 'prune', 'gap-bits', 'bias', 'codebook', 'arch', 'kmeans', 'lambda', 'max-bytes', 'rounding', 'recipe', 'calibrate', 'sqz-version'],
      ['no-huffman', 'json', 'help', 'progress', 'no-progress'],
    );
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positionals.length !== 2) throw new UsageError(`IN and OUT expected, got ${args.positionals.length} argument${args.positionals.length === 1 ? '' : 's'}`);
    const flag = (name: string): string | undefined => args!.flags.get(name) as string | undefined;
    const choice = <T extends string>(name: string, values: readonly T[], fallback: T): T => {
      const v = flag(name) ?? fallback;
      if (!(values as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${values.join(' or ')}, got ${v}`);
      return v as T;
    };
    const kmeans = choice('kmeans', ['entropy', 'linear', 'optimal'] as const, 'entropy');
    const bitsFlag = flag('bits');
    const bits = bitsFlag === undefined ? undefined : perLayer(bitsFlag, 'bits', (n) => Number.isInteger(n) && n >= 1 && n <= SQZ_MAX_WIDTH, `an integer 1..${SQZ_MAX_WIDTH}`);
    const density = perLayer(flag('prune') ?? '1', 'prune', (n) => n >= 0 && n <= 1, 'a density 0..1');
    const gapFlag = flag('gap-bits') ?? 'auto';
    const gapBits: PerLayer<number> | 'auto' = gapFlag === 'auto' ? 'auto' : perLayer(gapFlag, 'gap-bits', (n) => Number.isInteger(n) && n >= 1 && n <= SQZ_MAX_WIDTH, `auto or an integer 1..${SQZ_MAX_WIDTH}`);
    const number = (name: string, ok: (n: number) => boolean, what: string): number | undefined => {
      const v = flag(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (v.trim() === '' || !ok(n)) throw new UsageError(`--${name} must be ${what}, got ${v}`);
      if (kmeans !== 'entropy') throw new UsageError(`--${name} applies to --kmeans entropy only`);
      return n;
    };
    const lambda = number('lambda', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0');
    const maxBytes = number('max-bytes', (n) => Number.isInteger(n) && n > 0, 'a positive integer');
    const arch = flag('arch');
    if (arch !== undefined && !(arch in ARCHS)) throw new UsageError(`unknown --arch ${arch}: use one of ${ARCH_NAMES.join(', ')}`);
    recipe = flag('recipe') as Recipe | undefined;
    if (recipe !== undefined && !Object.hasOwn(RECIPES, recipe)) throw new UsageError(`--recipe must be one of ${Object.keys(RECIPES).join(', ')}, got ${recipe}`);
    calibrate = flag('calibrate');
    if (calibrate !== undefined) {
      if (maxBytes === undefined) throw new UsageError('--calibrate needs --max-bytes (the budget the calibrated file must fit)');
      if (lambda !== undefined) throw new UsageError('--calibrate chooses lambda per layer itself; leave out --lambda');
    }
    const versionFlag = flag('sqz-version');
    if (versionFlag !== undefined && versionFlag !== '1' && versionFlag !== '3') throw new UsageError(`--sqz-version must be 1 or 3, got ${versionFlag}`);
    const version = versionFlag === undefined ? (calibrate !== undefined ? 3 : 1) : (Number(versionFlag) as 1 | 3);
    options = {
      kmeans,
      rounding: choice('rounding', ['balanced', 'nearest'] as const, 'balanced'),
      codebookF16: choice('codebook', ['f16', 'f32'] as const, 'f16') === 'f16',
      biasF16: choice('bias', ['f16', 'f32'] as const, 'f16') === 'f16',
      huffman: !args.flags.has('no-huffman'),
      density,
      gapBits,
      ...(bits === undefined ? {} : { bits }),
      ...(lambda === undefined ? {} : { lambda }),
      ...(maxBytes === undefined ? {} : { maxBytes }),
      ...(arch === undefined ? {} : { arch: arch as ArchName }),
      version,
    } satisfies CompressOptions;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('compress', e, HELP));
      return 2;
    }
    throw e;
  }
  const [input, output] = args.positionals as [string, string];
  if (!existsSync(input)) {
    process.stderr.write(`squeezenet compress: ${input}: no such file\n`);
    return 1;
  }
  let result: CompressResult;
  let inputBytes: number;
  // Only a --max-bytes search is long enough to need it.
  const progress = Progress.choose(args.flags.has('progress'), args.flags.has('no-progress'), 1, 1);
  try {
    const bytes = readWeightsFile(input, input);
    inputBytes = bytes.length;
    const read = decodeWeights(bytes, options.arch === undefined ? {} : { arch: options.arch });
    const written = recipe ?? read.recipe;
    const why = recipe !== undefined ? `--recipe ${recipe}` : read.recipeSource.reason;
    process.stderr.write(
      read.recipeSource.kind === 'default' && recipe === undefined
        ? `squeezenet compress: warning: ${input} (${read.format}, SqueezeNet ${describeArch(read.arch)}): recipe ${written} is a guess (${why}); it is written into ${output}'s metadata: pass --recipe ${written === 'caffe' ? 'torchvision' : 'caffe'} if the weights were trained otherwise\n`
        : `squeezenet compress: ${input} (${read.format}, SqueezeNet ${describeArch(read.arch)}): recipe ${written}, because ${why}; written into ${output}'s metadata\n`,
    );
    for (const note of read.notes) process.stderr.write(`squeezenet compress: note: ${note}\n`);
    if (calibrate === undefined) {
      result = compress(read.weights, { ...options, arch: read.arch, metadata: { recipe: written }, progress: (m) => progress.status(m) });
      progress.clear();
    } else {
      const inputs = await calibrationInputs(calibrate, written);
      process.stderr.write(`squeezenet compress: calibrating on ${inputs.length} images of ${calibrate} (and their mirror images), ${written} preprocessing\n`);
      const { kmeans: _k, rounding: _r, ...rest } = options;
      result = await compressCalibrated(read.weights, inputs, {
        ...rest,
        maxBytes: options.maxBytes!,
        arch: read.arch,
        metadata: { recipe: written },
        progress: (m) => progress.status(m),
        log: (m) => {
          progress.clear();
          process.stderr.write(`squeezenet compress: ${m}\n`);
        },
      });
      progress.clear();
    }
  } catch (e) {
    progress.clear();
    // The library's typed errors say what is wrong in their message, as classify prints them; anything else is named.
    const what = e instanceof CliError ? e.message : `${input}: ${e instanceof SqueezeNetError ? '' : `${(e as Error).name}: `}${(e as Error).message}`;
    process.stderr.write(`squeezenet compress: ${what}\n`);
    return 1;
  }
  try {
    makeDirs(dirname(resolve(output)));
    writeFileSync(output, result.bytes);
  } catch (e) {
    process.stderr.write(`squeezenet compress: cannot write ${output}: ${(e as Error).message}\n`);
    return 1;
  }
  if (args.flags.has('json')) {
    const layers = result.layers.map(({ codebook, codes, ...l }) => ({ ...l, k: codebook.length - 1 }));
    process.stdout.write(`${JSON.stringify({ input, output, inputBytes, arch: result.file.arch, metadata: result.file.metadata ?? {}, sizes: result.sizes, layers })}\n`);
  } else {
    process.stdout.write(`${formatReport(result, input, inputBytes, output, options.kmeans, calibrate === undefined ? options.rounding : 'calibrated (GPTQ)')}\n`);
  }
  return 0;
}
