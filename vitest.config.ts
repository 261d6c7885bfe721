import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The CLI workspace imports the library by name: in tests that is the TypeScript source, so
    // both sides share one copy of every class (an error thrown by one is `instanceof` in the other).
    alias: [{ find: /^squeezenet-wasm$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['verbose'],
  },
});
