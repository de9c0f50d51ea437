import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNewerSeq, seqDelta, SequenceUnwrapper } from '../src/rtp/sequence-number.js';

describe('seqDelta', () => {
  test('counts across the 65535 → 0 wrap', () => {
    assert.equal(seqDelta(0, 65535), 1);
    assert.equal(seqDelta(65535, 0), -1);
    assert.equal(seqDelta(5, 65530), 11);
    assert.equal(seqDelta(100, 100), 0);
  });
  test('half the circle away counts as behind', () => {
    assert.equal(seqDelta(32767, 0), 32767);
    assert.equal(seqDelta(32768, 0), -32768);
  });
  test('isNewerSeq', () => {
    assert.equal(isNewerSeq(0, 65535), true);
    assert.equal(isNewerSeq(65535, 0), false);
    assert.equal(isNewerSeq(7, 7), false);
  });
});

describe('SequenceUnwrapper', () => {
  test('extends past the wrap: 65534, 65535, 0, 1 → 65534..65537', () => {
    const u = new SequenceUnwrapper();
    assert.deepEqual(
      [65534, 65535, 0, 1].map((s) => u.push(s)),
      [
        { kind: 'first', ext: 65534 },
        { kind: 'forward', ext: 65535, gap: 0 },
        { kind: 'forward', ext: 65536, gap: 0 },
        { kind: 'forward', ext: 65537, gap: 0 },
      ],
    );
    assert.equal(u.highestExt, 65537);
  });

  test('a reordered packet from before the wrap stays behind', () => {
    const u = new SequenceUnwrapper();
    u.push(65534);
    assert.deepEqual(u.push(1), { kind: 'forward', ext: 65537, gap: 2 });
    assert.deepEqual(u.push(65535), { kind: 'backward', ext: 65535 });
    assert.deepEqual(u.push(0), { kind: 'backward', ext: 65536 });
  });

  test('a jump forward beyond maxDropout restarts at once', () => {
    const u = new SequenceUnwrapper({ maxDropout: 100 });
    u.push(10);
    assert.deepEqual(u.push(110), { kind: 'forward', ext: 110, gap: 99 });
    assert.deepEqual(u.push(211), { kind: 'restart', ext: 211 });
    assert.deepEqual(u.push(212), { kind: 'forward', ext: 212, gap: 0 });
  });

  test('one packet far behind is a stray; the next in line after it restarts', () => {
    const u = new SequenceUnwrapper({ maxMisorder: 50 });
    u.push(1000);
    assert.deepEqual(u.push(950), { kind: 'backward', ext: 950 });
    assert.deepEqual(u.push(900), { kind: 'stray' });
    assert.deepEqual(u.push(901), { kind: 'restart', ext: 901 });
    assert.deepEqual(u.push(902), { kind: 'forward', ext: 902, gap: 0 });
  });

  test('a stray followed by the normal stream does not restart later', () => {
    const u = new SequenceUnwrapper({ maxMisorder: 50 });
    u.push(1000);
    assert.deepEqual(u.push(900), { kind: 'stray' });
    assert.deepEqual(u.push(1001), { kind: 'forward', ext: 1001, gap: 0 });
    assert.deepEqual(u.push(901), { kind: 'stray' });
  });
});
