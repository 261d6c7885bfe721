// Intra-op threads: one image's layers split across N threads that share one WebAssembly.Memory.
// Every thread instantiates the same threads build (build/squeezenet.threads*.wasm: the same
// source as the single-thread build, with an imported shared memory) on that memory, and runs its
// share of each stage of the program (src/schedule.ts); a barrier (Atomics.wait / notify, no
// spinning while idle) follows every stage. The calling thread is thread 0 where it may block
// (Node's main thread, any worker); a page's main thread may not, so there every thread is a
// worker and `runAsync` awaits them (Atomics.waitAsync).
//
// The threads read everything from shared memory: a small control block (a SharedArrayBuffer of
// Int32 words, below) and the program, which the model writes as JSON into the WASM memory
// whenever it re-plans. Starting a run is one store and one notify.

import type { Arena } from './arena.js';
import { SqueezeNetError, WasmError, WorkerError } from './errors.js';
import { runShare, shareOf, type Share, type Stage } from './schedule.js';
import { fromWire, type WireError } from './wire.js';

// Control block, Int32 words.
const GO = 0; // bumped to start a run
const QUIT = 1; // 1: threads return
const VERSION = 2; // bumped when a new program is published
const PROGRAM_AT = 3; // its byte offset in the WASM memory
const PROGRAM_BYTES = 4; // and length (UTF-8 JSON)
const ARRIVED = 5; // threads at the current barrier
const GENERATION = 6; // bumped when a barrier opens
const FLAGS = 7; // this run's TRACE | PROFILE | ASYNC
const ERROR = 8; // 1 once a thread has reported an error
const DONE = 9; // bumped by thread 0 after an ASYNC run
const PARTICIPANTS = 10; // threads in a run
const ERROR_BYTES = 11; // length of the message at ERROR_AT
const STAGES = 12; // stages in the published program (so that a thread meets every barrier even if it cannot read it)
const ERROR_AT = 256; // byte offset of the first error's message (UTF-8)
const ERROR_MAX = 1024;
const TIMES_AT = 2048; // Float64 busy ms per thread and stage (PROFILE)

/** Flags of a run. */
export const TRACE = 1;
export const PROFILE = 2;
const ASYNC = 4;

/** Most stages a program may have (the per-thread time table is sized for it). */
export const MAX_STAGES = 1024;

/** How long the calling thread waits at a barrier before it decides a thread has stopped. */
const STALL_MS = 60_000;

/** How long a thread may take to start (load its script, instantiate the kernels) before the model gives up on threads. */
const START_MS = 20_000;


/** What a thread is started with. */
export interface ThreadInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly control: SharedArrayBuffer;
  /** This thread's index among the participants. */
  readonly index: number;
}

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

// A Node built-in, looked up at run time so that bundlers for the browser never see it.
async function nodeModule<T>(id: string): Promise<T> {
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof builtin === 'function' ? (builtin(id) as T) : ((await import(/* webpackIgnore: true */ /* @vite-ignore */ id)) as T);
}

