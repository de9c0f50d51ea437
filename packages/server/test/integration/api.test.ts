import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { NodePeer } from '../helpers/node-peer.js';

const KEY = 'key-a';
const OTHER = 'key-b';

describe('HTTP API (in-process server, real WebRTC peers and workers)', () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];
  const newOffer = async (): Promise<string> => {
    const p = new NodePeer();
    peers.push(p);
    return p.offer();
  };
  const post = (body: unknown, headers: Record<string, string> = { 'api-key': KEY }, url = '/skin/webrtc/offer') =>
    server.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--base-path', '/skin', '--max-sessions', '2', '--log-level', 'silent'], { SIGHTLINE_API_KEYS: `${KEY},${OTHER}` }),
    );
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test("GET {base}/webrtc/health answers the seed's shape", async () => {
    const r = await server.app.inject({ method: 'GET', url: '/skin/webrtc/health' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: 'WebRTC API healthy' });
  });

  test("--health-status sets the health text (the seed's), and the OpenAPI document states it", async () => {
    const seedLike = await createServer(
      loadConfig(['--workers', '1', '--base-path', '/skin', '--health-status', 'WebRTC Skin API healthy', '--log-level', 'silent'], {
        SIGHTLINE_API_KEYS: KEY,
      }),
    );
    try {
      const r = await seedLike.app.inject({ method: 'GET', url: '/skin/webrtc/health' });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json(), { status: 'WebRTC Skin API healthy' });
      const doc = (await seedLike.app.inject('/openapi.json')).json();
      const ok = doc.paths['/skin/webrtc/health'].get.responses['200'];
      assert.deepEqual(ok.content['application/json'].example, { status: 'WebRTC Skin API healthy' });
      assert.match(ok.description, /--health-status/);
      // The default server's document gives the default text.
      const def = (await server.app.inject('/openapi.json')).json();
      assert.deepEqual(def.paths['/skin/webrtc/health'].get.responses['200'].content['application/json'].example, { status: 'WebRTC API healthy' });
    } finally {
      await seedLike.close();
    }
    assert.throws(() => loadConfig(['--health-status', ''], {}), /health-status/);
  });

  test('/healthz and /readyz sit at the root; readyz reports workers and models', async () => {
    assert.equal((await server.app.inject('/healthz')).statusCode, 200);
    const r = await server.app.inject('/readyz');
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().ready, true);
    assert.equal(r.json().workers, 1);
    assert.ok(r.json().models.includes('blazeface-back'));
  });

  test('routes live under the base path only', async () => {
    const r = await post({ sdp: await newOffer(), type: 'offer' }, { 'api-key': KEY }, '/webrtc/offer');
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error.code, 'not_found');
  });

  test('a missing key is 401, an unknown key 403 — before the body is looked at', async () => {
    const missing = await post({ nonsense: true }, {});
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.json().error.code, 'missing_api_key');
    const wrong = await post('{not json', { 'api-key': 'nope' });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().error.code, 'invalid_api_key');
    const bearerWrong = await post({}, { authorization: 'Bearer nope' });
    assert.equal(bearerWrong.statusCode, 403);
  });

  test('a valid offer gets an answer and a session id; Authorization: Bearer works too', async () => {
    const peer = new NodePeer();
    peers.push(peer);
    const r = await post({ sdp: await peer.offer(), type: 'offer', user_id: null }, { authorization: `Bearer ${KEY}` });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.equal(body.type, 'answer');
    assert.match(body.sdp, /^v=0/);
    assert.match(body.session_id, /^[0-9a-f-]{36}$/);
    assert.equal(body.processor, 'face');
    await peer.accept(body.sdp);
    await peer.channelOpen();
    // Another key cannot end it, and is not told it exists.
    const foreign = await server.app.inject({ method: 'DELETE', url: `/skin/webrtc/sessions/${body.session_id}`, headers: { 'api-key': OTHER } });
    assert.equal(foreign.statusCode, 404);
    const del = await server.app.inject({ method: 'DELETE', url: `/skin/webrtc/sessions/${body.session_id}`, headers: { 'api-key': KEY } });
    assert.equal(del.statusCode, 200);
    assert.equal(del.json().end_reason, 'deleted');
    assert.equal(server.sessions.get(body.session_id), undefined);
    // DELETE is idempotent: an ended session answers its owner with the same final counters (not a 404), and is
    // still not found for another key.
    const again = await server.app.inject({ method: 'DELETE', url: `/skin/webrtc/sessions/${body.session_id}`, headers: { 'api-key': KEY } });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), del.json());
    const foreignAgain = await server.app.inject({ method: 'DELETE', url: `/skin/webrtc/sessions/${body.session_id}`, headers: { 'api-key': OTHER } });
    assert.equal(foreignAgain.statusCode, 404);
  });

  /** `sdp` with its first media section repeated (new mids) until it has `n` sections, all in the BUNDLE group. */
  const withSections = (sdp: string, n: number): string => {
    const [head, ...sections] = sdp.trimEnd().split('\r\nm=');
    const extra = Array.from({ length: n - sections.length }, (_, i) => sections[0]!.replace(/a=mid:\S+/, `a=mid:x${i}`));
    const all = [...sections, ...extra];
    const mids = all.map((m) => /a=mid:(\S+)/.exec(m)![1]);
    return `${[head!.replace(/a=group:BUNDLE[^\r\n]*/, `a=group:BUNDLE ${mids.join(' ')}`), ...all].join('\r\nm=')}\r\n`;
  };

  const bad: Array<[string, () => Promise<unknown>, number, string]> = [
    ['invalid JSON', async () => '{"sdp": ', 400, 'invalid_json'],
    ['a JSON array', async () => '[1,2]', 400, 'invalid_body'],
    ['type answer', async () => ({ sdp: await newOffer(), type: 'answer' }), 400, 'not_an_offer'],
    ['SDP that is not SDP', async () => ({ sdp: 'hello', type: 'offer' }), 400, 'invalid_sdp'],
    ['SDP with no media section', async () => ({ sdp: (await newOffer()).split('\r\nm=')[0] + '\r\n', type: 'offer' }), 400, 'invalid_sdp'],
    ['SDP with 5 media sections', async () => ({ sdp: withSections(await newOffer(), 5), type: 'offer' }), 400, 'invalid_sdp'],
    [
      'SDP whose sections are not bundled',
      async () => ({ sdp: (await newOffer()).replace(/a=group:BUNDLE[^\r\n]*\r\n/, ''), type: 'offer' }),
      400,
      'invalid_sdp',
    ],
    ['an unknown processor', async () => ({ sdp: await newOffer(), type: 'offer', processor: 'nope' }), 400, 'unknown_processor'],
    ['bad params', async () => ({ sdp: await newOffer(), type: 'offer', params: { min_score: 7 } }), 400, 'invalid_params'],
    ['unknown params', async () => ({ sdp: await newOffer(), type: 'offer', params: { colour: 'red' } }), 400, 'invalid_params'],
    ['user_id that is not a string', async () => ({ sdp: await newOffer(), type: 'offer', user_id: 5 }), 400, 'invalid_body'],
    ['user_id with a NUL character', async () => ({ sdp: await newOffer(), type: 'offer', user_id: 'a\u0000b' }), 400, 'invalid_body'],
    ['user_id with an unpaired surrogate', async () => ({ sdp: await newOffer(), type: 'offer', user_id: 'a\ud800b' }), 400, 'invalid_body'],
    ['session_id with a NUL character', async () => ({ sdp: await newOffer(), type: 'offer', session_id: '\u0000' }), 400, 'invalid_body'],
  ];
  for (const [name, make, status, code] of bad) {
    test(`${name} → ${status} ${code}`, async () => {
      const r = await post(await make());
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.json().error.code, code);
      assert.equal(typeof r.json().error.message, 'string');
      assert.equal(server.sessions.size, 0);
    });
  }

  test('history lookups with a NUL or an unpaired surrogate → 400, the same on every database', async () => {
    for (const url of [
      '/skin/v1/sessions?user_id=a%00b',
      '/skin/v1/sessions?cursor=%00',
      '/skin/v1/sessions/%00',
      '/skin/v1/sessions/x%00/results',
      '/skin/v1/sessions/x/results?after=%00',
    ]) {
      const r = await server.app.inject({ method: 'GET', url, headers: { 'api-key': KEY } });
      assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
      assert.equal(typeof r.json().error.code, 'string', url);
    }
    // Invalid UTF-8 in a query decodes to U+FFFD (valid text): an empty page, as for any unknown user.
    const r = await server.app.inject({ method: 'GET', url: '/skin/v1/sessions?user_id=%ED%A0%80', headers: { 'api-key': KEY } });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().sessions, []);
  });

  test('a body over 64 KiB → 413', async () => {
    const r = await post({ sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(14_000), type: 'offer' });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().error.code, 'body_too_large');
  });

  test('a body that is not JSON → 415', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/skin/webrtc/offer', headers: { 'api-key': KEY, 'content-type': 'text/plain' }, payload: 'v=0' });
    assert.equal(r.statusCode, 415);
    assert.equal(r.json().error.code, 'unsupported_media_type');
  });

  test('at max sessions the next offer gets 503 with Retry-After, and a slot frees when one ends', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await post({ sdp: await newOffer(), type: 'offer' });
      assert.equal(r.statusCode, 200, r.body);
      ids.push(r.json().session_id);
    }
    const full = await post({ sdp: await newOffer(), type: 'offer' });
    assert.equal(full.statusCode, 503);
    assert.equal(full.json().error.code, 'at_capacity');
    assert.equal(full.headers['retry-after'], '5');
    await server.app.inject({ method: 'DELETE', url: `/skin/webrtc/sessions/${ids[0]}`, headers: { 'api-key': KEY } });
    const ok = await post({ sdp: await newOffer(), type: 'offer' });
    assert.equal(ok.statusCode, 200);
    server.sessions.closeAll('deleted');
  });

  test('CORS preflight allows the api-key header', async () => {
    const r = await server.app.inject({
      method: 'OPTIONS',
      url: '/skin/webrtc/offer',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'api-key,content-type' },
    });
    assert.ok(r.statusCode === 200 || r.statusCode === 204, String(r.statusCode));
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-headers']), /api-key/);
  });

  test('GET {base}/webrtc/ice-servers needs a key; without STUN/TURN configured it lists none', async () => {
    assert.equal((await server.app.inject('/skin/webrtc/ice-servers')).statusCode, 401);
    const r = await server.app.inject({ url: '/skin/webrtc/ice-servers', headers: { 'api-key': KEY } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { iceServers: [] });
  });

  test('unknown routes are JSON 404s', async () => {
    const r = await server.app.inject('/nope');
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error.code, 'not_found');
  });
});
