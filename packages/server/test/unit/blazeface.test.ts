import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BlazeFaceModel } from '../../src/models/blazeface/blazeface-model.js';
import { blazeFaceAnchors } from '../../src/models/blazeface/anchors.js';
import { weightedNms } from '../../src/models/blazeface/decode.js';
import { i420Size, i420ToNhwcLetterboxed, letterboxFor, rgbaToI420 } from '../../src/models/i420.js';
import { BUILTIN_MODELS } from '../../src/models/model-catalog.js';
import { iou, readPng, readPngAsI420 } from '../helpers/images.js';
import { ASTRONAUT_FACE, astronautPng } from '../helpers/paths.js';

const fileOf = (name: string): string => BUILTIN_MODELS.find((m) => m.name === name)!.file;

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
      const model = await BlazeFaceModel.load(fileOf(`blazeface-${variant}`), variant);
      try {
        const faces = await model.detect(readPngAsI420(astronautPng), 0.5);
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
    const model = await BlazeFaceModel.load(fileOf('blazeface-back'), 'back');
    try {
      const faces = await model.detect(frame, 0.5);
      assert.equal(faces.length, 1);
      const shifted = { ...ASTRONAUT_FACE, x: ASTRONAUT_FACE.x + 100, y: ASTRONAUT_FACE.y + 40 };
      assert.ok(iou(faces[0]!, shifted) >= 0.5, JSON.stringify(faces[0]));
    } finally {
      await model.close();
    }
  });

  test('min_score 1 leaves no face', async () => {
    const model = await BlazeFaceModel.load(fileOf('blazeface-front'), 'front');
    try {
      assert.deepEqual(await model.detect(readPngAsI420(astronautPng), 1), []);
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

  test('letterbox centres a landscape frame vertically', () => {
    assert.deepEqual(letterboxFor(640, 480, 256), { scale: 0.4, padX: 0, padY: 32 });
  });

  test('a mid-grey frame becomes ~0 in [-1, 1] and padding holds the pad value', () => {
    const rgba = new Uint8Array(64 * 32 * 4).fill(128);
    const frame = rgbaToI420(rgba, 64, 32);
    const out = new Float32Array(16 * 16 * 3);
    i420ToNhwcLetterboxed(frame, 16, out, -1, 1, -5);
    assert.equal(out[0], -5); // top padding row
    const mid = out[(8 * 16 + 8) * 3]!;
    assert.ok(Math.abs(mid) < 0.02, String(mid));
  });

  test('pure red survives the round trip RGB → I420 → RGB tensor', () => {
    const rgba = new Uint8Array(16 * 16 * 4);
    for (let i = 0; i < 256; i++) rgba.set([255, 0, 0, 255], i * 4);
    const out = new Float32Array(16 * 16 * 3);
    i420ToNhwcLetterboxed(rgbaToI420(rgba, 16, 16), 16, out, 0, 255);
    const [r, g, b] = [out[0]!, out[1]!, out[2]!];
    assert.ok(r > 240 && g < 15 && b < 15, `${r},${g},${b}`);
  });
});
