// The worker thread behind SqueezeNetPool: one model, one image at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { SqueezeNet, type LoadOptions } from '../model.js';

const { module, load } = workerData as { module: WebAssembly.Module; load: Omit<LoadOptions, 'wasm'> };
const port = parentPort!;
const fail = (e: unknown): { name: string; message: string } => ({
  name: (e as Error)?.name ?? 'Error',
  message: (e as Error)?.message ?? String(e),
});

SqueezeNet.load({ ...load, wasm: module }).then(
  (model) => {
    port.on('message', (m: { id: number; input: Float32Array }) => {
      try {
        const logits = model.run(m.input);
        port.postMessage({ id: m.id, logits }, [logits.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ id: m.id, error: fail(e) });
      }
    });
    port.postMessage({ ready: true });
  },
  (e: unknown) => port.postMessage({ error: fail(e) }),
);
