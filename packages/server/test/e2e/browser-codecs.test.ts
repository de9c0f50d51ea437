import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';
import { onFaceCount, PAN_TOLERANCE_PX, panFit, type Result } from '../helpers/pan-fit.js';
import type { ServerProcess } from '../helpers/server-process.js';

const KEY = 'codecs-key';
/** Results are collected for this long once the first one came (a little over one 6 s pan of the clip). */
const WINDOW_MS = 7000;

/**
 * Chromium forced to each video codec the server decodes (the SDK's `videoCodecs`: setCodecPreferences, only that
 * codec offered), streaming the fake camera's pan clip to the `face` processor. Each codec must get ≥ 90 % of the
 * frames Chromium sent answered with a box on the face, and the box of the result for frame k must be where the pan
 * puts the face in frame k.
 */
describe('Chromium forced to H.264, VP8, VP9 and AV1: every frame answered, each result about its own frame', { timeout: 240_000 }, () => {
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

  test('an SDK asked for a codec the browser lacks fails at once with unsupported_codec', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    const err = await page.evaluate(async (key) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      try {
        await (window as any).sightline.connect({ url: location.origin, apiKey: key, media: stream, videoCodecs: ['MJPEG'], reconnect: false });
        return 'connected';
      } catch (e: any) {
        return `${e.code}: ${e.message}`;
      } finally {
        for (const t of stream.getTracks()) t.stop();
      }
    }, KEY);
    assert.match(err, /^unsupported_codec: this browser sends none of MJPEG/);
    await page.close();
  });

  for (const codec of ['H264', 'VP8', 'VP9', 'AV1']) {
    test(`${codec}: ≥ 90 % of frames answered with a face box, each on the pan position of its frame_id`, async (t) => {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/?key=${KEY}`);
      const got = await page.evaluate(
        async ({ key, codec, windowMs }) => {
          const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
          const s = await (window as any).sightline.connect({ url: location.origin, apiKey: key, processor: 'face', media: stream, videoCodecs: [codec] });
          const results: any[] = [];
          await new Promise<void>((resolve) => s.on('result', () => resolve()));
          const sent = async () => {
            let frames = 0;
            let mime = '';
            const stats = await s.pc.getStats();
            stats.forEach((r: any) => {
              if (r.type === 'outbound-rtp' && r.kind === 'video') {
                frames = r.framesSent;
                mime = stats.get(r.codecId)?.mimeType ?? '';
              }
            });
            return { frames, mime };
          };
          const before = await sent();
          s.on('result', (e: any) => results.push(e.message));
          await new Promise((r) => setTimeout(r, windowMs));
          const afterSent = await sent();
          // Results of the last frames sent are on their way.
          await new Promise((r) => setTimeout(r, 300));
          await s.close();
          for (const tr of stream.getTracks()) tr.stop();
          return { results, framesSent: afterSent.frames - before.frames, mime: afterSent.mime };
        },
        { key: KEY, codec, windowMs: WINDOW_MS },
      );
      await page.close();
      const results = got.results as Result[];
      assert.equal(got.mime.toLowerCase(), `video/${codec.toLowerCase()}`, 'Chromium sent the codec asked for');
      const onFace = onFaceCount(results);
      const fit = panFit(results);
      t.diagnostic(
        `${codec}: ${got.framesSent} frames sent in ${WINDOW_MS / 1000} s, ${results.length} results, ${onFace} with a box on the face; ` +
          `${fit.onPan} within ${PAN_TOLERANCE_PX} px of their frame_id's pan position (clip slipped ${fit.slip} frames)`,
      );
      assert.ok(got.framesSent >= WINDOW_MS / 100, `only ${got.framesSent} frames sent`);
      assert.ok(onFace >= got.framesSent * 0.9, `${onFace} results with a face box for ${got.framesSent} frames sent`);
      const ids = results.map((r) => r.frame_id);
      assert.equal(new Set(ids).size, ids.length, 'a frame_id answered twice');
      assert.ok(fit.onPan >= results.length * 0.95, `${fit.onPan}/${results.length} boxes on the pan position of their frame_id`);
    });
  }
});
