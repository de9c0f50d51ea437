import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRtcp, parseRtpPacket, serializeRtpPacket } from '../src/rtp/rtp-packet.js';

// Reference packets from libwebrtc's rtp_packet_unittest.cc: payload type 100, sequence number 0x1234, timestamp
// 0x65431278, SSRC 0x12345678.
const minimumPacket = Uint8Array.from([0x80, 100, 0x12, 0x34, 0x65, 0x43, 0x12, 0x78, 0x12, 0x34, 0x56, 0x78]);
// One-byte header extension (profile 0xBEDE), one word: transmission offset id 1, length 3, value 0x0056ce.
const packetWithTransmissionOffset = Uint8Array.from([
  0x90, 100, 0x12, 0x34, 0x65, 0x43, 0x12, 0x78, 0x12, 0x34, 0x56, 0x78, 0xbe, 0xde, 0x00, 0x01, 0x12, 0x00, 0x56, 0xce,
]);
// 0xb2 = V=2, P=1, X=1, CC=2: two CSRCs, the extension above, payload 'payload', then 8 bytes of padding: 'padding'
// and the count 8 in the last byte.
const fullPacket = Uint8Array.from([
  ...[0xb2, 100, 0x12, 0x34, 0x65, 0x43, 0x12, 0x78, 0x12, 0x34, 0x56, 0x78],
  ...[0x34, 0x56, 0x78, 0x90, 0x32, 0x43, 0x54, 0x65],
  ...[0xbe, 0xde, 0x00, 0x01, 0x12, 0x00, 0x56, 0xce],
  ...Buffer.from('payload'),
  ...Buffer.from('padding'),
  8,
]);

describe('parseRtpPacket', () => {
  test('reads the fixed header of a minimum packet', () => {
    const p = parseRtpPacket(minimumPacket)!;
    assert.deepEqual(
      { ...p, payload: [...p.payload] },
      {
        marker: false,
        payloadType: 100,
        sequenceNumber: 0x1234,
        timestamp: 0x65431278,
        ssrc: 0x12345678,
        csrcs: [],
        extension: undefined,
        payload: [],
        paddingSize: 0,
      },
    );
  });

  test('reads CSRCs, skips the header extension and strips padding', () => {
    const p = parseRtpPacket(fullPacket)!;
    assert.deepEqual(p.csrcs, [0x34567890, 0x32435465]);
    assert.equal(p.extension!.profile, 0xbede);
    assert.deepEqual([...p.extension!.data], [0x12, 0x00, 0x56, 0xce]);
    assert.equal(Buffer.from(p.payload).toString(), 'payload');
    assert.equal(p.paddingSize, 8);
  });

  test('the payload is a view into the input, not a copy', () => {
    const p = parseRtpPacket(fullPacket)!;
    assert.equal(p.payload.buffer, fullPacket.buffer);
    assert.equal(p.payload.byteOffset, 28);
  });

  test('reads a packet that sits inside a larger buffer (pooled Node Buffers)', () => {
    const pool = Buffer.alloc(100, 0xee);
    pool.set(packetWithTransmissionOffset, 37);
    pool.set(Buffer.from('vp8!'), 37 + packetWithTransmissionOffset.length);
    const p = parseRtpPacket(pool.subarray(37, 37 + packetWithTransmissionOffset.length + 4))!;
    assert.equal(p.sequenceNumber, 0x1234);
    assert.equal(p.ssrc, 0x12345678);
    assert.equal(Buffer.from(p.payload).toString(), 'vp8!');
  });

  test('reads the marker bit apart from the payload type', () => {
    const b = Uint8Array.from(minimumPacket);
    b[1] = 0x80 | 96;
    const p = parseRtpPacket(b)!;
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 96);
  });

  test('reads sequence number 65535 and timestamp 2^32 − 1 unsigned', () => {
    const b = Uint8Array.from(minimumPacket);
    b.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 2);
    const p = parseRtpPacket(b)!;
    assert.equal(p.sequenceNumber, 65535);
    assert.equal(p.timestamp, 0xffffffff);
    assert.equal(p.ssrc, 0xffffffff);
  });

  test('a padding-only packet (bandwidth probe) has an empty payload', () => {
    const b = Uint8Array.from([...minimumPacket, 0, 0, 0, 4]);
    b[0] = 0xa0;
    const p = parseRtpPacket(b)!;
    assert.equal(p.payload.length, 0);
    assert.equal(p.paddingSize, 4);
  });

  describe('rejects malformed packets with undefined', () => {
    const cases: [string, Uint8Array][] = [
      ['shorter than the fixed header', minimumPacket.subarray(0, 11)],
      ['version 1', Uint8Array.from([0x40, ...minimumPacket.subarray(1)])],
      ['version 0', Uint8Array.from([0x00, ...minimumPacket.subarray(1)])],
      ['CSRC count past the end', Uint8Array.from([0x81, ...minimumPacket.subarray(1)])],
      ['extension header past the end', Uint8Array.from([0x90, ...minimumPacket.subarray(1), 0xbe, 0xde])],
      ['extension length past the end', Uint8Array.from([0x90, ...packetWithTransmissionOffset.subarray(1, 15), 0x02, 0x12, 0x00, 0x56, 0xce])],
      ['padding count 0', Uint8Array.from([0xa0, ...minimumPacket.subarray(1), 1, 2, 0])],
      ['padding longer than the payload', Uint8Array.from([0xa0, ...minimumPacket.subarray(1), 1, 2, 4])],
      ['padding bit set with no byte after the header', Uint8Array.from([0xa0, ...minimumPacket.subarray(1)])],
    ];
    for (const [name, bytes] of cases) test(name, () => assert.equal(parseRtpPacket(bytes), undefined));
  });

  test('never throws on random bytes', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(rand() % 40);
      for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
      if (b.length > 0) b[0] = (b[0]! & 0x3f) | 0x80; // mostly version 2, to reach the deeper checks
      assert.doesNotThrow(() => parseRtpPacket(b));
    }
  });
});

