import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildFir,
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  buildSenderReport,
  concatRtcp,
  decodeRembBitrate,
  encodeRembBitrate,
  ntpMiddle32,
  packNack,
  parseRtcp,
  type ReportBlock,
} from '../src/rtp/rtcp.js';

// Byte vectors marked "libwebrtc" are the hand-made reference packets of libwebrtc's
// modules/rtp_rtcp/source/rtcp_packet/*_unittest.cc, all with sender SSRC 0x12345678 and remote SSRC 0x23456789.
const SENDER = 0x12345678;
const REMOTE = 0x23456789;
const senderBytes = [0x12, 0x34, 0x56, 0x78];
const remoteBytes = [0x23, 0x45, 0x67, 0x89];

const block: ReportBlock = {
  ssrc: REMOTE,
  fractionLost: 55,
  cumulativeLost: 0x111213,
  extendedHighestSeq: 0x22232425,
  jitter: 0x33343536,
  lastSr: 0x44454647,
  delaySinceLastSr: 0x55565758,
};
// libwebrtc receiver_report_unittest.cc
const rrBytes = Uint8Array.from([
  ...[0x81, 201, 0x00, 0x07, ...senderBytes, ...remoteBytes],
  ...[55, 0x11, 0x12, 0x13, 0x22, 0x23, 0x24, 0x25, 0x33, 0x34, 0x35, 0x36, 0x44, 0x45, 0x46, 0x47, 0x55, 0x56, 0x57, 0x58],
]);
// libwebrtc sender_report_unittest.cc: NTP 0x11121418.22242628, RTP timestamp 0x33343536, 0x44454647 packets,
// 0x55565758 octets.
const srBytes = Uint8Array.from([
  ...[0x80, 200, 0x00, 0x06, ...senderBytes],
  ...[0x11, 0x12, 0x14, 0x18, 0x22, 0x24, 0x26, 0x28, 0x33, 0x34, 0x35, 0x36, 0x44, 0x45, 0x46, 0x47, 0x55, 0x56, 0x57, 0x58],
]);
// libwebrtc pli_unittest.cc
const pliBytes = Uint8Array.from([0x81, 206, 0x00, 0x02, ...senderBytes, ...remoteBytes]);
// libwebrtc fir_unittest.cc: one request to 0x23456789 with sequence number 13.
const firBytes = Uint8Array.from([0x84, 206, 0x00, 0x04, ...senderBytes, 0, 0, 0, 0, ...remoteBytes, 0x0d, 0x00, 0x00, 0x00]);

describe('receiver report (RFC 3550 §6.4.2)', () => {
  test('builds the libwebrtc reference RR byte for byte', () => {
    assert.deepEqual(buildReceiverReport({ ssrc: SENDER, reports: [block] }), rrBytes);
  });
  test('parses it back', () => {
    assert.deepEqual(parseRtcp(rrBytes), [{ type: 'rr', ssrc: SENDER, reports: [block] }]);
  });
  test('an RR without report blocks is the 8-byte header', () => {
    assert.deepEqual(buildReceiverReport({ ssrc: SENDER, reports: [] }), Uint8Array.from([0x80, 201, 0x00, 0x01, ...senderBytes]));
  });
  test('cumulative lost is signed 24-bit: −5 is 0xfffffb, and it clamps', () => {
    const rr = buildReceiverReport({ ssrc: SENDER, reports: [{ ...block, fractionLost: 0, cumulativeLost: -5 }] });
    assert.deepEqual([...rr.subarray(12, 16)], [0x00, 0xff, 0xff, 0xfb]);
    assert.equal((parseRtcp(rr)![0] as { reports: ReportBlock[] }).reports[0]!.cumulativeLost, -5);
    const big = buildReceiverReport({ ssrc: SENDER, reports: [{ ...block, fractionLost: 0, cumulativeLost: 1 << 24 }] });
    assert.deepEqual([...big.subarray(12, 16)], [0x00, 0x7f, 0xff, 0xff]);
  });
  test('a count that promises more blocks than the packet holds is malformed', () => {
    const damaged = Uint8Array.from(rrBytes);
    damaged[0]!++; // RC 1 → 2
    assert.deepEqual(parseRtcp(damaged), [{ type: 'malformed', packetType: 201, fmt: 2 }]);
  });
  test('more than 31 blocks do not fit one packet', () => {
    assert.throws(() => buildReceiverReport({ ssrc: SENDER, reports: Array.from({ length: 32 }, () => block) }), RangeError);
  });
});

