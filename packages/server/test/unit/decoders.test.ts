import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectAdapter } from '../../src/models/adapters/registry.js';
import { BatchQueue } from '../../src/models/batch-queue.js';
import { decodeClassifier, decodeSsd, decodeYoloEndToEnd, decodeYoloV5, decodeYoloV8, DEFAULT_DECODE, nmsPerClass } from '../../src/models/detections.js';
import { parseModelArg } from '../../src/models/model-catalog.js';
import { parseClassNames, readOnnxMetadata } from '../../src/models/onnx-metadata.js';
import { boxToFrame, transformFor } from '../../src/models/preprocess.js';
import { buildModel } from '../helpers/onnx-builder.js';

const P = DEFAULT_DECODE;

/** Column-major YOLOv8 tensor for one batch item: rows cx, cy, w, h, scores…; one column per anchor. */
function v8(anchors: number[][]): Float32Array {
  const rows = anchors[0]!.length;
  const out = new Float32Array(rows * anchors.length);
  anchors.forEach((a, i) => a.forEach((v, r) => (out[r * anchors.length + i] = v)));
  return out;
}

describe('YOLO decoders', () => {
  test('v8: best class per anchor, min_score, per-class NMS keeps the better duplicate', () => {
    const data = v8([
      [100, 100, 20, 20, 0.9, 0.1],
      [102, 100, 20, 20, 0.8, 0.1], // duplicate of the first: suppressed
      [100, 100, 20, 20, 0.1, 0.6], // same place, other class: kept
      [300, 300, 10, 10, 0.2, 0.1], // under min_score
    ]);
    const d = decodeYoloV8(data, 0, 6, 4, P);
    assert.deepEqual(
      d.map((x) => [x.classId, x.score.toFixed(2), x.x1, x.y1, x.x2, x.y2]),
      [
        [0, '0.90', 90, 90, 110, 110],
        [1, '0.60', 90, 90, 110, 110],
      ],
    );
  });

  test('v8: batch index selects the item; class filter and max_det apply', () => {
    const one = v8([
      [10, 10, 4, 4, 0.9, 0.8],
      [50, 50, 4, 4, 0.7, 0.1],
    ]);
    const two = new Float32Array(one.length * 2);
    two.set(one, one.length);
    assert.equal(decodeYoloV8(two, 0, 6, 2, P).length, 0);
    assert.equal(decodeYoloV8(two, 1, 6, 2, P).length, 2);
    const dogs = decodeYoloV8(two, 1, 6, 2, { ...P, classIds: [1] });
    assert.deepEqual(
      dogs.map((d) => d.classId),
      [1],
    );
    assert.equal(decodeYoloV8(two, 1, 6, 2, { ...P, maxDet: 1 }).length, 1);
  });

  test('v5: score is objectness times class probability', () => {
    const data = Float32Array.from([50, 50, 10, 10, 0.5, 0.4, 0.6, 80, 80, 10, 10, 0.2, 1, 0]);
    const d = decodeYoloV5(data, 0, 2, 7, P);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.classId, 1);
    assert.ok(Math.abs(d[0]!.score - 0.3) < 1e-6);
  });

  test('end-to-end [K, 6]: corners as given, no NMS, sorted by score', () => {
    const data = Float32Array.from([1, 2, 3, 4, 0.5, 1, 5, 6, 7, 8, 0.9, 0, 0, 0, 1, 1, 0.1, 0]);
    const d = decodeYoloEndToEnd(data, 0, 3, P);
    assert.deepEqual(
      d.map((x) => [x.x1, x.y1, x.x2, x.y2, x.classId]),
      [
        [5, 6, 7, 8, 0],
        [1, 2, 3, 4, 1],
      ],
    );
  });
});

describe('SSD and classifier decoders', () => {
  test('SSD: normalised ymin, xmin, ymax, xmax → input pixels; num_detections bounds the rows', () => {
    const boxes = Float32Array.from([0.25, 0.25, 0.75, 0.5, 0, 0, 1, 1]);
    const d = decodeSsd(boxes, Float32Array.from([0.9, 0.9]), Float32Array.from([1, 2]), 1, 0, 2, 300, 300, P);
    assert.deepEqual(
      d.map((x) => [x.x1, x.y1, x.x2, x.y2, x.classId]),
      [[75, 75, 150, 225, 1]],
    );
  });

  test('classifier: logits get a softmax; probabilities stay as they are; top-k best first', () => {
    const logits = decodeClassifier(Float32Array.from([1, 3, 2]), 0, 3, { ...P, minScore: 0, topK: 2 });
    assert.deepEqual(
      logits.map((l) => l.classId),
      [1, 2],
    );
    assert.ok(Math.abs(logits[0]!.score - Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2))) < 1e-6);
    const probs = decodeClassifier(Float32Array.from([0.2, 0.7, 0.1]), 0, 3, { ...P, minScore: 0, topK: 1 });
    assert.ok(Math.abs(probs[0]!.score - 0.7) < 1e-6);
  });

  test('NMS leaves boxes of other classes alone', () => {
    const box = { x1: 0, y1: 0, x2: 10, y2: 10 };
    assert.equal(
      nmsPerClass(
        [
          { ...box, score: 0.9, classId: 0 },
          { ...box, score: 0.8, classId: 1 },
        ],
        0.5,
        10,
      ).length,
      2,
    );
  });
});

