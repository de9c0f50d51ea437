import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, normaliseBasePath, OPTIONS, usage } from '../../src/config.js';

describe('loadConfig', () => {
  test('defaults: port 8080, processor face, no base path, no keys', () => {
    const c = loadConfig([], {});
    assert.equal(c.port, 8080);
    assert.equal(c.processor, 'face');
    assert.equal(c.basePath, '');
    assert.deepEqual(c.apiKeys, []);
    assert.equal(c.corsOrigins, '*');
  });

  test('flags win over environment variables', () => {
    const c = loadConfig(['--port', '9000', '--base-path', '/skin'], { SIGHTLINE_PORT: '7000', SIGHTLINE_BASE_PATH: '/x', SIGHTLINE_PROCESSOR: 'null' });
    assert.equal(c.port, 9000);
    assert.equal(c.basePath, '/skin');
    assert.equal(c.processor, 'null');
  });

  test('SIGHTLINE_API_KEYS is a comma list', () => {
    assert.deepEqual(loadConfig([], { SIGHTLINE_API_KEYS: ' a, b ,,c ' }).apiKeys, ['a', 'b', 'c']);
  });

  test('CORS origins: * or a list', () => {
    assert.deepEqual(loadConfig(['--cors-origins', 'https://a.example,https://b.example'], {}).corsOrigins, ['https://a.example', 'https://b.example']);
  });

  test('every option has a flag and a SIGHTLINE_ environment variable (DATABASE_URL: the usual name), listed in --help', () => {
    const help = usage();
    for (const o of Object.values(OPTIONS)) {
      assert.match(o.env, /^(SIGHTLINE_[A-Z_]+|DATABASE_URL)$/);
      assert.ok(help.includes(`--${o.flag}`) && help.includes(o.env), o.flag);
    }
  });

  test('DATABASE_URL must be a PostgreSQL URL; the SQLite file is the default store', () => {
    assert.equal(loadConfig([], { DATABASE_URL: 'postgres://u:p@db/s' }).databaseUrl, 'postgres://u:p@db/s');
    assert.throws(() => loadConfig([], { DATABASE_URL: 'mysql://x' }), /postgres:\/\//);
    assert.equal(loadConfig([], {}).db, 'sightline.db');
  });

  test('bad numbers and unknown flags are clear errors', () => {
    assert.throws(
      () => loadConfig(['--port', 'eighty'], {}),
      (e: Error) => e instanceof ConfigError && /--port/.test(e.message),
    );
    assert.throws(() => loadConfig(['--max-sessions', '0'], {}), ConfigError);
    assert.throws(() => loadConfig(['--nope', '1'], {}), ConfigError);
  });

  test('--codec-device / SIGHTLINE_CODEC_DEVICE: auto by default, one of auto|cpu|vaapi|cuda|qsv, the flag winning', () => {
    assert.equal(loadConfig([], {}).codecDevice, 'auto');
    for (const d of ['auto', 'cpu', 'vaapi', 'cuda', 'qsv']) assert.equal(loadConfig(['--codec-device', d], {}).codecDevice, d);
    assert.equal(loadConfig([], { SIGHTLINE_CODEC_DEVICE: 'vaapi' }).codecDevice, 'vaapi');
    assert.equal(loadConfig(['--codec-device', 'cpu'], { SIGHTLINE_CODEC_DEVICE: 'cuda' }).codecDevice, 'cpu');
    for (const bad of [
      ['--codec-device', 'gpu'],
      ['--codec-device', 'CUDA'],
      ['--codec-device', ''],
    ]) {
      assert.throws(
        () => loadConfig(bad, {}),
        (e: Error) =>
          e instanceof ConfigError &&
          e.message === `--codec-device / SIGHTLINE_CODEC_DEVICE must be one of auto, cpu, vaapi, cuda, qsv (got ${JSON.stringify(bad[1])})`,
      );
    }
    assert.throws(
      () => loadConfig([], { SIGHTLINE_CODEC_DEVICE: 'nvenc' }),
      /SIGHTLINE_CODEC_DEVICE must be one of auto, cpu, vaapi, cuda, qsv \(got "nvenc"\)/,
    );
  });

  test('base paths are normalised', () => {
    assert.equal(normaliseBasePath('skin/'), '/skin');
    assert.equal(normaliseBasePath('/a/b//'), '/a/b');
    assert.equal(normaliseBasePath('/'), '');
    assert.throws(() => normaliseBasePath('/has space'), ConfigError);
  });
});
