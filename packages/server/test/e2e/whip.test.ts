import { readSse } from '../helpers/sse.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { onClipFace } from '../helpers/clip.js';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';
import type { ServerProcess } from '../helpers/server-process.js';

const KEY = 'whip-key';
const whipClientSource = readFileSync(createRequire(import.meta.url).resolve('whip-whep/whip.js'), 'utf8');
type Msg = { type: string; boxes?: Array<{ box: [number, number, number, number] }>; width?: number; reason?: string };

const onFace = (m: Msg) => m.boxes?.length === 1 && onClipFace(m.boxes[0]!.box, m.width);

describe('WHIP ingest from a third-party client (whip-whep in Chromium), results over SSE and WebSocket', { timeout: 120_000 }, () => {
  let fx: E2eFixture;
  let server: ServerProcess;
  let browser: E2eFixture['browser'];

  before(async () => {
    fx = await startServerAndBrowser(KEY);
    ({ server, browser } = fx);
  });
  after(async () => {
    await fx?.close();
  });

  test('publish the fake camera by WHIP; results stream as SSE and over a WebSocket; DELETE ends the session and frees it', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/healthz`);
    await page.addScriptTag({ type: 'module', content: `${whipClientSource}\nwindow.WHIPClient = WHIPClient;` });
    await page.waitForFunction(() => 'WHIPClient' in window);
    const location: string = await page.evaluate(async (key) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      const pc = new RTCPeerConnection();
      for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
      const client = new (window as any).WHIPClient();
      (window as any).whip = client;
      await client.publish(pc, `${location.origin}/whip?processor=face`, key);
      return String(client.resourceURL);
    }, KEY);
    const id = location.split('/').pop()!;
    assert.match(location, new RegExp(`/whip/${id}$`));

    // SSE and WebSocket at once, for 3 s.
    const wsMessages: Msg[] = [];
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/sessions/${id}/ws`, { headers: { authorization: `Bearer ${KEY}` } });
    ws.on('message', (d) => wsMessages.push(JSON.parse(String(d)) as Msg));
    const sse = await readSse<Msg>(`${server.url}/sessions/${id}/events`, { headers: { 'api-key': KEY }, timeoutMs: 3000 });
    ws.close();
    const results = sse.filter((e) => e.event === 'result').map((e) => e.data);
    assert.ok(results.length >= 20, `${results.length} results over SSE`);
    const good = results.filter(onFace);
    assert.ok(good.length / results.length >= 0.9, `${good.length}/${results.length} SSE results box the face`);
    const wsResults = wsMessages.filter((m) => m.type === 'result');
    assert.ok(wsResults.length >= 20, `${wsResults.length} results over the WebSocket`);

    // Another key sees nothing; a wrong key is refused.
    assert.equal((await fetch(`${server.url}/sessions/${id}/events`, { headers: { 'api-key': 'nope' } })).status, 403);

    // DELETE (the client's stop) ends the session; SSE readers get `end`.
    const ended = readSse<Msg>(`${server.url}/sessions/${id}/events`, { headers: { 'api-key': KEY }, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await page.evaluate(() => (window as any).whip.stop());
    const tail = await ended;
    // whip-whep closes its connection and sends DELETE together: an engine that sees the DTLS close at once
    // (libdatachannel) ends the session as client_closed before the DELETE lands; libwebrtc only notices the DELETE.
    assert.equal(tail.at(-1)?.event, 'end');
    assert.ok(['deleted', 'client_closed'].includes((tail.at(-1)?.data as { reason: string }).reason), JSON.stringify(tail.at(-1)));
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { sessions: number };
    assert.equal(ready.sessions, 0);
    await page.close();
  });

  test('WHIP errors: no key 401, wrong content type 415, not SDP 400, unknown session 404', async () => {
    const post = (headers: Record<string, string>, body: string) => fetch(`${server.url}/whip`, { method: 'POST', headers, body });
    assert.equal((await post({ 'content-type': 'application/sdp' }, 'v=0')).status, 401);
    assert.equal((await post({ 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, '{}')).status, 415);
    const bad = await post({ 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` }, 'hello');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_sdp');
    const patch = await fetch(`${server.url}/whip/nope`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${KEY}` },
      body: 'a=end-of-candidates',
    });
    assert.equal(patch.status, 404);
    const options = await fetch(`${server.url}/whip`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('accept-post'), 'application/sdp');
  });
});
