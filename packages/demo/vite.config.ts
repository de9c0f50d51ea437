import { defineConfig } from 'vite';

// The page is served by the Sightline server at /; relative asset URLs keep it working behind any prefix.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { port: 5173 },
});
