import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRtpPacket, serializeRtpPacket } from '../src/rtp/rtp-packet.js';
import { parseRtxPayloadTypes, parseRtxSsrcs, unwrapRtx, wrapRtx } from '../src/rtp/rtx.js';

const MEDIA_SSRC = 0x11223344;
const RTX_SSRC = 0x55667788;
const apt = new Map([[97, 96]]);

// An RTX packet written out by hand (RFC 4588 §4): header with RTX payload type 97, its own sequence number 500
// (0x01f4) and SSRC; payload = OSN 65535 (0xffff) then the original payload 'abc'.
const rtxBytes = Uint8Array.from([
  ...[0x80, 0x80 | 97, 0x01, 0xf4], // V=2; marker set, PT 97; seq 500
  ...[0x00, 0x01, 0x5f, 0x90], // timestamp 90000
  ...[0x55, 0x66, 0x77, 0x88], // RTX SSRC
  ...[0xff, 0xff], // OSN
  ...Buffer.from('abc'),
]);

describe('unwrapRtx (RFC 4588)', () => {
  test('recovers the original sequence number, payload type and SSRC; keeps marker and timestamp', () => {
    const original = unwrapRtx(parseRtpPacket(rtxBytes)!, apt, MEDIA_SSRC)!;
    assert.equal(original.sequenceNumber, 65535);
    assert.equal(original.payloadType, 96);
    assert.equal(original.ssrc, MEDIA_SSRC);
    assert.equal(original.marker, true);
    assert.equal(original.timestamp, 90000);
    assert.equal(Buffer.from(original.payload).toString(), 'abc');
  });

  test('the original payload is a view into the RTX packet, after the two OSN bytes', () => {
    const original = unwrapRtx(parseRtpPacket(rtxBytes)!, apt, MEDIA_SSRC)!;
    assert.equal(original.payload.buffer, rtxBytes.buffer);
    assert.equal(original.payload.byteOffset, 14);
  });

  test('OSN 0 right after the wrap', () => {
    const b = Uint8Array.from(rtxBytes);
    b.set([0x00, 0x00], 12);
    assert.equal(unwrapRtx(parseRtpPacket(b)!, apt, MEDIA_SSRC)!.sequenceNumber, 0);
  });

  test('a payload type that is not RTX gives undefined', () => {
    const b = Uint8Array.from(rtxBytes);
    b[1] = 96;
    assert.equal(unwrapRtx(parseRtpPacket(b)!, apt, MEDIA_SSRC), undefined);
  });

  test('a padding-only RTX packet (bandwidth probe) gives undefined', () => {
    const probe = parseRtpPacket(
      serializeRtpPacket({ payloadType: 97, sequenceNumber: 501, timestamp: 90000, ssrc: RTX_SSRC, payload: new Uint8Array(), paddingSize: 200 }),
    )!;
    assert.equal(probe.payload.length, 0);
    assert.equal(unwrapRtx(probe, apt, MEDIA_SSRC), undefined);
  });

  test('a one-byte payload (half an OSN) gives undefined', () => {
    const p = parseRtpPacket(serializeRtpPacket({ payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: RTX_SSRC, payload: Uint8Array.from([7]) }))!;
    assert.equal(unwrapRtx(p, apt, MEDIA_SSRC), undefined);
  });
});

describe('wrapRtx', () => {
  test('puts the OSN in front of the payload, byte for byte', () => {
    const original = parseRtpPacket(
      serializeRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: 90000, ssrc: MEDIA_SSRC, payload: Buffer.from('abc') }),
    )!;
    assert.deepEqual(serializeRtpPacket(wrapRtx(original, 97, RTX_SSRC, 500)), rtxBytes);
  });

  test('wrap → bytes → parse → unwrap gives back the original packet', () => {
    const ext = { profile: 0xbede, data: Uint8Array.from([0x10, 0xab, 0, 0]) };
    const original = parseRtpPacket(
      serializeRtpPacket({
        payloadType: 96,
        sequenceNumber: 4242,
        timestamp: 123456,
        ssrc: MEDIA_SSRC,
        csrcs: [7],
        extension: ext,
        payload: Buffer.from('frame data'),
      }),
    )!;
    const back = unwrapRtx(parseRtpPacket(serializeRtpPacket(wrapRtx(original, 97, RTX_SSRC, 9)))!, apt, MEDIA_SSRC)!;
    assert.deepEqual(serializeRtpPacket(back), serializeRtpPacket(original));
  });
});

// A Chromium-style video section (trimmed).
const videoSection = [
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102;rtx-time=3000',
  'a=rtpmap:45 AV1/90000',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=ssrc-group:FID 2863346232 1306120530',
  'a=ssrc:2863346232 cname:abc',
  'a=ssrc:1306120530 cname:abc',
  '',
].join('\r\n');

describe('RTX parameters from SDP', () => {
  test('maps each rtx payload type to its apt, ignoring other fmtp lines', () => {
    assert.deepEqual(
      parseRtxPayloadTypes(videoSection),
      new Map([
        [97, 96],
        [103, 102],
      ]),
    );
  });

  test('an apt on a payload type that is not rtx is not taken', () => {
    assert.deepEqual(parseRtxPayloadTypes('a=rtpmap:98 red/90000\r\na=fmtp:98 apt=96\r\n'), new Map());
  });

  test('maps the RTX SSRC to the media SSRC from ssrc-group FID', () => {
    assert.deepEqual(parseRtxSsrcs(videoSection), new Map([[1306120530, 2863346232]]));
  });
});
