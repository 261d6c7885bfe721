// The one place that owns WASM memory. At load every weight, activation and scratch buffer gets
// its offset here; inference only reads and writes those regions, it never allocates.

import type { Kernels } from './wasm.js';
import { SqueezeNetError } from './errors.js';

const ALIGN = 64;
const PAGE = 65536;
/** wasm32 addresses 4 GiB; engines cap memory lower (and Workers at 128 MB per isolate). */
const MAX_BYTES = 2 ** 32 - PAGE;

export class Arena {
  private top: number;
  private f32view: Float32Array;

  constructor(readonly kernels: Kernels) {
    this.top = align(kernels.heap_base());
    this.f32view = new Float32Array(kernels.memory.buffer);
  }

  /** Reserves `floats` float32s and returns their byte offset. Grows the memory when needed. */
  alloc(floats: number): number {
    const offset = this.top;
    const end = align(offset + floats * 4);
    if (!Number.isSafeInteger(end) || end > MAX_BYTES) {
      throw new SqueezeNetError(`WASM memory would exceed 4 GiB (asked for ${floats} floats more at ${offset})`);
    }
    const memory = this.kernels.memory;
    if (end > memory.buffer.byteLength) {
      const pages = Math.ceil((end - memory.buffer.byteLength) / PAGE);
      try {
        memory.grow(pages);
      } catch (e) {
        throw new SqueezeNetError(`could not grow WASM memory to ${end} bytes: ${(e as Error).message}`);
      }
    }
    this.top = end;
    return offset;
  }

  /** The current end of the reserved region: `release(mark)` frees everything after it. */
  mark(): number {
    return this.top;
  }

  /** Frees everything reserved after `mark` (to re-plan activations for another input size). */
  release(mark: number): void {
    this.top = mark;
  }

  /** Bytes of WASM memory in use by this arena's instance. */
  get memoryBytes(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /** A float32 view of the whole memory, refreshed if the memory grew since the last call. */
  get f32(): Float32Array {
    const buffer = this.kernels.memory.buffer;
    if (this.f32view.buffer !== buffer || this.f32view.byteLength !== buffer.byteLength) {
      this.f32view = new Float32Array(buffer);
    }
    return this.f32view;
  }

  /** A float32 view of `floats` values at byte `offset`. */
  view(offset: number, floats: number): Float32Array {
    return this.f32.subarray(offset >>> 2, (offset >>> 2) + floats);
  }
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
