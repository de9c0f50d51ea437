/**
 * WebRTC bench: result RTT (frame sent → result received, measured in the browser per frame) and server CPU per
 * stream, for 1 and 4 Chromium sessions with the `null` and `face` processors; then `face` with and without capture
 * hints (server CPU, and Chromium's CPU: capture + encode + page). Prints two tables.
 * Everything runs on this machine: the server, Chromium (which also encodes every stream) and the fake cameras.
 */
import { percentile } from '@sightline/protocol';
import type { Page } from 'playwright-core';
import { launchChromium } from '../packages/server/test/helpers/chromium.js';
import { ensurePanClip } from '../packages/server/test/helpers/clip.js';
import { startServerProcess } from '../packages/server/test/helpers/server-process.js';
import { cpuOf, cpuSeconds, pidsMatching } from './proc-cpu.js';

const KEY = 'bench-key';
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 3000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const pct = (xs: number[], p: number): number => percentile(xs, p) ?? NaN;

export interface Row {
  processor: string;
  sessions: number;
  resultsPerSec: number;
  p50: number;
  p95: number;
  cpuPerStream: number;
  /** Chromium (capture, encoding, the page), all its processes. */
  browserCpuPerStream: number;
  hints: boolean;
  codec: string;
  /** The frame size the server decoded, most common in the window. */
  frameSize: string;
  dropped: number;
  inferenceP50: number;
  serverP50: number;
  /** CPU of the processes in `MeasureOptions.alsoCpuOf` (an infer-server…), % per stream. */
  otherCpuPerStream: number;
}

/** What the remote bench adds to a measurement. */
export interface MeasureOptions {
  /** More `sightline serve` flags (`--model NAME=kserve+http://…`). */
  serverArgs?: string[];
  /** Other processes whose CPU counts for these sessions (an infer-server), measured over the same window. */
  alsoCpuOf?: number[];
}

/** Server flags per codec row: H.264 is first in the server's preference (Chromium sends it); VP8 is offered alone. */
const CODEC_ARGS: Record<string, string[]> = {
  H264: [],
  VP8: ['--video-codecs', 'VP8'],
};

