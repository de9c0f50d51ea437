import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { onClipFace } from '../helpers/clip.js';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';

const KEY = 'frames-key';

describe('frames without a media track, from Chromium: SDK DataChannel transport and the WebSocket bridge', { timeout: 120_000 }, () => {
  let fx: E2eFixture;

  before(async () => {
    fx = await startServerAndBrowser(KEY);
  });
  after(async () => {
    await fx?.close();
  });

  test('demo page with ?transport=datachannel: JPEG frames on the DataChannel, faces boxed, RTT per frame, acks', async () => {
    const page = await fx.browser.context.newPage();
    await page.goto(`${fx.server.url}/?key=${KEY}&autostart=1&transport=datachannel`);
    await page.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 20_000 });
    // Up to 20 s for 30 results (a loaded machine encodes and decodes JPEGs slowly); usually 2-3 s.
    await page.waitForFunction(() => (window as any).sightlineDemo.results.length >= 30, undefined, { timeout: 20_000 }).catch(() => undefined);
    const got = await page.evaluate(() => {
      const d = (window as any).sightlineDemo;
      return { results: d.results, rtts: d.rtts, frames: d.session.frameStats, method: d.session.latencyMethod };
    });
    assert.equal(got.method, 'frame-chunks');
    assert.ok(got.results.length >= 20, `only ${got.results.length} results`);
    const good = got.results.filter((r: any) => r.boxes.length === 1 && onClipFace(r.boxes[0].box, r.width));
    assert.ok(good.length / got.results.length >= 0.9, `${good.length}/${got.results.length} on the face`);
    assert.ok(got.rtts.length >= got.results.length * 0.9, `${got.rtts.length} RTTs`);
    assert.ok(got.frames.processed >= got.results.length - 2 && got.frames.inFlight <= 2, JSON.stringify(got.frames));
    await page.close();
  });

  test('a plain browser WebSocket (hello auth) sends canvas JPEGs over GET /ws and gets face boxes', async () => {
    const page = await fx.browser.context.newPage();
    await page.goto(`${fx.server.url}/?key=${KEY}`);
    const out = await page.evaluate(async (key) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      const v = Object.assign(document.createElement('video'), { muted: true, srcObject: stream });
      await v.play();
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
      const msgs: any[] = [];
      ws.onmessage = (e) => msgs.push(JSON.parse(e.data));
      await new Promise((r) => (ws.onopen = r));
      ws.send(JSON.stringify({ type: 'hello', api_key: key, processor: 'face' }));
      const c = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
      for (let id = 0; id < 10; id++) {
        c.getContext('2d')!.drawImage(v, 0, 0, 640, 480);
        const jpeg = new Uint8Array(await (await new Promise<Blob>((r) => c.toBlob((b) => r(b!), 'image/jpeg', 0.8))).arrayBuffer());
        // One chunk: the 20-byte header, then the whole JPEG (WebSocket messages may be large).
        const msg = new Uint8Array(20 + jpeg.byteLength);
        const dv = new DataView(msg.buffer);
        dv.setUint16(0, 0x534c);
        dv.setUint8(2, 1);
        dv.setUint32(4, id);
        dv.setUint16(8, 0);
        dv.setUint16(10, 1);
        dv.setFloat64(12, Date.now());
        msg.set(jpeg, 20);
        ws.send(msg);
        const t0 = performance.now();
        while (!msgs.some((m) => m.type === 'frame_ack' && m.frame_id === id) && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      }
      ws.close();
      for (const t of stream.getTracks()) t.stop();
      return msgs;
    }, KEY);
    assert.equal(out[0].type, 'ready');
    const results = out.filter((m: any) => m.type === 'result');
    assert.equal(results.length, 10, JSON.stringify(out.filter((m: any) => m.type === 'error')));
    const good = results.filter((r: any) => r.boxes.length === 1 && onClipFace(r.boxes[0].box, r.width));
    assert.ok(good.length >= 9, `${good.length}/10 on the face`);
    await page.close();
  });
});
