import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser, type E2eFixture } from '../helpers/e2e-fixture.js';
import type { ServerProcess } from '../helpers/server-process.js';

const KEY = 'trickle-key';

describe('trickle and non-trickle ICE from Chromium (connect time: connect() → first result)', { timeout: 120_000 }, () => {
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

  test('both connect and get results; the note reports both connect times', async (t) => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    const times: Record<string, number[]> = { trickle: [], 'non-trickle': [] };
    for (let round = 0; round < 3; round++) {
      for (const trickle of [false, true]) {
        const ms: number = await page.evaluate(
          async ({ key, trickle }) => {
            const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
            const t0 = performance.now();
            const s = await (window as any).sightline.connect({ url: location.origin, apiKey: key, processor: 'null', media: stream, trickle });
            await new Promise<void>((resolve) => s.on('result', () => resolve()));
            const elapsed = performance.now() - t0;
            await s.close();
            for (const tr of stream.getTracks()) tr.stop();
            return elapsed;
          },
          { key: KEY, trickle },
        );
        times[trickle ? 'trickle' : 'non-trickle']!.push(ms);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    t.diagnostic(
      `connect → first result, median of 3: non-trickle ${median(times['non-trickle']!).toFixed(0)} ms, trickle ${median(times.trickle!).toFixed(0)} ms`,
    );
    console.log(
      `connect → first result (median of 3): non-trickle ${median(times['non-trickle']!).toFixed(0)} ms, trickle ${median(times.trickle!).toFixed(0)} ms`,
    );
    for (const xs of Object.values(times)) assert.equal(xs.length, 3);
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { sessions: number };
    assert.equal(ready.sessions, 0, 'every session ended by close()');
    await page.close();
  });

  test('PATCH needs the trickle fragment type and the session of the same key', async () => {
    const patch = (id: string, type: string, key = KEY) =>
      fetch(`${server.url}/webrtc/sessions/${id}`, { method: 'PATCH', headers: { 'content-type': type, 'api-key': key }, body: 'a=end-of-candidates\r\n' });
    assert.equal((await patch('nope', 'application/trickle-ice-sdpfrag')).status, 404);
    assert.equal((await patch('nope', 'text/html')).status, 415);
    assert.equal((await patch('nope', 'application/trickle-ice-sdpfrag', 'wrong')).status, 403);
  });
});
