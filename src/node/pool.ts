// Batch inference over worker threads (Node): one model per worker, images spread across them.

import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import type { LoadOptions } from '../model.js';
import { DisposedError, InputError, SqueezeNetError, WasmError } from '../errors.js';
import { compileKernels } from '../wasm.js';

export interface PoolOptions extends Omit<LoadOptions, 'wasm'> {
  /** Worker threads (default: the number of CPUs). */
  readonly workers?: number;
  /** A compiled module or the .wasm bytes; default the bundled file. Compiled once, shared by all workers. */
  readonly wasm?: WebAssembly.Module | ArrayBuffer | ArrayBufferView;
}

interface Job {
  readonly resolve: (logits: Float32Array) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

/**
 * A pool of worker threads, each with its own SqueezeNet instance. `run` queues an image on the
 * least busy worker; `runBatch` spreads many. Errors inside a worker come back as the same typed
 * errors the single-threaded API throws.
 */
export class SqueezeNetPool {
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private closed = false;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (m: { id: number; logits?: Float32Array; error?: { name: string; message: string } }) => {
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        slot.busy--;
        if (m.logits) job.resolve(m.logits);
        else job.reject(revive(m.error));
      });
      slot.worker.on('error', (e) => this.failAll(new SqueezeNetError(`a worker thread failed: ${e.message}`)));
    }
  }

  static async create(options: PoolOptions): Promise<SqueezeNetPool> {
    const count = options.workers ?? cpus().length;
    if (!Number.isInteger(count) || count < 1) throw new SqueezeNetError(`workers must be a positive integer, got ${count}`);
    const module = await compileKernels(options.wasm, options.debug === true);
    const { workers: _w, wasm: _m, ...load } = options;
    const url = new URL('./worker.js', import.meta.url);
    const slots: Slot[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const worker = new Worker(url, { workerData: { module, load } });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', (m: { ready?: boolean; error?: { name: string; message: string } }) =>
            m.ready ? resolve() : reject(revive(m.error)),
          );
          worker.once('error', reject);
        });
        slots.push({ worker, busy: 0 });
      }
    } catch (e) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw e;
    }
    return new SqueezeNetPool(slots);
  }

  /** Number of worker threads. */
  get size(): number {
    return this.slots.length;
  }

  /** Runs one NCHW image on the least busy worker and resolves to its 1000 logits. */
  run(input: Float32Array): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new DisposedError('this SqueezeNetPool was closed'));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      slot.worker.postMessage({ id, input });
    });
  }

  /** Runs every image, spread over the workers; results in input order. */
  runBatch(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    return Promise.all(inputs.map((x) => this.run(x)));
  }

  /** Stops the workers. Pending runs reject with DisposedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new DisposedError('this SqueezeNetPool was closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private failAll(e: Error): void {
    for (const job of this.jobs.values()) job.reject(e);
    this.jobs.clear();
  }
}

const TYPED: Record<string, new (message: string) => SqueezeNetError> = { InputError, WasmError, DisposedError };

// Errors cross the thread boundary as name and message; rebuild the typed class where it has one.
function revive(e: { name: string; message: string } | undefined): Error {
  const err = new (TYPED[e?.name ?? ''] ?? SqueezeNetError)(e?.message ?? 'unknown worker error');
  if (e?.name) err.name = e.name;
  return err;
}
