// Paths for the command line: why a file could not be read, and output folders for the files it
// writes (trace --out, design --svg).

import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p dir`, one level at a time from the nearest folder that exists. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns for a folder under /proc (each mkdir there
 * fails with ENOENT although its parent exists, and Node retries the parent forever); a plain
 * mkdir per level fails at once. Throws that mkdir's error (ENOENT, EACCES, ENOTDIR, ...).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); statSync(d, { throwIfNoEntry: false }) === undefined; ) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // made meanwhile by another process: fine if it is a folder
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
    }
  }
}

/**
 * Why a file could not be opened or read, in the words the command line uses: `no such file`,
 * `no such file (a parent is not a directory)`, `is a directory, not a file`, else the system's
 * message on one line.
 */
export function fileProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code === 'ENOTDIR') return 'no such file (a parent is not a directory)';
  if (err?.code === 'EISDIR') return 'is a directory, not a file';
  return String(err?.message ?? e).replace(/\s+/g, ' ').trim();
}
