// What `classify` and `eval` share: finding the weights, loading the model once, progress on
// stderr. Reading an image file to its top classes is cli/src/api.ts's classifyFile.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  type ArchName,
  DEFAULT_MODEL_FILE,
  decodeWeights,
  describeArch,
  labelSource,
  parseLabels,
  RECIPES,
  type Recipe,
  type RecipeSource,
  SqueezeNet,
} from 'squeezenet-wasm';
import { UsageError } from './args.js';
import { fileProblem } from './paths.js';

export interface WeightsLocation {
  readonly path: string;
  /** How the path was chosen, for messages. */
  readonly from: string;
}

/** The model that ships in the library package (lossless .sqz of the Deep Compression SqueezeNet v1.0). */
export function defaultModelPath(): string {
  return createRequire(import.meta.url).resolve(`squeezenet-wasm/${DEFAULT_MODEL_FILE}`);
}

/** --weights FILE, else $SQUEEZENET_WEIGHTS, else the default model shipped with the library. */
export function weightsLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): WeightsLocation {
  if (flag !== undefined) return { path: resolve(flag), from: '--weights' };
  if (env.SQUEEZENET_WEIGHTS) return { path: resolve(env.SQUEEZENET_WEIGHTS), from: 'SQUEEZENET_WEIGHTS' };
  return { path: defaultModelPath(), from: 'the default model, Deep Compression SqueezeNet v1.0' };
}

/** Larger than any SqueezeNet file (float32 v1.0 with bypasses is about 6 MiB; ONNX adds little). */
const MAX_WEIGHTS_BYTES = 64 * 2 ** 20;

/** A failure the command reports in one line and exits 1 for. */
export class CliError extends Error {
  override name = 'CliError';
}

export const WEIGHTS_HINT =
  'point --weights FILE or SQUEEZENET_WEIGHTS at compressed_SqueezeNet.net (the Deep Compression SqueezeNet v1.0) ' +
  'or a SqueezeNet .sqz, .safetensors or .onnx file; without either, the model that ships with the library is used';

/** A loaded network and how its inputs must be prepared. */
export interface CliModel {
  readonly model: SqueezeNet;
  /** The preprocessing: from --recipe, else the one the weight file gives (see `recipeSource`). */
  readonly recipe: Recipe;
  /** Where the recipe came from: `--recipe`, or the file's (metadata, evidence, or a default guess). */
  readonly recipeSource: RecipeSource | { readonly kind: 'option'; readonly reason: string };
  /** The detected weight format: `deepcompression`, `sqz`, `safetensors`, `onnx`. */
  readonly format: string;
  /** The network, in words: `v1.0-caffe`, `v1.1 (10 classes)`. */
  readonly arch: string;
  /** conv10's filters: the classes the network scores. */
  readonly classes: number;
  /** From --labels: one name per class. */
  readonly labels?: readonly string[];
  /** What decoding the file noticed (a prefix stripped, float16 widened, ...). */
  readonly notes: readonly string[];
  dispose(): void;
}

export interface ModelChoice {
  /** --recipe: overrides the recipe the weight file gives. */
  readonly recipe?: Recipe;
  /** --arch: run the weights as another network with the same tensors (e.g. v1.0-caffe). */
  readonly arch?: ArchName;
  /** --labels FILE: the class names, one a line or a JSON array. */
  readonly labels?: string;
}

const RECIPE_WORDS: Readonly<Record<Recipe, string>> = {
  caffe: '227x227, BGR, 0..255 minus the means 104/117/123',
  torchvision: '224x224, RGB 0..1, ImageNet mean and std',
};

/**
 * What the command tells on stderr about the model before any result: the weights, the recipe
 * and why (a warning naming --recipe when it is a guess), the notes, and how classes are named.
 */
export function modelReport(m: CliModel, command: string): string[] {
  const lines = [`squeezenet ${command}: ${m.format} weights, SqueezeNet ${m.arch}, ${m.classes} class${m.classes === 1 ? '' : 'es'}`];
  const recipe = `recipe ${m.recipe} (${RECIPE_WORDS[m.recipe]})`;
  if (m.recipeSource.kind === 'default') {
    const other = m.recipe === 'caffe' ? 'torchvision' : 'caffe';
    lines.push(`squeezenet ${command}: warning: ${recipe} is a guess: ${m.recipeSource.reason}; if the weights were trained otherwise, pass --recipe ${other}`);
  } else {
    lines.push(`squeezenet ${command}: ${recipe}, because ${m.recipeSource.reason}`);
  }
  for (const note of m.notes) lines.push(`squeezenet ${command}: note: ${note}`);
  if (m.labels === undefined && m.classes !== 1000) {
    lines.push(`squeezenet ${command}: no labels given for the ${m.classes} class${m.classes === 1 ? '' : 'es'} (ImageNet's names fit 1000 only): classes are shown by index; name them with --labels FILE`);
  }
  return lines;
}

/**
 * Reads a weight file for the command line: a regular file (a FIFO or a device would hang or
 * never end) under 64 MiB, gunzipped with the same bound when it is gzip. `name` is how messages
 * call it; `hint` ends the message when it is not a regular file.
 */
