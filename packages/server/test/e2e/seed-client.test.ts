import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CLIP, ensurePanClip } from '../helpers/clip.js';
import { startCoturn, type Coturn } from '../helpers/coturn.js';
import { artifactsDir } from '../helpers/paths.js';
import { seedClientWithReadmeEdits } from '../helpers/readme-blocks.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'seed-key';
const PYTHON = process.env.SEED_PYTHON ?? '/usr/bin/python3';

/**
 * Runs the seed's Python client — the seed's text with exactly the README's edits applied — until it has sent the
 * whole clip (plus a grace period), then interrupts it.
 */
function runSeedClient(env: Record<string, string>, ms: number): Promise<string> {
  const seedClient = seedClientWithReadmeEdits();
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, [seedClient], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGINT'), ms);
    proc.on('error', reject);
    proc.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe("the seed's Python client (aiortc) against --base-path /skin", { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let turn: Coturn;

  before(async () => {
    turn = await startCoturn(['--no-auth']);
    server = await startServerProcess(['--base-path', '/skin', '--health-status', 'WebRTC Skin API healthy'], { SIGHTLINE_API_KEYS: KEY });
  });
  after(async () => {
    await server?.stop();
    await turn?.stop();
  });

  test('gets an RTT log line for ≥ 90% of the frames it sent', async () => {
    const out = await runSeedClient(
      {
        API_KEY: KEY,
        SERVER_URL: `${server.url}/skin/webrtc/offer`,
        TURN_SERVER_URL: '127.0.0.1',
        TURN_SERVER_PORT: String(turn.port),
        CAMERA: ensurePanClip(),
        USER_ID: 'seed-user',
      },
      (CLIP.seconds + 8) * 1000,
    );
    writeFileSync(`${artifactsDir('logs')}seed-client.log`, out);
    const rtts = [...out.matchAll(/\[LATENCY\] Frame (\d+) RTT: ([\d.]+) ms/g)].map((m) => ({ frame: Number(m[1]), rtt: Number(m[2]) }));
    assert.doesNotMatch(out, /\[CLIENT\] (Server returned|Error during)/);
    // The clip has CLIP.frames frames; the client sends each once with pts 0, 1, 2, …
    assert.ok(rtts.length >= CLIP.frames * 0.9, `${rtts.length} RTT lines for ${CLIP.frames} frames sent`);
    assert.ok(rtts.every((r) => r.frame >= 0 && r.frame < CLIP.frames));
    const sorted = rtts.map((r) => r.rtt).sort((a, b) => a - b);
    console.log(
      `seed client: ${rtts.length}/${CLIP.frames} frames answered, RTT p50 ${sorted[Math.floor(sorted.length / 2)]} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)]} ms`,
    );
    assert.match(server.output(), /"user_id":"seed-user"/);
    // The seed's health route and text, as its document gives them.
    assert.deepEqual(await (await fetch(`${server.url}/skin/webrtc/health`)).json(), { status: 'WebRTC Skin API healthy' });
  });
});
