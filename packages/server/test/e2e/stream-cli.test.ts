import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ResultMessage } from '@sightline/protocol';
import { artifactsDir, astronautPng, repoRoot } from '../helpers/paths.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'cli-key';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [`${repoRoot}packages/server/dist/cli/main.js`, 'stream', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sightline stream (Node client CLI, the TypeScript twin of demo.py)', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let mp4: string;

  before(async () => {
    mp4 = `${artifactsDir('clips')}astronaut-3s.mp4`;
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      astronautPng,
      '-vf',
      'scale=640:640,crop=640:480:0:80,format=yuv420p',
      '-t',
      '3',
      '-r',
      '30',
      '-c:v',
      'libx264',
      mp4,
    ]);
    server = await startServerProcess([], { SIGHTLINE_API_KEYS: KEY });
  });
  after(async () => {
    await server?.stop();
  });

  test('streams an mp4 and prints one DataChannel result message per line, then a summary', async () => {
    const r = await runCli([mp4, '--url', server.url, '--api-key', KEY, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const results = lines.map((l) => ResultMessage.parse(JSON.parse(l)));
    // 3 s at 30 fps = 90 frames.
    assert.ok(results.length >= 90 * 0.8, `${results.length} results for 90 frames`);
    const faces = results.filter((m) => m.boxes.length === 1 && m.boxes[0]!.class === 'face');
    assert.ok(faces.length / results.length >= 0.9, `${faces.length}/${results.length} with the face`);
    assert.match(r.stderr, /done: 1 session\(s\) over webrtc, 90 frames sent, \d+ results .*RTT p50 [\d.]+ ms, p95 [\d.]+ ms/);
    // The live summary (stderr with --json) shows the file's progress.
    assert.match(r.stderr, /\[#+-*\] +\d+%/);
    // The server's capture hint (face: 256 px) came during the encoder warm-up: every real frame was sent at 256x192.
    assert.deepEqual([...new Set(results.map((m) => `${m.width}x${m.height}`))], ['256x192']);
  });

  test('--ignore-capture-hints sends the full --width', async () => {
    const r = await runCli([mp4, '--url', server.url, '--api-key', KEY, '--json', '--ignore-capture-hints']);
    assert.equal(r.code, 0, r.stderr);
    const results = r.stdout
      .trim()
      .split('\n')
      .map((l) => ResultMessage.parse(JSON.parse(l)));
    assert.ok(results.length >= 90 * 0.8, `${results.length} results`);
    assert.deepEqual([...new Set(results.map((m) => `${m.width}x${m.height}`))], ['640x480']);
  });

  for (const transport of ['datachannel', 'ws']) {
    test(`--transport ${transport}: JPEG frames with the ack window; every result is a face, with RTT`, async () => {
      const r = await runCli([mp4, '--url', server.url, '--api-key', KEY, '--json', '--transport', transport]);
      assert.equal(r.code, 0, r.stderr);
      const results = r.stdout
        .trim()
        .split('\n')
        .map((l) => ResultMessage.parse(JSON.parse(l)));
      const m = new RegExp(
        `done: 1 session\\(s\\) over ${transport}, 90 frames sent, (\\d+) results .*RTT p50 [\\d.]+ ms, p95 [\\d.]+ ms, dropped (\\d+)`,
      ).exec(r.stderr);
      assert.ok(m, r.stderr);
      // Frames the window held back are dropped at the client and counted; the rest are answered.
      assert.equal(Number(m![1]) + Number(m![2]), 90, r.stderr);
      assert.ok(results.length >= 45, `${results.length} results`);
      assert.ok(results.every((x) => x.boxes.length === 1 && x.boxes[0]!.class === 'face' && x.client_ts_ms !== undefined));
      const ids = results.map((x) => x.frame_id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      // The first frames go at 640x480; once the capture hint is in, each frame is scaled before JPEG encoding.
      const late = results.filter((x) => x.frame_id >= 10);
      assert.ok(late.length > 0 && late.every((x) => x.width === 256 && x.height === 192), JSON.stringify(late.map((x) => x.width)));
    });
  }

  test('--sessions 4 runs four sessions at once', async () => {
    const r = await runCli([mp4, '--url', server.url, '--api-key', KEY, '--sessions', '4', '--processor', 'null']);
    assert.equal(r.code, 0, r.stderr);
    const m = /done: 4 session\(s\) over webrtc, (\d+) frames sent, (\d+) results/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m![1]), 360);
    assert.ok(Number(m![2]) >= 360 * 0.8, `${m![2]} results`);
  });

  test('failures exit non-zero with a clear message', async () => {
    const bad = await runCli([mp4, '--url', server.url, '--api-key', 'wrong']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid_api_key/);
    const usage = await runCli([mp4, '--api-key', KEY]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--url/);
    const missing = await runCli(['/nonexistent.mp4', '--url', server.url, '--api-key', KEY]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read a video stream/);
  });
});
