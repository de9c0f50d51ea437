import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';
import { startServerProcess } from '../helpers/server-process.js';

const KEY = 'drain-key';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function offer(url: string, peer: NodePeer): Promise<Response> {
  return fetch(`${url}/webrtc/offer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': KEY },
    body: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'face' }),
  });
}

describe('graceful drain on SIGTERM (the built server as a child process)', { timeout: 60_000 }, () => {
  const peers: NodePeer[] = [];
  after(() => {
    for (const p of peers) p.close();
  });

  test('live session told "draining", still served until it leaves; new offers 503; exit 0 before the deadline', async () => {
    const DEADLINE = 20_000;
    const server = await startServerProcess(['--drain-timeout-ms', String(DEADLINE)], { SIGHTLINE_API_KEYS: KEY });
    const peer = new NodePeer();
    peers.push(peer);
    const r = await offer(server.url, peer);
    assert.equal(r.status, 200);
    await peer.accept(((await r.json()) as { sdp: string }).sdp);
    await peer.channelOpen();
    peer.startSending(readPngAsI420(astronautPng), 15);
    await peer.waitFor((m) => m.type === 'result');

    const exited = new Promise<number | null>((res) => server.proc.once('exit', (code) => res(code)));
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const draining = await peer.waitFor((m) => m.type === 'draining', 5000);
    assert.ok((draining.deadline_ms as number) > DEADLINE - 2000 && (draining.deadline_ms as number) <= DEADLINE, JSON.stringify(draining));
    const before = peer.messages.filter((m) => m.type === 'result').length;

    // Not ready any more, and no new sessions here.
    assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
    const late = new NodePeer();
    peers.push(late);
    const refused = await offer(server.url, late);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'not_ready');

    // The live session keeps getting results while it stays.
    await sleep(1500);
    const during = peer.messages.filter((m) => m.type === 'result').length - before;
    assert.ok(during >= 10, `${during} results while draining`);

    // The client leaves; the server is then done and exits 0, long before the deadline.
    peer.close();
    const code = await exited;
    assert.equal(code, 0, server.output().slice(-2000));
    assert.ok(Date.now() - t0 < DEADLINE - 5000, `exited after ${Date.now() - t0} ms`);
    assert.match(server.output(), /"msg":"drained"/);
  });
});
