// The forward pass as data: a list of stages, each a few tasks whose units any thread may run in
// any split (src/conv.ts's phases, pooling by output rows), with a barrier after every stage. One
// thread runs every unit of every stage; N threads each run their share (`shareOf`) of each stage,
// and meet at the barrier. A unit is computed by the same kernel call sequence whichever thread
// runs it, so the result is bit for bit the same for any N. Everything here is plain numbers and
// strings: the program is handed to worker threads as JSON.

import type { Arena } from './arena.js';
import { runConvPhase, type ConvIO, type ConvLayer } from './conv.js';

/** One kernel step over `units` independent units, any sub-range of which {@link runTask} runs. */
export type Task =
  | {
      /** Phase `phase` of a convolution (src/conv.ts): `layers[t]` for thread t (an im2col layer has one band buffer per thread), else `layers[0]`. */
      readonly op: 'conv';
      readonly layers: readonly ConvLayer[];
      readonly io: ConvIO;
      readonly phase: number;
      readonly units: number;
      /** About what one unit costs (the phase's `cost`): how a stage of several tasks is split. */
      readonly cost?: number;
    }
  | {
      /** f32_transpose (the input, NCHW to NHWC): one unit. */
      readonly op: 'transpose';
      readonly src: number;
      readonly rows: number;
      readonly cols: number;
      readonly dst: number;
      readonly units: 1;
    }
  | {
      /** f32_maxpool_nhwc with no padding, by output rows. */
      readonly op: 'maxpool';
      readonly x: number;
      readonly height: number;
      readonly width: number;
      readonly channels: number;
      readonly size: number;
      readonly stride: number;
      readonly outW: number;
      readonly y: number;
      /** Output rows. */
      readonly units: number;
    }
  | {
      /** f32_add_inplace (a bypass), by rows of `rowFloats`. */
      readonly op: 'add';
      readonly y: number;
      readonly x: number;
      readonly rowFloats: number;
      readonly units: number;
    }
  | {
      /** f32_global_avgpool_nhwc: one unit. */
      readonly op: 'avgpool';
      readonly x: number;
      readonly pixels: number;
      readonly channels: number;
      readonly y: number;
      readonly units: 1;
    };

/** A layer output to copy out after a stage (trace): NHWC at `at`, rows of `ldc`, channels [first, first + c). */
export interface Capture {
  readonly name: string;
  readonly at: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly ldc: number;
  readonly first: number;
}

/** Tasks that may run at the same time, then a barrier. */
export interface Stage {
  readonly tasks: readonly Task[];
  /** The row of Table 1 (index into the plan's rows) the stage belongs to. */
  readonly row: number;
  /** Layer outputs complete once this stage is (in the order `trace` returns them). */
  readonly captures: readonly Capture[];
}

/** Runs units [from, to) of a task on the calling thread (thread index `thread`, for its own scratch). */
export function runTask(arena: Arena, task: Task, thread: number, from: number, to: number): void {
  if (to <= from) return;
  const k = arena.kernels;
  switch (task.op) {
    case 'conv':
      runConvPhase(arena, task.layers[Math.min(thread, task.layers.length - 1)]!, task.io, task.phase, from, to);
      return;
    case 'transpose':
      k.f32_transpose(task.src, task.rows, task.cols, task.dst);
      return;
    case 'maxpool': {
      // rows [from, to) read input rows from `from * stride` on: the windows clip at `height` as before
      const pixel = task.channels * 4;
      const y0 = from * task.stride;
      k.f32_maxpool_nhwc(task.x + y0 * task.width * pixel, task.height - y0, task.width, task.channels, task.size, task.stride, 0, to - from, task.outW, task.y + from * task.outW * pixel);
      return;
    }
    case 'add': {
      const at = from * task.rowFloats * 4;
      k.f32_add_inplace(task.y + at, task.x + at, (to - from) * task.rowFloats);
      return;
    }
    case 'avgpool':
      k.f32_global_avgpool_nhwc(task.x, task.pixels, task.channels, task.y);
      return;
  }
}

/** A thread's share of a stage: [task index, from, to] ranges. */
export type Share = readonly (readonly [number, number, number])[];

const costOf = (t: Task): number => (t.op === 'conv' && t.cost !== undefined && t.cost > 0 ? t.cost : 1);

/**
 * Thread `thread` of `threads`'s share of a stage: the stage's units (its tasks' units one after
 * another) cut into `threads` contiguous ranges. One task: as equal in units as whole units
 * allow. Several: as equal in cost (each task's `cost` per unit) as whole units allow: a unit
 * belongs to the thread whose slice of the total cost holds the unit's middle.
 */
export function shareOf(stage: Stage, thread: number, threads: number): Share {
  const out: [number, number, number][] = [];
  if (stage.tasks.length === 1) {
    const units = stage.tasks[0]!.units;
    const from = Math.floor((thread * units) / threads);
    const to = Math.floor(((thread + 1) * units) / threads);
    if (to > from) out.push([0, from, to]);
    return out;
  }
  const total = stage.tasks.reduce((n, t) => n + t.units * costOf(t), 0);
  // thread t's slice of the cost is [bound(t), bound(t + 1)); the same expression on every thread
  const bound = (t: number): number => (t * total) / threads;
  let base = 0;
  stage.tasks.forEach((t, i) => {
    const c = costOf(t);
    // first unit whose middle, base + (u + 0.5) * c, is at or past b
    const first = (b: number): number => Math.min(t.units, Math.max(0, Math.ceil((b - base) / c - 0.5)));
    const from = first(bound(thread));
    const to = thread === threads - 1 ? t.units : first(bound(thread + 1));
    if (to > from) out.push([i, from, to]);
    base += t.units * c;
  });
  return out;
}

/** Runs one thread's share of a stage. */
export function runShare(arena: Arena, stage: Stage, share: Share, thread: number): void {
  for (const [i, from, to] of share) runTask(arena, stage.tasks[i]!, thread, from, to);
}
