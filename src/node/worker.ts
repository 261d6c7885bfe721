// The worker thread behind SqueezeNetPool: one model, one image at a time. Errors go back as
// WireError (src/wire.ts), so that the pool rebuilds their class and fields.

import { parentPort, workerData } from 'node:worker_threads';
import { SqueezeNet, type LoadOptions } from '../model.js';
import { toWire } from '../wire.js';

const { module, load } = workerData as { module: WebAssembly.Module; load: Omit<LoadOptions, 'wasm'> };
const port = parentPort!;

SqueezeNet.load({ ...load, wasm: module }).then(
  (model) => {
    port.on('message', (m: { id: number; input: Float32Array }) => {
      try {
        const logits = model.run(m.input);
        port.postMessage({ id: m.id, logits }, [logits.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ id: m.id, error: toWire(e) });
      }
    });
    port.postMessage({ ready: true });
  },
  (e: unknown) => port.postMessage({ error: toWire(e) }),
);
