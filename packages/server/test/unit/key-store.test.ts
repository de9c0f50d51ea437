import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { KeyStore, readKeysFile } from '../../src/auth/key-store.js';

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
  const file = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const accepts = (f: string, ...keys: string[]) => {
    const ks = new KeyStore(readKeysFile(f));
    assert.equal(ks.size, keys.length);
    for (const k of keys) assert.ok(ks.check(k), k);
  };
  test('reads one key per line with comments', () => accepts(file('keys.txt', '# team keys\nk1\n\n  k2  \n'), 'k1', 'k2'));
  test('reads a JSON array or {keys}', () => {
    accepts(file('a.json', '["k1","k2"]'), 'k1', 'k2');
    accepts(file('b.json', '{"keys":["k3"]}'), 'k3');
  });
  test('YAML with tenants and limits; key_sha256 keeps the secret out of the file', () => {
    const f = file(
      'keys.yaml',
      [
        'keys:',
        '  - key: acme-secret',
        '    name: acme-prod',
        '    tenant: acme',
        '    processors: [face, "null"]',
        '    models: [blazeface-back]',
        '    max_sessions: 2',
        '    max_fps: 10',
        '    store_results: 0.25',
        `  - key_sha256: ${createHash('sha256').update('hashed-secret').digest('hex')}`,
        '    tenant: other',
        '  - plain-key',
      ].join('\n'),
    );
    const ks = new KeyStore(readKeysFile(f));
    const acme = ks.policy(ks.check('acme-secret')!)!;
    assert.deepEqual(
      { ...acme, id: undefined },
      {
        id: undefined,
        name: 'acme-prod',
        tenant: 'acme',
        processors: ['face', 'null'],
        models: ['blazeface-back'],
        maxSessions: 2,
        maxFps: 10,
        storeResults: 0.25,
      },
    );
    assert.equal(ks.policy(ks.check('hashed-secret')!)!.tenant, 'other');
    assert.equal(ks.policy(ks.check('plain-key')!)!.maxSessions, undefined);
  });
  test('bad files say where, never the key', () => {
    assert.throws(() => readKeysFile(file('c.json', '{"keys":[1]}')), /c\.json: at keys\.0/);
    assert.throws(
      () => readKeysFile(file('d.yaml', 'keys:\n  - key: s3cret\n    max_fps: -1\n')),
      (e: Error) => /at keys\.0\.max_fps/.test(e.message) && !e.message.includes('s3cret'),
    );
    assert.throws(() => readKeysFile(file('e.yaml', 'keys:\n  - name: nokey\n')), /exactly one of "key" or "key_sha256"/);
    assert.throws(
      () => readKeysFile(file('f.json', '{"keys": [')),
      (e: Error) => /not valid JSON/.test(e.message),
    );
  });
});
