import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip } from '../helpers/clip.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'video-key';

interface Grab {
  results: Array<{ boxes: Array<{ box: [number, number, number, number] }> }>;
  local: { mean: number; variance: number };
  remote: { mean: number; variance: number; green: number; width: number };
  diff: number;
}

/** Connects with mode "video", waits, then grabs the local and the returned picture at once. */
async function grab(page: Page, processor: string): Promise<Grab> {
  return page.evaluate(
    async ({ key, processor }) => {
      const s = await (window as any).sightline.connect({
        url: location.origin,
        apiKey: key,
        processor,
        mode: 'video',
        media: { video: { width: 640, height: 480 } },
      });
      const results: any[] = [];
      s.on('result', (e: any) => results.push(e.message));
      const mk = (stream: MediaStream) => {
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        v.srcObject = stream;
        document.body.append(v);
        return v;
      };
      const local = mk(s.stream);
      await new Promise((r) => setTimeout(r, 2500));
      const remote = mk(s.remoteStream);
      await new Promise((r) => setTimeout(r, 2000));
      const last = results.at(-1);
      const box = last?.boxes[0]?.box ?? [240, 120, 160, 160];
      const stats = (v: HTMLVideoElement) => {
        const c = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
        const g = c.getContext('2d')!;
        g.drawImage(v, 0, 0, 640, 480);
        const d = g.getImageData(0, 0, 640, 480).data;
        let sum = 0;
        let green = 0;
        const lum: number[] = [];
        for (let i = 0; i < d.length; i += 4) {
          sum += d[i + 1]!;
          if (d[i + 1]! > 170 && d[i]! < 120 && d[i + 2]! < 150) green++;
        }
        const [bx, by, bw, bh] = box.map((n: number) => Math.round(n));
        for (let y = by + 10; y < by + bh - 10; y++) for (let x = bx + 10; x < bx + bw - 10; x++) lum.push(d[(y * 640 + x) * 4 + 1]!);
        const m = lum.reduce((a, b) => a + b, 0) / Math.max(1, lum.length);
        return {
          mean: sum / (d.length / 4),
          variance: lum.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, lum.length),
          green,
          width: v.videoWidth,
          data: d,
        };
      };
      const a = stats(local);
      const b = stats(remote);
      let diff = 0;
      for (let i = 1; i < a.data.length; i += 4) diff += Math.abs(a.data[i]! - b.data[i]!);
      await s.close();
      return {
        results,
        local: { mean: a.mean, variance: a.variance },
        remote: { mean: b.mean, variance: b.variance, green: b.green, width: b.width },
        diff: diff / (a.data.length / 4),
      };
    },
    { key: KEY, processor },
  );
}

describe('processed video back (mode video): boxes drawn, edges, blur-faces', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  before(async () => {
    server = await startServerProcess([], { SIGHTLINE_API_KEYS: KEY });
    browser = await launchChromium(ensurePanClip());
    page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('face: the returned video has the box drawn in its pixels', async () => {
    const g = await grab(page, 'face');
    assert.equal(g.remote.width, 640);
    assert.ok(g.results.length > 20);
    assert.ok(g.remote.green >= 300, `${g.remote.green} box-green pixels in the returned frame`);
    assert.ok(g.diff < 40, `returned picture is the camera picture (mean |Δ| ${g.diff.toFixed(1)})`);
  });

  test('edges: the returned picture is an edge map, unlike the input', async () => {
    const g = await grab(page, 'edges');
    assert.ok(g.remote.mean < 90, `edge map mean ${g.remote.mean.toFixed(1)} (input ${g.local.mean.toFixed(1)})`);
    assert.ok(g.diff > 40, `differs from the input (mean |Δ| ${g.diff.toFixed(1)})`);
  });

  test('blur-faces: the face region of the returned picture is smooth', async () => {
    const g = await grab(page, 'blur-faces');
    assert.ok(
      g.results.some((r) => r.boxes.length === 1),
      'faces found',
    );
    assert.ok(g.remote.variance < g.local.variance * 0.5, `face variance ${g.remote.variance.toFixed(0)} vs input ${g.local.variance.toFixed(0)}`);
  });

  test('mode video with an offer that cannot receive video is a 400', async () => {
    const sdp =
      'v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11\r\na=sendonly\r\n';
    const r = await fetch(`${server.url}/webrtc/offer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      body: JSON.stringify({ sdp, type: 'offer', mode: 'video' }),
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /sendrecv/);
  });
});
