// `squeezenet eval`: top-1 and top-5 accuracy over a folder of labelled images.

import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { IMAGENET_CLASS_COUNT, imagenetClasses } from 'squeezenet-wasm';
import { parseArgs, UsageError, usageErrorText } from './args.js';
import { classifyFile } from './api.js';
import { imageChoice, type ImageChoice } from './classify.js';
import { IMAGE_EXTENSIONS } from './images.js';
import { CliError, loadModel, modelChoice, modelReport, oneLine, Progress, weightsLocation, type ModelChoice } from './load.js';

const HELP = `Usage: squeezenet eval [--weights FILE] [--recipe NAME] [--labels FILE] [--json] DIR

Classifies every .jpg, .jpeg, .png, .webp, .gif, .tif, .tiff and .avif file in DIR
(any case, not recursive) with the Deep Compression SqueezeNet v1.0 that ships with
the library (or the --weights given) and prints top-1 and top-5 accuracy. Each file's
label is the class index its name starts with, then "_": IDX_anything.JPEG, e.g.
000_tench.jpg or 340_n02391049_zebra.JPEG. When the name carries an ImageNet synset
after the index, it is checked against the class of that index: a mismatch is
counted in a warning, and 10 % or more (the names counting classes from 1, say) is
an error: exit 1.

Options:
  --weights FILE  the weights: a Deep Compression .net, .sqz, .safetensors or .onnx
                  file (optionally gzipped), the network inferred (default:
                  $SQUEEZENET_WEIGHTS, else the model that ships with the
                  library: the Deep Compression SqueezeNet v1.0)
  --recipe NAME   caffe or torchvision preprocessing (default: from the weights;
                  stderr says which and why)
  --labels FILE   class names, one a line or a JSON array (checked: one per class)
  --arch NAME     run the weights as another network with the same tensors
  --exif MODE     apply (default: photos turned upright by their EXIF Orientation)
                  or ignore (the stored pixels, as PIL and torchvision read them)
  --background C  what transparency is composited over: white (default), black,
                  grey, R,G,B, #rrggbb, or ignore (PIL's convert('RGB'))
  --json          print one JSON line instead: {"images", "top1", "top5",
                  "top1_accuracy", "top5_accuracy", "failed": [{"file", "error"}],
                  "synsets_checked", "synset_mismatches"}
  --progress      show [i/n] progress on stderr even when it is not a terminal
  --no-progress   never show progress (on a terminal it always shows)
  -h, --help      this text

A file that cannot be read, decoded or labelled is reported on stderr, left out of the
accuracy, and makes the exit code 1. Usage errors exit 2.`;

/** The class index a file name starts with (`340_n02391049_zebra.JPEG` -> 340), below `classes`. */
export function labelOf(file: string, classes: number = IMAGENET_CLASS_COUNT): number {
  const m = /^(\d+)_/.exec(file);
  const label = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(label) || label >= classes) {
    throw new CliError(`its name does not start with a class index 0..${classes - 1} and "_" (IDX_name.JPEG)`);
  }
  return label;
}

/** The WordNet synset a file name carries after its index (`001_n01440764_tench.JPEG` -> n01440764), if any. */
export function synsetOf(file: string): string | undefined {
  return /^\d+_(n\d{8})(?=[_.]|$)/.exec(file)?.[1];
}

/** A file whose name's synset is not the class of its index. */
export interface SynsetMismatch {
  readonly file: string;
  readonly index: number;
  readonly synset: string;
  /** The ImageNet index of the name's synset, or undefined when it is not one of the 1000. */
  readonly synsetIndex: number | undefined;
}

/** At or above this share of mismatched names, `eval` stops trusting the labels: exit 1. */
export const SYNSET_MISMATCH_LIMIT = 0.1;

/**
 * What the mismatches say, in words: when most of them are off by the same amount (the
 * classic: names numbered from 1, the classes from 0), that offset.
 */
export function describeMismatches(mismatches: readonly SynsetMismatch[], checked: number): string {
  const classes = imagenetClasses();
  const offsets = new Map<number, number>();
  for (const m of mismatches) if (m.synsetIndex !== undefined) offsets.set(m.synsetIndex - m.index, (offsets.get(m.synsetIndex - m.index) ?? 0) + 1);
  const [offset, count] = [...offsets].sort((a, b) => b[1] - a[1])[0] ?? [0, 0];
  const e = mismatches[0]!;
  const example = `${e.file}: index ${e.index} is ${classes[e.index]!.synset} ${classes[e.index]!.name}, the name says ${e.synset}${e.synsetIndex === undefined ? ' (not an ImageNet synset)' : ` ${classes[e.synsetIndex]!.name}, class ${e.synsetIndex}`}`;
  let why = '';
  if (count >= mismatches.length / 2 && offset !== 0) {
    why =
      offset === -1
        ? `; ${count} of them are off by one: each name's index is one more than its synset's class (the names count classes from 1, ImageNet's indices start at 0)`
        : `; ${count} of them are off by ${Math.abs(offset)}: each name's index is ${Math.abs(offset)} ${offset < 0 ? 'more' : 'less'} than its synset's class`;
  }
  return `${mismatches.length} of ${checked} file names (${((100 * mismatches.length) / checked).toFixed(1)} %) carry a synset that is not the class of their index (e.g. ${example})${why}`;
}

