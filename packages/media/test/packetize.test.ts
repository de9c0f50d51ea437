/**
 * The send path's RTP packetizers (engine/packetize), checked by round trip: real encoder output from the engine's own
 * encoders (engine/codecs, libavcodec in-process) is packetized, stamped with RTP headers, reassembled by the receive
 * path's FrameAssembler and depacketizers (engine/depacketize), compared with what went in, and decoded. Small
 * synthetic cases pin the format details (STAP-A/AP aggregation, FU-A/FU fragments, descriptors, AV1 splitting).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { i420Size } from '../src/codecs/i420-size.js';
import { VIDEO_CODECS, type VideoCodec } from '../src/codecs/video-codec.js';
import { VideoDecoder, videoDecoderName } from '../src/codecs/video-decoder.js';
import { VideoEncoder, videoEncoderName } from '../src/codecs/video-encoder.js';
import { depacketizerFor } from '../src/depacketize/index.js';
import type { I420Frame } from '../src/media-frames.js';
import {
  av1ObuElements,
  Av1Packetizer,
  evenSplit,
  H264Packetizer,
  H265Packetizer,
  packetizerFor,
  splitAnnexB,
  Vp8Packetizer,
  Vp9Packetizer,
} from '../src/packetize/index.js';
import { assemble, stampRtp, WRAPPING } from './depacketize-helpers.js';

function pattern(width: number, height: number, i: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = Math.round(128 + 90 * Math.sin((x + 4 * i) / 9) * Math.cos(y / 7));
  }
  data.fill(110, width * height);
  return { width, height, data };
}

/** What must survive the trip, per codec: NAL units (start code lengths and AUDs aside), OBUs (size fields aside), bytes. */
function comparable(codec: VideoCodec, frame: Uint8Array): Uint8Array[] {
  if (codec === 'H264') return splitAnnexB(frame).filter((n) => (n[0]! & 0x1f) !== 9);
  if (codec === 'H265') return splitAnnexB(frame).filter((n) => ((n[0]! >> 1) & 0x3f) !== 35);
  if (codec === 'AV1') return av1ObuElements(frame);
  return [frame];
}

const both = VIDEO_CODECS.filter((c) => videoEncoderName(c) !== undefined && videoDecoderName(c) !== undefined);

describe('packetizers: encoder output → RTP payloads → FrameAssembler + depacketizer → the same frames', () => {
  for (const codec of VIDEO_CODECS) {
    for (const maxPayloadSize of [1188, 120]) {
      test(`${codec}, payloads ≤ ${maxPayloadSize} bytes`, { skip: !both.includes(codec) && `this FFmpeg build can't encode and decode ${codec}` }, () => {
        const width = 320;
        const height = 240;
        const encoder = new VideoEncoder({ codec, width, height, bitrate: 600_000 });
        const decoder = new VideoDecoder(codec);
        try {
          const packetizer = packetizerFor(codec, { maxPayloadSize, firstPictureId: 0x7ffe });
          const sent: { data: Uint8Array; keyframe: boolean }[] = [];
          const payloadsPerFrame: Uint8Array[][] = [];
          for (let i = 0; i < 8; i++) {
            for (const e of encoder.encode(pattern(width, height, i), i * 3000, { forceKeyframe: i === 5 })) {
              const payloads = packetizer.packetize(e.data, e.keyframe, { width, height });
              for (const p of payloads) assert.ok(p.length <= maxPayloadSize, `${p.length}-byte payload`);
              sent.push(e);
              payloadsPerFrame.push(payloads);
            }
          }
          assert.equal(sent.length, 8);
          assert.ok(
            payloadsPerFrame.some((p) => p.length > 1),
            'some frame took several packets',
          );
          const { frames, counters } = assemble(depacketizerFor(codec) as never, stampRtp(payloadsPerFrame, WRAPPING));
          assert.equal(frames.length, sent.length);
          assert.equal(counters.incompleteFrames, 0);
          frames.forEach((f, i) => {
            assert.ok(f.complete, `frame ${i}: ${f.incompleteReason} ${f.problem ?? ''}`);
            assert.equal(f.keyframe, sent[i]!.keyframe, `frame ${i} keyframe flag`);
            assert.deepEqual(comparable(codec, f.data), comparable(codec, sent[i]!.data), `frame ${i} content`);
            const r = decoder.decode(f.data, f.timestamp, f.keyframe);
            assert.equal(r.status === 'error' ? r.error : undefined, undefined);
            assert.equal(r.frames.length, 1, `frame ${i} decoded`);
            assert.equal(r.frames[0]!.width, width);
          });
          assert.ok(sent[0]!.keyframe && sent[5]!.keyframe);
        } finally {
          encoder.close();
          decoder.close();
        }
      });
    }
  }
});

