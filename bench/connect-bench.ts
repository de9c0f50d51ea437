/**
 * Connect bench: time from the SDK's connect() (offer created) to the first result, in Chromium, with trickle ICE and
 * without (the offer waits for gathering). Each round is a fresh session on the same page.
 */
import { percentile } from '@sightline/protocol';
import { launchChromium } from '../packages/server/test/helpers/chromium.js';
import { ensurePanClip } from '../packages/server/test/helpers/clip.js';
import { startServerProcess } from '../packages/server/test/helpers/server-process.js';

const KEY = 'bench-key';
const ROUNDS = Number(process.env.BENCH_CONNECT_ROUNDS ?? 10);

interface Row {
  trickle: boolean;
  /** connect() → first result. */
  firstResult: number[];
  /** connect() → connect() resolved (answer applied, DataChannel open). */
  connected: number[];
}

async function measure(): Promise<Row[]> {
  const server = await startServerProcess(['--processor', 'null'], { SIGHTLINE_API_KEYS: KEY, SIGHTLINE_LOG_LEVEL: 'warn' });
  const browser = await launchChromium(ensurePanClip());
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    const rows: Row[] = [false, true].map((trickle) => ({ trickle, firstResult: [], connected: [] }));
    // One session first, not counted: the page, the model and the server's first-use paths warm up.
    for (let round = -1; round < ROUNDS; round++) {
      for (const row of rows) {
        const t = await page.evaluate(
          async ({ key, trickle }) => {
            const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
            const t0 = performance.now();
            const s = await (window as any).sightline.connect({ url: location.origin, apiKey: key, processor: 'null', media: stream, trickle });
            const connected = performance.now() - t0;
            await new Promise<void>((resolve) => s.on('result', () => resolve()));
            const first = performance.now() - t0;
            await s.close();
            for (const tr of stream.getTracks()) tr.stop();
            return { connected, first };
          },
          { key: KEY, trickle: row.trickle },
        );
        if (round < 0) continue;
        row.firstResult.push(t.first);
        row.connected.push(t.connected);
      }
    }
    return rows;
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Runs the connect bench and prints its table. */
export async function runConnectBench(): Promise<void> {
  process.stdout.write('measuring connect time…\n');
  const rows = await measure();
  const f = (xs: number[], p: number) => (percentile(xs, p) ?? NaN).toFixed(0);
  console.log(`\nOffer → first result (Chromium, null processor, ${ROUNDS} sessions each, loopback)\n`);
  console.log('| ICE | connect() resolved p50 ms | first result p50 ms | first result p95 ms |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.trickle ? 'trickle' : 'gathered first'} | ${f(r.connected, 50)} | ${f(r.firstResult, 50)} | ${f(r.firstResult, 95)} |`);
  }
}