describe('letterbox undo', () => {
  test('input pixels map back to frame pixels (640x480 into 640x640: 80 px bars)', () => {
    const t = transformFor(640, 480, { width: 640, height: 640, resize: 'letterbox' });
    assert.deepEqual(boxToFrame(100, 180, 200, 280, t, 640, 480), { x: 100, y: 100, w: 100, h: 100 });
  });
  test('boxes are clamped to the frame', () => {
    const t = transformFor(640, 480, { width: 64, height: 64, resize: 'letterbox' });
    assert.deepEqual(boxToFrame(-10, 0, 70, 80, t, 640, 480), { x: 0, y: 0, w: 640, h: 480 });
  });
});

describe('ONNX metadata and adapter detection', () => {
  test('reads metadata_props without decoding the graph', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 8, 8] }],
      outputs: [{ name: 'y', type: 'float32', shape: [1, 3, 8, 8] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      metadata: { names: "{0: 'person', 1: \"it's\"}", task: 'detect' },
    });
    const meta = readOnnxMetadata(bytes);
    assert.equal(meta.task, 'detect');
    assert.deepEqual(parseClassNames(meta.names!), ['person', "it's"]);
  });

  test('class names from JSON arrays and objects; gaps get their index', () => {
    assert.deepEqual(parseClassNames('["a","b"]'), ['a', 'b']);
    assert.deepEqual(parseClassNames('{"0": "a", "2": "c"}'), ['a', '1', 'c']);
  });

  const img = [{ name: 'images', shape: ['N', 3, 640, 640], type: 'float32' }];
  test('detects each adapter from inputs, outputs and metadata', () => {
    assert.equal(detectAdapter(img, [{ name: 'output0', shape: ['N', 84, 8400], type: 'float32' }], {}), 'yolo');
    assert.equal(detectAdapter(img, [{ name: 'logits', shape: ['N', 1000], type: 'float32' }], {}), 'classifier');
    assert.equal(detectAdapter(img, [{ name: 'output0', shape: ['N', 1000], type: 'float32' }], { task: 'detect' }), 'yolo');
    assert.equal(
      detectAdapter(
        img,
        ['detection_boxes', 'detection_scores', 'detection_classes'].map((name) => ({ name, shape: ['N', 100], type: 'float32' })),
        {},
      ),
      'ssd',
    );
    assert.equal(
      detectAdapter(
        [{ name: 'input:0', shape: [1, 128, 128, 3], type: 'float32' }],
        ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'].map((name) => ({ name, shape: [1], type: 'float32' })),
        {},
      ),
      'blazeface',
    );
  });

  test('when several adapters fit, the surer evidence wins: signature > metadata > output names > output shape', () => {
    const ssdOutputs = ['detection_boxes', 'detection_scores', 'detection_classes'].map((name) => ({ name, shape: ['N', 100], type: 'float32' }));
    assert.equal(detectAdapter(img, ssdOutputs, { task: 'detect' }), 'yolo', 'metadata over output names');
    assert.equal(detectAdapter(img, ssdOutputs, { task: 'classify' }), 'classifier');
    // One rank-2 output named like boxes and scores: the names outrank the shape (which says classifier).
    assert.equal(detectAdapter(img, [{ name: 'boxes_scores', shape: ['N', 1000], type: 'float32' }], {}), 'ssd');
    const blaze = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'].map((name) => ({ name, shape: [1], type: 'float32' }));
    assert.equal(detectAdapter([{ name: 'input:0', shape: [1, 128, 128, 3], type: 'float32' }], blaze, { task: 'classify' }), 'blazeface');
  });

  test('an unrecognisable model gets an error that names --adapter', () => {
    assert.throws(
      () =>
        detectAdapter(
          img,
          [
            { name: 'a', shape: [1], type: 'float32' },
            { name: 'b', shape: [1], type: 'float32' },
          ],
          {},
          'x.onnx',
        ),
      /--adapter/,
    );
  });
});

describe('parseModelArg', () => {
  test('path, name=path and @adapter', () => {
    assert.deepEqual(parseModelArg('./models/best.onnx'), { name: 'best', file: './models/best.onnx', adapter: undefined, labels: undefined });
    assert.equal(parseModelArg('cars=/m/x.onnx@ssd').adapter, 'ssd');
    assert.equal(parseModelArg('cars=/m/x.onnx@ssd').name, 'cars');
    assert.throws(() => parseModelArg('bad name=/x.onnx'), /model name/);
  });
});

describe('BatchQueue', () => {
  test('takes round-robin across sessions, oldest first, so a busy session cannot starve the others', () => {
    const q = new BatchQueue<string>();
    q.push('a', 'a1', 1);
    q.push('a', 'a2', 2);
    q.push('a', 'a3', 3);
    q.push('b', 'b1', 4);
    q.push('c', 'c1', 5);
    assert.deepEqual(q.take(3), ['a1', 'b1', 'c1']);
    assert.deepEqual(q.take(3), ['a2', 'a3']);
    assert.equal(q.size, 0);
    assert.equal(q.oldest(), undefined);
  });
  test('oldest() and drain()', () => {
    const q = new BatchQueue<number>();
    q.push('x', 1, 10);
    q.push('y', 2, 5);
    assert.equal(q.oldest(), 5);
    assert.deepEqual(q.drain().sort(), [1, 2]);
    assert.equal(q.size, 0);
  });
});
