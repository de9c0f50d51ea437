import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NackTracker } from '../src/rtp/nack-tracker.js';
import { buildNack, packNack } from '../src/rtp/rtcp.js';

const quiet = { nack: [], gaveUp: [], requestKeyframe: false };

describe('NackTracker', () => {
  test('nothing missing: nothing to ask', () => {
    const t = new NackTracker();
    for (let s = 0; s < 5; s++) t.onPacket(s, s);
    assert.deepEqual(t.poll(1000), quiet);
    assert.equal(t.nextDeadlineMs(), undefined);
  });

  test('asks after the reorder delay, then every retry interval, and stops when the packet comes', () => {
    const t = new NackTracker({ reorderDelayMs: 10, retryIntervalMs: 100 });
    t.onPacket(100, 0);
    t.onPacket(101, 0);
    t.onPacket(103, 0);
    assert.equal(t.size, 1);
    assert.equal(t.nextDeadlineMs(), 10);
    assert.deepEqual(t.poll(9), quiet, 'not before the reorder delay');
    assert.deepEqual(t.poll(10).nack, [102]);
    assert.deepEqual(t.poll(109), quiet, 'not again within one interval');
    assert.deepEqual(t.poll(110).nack, [102], 'retry after one interval');
    assert.equal(t.onPacket(102, 150), true, 'the retransmission fills the gap');
    assert.deepEqual(t.poll(1000), quiet);
    assert.deepEqual(t.counters, { requested: 2, recovered: 1, gaveUp: 0, resets: 0 });
  });

  test('a packet that was only reordered is never asked for', () => {
    const t = new NackTracker({ reorderDelayMs: 10 });
    t.onPacket(1, 0);
    t.onPacket(3, 1);
    assert.equal(t.onPacket(2, 5), true);
    assert.deepEqual(t.poll(20), quiet);
    assert.equal(t.counters.requested, 0);
  });

  test('gives up after maxRetries, one interval after the last NACK, and asks for a keyframe', () => {
    const t = new NackTracker({ reorderDelayMs: 10, retryIntervalMs: 100, maxRetries: 3, maxAgeMs: 10_000 });
    t.onPacket(1, 0);
    t.onPacket(3, 0);
    const asked = [10, 110, 210].map((now) => t.poll(now).nack);
    assert.deepEqual(asked, [[2], [2], [2]]);
    assert.deepEqual(t.poll(309), quiet);
    assert.deepEqual(t.poll(310), { nack: [], gaveUp: [2], requestKeyframe: true });
    assert.equal(t.size, 0);
    assert.equal(t.onPacket(2, 400), false, 'too late: no longer tracked');
  });

  test('gives up once a packet is missing for maxAgeMs, whatever the retries', () => {
    const t = new NackTracker({ reorderDelayMs: 10, retryIntervalMs: 100, maxRetries: 100, maxAgeMs: 150 });
    t.onPacket(1, 0);
    t.onPacket(3, 0);
    assert.deepEqual(t.poll(10).nack, [2]);
    assert.equal(t.nextDeadlineMs(), 110);
    assert.deepEqual(t.poll(110).nack, [2]);
    assert.equal(t.nextDeadlineMs(), 150);
    assert.deepEqual(t.poll(150), { nack: [], gaveUp: [2], requestKeyframe: true });
  });

  test('across the 65535 → 0 wrap, oldest first, and packs into one NACK item', () => {
    const t = new NackTracker({ reorderDelayMs: 0 });
    t.onPacket(65534, 0);
    t.onPacket(1, 0);
    const { nack } = t.poll(0);
    assert.deepEqual(nack, [65535, 0]);
    assert.deepEqual(packNack(nack), [{ pid: 65535, blp: 0b1 }]);
    assert.deepEqual([...buildNack({ senderSsrc: 1, mediaSsrc: 2, seqs: nack }).subarray(12)], [0xff, 0xff, 0x00, 0x01]);
  });

  test('the retry interval follows setRetryIntervalMs', () => {
    const t = new NackTracker({ reorderDelayMs: 0, retryIntervalMs: 100 });
    t.onPacket(1, 0);
    t.onPacket(3, 0);
    t.poll(0);
    t.setRetryIntervalMs(30);
    t.poll(100); // second NACK, scheduled with the old interval
    assert.equal(t.nextDeadlineMs(), 130);
  });

  test('tracks at most maxTracked: the oldest are given up on', () => {
    const t = new NackTracker({ reorderDelayMs: 0, maxTracked: 5 });
    t.onPacket(10, 0);
    t.onPacket(19, 0); // 11..18 missing: 8
    assert.equal(t.size, 5);
    assert.equal(t.nextDeadlineMs(), 0);
    assert.deepEqual(t.poll(0), { nack: [14, 15, 16, 17, 18], gaveUp: [11, 12, 13], requestKeyframe: true });
    t.onPacket(22, 1); // 20, 21 missing: 14 and 15 go
    assert.deepEqual(t.poll(1).gaveUp, [14, 15]);
    assert.equal(t.size, 5);
  });

  test('a new stream (a jump beyond maxDropout) forgets the old gaps', () => {
    const t = new NackTracker({ reorderDelayMs: 0, maxDropout: 3000 });
    t.onPacket(1, 0);
    t.onPacket(3, 0);
    t.onPacket(20_000, 1);
    assert.equal(t.size, 0);
    assert.deepEqual(t.poll(5), quiet);
    assert.equal(t.counters.resets, 1);
  });

  test('duplicates and old packets change nothing', () => {
    const t = new NackTracker({ reorderDelayMs: 0 });
    t.onPacket(1, 0);
    t.onPacket(3, 0);
    assert.equal(t.onPacket(3, 1), false);
    assert.equal(t.onPacket(1, 1), false);
    assert.deepEqual(t.poll(2).nack, [2]);
  });
});
