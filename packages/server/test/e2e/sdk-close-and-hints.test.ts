import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CLIP } from '../helpers/clip.js';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';

const KEY = 'sdk-key';
type Seen = { width: number; height: number; at: number };
type Hint = { max_width: number | null; max_height: number | null; max_fps: number | null; at: number };

/** A page on the server's origin whose 404 responses and console errors are recorded. */
async function openPage(fx: E2eFixture): Promise<{ page: Page; notFound: string[]; consoleErrors: string[] }> {
  const page = await fx.browser.context.newPage();
  const notFound: string[] = [];
  const consoleErrors: string[] = [];
  page.on('response', (r) => r.status() === 404 && notFound.push(`${r.request().method()} ${r.url()}`));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(`${fx.server.url}/?key=${KEY}`);
  return { page, notFound, consoleErrors };
}

describe('the browser SDK: close() and capture hints (Debian Chromium, fake camera 640x480)', { timeout: 120_000 }, () => {
  let fx: E2eFixture;

  before(async () => {
    fx = await startServerAndBrowser(KEY);
  });
  after(async () => {
    await fx?.close();
  });

  test('close() sends DELETE before closing the connection: no 404, and the final counters as session.summary', async () => {
    const { page, notFound, consoleErrors } = await openPage(fx);
    const out = await page.evaluate(async (key) => {
      const s = await (window as any).sightline.connect({
        url: location.origin,
        apiKey: key,
        processor: 'face',
        media: { video: { width: 640, height: 480 } },
      });
      let results = 0;
      s.on('result', () => results++);
      await new Promise((r) => setTimeout(r, 2000));
      const returned = await s.close();
      // The server ended this one first (another tab, an admin, a timeout): close() still gets the counters. (No
      // reconnect: it would try to resume the ended session first, and that offer rightly gets a 404.)
      const t = await (window as any).sightline.connect({ url: location.origin, apiKey: key, processor: 'null', reconnect: false, media: { video: true } });
      await new Promise((r) => setTimeout(r, 1000));
      await fetch(`/webrtc/sessions/${t.sessionId}`, { method: 'DELETE', headers: { 'api-key': key } });
      const late = await t.close();
      return { results, returned, summary: s.summary, late, state: s.state };
    }, KEY);
    assert.deepEqual(notFound, [], 'no request answered 404');
    assert.deepEqual(consoleErrors, [], 'no console errors');
    assert.equal(out.state, 'closed');
    assert.deepEqual(out.returned, out.summary);
    assert.equal(out.summary.end_reason, 'deleted', 'the server ended it on DELETE, not on a closed connection');
    assert.ok(out.summary.frames_processed > 0 && out.summary.results_sent >= out.results, JSON.stringify(out.summary));
    assert.equal(out.late.end_reason, 'deleted');
    assert.ok(out.late.frames_received > 0);
    await page.close();
  });

  test('face: the server hints 256x192 and 30 fps; decoded frames drop to it within 2 s; stats lifts it again', async () => {
    const { page } = await openPage(fx);
    const out = await page.evaluate(async (key) => {
      const seen: Seen[] = [];
      const hints: Hint[] = [];
      const s = await (window as any).sightline.connect({
        url: location.origin,
        apiKey: key,
        processor: 'face',
        media: { video: { width: 640, height: 480 } },
      });
      s.on('result', (e: any) => seen.push({ width: e.message.width, height: e.message.height, at: performance.now() }));
      s.on('capture_hint', (h: any) => hints.push({ ...h, at: performance.now() }));
      const until = async (pred: () => boolean, ms: number) => {
        const t0 = performance.now();
        while (!pred() && performance.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
      };
      await until(() => s.captureHint !== undefined, 5000);
      // The first hint may have come before our listener: take it from the session.
      if (hints.length === 0 && s.captureHint) hints.push({ ...s.captureHint, at: performance.now() });
      await new Promise((r) => setTimeout(r, 3000));
      const switchedAt = performance.now();
      await s.setParams({}, 'stats');
      await new Promise((r) => setTimeout(r, 3000));
      const encoding = s.pc
        .getSenders()
        .find((x: RTCRtpSender) => x.track?.kind === 'video')
        .getParameters().encodings[0];
      await s.close();
      return { seen, hints, switchedAt, scale: encoding.scaleResolutionDownBy, maxFramerate: encoding.maxFramerate ?? null };
    }, KEY);
    const [first, lifted] = out.hints;
    assert.ok(first, 'a capture hint arrived');
    assert.deepEqual({ w: first.max_width, h: first.max_height, fps: first.max_fps }, { w: 256, h: 192, fps: 30 });
    const settled = out.seen.filter((r) => r.at > first.at + 2000 && r.at < out.switchedAt);
    assert.ok(settled.length >= 20, `${settled.length} results between 2 s after the hint and the switch`);
    const over = settled.filter((r) => r.width > 256 || r.height > 192);
    assert.deepEqual(over, [], 'every frame decoded from 2 s after the hint fits in 256x192');
    // stats needs the whole picture: the hint lifts the size limit, and the frames come back to full size.
    assert.ok(lifted, `a second hint after the switch: ${JSON.stringify(out.hints)}`);
    assert.deepEqual({ w: lifted.max_width, h: lifted.max_height, fps: lifted.max_fps }, { w: null, h: null, fps: null });
    const back = out.seen.filter((r) => r.at > lifted.at + 2000);
    assert.ok(
      back.length >= 10 && back.every((r) => r.width === CLIP.width && r.height === CLIP.height),
      `after the switch: ${JSON.stringify(back.slice(-3))}`,
    );
    assert.equal(out.scale, 1);
    assert.equal(out.maxFramerate, null);
    await page.close();
  });

  test('ignoreCaptureHints keeps the full size (the hint still arrives as an event)', async () => {
    const { page } = await openPage(fx);
    const out = await page.evaluate(async (key) => {
      const seen: Seen[] = [];
      const s = await (window as any).sightline.connect({
        url: location.origin,
        apiKey: key,
        processor: 'face',
        ignoreCaptureHints: true,
        media: { video: { width: 640, height: 480 } },
      });
      s.on('result', (e: any) => seen.push({ width: e.message.width, height: e.message.height, at: performance.now() }));
      await new Promise((r) => setTimeout(r, 4000));
      const hint = s.captureHint;
      await s.close();
      return { seen, hint };
    }, KEY);
    assert.equal(out.hint?.max_width, 256);
    assert.ok(out.seen.length >= 30, `${out.seen.length} results`);
    assert.ok(
      out.seen.every((r) => r.width === CLIP.width && r.height === CLIP.height),
      JSON.stringify(out.seen.find((r) => r.width !== CLIP.width)),
    );
    await page.close();
  });
});
