// squeezenet-wasm/node: what needs Node (worker threads) on top of the portable entry.
export * from '../index.js';
export { SqueezeNetPool, type PoolOptions, type BatchError } from './pool.js';
