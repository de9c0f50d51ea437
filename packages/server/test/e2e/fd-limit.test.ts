import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { NodePeer } from '../helpers/node-peer.js';
import { repoRoot } from '../helpers/paths.js';

const KEY = 'fd-key';
const FD_LIMIT = 128;

/** The built server under `ulimit -n FD_LIMIT`, on a free port; resolves with its URL once it listens. */
async function startLimitedServer(): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const main = `${repoRoot}packages/server/dist/cli/main.js`;
  const args = ['--host', '127.0.0.1', '--port', '0', '--workers', '1', '--max-sessions', '500', '--connect-timeout-ms', '120000', '--processor', 'null'];
  const proc = spawn('bash', ['-c', `ulimit -n ${FD_LIMIT} && exec "${process.execPath}" "${main}" serve ${args.join(' ')}`], {
    env: { ...process.env, SIGHTLINE_API_KEYS: KEY, SIGHTLINE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /sightline listening on (http:\/\/\S+)/.exec(out);
    if (m) return { url: m[1]!, proc, output: () => out };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * File descriptors run out in a clear refusal, never a crash: under `ulimit -n 128`, offers are answered until the
 * descriptors in use come within the reserve of the limit, then get 503 `at_capacity` with Retry-After; the server
 * stays healthy, /metrics shows its descriptors, threads and native peers, and once sessions end, offers fit again.
 */
describe(`the server under ulimit -n ${FD_LIMIT}: 503 at_capacity before the descriptors run out`, { timeout: 180_000 }, () => {
  let server: Awaited<ReturnType<typeof startLimitedServer>> | undefined;
  const peers: NodePeer[] = [];
  after(async () => {
    for (const p of peers) p.close();
    server?.proc.kill('SIGTERM');
  });

  test('offers until at_capacity, the server alive throughout, and room again after DELETEs', async () => {
    server = await startLimitedServer();
    const { url } = server;
    const offer = async () => {
      const peer = new NodePeer();
      peers.push(peer);
      const r = await fetch(`${url}/webrtc/offer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': KEY },
        body: JSON.stringify({ sdp: await peer.offer(), type: 'offer' }),
      });
      return {
        status: r.status,
        body: (await r.json()) as { session_id?: string; error?: { code: string; message: string } },
        retryAfter: r.headers.get('retry-after'),
      };
    };
    const ids: string[] = [];
    let refused: Awaited<ReturnType<typeof offer>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await offer();
      if (r.status === 200) ids.push(r.body.session_id!);
      else refused = r;
    }
    assert.ok(refused, `200 offers were all answered under ulimit -n ${FD_LIMIT}`);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error!.code, 'at_capacity');
    assert.match(refused.body.error!.message, new RegExp(`file descriptors in use.*of ${FD_LIMIT}|of ${FD_LIMIT} file descriptors`));
    assert.equal(refused.retryAfter, '5');
    assert.ok(ids.length >= 3, `only ${ids.length} sessions before the refusal`);
    console.log(`ulimit -n ${FD_LIMIT}: ${ids.length} sessions answered, then ${refused.body.error!.message}`);

    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the server is alive');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.equal(value('sightline_native_peers'), ids.length);
    assert.ok(value('sightline_process_threads') > 0);
    assert.ok(value('process_open_fds') > FD_LIMIT / 2, `process_open_fds ${value('process_open_fds')}`);
    assert.equal(value('process_max_fds'), FD_LIMIT);

    // Ending sessions frees their descriptors at once: a new offer fits again.
    for (const id of ids) await fetch(`${url}/webrtc/sessions/${id}`, { method: 'DELETE', headers: { 'api-key': KEY } });
    const again = await offer();
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(server.proc.exitCode, null, `the server exited:\n${server.output().slice(-2000)}`);
  });
});
