import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { rgbaToI420, type I420Frame } from '../../src/models/i420.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { openNodeSession, type NodePeer } from '../helpers/node-peer.js';
import { EXPECTED, writeTestModels } from '../helpers/test-models.js';

const KEY = 'k';
const models = writeTestModels();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const solid = (r: number, g: number, b: number, w = 640, h = 480): I420Frame => {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([r, g, b, 255], i * 4);
  return rgbaToI420(rgba, w, h);
};

describe('your own models over WebRTC: --model, discovery, batching across sessions, live changes', () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];

  const open = (body: Record<string, unknown> = {}) => openNodeSession(server.app, KEY, peers, body);

  before(async () => {
    server = await createServer(
      loadConfig(
        [
          '--workers',
          '1',
          '--log-level',
          'silent',
          '--model',
          models.yolov8,
          '--model',
          `colours=${models.colours}`,
          '--max-batch',
          '4',
          '--max-delay-ms',
          '25',
        ],
        { SIGHTLINE_API_KEYS: KEY },
      ),
    );
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test('GET /v1/models lists built-in and user models with adapters, shapes and labels (auth required)', async () => {
    assert.equal((await server.app.inject('/v1/models')).statusCode, 401);
    const r = await server.app.inject({ url: '/v1/models', headers: { 'api-key': KEY } });
    assert.equal(r.statusCode, 200);
    const byName = Object.fromEntries((r.json().models as Array<Record<string, any>>).map((m) => [m.name, m]));
    assert.deepEqual(Object.keys(byName).sort(), ['blazeface-back', 'blazeface-front', 'colours', 'yolov8-test']);
    assert.equal(byName['yolov8-test']!.adapter, 'yolo');
    assert.deepEqual(byName['yolov8-test']!.labels, ['cat', 'dog']);
    assert.equal(byName['yolov8-test']!.dynamic_batch, true);
    assert.equal(byName['yolov8-test']!.max_batch, 4);
    assert.deepEqual(byName['yolov8-test']!.inputs[0].shape, ['N', 3, 64, 64]);
    assert.equal(byName['colours']!.adapter, 'classifier');
    assert.equal(byName['blazeface-back']!.dynamic_batch, false);
    assert.ok(!String(byName['colours']!.file).includes('/'), 'no host paths');
  });

  test('GET /v1/processors gives params as JSON Schema for generated controls', async () => {
    const r = await server.app.inject({ url: '/v1/processors', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().default, 'detect');
    const detect = (r.json().processors as Array<Record<string, any>>).find((p) => p.name === 'detect')!;
    assert.deepEqual(detect.params.properties.model.enum, ['yolov8-test']);
    assert.equal(detect.params.properties.min_score.maximum, 1);
    assert.equal(detect.params.properties.min_score.default, 0.25);
    const names = (r.json().processors as Array<{ name: string }>).map((p) => p.name).sort();
    assert.deepEqual(names, ['blur-faces', 'classify', 'detect', 'edges', 'face', 'null', 'stats']);
  });

  test('with --model and no --processor, offers default to detect: boxes in frame pixels with class names', async () => {
    const { peer, processor } = await open();
    assert.equal(processor, 'detect');
    peer.startSending(solid(90, 90, 90), 15);
    const r = await peer.waitFor((m) => m.type === 'result');
    peer.stopSending();
    assert.deepEqual(r.boxes, [
      { class: 'cat', score: 0.9, box: [...EXPECTED.cat.box] },
      { class: 'dog', score: 0.7, box: [...EXPECTED.dog.box] },
    ]);
  });

  test('4 sessions share batches and each gets its own results (a colour marker per session)', async () => {
    const before = server.pool.batchStats;
    const colours: Array<[string, [number, number, number]]> = [
      ['red', [255, 0, 0]],
      ['green', [0, 255, 0]],
      ['blue', [0, 0, 255]],
      ['white', [255, 255, 255]],
    ];
    const sessions = await Promise.all(colours.map(() => open({ processor: 'classify', params: { top_k: 1 } })));
    sessions.forEach((s, i) => s.peer.startSending(solid(...colours[i]![1]), 30));
    await sleep(3000);
    for (const s of sessions) s.peer.stopSending();
    await sleep(300);
    sessions.forEach((s, i) => {
      const labels = s.peer.messages.filter((m) => m.type === 'result').map((m) => (m.labels as Array<{ class: string }>)[0]!.class);
      assert.ok(labels.length >= 20, `session ${colours[i]![0]}: ${labels.length} results`);
      assert.deepEqual(new Set(labels), new Set([colours[i]![0]]), `session ${colours[i]![0]} got ${[...new Set(labels)]}`);
    });
    const after = server.pool.batchStats;
    let multi = 0;
    for (const [size, n] of Object.entries(after.sizes)) if (Number(size) > 1) multi += n - (before.sizes[Number(size)] ?? 0);
    assert.ok(multi > 0, `no cross-session batch formed: ${JSON.stringify(after.sizes)}`);
    const batched = sessions.flatMap((s) => s.peer.messages.filter((m) => m.type === 'result' && (m.timing as { batch_size: number }).batch_size > 1));
    assert.ok(batched.length > 0, 'results report their batch size');
  });

  test('a live set changes params and processor without reconnecting; bad sets get errors and change nothing', async () => {
    const { peer } = await open({ processor: 'detect' });
    peer.startSending(solid(90, 90, 90), 15);
    await peer.waitFor((m) => m.type === 'result' && (m.boxes as unknown[]).length === 2);
    peer.channel.send(JSON.stringify({ type: 'set', id: 1, params: { min_score: 0.8 } }));
    const ack = await peer.waitFor((m) => m.type === 'ack' && m.id === 1);
    assert.equal(ack.processor, 'detect');
    assert.equal((ack.params as Record<string, unknown>).min_score, 0.8);
    assert.equal((ack.params as Record<string, unknown>).model, 'yolov8-test', 'other params are kept');
    const at = peer.messages.length;
    const after = await peer.waitFor((m) => m.type === 'result' && peer.messages.indexOf(m) > at + 1);
    assert.deepEqual(
      (after.boxes as Array<{ class: string }>).map((b) => b.class),
      ['cat'],
    );

    peer.channel.send(JSON.stringify({ type: 'set', id: 2, params: { min_score: 5 } }));
    const bad = await peer.waitFor((m) => m.type === 'error' && m.id === 2);
    assert.equal(bad.code, 'invalid_params');
    peer.channel.send(JSON.stringify({ type: 'set', id: 3, processor: 'nope' }));
    assert.equal((await peer.waitFor((m) => m.type === 'error' && m.id === 3)).code, 'unknown_processor');

    peer.channel.send(JSON.stringify({ type: 'set', id: 4, processor: 'stats' }));
    await peer.waitFor((m) => m.type === 'ack' && m.id === 4);
    const at2 = peer.messages.length;
    const stats = await peer.waitFor((m) => m.type === 'result' && m.processor === 'stats' && peer.messages.indexOf(m) > at2);
    assert.ok(typeof (stats.data as { mean_luma: number }).mean_luma === 'number');
    peer.stopSending();
  });
});
