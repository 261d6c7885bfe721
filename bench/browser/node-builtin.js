// What tfjs-backend-wasm's ES module imports from Node (fs, path, perf_hooks, os, worker_threads)
// resolves to in the benchmark page: nothing. Its code reaches for them only when it runs in Node.
export default {};