describe('sender report', () => {
  const sr = { ssrc: SENDER, ntpSeconds: 0x11121418, ntpFraction: 0x22242628, rtpTimestamp: 0x33343536, packetCount: 0x44454647, octetCount: 0x55565758 };
  test('parses the libwebrtc reference SR', () => {
    assert.deepEqual(parseRtcp(srBytes), [{ type: 'sr', ...sr, reports: [] }]);
  });
  test('builds it byte for byte', () => {
    assert.deepEqual(buildSenderReport({ ...sr, reports: [] }), srBytes);
  });
  test('round-trips report blocks', () => {
    assert.deepEqual(parseRtcp(buildSenderReport({ ...sr, reports: [block, { ...block, ssrc: REMOTE + 1 }] })), [
      { type: 'sr', ...sr, reports: [block, { ...block, ssrc: REMOTE + 1 }] },
    ]);
  });
  test('LSR is the middle 32 bits of the NTP timestamp', () => {
    assert.equal(ntpMiddle32(0x11121418, 0x22242628), 0x14182224);
    assert.equal(ntpMiddle32(0xffffffff, 0xffffffff), 0xffffffff);
  });
});

describe('generic NACK (RFC 4585 §6.2.1)', () => {
  test('100, 101, 103 is one item: PID 100, BLP 0b101', () => {
    assert.deepEqual(packNack([100, 101, 103]), [{ pid: 100, blp: 0b101 }]);
    assert.deepEqual(
      buildNack({ senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: [100, 101, 103] }),
      Uint8Array.from([0x81, 205, 0x00, 0x03, ...senderBytes, ...remoteBytes, 0x00, 0x64, 0x00, 0x05]),
    );
  });

  test('PID + 16 is the last that fits an item; PID + 17 starts the next', () => {
    assert.deepEqual(packNack([0, 16, 17]), [
      { pid: 0, blp: 0x8000 },
      { pid: 17, blp: 0 },
    ]);
  });

  // libwebrtc nack_unittest.cc
  const list = [0, 1, 3, 8, 16];
  const listBytes = Uint8Array.from([0x81, 205, 0x00, 0x03, ...senderBytes, ...remoteBytes, 0x00, 0x00, 0x80, 0x85]);
  const wrapList = [0xffdc, 0xffec, 0xfffe, 0xffff, 0x0000, 0x0001, 0x0003, 0x0014, 0x0064];
  const wrapBytes = Uint8Array.from([
    ...[0x81, 205, 0x00, 0x06, ...senderBytes, ...remoteBytes],
    ...[0xff, 0xdc, 0x80, 0x00, 0xff, 0xfe, 0x00, 0x17, 0x00, 0x14, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00],
  ]);

  test('builds and parses the libwebrtc reference NACK', () => {
    assert.deepEqual(buildNack({ senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: list }), listBytes);
    assert.deepEqual(parseRtcp(listBytes), [{ type: 'nack', senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: list }]);
  });

  test('builds and parses the libwebrtc NACK that crosses the 65535 → 0 wrap', () => {
    assert.deepEqual(buildNack({ senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: wrapList }), wrapBytes);
    assert.deepEqual(parseRtcp(wrapBytes), [{ type: 'nack', senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: wrapList }]);
  });

  test('packs a list given out of order (and with duplicates) into sorted items', () => {
    assert.deepEqual(packNack([1, 25, 13, 12, 9, 27, 29, 13]), [
      { pid: 1, blp: 0x0c80 },
      { pid: 25, blp: 0b1010 },
    ]);
    assert.deepEqual(packNack([0x0001, 0xffff, 0x0000]), [{ pid: 0xffff, blp: 0b11 }], 'sorted across the wrap');
  });

  test('a NACK without items is malformed', () => {
    assert.deepEqual(parseRtcp(Uint8Array.from([0x81, 205, 0x00, 0x02, ...senderBytes, ...remoteBytes])), [{ type: 'malformed', packetType: 205, fmt: 1 }]);
    assert.throws(() => buildNack({ senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: [] }), RangeError);
  });
});

