import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LatestFrameSlot } from '../../src/pipeline/latest-frame-slot.js';

describe('LatestFrameSlot', () => {
  test('offer() starts an item at once when idle', () => {
    const slot = new LatestFrameSlot<number>();
    assert.deepEqual(slot.offer(1), { start: 1 });
    assert.equal(slot.busy, true);
    assert.equal(slot.dropped, 0);
  });

  test('a newer item replaces the waiting one, which is counted as dropped', () => {
    const slot = new LatestFrameSlot<number>();
    slot.offer(1);
    assert.deepEqual(slot.offer(2), {});
    assert.deepEqual(slot.offer(3), { dropped: 2 });
    assert.deepEqual(slot.offer(4), { dropped: 3 });
    assert.equal(slot.dropped, 2);
    assert.equal(slot.complete(), 4);
    assert.equal(slot.busy, true);
    assert.equal(slot.complete(), undefined);
    assert.equal(slot.busy, false);
  });

  test('never holds more than one waiting item, however many arrive', () => {
    const slot = new LatestFrameSlot<number>();
    slot.offer(0);
    for (let i = 1; i <= 10_000; i++) slot.offer(i);
    assert.equal(slot.dropped, 9_999);
    assert.equal(slot.complete(), 10_000);
    assert.equal(slot.complete(), undefined);
  });

  test('every offered item is started or dropped (nothing lost)', () => {
    const slot = new LatestFrameSlot<number>();
    let started = 0;
    for (let i = 0; i < 1000; i++) {
      if (slot.offer(i).start !== undefined) started++;
      if (i % 3 === 0 && slot.complete() !== undefined) started++;
    }
    while (slot.complete() !== undefined) started++;
    assert.equal(started + slot.dropped, 1000);
  });

  test('clear() drops the waiting item and goes idle', () => {
    const slot = new LatestFrameSlot<number>();
    slot.offer(1);
    slot.offer(2);
    assert.equal(slot.clear(), 2);
    assert.equal(slot.dropped, 1);
    assert.equal(slot.busy, false);
    assert.deepEqual(slot.offer(5), { start: 5 });
  });
});