export function readWeightsFile(path: string, name: string, hint = ''): Uint8Array {
  const limit = `a SqueezeNet file is under ${MAX_WEIGHTS_BYTES / 2 ** 20} MiB`;
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError(`${name} is not a regular file${st.isDirectory() ? ' but a directory' : ''}${hint}`);
    if (st.size > MAX_WEIGHTS_BYTES) throw new CliError(`${name} is ${st.size.toLocaleString('en-US')} bytes; ${limit}`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${name}: ${(e as Error).message}`);
  }
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_WEIGHTS_BYTES });
  } catch (e) {
    throw new CliError(`${path}: cannot gunzip (${(e as Error).message}; ${limit.replace('is under', 'unpacks to under')})`);
  }
}

/**
 * Reads the weights (Deep Compression .net, .sqz, safetensors or ONNX, told apart by their bytes;
 * a gzip-compressed file is unpacked first), infers the network and the recipe, reads --labels
 * and loads it, once per process.
 */
export async function loadModel(where: WeightsLocation, choice: ModelChoice = {}): Promise<CliModel> {
  let labels: string[] | undefined;
  if (choice.labels !== undefined) {
    let text: string;
    try {
      text = readFileSync(choice.labels, 'utf8');
    } catch (e) {
      throw new CliError(`--labels ${choice.labels}: ${fileProblem(e)}`);
    }
    try {
      labels = parseLabels(text);
    } catch (e) {
      throw new CliError(`--labels ${choice.labels}: ${(e as Error).message.replace(/^labels: /, '')}`);
    }
  }
  if (!existsSync(where.path)) {
    throw new CliError(`weights not found at ${where.path} (${where.from}); ${WEIGHTS_HINT}`);
  }
  const bytes = readWeightsFile(where.path, `weights ${where.path} (${where.from})`, `; ${WEIGHTS_HINT}`);
  try {
    const d = decodeWeights(bytes, choice.arch === undefined ? {} : { arch: choice.arch });
    const fixed = (d as { fixedInputSize?: readonly [number, number] }).fixedInputSize;
    const recipe = choice.recipe ?? d.recipe;
    const model = await SqueezeNet.load({ arch: d.arch, weights: d.weights, recipe, ...(fixed ? { inputSize: fixed } : {}) });
    if (labels !== undefined) {
      try {
        labelSource(model.classes, labels);
      } catch (e) {
        model.dispose();
        // The labels file is what is wrong, not the weights: not prefixed with their path below.
        throw new CliError(`--labels ${choice.labels}: ${(e as Error).message}`);
      }
    }
    const recipeSource =
      choice.recipe === undefined
        ? d.recipeSource
        : { kind: 'option' as const, reason: `--recipe ${choice.recipe} (the file's own: ${d.recipe}, ${d.recipeSource.kind === 'default' ? 'a guess' : d.recipeSource.reason})` };
    return {
      model,
      recipe,
      recipeSource,
      format: d.format,
      arch: describeArch(d.arch),
      classes: model.classes,
      ...(labels ? { labels } : {}),
      notes: d.notes,
      dispose: () => model.dispose(),
    };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${where.path}: ${(e as Error).message}`);
  }
}

const ARCH_CHOICES: readonly ArchName[] = ['v1.0', 'v1.0-caffe', 'v1.1', 'simple-bypass', 'complex-bypass'];

/** The --recipe, --arch and --labels flags, checked: a UsageError when they name nothing known. */
export function modelChoice(recipe: string | true | undefined, arch: string | true | undefined, labels?: string | true): ModelChoice {
  if (labels === true) throw new UsageError('--labels needs a FILE');
  if (recipe !== undefined && (recipe === true || !Object.keys(RECIPES).includes(recipe))) {
    throw new UsageError(`--recipe must be one of ${Object.keys(RECIPES).join(', ')}, got ${String(recipe)}`);
  }
  if (arch !== undefined && (arch === true || !(ARCH_CHOICES as readonly string[]).includes(arch))) {
    throw new UsageError(`--arch must be one of ${ARCH_CHOICES.join(', ')}, got ${String(arch)}`);
  }
  return {
    ...(recipe === undefined ? {} : { recipe: recipe as Recipe }),
    ...(arch === undefined ? {} : { arch: arch as ArchName }),
    ...(labels === undefined ? {} : { labels }),
  };
}

/** `[i/n] file`, or a step's status, on stderr: rewritten in place on a terminal, one line each with --progress. */
export class Progress {
  private shown = false;
  constructor(
    private readonly mode: 'tty' | 'lines' | 'off',
    private readonly total: number,
  ) {}

  static choose(flag: boolean, quiet: boolean, total: number, min = 2): Progress {
    const tty = process.stderr.isTTY === true;
    const mode = quiet || total < min ? 'off' : flag ? (tty ? 'tty' : 'lines') : tty ? 'tty' : 'off';
    return new Progress(mode, total);
  }

  tick(i: number, file: string): void {
    this.status(`[${i}/${this.total}] ${file}`);
  }

  /** Any one-line status (a step of a long search): in place on a terminal, a line with --progress. */
  status(text: string): void {
    if (this.mode === 'off') return;
    if (this.mode === 'lines') {
      process.stderr.write(`${text}\n`);
    } else {
      const width = Math.max(20, (process.stderr.columns || 80) - 1);
      process.stderr.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.shown = true;
    }
  }

  /** Wipes the in-place line before anything else is written. */
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

export const oneLine = (e: unknown): string => {
  const err = e as Error;
  // Callers name the file themselves: an ImageDecodeError's reason, not its message (which names it too).
  const text =
    err instanceof CliError ? err.message : err?.name === 'ImageDecodeError' ? ((err as { reason?: string }).reason ?? err.message) : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
  return text.replace(/\s+/g, ' ').trim();
};
