import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chooseAudioCodec,
  chooseVideoCodec,
  DEFAULT_VIDEO_CODECS,
  offeredVideoNames,
  UnsupportedCodecError,
  videoCodecOf,
} from '../../src/engine/ndc/codec-choice.js';
import { fmtpParams, parseOfferMedia } from '../../src/engine/ndc/offer-media.js';

/** The media part of a Chromium offer (payload types as Chromium numbers them), with audio and a DataChannel. */
const CHROMIUM = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63',
  'a=mid:0',
  'a=sendrecv',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 45 46 98 99',
  'a=mid:1',
  'a=sendonly',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:104 H264/90000',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:105 rtx/90000',
  'a=fmtp:105 apt=104',
  'a=rtpmap:45 AV1/90000',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=rtpmap:98 VP9/90000',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:2',
  'a=sctp-port:5000',
  '',
].join('\r\n');

describe('offer media sections and the codec the server answers', () => {
  test('parses kinds, mids, directions, formats with fmtp and feedback, and RTX pairs', () => {
    const [audio, video, app] = parseOfferMedia(CHROMIUM);
    assert.equal(audio!.kind, 'audio');
    assert.equal(audio!.direction, 'sendrecv');
    assert.deepEqual(
      audio!.formats.map((f) => [f.pt, f.name, f.clockRate, f.channels]),
      [
        [111, 'opus', 48000, 2],
        [63, 'red', 48000, 2],
      ],
    );
    assert.equal(video!.mid, '1');
    assert.equal(video!.direction, 'sendonly');
    assert.deepEqual(video!.formats.find((f) => f.pt === 96)!.feedback, ['goog-remb', 'nack', 'nack pli']);
    assert.deepEqual(
      [...video!.rtx],
      [
        [97, 96],
        [103, 102],
        [105, 104],
        [46, 45],
        [99, 98],
      ],
    );
    assert.equal(fmtpParams(video!.formats.find((f) => f.pt === 104)!.fmtp).get('packetization-mode'), '1');
    assert.equal(app!.kind, 'application');
    assert.equal(app!.rejected, false);
  });

  test('H.264 first by default, packetization-mode 1 preferred over mode 0, with its RTX', () => {
    const video = parseOfferMedia(CHROMIUM)[1]!;
    const c = chooseVideoCodec(video, DEFAULT_VIDEO_CODECS)!;
    assert.equal(c.codec, 'H264');
    assert.equal(c.format.pt, 104);
    assert.equal(c.rtxPt, 105);
  });

  test('the preference order decides; a codec not offered is skipped', () => {
    const video = parseOfferMedia(CHROMIUM)[1]!;
    assert.equal(chooseVideoCodec(video, ['VP9', 'H264'])!.format.pt, 98);
    assert.equal(chooseVideoCodec(video, ['H265', 'AV1'])!.codec, 'AV1');
    assert.equal(chooseVideoCodec(video, ['H265']), undefined);
  });

  test('an H.264-only offer from a non-browser encoder (no RTX) gets H.264 without RTX', () => {
    const gst = CHROMIUM.replace(
      /m=video[\s\S]*?(?=m=application)/,
      'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42c01f\r\n',
    );
    const c = chooseVideoCodec(parseOfferMedia(gst)[1]!, ['VP8', 'H264'])!;
    assert.deepEqual([c.codec, c.format.pt, c.rtxPt], ['H264', 96, undefined]);
  });

  test('Opus for audio; names for the unsupported-codec error leave out RTX/RED/FEC; HEVC is H265', () => {
    const [audio, video] = parseOfferMedia(CHROMIUM);
    assert.equal(chooseAudioCodec(audio!)!.format.pt, 111);
    assert.deepEqual(offeredVideoNames(video!), ['VP8', 'H264', 'AV1', 'VP9']);
    assert.equal(videoCodecOf('hevc'), 'H265');
    assert.equal(videoCodecOf('theora'), undefined);
    const e = new UnsupportedCodecError(['theora'], DEFAULT_VIDEO_CODECS);
    assert.equal(e.code, 'unsupported_codec');
    assert.equal(e.status, 400);
    assert.match(e.message, /offered: theora; supported: H264, VP8, VP9, AV1, H265/);
  });
});
