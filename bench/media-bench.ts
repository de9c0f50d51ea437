/**
 * Media bench: the main-thread and thread-pool costs of the ways in and out that are not inference — JPEG/WebP
 * frames decoded to I420 (the DataChannel and WebSocket transports), RGB → I420, chunk reassembly, the Sobel edge
 * map drawn into frames sent back, and Silero VAD windows.
 */
import { encodeFrameChunks } from '@sightline/protocol';
import sharp from 'sharp';
import { VadRunner } from '../packages/server/src/audio/vad-runner.js';
import { vadProcessor } from '../packages/server/src/audio/vad-processor.js';
import { decodeImageToI420 } from '../packages/server/src/models/image-decode.js';
import { rgbToI420 } from '../packages/server/src/models/i420.js';
import { sobelEdgesI420 } from '../packages/server/src/models/i420-filters.js';
import { FrameAssembler } from '../packages/server/src/pipeline/frame-assembler.js';

const SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 2);

/** Mean ms per call of `fn` over SECONDS (after a short warm-up). */
async function perCall(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

function rgbPicture(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([(x * 255) / w, (y * 255) / h, ((x ^ y) * 7) & 255], (y * w + x) * 3);
  return rgb;
}

export async function runMediaBench(): Promise<void> {
  console.log(`\nSightline media bench — ${SECONDS} s per measurement\n`);
  console.log('| step | 640x480 ms | 1280x720 ms |');
  console.log('|---|---|---|');
  const rows: Array<[string, (w: number, h: number) => Promise<() => unknown>]> = [
    [
      'RGB → I420 (main thread)',
      async (w, h) => {
        const rgb = rgbPicture(w, h);
        return () => rgbToI420(rgb, w, h, 3);
      },
    ],
    [
      'JPEG q80 → I420 (libvips on the pool + conversion)',
      async (w, h) => {
        const j = await sharp(rgbPicture(w, h), { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: 80 })
          .toBuffer();
        return () => decodeImageToI420(j, 1e8);
      },
    ],
    [
      'WebP q80 → I420',
      async (w, h) => {
        const j = await sharp(rgbPicture(w, h), { raw: { width: w, height: h, channels: 3 } })
          .webp({ quality: 80 })
          .toBuffer();
        return () => decodeImageToI420(j, 1e8);
      },
    ],
    [
      'JPEG chunked (16 KiB) + reassembled',
      async (w, h) => {
        const j = new Uint8Array(
          await sharp(rgbPicture(w, h), { raw: { width: w, height: h, channels: 3 } })
            .jpeg({ quality: 80 })
            .toBuffer(),
        );
        const a = new FrameAssembler({ maxFrameBytes: 1 << 24 });
        let id = 0;
        return () => {
          for (const c of encodeFrameChunks(j, id++ & 0xffff, 0)) a.add(c);
        };
      },
    ],
    [
      'Sobel edges drawn in (main thread)',
      async (w, h) => {
        const f = rgbToI420(rgbPicture(w, h), w, h, 3);
        return () => sobelEdgesI420({ ...f, data: f.data.slice() }, 60);
      },
    ],
  ];
  for (const [name, make] of rows) {
    const a = await perCall(await make(640, 480));
    const b = await perCall(await make(1280, 720));
    console.log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} |`);
  }

  // VAD: N streams fed 10 ms chunks as fast as the shared worker takes them; windows/s and main-thread ms per chunk.
  console.log('\nSilero VAD (one shared worker, windows of all streams batched), 48 kHz mono input:\n');
  console.log('| streams | 32 ms windows/s | real-time streams it could serve | main-thread µs per 10 ms chunk |');
  console.log('|---|---|---|---|');
  const runner = new VadRunner();
  await runner.start();
  const chunk = { samples: Int16Array.from({ length: 480 }, (_, i) => Math.round(3000 * Math.sin(i / 7))), sampleRate: 48_000, channels: 1 };
  for (const streams of [1, 8, 32]) {
    const vad = vadProcessor({ runner, maxPendingWindows: 1 << 20 });
    const open = Array.from({ length: streams }, (_, i) => vad.open(vad.params.parse({}), { sessionId: `s${i}` }));
    const before = runner.stats.windows;
    const t0 = performance.now();
    let pushMs = 0;
    let pushed = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      const p0 = performance.now();
      for (const s of open) s.push(chunk, Date.now());
      pushMs += performance.now() - p0;
      pushed += open.length;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    const windows = runner.stats.windows - before;
    const perS = windows / ((performance.now() - t0) / 1000);
    console.log(`| ${streams} | ${perS.toFixed(0)} | ${(perS / 31.25).toFixed(0)} | ${((pushMs / pushed) * 1000).toFixed(1)} |`);
    for (const s of open) s.close();
  }
  await runner.close();
}