describe('PLI and FIR', () => {
  test('builds and parses the libwebrtc reference PLI', () => {
    assert.deepEqual(buildPli({ senderSsrc: SENDER, mediaSsrc: REMOTE }), pliBytes);
    assert.deepEqual(parseRtcp(pliBytes), [{ type: 'pli', senderSsrc: SENDER, mediaSsrc: REMOTE }]);
  });
  test('a PLI one word short is malformed', () => {
    assert.deepEqual(parseRtcp(Uint8Array.from([0x81, 206, 0x00, 0x01, ...senderBytes])), [{ type: 'malformed', packetType: 206, fmt: 1 }]);
  });
  test('builds and parses the libwebrtc reference FIR', () => {
    assert.deepEqual(buildFir({ senderSsrc: SENDER, entries: [{ ssrc: REMOTE, seqNr: 13 }] }), firBytes);
    assert.deepEqual(parseRtcp(firBytes), [{ type: 'fir', senderSsrc: SENDER, entries: [{ ssrc: REMOTE, seqNr: 13 }] }]);
  });
  test('a FIR with half an entry is malformed', () => {
    const half = Uint8Array.from([0x84, 206, 0x00, 0x05, ...firBytes.subarray(4), ...Buffer.from('half')]);
    assert.deepEqual(parseRtcp(half), [{ type: 'malformed', packetType: 206, fmt: 4 }]);
  });
});

describe('REMB (draft-alvestrand-rmcat-remb)', () => {
  test('2.5 Mbps is mantissa 156250 × 2^4: the 18-bit mantissa needs exponent 4', () => {
    // 2 500 000 / 2^3 = 312 500 > 2^18 − 1 = 262 143; / 2^4 = 156 250 fits, exactly. 156 250 = 0x2625A.
    assert.deepEqual(encodeRembBitrate(2_500_000), { exponent: 4, mantissa: 156_250 });
    // Byte 17 = exponent << 2 | mantissa >> 16 = 0x10 | 0x2 = 0x12; bytes 18-19 = 0x625a.
    assert.deepEqual(
      buildRemb({ senderSsrc: SENDER, bitrateBps: 2_500_000, ssrcs: [REMOTE] }),
      Uint8Array.from([0x8f, 206, 0x00, 0x05, ...senderBytes, 0, 0, 0, 0, 0x52, 0x45, 0x4d, 0x42, 0x01, 0x12, 0x62, 0x5a, ...remoteBytes]),
    );
  });

  test('mantissa limits: 2^18 − 1 needs no exponent, 2^18 needs one; bitrates round down', () => {
    assert.deepEqual(encodeRembBitrate(0), { exponent: 0, mantissa: 0 });
    assert.deepEqual(encodeRembBitrate(262_143), { exponent: 0, mantissa: 262_143 });
    assert.deepEqual(encodeRembBitrate(262_144), { exponent: 1, mantissa: 131_072 });
    const { exponent, mantissa } = encodeRembBitrate(524_291);
    assert.equal(decodeRembBitrate(exponent, mantissa), 524_288, '524 291 = 131 072.75 × 2^2');
  });

  // libwebrtc remb_unittest.cc: 0x3fb93 × 2 bps for three SSRCs.
  const rembBytes = Uint8Array.from([
    ...[0x8f, 206, 0x00, 0x07, ...senderBytes, 0, 0, 0, 0, 0x52, 0x45, 0x4d, 0x42, 0x03, 0x07, 0xfb, 0x93],
    ...[0x23, 0x45, 0x67, 0x89, 0x23, 0x45, 0x67, 0x8a, 0x23, 0x45, 0x67, 0x8b],
  ]);
  const remb = { senderSsrc: SENDER, bitrateBps: 0x3fb93 * 2, ssrcs: [0x23456789, 0x2345678a, 0x2345678b] };

  test('builds and parses the libwebrtc reference REMB', () => {
    assert.deepEqual(buildRemb(remb), rembBytes);
    assert.deepEqual(parseRtcp(rembBytes), [{ type: 'remb', ...remb }]);
  });

  test('round-trips a bitrate beyond 32 bits', () => {
    const bitrateBps = 0x3fb93 * 2 ** 30;
    assert.equal((parseRtcp(buildRemb({ senderSsrc: 1, bitrateBps, ssrcs: [] }))![0] as { bitrateBps: number }).bitrateBps, bitrateBps);
  });

  test('an SSRC count past the end is malformed; another application feedback is unknown', () => {
    const damaged = Uint8Array.from(rembBytes);
    damaged[16]!++;
    assert.deepEqual(parseRtcp(damaged), [{ type: 'malformed', packetType: 206, fmt: 15 }]);
    const other = Uint8Array.from(rembBytes);
    other[12] = 0x4e; // 'NEMB'
    assert.equal(parseRtcp(other)![0]!.type, 'unknown');
  });
});

