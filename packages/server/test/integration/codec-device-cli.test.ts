/**
 * `sightline serve --codec-device …` as a real process (the built CLI in dist/; `npx tsc -b` first): a hardware device
 * that does not open fails the start before anything listens, with the reason on stderr and a non-zero exit; a bad
 * value is a usage error; and the device in use is in the startup lines.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { startServerProcess } from '../helpers/server-process.js';

function serve(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [`${repoRoot}packages/server/dist/cli/main.js`, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
      env: { ...process.env, SIGHTLINE_DB: ':memory:', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A start that hangs instead of failing is killed (and fails the test on its code).
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('sightline serve --codec-device', { timeout: 120_000 }, () => {
  test('vaapi on a node that is no GPU: exit 1 before listening, the reason and the way out on stderr', async () => {
    // /dev/null opens nowhere as a VA display, so this fails on any machine, GPU or not.
    const r = await serve(['--codec-device', 'vaapi'], { SIGHTLINE_VAAPI_DEVICE: '/dev/null' });
    assert.equal(r.code, 1, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^sightline: --codec-device vaapi: could not open a VAAPI device \(SIGHTLINE_VAAPI_DEVICE\): \/dev\/null: /m);
    assert.match(r.stderr, /use --codec-device cpu/);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  test('SIGHTLINE_CODEC_DEVICE=vaapi does the same as the flag', async () => {
    const r = await serve([], { SIGHTLINE_CODEC_DEVICE: 'vaapi', SIGHTLINE_VAAPI_DEVICE: '/dev/null' });
    assert.equal(r.code, 1, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /--codec-device vaapi: could not open a VAAPI device/);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  test('a value that is no device: a usage error (exit 2) naming the choices', async () => {
    const r = await serve(['--codec-device', 'gpu']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--codec-device \/ SIGHTLINE_CODEC_DEVICE must be one of auto, cpu, vaapi, cuda, qsv \(got "gpu"\)/);
  });

  test('cpu: the server starts, and its startup lines name the codec device', async () => {
    const server = await startServerProcess(['--codec-device', 'cpu', '--workers', '1'], { SIGHTLINE_DB: ':memory:' });
    try {
      assert.match(server.output(), /media: {6}libdatachannel \+ FFmpeg \(video codecs: [^)]*, codec device: cpu\)/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
