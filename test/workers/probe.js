// A Worker for scripts/test-worker.mjs: what loading says in workerd when the kernels or the model
// are not handed over as modules (?case=no-model, no-wasm, wasm-bytes).
import wasm from './squeezenet.wasm';
import model from './squeezenet1_0-deep-compression.sqz';
import { loadDefault } from 'squeezenet-wasm';

const CASES = {
  'no-model': () => loadDefault({ wasm }),
  'no-wasm': () => loadDefault({ model }),
  // The .sqz's bytes are no WebAssembly, but workerd refuses to compile any bytes at all first.
  'wasm-bytes': () => loadDefault({ model, wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }),
};

export default {
  async fetch(request) {
    const run = CASES[new URL(request.url).searchParams.get('case')];
    if (run === undefined) return new Response('unknown case', { status: 400 });
    try {
      (await run()).dispose();
      return Response.json({ loaded: true });
    } catch (e) {
      return Response.json({ name: e.name, message: e.message });
    }
  },
};
