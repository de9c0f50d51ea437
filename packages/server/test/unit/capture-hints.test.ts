import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureHintFor, CaptureHintTracker, type HintInputs } from '../../src/session/capture-hints.js';

const face: HintInputs = { need: { width: 256, height: 256, fit: 'contain', maxFps: 30 }, keyMaxFps: undefined, limitSize: true };
const classifier: HintInputs = { need: { width: 224, height: 224, fit: 'cover' }, keyMaxFps: undefined, limitSize: true };
const none: HintInputs = { need: undefined, keyMaxFps: undefined, limitSize: true };

describe('captureHintFor', () => {
  test('a letterboxing model: the picture fits in its input (640x480 → 256x192, 1280x720 → 256x144)', () => {
    assert.deepEqual(captureHintFor(face, 640 / 480), { type: 'capture_hint', max_width: 256, max_height: 192, max_fps: 30 });
    assert.deepEqual(captureHintFor(face, 1280 / 720), { type: 'capture_hint', max_width: 256, max_height: 144, max_fps: 30 });
    assert.deepEqual(captureHintFor(face, 480 / 640), { type: 'capture_hint', max_width: 192, max_height: 256, max_fps: 30 });
  });

  test('a stretching model: the picture covers its input (640x480 → 299x224, portrait 224x299)', () => {
    assert.deepEqual(captureHintFor(classifier, 640 / 480), { type: 'capture_hint', max_width: 299, max_height: 224, max_fps: null });
    assert.deepEqual(captureHintFor(classifier, 480 / 640), { type: 'capture_hint', max_width: 224, max_height: 299, max_fps: null });
  });

  test('no need: no limit; the key fps cap alone still limits fps; the lower of two fps caps wins', () => {
    assert.deepEqual(captureHintFor(none, 4 / 3), { type: 'capture_hint', max_width: null, max_height: null, max_fps: null });
    assert.deepEqual(captureHintFor({ ...none, keyMaxFps: 5 }, 4 / 3).max_fps, 5);
    assert.equal(captureHintFor({ ...face, keyMaxFps: 12 }, 4 / 3).max_fps, 12);
    assert.equal(captureHintFor({ ...face, keyMaxFps: 60 }, 4 / 3).max_fps, 30);
  });

  test('video sent back (mode video/both): size is not limited, fps still is', () => {
    assert.deepEqual(captureHintFor({ ...face, limitSize: false }, 4 / 3), { type: 'capture_hint', max_width: null, max_height: null, max_fps: 30 });
  });
});

describe('CaptureHintTracker', () => {
  test('nothing before the first frame; the first frame gives the hint', () => {
    const t = new CaptureHintTracker();
    assert.equal(t.onInputs(face), undefined);
    assert.deepEqual(t.onFrame(640, 480, face), { type: 'capture_hint', max_width: 256, max_height: 192, max_fps: 30 });
    assert.deepEqual(t.current?.max_width, 256);
  });

  test('frames that shrank because the client followed the hint change nothing (no feedback loop)', () => {
    const t = new CaptureHintTracker();
    t.onFrame(1920, 1080, classifier);
    // The encoder rounds: 398x222 is within 5% of 16:9, so the hint stays as it was.
    assert.equal(t.onFrame(398, 222, classifier), undefined);
    assert.equal(t.onFrame(398, 224, classifier), undefined);
    assert.equal(t.onFrame(1920, 1080, classifier), undefined);
  });

  test('a rotated picture (aspect change) gets a new hint', () => {
    const t = new CaptureHintTracker();
    t.onFrame(640, 480, face);
    assert.deepEqual(t.onFrame(480, 640, face), { type: 'capture_hint', max_width: 192, max_height: 256, max_fps: 30 });
  });

  test('a processor that needs more lifts the limit; the same inputs again send nothing', () => {
    const t = new CaptureHintTracker();
    t.onFrame(640, 480, face);
    assert.deepEqual(t.onInputs(none), { type: 'capture_hint', max_width: null, max_height: null, max_fps: null });
    assert.equal(t.onInputs(none), undefined);
    assert.equal(t.onFrame(640, 480, none), undefined);
    assert.equal(t.onFrame(640, 480, { ...none, keyMaxFps: 10 })?.max_fps, 10);
  });
});
