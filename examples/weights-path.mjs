// Where the examples find the shared data: the weights are never committed, so they are read
// from ../shared at build or serve time, and every path can be overridden.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'models/squeezenet1_0-deep-compression/compressed_SqueezeNet.net';

/** $SQUEEZENET_SHARED, else ../shared beside the project. */
export function sharedDir(env = process.env) {
  return env.SQUEEZENET_SHARED ? resolve(env.SQUEEZENET_SHARED) : join(ROOT, '..', 'shared');
}

/** The Deep Compression weights: $SQUEEZENET_WEIGHTS, else the model in the shared folder; and how that was chosen. */
export function weightsPath(env = process.env) {
  if (env.SQUEEZENET_WEIGHTS) return { path: resolve(env.SQUEEZENET_WEIGHTS), from: 'SQUEEZENET_WEIGHTS' };
  if (env.SQUEEZENET_SHARED) return { path: join(sharedDir(env), MODEL), from: 'SQUEEZENET_SHARED' };
  return { path: join(sharedDir(env), MODEL), from: '../shared beside the project' };
}

export const WEIGHTS_HINT =
  'point SQUEEZENET_WEIGHTS at compressed_SqueezeNet.net, or SQUEEZENET_SHARED at the folder holding models/';
