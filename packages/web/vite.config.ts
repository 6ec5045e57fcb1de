import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One multi-page build into packages/web/dist, laid out the way the server serves it:
 * /console/, /chat/, /supervisor/ and /widget.js, with shared chunks under /assets/.
 */
export default defineConfig({
  root,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // React, React DOM and zod make one ~330 kB shared chunk (~100 kB gzipped), loaded once for every app.
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      // The core is pure by contract (no I/O, no globals touched), so a page only ships the parts it
      // uses: the chat page does not carry the brief and the guard.
      treeshake: { moduleSideEffects: (id: string) => !id.includes('/packages/core/src/') },
      input: {
        console: `${root}console/index.html`,
        chat: `${root}chat/index.html`,
        supervisor: `${root}supervisor/index.html`,
        widget: `${root}src/widget/widget.ts`,
      },
      output: {
        // The widget is loaded by a plain <script> tag on other sites: a stable name and no imports.
        entryFileNames: (chunk) => (chunk.name === 'widget' ? 'widget.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    proxy: {
      '/v1': { target: process.env.BATON_URL ?? 'http://127.0.0.1:3000', ws: true },
    },
  },
});