describe('H.264 packetizer (RFC 6184, packetization-mode 1)', () => {
  const sps = Uint8Array.of(0x67, 0x42, 0xe0, 0x1e, 0xaa);
  const pps = Uint8Array.of(0x68, 0xce, 0x3c, 0x80);
  const idr = Uint8Array.from({ length: 300 }, (_, i) => (i === 0 ? 0x65 : (i * 7) & 0xff || 1));
  const annexB = (...nals: Uint8Array[]): Uint8Array => Uint8Array.from(nals.flatMap((n, i) => [...(i % 2 ? [0, 0, 1] : [0, 0, 0, 1]), ...n]));

  test('small NAL units in a row share a STAP-A (highest NRI); a lone one goes as it is; AUDs are dropped', () => {
    const aud = Uint8Array.of(0x09, 0xf0);
    const slice = Uint8Array.of(0x41, 0x9a, 0x10);
    const [stap, single, ...rest] = new H264Packetizer().packetize(annexB(aud, sps, pps, idr.subarray(0, 50)));
    assert.equal(rest.length, 0);
    assert.equal(stap![0], 0x60 | 24);
    assert.deepEqual([...stap!.subarray(1, 3)], [0, 5]);
    assert.deepEqual(stap!.subarray(3, 8), sps);
    assert.deepEqual(stap!.subarray(10, 14), pps);
    assert.deepEqual(stap!.subarray(16), idr.subarray(0, 50));
    assert.equal(single, undefined);
    assert.deepEqual(new H264Packetizer().packetize(annexB(slice)), [slice]);
  });

  test('a NAL unit larger than a packet becomes FU-A fragments of even size with S and E', () => {
    const payloads = new H264Packetizer({ maxPayloadSize: 100 }).packetize(annexB(sps, pps, idr));
    assert.equal(payloads[0]![0]! & 0x1f, 24);
    const fus = payloads.slice(1);
    assert.equal(fus.length, Math.ceil(299 / 98));
    for (const [i, fu] of fus.entries()) {
      assert.equal(fu[0], 0x60 | 28);
      assert.equal(fu[1], (i === 0 ? 0x80 : 0) | (i === fus.length - 1 ? 0x40 : 0) | 5);
      assert.ok(fu.length === 77 || fu.length === 76, `${fu.length}`); // 299 bytes after the header in 4 pieces
    }
    assert.deepEqual(Uint8Array.from(fus.flatMap((f) => [...f.subarray(2)])), idr.subarray(1));
  });

  test('Annex B splitting: 3- and 4-byte start codes, trailing zeros, leading garbage', () => {
    const stream = Uint8Array.of(0xff, 0, 0, 1, 0x67, 1, 0, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3, 0);
    assert.deepEqual(splitAnnexB(stream), [Uint8Array.of(0x67, 1), Uint8Array.of(0x68, 2), Uint8Array.of(0x65, 3)]);
  });
});

describe('H.265 packetizer (RFC 7798)', () => {
  const vps = Uint8Array.of(0x40, 0x01, 0x0c);
  const sps = Uint8Array.of(0x42, 0x01, 0x01);
  const idr = Uint8Array.from({ length: 200 }, (_, i) => (i === 0 ? 0x26 : i === 1 ? 0x01 : (i * 3) & 0xff || 1));

  test('parameter sets in an AP, an IRAP larger than a packet in FUs (type 49, S/E, the unit type)', () => {
    const stream = Uint8Array.from([vps, sps, idr].flatMap((n) => [0, 0, 0, 1, ...n]));
    const [ap, ...fus] = new H265Packetizer({ maxPayloadSize: 80 }).packetize(stream);
    assert.equal((ap![0]! >> 1) & 0x3f, 48);
    assert.equal(ap![1], 0x01); // LayerId 0, TID 1
    assert.deepEqual([...ap!.subarray(2, 4)], [0, 3]);
    assert.equal(fus.length, Math.ceil(198 / 77));
    for (const [i, fu] of fus.entries()) {
      assert.equal((fu[0]! >> 1) & 0x3f, 49);
      assert.equal(fu[1], 0x01);
      assert.equal(fu[2], (i === 0 ? 0x80 : 0) | (i === fus.length - 1 ? 0x40 : 0) | 19);
    }
    assert.deepEqual(Uint8Array.from(fus.flatMap((f) => [...f.subarray(3)])), idr.subarray(2));
  });
});

describe('VP8 packetizer (RFC 7741)', () => {
  test('descriptor X|S, I with a 15-bit PictureID that counts frames and wraps; even slices', () => {
    const p = new Vp8Packetizer({ maxPayloadSize: 104, firstPictureId: 0x7fff });
    const frame = Uint8Array.from({ length: 250 }, (_, i) => i & 0xff);
    const first = p.packetize(frame);
    assert.deepEqual(
      first.map((x) => x.length),
      [84, 83, 83].map((n) => n + 4),
    );
    assert.deepEqual([...first[0]!.subarray(0, 4)], [0x90, 0x80, 0xff, 0xff]);
    assert.deepEqual([...first[1]!.subarray(0, 4)], [0x80, 0x80, 0xff, 0xff]);
    const second = p.packetize(frame.subarray(0, 10));
    assert.equal(second.length, 1);
    assert.deepEqual([...second[0]!.subarray(0, 4)], [0x90, 0x80, 0x80, 0x00]);
    const { frames } = assemble(depacketizerFor('VP8'), stampRtp([first, second], WRAPPING));
    assert.deepEqual(
      frames.map((f) => [f.complete, f.pictureId]),
      [
        [true, 0x7fff],
        [true, 0],
      ],
    );
    assert.deepEqual(frames[0]!.data, frame);
  });
});

