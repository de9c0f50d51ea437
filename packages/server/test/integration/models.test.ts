import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OnnxModel } from '../../src/models/adapters/onnx-model.js';
import { DEFAULT_DECODE } from '../../src/models/detections.js';
import { rgbaToI420, type I420Frame } from '../../src/models/i420.js';
import { InferencePool } from '../../src/models/inference-pool.js';
import { checkDevice } from '../../src/models/device-check.js';
import { EXPECTED, writeTestModels } from '../helpers/test-models.js';

const models = writeTestModels();
const solid = (r: number, g: number, b: number, w = 640, h = 480): I420Frame => {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([r, g, b, 255], i * 4);
  return rgbaToI420(rgba, w, h);
};
const grey = solid(128, 128, 128);
const copy = (f: I420Frame): I420Frame => ({ ...f, data: f.data.slice() });
const opts = { device: 'cpu' as const, intraOpNumThreads: 1, maxBatch: 4 };
const boxOf = (d: { x: number; y: number; w: number; h: number }) => [d.x, d.y, d.w, d.h].map((v) => Math.round(v * 10) / 10);

describe('model adapters on real onnxruntime (ONNX graphs built in the test)', () => {
  const cases: Array<[string, string]> = [
    ['YOLOv8 [N, 4+C, A] with per-class NMS', models.yolov8],
    ['end-to-end [N, K, 6]', models.yoloE2E],
    ['YOLOv5 [N, A, 5+C] with objectness', models.yolov5],
  ];
  for (const [name, file] of cases) {
    test(`yolo: ${name} → the expected boxes in frame pixels, class names from metadata`, async () => {
      const m = await OnnxModel.load({ name: 'm', file }, opts);
      try {
        assert.equal(m.info.adapter, 'yolo');
        assert.deepEqual(m.info.labels, ['cat', 'dog']);
        assert.equal(m.info.dynamicBatch, true);
        const [out] = await m.run([{ frame: copy(grey), params: DEFAULT_DECODE }]);
        assert.deepEqual(
          out!.detections.map((d) => [d.label, Math.round(d.score * 100) / 100, boxOf(d)]),
          [
            [EXPECTED.cat.class, EXPECTED.cat.score, EXPECTED.cat.box],
            [EXPECTED.dog.class, EXPECTED.dog.score, EXPECTED.dog.box],
          ],
        );
      } finally {
        await m.close();
      }
    });
  }

  test('ssd: uint8 NHWC input, stretch resize, labels from a --labels list', async () => {
    const m = await OnnxModel.load({ name: 's', file: models.ssd, labels: ['background', 'person', 'bicycle'] }, opts);
    try {
      assert.equal(m.info.adapter, 'ssd');
      assert.equal(m.info.input.dtype, 'uint8');
      const [out] = await m.run([{ frame: copy(grey), params: DEFAULT_DECODE }]);
      assert.deepEqual(
        out!.detections.map((d) => [d.label, boxOf(d)]),
        [[EXPECTED.ssdPerson.class, EXPECTED.ssdPerson.box]],
      );
    } finally {
      await m.close();
    }
  });

  test('classifier: top-k labels from the image content, one per batch item', async () => {
    const m = await OnnxModel.load({ name: 'c', file: models.colours }, opts);
    try {
      assert.equal(m.info.adapter, 'classifier');
      const outs = await m.run([
        { frame: solid(255, 0, 0), params: { ...DEFAULT_DECODE, minScore: 0, topK: 2 } },
        { frame: solid(0, 255, 0), params: { ...DEFAULT_DECODE, minScore: 0, topK: 1 } },
        { frame: solid(0, 0, 255), params: { ...DEFAULT_DECODE, minScore: 0, topK: 1 } },
        { frame: solid(255, 255, 255), params: { ...DEFAULT_DECODE, minScore: 0, topK: 1 } },
      ]);
      assert.deepEqual(
        outs.map((o) => o.labels![0]!.label),
        ['red', 'green', 'blue', 'white'],
      );
      assert.equal(outs[0]!.labels!.length, 2);
    } finally {
      await m.close();
    }
  });

  test('a fixed batch dimension means batches of one', async () => {
    const m = await OnnxModel.load({ name: 'f', file: models.yolov8Fixed }, opts);
    try {
      assert.equal(m.info.dynamicBatch, false);
      assert.equal(m.info.maxBatch, 1);
      await assert.rejects(
        m.run([
          { frame: copy(grey), params: DEFAULT_DECODE },
          { frame: copy(grey), params: DEFAULT_DECODE },
        ]),
        /exceeds max 1/,
      );
    } finally {
      await m.close();
    }
  });

  test('a file that is not ONNX fails to load with the file named', async () => {
    const bad = join(models.dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    await assert.rejects(OnnxModel.load({ name: 'bad', file: bad }, opts));
  });

  test('--device cuda without the CUDA execution provider fails with how to install it', () => {
    assert.throws(() => checkDevice('cuda'), /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.doesNotThrow(() => checkDevice('cpu'));
  });
});

describe('InferencePool: cross-session batching, round-robin, crash recovery', () => {
  const pools: InferencePool[] = [];
  after(async () => {
    for (const p of pools) await p.close();
  });

  test('with a dynamic-batch model and 4 sessions, batches larger than 1 form and results go to the right session', async () => {
    const pool = await InferencePool.create({ size: 1, models: [{ name: 'colours', file: models.colours }], maxBatch: 4, maxDelayMs: 30 });
    pools.push(pool);
    const colours: Array<[string, [number, number, number]]> = [
      ['red', [255, 0, 0]],
      ['green', [0, 255, 0]],
      ['blue', [0, 0, 255]],
      ['white', [255, 255, 255]],
    ];
    const frames = new Map(colours.map(([n, c]) => [n, solid(...c, 64, 48)]));
    const params = { ...DEFAULT_DECODE, minScore: 0, topK: 1 };
    // Each session keeps one request in flight (as its pipeline would), 15 rounds each.
    const results = await Promise.all(
      colours.map(async ([name]) => {
        const got: string[] = [];
        for (let i = 0; i < 15; i++) {
          const r = await pool.run('colours', copy(frames.get(name)!), params, `session-${name}`);
          got.push(r.output.labels![0]!.label);
        }
        return [name, got] as const;
      }),
    );
    for (const [name, got] of results) assert.deepEqual(new Set(got), new Set([name]), `session ${name} got ${got}`);
    const stats = pool.batchStats;
    const multi = Object.entries(stats.sizes)
      .filter(([size]) => Number(size) > 1)
      .reduce((a, [, n]) => a + n, 0);
    assert.ok(multi > 0, `no batch larger than 1: ${JSON.stringify(stats)}`);
    assert.equal(stats.frames, 60);
    assert.ok(Math.max(...Object.keys(stats.sizes).map(Number)) <= 4);
  });

  test('a fixed-batch model never batches', async () => {
    const pool = await InferencePool.create({ size: 1, models: [{ name: 'fixed', file: models.yolov8Fixed }], maxBatch: 8, maxDelayMs: 30 });
    pools.push(pool);
    await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run('fixed', copy(grey), DEFAULT_DECODE, `s${i}`)));
    assert.deepEqual(pool.batchStats.sizes, { 1: 6 });
  });

  test('unknown models and a saturated pool are refused with clear errors', async () => {
    const pool = await InferencePool.create({ size: 1, models: [{ name: 'v8', file: models.yolov8 }], maxPending: 2, maxDelayMs: 50 });
    pools.push(pool);
    await assert.rejects(pool.run('nope', copy(grey), DEFAULT_DECODE), /not loaded/);
    const a = pool.run('v8', copy(grey), DEFAULT_DECODE, 'a');
    const b = pool.run('v8', copy(grey), DEFAULT_DECODE, 'b');
    await assert.rejects(pool.run('v8', copy(grey), DEFAULT_DECODE, 'c'), /saturated/);
    await Promise.all([a, b]);
  });

  test('a worker that crashes mid-stream fails its requests with an error, is replaced, and runs resume', async () => {
    const pool = await InferencePool.create({ size: 1, models: [{ name: 'v8', file: models.yolov8 }], maxBatch: 4 });
    pools.push(pool);
    await pool.run('v8', copy(grey), DEFAULT_DECODE);
    pool.crashOneWorker();
    const during = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => pool.run('v8', copy(grey), DEFAULT_DECODE, `s${i}`)));
    const failed = during.filter((r) => r.status === 'rejected');
    assert.ok(failed.length > 0, 'the batch the worker died with (and any queued behind it) is failed, not lost');
    assert.ok(during.every((r) => r.status === 'rejected' || r.value.output.detections.length === 2));
    for (const f of failed) assert.match(String((f as PromiseRejectedResult).reason), /crashed|no inference worker|exited/);
    const deadline = Date.now() + 20_000;
    while (pool.size < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.restarts, 1);
    const r = await pool.run('v8', copy(grey), DEFAULT_DECODE);
    assert.equal(r.output.detections.length, 2);
  });
});
