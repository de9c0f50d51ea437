/**
 * Runtime bench: (1) frames/s of the inference pipeline (pool → worker → fused preprocessing → onnxruntime →
 * decode → back) against a raw onnxruntime loop on the same model and thread count; (2) throughput with
 * cross-session batching on and off at 1/4/8 sessions; (3) main-thread event-loop delay p99 under that load.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import type { ModelSpec } from '../packages/server/src/models/adapters/model-info.js';
import { DEFAULT_DECODE } from '../packages/server/src/models/detections.js';
import { rgbaToI420, type I420Frame } from '../packages/server/src/models/i420.js';
import { InferencePool } from '../packages/server/src/models/inference-pool.js';
import { BUILTIN_MODELS } from '../packages/server/src/models/model-catalog.js';
import { NANO, TINY, writeConvDetector } from './synthetic-models.js';

const SECONDS = Number(process.env.BENCH_RUNTIME_SECONDS ?? 4);

function testFrame(): I420Frame {
  const w = 640;
  const h = 480;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([(i * 7) & 255, (i >> 3) & 255, (i >> 9) & 255, 255], i * 4);
  return rgbaToI420(rgba, w, h);
}

async function rawLoop(file: string, dims: number[]): Promise<number> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const input = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims);
  const feeds = { [session.inputNames[0]!]: input };
  for (let i = 0; i < 10; i++) await session.run(feeds);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await session.run(feeds);
    n++;
  }
  const fps = n / ((performance.now() - t0) / 1000);
  await session.release();
  return fps;
}

interface LoadResult {
  fps: number;
  latencyP50: number;
  meanBatch: number;
  loopDelayP99: number;
}

/** `sessions` concurrent requesters, each with one frame in flight (as each session's pipeline has). */
async function load(pool: InferencePool, model: string, sessions: number, frame: I420Frame): Promise<LoadResult> {
  for (let i = 0; i < 4; i++) await pool.run(model, { ...frame, data: frame.data.slice() }, DEFAULT_DECODE);
  const before = pool.batchStats;
  const lat: number[] = [];
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      while (performance.now() < end) {
        const t = performance.now();
        await pool.run(model, { ...frame, data: frame.data.slice() }, DEFAULT_DECODE, `s${s}`);
        lat.push(performance.now() - t);
      }
    }),
  );
  h.disable();
  const after = pool.batchStats;
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    fps: lat.length / secs,
    latencyP50: lat[Math.floor(lat.length / 2)] ?? NaN,
    meanBatch: (after.frames - before.frames) / Math.max(1, after.batches - before.batches),
    loopDelayP99: h.percentile(99) / 1e6,
  };
}

const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '–');

export async function runRuntimeBench(): Promise<void> {
  const frame = testFrame();
  const tiny = writeConvDetector(320, TINY);
  const nano = writeConvDetector(320, NANO);
  const back = BUILTIN_MODELS.find((m) => m.name === 'blazeface-back')!;
  const cases: Array<{ spec: ModelSpec; dims: number[] }> = [
    { spec: back, dims: [1, 256, 256, 3] },
    { spec: { name: 'tiny-detector-320', file: tiny }, dims: [1, 3, 320, 320] },
    { spec: { name: 'nano-detector-320', file: nano }, dims: [1, 3, 320, 320] },
  ];

  console.log(`\nSightline runtime bench — ${SECONDS} s per measurement, ${availableParallelism()} cores, onnxruntime-node ${ort.env.versions.node} CPU\n`);
  console.log(
    'Pipeline (1 worker, 1 intra-op thread, frames 640x480 I420 → fused preprocess → run → decode) vs raw onnxruntime loop (same model, 1 thread, tensor ready):\n',
  );
  console.log('| model | raw ORT frames/s | pipeline frames/s | ratio |');
  console.log('|---|---|---|---|');
  for (const c of cases) {
    const raw = await rawLoop(c.spec.file, c.dims);
    const pool = await InferencePool.create({ size: 1, models: [c.spec], intraOpNumThreads: 1, maxBatch: 1 });
    // Two requesters keep the single worker busy back to back.
    const piped = await load(pool, c.spec.name, 2, frame);
    await pool.close();
    console.log(`| ${c.spec.name} | ${f(raw)} | ${f(piped.fps)} | ${f(piped.fps / raw, 2)} |`);
  }

  const workers = availableParallelism();
  console.log(`\nCross-session batching (nano-detector-320, dynamic batch, ${workers} workers x 1 thread; each session keeps one frame in flight):\n`);
  console.log('| sessions | batching | frames/s | latency p50 ms | mean batch | event-loop delay p99 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const sessions of [1, 4, 8]) {
    for (const maxBatch of [1, 8]) {
      const pool = await InferencePool.create({ size: workers, models: [{ name: 'conv', file: nano }], intraOpNumThreads: 1, maxBatch });
      const r = await load(pool, 'conv', sessions, frame);
      await pool.close();
      console.log(
        `| ${sessions} | ${maxBatch > 1 ? 'on (max 8)' : 'off'} | ${f(r.fps)} | ${f(r.latencyP50)} | ${f(r.meanBatch, 2)} | ${f(r.loopDelayP99, 2)} |`,
      );
    }
  }
}
