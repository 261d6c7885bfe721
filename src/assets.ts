// The one place that reads the files shipped beside the library (the kernels, the default model).
// Each caller passes a URL written as `new URL('<fixed relative path>', import.meta.url)`, the form
// every bundler (Vite, webpack, Rollup, Parcel, Bun) recognises and rewrites to the emitted asset.

/** Node (and Deno, Bun): a `file:` URL is read from disk; elsewhere it is fetched. */
const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

const NODE_FS = 'node:fs/promises';

// Looked up at run time so that bundlers for the browser never see a Node built-in:
// `process.getBuiltinModule` (Node >= 20.16, Deno, Bun) first, else an import they skip.
async function nodeReadFile(url: URL): Promise<Uint8Array> {
  type Fs = { readFile(path: URL): Promise<Uint8Array> };
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const fs = typeof builtin === 'function'
    ? (builtin('node:fs/promises') as Fs)
    : ((await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_FS)) as Fs);
  return fs.readFile(url);
}

/** True in Cloudflare Workers (workerd), where nothing can be compiled from bytes at run time. */
export function inWorkers(): boolean {
  return typeof navigator === 'object' && (navigator as { userAgent?: string })?.userAgent === 'Cloudflare-Workers';
}

export interface Asset {
  /** What the file is, for messages: `the kernels (squeezenet.wasm)`. */
  readonly what: string;
  /** The bytes every such file starts with. */
  readonly magic: Uint8Array;
  /** How to describe the magic in a message: `\0asm`. */
  readonly magicName: string;
  /** What the user can do instead, appended to every message. */
  readonly hint: string;
  /** The error class to throw. */
  readonly error: new (message: string) => Error;
}

/**
 * Reads a shipped file: from disk in Node when the URL is `file:`, with `fetch` elsewhere.
 * The bytes are checked against the file's magic before anything compiles or decodes them: a
 * dev server that answers a missing file with its `index.html` gives an error that names the URL.
 *
 * @throws `asset.error` naming the URL when the file cannot be read, the server answers with an
 *   HTTP error, or the bytes do not start with the magic.
 */
export async function readAsset(url: () => URL, asset: Asset): Promise<Uint8Array> {
  let href = '(no URL)';
  let bytes: Uint8Array;
  try {
    // A function, so that a runtime without a usable import.meta.url (Workers) fails here, typed.
    const u = url();
    href = u.href;
    if (isNode && u.protocol === 'file:') {
      bytes = await nodeReadFile(u);
    } else {
      const response = await fetch(u);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      bytes = new Uint8Array(await response.arrayBuffer());
    }
  } catch (e) {
    throw new asset.error(`could not read ${asset.what} from ${href}: ${(e as Error).message}; ${asset.hint}`);
  }
  const head = bytes.subarray(0, asset.magic.length);
  if (head.length < asset.magic.length || head.some((b, i) => b !== asset.magic[i])) {
    const shown = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/[^\x20-\x7e]/g, '.');
    throw new asset.error(
      `${href} is not ${asset.what}: it starts with ${shown || 'nothing'} (${JSON.stringify(text)}), not ${asset.magicName}. ` +
        `Is the file served at that URL? A dev server answers a missing file with its index.html. ${asset.hint}`,
    );
  }
  return bytes;
}

/** The magic of a WebAssembly binary. */
export const WASM_MAGIC = new Uint8Array([0x00, 0x61, 0x73, 0x6d]);

/** The hint for runtimes that must be handed the compiled module. */
export const WORKERS_WASM_HINT =
  "in Cloudflare Workers import the kernels as a module and pass them: import wasm from 'squeezenet-wasm/squeezenet.wasm'; then { wasm }";