/** The available cores, the threads' default: `os.availableParallelism()` in Node, `navigator.hardwareConcurrency` elsewhere. */
export async function availableCores(): Promise<{ cores: number; source: string }> {
  if (isNode) {
    const os = await nodeModule<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
    return typeof os.availableParallelism === 'function'
      ? { cores: os.availableParallelism(), source: 'os.availableParallelism()' }
      : { cores: os.cpus().length, source: 'os.cpus().length' };
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return { cores: Number.isInteger(n) && n! > 0 ? n! : 1, source: 'navigator.hardwareConcurrency' };
}

/** Why this runtime cannot run threads, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') {
    const page = typeof (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === 'boolean';
    return page
      ? 'SharedArrayBuffer is missing: the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
      : 'SharedArrayBuffer is missing in this runtime';
  }
  if (typeof Atomics !== 'object' || typeof Atomics.wait !== 'function') return 'Atomics.wait is missing in this runtime';
  if (!isNode && typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    return 'this runtime has no Worker to run threads in (Cloudflare Workers run one thread per isolate)';
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return `this runtime has no shared WebAssembly.Memory: ${(e as Error).message}`;
  }
  return undefined;
}

/** True where the calling thread may block in Atomics.wait (not a page's main thread). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

// The compiled worker script for Node, beside this module; from the TypeScript sources (vitest,
// tsx) the build in dist/. Joined at run time, so that bundlers do not take it for an asset (in a
// browser the script is named by the new Worker(new URL(...)) that bundlers know: see spawn).
function nodeWorkerUrl(): URL {
  const here = import.meta.url;
  const path = here.endsWith('.ts') ? ['..', 'dist', 'src', 'thread-worker.js'] : ['.', 'thread-worker.js'];
  return new URL(path.join('/'), here);
}

interface Handle {
  terminate(): void;
}

// Rejects after START_MS, ending the thread: a runtime whose workers cannot take a shared memory
// may never answer, and the model then runs on one thread rather than wait for ever.
function started(ready: Promise<void>, index: number, end: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      end();
      reject(new WorkerError(`thread ${index} did not start within ${START_MS / 1000} s`, -1));
    }, START_MS);
  });
  return Promise.race([ready, late]).finally(() => clearTimeout(timer));
}

async function spawn(init: ThreadInit): Promise<Handle> {
  if (isNode) {
    const url = nodeWorkerUrl();
    type NodeWorker = {
      once(event: string, f: (v: never) => void): void;
      on(event: string, f: (v: never) => void): void;
      postMessage(m: unknown): void;
      terminate(): Promise<number>;
      unref(): void;
    };
    const { Worker } = await nodeModule<{ Worker: new (url: URL, options: object) => NodeWorker }>('node:worker_threads');
    const w = new Worker(url, { workerData: init, name: `squeezenet-wasm thread ${init.index}` });
    const ready = new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready?: true; error?: WireError }) => (m.ready ? resolve() : reject(fromWire(m.error))));
      w.once('error', (e: Error) => reject(new WasmError(`thread ${init.index} could not start: ${e.message}`)));
      w.once('exit', (code: number) => reject(new WorkerError(`thread ${init.index} exited with code ${code} before it was ready`, -1, code)));
    });
    await started(ready, init.index, () => void w.terminate());
    w.on('error', () => {}); // a thread that fails later is caught at the barrier
    w.unref(); // an idle thread does not keep the process alive
    return { terminate: () => void w.terminate() };
  }
  // written as bundlers recognise a worker (Vite, webpack 5 bundle the script and its imports)
  const w = new Worker(new URL('./thread-worker.js', import.meta.url), { type: 'module', name: `squeezenet-wasm thread ${init.index}` });
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ ready?: true; error?: WireError }>) => (e.data.ready ? resolve() : reject(fromWire(e.data.error)));
    w.onerror = (e: ErrorEvent) => reject(new WasmError(`thread ${init.index} could not start: ${e.message ?? 'its script (thread-worker.js, beside the library) failed to load'}`));
    w.postMessage(init);
  });
  await started(ready, init.index, () => w.terminate());
  w.onmessage = null;
  return { terminate: () => w.terminate() };
}

// Waits at the barrier of `n` threads. Returns false when told to quit. `stall` (ms): throw
// WorkerError after that long (the calling thread's guard against a thread that has stopped).
function barrier(ctl: Int32Array, n: number, stall?: number): boolean {
  const gen = Atomics.load(ctl, GENERATION);
  if (Atomics.add(ctl, ARRIVED, 1) === n - 1) {
    Atomics.store(ctl, ARRIVED, 0);
    Atomics.add(ctl, GENERATION, 1);
    Atomics.notify(ctl, GENERATION);
    return true;
  }
  // No polling first: on a machine whose cores are shared, a thread that polled would take the
  // time its peer needs to finish the stage (measured: 35 ms against 26 for v1.0 on one free core).
  const start = stall === undefined ? 0 : performance.now();
  while (Atomics.load(ctl, GENERATION) === gen) {
    if (Atomics.load(ctl, QUIT) !== 0) return false;
    Atomics.wait(ctl, GENERATION, gen, stall === undefined ? undefined : 1000);
    if (stall !== undefined && Atomics.load(ctl, GENERATION) === gen && performance.now() - start > stall) {
      throw new WorkerError(`a thread did not reach the barrier within ${stall / 1000} s: it has stopped (crashed or out of memory)`, -1);
    }
  }
  return true;
}

function reportError(control: SharedArrayBuffer, ctl: Int32Array, e: unknown): void {
  if (Atomics.compareExchange(ctl, ERROR, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(`${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`).subarray(0, ERROR_MAX);
  new Uint8Array(control, ERROR_AT, bytes.length).set(bytes);
  Atomics.store(ctl, ERROR_BYTES, bytes.length);
}

/**
 * The threads of one model (all but the calling thread, or all of them where it may not block).
 * Not shared between models; `dispose()` stops them (and an unreachable model's team is stopped by
 * the garbage collector's FinalizationRegistry).
 */
export class ThreadTeam {
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;
  private broken?: Error;

  private constructor(
    /** Threads in a run. */
    readonly threads: number,
    /** Whether the calling thread is thread 0 (it may block); else every thread is a worker. */
    readonly participates: boolean,
    private readonly control: SharedArrayBuffer,
    private readonly handles: Handle[],
  ) {
    this.ctl = new Int32Array(control, 0, ERROR_AT / 4);
    this.times = new Float64Array(control, TIMES_AT, threads * MAX_STAGES);
    Atomics.store(this.ctl, PARTICIPANTS, threads);
  }

  /** Starts the worker threads on `memory` and resolves once each has instantiated `module`. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadTeam> {
    const participates = canBlock();
    const control = new SharedArrayBuffer(TIMES_AT + threads * MAX_STAGES * 8);
    const first = participates ? 1 : 0;
    const started = await Promise.allSettled(Array.from({ length: threads - first }, (_, i) => spawn({ module, memory, control, index: first + i })));
    const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      const ctl = new Int32Array(control, 0, ERROR_AT / 4);
      Atomics.store(ctl, QUIT, 1);
      Atomics.notify(ctl, GO);
      for (const h of handles) h.terminate();
      throw failed.reason;
    }
    return new ThreadTeam(threads, participates, control, handles);
  }

  /** The program the threads run from now on: `stages` stages as `bytes` of JSON at byte `at` of the WASM memory. */
  publish(at: number, bytes: number, stages: number): void {
    if (stages > MAX_STAGES) throw new SqueezeNetError(`a program of ${stages} stages: threads run at most ${MAX_STAGES}`);
    Atomics.store(this.ctl, STAGES, stages);
    Atomics.store(this.ctl, PROGRAM_AT, at);
    Atomics.store(this.ctl, PROGRAM_BYTES, bytes);
    Atomics.add(this.ctl, VERSION, 1);
  }

  /**
   * Runs the published program with the calling thread as thread 0 (`shares`: its share of each
   * stage). `after(s)` runs on the calling thread once stage s is complete on every thread; with
   * TRACE, the other threads wait for it before they start the next stage.
   */
  run(arena: Arena, stages: readonly Stage[], shares: readonly Share[], flags: number, after?: (s: number) => void): void {
    this.check();
    const ctl = this.ctl;
    Atomics.store(ctl, FLAGS, flags);
    Atomics.add(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    let failure: unknown;
    try {
      for (let s = 0; s < stages.length; s++) {
        const t0 = flags & PROFILE ? performance.now() : 0;
        if (failure === undefined) {
          try {
            runShare(arena, stages[s]!, shares[s]!, 0);
          } catch (e) {
            failure = e;
          }
        }
        if (flags & PROFILE) this.times[s] = performance.now() - t0;
        barrier(ctl, this.threads, STALL_MS);
        after?.(s);
        if (flags & TRACE) barrier(ctl, this.threads, STALL_MS);
      }
    } catch (e) {
      // a thread stopped: nothing it may still write can be trusted, so this team is done
      this.broken = e as Error;
      this.dispose();
      throw e;
    }
    if (failure !== undefined) throw failure;
    this.takeError();
  }

  /** Runs the published program on the worker threads alone (where the calling thread may not block). */
  async runAsync(flags: number): Promise<void> {
    this.check();
    const ctl = this.ctl;
    const done = Atomics.load(ctl, DONE);
    Atomics.store(ctl, FLAGS, flags | ASYNC);
    Atomics.add(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    const waitAsync = (Atomics as { waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    while (Atomics.load(ctl, DONE) === done) {
      if (this.broken) throw this.broken;
      if (typeof waitAsync === 'function') {
        const r = waitAsync(ctl, DONE, done);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    this.takeError();
  }

  /** Busy milliseconds of thread `thread` in stage `s` of the last PROFILE run. */
  busyMs(thread: number, s: number): number {
    return this.times[thread * MAX_STAGES + s]!;
  }

  /** Stops the threads. */
  dispose(): void {
    Atomics.store(this.ctl, QUIT, 1);
    Atomics.notify(this.ctl, GO);
    Atomics.notify(this.ctl, GENERATION);
    for (const h of this.handles) h.terminate();
    this.handles.length = 0;
    this.broken ??= new SqueezeNetError('the threads were stopped');
  }

  private check(): void {
    if (this.broken) throw new WorkerError(`this model's threads have stopped (${this.broken.message}); load the model again`, -1);
  }

  private takeError(): void {
    const ctl = this.ctl;
    if (Atomics.load(ctl, ERROR) === 0) return;
    const message = new TextDecoder().decode(new Uint8Array(this.control, ERROR_AT, Atomics.load(ctl, ERROR_BYTES)).slice());
    Atomics.store(ctl, ERROR, 0);
    throw new WasmError(`a thread failed: ${message}`);
  }
}

/**
 * The loop of a worker thread (src/thread-worker.ts): waits for a run, runs its share of every
 * stage of the published program with a barrier after each, until told to quit. `seen` is the
 * GO count read before the thread said it was ready.
 */
export function serve(init: ThreadInit, arena: Arena, seen: number): void {
  const ctl = new Int32Array(init.control, 0, ERROR_AT / 4);
  const times = new Float64Array(init.control, TIMES_AT);
  const me = init.index;
  let version = -1;
  let stages: Stage[] = [];
  let shares: Share[] = [];
  for (;;) {
    Atomics.wait(ctl, GO, seen);
    if (Atomics.load(ctl, QUIT) !== 0) return;
    const go = Atomics.load(ctl, GO);
    if (go === seen) continue;
    seen = go;
    // The calling thread may have grown the memory since (a new input size, or while this thread
    // started). V8 before Node 22 keeps another thread's memory.buffer at its old length until
    // that thread grows it itself: grow(0) brings this thread's views (and the program's bytes)
    // up to the memory's length.
    init.memory.grow(0);
    const n = Atomics.load(ctl, PARTICIPANTS);
    const flags = Atomics.load(ctl, FLAGS);
    let failed = false;
    if (Atomics.load(ctl, VERSION) !== version) {
      version = Atomics.load(ctl, VERSION);
      try {
        const at = Atomics.load(ctl, PROGRAM_AT);
        const bytes = new Uint8Array(arena.kernels.memory.buffer, at, Atomics.load(ctl, PROGRAM_BYTES)).slice();
        stages = JSON.parse(new TextDecoder().decode(bytes)) as Stage[];
        shares = stages.map((s) => shareOf(s, me, n));
      } catch (e) {
        reportError(init.control, ctl, e);
        failed = true;
        version = -1;
      }
    }
    const count = Atomics.load(ctl, STAGES);
    for (let s = 0; s < count; s++) {
      const t0 = flags & PROFILE ? performance.now() : 0;
      if (!failed) {
        try {
          runShare(arena, stages[s]!, shares[s]!, me);
        } catch (e) {
          reportError(init.control, ctl, e);
          failed = true;
        }
      }
      if (flags & PROFILE) times[me * MAX_STAGES + s] = performance.now() - t0;
      if (!barrier(ctl, n)) return;
      if (flags & TRACE && !barrier(ctl, n)) return;
    }
    if (flags & ASYNC && me === 0) {
      Atomics.add(ctl, DONE, 1);
      Atomics.notify(ctl, DONE);
    }
  }
}

/** What a worker thread reads first: the GO count to wait past. */
export function goCount(control: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(control, 0, ERROR_AT / 4), GO);
}
