// A worker thread of a model's ThreadTeam (src/threads.ts), in Node (worker_threads) and in
// browsers (a module Worker): instantiates the threads build on the model's shared memory, says
// it is ready, then serves runs until told to quit.

import { Arena } from './arena.js';
import { goCount, serve, type ThreadInit } from './threads.js';
import { instantiate } from './wasm.js';
import { toWire } from './wire.js';

async function start(init: ThreadInit, post: (m: unknown) => void): Promise<void> {
  let arena: Arena;
  try {
    arena = new Arena(await instantiate(init.module, { memory: init.memory }));
  } catch (e) {
    post({ error: toWire(e) });
    return;
  }
  const seen = goCount(init.control);
  post({ ready: true });
  serve(init, arena, seen);
}

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
type Threads = { parentPort: { postMessage(m: unknown): void }; workerData: ThreadInit };
const NODE_THREADS = 'node:worker_threads';

// Node: worker_threads, looked up at run time so that bundlers for the browser never see it
// (and no top-level await, which some bundlers' worker formats refuse).
async function nodeMain(): Promise<void> {
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const { parentPort, workerData } =
    typeof builtin === 'function' ? (builtin(NODE_THREADS) as Threads) : ((await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_THREADS)) as Threads);
  await start(workerData, (m) => parentPort.postMessage(m));
}

if (isNode) {
  void nodeMain();
} else {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<ThreadInit>) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (e) => {
    scope.onmessage = null;
    void start(e.data, (m) => scope.postMessage(m));
  };
}
