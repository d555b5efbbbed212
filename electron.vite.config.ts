import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// Three bundles. main: the Electron main process, plus the engine process and
// the `latentlab` CLI / serve host, which run under plain Node (they never
// import electron). preload: the context bridge. renderer: the React UI, also
// served as static files by `latentlab serve`.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      sourcemap: true,
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/electron/index.ts'),
          engine: resolve(__dirname, 'src/engine/main.ts'),
          cli: resolve(__dirname, 'src/main/host/cli.ts'),
          bench: resolve(__dirname, 'src/bench/main.ts'),
          'bench-compare': resolve(__dirname, 'src/bench/compare.ts'),
          // the Import dialog's file reading, off the host's event loop
          'inspect-worker': resolve(__dirname, 'src/main/services/inspect-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      chunkSizeWarningLimit: 8000,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
