import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip } from '../helpers/clip.js';
import { artifactsDir } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'demo-key';
const OVERLAY = [0x22, 0xe0, 0x7a];
type Result = { frame_id: number; boxes: Array<{ box: [number, number, number, number] }>; width: number; height: number; data?: { mean_luma: number } };

const isOverlay = (png: PNG, x: number, y: number): boolean => {
  const i = (png.width * Math.round(y) + Math.round(x)) * 4;
  return OVERLAY.every((c, k) => Math.abs(png.data[i + k]! - c) <= 40);
};

async function openDemo(page: Page, url: string, query = ''): Promise<void> {
  await page.goto(`${url}/?key=${KEY}&autostart=1${query}`);
  await page.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 20_000 });
}

describe('the demo app and browser SDK (Debian Chromium, fake camera)', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let port: number;
  const shots = artifactsDir('screenshots');

  before(async () => {
    port = await freePort();
    server = await startServerProcess(['--port', String(port)], { SIGHTLINE_API_KEYS: KEY });
    browser = await launchChromium(ensurePanClip());
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('draws the box over the face: overlay-coloured pixels on the face, none far from it', async () => {
    const page = await browser.context.newPage();
    await openDemo(page, server.url);
    await page.waitForFunction(() => (window as any).sightlineDemo.results.length >= 15);
    // The latest result's box; the face pans slowly (under 1 px a frame), so the overlay in the screenshot taken
    // right after is within a few pixels of it.
    const last: Result = await page.evaluate(() => (window as any).sightlineDemo.results.at(-1));
    assert.equal(last.boxes.length, 1);
    const rect = await page.evaluate((r) => {
      const v = document.getElementById('video') as HTMLVideoElement;
      const b = v.getBoundingClientRect();
      const s = Math.min(b.width / r.width, b.height / r.height);
      return { x: b.x + (b.width - r.width * s) / 2, y: b.y + (b.height - r.height * s) / 2, s, w: b.width, h: b.height, bx: b.x, by: b.y };
    }, last);
    const png = PNG.sync.read(await page.screenshot({ path: `${shots}overlay-face.png` }));
    const [x, y, w, h] = last.boxes[0]!.box;
    const X = rect.x + x * rect.s;
    const Y = rect.y + y * rect.s;
    const W = w * rect.s;
    const H = h * rect.s;
    // Along the left and right edges of the face box (the box moves with the pan: allow 12 px).
    let onFace = 0;
    for (let yy = Y + 10; yy < Y + H - 10; yy += 2) {
      for (let dx = -12; dx <= 12; dx++) {
        if (isOverlay(png, X + dx, yy) || isOverlay(png, X + W + dx, yy)) {
          onFace++;
          break;
        }
      }
    }
    assert.ok(onFace >= ((H - 20) / 2) * 0.8, `overlay along the face box edges on ${onFace} of ${Math.round((H - 20) / 2)} rows`);
    // Far from the face (bottom-left quarter of the picture): no overlay colour.
    let far = 0;
    for (let yy = rect.by + rect.h * 0.75; yy < rect.by + rect.h - 2; yy += 3)
      for (let xx = rect.bx + 2; xx < rect.bx + rect.w * 0.25; xx += 3) if (isOverlay(png, xx, yy)) far++;
    assert.equal(far, 0, 'no overlay colour far from the face');
    await page.close();
  });

  test('min_score slider to its maximum: boxes disappear within 1 s; back down, they return', async () => {
    const page = await browser.context.newPage();
    await openDemo(page, server.url);
    await page.waitForFunction(() => (window as any).sightlineDemo.results.some((r: Result) => r.boxes.length === 1));
    const setSlider = (v: string) =>
      page.evaluate((value) => {
        const range = document.querySelector('#params input[name=min_score]') as HTMLInputElement;
        range.value = value;
        range.dispatchEvent(new Event('input'));
        range.dispatchEvent(new Event('change'));
        (window as any).sightlineDemo.results.length = 0;
        return performance.now();
      }, v);
    const t0 = await setSlider('1');
    const gone = await page.waitForFunction(
      () => {
        const rs = (window as any).sightlineDemo.results as Result[];
        return rs.length >= 3 && rs.slice(-3).every((r) => r.boxes.length === 0) ? performance.now() : false;
      },
      undefined,
      { timeout: 3000, polling: 20 },
    );
    const ms = ((await gone.jsonValue()) as number) - t0;
    assert.ok(ms < 1000, `boxes gone after ${ms.toFixed(0)} ms`);
    await setSlider('0.5');
    await page.waitForFunction(() => ((window as any).sightlineDemo.results as Result[]).some((r) => r.boxes.length === 1), undefined, { timeout: 3000 });
    await page.close();
  });

  test("the SDK's latency agrees with the server's own timestamps within one frame interval", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    // A canvas camera whose brightness changes at every draw (8 levels, one frame per draw). The server's mean luma
    // of frame k says which draw it was. The send time the SDK matched to frame k must come after that draw and before
    // the server received the frame: a match off by one frame either way breaks one of the two bounds. So the frame
    // matching behind the latency figure is checked, not assumed.
    const out = await page.evaluate(async (key) => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
      const g = canvas.getContext('2d')!;
      const stream = canvas.captureStream(0);
      const track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
      let n = 0;
      const draws: Array<{ t: number; v: number }> = [];
      const timer = setInterval(() => {
        const v = 40 + 25 * (n++ % 8);
        draws.push({ t: performance.timeOrigin + performance.now(), v });
        g.fillStyle = `rgb(${v},${v},${v})`;
        g.fillRect(0, 0, 320, 240);
        track.requestFrame();
      }, 33);
      const events: Array<{ frame: number; luma: number; sentAt?: number; rtp?: number; rtt?: number; arrived: number; received: number; total: number }> = [];
      const s = await (window as any).sightline.connect({ url: location.origin, apiKey: key, processor: 'stats', params: { step: 4 }, media: stream });
      s.on('result', (e: any) =>
        events.push({
          frame: e.message.frame_id,
          luma: e.message.data.mean_luma,
          sentAt: e.sentAt,
          rtp: e.rtpTimestamp,
          rtt: e.rttMs,
          arrived: e.receivedAt,
          received: e.message.timing.received_ms,
          total: e.message.timing.total_ms,
        }),
      );
      await new Promise((r) => setTimeout(r, 4000));
      clearInterval(timer);
      const method = s.latencyMethod;
      await s.close();
      return { events, method, draws };
    }, KEY);
    const { events, draws } = out;
    assert.notEqual(out.method, 'none');
    assert.ok(events.length >= 60, `${events.length} results`);
    const frameMs = 1000 / 30;
    const timed = events.filter((e) => e.sentAt !== undefined);
    // The draw the server saw: the latest draw of that level before the server received the frame (levels repeat
    // every 8 draws, 266 ms, longer than any latency here).
    const drawOf = (e: (typeof events)[number]) => [...draws].reverse().find((d) => d.t <= e.received + 2 && Math.abs(d.v - e.luma) <= 6);
    const matched = timed.filter((e) => {
      const d = drawOf(e);
      return d !== undefined && d.t <= e.sentAt! && e.sentAt! <= e.received + 2;
    });
    assert.ok(matched.length / timed.length >= 0.9, `${matched.length}/${timed.length} results: drawn ≤ sent ≤ received by the server`);
    assert.ok(
      timed.every((e) => e.rtp === undefined || Number.isInteger(e.rtp)),
      'RTP timestamps are integers',
    );
    const agree = timed.filter((e) => {
      const serverDone = e.received + e.total;
      // Sent before the server got it; the result reached the browser within one frame interval of the server finishing.
      return e.arrived - serverDone >= -2 && e.arrived - serverDone <= frameMs && Math.abs(e.rtt! - (e.arrived - e.sentAt!)) < 0.01;
    });
    assert.ok(agree.length / timed.length >= 0.9, `${agree.length}/${timed.length} results agree with the server's timestamps`);
    await page.close();
  });

  test('GET /docs: Swagger UI renders every operation of /openapi.json, and the page requests nothing but this server', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const page = await browser.context.newPage();
    const elsewhere: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    await page.goto(`${server.url}/docs`);
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, operations, { timeout: 20_000 });
    const shown = await page.evaluate(() => [...document.querySelectorAll('.opblock-summary-path')].map((e) => e.textContent?.replace(/\u200b/g, '')));
    assert.ok(shown.includes('/webrtc/offer') && shown.includes('/whip'), shown.join(' '));
    assert.equal(shown.length, operations);
    assert.deepEqual(elsewhere, []);
    await page.close();
  });

  test('kill -9 the server and restart it: the page reconnects by itself and results resume', async (t) => {
    const step = (what: string) => {
      t.diagnostic(what);
      if (process.env.DEBUG_STEPS) process.stderr.write(`STEP ${new Date().toISOString()} ${what}\n`);
    };
    const page = await browser.context.newPage();
    await openDemo(page, server.url);
    await page.waitForFunction(() => (window as any).sightlineDemo.results.length >= 5);
    const firstSession = await page.evaluate(() => (window as any).sightlineDemo.session.sessionId);
    server.proc.kill('SIGKILL');
    await server.stop();
    step('killed');
    await page.waitForFunction(() => document.body.dataset.state === 'reconnecting', undefined, { timeout: 15_000 });
    step('reconnecting');
    await page.screenshot({ path: `${shots}demo-reconnecting.png` });
    server = await startServerProcess(['--port', String(port)], { SIGHTLINE_API_KEYS: KEY });
    step('restarted');
    await page.evaluate(() => ((window as any).sightlineDemo.results.length = 0));
    await page.waitForFunction(() => document.body.dataset.state === 'connected' && (window as any).sightlineDemo.results.length >= 10, undefined, {
      timeout: 30_000,
    });
    step('resumed');
    const secondSession = await page.evaluate(() => (window as any).sightlineDemo.session.sessionId);
    assert.notEqual(secondSession, firstSession, 'a fresh session on the restarted server');
    // The SDK counts the reconnect in its next stats event (every second).
    await page.waitForFunction(() => (window as any).sightlineDemo.stats?.reconnects >= 1, undefined, { timeout: 5000 });
    await page.screenshot({ path: `${shots}demo-desktop.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${shots}demo-phone-full.png`, fullPage: true });
    await page.close();
  });
});
