import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameNumbering } from '../src/rtp/frame-numbering.js';

/** Numbers for frames `[timestamp, lossBefore?]`. */
const numbers = (frames: Array<number | [number, boolean]>): number[] => {
  const n = new FrameNumbering();
  return frames.map((f) => (Array.isArray(f) ? n.numberFor(f[0], f[1]) : n.numberFor(f, false)));
};

describe('frame numbers from RTP timestamps and packet loss', () => {
  test('a steady sender gets 0, 1, 2, … from any starting timestamp, across the 32-bit wrap', () => {
    const start = 0xffffffff - 3000 * 2;
    assert.deepEqual(numbers([0, 1, 2, 3, 4, 5].map((k) => (start + k * 3000) >>> 0)), [0, 1, 2, 3, 4, 5]);
  });

  test('without loss, each frame is the next number whatever the timestamp distance (jitter, rate changes)', () => {
    assert.deepEqual(numbers([1000, 4100, 6900, 10050, 13000]), [0, 1, 2, 3, 4]);
    assert.deepEqual(numbers([0, 3000, 6000, 12000, 18000, 24000, 27000]), [0, 1, 2, 3, 4, 5, 6]);
  });

  test('after a loss, whole frames missing are counted by the learned interval', () => {
    // Frame 3 (ts 10000) lost entirely.
    assert.deepEqual(numbers([1000, 4000, 7000, [13000, true], 16000, 19000]), [0, 1, 2, 4, 5, 6]);
    // Two lost in a row.
    assert.deepEqual(numbers([0, 3000, 6000, 9000, [18000, true], 21000]), [0, 1, 2, 3, 6, 7]);
    // Packets of the frame itself lost (it is still numbered, as the next one).
    assert.deepEqual(numbers([0, 3000, [6000, true], 9000]), [0, 1, 2, 3]);
    // At 15 fps (learned), a 6000 gap after a loss is one frame, not two.
    assert.deepEqual(numbers([0, 6000, 12000, 18000, [24000, true], 30000]), [0, 1, 2, 3, 4, 5]);
  });

  test('the same timestamp keeps its number; a restarted sender clock does not go backwards', () => {
    assert.deepEqual(numbers([0, 3000, 3000, 6000]), [0, 1, 1, 2]);
    assert.deepEqual(numbers([90_000, 93_000, 5, 3005]), [0, 1, 2, 3]);
  });
});
