// Batch inference over worker threads (Node): one model per worker, images spread across them.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { LoadOptions } from '../model.js';
import { DisposedError, InputError, SqueezeNetError, WorkerError } from '../errors.js';
import { chooseSimd, compileKernels } from '../wasm.js';
import { fromWire, type WireError } from '../wire.js';

/** `SqueezeNet.load`'s options (each worker's model runs on one thread unless `threads` is given), and: */
export interface PoolOptions extends Omit<LoadOptions, 'wasm'> {
  /** Worker threads (default: the available cores, `os.availableParallelism()`). */
  readonly workers?: number;
  /** A compiled module or the .wasm bytes; default the bundled file. Compiled once, shared by all workers. */
  readonly wasm?: WebAssembly.Module | ArrayBuffer | ArrayBufferView;
}

/** An error from {@link SqueezeNetPool.runBatch}: the error of one input, with that input's index in the batch. */
export type BatchError = SqueezeNetError & { readonly index: number };

interface Job {
  readonly resolve: (logits: Float32Array) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs sent to this worker and not yet answered, by id. */
  readonly jobs: Map<number, Job>;
  ready: boolean;
  /** The last uncaught error the worker reported, if any (it is about to exit). */
  failure?: Error;
}

type FromWorker = { ready: true } | { error: WireError } | { id: number; logits: Float32Array } | { id: number; error: WireError };

/** Replacements that may fail to start in a row before the pool gives up on a slot. */
const MAX_RESTARTS = 3;

/**
 * A pool of worker threads, each with its own SqueezeNet instance. `run` queues an image on the
 * least busy worker; `runBatch` spreads many. Errors inside a worker come back as the same typed
 * errors, with the same fields, that the single-threaded API throws. A worker that exits (a crash,
 * out of memory, terminated) rejects the jobs it held with a WorkerError and is replaced.
 */
