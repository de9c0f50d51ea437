import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OnnxModel } from '../../src/models/adapters/onnx-model.js';
import { blazeFaceAnchors } from '../../src/models/blazeface/anchors.js';
import { weightedNms } from '../../src/models/blazeface/decode.js';
import { DEFAULT_DECODE } from '../../src/models/detections.js';
import { i420Size, rgbaToI420, type I420Frame } from '../../src/models/i420.js';
import { BUILTIN_MODELS } from '../../src/models/model-catalog.js';
import { i420ToTensor, transformFor } from '../../src/models/preprocess.js';
import { iou, readPng, readPngAsI420 } from '../helpers/images.js';
import { ASTRONAUT_FACE, astronautPng } from '../helpers/paths.js';

const load = (name: string): Promise<OnnxModel> =>
  OnnxModel.load(
    BUILTIN_MODELS.find((m) => m.name === name)!,
    { device: 'cpu', intraOpNumThreads: 1, maxBatch: 1 },
  );
const detect = async (model: OnnxModel, frame: I420Frame, minScore: number) =>
  (await model.run([{ frame, params: { ...DEFAULT_DECODE, minScore } }]))[0]!.detections;

describe('BlazeFace', () => {
  test('anchors: 896, 16x16x2 then 8x8x6, centred in their cells', () => {
    const a = blazeFaceAnchors();
    assert.equal(a.length, 896);
    assert.deepEqual(a[0], { cx: 0.5 / 16, cy: 0.5 / 16 });
    assert.deepEqual(a[1], a[0]);
    assert.deepEqual(a[512], { cx: 0.5 / 8, cy: 0.5 / 8 });
    assert.deepEqual(a[895], { cx: 7.5 / 8, cy: 7.5 / 8 });
  });

  test('weighted NMS merges overlapping boxes into their score-weighted mean', () => {
    const out = weightedNms(
      [
        { x: 0, y: 0, w: 10, h: 10, score: 0.9 },
        { x: 1, y: 1, w: 10, h: 10, score: 0.3 },
        { x: 50, y: 50, w: 10, h: 10, score: 0.8 },
      ],
      0.3,
    );
    assert.equal(out.length, 2);
    assert.equal(out[0]!.score, 0.9);
    assert.ok(Math.abs(out[0]!.x - 0.25) < 1e-9);
    assert.equal(out[1]!.x, 50);
  });

  for (const variant of ['back', 'front'] as const) {
    test(`${variant} model finds the one face in astronaut.png (IoU ≥ 0.5 with the hand-measured box)`, async () => {
      const model = await load(`blazeface-${variant}`);
      try {
        assert.equal(model.info.adapter, 'blazeface');
        assert.equal(model.info.input.width, variant === 'back' ? 256 : 128);
        assert.equal(model.info.dynamicBatch, false);
        const faces = await detect(model, readPngAsI420(astronautPng), 0.5);
        assert.equal(faces[0]?.label, 'face');
        assert.equal(faces.length, 1, JSON.stringify(faces));
        const overlap = iou(faces[0]!, ASTRONAUT_FACE);
        assert.ok(overlap >= 0.5, `IoU ${overlap.toFixed(3)} for ${JSON.stringify(faces[0])}`);
        assert.ok(faces[0]!.score > 0.7);
      } finally {
        await model.close();
      }
    });
  }

  test('boxes come back in frame pixels for non-square frames (letterbox undone)', async () => {
    // astronaut.png placed at (100, 40) on a 720x600 grey canvas: the face moves by exactly that offset.
    const W = 720;
    const H = 600;
    const rgba = new Uint8Array(W * H * 4).fill(128);
    const img = readPng(astronautPng);
    for (let y = 0; y < img.height; y++) rgba.set(img.rgba.subarray(y * img.width * 4, (y + 1) * img.width * 4), ((y + 40) * W + 100) * 4);
    const frame = rgbaToI420(rgba, W, H);
    const model = await load('blazeface-back');
    try {
      const faces = await detect(model, frame, 0.5);
      assert.equal(faces.length, 1);
      const shifted = { ...ASTRONAUT_FACE, x: ASTRONAUT_FACE.x + 100, y: ASTRONAUT_FACE.y + 40 };
      assert.ok(iou(faces[0]!, shifted) >= 0.5, JSON.stringify(faces[0]));
    } finally {
      await model.close();
    }
  });

  test('min_score 1 leaves no face', async () => {
    const model = await load('blazeface-front');
    try {
      assert.deepEqual(await detect(model, readPngAsI420(astronautPng), 1), []);
    } finally {
      await model.close();
    }
  });
});

