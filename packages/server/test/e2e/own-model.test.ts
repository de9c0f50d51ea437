import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { artifactsDir } from '../helpers/paths.js';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { EXPECTED, writeTestModels } from '../helpers/test-models.js';

const KEY = 'own-model-key';
type Result = { boxes: Array<{ class: string; score: number; box: number[] }>; processor: string; width: number };

/** EXPECTED boxes are in pixels of the 640-wide camera frame; a result's boxes are in its own frame's pixels. */
const scaled = (box: readonly number[], width: number): number[] => box.map((v) => Math.round(((v * width) / 640) * 100) / 100);
const rounded = (box: number[]): number[] => box.map((v) => Math.round(v * 100) / 100);

describe('your own ONNX model end to end from a browser session (sightline serve --model)', { timeout: 120_000 }, () => {
  let fx: E2eFixture;
  let server: ServerProcess;
  let browser: E2eFixture['browser'];

  before(async () => {
    fx = await startServerAndBrowser(KEY, ['--model', writeTestModels().yolov8]);
    ({ server, browser } = fx);
  });
  after(async () => {
    await fx?.close();
  });

  test('the demo picks the detect processor, shows its controls, and gets the model boxes in frame pixels; the slider changes params live', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}&autostart=1`);
    await page.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 20_000 });
    assert.equal(await page.locator('#processor').inputValue(), 'detect');
    // Controls generated from the processor's JSON Schema.
    assert.equal(await page.locator('#params input[name=min_score][type=range]').count(), 1);
    assert.equal(await page.locator('#params select[name=model]').inputValue(), 'yolov8-test');
    await page.waitForFunction(() => (window as any).sightlineDemo.results.length >= 10, undefined, { timeout: 10_000 });
    const results: Result[] = await page.evaluate(() => (window as any).sightlineDemo.results);
    for (const r of results) {
      assert.equal(r.processor, 'detect');
      // The SDK follows the capture hint (the model's 64x64 input): frames may arrive as small as 64x48.
      assert.deepEqual(
        r.boxes.map((b) => ({ ...b, box: rounded(b.box) })),
        [
          { class: 'cat', score: 0.9, box: scaled(EXPECTED.cat.box, r.width) },
          { class: 'dog', score: 0.7, box: scaled(EXPECTED.dog.box, r.width) },
        ],
      );
    }
    await page.screenshot({ path: `${artifactsDir('screenshots')}own-model.png` });

    // Slider to 0.8: the session switches without reconnecting; only the cat (0.9) stays.
    const sessionId = await page.evaluate(() => (window as any).sightlineDemo.session.sessionId);
    await page.evaluate(() => {
      const range = document.querySelector('#params input[name=min_score]') as HTMLInputElement;
      range.value = '0.8';
      range.dispatchEvent(new Event('change'));
      (window as any).sightlineDemo.results.length = 0;
    });
    await page.waitForFunction(
      () => {
        const rs = (window as any).sightlineDemo.results as Result[];
        return rs.length >= 5 && rs.slice(-5).every((r) => r.boxes.length === 1);
      },
      undefined,
      { timeout: 5_000 },
    );
    const last: Result = await page.evaluate(() => (window as any).sightlineDemo.results.at(-1));
    assert.deepEqual(
      last.boxes.map((b) => b.class),
      ['cat'],
    );
    assert.equal(await page.evaluate(() => (window as any).sightlineDemo.session.sessionId), sessionId);
    assert.deepEqual(await page.evaluate(() => (window as any).sightlineDemo.errors), []);
    await page.close();
  });
});