/** `sessions` Chromium sessions of `processor` on a fresh server process: RTT, results, CPU over WINDOW_MS. */
export async function measure(processor: string, sessions: number, clip: string, hints = true, codec = 'H264', more: MeasureOptions = {}): Promise<Row> {
  const server = await startServerProcess(['--processor', processor, '--max-sessions', '8', ...CODEC_ARGS[codec]!, ...(more.serverArgs ?? [])], {
    SIGHTLINE_API_KEYS: KEY,
    SIGHTLINE_LOG_LEVEL: 'warn',
  });
  const browser = await launchChromium(clip);
  try {
    const pages: Page[] = [];
    for (let i = 0; i < sessions; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/?key=${KEY}&autostart=1&processor=${processor}${hints ? '' : '&hints=0'}`);
      await page.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 30_000 });
      pages.push(page);
    }
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const reset = () =>
      Promise.all(
        pages.map((p) =>
          p.evaluate(() => {
            const d = (window as any).sightlineDemo;
            d.results.length = 0;
            d.rtts.length = 0;
          }),
        ),
      );
    await reset();
    const pids = pidsMatching(browser.userDataDir);
    const cpu0 = cpuSeconds(server.proc.pid!);
    const b0 = cpuOf(pids);
    const o0 = cpuOf(more.alsoCpuOf ?? []);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const cpu1 = cpuSeconds(server.proc.pid!);
    const b1 = cpuOf(pids);
    const o1 = cpuOf(more.alsoCpuOf ?? []);
    const wall = (performance.now() - t0) / 1000;
    const data = await Promise.all(
      pages.map((p) =>
        p.evaluate(() => {
          const d = (window as any).sightlineDemo;
          return {
            rtts: [...d.rtts] as number[],
            results: d.results.map((r: any) => ({
              inf: r.timing.inference_ms,
              total: r.timing.total_ms,
              dropped: r.dropped,
              size: `${r.width}x${r.height}`,
            })) as Array<{ inf: number; total: number; dropped: number; size: string }>,
          };
        }),
      ),
    );
    const rtts = data.flatMap((d) => d.rtts);
    const results = data.flatMap((d) => d.results);
    const firstDropped = data.map((d) => d.results[0]?.dropped ?? 0);
    const lastDropped = data.map((d) => d.results.at(-1)?.dropped ?? 0);
    const sizes = new Map<string, number>();
    for (const r of results) sizes.set(r.size, (sizes.get(r.size) ?? 0) + 1);
    return {
      codec,
      processor,
      sessions,
      hints,
      frameSize: [...sizes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '–',
      browserCpuPerStream: ((b1 - b0) / wall / sessions) * 100,
      resultsPerSec: results.length / wall / sessions,
      p50: pct(rtts, 50),
      p95: pct(rtts, 95),
      cpuPerStream: ((cpu1 - cpu0) / wall / sessions) * 100,
      otherCpuPerStream: ((o1 - o0) / wall / sessions) * 100,
      dropped: lastDropped.reduce((a, b, i) => a + b - firstDropped[i]!, 0),
      inferenceP50: pct(
        results.map((r) => r.inf),
        50,
      ),
      serverP50: pct(
        results.map((r) => r.total),
        50,
      ),
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Runs the WebRTC bench and prints its table. */
export async function runWebrtcBench(): Promise<void> {
  const clip = ensurePanClip();
  const rows: Row[] = [];
  // H.264 (what Chromium sends by the server's preference) everywhere; VP8 too for null at 1 and 4 sessions.
  for (const processor of ['null', 'face']) {
    for (const sessions of processor === 'null' ? [1, 4, 8] : [1, 4]) {
      const codecs = processor === 'null' && sessions <= 4 ? ['H264', 'VP8'] : ['H264'];
      for (const codec of codecs) {
        process.stdout.write(`measuring ${processor} x${sessions} (${codec})…\n`);
        rows.push(await measure(processor, sessions, clip, true, codec));
      }
    }
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  console.log(
    `\nSightline bench — ${WINDOW_MS / 1000} s window after ${WARMUP_MS / 1000} s warm-up; clip 640x480 @ 30 fps; Chromium and server on one machine\n`,
  );
  console.log(
    '| video codec | processor | sessions | results/s per stream | RTT p50 ms | RTT p95 ms | inference p50 ms | in pipeline p50 ms | server CPU % per stream | dropped (window) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.codec} | ${r.processor} | ${r.sessions} | ${f(r.resultsPerSec)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.inferenceP50, 2)} | ${f(r.serverP50, 2)} | ${f(r.cpuPerStream)} | ${r.dropped} |`,
    );
  }
  console.log('\nRTT: encoded frame leaves Chromium → its result arrives on the DataChannel (per frame, matched by RTP timestamp).');
  console.log('In pipeline: decoded frame reaches the pipeline → result built (slot wait + processing). Server CPU: all threads of the server process.');

  // Capture hints: the same face sessions with the SDK following the server's hint (default) and ignoring it.
  const hinted = rows.filter((r) => r.processor === 'face');
  const full: Row[] = [];
  for (const sessions of [1, 4]) {
    process.stdout.write(`measuring face x${sessions} without capture hints…\n`);
    full.push(await measure('face', sessions, clip, false));
  }
  console.log('\nCapture hints (face; the camera is 640x480 @ 30 fps; same run)\n');
  console.log('| sessions | capture hints | frames decoded at | results/s per stream | RTT p50 ms | server CPU % per stream | Chromium CPU % per stream |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of [...hinted, ...full].sort((a, b) => a.sessions - b.sessions || Number(b.hints) - Number(a.hints))) {
    console.log(
      `| ${r.sessions} | ${r.hints ? 'followed' : 'ignored'} | ${r.frameSize} | ${f(r.resultsPerSec)} | ${f(r.p50)} | ${f(r.cpuPerStream)} | ${f(r.browserCpuPerStream)} |`,
    );
  }
  console.log('\nChromium CPU: every process of the browser (fake-camera capture, scaling, encoding, the demo page).');
}
