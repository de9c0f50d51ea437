import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { iou, readPngAsI420 } from '../helpers/images.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { ASTRONAUT_FACE, astronautPng } from '../helpers/paths.js';

const KEY = 'k';
const astronaut = readPngAsI420(astronautPng);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sessions and the frame pipeline (real WebRTC peer in Node)', () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];

  const open = (body: Record<string, unknown> = {}, peerOpts: { video?: boolean; label?: string } = {}) =>
    openNodeSession(server.app, KEY, peers, body, peerOpts);

  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '2', '--log-level', 'silent', '--disconnected-timeout-ms', '1000', '--connect-timeout-ms', '3000'], {
        SIGHTLINE_API_KEYS: `${KEY},other-key`,
      }),
    );
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test('face results: one box on the face per frame, frame ids in decode order, timings and counters', async () => {
    const { peer, id } = await open();
    peer.startSending(astronaut, 30);
    await sleep(2500);
    peer.stopSending();
    await sleep(300);
    const results = peer.messages.filter((m) => m.type === 'result');
    assert.ok(results.length >= 30, `only ${results.length} results`);
    const ids = results.map((m) => m.frame_id as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'frame ids increase',
    );
    assert.equal(new Set(ids).size, ids.length, 'no frame answered twice');
    let good = 0;
    for (const m of results) {
      const boxes = m.boxes as Array<{ class: string; box: number[] }>;
      assert.equal(m.width, 512);
      assert.equal(m.height, 512);
      if (boxes.length === 1 && boxes[0]!.class === 'face') {
        const [x, y, w, h] = boxes[0]!.box as [number, number, number, number];
        if (iou({ x, y, w, h }, ASTRONAUT_FACE) >= 0.5) good++;
      }
    }
    assert.ok(good / results.length >= 0.9, `${good}/${results.length} results hold the face`);
    const last = results.at(-1)!;
    const timing = last.timing as Record<string, number>;
    assert.ok(timing.inference_ms! > 0 && timing.total_ms! >= timing.inference_ms!);
    assert.ok(timing.model_ms! > 0 && timing.preprocess_ms! > 0 && timing.model_ms! <= timing.inference_ms!);
    assert.equal(timing.batch_size, 1, 'BlazeFace has a fixed batch of 1');
    assert.ok(Math.abs(timing.received_ms! - Date.now()) < 10_000);
    const summary = server.sessions.get(id)!.summary();
    const c = summary;
    assert.equal(c.frames_received, c.frames_processed + c.frames_dropped, JSON.stringify(c));
    assert.equal(c.results_sent, results.length);
    assert.equal(last.dropped, c.frames_dropped);
  });

  test('params reach the processor: front model, and min_score 1 gives no boxes', async () => {
    const { peer } = await open({ params: { model: 'front', min_score: 1 } });
    peer.startSending(astronaut, 15);
    const r = await peer.waitFor((m) => m.type === 'result');
    peer.stopSending();
    assert.deepEqual(r.boxes, []);
  });

  test('the stats processor reports mean luma', async () => {
    const { peer } = await open({ processor: 'stats' });
    peer.startSending(astronaut, 15);
    const r = await peer.waitFor((m) => m.type === 'result');
    peer.stopSending();
    const luma = (r.data as { mean_luma: number }).mean_luma;
    assert.ok(luma > 60 && luma < 200, String(luma));
    assert.equal(r.processor, 'stats');
  });

  test('DataChannel control: ping → pong; bad messages get error messages and the session lives on', async () => {
    const { peer } = await open({ processor: 'null' }, { label: 'any-label' });
    peer.channel.send(JSON.stringify({ type: 'ping', id: 7 }));
    const pong = await peer.waitFor((m) => m.type === 'pong');
    assert.equal(pong.id, 7);
    peer.channel.send('not json');
    const e1 = await peer.waitFor((m) => m.type === 'error' && m.code === 'invalid_message');
    assert.match(String(e1.message), /not JSON/);
    peer.channel.send(JSON.stringify({ type: 'teleport' }));
    const e2 = await peer.waitFor((m) => m.type === 'error' && m.code === 'unsupported_message');
    assert.match(String(e2.message), /teleport/);
    peer.channel.send('x'.repeat(20_000));
    await peer.waitFor((m) => m.type === 'error' && /bytes/.test(String(m.message)));
    // Results still flow on a channel with any label.
    peer.startSending(astronaut, 15);
    await peer.waitFor((m) => m.type === 'result');
    peer.stopSending();
  });

  test('a crashed inference worker fails its frame with an error message, is replaced, and results resume', async () => {
    // One worker busy with this session: the crash hits its frames.
    const { peer, id } = await open();
    peer.startSending(astronaut, 30);
    await peer.waitFor((m) => m.type === 'result');
    const restarts = server.pool.restarts;
    server.pool.crashOneWorker();
    const seen = peer.messages.length;
    await peer.waitFor((m) => m.type === 'result' && peer.messages.indexOf(m) > seen, 15_000);
    peer.stopSending();
    await sleep(300);
    assert.equal(server.pool.restarts, restarts + 1);
    // The death is counted in /metrics.
    assert.match((await server.app.inject('/metrics')).body, /^sightline_worker_deaths_total\{pool="inference"\} 1$/m);
    const c = server.sessions.get(id)!.summary();
    const errors = peer.messages.filter((m) => m.type === 'error' && m.code === 'processing_failed');
    assert.ok(errors.length >= 1, 'the frame the worker died with came back as an error result');
    assert.match(String(errors[0]!.message), /crashed/);
    assert.equal(typeof errors[0]!.frame_id, 'number');
    // Every frame is accounted for: processed, failed with an error sent, or counted as dropped.
    assert.equal(c.frames_received, c.frames_processed + c.frames_dropped + errors.length, JSON.stringify({ c, errors: errors.length }));
    // The replacement worker loads its models and joins the pool.
    const deadline = Date.now() + 15_000;
    while (server.pool.size < 2 && Date.now() < deadline) await sleep(100);
    assert.equal((await server.app.inject('/readyz')).json().workers, 2);
  });

  test('a new connection offering session_id resumes the session: same id, processor, params, counters; the old one is closed', async () => {
    const { peer, id } = await open({ processor: 'stats', params: { step: 8 } });
    peer.startSending(astronaut, 30);
    await peer.waitFor((m) => m.type === 'result');
    peer.stopSending();
    const before = server.sessions.get(id)!.summary();
    // A second client connection (new DTLS fingerprint): what a reconnecting client, or an engine that cannot restart
    // ICE in place, does.
    const next = new NodePeer();
    peers.push(next);
    const r = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await next.offer(), type: 'offer', session_id: id }),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().session_id, id);
    assert.equal(r.json().processor, 'stats');
    await next.accept(r.json().sdp);
    await next.channelOpen();
    next.startSending(astronaut, 30);
    const result = await next.waitFor((m) => m.type === 'result');
    next.stopSending();
    assert.equal(result.processor, 'stats');
    const live = server.sessions.get(id)!;
    assert.ok(live.summary().frames_received > before.frames_received, 'counters continue');
    assert.equal(live.renegotiations, 1);
    assert.deepEqual(live.params, { step: 8 });
    assert.equal(server.sessions.get(id), live, 'still one session');
    // A session that does not exist cannot be resumed.
    const stranger = new NodePeer();
    peers.push(stranger);
    const other = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await stranger.offer(), type: 'offer', session_id: 'not-a-session' }),
    });
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().error.code, 'session_not_found');
  });

  test('a client that opens its DataChannel late gets the results made before (the newest 32; older ones counted)', async () => {
    // Video first, no DataChannel open: the session runs and its results have no reader.
    const peer = new NodePeer({ channel: 'late' });
    peers.push(peer);
    const r = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'face' }),
    });
    assert.equal(r.statusCode, 200, r.body);
    await peer.accept(r.json().sdp);
    const id = r.json().session_id as string;
    peer.startSending(astronaut, 30);
    const session = server.sessions.get(id)!;
    const deadline = Date.now() + 15_000;
    while (session.summary().frames_processed < 45 && Date.now() < deadline) await sleep(50);
    const processedBefore = session.summary().frames_processed;
    assert.ok(processedBefore >= 45, `${processedBefore} frames processed`);
    assert.equal(session.summary().results_sent, 0);
    // Now the client opens its channel, on the SCTP association its offer negotiated.
    peer.openChannel('results');
    await peer.channelOpen();
    await peer.waitFor((m) => m.type === 'result' && (m.frame_id as number) >= processedBefore + 5);
    peer.stopSending();
    const results = peer.messages.filter((m) => m.type === 'result').map((m) => m.frame_id as number);
    // The held ones (the newest 32 when the channel opened) come first, then the live ones, all in order. Frames made
    // while the channel opened were held too, so the first is at least as new as when we looked.
    const first = results[0]!;
    assert.ok(first > 0 && first >= processedBefore - 32, `first result delivered: frame ${first} (${processedBefore} processed before)`);
    assert.deepEqual(
      results,
      [...results].sort((a, b) => a - b),
    );
    const summary = session.summary();
    assert.equal(summary.results_held, 32);
    assert.ok(summary.results_undelivered >= processedBefore - 32, `undelivered ${summary.results_undelivered} counts the evicted`);
    // The capture hint made before the channel opened reached it too (astronaut.png is square: BlazeFace wants 256x256).
    const hint = peer.messages.find((m) => m.type === 'capture_hint');
    assert.deepEqual(hint, { type: 'capture_hint', max_width: 256, max_height: 256, max_fps: 30 });
  });

  test("capture hints: face asks for its model's view; a session that gets video back only for the fps", async () => {
    const plain = await open({ processor: 'face' });
    plain.peer.startSending(astronaut, 30);
    assert.deepEqual(await plain.peer.waitFor((m) => m.type === 'capture_hint'), { type: 'capture_hint', max_width: 256, max_height: 256, max_fps: 30 });
    // front (128 px) asks for less; the hint follows the params.
    plain.peer.channel.send(JSON.stringify({ type: 'set', params: { model: 'front' } }));
    assert.deepEqual(await plain.peer.waitFor((m) => m.type === 'capture_hint' && m.max_width === 128), {
      type: 'capture_hint',
      max_width: 128,
      max_height: 128,
      max_fps: 30,
    });
    plain.peer.stopSending();
    const back = await open({ processor: 'face', mode: 'video' });
    back.peer.startSending(astronaut, 30);
    assert.deepEqual(await back.peer.waitFor((m) => m.type === 'capture_hint'), { type: 'capture_hint', max_width: null, max_height: null, max_fps: 30 });
    back.peer.stopSending();
    // A client that says what it will send (offer `capture`) gets the hint in the answer, before any frame; frames
    // of that shape bring no second one. A picture of another shape does.
    const told = await open({ processor: 'face', capture: { width: 1280, height: 720 } });
    assert.deepEqual(told.answer.capture_hint, { type: 'capture_hint', max_width: 256, max_height: 144, max_fps: 30 });
    const wide = { width: 256, height: 144, data: new Uint8Array(256 * 144 * 1.5).fill(128) };
    told.peer.startSending(wide, 30);
    await told.peer.waitFor((m) => m.type === 'result' && (m.frame_id as number) >= 10);
    assert.equal(told.peer.messages.filter((m) => m.type === 'capture_hint').length, 0);
    told.peer.stopSending();
    told.peer.startSending(astronaut, 30);
    assert.deepEqual(await told.peer.waitFor((m) => m.type === 'capture_hint'), { type: 'capture_hint', max_width: 256, max_height: 256, max_fps: 30 });
    told.peer.stopSending();
  });

  test('a WHIP session that nobody reads counts its results as undelivered, none as sent', async () => {
    const peer = new NodePeer({ channel: false });
    peers.push(peer);
    const r = await server.app.inject({
      method: 'POST',
      url: '/whip?processor=stats',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
      payload: await peer.offer(),
    });
    assert.equal(r.statusCode, 201, r.body);
    await peer.accept(r.body);
    const id = String(r.headers.location).split('/').pop()!;
    peer.startSending(astronaut, 30);
    const session = server.sessions.get(id)!;
    const deadline = Date.now() + 15_000;
    while (session.summary().frames_processed < 40 && Date.now() < deadline) await sleep(50);
    peer.stopSending();
    await sleep(200);
    const s = session.summary();
    assert.ok(s.frames_processed >= 40, `${s.frames_processed} processed`);
    assert.equal(s.results_sent, 0);
    assert.equal(s.results_undelivered, s.frames_processed);
    const del = await server.app.inject({ method: 'DELETE', url: `/whip/${id}`, headers: { authorization: `Bearer ${KEY}` } });
    assert.ok(del.statusCode < 300, del.body);
  });

  test('DELETE after the server ended the session answers its final counters, for its own key only', async () => {
    const { peer, id } = await open({ processor: 'stats' });
    peer.startSending(astronaut, 30);
    await peer.waitFor((m) => m.type === 'result');
    peer.close();
    const deadline = Date.now() + 15_000;
    while (server.sessions.get(id) && Date.now() < deadline) await sleep(50);
    const del = (key: string) => server.app.inject({ method: 'DELETE', url: `/webrtc/sessions/${id}`, headers: { 'api-key': key } });
    const r = await del(KEY);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().session_id, id);
    assert.equal(r.json().end_reason, 'client_closed');
    assert.ok(r.json().results_sent > 0);
    assert.equal((await del('other-key')).statusCode, 404, "another key's ended session is not found");
    assert.equal((await server.app.inject({ method: 'DELETE', url: '/webrtc/sessions/no-such-session', headers: { 'api-key': KEY } })).statusCode, 404);
  });

  test('a session ends when its client closes, and its slot is freed', async () => {
    const { peer, id } = await open({ processor: 'null' });
    assert.ok(server.sessions.get(id));
    peer.close();
    const deadline = Date.now() + 15_000;
    while (server.sessions.get(id) && Date.now() < deadline) await sleep(50);
    assert.equal(server.sessions.get(id), undefined);
  });

  test('a session whose client never connects ends after the connect timeout', async () => {
    const peer = new NodePeer();
    peers.push(peer);
    const r = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'null' }),
    });
    assert.equal(r.statusCode, 200);
    const id = r.json().session_id as string;
    // The answer is never applied: no ICE, no DTLS.
    assert.ok(server.sessions.get(id));
    const session = server.sessions.get(id)!;
    const deadline = Date.now() + 10_000;
    while (server.sessions.get(id) && Date.now() < deadline) await sleep(100);
    assert.equal(server.sessions.get(id), undefined);
    assert.equal(session.summary().end_reason, 'connect_timeout');
  });

  test('server close ends every session', async () => {
    await open({ processor: 'null' });
    assert.ok(server.sessions.size >= 1);
    server.sessions.closeAll('shutdown');
    assert.equal(server.sessions.size, 0);
  });
});
