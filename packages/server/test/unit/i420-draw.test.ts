import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { drawBoxesI420, OVERLAY_GREEN } from '../../src/models/i420-draw.js';
import { i420Size } from '../../src/models/i420.js';

describe('drawBoxesI420', () => {
  const frame = () => ({ width: 64, height: 48, data: new Uint8Array(i420Size(64, 48)).fill(16) });

  test('draws the outline in luma and chroma, leaves the inside and outside alone', () => {
    const f = frame();
    drawBoxesI420(f, [[10, 10, 20, 20]], OVERLAY_GREEN, 2);
    const Y = (x: number, y: number) => f.data[y * 64 + x];
    assert.equal(Y(10, 10), OVERLAY_GREEN.y);
    assert.equal(Y(29, 20), OVERLAY_GREEN.y);
    assert.equal(Y(20, 20), 16, 'inside untouched');
    assert.equal(Y(5, 5), 16, 'outside untouched');
    const u = f.data[64 * 48 + (10 >> 1) * 32 + (10 >> 1)];
    assert.equal(u, OVERLAY_GREEN.u);
  });

  test('clips boxes that leave the frame and ignores empty ones', () => {
    const f = frame();
    drawBoxesI420(f, [
      [50, 40, 100, 100],
      [0, 0, 0, 5],
    ]);
    assert.equal(f.data[40 * 64 + 63], OVERLAY_GREEN.y);
    assert.equal(f.data.length, i420Size(64, 48));
  });
});
