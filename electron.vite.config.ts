import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One build makes every JavaScript entry the project runs: the Electron main process, the
// command-line tool, the first-run launcher, the worker threads (a worker_threads entry must be built JS) and the
// benchmark. Entries and chunks sit side by side in out/main so that a worker is always found
// next to the code that starts it.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // zod is bundled, not loaded from node_modules: its ~100 ES modules took the `fool` command
      // longer to resolve and link than any other part of its start (every command validates with it).
      externalizeDeps: { exclude: ['zod'] },
      rollupOptions: {
        input: {
          index: resolve('src/main/electron/index.ts'),
          cli: resolve('src/main/entries/cli.ts'),
          'classify-worker': resolve('src/main/core/models/classify-worker.ts'),
          'render-worker': resolve('src/main/core/evolution/render-worker.ts'),
          'ascent-worker': resolve('src/main/core/ascent/ascent-worker.ts'),
          'train-worker': resolve('src/main/core/train/train-worker.ts'),
          'import-worker': resolve('src/main/core/labs/import-worker.ts'),
          bench: resolve('src/main/bench/bench.ts'),
          // `npm start` (bin/start.js): first-run setup in plain Node, before Electron exists.
          start: resolve('src/main/launcher/start.ts'),
        },
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src/main/electron/preload.ts') },
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
    plugins: [svelte()],
  },
});
