// Bundles the demo page (and the SDK it imports) into dist/ with esbuild: no CDN, no external requests.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
cpSync('public', 'dist', { recursive: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  outfile: 'dist/app.js',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
console.log('demo built in packages/demo/dist');