export class SqueezeNetPool {
  private nextId = 0;
  private closed = false;
  /** Set once `create` has every worker ready: from then on a worker that exits is replaced. */
  private started = false;
  private readonly slots: Slot[] = [];
  private readonly restarts: number[];

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly load: Omit<LoadOptions, 'wasm'>,
    count: number,
  ) {
    this.restarts = new Array<number>(count).fill(0);
  }

  /**
   * Starts `workers` threads and loads the model in each.
   *
   * @throws SqueezeNetError if `workers` is not a positive integer; the errors of
   *   `SqueezeNet.load` (WeightError, InputError, WasmError, ...) with their fields, as the first
   *   worker to fail reports them; WorkerError if a worker exits before its model is loaded.
   */
  static async create(options: PoolOptions): Promise<SqueezeNetPool> {
    if (options === null || typeof options !== 'object') {
      throw new InputError(`pool options must be an object like { arch, weights, workers }, got ${options === null ? 'null' : typeof options}`);
    }
    const count = options.workers ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) throw new SqueezeNetError(`workers must be a positive integer, got ${count}`);
    const debug = options.debug === true;
    const module = await compileKernels(options.wasm, debug, { simd: debug || options.wasm !== undefined ? 'plain' : chooseSimd(options.simd) });
    // each worker runs its own images on one thread unless `threads` says otherwise
    const { workers: _w, wasm: _m, ...rest } = options;
    const load = { threads: 1, ...rest };
    const pool = new SqueezeNetPool(module, load, count);
    try {
      await Promise.all(Array.from({ length: count }, (_, i) => pool.spawn(i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    pool.started = true;
    return pool;
  }

  /** Number of worker threads running or starting. */
  get size(): number {
    return this.slots.filter(Boolean).length;
  }

  /** Jobs sent to the workers and not yet settled. */
  get pending(): number {
    return this.slots.reduce((n, s) => n + (s?.jobs.size ?? 0), 0);
  }

  /**
   * Runs one NCHW image on the least busy worker and resolves to its 1000 logits.
   *
   * @param input as `SqueezeNet.run` takes it (the pool's load-time size); it is copied to the worker.
   * @throws (rejects) DisposedError after `close()` or `dispose()`; InputError if `input` is not a
   *   Float32Array or cannot be copied to a worker (a detached buffer), at once, leaving nothing
   *   queued; the errors of `SqueezeNet.run`; WorkerError if the worker exits before it answers.
   */
  run(input: Float32Array): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new DisposedError('this SqueezeNetPool was closed'));
    if (!(input instanceof Float32Array)) {
      return Promise.reject(new InputError(`input must be a Float32Array (NCHW, 1x3xHxW), got ${describe(input)}`));
    }
    const slot = this.slots.filter(Boolean).reduce<Slot | undefined>((a, b) => (a === undefined || b.jobs.size < a.jobs.size ? b : a), undefined);
    if (slot === undefined) return Promise.reject(new WorkerError('no worker thread is left in this SqueezeNetPool: each replacement failed to start', -1));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        slot.worker.postMessage({ id, input });
      } catch (e) {
        reject(new InputError(`input could not be copied to a worker thread: ${(e as Error).message}`));
        return;
      }
      slot.jobs.set(id, { resolve, reject });
    });
  }

  /**
   * Runs every image, spread over the workers; results in input order.
   *
   * @throws (rejects) DisposedError after `close()` (even for an empty batch); InputError if
   *   `inputs` is not an array; else the first error of any input, as {@link BatchError}: its
   *   class and fields, `index` set to the input's position and the message starting `inputs[i]: `.
   */
  runBatch(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new DisposedError('this SqueezeNetPool was closed'));
    if (!Array.isArray(inputs)) {
      return Promise.reject(new InputError(`inputs must be an array of Float32Array (NCHW, 1x3xHxW), got ${describe(inputs)}`));
    }
    return Promise.all(inputs.map((x, i) => this.run(x).catch((e: Error) => Promise.reject(atIndex(e, i)))));
  }

  /** Stops the workers. Pending runs reject with DisposedError; later calls reject with it too. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.filter(Boolean);
    for (const slot of slots) {
      for (const job of slot.jobs.values()) job.reject(new DisposedError('this SqueezeNetPool was closed before the job ran'));
      slot.jobs.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** As `SqueezeNet.dispose()`: stops the workers without waiting (see `close`). */
  dispose(): void {
    void this.close();
  }

  // Starts the worker of slot i; resolves once its model is loaded.
  private spawn(i: number): Promise<void> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { module: this.module, load: this.load } });
    const threadId = worker.threadId; // -1 once it has exited
    const slot: Slot = { worker, jobs: new Map(), ready: false };
    this.slots[i] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if ('id' in m) {
          const job = slot.jobs.get(m.id);
          if (job === undefined) return;
          slot.jobs.delete(m.id);
          if ('logits' in m) job.resolve(m.logits);
          else job.reject(fromWire(m.error));
        } else if ('ready' in m) {
          slot.ready = true;
          this.restarts[i] = 0;
          resolve();
        } else {
          // the model failed to load: the worker exits next
          slot.failure = fromWire(m.error);
          reject(slot.failure);
        }
      });
      worker.on('error', (e) => {
        slot.failure = e;
      });
      worker.on('exit', (code) => {
        const why = slot.failure ? `: ${slot.failure.message}` : '';
        const error = (): WorkerError => new WorkerError(`worker thread ${threadId} exited with code ${code}${why}`, threadId, code);
        reject(slot.failure ?? error());
        if (this.closed || !this.started) return;
        for (const job of slot.jobs.values()) job.reject(error());
        slot.jobs.clear();
        if (!slot.ready && this.restarts[i]! >= MAX_RESTARTS) {
          delete this.slots[i];
          return;
        }
        this.restarts[i]!++;
        this.spawn(i).catch(() => {});
      });
    });
  }
}

// The same error (class, fields, stack) with the input's index in its message and as `index`.
function atIndex(e: Error, index: number): Error {
  const copy = Object.create(Object.getPrototypeOf(e) as object) as Error;
  Object.assign(copy, e, { index });
  Object.defineProperty(copy, 'message', { value: `inputs[${index}]: ${e.message}`, writable: true, configurable: true });
  Object.defineProperty(copy, 'stack', { value: e.stack, writable: true, configurable: true });
  return copy;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'an object';
}