describe('VP9 packetizer (RFC 9628, non-flexible, one layer)', () => {
  test('B on the first packet, E on the last, P on inter frames; a keyframe carries SS with its size', () => {
    const p = new Vp9Packetizer({ maxPayloadSize: 100, firstPictureId: 5 });
    const key = Uint8Array.from({ length: 230 }, (_, i) => (i * 5) & 0xff);
    const keyPayloads = p.packetize(key, true, { width: 640, height: 480 });
    assert.equal(keyPayloads[0]![0], 0x80 | 0x08 | 0x02);
    assert.deepEqual([...keyPayloads[0]!.subarray(1, 8)], [0x80, 5, 0x10, 0x02, 0x80, 0x01, 0xe0]);
    assert.equal(keyPayloads.at(-1)![0], 0x80 | 0x04);
    const delta = p.packetize(key.subarray(0, 50), false, { width: 640, height: 480 });
    assert.equal(delta.length, 1);
    assert.equal(delta[0]![0], 0x80 | 0x40 | 0x08 | 0x04);
    const { frames } = assemble(depacketizerFor('VP9'), stampRtp([keyPayloads, delta], WRAPPING));
    assert.deepEqual(
      frames.map((f) => [f.complete, f.keyframe, f.pictureId]),
      [
        [true, true, 5],
        [true, false, 6],
      ],
    );
    assert.deepEqual(frames[0]!.resolutions, [{ width: 640, height: 480 }]);
    assert.deepEqual(frames[0]!.data, key);
    for (const x of keyPayloads) assert.ok(x.length <= 100);
  });
});

describe('AV1 packetizer (AOMedia RTP payload format)', () => {
  /** An OBU in the low-overhead format: header with obu_has_size_field, LEB128 size, payload. */
  const obu = (type: number, size: number): Uint8Array => {
    const body = Uint8Array.from({ length: size }, (_, i) => (i * 11 + type) & 0xff);
    const sizeBytes: number[] = [];
    for (let v = size; ; v = Math.floor(v / 128)) {
      sizeBytes.push((v & 0x7f) | (v >= 128 ? 0x80 : 0));
      if (v < 128) break;
    }
    return Uint8Array.from([(type << 3) | 0x02, ...sizeBytes, ...body]);
  };
  const tu = (...obus: Uint8Array[]): Uint8Array => Uint8Array.from(obus.flatMap((o) => [...o]));

  test('temporal delimiter and padding dropped, size fields removed, N on a keyframe with a sequence header', () => {
    const payloads = new Av1Packetizer().packetize(tu(obu(2, 0), obu(1, 10), obu(6, 40), obu(15, 3)), true);
    assert.equal(payloads.length, 1);
    const p = payloads[0]!;
    assert.equal(p[0], 0x08);
    assert.deepEqual([...p.subarray(1, 3)], [11, 1 << 3]);
    assert.equal(p[13], 41);
    assert.equal(p[14], 6 << 3);
    assert.equal(p.length, 1 + 12 + 42);
    assert.equal(new Av1Packetizer().packetize(tu(obu(6, 40)), false)[0]![0], 0);
  });

  test('a large OBU is split across packets with Y and Z, and reassembles', () => {
    const unit = tu(obu(1, 12), obu(6, 1000), obu(6, 5));
    const payloads = new Av1Packetizer({ maxPayloadSize: 200 }).packetize(unit, true);
    for (const p of payloads) assert.ok(p.length <= 200, `${p.length}`);
    assert.equal(payloads[0]![0]! & 0xc8, 0x48); // Y and N on the first
    for (const p of payloads.slice(1, -1)) assert.equal(p[0]! & 0xc0, 0xc0);
    assert.equal(payloads.at(-1)![0]! & 0xc0, 0x80);
    const { frames } = assemble(depacketizerFor('AV1'), stampRtp([payloads], WRAPPING));
    assert.ok(frames[0]!.complete, frames[0]!.problem);
    assert.deepEqual(av1ObuElements(frames[0]!.data), av1ObuElements(unit));
  });
});

test('evenSplit: fewest pieces, sizes differing by one at most', () => {
  assert.deepEqual(evenSplit(10, 4), [4, 3, 3]);
  assert.deepEqual(evenSplit(8, 4), [4, 4]);
  assert.deepEqual(evenSplit(0, 4), [0]);
  assert.throws(() => evenSplit(5, 0), RangeError);
});
