// `squeezenet classify`: the top classes of each image, with the Deep Compression SqueezeNet or any weights given.

import type { Prediction } from 'squeezenet-wasm';
import { statSync } from 'node:fs';
import { intFlag, parseArgs, UsageError, usageErrorText } from './args.js';
import { classifyFile, parseBackground } from './api.js';
import type { ExifMode } from './images.js';
import { emptyFolderReason, expandInputs, readStdin, STDIN } from './inputs.js';
import { CliError, loadModel, modelChoice, modelReport, oneLine, Progress, weightsLocation, type CliModel, type ModelChoice } from './load.js';

const HELP = `Usage: squeezenet classify [options] IMAGE|DIR|- ...

Classifies photos (JPEG, PNG, WebP, GIF, TIFF, AVIF) into ImageNet's 1000 classes with
the pretrained Deep Compression SqueezeNet v1.0 that ships with the library (or the
--weights given), preprocessed as its weights were trained: for this model as for Caffe,
resized to 256x256, centre crop 227, BGR minus the means 104/117/123.

IMAGE is a file; DIR classifies the images in a folder (sorted by name; with
--recursive its subfolders too); - reads one image from standard input.

Options:
  --weights FILE  the weights: a Deep Compression .net, .sqz, .safetensors or .onnx
                  file (optionally gzipped), told apart by their bytes, the network
                  inferred (default: $SQUEEZENET_WEIGHTS, else the model
                  that ships with the library: the Deep Compression SqueezeNet
                  v1.0, re-encoded losslessly, 545 KB)
  --recipe NAME   caffe (227, BGR minus means) or torchvision (224, ImageNet mean and
                  std); default: the weight file's (its metadata, else caffe for Caffe
                  evidence: Deep Compression, v1.0-caffe, a 227 or data_0 input, a
                  Caffe producer; else torchvision, a guess). stderr says which and why
  --labels FILE   class names, one a line or a JSON array of strings, in class order
                  (default: ImageNet's for 1000 classes; others are shown by index)
  --arch NAME     run the weights as another network with the same tensors, e.g.
                  v1.0-caffe or simple-bypass for v1.0 weights
  --exif MODE     apply (default): turn each photo upright as its EXIF Orientation
                  says, as browsers show it; ignore: keep the stored pixels, as PIL
                  and torchvision read them
  --background C  what transparent pixels are composited over: white (default),
                  black, grey, R,G,B or #rrggbb; ignore: drop the alpha and keep the
                  colours under it, as PIL's convert('RGB')
  --top K         how many classes per image (default 5, at most 1000)
  -r, --recursive with DIR: descend into its subfolders
  --json          one JSON object per image and line:
                  {"file", "top": [{"index", "synset", "label", "prob"}]} (synset
                  for ImageNet's classes only; with --labels or none, "labels":
                  "given" or "none" too)
  --progress      show [i/n] progress on stderr even when it is not a terminal
  --no-progress   never show progress (on a terminal it shows for 2 or more images)
  -h, --help      this text

Pixels are decoded as PIL decodes them (libjpeg-turbo, through sharp). A file that
cannot be read or decoded (or is over 64 megapixels, or a JPEG of more than 100 scans)
is reported on stderr and skipped; the exit code is then 1. Usage errors exit 2.`;

function table(file: string, top: readonly Prediction[], imagenet: boolean): string {
  const rows = top.map((p, i) => [
    String(i + 1).padStart(4),
    `${(p.prob * 100).toFixed(2)}%`.padStart(7),
    String(p.index).padStart(5),
    ...(imagenet ? [p.synset ?? ''] : []),
    p.label ?? '(no labels given)',
  ]);
  const head = ['rank'.padStart(4), 'prob'.padStart(7), 'index', ...(imagenet ? ['synset'.padEnd(9)] : []), 'label'];
  return [file, ...[head, ...rows].map((r) => `  ${r.join('  ')}`.trimEnd())].join('\n');
}

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

