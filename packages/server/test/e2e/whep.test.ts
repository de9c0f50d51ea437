import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';
import type { ServerProcess } from '../helpers/server-process.js';

const KEY = 'whep-key';
const whepClientSource = readFileSync(createRequire(import.meta.url).resolve('whip-whep/whep.js'), 'utf8');

describe('WHEP: a second screen plays the annotated stream of a session', { timeout: 120_000 }, () => {
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

  test('frames arrive at the viewer with the face box drawn in the pixels; DELETE stops the viewer', async () => {
    const publisher = await browser.context.newPage();
    await publisher.goto(`${server.url}/?key=${KEY}&autostart=1`);
    await publisher.waitForFunction(() => (window as any).sightlineDemo.results.some((r: any) => r.boxes.length === 1), undefined, { timeout: 20_000 });
    const sessionId: string = await publisher.evaluate(() => (window as any).sightlineDemo.session.sessionId);

    const viewer = await browser.context.newPage();
    await viewer.goto(`${server.url}/healthz`);
    await viewer.addScriptTag({ type: 'module', content: `${whepClientSource}\nwindow.WHEPClient = WHEPClient;` });
    await viewer.waitForFunction(() => 'WHEPClient' in window);
    const out = await viewer.evaluate(
      async ({ key, id }) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        const video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        document.body.append(video);
        pc.ontrack = (e) => (video.srcObject = e.streams[0] ?? new MediaStream([e.track]));
        const client = new (window as any).WHEPClient();
        (window as any).whep = client;
        await client.view(pc, `${location.origin}/sessions/${id}/whep`, key);
        // Count decoded frames for 3 s, then look at one.
        let frames = 0;
        const count = () => {
          frames++;
          (video as any).requestVideoFrameCallback(count);
        };
        (video as any).requestVideoFrameCallback(count);
        await new Promise((r) => setTimeout(r, 3000));
        const c = Object.assign(document.createElement('canvas'), { width: video.videoWidth, height: video.videoHeight });
        const g = c.getContext('2d')!;
        g.drawImage(video, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let green = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 1]! > 170 && d[i]! < 120 && d[i + 2]! < 150) green++;
        return { frames, width: video.videoWidth, height: video.videoHeight, green, resource: String(client.resourceURL) };
      },
      { key: KEY, id: sessionId },
    );
    assert.ok(out.frames >= 20, `${out.frames} frames in 3 s at the viewer`);
    // The publisher follows capture hints (face: 256x192) until a viewer attaches; a viewer lifts the size limit, so
    // within its first 3 s it sees the full picture.
    assert.equal(out.width, 640);
    assert.equal(out.height, 480);
    assert.ok(out.green >= 300, `${out.green} box-green pixels in the annotated frame`);
    const del = await fetch(out.resource, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { session_id: sessionId, viewers: 0 });
    // The publisher's session is untouched.
    const n = await publisher.evaluate(() => (window as any).sightlineDemo.results.length);
    await publisher.waitForTimeout(500);
    assert.ok((await publisher.evaluate(() => (window as any).sightlineDemo.results.length)) > n);
    await viewer.close();
    await publisher.close();
  });
});
