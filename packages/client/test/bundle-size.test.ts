import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { build } from 'esbuild';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('the browser SDK bundle', () => {
  test('a minified esbuild bundle of @sightline/client is at most 40 KB and holds no zod', async () => {
    const out = await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, metafile: true });
    const code = out.outputFiles[0]!.text;
    const inputs = Object.keys(out.metafile.inputs);
    assert.deepEqual(
      inputs.filter((p) => /node_modules\/zod\//.test(p)),
      [],
      'no zod module in the bundle',
    );
    assert.doesNotMatch(code, /ZodError|\$ZodType/, 'no zod code in the bundle');
    assert.ok(code.length <= 40 * 1024, `${(code.length / 1024).toFixed(1)} KB`);
    console.log(`@sightline/client: ${(code.length / 1024).toFixed(1)} KB minified, ${inputs.length} modules`);
  });

  test('the bar is real: the protocol main entry (with zod) is far over it', async () => {
    const main = fileURLToPath(new URL('../../protocol/dist/index.js', import.meta.url));
    const out = await build({ entryPoints: [main], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false });
    assert.ok(out.outputFiles[0]!.text.length > 40 * 1024);
  });
});
