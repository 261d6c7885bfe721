// `squeezenet trace`: golden vectors. Runs one image (or a trace file's input tensor) through the
// network and writes the input and every layer's output, NCHW float32, with metadata, as
// safetensors or .npz (cli/src/trace-file.ts; the layout is in the README, "Conformance kit").

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { preprocess, RECIPES, topK, type LayerOutput } from 'squeezenet-wasm';
import { parseArgs, UsageError, usageErrorText } from './args.js';
import { decodeImage } from './images.js';
import { CliError, loadModel, modelChoice, modelReport, oneLine, weightsLocation, type CliModel, type ModelChoice } from './load.js';
import { makeDirs } from './paths.js';
import {
  formatForPath,
  npzChunks,
  readTraceFile,
  safetensorsChunks,
  TRACE_LAYOUT,
  TRACE_LAYOUT_VERSION,
  TraceFileError,
  type LayerTensor,
  type TraceFormat,
} from './trace-file.js';

const HELP = `Usage: squeezenet trace [options] IMAGE --out FILE
       squeezenet trace [options] --input-from TRACE --out FILE

Golden vectors for SqueezeNet: runs one image through the network and writes the
preprocessed input and every layer's output, each an NCHW float32 tensor named as
SqueezeNet.trace() names it (input, conv1, maxpool1, fire2.squeeze, fire2.expand1x1,
fire2.expand3x3, fire2, ..., conv10, avgpool10), with metadata: arch, recipe, input
size, the weights' SHA-256 and the project's version.

FILE is safetensors unless it ends in .npz (or --format says): the layout is in the
README, section "Conformance kit", written so that C or Python can produce it too.
Compare two traces with \`squeezenet compare A B\`.

Options:
  --out FILE         where to write the trace (its folder is created)
  --format F         safetensors or npz (default: npz for a name ending in .npz,
                     else safetensors)
  --input-from TRACE run the network on the \`input\` tensor (1x3xHxW) of another
                     trace file (safetensors or .npz, e.g. PyTorch's) instead of an
                     image, so that two engines see the very same input
  --weights FILE     the weights, as for classify: a Deep Compression .net, .sqz,
                     .safetensors or .onnx file (default: $SQUEEZENET_WEIGHTS, else
                     the model that ships with the library, Deep Compression
                     SqueezeNet v1.0)
  --recipe NAME      caffe (227, BGR minus means) or torchvision (224); default: the
                     one the weight format implies
  --arch NAME        run the weights as another network with the same tensors
  -h, --help         this text

The weights and the recipe used (and why) are told on stderr, as by classify; the
recipe and the reason go into the metadata too.

Exit codes: 0 written, 1 an input or the weights could not be read, 2 usage.`;