const labelKind = (m: CliModel): 'imagenet' | 'given' | 'none' => (m.labels ? 'given' : m.classes === 1000 ? 'imagenet' : 'none');

export async function classifyCommand(argv: string[]): Promise<number> {
  let args;
  let top: number;
  let choice: ModelChoice;
  let image: ImageChoice;
  try {
    args = parseArgs(argv, ['weights', 'top', 'recipe', 'arch', 'labels', 'exif', 'background'], ['json', 'help', 'progress', 'no-progress', 'recursive']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    top = intFlag(args, 'top', 5);
    if (top > 1000) throw new UsageError(`--top must be at most 1000, got ${top}`);
    choice = modelChoice(args.flags.get('recipe'), args.flags.get('arch'), args.flags.get('labels'));
    image = imageChoice(args.flags.get('exif'), args.flags.get('background'));
    if (args.positionals.length === 0) throw new UsageError('no IMAGE given');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('classify', e, HELP));
      return 2;
    }
    throw e;
  }
  const json = args.flags.has('json');
  let files: string[];
  let model;
  try {
    files = expandInputs(args.positionals, args.flags.has('recursive'));
    if (files.length === 0) throw new CliError(`no images in ${args.positionals.join(', ')}`);
    model = await loadModel(weightsLocation(args.flags.get('weights') as string | undefined), choice);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`squeezenet classify: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`${modelReport(model, 'classify').join('\n')}\n`);
  const kind = labelKind(model);
  const progress = Progress.choose(args.flags.has('progress'), args.flags.has('no-progress'), files.length);
  let failed = 0;
  let printed = 0;
  for (const [i, file] of files.entries()) {
    progress.tick(i + 1, file);
    let result: Prediction[];
    try {
      // A path is checked before it is read (a FIFO or /dev/zero would block or never end).
      result = await classifyFile(model, file === STDIN ? await readStdin() : file, { top, ...image });
    } catch (e) {
      failed++;
      progress.clear();
      // expandInputs keeps a folder that holds no images: say that, rather than "is a directory".
      let why = file !== STDIN && isDirectory(file) ? emptyFolderReason(file, args.flags.has('recursive')) : oneLine(e);
      if (/^https?:\/\//i.test(file) && why === 'no such file') why += `: URLs are not fetched; download the image, or pipe it in: curl -sL URL | squeezenet classify -`;
      process.stderr.write(`squeezenet classify: ${file}: ${why}\n`);
      continue;
    }
    progress.clear();
    if (json) {
      const topJson = result.map(({ index, synset, label, prob }) => ({ index, synset, label, prob }));
      process.stdout.write(`${JSON.stringify({ file, top: topJson, ...(kind === 'imagenet' ? {} : { labels: kind }) })}\n`);
    } else {
      process.stdout.write(`${printed > 0 ? '\n' : ''}${table(file, result, kind === 'imagenet')}\n`);
    }
    printed++;
  }
  progress.clear();
  model.dispose();
  if (failed > 0) process.stderr.write(`squeezenet classify: ${failed} of ${files.length} images failed\n`);
  return failed > 0 ? 1 : 0;
}

/** The --exif and --background flags, checked. */
export interface ImageChoice {
  readonly exif?: ExifMode;
  readonly background?: ReturnType<typeof parseBackground>;
}

export function imageChoice(exif: string | true | undefined, background: string | true | undefined): ImageChoice {
  if (exif !== undefined && exif !== 'apply' && exif !== 'ignore') throw new UsageError(`--exif must be apply or ignore, got ${String(exif)}`);
  const bg = typeof background === 'string' ? parseBackground(background) : undefined;
  if (background !== undefined && bg === undefined) {
    throw new UsageError(`--background must be white, black, grey, R,G,B (0..255), #rrggbb or ignore, got ${String(background)}`);
  }
  return { ...(exif === undefined ? {} : { exif }), ...(bg === undefined ? {} : { background: bg }) };
}
