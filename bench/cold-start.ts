// Cold start: the wall time from spawning a fresh `node` on bench/cold-child.ts to the moment its
// `logits` line arrives on the pipe. Nothing is subtracted; `node -e 0` (spawn to exit) is timed
// the same way for scale.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineName } from './engines.js';
import type { ModelName } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./cold-child.js', import.meta.url));

export interface ColdReport {
  readonly load_ms: number;
  readonly first_ms: number;
  readonly process_ms: number;
  readonly modules: number[];
  readonly memory_bytes: number[];
  readonly engine_memory_bytes: number | null;
}

export interface ColdRun {
  /** Spawn to the `logits` line, ms. */
  readonly wall_ms: number;
  readonly report: ColdReport;
}

/** Spawns one cold-start child (with the Node binary `node`, default this one) and times it. */
export function coldStart(engine: EngineName, model: ModelName, onnxDir: string, node = process.execPath): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(node, [CHILD, engine, model, onnxDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let wall: number | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (wall === undefined && /^logits /m.test(out)) wall = performance.now() - t0;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('report '));
      if (code !== 0 || wall === undefined || line === undefined) {
        reject(new Error(`cold start of ${engine} ${model} failed (exit ${code}):\n${err.trim().split('\n').slice(-8).join('\n')}`));
        return;
      }
      resolve({ wall_ms: wall, report: JSON.parse(line.slice('report '.length)) as ColdReport });
    });
  });
}

/** `node -e 0`, spawn to exit, ms. */
export function nodeBaseline(node = process.execPath): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(node, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - t0));
  });
}