describe('serializeRtpPacket', () => {
  test('writes libwebrtc’s minimum packet byte for byte', () => {
    assert.deepEqual(
      serializeRtpPacket({ payloadType: 100, sequenceNumber: 0x1234, timestamp: 0x65431278, ssrc: 0x12345678, payload: new Uint8Array() }),
      minimumPacket,
    );
  });

  test('writes the header extension byte for byte', () => {
    const ext = { profile: 0xbede, data: Uint8Array.from([0x12, 0x00, 0x56, 0xce]) };
    const bytes = serializeRtpPacket({
      payloadType: 100,
      sequenceNumber: 0x1234,
      timestamp: 0x65431278,
      ssrc: 0x12345678,
      extension: ext,
      payload: new Uint8Array(),
    });
    assert.deepEqual(bytes, packetWithTransmissionOffset);
  });

  test('round-trips CSRCs, extension, marker, payload and padding (padding bytes zeroed, count last)', () => {
    const parsed = parseRtpPacket(fullPacket)!;
    const bytes = serializeRtpPacket(parsed);
    const expected = Uint8Array.from(fullPacket);
    expected.fill(0, expected.length - 8, expected.length - 1);
    assert.deepEqual(bytes, expected);
    const again = parseRtpPacket(bytes)!;
    assert.deepEqual(
      { ...again, payload: [...again.payload], extension: [...again.extension!.data] },
      { ...parsed, payload: [...parsed.payload], extension: [...parsed.extension!.data] },
    );
  });

  test('wraps the sequence number into 16 bits and writes the marker', () => {
    const p = parseRtpPacket(
      serializeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 65536 + 5, timestamp: 1, ssrc: 2, payload: Uint8Array.from([9]) }),
    )!;
    assert.equal(p.sequenceNumber, 5);
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 96);
  });

  test('refuses an extension that is not whole words', () => {
    assert.throws(
      () =>
        serializeRtpPacket({
          payloadType: 96,
          sequenceNumber: 0,
          timestamp: 0,
          ssrc: 0,
          extension: { profile: 0xbede, data: new Uint8Array(3) },
          payload: new Uint8Array(),
        }),
      RangeError,
    );
  });
});

describe('isRtcp (RFC 5761 demultiplexing)', () => {
  test('packet types 192..223 are RTCP', () => {
    for (const pt of [192, 200, 201, 205, 206, 223]) assert.equal(isRtcp(Uint8Array.from([0x80, pt, 0, 1])), true, String(pt));
  });
  test('RTP payload types, with or without the marker, are not', () => {
    for (const b1 of [0, 96, 127, 128, 191, 224, 0x80 | 111]) assert.equal(isRtcp(Uint8Array.from([0x80, b1, 0, 1])), false, String(b1));
  });
  test('a buffer too short to tell is not RTCP', () => {
    assert.equal(isRtcp(new Uint8Array()), false);
    assert.equal(isRtcp(Uint8Array.from([0x80])), false);
  });
  test('tells the reference RTP packet from an RR', () => {
    assert.equal(isRtcp(minimumPacket), false);
    assert.equal(isRtcp(Uint8Array.from([0x80, 201, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78])), true);
  });
});
