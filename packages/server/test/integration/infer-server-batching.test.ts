import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildInferServer } from '../../src/infer-server/infer-server-app.js';
import { KserveHttpClient } from '../../src/kserve/kserve-http-client.js';
import type { Tensor } from '../../src/kserve/infer-messages.js';
import { InferencePool } from '../../src/models/inference-pool.js';
import { BUILTIN_MODELS } from '../../src/models/model-catalog.js';
import { buildModel } from '../helpers/onnx-builder.js';
import { writeTestModels, type TestModels } from '../helpers/test-models.js';

/** Deterministic inputs, different for every seed. */
function rows(n: number, perRow: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * perRow }, (_, i) => Math.sin(seed * 7.1 + i * 0.37 + Math.floor(i / perRow) * 1.3));
}

function assertClose(got: Tensor[], want: Tensor[], what: string): void {
  assert.deepEqual(
    got.map((o) => [o.name, o.shape]),
    want.map((o) => [o.name, o.shape]),
    what,
  );
  got.forEach((o, k) => {
    const a = o.values as Float32Array;
    const b = want[k]!.values as Float32Array;
    let worst = 0;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    assert.ok(worst < 1e-4, `${what}, ${o.name}: max difference ${worst}`);
  });
}

/**
 * Cross-request batching in `sightline infer-server`: concurrent HTTP requests to a model with a dynamic batch
 * dimension share worker runs (the pool's raw batch stats), and each gets exactly the outputs it gets alone.
 */