/** The library's and the command's versions, as package.json says. */
function versions(): { library: string; cli: string } {
  const read = (url: string | URL): string => {
    try {
      return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let library = 'unknown';
  try {
    library = read(createRequire(import.meta.url).resolve('squeezenet-wasm/package.json'));
  } catch {
    // stays unknown
  }
  return { library, cli: read(new URL('../package.json', import.meta.url)) };
}

/** Writes `chunks` to `path` through a temporary file beside it, so that a failure leaves no half file. */
export function writeChunks(path: string, chunks: readonly Uint8Array[]): number {
  makeDirs(dirname(resolve(path)));
  const tmp = `${path}.${process.pid}.tmp`;
  let bytes = 0;
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) {
      for (let o = 0; o < c.length; ) o += writeSync(fd, c, o, c.length - o);
      bytes += c.length;
    }
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return bytes;
}

interface Source {
  readonly input: Float32Array;
  readonly height: number;
  readonly width: number;
  /** Metadata describing where the input came from. */
  readonly meta: Record<string, string>;
}

async function imageSource(m: CliModel, file: string): Promise<Source> {
  try {
    const pixels = await decodeImage(file); // a path is checked (regular file, size) before it is read
    const size = RECIPES[m.recipe].input;
    return { input: preprocess(pixels, m.recipe), height: size, width: size, meta: { image: basename(file), recipe: m.recipe, recipe_source: m.recipeSource.reason } };
  } catch (e) {
    throw new CliError(`${file}: ${oneLine(e)}`);
  }
}

function traceSource(file: string): Source {
  const t = readTraceFile(file);
  const x = t.tensors.get('input');
  if (x === undefined) throw new CliError(`${file}: has no tensor named input (it has ${[...t.tensors.keys()].slice(0, 5).join(', ') || 'none'})`);
  const [n, c, h, w] = x.shape;
  if (x.shape.length !== 4 || n !== 1 || c !== 3 || !(h! > 0 && w! > 0)) {
    throw new CliError(`${file}: input has shape [${x.shape.join(', ')}], not [1, 3, H, W]`);
  }
  return {
    input: x.data instanceof Float32Array ? x.data : Float32Array.from(x.data),
    height: h!,
    width: w!,
    meta: { input_from: basename(file), recipe: t.metadata.recipe ?? 'unknown (input from a trace)', ...(t.metadata.image ? { image: t.metadata.image } : {}) },
  };
}

export async function traceCommand(argv: string[]): Promise<number> {
  let args;
  let choice: ModelChoice;
  let out: string;
  let format: TraceFormat;
  let inputFrom: string | undefined;
  try {
    args = parseArgs(argv, ['out', 'format', 'input-from', 'weights', 'recipe', 'arch'], ['help']);
    if (args.flags.has('help')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    choice = modelChoice(args.flags.get('recipe'), args.flags.get('arch'));
    const o = args.flags.get('out');
    if (o === undefined) throw new UsageError('--out FILE is required');
    out = o as string;
    try {
      format = formatForPath(out, args.flags.get('format') as string | undefined);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    inputFrom = args.flags.get('input-from') as string | undefined;
    if (inputFrom !== undefined && args.positionals.length > 0) throw new UsageError('give an IMAGE or --input-from TRACE, not both');
    if (inputFrom === undefined && args.positionals.length !== 1) {
      throw new UsageError(args.positionals.length === 0 ? 'no IMAGE given' : `one IMAGE per trace, got ${args.positionals.length}`);
    }
    if (inputFrom !== undefined && choice.recipe !== undefined) throw new UsageError('--recipe has no effect with --input-from (the input is already preprocessed)');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(usageErrorText('trace', e, HELP));
      return 2;
    }
    throw e;
  }
  let model: CliModel | undefined;
  try {
    const where = weightsLocation(args.flags.get('weights') as string | undefined);
    model = await loadModel(where, choice);
    process.stderr.write(`${modelReport(model, 'trace').join('\n')}\n`);
    const source = inputFrom !== undefined ? traceSource(inputFrom) : await imageSource(model, args.positionals[0]!);
    let run: { logits: Float32Array; layers: LayerOutput[] };
    try {
      run = model.model.trace(source.input, { height: source.height, width: source.width });
    } catch (e) {
      throw new CliError(`${inputFrom ?? args.positionals[0]}: ${oneLine(e)}`);
    }
    const layers: LayerTensor[] = [{ name: 'input', shape: [1, 3, source.height, source.width], data: source.input }, ...run.layers];
    const v = versions();
    const metadata: Record<string, string> = {
      format: TRACE_LAYOUT,
      format_version: TRACE_LAYOUT_VERSION,
      layout: 'NCHW',
      dtype: 'F32',
      layers: layers.map((l) => l.name).join(','),
      arch: model.arch,
      classes: String(model.classes),
      input_size: `${source.height}x${source.width}`,
      ...source.meta,
      weights: basename(where.path),
      weights_format: model.format,
      weights_sha256: createHash('sha256').update(readFileSync(where.path)).digest('hex'),
      version: v.library,
      generator: `squeezenet-wasm-cli ${v.cli} (library squeezenet-wasm ${v.library}, Node ${process.version})`,
    };
    const chunks = format === 'npz' ? npzChunks(layers, metadata) : safetensorsChunks(layers, metadata);
    let bytes: number;
    try {
      bytes = writeChunks(out, chunks);
    } catch (e) {
      throw new CliError(`cannot write ${out}: ${oneLine(e)}`);
    }
    const best = topK(run.logits, 1, model.labels ? { labels: model.labels } : {})[0]!;
    process.stdout.write(
      `${out}: ${format}, ${layers.length} tensors, ${bytes.toLocaleString('en-US')} bytes; ${model.arch}, ${metadata.recipe}, ` +
        `input ${metadata.input_size}; top-1 ${best.index}${best.label ? ` ${best.label}` : ''} (${(100 * best.prob).toFixed(2)}%)\n`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof CliError || e instanceof TraceFileError)) throw e;
    process.stderr.write(`squeezenet trace: ${e.message}\n`);
    return 1;
  } finally {
    model?.dispose();
  }
}
