// squeezenet-wasm/node: what needs Node (worker threads) on top of the portable entry.
export * from '../index.js';
export { SqueezeNetPool, type PoolOptions } from './pool.js';
