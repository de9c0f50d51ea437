import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { encodeFrameChunks } from '@sightline/protocol';
import sharp from 'sharp';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { iou } from '../helpers/images.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { ASTRONAUT_FACE, astronautPng } from '../helpers/paths.js';

const KEY = 'k';
const MAX_FRAME_BYTES = 200_000;
type Msg = Record<string, unknown>;

const onFace = (m: Msg): boolean => {
  const boxes = m.boxes as Array<{ class: string; box: [number, number, number, number] }>;
  if (boxes.length !== 1 || boxes[0]!.class !== 'face') return false;
  const [x, y, w, h] = boxes[0]!.box;
  return iou({ x, y, w, h }, ASTRONAUT_FACE) >= 0.5;
};

/** A client of either transport: sends binary messages, collects the server's JSON messages. */
interface Client {
  send(data: Uint8Array | string): void;
  messages: Msg[];
}

async function waitFor(c: Client, pred: (m: Msg) => boolean, timeoutMs = 10_000): Promise<Msg> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = c.messages.find(pred);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(c.messages.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sendFrame(c: Client, image: Uint8Array, frameId: number, ts = 1000 + frameId): void {
  for (const chunk of encodeFrameChunks(image, frameId, ts)) c.send(chunk);
}

/** The checks both transports must pass: faces found, every frame acked, bad input answered and survived. */
async function exercise(c: Client, images: { jpeg: Uint8Array; webp: Uint8Array; png: Uint8Array; big: Uint8Array }): Promise<void> {
  sendFrame(c, images.jpeg, 1);
  const r1 = await waitFor(c, (m) => m.type === 'result' && m.frame_id === 1);
  assert.ok(onFace(r1), JSON.stringify(r1.boxes));
  assert.equal(r1.client_ts_ms, 1001);
  assert.deepEqual(await waitFor(c, (m) => m.type === 'frame_ack' && m.frame_id === 1), { type: 'frame_ack', frame_id: 1, status: 'processed' });

  sendFrame(c, images.webp, 2);
  assert.ok(onFace(await waitFor(c, (m) => m.type === 'result' && m.frame_id === 2)), 'WebP frame boxed');

  // Not a JPEG or WebP: a PNG's bytes.
  sendFrame(c, images.png, 3);
  const e3 = await waitFor(c, (m) => m.type === 'error' && m.frame_id === 3);
  assert.equal(e3.code, 'unsupported_format');
  assert.deepEqual(await waitFor(c, (m) => m.type === 'frame_ack' && m.frame_id === 3), { type: 'frame_ack', frame_id: 3, status: 'rejected' });

  // A malformed chunk: too short for a header.
  c.send(new Uint8Array([1, 2, 3]));
  const e = await waitFor(c, (m) => m.type === 'error' && m.code === 'invalid_frame' && m.frame_id === undefined);
  assert.match(e.message as string, /shorter than the 20-byte header/);

  // A truncated JPEG: right magic, broken data.
  sendFrame(c, images.jpeg.subarray(0, 600), 4);
  assert.equal((await waitFor(c, (m) => m.type === 'error' && m.frame_id === 4)).code, 'invalid_frame');

  // Over the server's frame size limit.
  sendFrame(c, images.big, 5);
  const e5 = await waitFor(c, (m) => m.type === 'error' && m.frame_id === 5);
  assert.equal(e5.code, 'frame_too_large');
  assert.match(e5.message as string, new RegExp(`${MAX_FRAME_BYTES}-byte limit`));

  // Text messages still work, and the session still serves frames.
  c.send(JSON.stringify({ type: 'ping', id: 'p' }));
  await waitFor(c, (m) => m.type === 'pong' && m.id === 'p');
  sendFrame(c, images.jpeg, 6);
  assert.ok(onFace(await waitFor(c, (m) => m.type === 'result' && m.frame_id === 6)));
}

describe('JPEG/WebP frames over a DataChannel and over the WebSocket bridge', () => {
  let server: SightlineServer;
  let wsUrl: string;
  const peers: NodePeer[] = [];
  const sockets: WebSocket[] = [];
  const images = { jpeg: new Uint8Array(), webp: new Uint8Array(), png: new Uint8Array(), big: new Uint8Array() };

  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--port', '0', '--host', '127.0.0.1', '--max-frame-bytes', String(MAX_FRAME_BYTES)], {
        SIGHTLINE_API_KEYS: KEY,
      }),
    );
    wsUrl = (await server.listen()).replace(/^http/, 'ws');
    const png = readFileSync(astronautPng);
    images.jpeg = new Uint8Array(await sharp(png).jpeg({ quality: 85 }).toBuffer());
    images.webp = new Uint8Array(await sharp(png).webp({ quality: 85 }).toBuffer());
    images.png = new Uint8Array(await sharp(png).resize(64, 64).png().toBuffer());
    images.big = new Uint8Array(await sharp(png).resize(2048, 2048).jpeg({ quality: 100 }).toBuffer());
    assert.ok(images.big.byteLength > MAX_FRAME_BYTES);
  });
  after(async () => {
    for (const p of peers) p.close();
    for (const s of sockets) s.terminate();
    await server.close();
  });

  const openWs = (query = '', headers: Record<string, string> = { 'api-key': KEY }): Promise<{ ws: WebSocket; client: Client; closed: Promise<number> }> => {
    const ws = new WebSocket(`${wsUrl}/ws${query}`, { headers });
    sockets.push(ws);
    const client: Client = { messages: [], send: (d) => ws.send(d) };
    ws.on('message', (d, isBinary) => !isBinary && client.messages.push(JSON.parse(String(d)) as Msg));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, client, closed }));
      ws.once('error', reject);
    });
  };

  test('DataChannel (no media track): faces boxed, frames acked, bad frames answered, session survives', async () => {
    const { peer, id } = await openNodeSession(server.app, KEY, peers, {}, { video: false, label: 'frames' });
    const client: Client = { messages: peer.messages, send: (d) => peer.channel.send(d as string) };
    await exercise(client, images);
    const summary = server.sessions.get(id)!.summary();
    assert.equal(summary.frames_processed, 3);
    assert.equal(summary.frames_rejected, 4);
  });

  test('WebSocket bridge with the api-key header: same behaviour; session listed and ended by DELETE', async () => {
    const { client, closed } = await openWs('?processor=face&user_id=u-ws');
    const ready = await waitFor(client, (m) => m.type === 'ready');
    assert.equal(ready.processor, 'face');
    const session = server.sessions.get(ready.session_id as string)!;
    assert.equal(session.userId, 'u-ws');
    await exercise(client, images);
    const r = await server.app.inject({ method: 'DELETE', url: `/webrtc/sessions/${session.id}`, headers: { 'api-key': KEY } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().frames_rejected, 4);
    assert.equal(await closed, 1000);
  });

  test('a WebSocket session has no WebRTC half: ICE restart and trickle on its id get 501 not_implemented, and it lives on', async () => {
    const stranger = new NodePeer();
    peers.push(stranger);
    const { client, ws } = await openWs('?processor=face');
    const ready = await waitFor(client, (m) => m.type === 'ready');
    const id = ready.session_id as string;
    const restart = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await stranger.offer(), type: 'offer', session_id: id }),
    });
    assert.equal(restart.statusCode, 501, restart.body);
    assert.equal(restart.json().error.code, 'not_implemented');
    const patch = await server.app.inject({
      method: 'PATCH',
      url: `/webrtc/sessions/${id}`,
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'api-key': KEY },
      payload: 'a=mid:0\r\na=candidate:1 1 udp 2113937151 127.0.0.1 5000 typ host\r\n',
    });
    assert.equal(patch.statusCode, 501, patch.body);
    sendFrame(client, images.jpeg, 0);
    assert.ok(onFace(await waitFor(client, (m) => m.type === 'result')));
    ws.close();
  });

  test('WebSocket bridge with a hello message (browsers cannot set headers)', async () => {
    const { client, ws } = await openWs('', {});
    ws.send(JSON.stringify({ type: 'hello', api_key: KEY, processor: 'face', params: { min_score: 0.6 } }));
    const ready = await waitFor(client, (m) => m.type === 'ready');
    assert.equal((ready.params as Record<string, unknown>).min_score, 0.6);
    sendFrame(client, images.jpeg, 0);
    assert.ok(onFace(await waitFor(client, (m) => m.type === 'result')));
    ws.close();
  });

  test('WebSocket bridge refusals: bad key, no hello, unknown processor, bad params — error message, then a 4xxx close', async () => {
    const cases: Array<{ query?: string; headers?: Record<string, string>; first?: string | Uint8Array; code: string; close: number }> = [
      { headers: { 'api-key': 'nope' }, code: 'invalid_api_key', close: 4403 },
      { headers: {}, first: JSON.stringify({ type: 'hello', api_key: 'nope' }), code: 'invalid_api_key', close: 4403 },
      { headers: {}, first: JSON.stringify({ type: 'hello' }), code: 'missing_api_key', close: 4401 },
      { headers: {}, first: new Uint8Array(30), code: 'missing_api_key', close: 4401 },
      { headers: {}, first: 'not json', code: 'invalid_message', close: 4400 },
      { query: '?processor=nope', code: 'unknown_processor', close: 4400 },
      { query: '?params=%7Bbad', code: 'invalid_params', close: 4400 },
      { query: `?params=${encodeURIComponent('{"min_score":7}')}`, code: 'invalid_params', close: 4400 },
    ];
    for (const c of cases) {
      const { client, ws, closed } = await openWs(c.query ?? '', c.headers);
      if (c.first !== undefined) ws.send(c.first);
      const code = await closed;
      assert.equal(client.messages[0]?.code, c.code, JSON.stringify(c));
      assert.equal(code, c.close, JSON.stringify(c));
    }
    // The server still serves.
    const { client } = await openWs();
    await waitFor(client, (m) => m.type === 'ready');
  });
});
