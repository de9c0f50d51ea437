import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReceiveStats } from '../src/rtp/receive-stats.js';
import { buildReceiverReport, parseRtcp } from '../src/rtp/rtcp.js';

const SSRC = 0xcafe0001;

/** Feeds packets at 30 fps-like spacing (3000 ticks, 33 ms) with no jitter unless the test says otherwise. */
function feed(stats: ReceiveStats, seqs: number[]): void {
  for (const s of seqs) stats.onPacket(s, s * 3000, s * (100 / 3));
}

describe('ReceiveStats: sequence and loss (RFC 3550 §A.1, §A.3)', () => {
  test('no report before the first packet', () => {
    assert.equal(new ReceiveStats(SSRC, 90000).reportBlock(0), undefined);
  });

  test('all received: nothing lost', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rb = stats.reportBlock(400)!;
    assert.equal(rb.ssrc, SSRC);
    assert.equal(rb.extendedHighestSeq, 9);
    assert.equal(rb.cumulativeLost, 0);
    assert.equal(rb.fractionLost, 0);
  });

  test('2 of 10 lost: fraction 2·256/10 = 51; the next interval starts afresh, the total stays', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 2, 5, 6, 7, 8, 9]);
    const first = stats.reportBlock(400)!;
    assert.equal(first.cumulativeLost, 2);
    assert.equal(first.fractionLost, 51);
    feed(stats, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const second = stats.reportBlock(800)!;
    assert.equal(second.cumulativeLost, 2);
    assert.equal(second.fractionLost, 0);
    feed(stats, [20, 23]); // 2 lost of 4 expected: 128
    assert.equal(stats.reportBlock(1000)!.fractionLost, 128);
  });

  test('a late retransmission repairs the loss it was counted in', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 3]);
    stats.onPacket(2, 6000, 200, true);
    assert.equal(stats.cumulativeLost, 0);
  });

  test('duplicates count as received (RFC 3550): cumulative lost goes negative, fraction stays 0', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 1, 2]);
    const rb = stats.reportBlock(100)!;
    assert.equal(rb.cumulativeLost, -1);
    assert.equal(rb.fractionLost, 0);
  });

  test('the extended highest sequence number counts wraps in its upper 16 bits', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    for (const s of [65533, 65534, 65535, 0, 2]) stats.onPacket(s, 0, 0);
    const rb = stats.reportBlock(0)!;
    assert.equal(rb.extendedHighestSeq, 0x00010002);
    assert.equal(rb.cumulativeLost, 1, 'seq 1 is missing after the wrap');
    assert.equal(rb.fractionLost, Math.floor(256 / 6));
  });

  test('a new sequence (jump beyond maxDropout) restarts the counts', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 3]);
    for (const s of [20000, 20001, 20002]) stats.onPacket(s, 0, 0);
    const rb = stats.reportBlock(0)!;
    assert.equal(rb.cumulativeLost, 0);
    assert.equal(rb.extendedHighestSeq, 20002);
    assert.equal(stats.packetsReceived, 3);
  });
});

describe('ReceiveStats: interarrival jitter (RFC 3550 §A.8)', () => {
  test('steady arrival at the media rate: zero', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 2, 3, 4, 5]);
    assert.equal(stats.jitter, 0);
  });

  test('J += (|D| − J)/16, by hand', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    stats.onPacket(0, 0, 0);
    // 40 ms = 3600 ticks for 3000 ticks of media: D = 600, J = 600/16 = 37.5.
    stats.onPacket(1, 3000, 40);
    assert.equal(stats.jitter, 38);
    // 20 ms = 1800 ticks for 3000: |D| = 1200, J = 37.5 + (1200 − 37.5)/16 = 110.15625.
    stats.onPacket(2, 6000, 60);
    assert.equal(stats.jitter, 110);
    assert.equal(stats.reportBlock(60)!.jitter, 110);
  });

  test('the RTP timestamp wrapping at 2^32 is not a jump', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    stats.onPacket(0, 0xffffffff - 2999, 0);
    stats.onPacket(1, 0, 100 / 3); // 3000 ticks later, across the wrap
    assert.equal(stats.jitter, 0);
  });

  test('retransmissions do not feed the jitter', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0, 1, 3]);
    stats.onPacket(2, 6000, 300, true); // arrives 233 ms late: a round trip, not jitter
    stats.onPacket(4, 12000, 400 / 3);
    assert.equal(stats.jitter, 0);
  });

  test('uses the clock rate given (48 kHz audio)', () => {
    const stats = new ReceiveStats(SSRC, 48000);
    stats.onPacket(0, 0, 0);
    stats.onPacket(1, 960, 30); // 20 ms of audio arriving after 30 ms: D = 480, J = 30
    assert.equal(stats.jitter, 30);
  });
});

describe('ReceiveStats: LSR and DLSR', () => {
  test('no SR yet: both 0', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0]);
    const rb = stats.reportBlock(100)!;
    assert.equal(rb.lastSr, 0);
    assert.equal(rb.delaySinceLastSr, 0);
  });

  test('LSR from the last SR’s NTP time, DLSR in 1/65536 s since it arrived', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [0]);
    stats.onSenderReport({ ntpSeconds: 0x11121418, ntpFraction: 0x22242628 }, 1000);
    const rb = stats.reportBlock(1500)!;
    assert.equal(rb.lastSr, 0x14182224);
    assert.equal(rb.delaySinceLastSr, 32768, '0.5 s');
  });

  test('feeds a receiver report that parses back to the same block', () => {
    const stats = new ReceiveStats(SSRC, 90000);
    feed(stats, [65535, 0, 2]);
    stats.onSenderReport({ ntpSeconds: 0xe5f1_0000, ntpFraction: 0x8000_0000 }, 10);
    const rb = stats.reportBlock(260)!;
    assert.deepEqual(parseRtcp(buildReceiverReport({ ssrc: 1, reports: [rb] })), [{ type: 'rr', ssrc: 1, reports: [rb] }]);
    assert.deepEqual(rb, {
      ssrc: SSRC,
      fractionLost: 64,
      cumulativeLost: 1,
      extendedHighestSeq: 0x10002,
      jitter: rb.jitter,
      lastSr: 0x00008000,
      delaySinceLastSr: 16384,
    });
  });
});
