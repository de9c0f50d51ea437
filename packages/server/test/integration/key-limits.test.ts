import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { keyIdOf } from '../../src/session/session-manager.js';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keysYaml = (maxSessions: number) => `keys:
  - key: key-a
    name: tenant-a-key
    tenant: a
    processors: [face, "null", vad]
    max_sessions: ${maxSessions}
    max_fps: 5
  - key: key-b
    tenant: b
`;

describe('per-key limits from a hot-reloaded keys file', () => {
  let server: SightlineServer;
  let keysFile: string;
  const peers: NodePeer[] = [];

  const opened: string[] = [];
  const endAll = () => {
    for (const id of opened.splice(0)) server.sessions.end(id, 'deleted');
  };
  const open = async (key: string, body: Record<string, unknown> = {}) => {
    const s = await openNodeSession(server.app, key, peers, body);
    opened.push(s.id);
    return s;
  };
  const offer = async (key: string, body: Record<string, unknown> = {}) => {
    const p = new NodePeer();
    peers.push(p);
    return server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': key },
      payload: JSON.stringify({ sdp: await p.offer(), type: 'offer', ...body }),
    });
  };

  before(async () => {
    keysFile = join(mkdtempSync(join(tmpdir(), 'sightline-keys-')), 'keys.yaml');
    writeFileSync(keysFile, keysYaml(1));
    server = await createServer(loadConfig(['--workers', '1', '--log-level', 'silent', '--keys-file', keysFile]));
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test("the key's N+1th concurrent session gets 429 with Retry-After; another key is unaffected", async () => {
    const first = await open('key-a');
    const second = await offer('key-a');
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '5');
    assert.equal(second.json().error.code, 'rate_limited');
    assert.match(second.json().error.message, /key "tenant-a-key" already has 1 concurrent session \(its limit\)/);
    const b = await offer('key-b');
    assert.equal(b.statusCode, 200);
    opened.push(b.json().session_id as string);
    // Once the first ends, the key may open one again.
    server.sessions.end(first.id, 'deleted');
    const again = await offer('key-a');
    assert.equal(again.statusCode, 200);
    opened.push(again.json().session_id as string);
  });

  test('processors the key may not use: 403 at offer time, a forbidden error for a live switch', async () => {
    endAll();
    const stats = await offer('key-a', { processor: 'stats' });
    assert.equal(stats.statusCode, 403);
    assert.equal(stats.json().error.code, 'forbidden');
    assert.match(stats.json().error.message, /may not use processor "stats" \(allowed: face, null, vad\)/);
    const { peer } = await open('key-a', { processor: 'null' });
    peer.channel.send(JSON.stringify({ type: 'set', id: 1, processor: 'stats' }));
    const err = await peer.waitFor((m) => m.id === 1);
    assert.equal(err.code, 'forbidden');
    peer.channel.send(JSON.stringify({ type: 'set', id: 2, processor: 'face' }));
    assert.equal((await peer.waitFor((m) => m.id === 2)).type, 'ack');
  });

  test('max_fps: the server processes at most the cap while the client sends more; the rest are counted as dropped', async () => {
    endAll();
    const { peer, id } = await open('key-a', { processor: 'null' });
    peer.startSending(readPngAsI420(astronautPng), 30);
    await sleep(4000);
    peer.stopSending();
    await sleep(300);
    const s = server.sessions.get(id)!.summary();
    const results = peer.messages.filter((m) => m.type === 'result');
    // 4 s at 5 fps: 20 frames, one more for the first; the client sent about 120.
    assert.ok(s.frames_received >= 90, JSON.stringify(s));
    assert.ok(results.length <= 21 && results.length >= 15, `${results.length} results`);
    assert.equal(s.frames_processed + s.frames_dropped, s.frames_received, JSON.stringify(s));
    assert.ok((results.at(-1)!.dropped as number) >= 60);
  });

  test('editing the keys file applies without a restart', async () => {
    endAll();
    await open('key-a');
    assert.equal((await offer('key-a')).statusCode, 429);
    writeFileSync(keysFile, keysYaml(2));
    const deadline = Date.now() + 5000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await sleep(100);
      const r = await offer('key-a');
      status = r.statusCode;
      if (status === 200) opened.push(r.json().session_id as string);
    }
    assert.equal(status, 200);
    // A broken file keeps the last good keys.
    writeFileSync(keysFile, 'keys:\n  - max_fps: -3\n');
    await sleep(400);
    assert.equal((await offer('key-b')).statusCode, 200);
  });

  test("removing a key ends its live sessions (key_revoked): none outlives its key or runs on without the key's limits", async () => {
    endAll();
    writeFileSync(keysFile, keysYaml(2));
    await sleep(400);
    const a = await open('key-a');
    const b = await open('key-b');
    const sessionA = server.sessions.get(a.id)!;
    writeFileSync(keysFile, keysYaml(2).replace(/ {2}- key: key-b\n {4}tenant: b\n/, ''));
    const deadline = Date.now() + 5000;
    while (server.sessions.get(b.id) && Date.now() < deadline) await sleep(50);
    // key-a is still in the file: its session goes on; key-b's ended.
    assert.equal(sessionA.closed, false);
    assert.equal(server.sessions.get(b.id), undefined);
    assert.equal(server.sessions.endedSummary(b.id, keyIdOf('key-b'))?.end_reason, 'key_revoked');
    assert.equal((await offer('key-b')).statusCode, 403, 'and its new requests are refused');
  });
});