describe('I420 conversion', () => {
  test('i420Size rounds chroma up for odd sizes', () => {
    assert.equal(i420Size(640, 480), 640 * 480 * 1.5);
    assert.equal(i420Size(3, 3), 9 + 2 * 4);
  });

  test('letterbox centres a landscape frame vertically; stretch fills', () => {
    assert.deepEqual(transformFor(640, 480, { width: 256, height: 256, resize: 'letterbox' }), { scaleX: 0.4, scaleY: 0.4, padX: 0, padY: 32 });
    assert.deepEqual(transformFor(640, 480, { width: 320, height: 320, resize: 'stretch' }), { scaleX: 0.5, scaleY: 320 / 480, padX: 0, padY: 0 });
  });

  const base = { width: 16, height: 16, mean: [0, 0, 0], std: [1, 1, 1], resize: 'letterbox', pad: 114 } as const;
  const solid = (r: number, g: number, b: number, w = 16, h = 16): I420Frame => {
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([r, g, b, 255], i * 4);
    return rgbaToI420(rgba, w, h);
  };

  test('pure red survives RGB → I420 → tensor in NHWC RGB', () => {
    const out = new Float32Array(16 * 16 * 3);
    i420ToTensor(solid(255, 0, 0), { ...base, layout: 'nhwc', channels: 'rgb', dtype: 'float32' }, out);
    const [r, g, b] = [out[0]!, out[1]!, out[2]!];
    assert.ok(r > 240 && g < 15 && b < 15, `${r},${g},${b}`);
  });

  test('NCHW BGR puts blue in the first plane; normalisation applies mean and std', () => {
    const out = new Float32Array(16 * 16 * 3);
    i420ToTensor(solid(0, 0, 255), { ...base, layout: 'nchw', channels: 'bgr', dtype: 'float32', mean: [0, 0, 0], std: [255, 255, 255] }, out);
    assert.ok(out[0]! > 0.93, `B plane ${out[0]}`);
    assert.ok(out[2 * 256]! < 0.06, `R plane ${out[2 * 256]}`);
  });

  test('letterbox padding holds the pad value; uint8 tensors hold raw pixels', () => {
    const out = new Uint8Array(16 * 16 * 3);
    // A 32x16 frame letterboxed into 16x16: rows 0-3 and 12-15 are padding.
    i420ToTensor(solid(128, 128, 128, 32, 16), { ...base, layout: 'nhwc', channels: 'rgb', dtype: 'uint8' }, out);
    assert.equal(out[0], 114);
    assert.ok(Math.abs(out[(8 * 16 + 8) * 3]! - 128) <= 2, String(out[(8 * 16 + 8) * 3]));
  });

  test('batch slots do not overlap', () => {
    const out = new Float32Array(2 * 16 * 16 * 3);
    const spec = { ...base, layout: 'nchw', channels: 'rgb', dtype: 'float32' } as const;
    i420ToTensor(solid(255, 0, 0), spec, out, 0);
    i420ToTensor(solid(0, 255, 0), spec, out, 1);
    assert.ok(out[0]! > 240 && out[768 + 256]! > 240 && out[768]! < 15);
  });
});
