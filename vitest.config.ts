import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file spawns worker threads and onnxruntime sessions; on a 2-core machine running
    // files one at a time keeps them from starving each other.
    fileParallelism: false,
    pool: 'forks',
  },
});
