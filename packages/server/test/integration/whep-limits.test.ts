import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type nodeDataChannel from 'node-datachannel';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { readPngAsI420 } from '../helpers/images.js';
import { type NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { unansweredWhepOffer } from '../helpers/raw-clients.js';
import { astronautPng } from '../helpers/paths.js';

const KEY = 'k';
const CONNECT_TIMEOUT_MS = 1500;

/** Tracks are kept until the end: node-datachannel crashes if one is collected before it closed. */
const tracks: nodeDataChannel.Track[] = [];

const viewerOffer = (pcs: nodeDataChannel.PeerConnection[]): Promise<string> => unansweredWhepOffer({ pcs, tracks });

describe('WHEP viewers are bounded: --max-viewers per session, and a viewer that never connects is dropped', () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];
  const pcs: nodeDataChannel.PeerConnection[] = [];
  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--max-viewers', '2', '--connect-timeout-ms', String(CONNECT_TIMEOUT_MS)], {
        SIGHTLINE_API_KEYS: KEY,
      }),
    );
  });
  after(async () => {
    for (const p of peers) p.close();
    for (const t of tracks) t.close();
    for (const pc of pcs) pc.close();
    await server.close();
  });

  test('the third viewer gets 503 at_capacity; unconnected viewers are gone after the connect timeout, and a new one fits', async () => {
    const { peer, id } = await openNodeSession(server.app, KEY, peers, { processor: 'stats' });
    peer.startSending(readPngAsI420(astronautPng), 15);
    const whep = async () =>
      server.app.inject({
        method: 'POST',
        url: `/sessions/${id}/whep`,
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
        payload: await viewerOffer(pcs),
      });
    for (let i = 0; i < 2; i++) assert.equal((await whep()).statusCode, 201);
    const session = server.sessions.get(id)!;
    assert.equal(session.viewers, 2);
    const third = await whep();
    assert.equal(third.statusCode, 503, third.body);
    assert.equal(third.json().error.code, 'at_capacity');
    assert.match(third.json().error.message, /2 WHEP viewers.*--max-viewers 2/);
    assert.equal(third.headers['retry-after'], '5');
    // Neither viewer applied its answer: both are dropped once the connect timeout has passed.
    const deadline = Date.now() + CONNECT_TIMEOUT_MS + 3000;
    while (session.viewers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(session.viewers, 0, 'viewers that never connected are dropped');
    assert.equal((await whep()).statusCode, 201, 'a slot is free again');
    assert.ok(server.sessions.get(id), 'the session itself lives on');
    peer.stopSending();
  });

  test('offers that arrive together cannot pass --max-viewers between them (the slots being answered count)', async () => {
    const { peer, id } = await openNodeSession(server.app, KEY, peers, { processor: 'stats' });
    peer.startSending(readPngAsI420(astronautPng), 15);
    const offers = await Promise.all(Array.from({ length: 5 }, () => viewerOffer(pcs)));
    const answers = await Promise.all(
      offers.map((payload) =>
        server.app.inject({
          method: 'POST',
          url: `/sessions/${id}/whep`,
          headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
          payload,
        }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [201, 201, 503, 503, 503]);
    assert.equal(server.sessions.get(id)!.viewers, 2);
    peer.stopSending();
  });

  test('--max-viewers is validated', () => {
    assert.throws(() => loadConfig(['--max-viewers', '-1'], {}), /max-viewers/);
    assert.equal(loadConfig(['--max-viewers', '0'], {}).maxViewers, 0);
  });
});