const percent = (n: number, total: number): string => (total === 0 ? '-' : `${((100 * n) / total).toFixed(1)} %`);

export async function evalCommand(argv: string[]): Promise<number> {
  let args;
  let dir: string;
  let choice: ModelChoice;
  let image: ImageChoice;
  try {
    args = parseArgs(argv, ['weights', 'recipe', 'arch', 'labels', 'exif', 'background'], ['json', 'help', 'progress', 'no-progress']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positionals.length !== 1) {
      throw new UsageError(args.positionals.length === 0 ? 'no DIR given' : `one DIR only, got ${args.positionals.length} arguments`);
    }
    dir = args.positionals[0]!;
    choice = modelChoice(args.flags.get('recipe'), args.flags.get('arch'), args.flags.get('labels'));
    image = imageChoice(args.flags.get('exif'), args.flags.get('background'));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('eval', e, HELP));
      return 2;
    }
    throw e;
  }
  const json = args.flags.has('json');
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((d) => !d.isDirectory() && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(d.name).toLowerCase()))
      .map((d) => d.name)
      .sort();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'no such directory' : err.code === 'ENOTDIR' ? 'not a directory' : err.message;
    process.stderr.write(`squeezenet eval: ${dir}: ${reason}\n`);
    return 1;
  }
  if (files.length === 0) {
    process.stderr.write(`squeezenet eval: ${dir}: no image files (${IMAGE_EXTENSIONS.join(', ')})\n`);
    return 1;
  }
  let model;
  try {
    model = await loadModel(weightsLocation(args.flags.get('weights') as string | undefined), choice);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`squeezenet eval: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`${modelReport(model, 'eval').join('\n')}\n`);
  // ImageNet's synsets check the names' indices (only when the classes are ImageNet's).
  const synsetIndex = new Map(model.classes === IMAGENET_CLASS_COUNT && model.labels === undefined ? imagenetClasses().map((c) => [c.synset, c.index]) : []);
  const mismatches: SynsetMismatch[] = [];
  let synsetsChecked = 0;
  const progress = Progress.choose(args.flags.has('progress'), args.flags.has('no-progress'), files.length, 1);
  const failed: { file: string; error: string }[] = [];
  let images = 0;
  let top1 = 0;
  let top5 = 0;
  const t0 = performance.now();
  for (const [i, file] of files.entries()) {
    progress.tick(i + 1, file);
    try {
      const label = labelOf(file, model.classes);
      const synset = synsetIndex.size > 0 ? synsetOf(file) : undefined;
      if (synset !== undefined) {
        synsetsChecked++;
        if (imagenetClasses()[label]!.synset !== synset) mismatches.push({ file, index: label, synset, synsetIndex: synsetIndex.get(synset) });
      }
      const top = (await classifyFile(model, join(dir, file), { top: 5, ...image })).map((p) => p.index); // a FIFO named x.jpg is refused before it is read
      images++;
      if (top[0] === label) top1++;
      if (top.includes(label)) top5++;
    } catch (e) {
      const error = oneLine(e);
      failed.push({ file, error });
      progress.clear();
      process.stderr.write(`squeezenet eval: ${join(dir, file)}: ${error}\n`);
    }
  }
  progress.clear();
  model.dispose();
  const seconds = (performance.now() - t0) / 1000;
  if (json) {
    const summary = {
      images,
      top1,
      top5,
      top1_accuracy: images === 0 ? null : top1 / images,
      top5_accuracy: images === 0 ? null : top5 / images,
      failed,
      synsets_checked: synsetsChecked,
      synset_mismatches: mismatches.length,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const lines = [
      `${images} image${images === 1 ? '' : 's'} in ${dir} (SqueezeNet ${model.arch}, ${model.format} weights, ${model.recipe} preprocessing), ${seconds.toFixed(1)} s`,
      `top-1: ${String(top1).padStart(String(images).length)}/${images}  ${percent(top1, images)}`,
      `top-5: ${String(top5).padStart(String(images).length)}/${images}  ${percent(top5, images)}`,
    ];
    if (failed.length > 0) lines.push(`failed: ${failed.length} (not counted; see above)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (mismatches.length > 0) {
    const text = describeMismatches(mismatches, synsetsChecked);
    if (mismatches.length >= SYNSET_MISMATCH_LIMIT * synsetsChecked) {
      process.stderr.write(`squeezenet eval: error: ${text}. The accuracy above scores against the wrong classes; rename the files so that each index is its synset's class.\n`);
      return 1;
    }
    process.stderr.write(`squeezenet eval: warning: ${text}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}
