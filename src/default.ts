// The model that ships in the package: the Deep Compression SqueezeNet v1.0 (Han et al., BSD
// licence, github.com/songhan/SqueezeNet-Deep-Compression), re-encoded losslessly as .sqz by
// scripts/make-default-model.mjs. Every weight is bit for bit the original .net's.

import { inWorkers, readAsset } from './assets.js';
import { InputError } from './errors.js';
import { SQZ_MAGIC, loadSqz } from './formats/sqz.js';
import type { LoadOptions, SqueezeNet } from './model.js';

/** The file name of the default model, as exported (`squeezenet-wasm/squeezenet1_0-deep-compression.sqz`). */
export const DEFAULT_MODEL_FILE = 'squeezenet1_0-deep-compression.sqz';

// Static, so that bundlers emit the file and rewrite the path (src/ and dist/src/ both sit one
// level below models/: the build copies the committed models/ to dist/models/).
const DEFAULT_MODEL_URL = (): URL => new URL('../models/squeezenet1_0-deep-compression.sqz', import.meta.url);

export interface LoadDefaultOptions extends Omit<LoadOptions, 'weights' | 'arch'> {
  /**
   * The model file's bytes, for runtimes that cannot fetch it: in Cloudflare Workers import it as
   * a data module (`import model from 'squeezenet-wasm/squeezenet1_0-deep-compression.sqz'`).
   * Default: read from the package in Node, fetched beside the module elsewhere.
   */
  readonly model?: ArrayBuffer | ArrayBufferView;
}

/**
 * Loads the pretrained SqueezeNet v1.0 that ships with the library (ImageNet, 1000 classes; Deep
 * Compression: 415,921 non-zero weights of 1,248,424; the Caffe form, input 1x3x227x227, Caffe
 * preprocessing). `classify(model, pixels)` then gives ImageNet classes.
 *
 * ```ts
 * import { loadDefault, classify } from 'squeezenet-wasm';
 * const model = await loadDefault();
 * const top5 = classify(model, imageData);
 * ```
 *
 * @throws {InputError} in Workers without `model` (nothing can be fetched from the package there).
 * @throws {FormatError} if the model file is damaged; {@link WasmError} if the kernels cannot load.
 */
export async function loadDefault(options: LoadDefaultOptions = {}): Promise<SqueezeNet> {
  const { model, ...rest } = options;
  let bytes: Uint8Array | ArrayBuffer;
  if (model !== undefined) {
    bytes = ArrayBuffer.isView(model) ? new Uint8Array(model.buffer, model.byteOffset, model.byteLength) : model;
  } else {
    if (inWorkers()) {
      throw new InputError(
        "loadDefault: Workers cannot read the model from the package; import it as a data module and pass it: import model from 'squeezenet-wasm/squeezenet1_0-deep-compression.sqz'; then loadDefault({ model, wasm })",
      );
    }
    bytes = await readAsset(DEFAULT_MODEL_URL, {
      what: `the default model (${DEFAULT_MODEL_FILE})`,
      magic: new Uint8Array(SQZ_MAGIC),
      magicName: 'the .sqz magic 89 53 51 5A 0D 0A 1A 0A',
      hint: 'pass the file\'s bytes as `model`, or serve it at that URL (README: bundlers)',
      error: InputError,
    });
  }
  return loadSqz(bytes, rest);
}
