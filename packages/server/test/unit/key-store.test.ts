import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KeyStore, readKeysFile } from '../../src/api/key-store.js';

describe('KeyStore', () => {
  test('accepts configured keys and returns a stable id that is not the key', () => {
    const ks = new KeyStore(['alpha', 'beta']);
    const id = ks.check('alpha');
    assert.ok(id);
    assert.equal(ks.check('alpha'), id);
    assert.notEqual(ks.check('beta'), id);
    assert.ok(!id!.includes('alpha'));
  });

  test('rejects unknown keys, prefixes and keys of other lengths', () => {
    const ks = new KeyStore(['alpha']);
    for (const k of ['alph', 'alphaa', 'ALPHA', '', 'x'.repeat(5000)]) assert.equal(ks.check(k), undefined, k);
  });

  test('ignores blank and duplicate keys', () => assert.equal(new KeyStore(['a', ' a ', '', '  ']).size, 1));
});

describe('readKeysFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  test('reads one key per line with comments', () => {
    const f = join(dir, 'keys.txt');
    writeFileSync(f, '# team keys\nk1\n\n  k2  \n');
    assert.deepEqual(readKeysFile(f), ['k1', 'k2']);
  });
  test('reads a JSON array or {keys}', () => {
    const a = join(dir, 'a.json');
    writeFileSync(a, '["k1","k2"]');
    assert.deepEqual(readKeysFile(a), ['k1', 'k2']);
    const b = join(dir, 'b.json');
    writeFileSync(b, '{"keys":["k3"]}');
    assert.deepEqual(readKeysFile(b), ['k3']);
  });
  test('rejects JSON of the wrong shape', () => {
    const c = join(dir, 'c.json');
    writeFileSync(c, '{"keys":[1]}');
    assert.throws(() => readKeysFile(c), /JSON array of strings/);
  });
});
