import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - unit: in-process tests only. No child process (no `fool` command, no server, no browser, no
 *   Slurm), nothing from ../shared. `npm run test:unit` runs them alone, the quick loop.
 * - integration: everything else: the real `fool` command, real models from ../shared, Chromium,
 *   Slurm, SIGKILL fault injection.
 * A new test file is an integration test until it is listed here; list it under UNIT when it runs
 * in-process only.
 */
export const UNIT = [
  'test/confidence.test.ts',
  'test/contract.test.ts',
  'test/cppn-render.test.ts',
  'test/electron-guards.test.ts',
  'test/electron.test.ts',
  'test/engine-encodings.test.ts',
  'test/engine-operators.test.ts',
  'test/engine-scheduler.test.ts',
  'test/experiments-api.test.ts',
  'test/genome-ablation.test.ts',
  'test/grad-layout.test.ts',
  'test/grad-ops.test.ts',
  'test/grad.test.ts',
  'test/layers.test.ts',
  'test/motif.test.ts',
  'test/periodicity.test.ts',
  'test/phylogeny.test.ts',
  'test/preprocess.test.ts',
  'test/spare-buffers.test.ts',
  'test/store-owns-sql.test.ts',
  'test/top-k.test.ts',
  'test/train-graph.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run two at a time: most integration files wait on the `fool` processes they start, and
    // every test makes its own temporary lab, port (0: the OS picks) and output folder, so files do
    // not share state. Two keeps a 2-core machine busy without starving onnxruntime's threads.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