describe('compound packets (RFC 3550 §6.1)', () => {
  test('concatenates, and splits back into its parts', () => {
    const rr = buildReceiverReport({ ssrc: SENDER, reports: [block] });
    const remb = buildRemb({ senderSsrc: SENDER, bitrateBps: 2_500_000, ssrcs: [REMOTE] });
    const nack = buildNack({ senderSsrc: SENDER, mediaSsrc: REMOTE, seqs: [7] });
    const compound = concatRtcp([rr, remb, nack]);
    assert.equal(compound.length, rr.length + remb.length + nack.length);
    assert.deepEqual(
      parseRtcp(compound)!.map((p) => p.type),
      ['rr', 'remb', 'nack'],
    );
  });

  test('a browser-style SR + SDES: the SDES is passed on as unknown', () => {
    const sdes = Uint8Array.from([0x81, 202, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 0x61, 0x62, 0, 0, 0, 0]);
    const parts = parseRtcp(concatRtcp([srBytes, sdes]))!;
    assert.equal(parts[0]!.type, 'sr');
    assert.deepEqual(parts[1], { type: 'unknown', packetType: 202, fmt: 1, body: sdes.subarray(4) });
  });

  test('transport-cc feedback is unknown, and BYE lists its SSRCs', () => {
    const twcc = Uint8Array.from([0x8f, 205, 0x00, 0x02, ...senderBytes, ...remoteBytes]);
    const bye = Uint8Array.from([0x82, 203, 0x00, 0x02, ...senderBytes, ...remoteBytes]);
    const parts = parseRtcp(concatRtcp([twcc, bye]))!;
    assert.equal(parts[0]!.type, 'unknown');
    assert.deepEqual(parts[1], { type: 'bye', ssrcs: [SENDER, REMOTE] });
  });

  test('padding on the last packet is stripped (its last byte counts it)', () => {
    const padded = Uint8Array.from([0xa1, 206, 0x00, 0x03, ...senderBytes, ...remoteBytes, 0, 0, 0, 4]);
    assert.deepEqual(parseRtcp(concatRtcp([rrBytes, padded])), [
      { type: 'rr', ssrc: SENDER, reports: [block] },
      { type: 'pli', senderSsrc: SENDER, mediaSsrc: REMOTE },
    ]);
  });

  describe('a compound that does not chain to its end is rejected whole', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['length past the end', concatRtcp([rrBytes, pliBytes.subarray(0, 8)])],
      ['trailing bytes', Uint8Array.from([...rrBytes, 0x81, 206])],
      ['version 1', Uint8Array.from([0x41, ...pliBytes.subarray(1)])],
      ['padding count 0', Uint8Array.from([0xa1, 206, 0x00, 0x03, ...senderBytes, ...remoteBytes, 0, 0, 0, 0])],
      ['padding longer than the body', Uint8Array.from([0xa1, 206, 0x00, 0x03, ...senderBytes, ...remoteBytes, 0, 0, 0, 13])],
    ];
    for (const [name, bytes] of cases) test(name, () => assert.equal(parseRtcp(bytes), undefined));
  });

  test('never throws on random bytes', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    const types = [200, 201, 202, 203, 205, 206];
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(4 * (1 + (rand() % 10)));
      for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
      // A plausible header, to reach the per-type parsers: V=2, known type, length that fits.
      b[0] = 0x80 | (b[0]! & 0x3f);
      b[1] = types[rand() % types.length]!;
      b[2] = 0;
      b[3] = rand() % (b.length / 4);
      assert.doesNotThrow(() => parseRtcp(b));
    }
  });
});
