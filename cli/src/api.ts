// The Node API: one call from an image file to its top classes, through exactly the command
// line's pipeline (decodeImage with sharp, the library's preprocess with the transparency rule,
// the model's recipe), so `squeezenet classify photo.jpg` and `await classifyFile(undefined,
// 'photo.jpg')` give the same answer.

import { classify, InputError, SqueezeNet, type Prediction, type PreprocessOptions, type Recipe, type Rgb } from 'squeezenet-wasm';
import { decodeImage, type DecodeOptions, type ImageInput } from './images.js';
import { loadModel, weightsLocation, type CliModel } from './load.js';

export interface ClassifyFileOptions extends DecodeOptions, PreprocessOptions {
  /** How many classes to return (default 5; at most the network's classes). */
  readonly top?: number;
  /** The preprocessing. Default: the model's (a CliModel's: --recipe or the weight file's; a SqueezeNet's `recipe`). */
  readonly recipe?: Recipe;
}

let defaultModel: Promise<CliModel> | undefined;

/**
 * The command line's default model, loaded once per process: $SQUEEZENET_WEIGHTS, else the model
 * that ships with the library (the Deep Compression SqueezeNet v1.0,
 * `squeezenet-wasm/squeezenet1_0-deep-compression.sqz`). Throws CliError (naming the file) when
 * $SQUEEZENET_WEIGHTS points at nothing or at a file that cannot be read as weights.
 */
export function loadDefaultModel(): Promise<CliModel> {
  defaultModel ??= loadModel(weightsLocation(undefined)).catch((e: unknown) => {
    defaultModel = undefined;
    throw e;
  });
  return defaultModel;
}

const isCliModel = (m: unknown): m is CliModel => typeof m === 'object' && m !== null && (m as CliModel).model instanceof SqueezeNet;

/**
 * Decodes an image file (a path, or its bytes as a Buffer, Uint8Array or ArrayBuffer) as
 * {@link decodeImage} does (EXIF orientation applied unless `exif: 'ignore'`), composites any
 * transparency over `background` (white unless given; `'ignore'` keeps PIL's convert('RGB')),
 * preprocesses it with the model's recipe, runs the network and returns the `top` classes.
 * `model`: a loaded SqueezeNet, a CliModel (from loadModel), or undefined for the command line's
 * default model ({@link loadDefaultModel}).
 *
 * ```ts
 * import { classifyFile } from 'squeezenet-wasm-cli';
 * const [best] = await classifyFile(undefined, 'photo.jpg');
 * ```
 *
 * Throws ImageDecodeError (the file), InputError (an option), CliError (no default weights).
 */
export async function classifyFile(model: SqueezeNet | CliModel | undefined, image: ImageInput, options: ClassifyFileOptions = {}): Promise<Prediction[]> {
  if (options === null || typeof options !== 'object') throw new InputError('options must be an object');
  if (model !== undefined && !(model instanceof SqueezeNet) && !isCliModel(model)) {
    throw new InputError('model must be a SqueezeNet, a CliModel from loadModel, or undefined for the default model');
  }
  const m = model ?? (await loadDefaultModel());
  const pixels = await decodeImage(image, options);
  const cli = isCliModel(m) ? m : undefined;
  const net = cli ? cli.model : (m as SqueezeNet);
  // A CliModel carries its recipe (--recipe or the weight file's) and --labels; a SqueezeNet its own recipe.
  const recipe = options.recipe ?? cli?.recipe;
  return classify(net, pixels, {
    top: Math.min(options.top ?? 5, net.classes),
    ...(recipe === undefined ? {} : { recipe }),
    ...(cli?.labels === undefined ? {} : { labels: cli.labels }),
    ...(options.background === undefined ? {} : { background: options.background }),
  });
}

/** Named colours `--background` takes besides R,G,B and #rrggbb. */
const NAMED: Record<string, Rgb> = { white: [255, 255, 255], black: [0, 0, 0], grey: [128, 128, 128], gray: [128, 128, 128] };

/**
 * The `--background` flag: `white` (the default), `black`, `grey`, `R,G,B` (0..255 each),
 * `#rrggbb`, or `ignore` (the alpha dropped, as PIL's convert('RGB')). Undefined when it names none.
 */
export function parseBackground(text: string): Rgb | 'ignore' | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'ignore') return 'ignore';
  if (NAMED[t]) return NAMED[t];
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(t);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const parts = t.split(',').map((x) => x.trim());
  if (parts.length === 3 && parts.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) return parts.map(Number) as unknown as Rgb;
  return undefined;
}
