import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SendTimeTracker } from '../src/send-time-tracker.js';

describe('SendTimeTracker', () => {
  test('a result with rtp_timestamp is matched to the frame sent with it, whatever was lost before it', () => {
    const t = new SendTimeTracker();
    for (let k = 0; k < 5; k++) t.record(1000 + k * 33, 90_000 + k * 3000);
    // Frame 1 was lost: counting would give frame 2's result the send time of frame 1.
    assert.deepEqual(t.takeByRtp(90_000 + 2 * 3000), { at: 1066, rtp: 96_000 });
    assert.equal(t.takeByRtp(96_000), undefined, 'taken once');
    assert.equal(t.take(2), undefined, 'gone from the index too');
    assert.deepEqual(t.take(3), { at: 1099, rtp: 99_000 });
    assert.equal(t.takeByRtp(99_000), undefined);
    assert.equal(t.takeByRtp(12345), undefined);
  });

  test('remembers at most MAX_REMEMBERED frames, by index and by RTP timestamp', () => {
    const t = new SendTimeTracker();
    for (let k = 0; k < SendTimeTracker.MAX_REMEMBERED + 10; k++) t.record(k, k * 3000);
    assert.equal(t.takeByRtp(0), undefined);
    assert.equal(t.take(5), undefined);
    assert.ok(t.takeByRtp(SendTimeTracker.MAX_REMEMBERED * 3000));
  });
});