describe('infer-server: requests batched across clients', { timeout: 120_000 }, () => {
  let models: TestModels;
  let pool: InferencePool;
  let app: FastifyInstance;
  let url: string;
  const SIZE = 32; // the colours classifier: [N, 3, 32, 32] → logits [N, 4]
  const PER_ROW = 3 * SIZE * SIZE;
  before(async () => {
    models = writeTestModels();
    const front = BUILTIN_MODELS.find((m) => m.name === 'blazeface-front')!;
    // Declares logits [N, 3] but gives each row twice, [2N, 3], as an export could whose dim 0 is not the batch's.
    const twice = join(models.dir, 'twice.onnx');
    writeFileSync(
      twice,
      buildModel({
        inputs: [{ name: 'images', type: 'float32', shape: ['N', 3, 8, 8] }],
        outputs: [{ name: 'logits', type: 'float32', shape: ['N', 3] }],
        nodes: [
          { op: 'ReduceMean', inputs: ['images'], outputs: ['m'], attrs: { axes: [2, 3], keepdims: 0 } },
          { op: 'Concat', inputs: ['m', 'm'], outputs: ['logits'], attrs: { axis: 0 } },
        ],
        metadata: { names: "{0: 'r', 1: 'g', 2: 'b'}", task: 'classify' },
      }),
    );
    // One worker: concurrent requests queue behind its runs (and maxDelayMs) and go as batches.
    pool = await InferencePool.create({
      models: [front, { name: 'colours', file: models.colours }, { name: 'twice', file: twice }],
      size: 1,
      maxBatch: 8,
      maxDelayMs: 2,
    });
    app = await buildInferServer({ pool, version: 'test' });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await pool?.close();
    if (models) rmSync(models.dir, { recursive: true, force: true });
  });

  const infer = async (model: string, shape: number[], values: Float32Array): Promise<Tensor[]> => {
    const client = new KserveHttpClient({ baseUrl: url, model, timeoutMs: 30_000, retries: 0 });
    const res = await client.infer({ inputs: [{ name: model === 'colours' ? 'images' : 'input:0', datatype: 'FP32', shape, values }] });
    return res.outputs;
  };

  test('concurrent requests share runs and get what they get one at a time', async () => {
    // 24 one-row requests and two of 3 rows.
    const shapes = [...Array.from({ length: 24 }, () => 1), 3, 3];
    const inputs = shapes.map((n, i) => rows(n, PER_ROW, i));
    const s0 = pool.rawBatchStats;
    const alone: Tensor[][] = [];
    for (const [i, n] of shapes.entries()) alone.push(await infer('colours', [n, 3, SIZE, SIZE], inputs[i]!));
    const s1 = pool.rawBatchStats;
    assert.equal(s1.batches - s0.batches, shapes.length, 'one at a time: a run each');

    const together = await Promise.all(shapes.map((n, i) => infer('colours', [n, 3, SIZE, SIZE], inputs[i]!)));
    const s2 = pool.rawBatchStats;
    together.forEach((outs, i) => assertClose(outs, alone[i]!, `request ${i} (${shapes[i]} rows)`));
    assert.equal(s2.requests - s1.requests, shapes.length);
    assert.equal(s2.rows - s1.rows, 30);
    assert.ok(s2.batches - s1.batches < shapes.length, `${s2.batches - s1.batches} runs for ${shapes.length} requests`);
    // Never more than maxBatch rows a run: at least 30 / 8 runs.
    assert.ok(s2.batches - s1.batches >= 4);
  });

  test('a fixed-batch model runs each request alone, concurrent or not', async () => {
    const n = 128 * 128 * 3;
    const inputs = Array.from({ length: 6 }, (_, i) => rows(1, n, 100 + i));
    const alone: Tensor[][] = [];
    for (const x of inputs) alone.push(await infer('blazeface-front', [1, 128, 128, 3], x));
    const s0 = pool.rawBatchStats;
    const together = await Promise.all(inputs.map((x) => infer('blazeface-front', [1, 128, 128, 3], x)));
    together.forEach((outs, i) => assertClose(outs, alone[i]!, `request ${i}`));
    assert.equal(pool.rawBatchStats.batches - s0.batches, inputs.length);
  });

  test('a failing batch fails each of its requests with the error; the pool goes on', async () => {
    const tensor = (i: number) => [{ name: 'images', type: 'float32', dims: [1, 3, SIZE, SIZE], data: rows(1, PER_ROW, i).buffer as ArrayBuffer }];
    // The worker dies on its next run: the four requests, queued together, are that run.
    pool.crashOneWorker();
    const s0 = pool.rawBatchStats;
    const failed = await Promise.allSettled([0, 1, 2, 3].map((i) => pool.runRaw('colours', tensor(i))));
    assert.deepEqual(pool.rawBatchStats.batches - s0.batches, 1);
    const reasons = failed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled'));
    assert.match(reasons[0]!, /crash/);
    assert.deepEqual(reasons, [reasons[0], reasons[0], reasons[0], reasons[0]]);
    // The worker is replaced; requests over HTTP work again.
    const deadline = Date.now() + 60_000;
    while (pool.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const ok = await infer('colours', [1, 3, SIZE, SIZE], rows(1, PER_ROW, 7));
    assert.deepEqual(ok[0]!.shape, [1, 4]);
  });

  test('outputs that do not split by row (whatever the metadata says): the requests run again alone, and later ones too', async () => {
    const tensor = (i: number) => [{ name: 'images', type: 'float32', dims: [1, 3, 8, 8], data: rows(1, 3 * 64, i).buffer as ArrayBuffer }];
    const alone = (i: number): number[] => {
      const x = rows(1, 3 * 64, i);
      return [0, 1, 2].map((c) => x.subarray(c * 64, (c + 1) * 64).reduce((a, b) => a + b, 0) / 64);
    };
    const s0 = pool.rawBatchStats;
    const got = await Promise.all([0, 1, 2].map((i) => pool.runRaw('twice', tensor(i))));
    got.forEach((r, i) => {
      assert.deepEqual(r.outputs[0]!.dims, [2, 3]);
      assert.equal(r.batchSize, 1);
      const v = [...new Float32Array(r.outputs[0]!.data)];
      const want = [...alone(i), ...alone(i)];
      v.forEach((x, c) => assert.ok(Math.abs(x - want[c]!) < 1e-4, `request ${i}: ${v} vs ${want}`));
    });
    assert.deepEqual(pool.rawBatchStats.batches - s0.batches, 4, 'the batch of three, then each alone');
    const later = await Promise.all([3, 4].map((i) => pool.runRaw('twice', tensor(i))));
    assert.ok(later.every((r) => r.batchSize === 1));
  });

  test('raw requests count in the pool load while they wait or run', async () => {
    const runs = Array.from({ length: 5 }, (_, i) => {
      const x = rows(1, PER_ROW, 50 + i);
      return pool.runRaw('colours', [{ name: 'images', type: 'float32', dims: [1, 3, SIZE, SIZE], data: x.buffer as ArrayBuffer }]);
    });
    const load = pool.load();
    assert.equal(load.pending, 5);
    assert.equal(pool.pending, 5);
    assert.ok(load.queued <= 5);
    const done = await Promise.all(runs);
    assert.ok(done.every((r) => r.outputs[0]!.dims[0] === 1));
    assert.ok(done.some((r) => r.batchSize > 1));
    assert.equal(pool.load().pending, 0);
  });
});
