// Builds the single-page app into client/web/dist. `keyhole/client` resolves to the library's
// source, so the page always runs the SDK code in this checkout.
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  // Relative asset URLs: the built app works wherever it is mounted.
  base: './',
  resolve: { alias: { 'keyhole/client': new URL('../index.ts', import.meta.url).pathname } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  logLevel: 'warn',
});
