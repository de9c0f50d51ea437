/**
 * Encode → decode round trips through the engine's own codecs, for every video codec this FFmpeg build can do both
 * ways: sizes, picture fidelity at sampled points, the RTP timestamp carried through (across the 32-bit wrap), and
 * the latency rule: every frame's packet comes out of encode() and its picture out of decode() in the same call.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { i420Size } from '../src/codecs/i420-size.js';
import { VIDEO_CODECS, type VideoCodec } from '../src/codecs/video-codec.js';
import { VideoDecoder, videoDecoderName } from '../src/codecs/video-decoder.js';
import { VideoEncoder, videoEncoderName, type EncodedVideo } from '../src/codecs/video-encoder.js';
import type { I420Frame } from '../src/media-frames.js';

/** A smooth moving pattern (codecs keep it well at 1 Mbps) with chroma that varies too. */
function pattern(width: number, height: number, i: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = Math.round(128 + 80 * Math.sin(x / 17 + i / 6) * Math.cos(y / 13));
  }
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      data[width * height + y * cw + x] = Math.round(128 + 40 * Math.sin(x / 11));
      data[width * height + cw * ch + y * cw + x] = Math.round(128 + 40 * Math.cos(y / 9 + i / 8));
    }
  }
  return { width, height, data };
}

/** Mean absolute difference over every 7th byte of a plane range. */
function meanDiff(a: Uint8Array, b: Uint8Array, from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let k = from; k < to; k += 7) {
    sum += Math.abs(a[k]! - b[k]!);
    n++;
  }
  return sum / n;
}

// Starts 20 frames below 2^32, so the timestamps wrap in the middle of the clip.
const START = 2 ** 32 - 20 * 3000;
const rtpOf = (i: number): number => (START + i * 3000) >>> 0;

const both = VIDEO_CODECS.filter((c) => videoEncoderName(c) !== undefined && videoDecoderName(c) !== undefined);
const skipReason = (codec: VideoCodec): string | false => !both.includes(codec) && `this FFmpeg build can't encode and decode ${codec}`;

describe('video codecs: encode → decode round trips', () => {
  for (const codec of VIDEO_CODECS) {
    // VP8/VP9 take odd sizes; x264/x265/SVT-AV1 want even ones for 4:2:0.
    const sizes: Array<[number, number]> =
      codec === 'VP8' || codec === 'VP9'
        ? [
            [320, 240],
            [161, 97],
          ]
        : [[320, 240]];
    for (const [width, height] of sizes) {
      test(`${codec} ${width}x${height}: one packet and one picture per frame, in the same call, timestamps carried`, { skip: skipReason(codec) }, () => {
        const encoder = new VideoEncoder({ codec, width, height });
        const decoder = new VideoDecoder(codec);
        try {
          const frames = 40;
          const keyframes: number[] = [];
          let lumaDiff = 0;
          let chromaDiff = 0;
          for (let i = 0; i < frames; i++) {
            const source = pattern(width, height, i);
            const packets = encoder.encode(source, rtpOf(i), { forceKeyframe: i === 25 });
            assert.equal(packets.length, 1, `frame ${i}: the encoder gave ${packets.length} packets`);
            const packet = packets[0]!;
            assert.equal(packet.rtpTimestamp, rtpOf(i));
            if (packet.keyframe) keyframes.push(i);
            const result = decoder.decode(packet.data, packet.rtpTimestamp, packet.keyframe);
            assert.equal(result.status, 'ok', `frame ${i}: ${result.error}`);
            assert.equal(result.frames.length, 1, `frame ${i}: the decoder gave ${result.frames.length} frames (held?)`);
            const out = result.frames[0]!;
            assert.equal(out.width, width);
            assert.equal(out.height, height);
            assert.equal(out.data.length, i420Size(width, height));
            assert.equal(out.rtpTimestamp, rtpOf(i));
            if (i >= 5) {
              lumaDiff = Math.max(lumaDiff, meanDiff(source.data, out.data, 0, width * height));
              chromaDiff = Math.max(chromaDiff, meanDiff(source.data, out.data, width * height, out.data.length));
            }
          }
          assert.deepEqual(keyframes, [0, 25], 'keyframes: the first, and the forced one');
          assert.ok(lumaDiff < 4, `${codec}: mean luma difference ${lumaDiff.toFixed(2)}`);
          assert.ok(chromaDiff < 4, `${codec}: mean chroma difference ${chromaDiff.toFixed(2)}`);
          assert.deepEqual(encoder.counters, { framesIn: frames, packetsOut: frames, keyframes: 2, held: 0 });
          const counters = decoder.counters;
          assert.equal(counters.framesIn, frames);
          assert.equal(counters.framesOut, frames);
          assert.equal(counters.held, 0);
          assert.equal(counters.errors, 0);
          assert.equal(counters.converted, 0);
        } finally {
          encoder.close();
          decoder.close();
        }
      });
    }

    test(`${codec}: a decoder that missed the first keyframe waits for the next one, then decodes`, { skip: skipReason(codec) }, () => {
      const encoder = new VideoEncoder({ codec, width: 160, height: 120 });
      const packets: EncodedVideo[] = [];
      for (let i = 0; i < 12; i++) packets.push(...encoder.encode(pattern(160, 120, i), i * 3000, { forceKeyframe: i === 6 }));
      encoder.close();
      const decoder = new VideoDecoder(codec);
      try {
        const statuses = packets.slice(1).map((p) => {
          const result = decoder.decode(p.data, p.rtpTimestamp, p.keyframe);
          return `${result.status}:${result.frames.length}`;
        });
        // The first delta frame fails (no reference, or for H.264/H.265 no parameter sets); the rest wait.
        assert.deepEqual(statuses.slice(0, 5), ['error:0', ...Array(4).fill('awaiting-keyframe:0')]);
        assert.deepEqual(statuses.slice(5), Array(6).fill('ok:1'));
        assert.equal(decoder.needsKeyframe, false);
        assert.deepEqual([decoder.counters.errors, decoder.counters.skipped, decoder.counters.framesOut], [1, 4, 6]);
      } finally {
        decoder.close();
      }
    });

    test(`${codec}: periodic keyframes every keyframeInterval frames, each one a place to start decoding`, { skip: skipReason(codec) }, () => {
      const encoder = new VideoEncoder({ codec, width: 160, height: 120, keyframeInterval: 10 });
      const packets = Array.from({ length: 25 }, (_, i) => encoder.encode(pattern(160, 120, i), i * 3000)[0]!);
      encoder.close();
      const keyframes = packets.flatMap((p, i) => (p.keyframe ? [i] : []));
      assert.deepEqual(keyframes, [0, 10, 20]);
      const decoder = new VideoDecoder(codec);
      try {
        for (const p of packets.slice(10)) assert.equal(decoder.decode(p.data, p.rtpTimestamp, p.keyframe).frames.length, 1);
      } finally {
        decoder.close();
      }
    });

    test(`${codec}: the bit rate is configurable`, { skip: skipReason(codec) }, () => {
      const bytesAt = (bitrate: number): number => {
        const encoder = new VideoEncoder({ codec, width: 320, height: 240, bitrate });
        let bytes = 0;
        // A pattern with fine detail, so that the rate, not the content, limits the size.
        for (let i = 0; i < 30; i++) {
          const frame = pattern(320, 240, i);
          for (let k = 0; k < 320 * 240; k++) frame.data[k] = (frame.data[k]! + ((k * 7919 + i * 104729) % 61)) & 0xff;
          for (const p of encoder.encode(frame, i * 3000)) bytes += p.data.length;
        }
        encoder.close();
        return bytes;
      };
      const low = bytesAt(150_000);
      const high = bytesAt(1_500_000);
      assert.ok(high > 2 * low, `${codec}: ${low} bytes at 150 kbps, ${high} at 1.5 Mbps`);
    });
  }

  test('H.264: a frame of another size reopens the encoder with a keyframe; a wrong-sized buffer throws', { skip: skipReason('H264') }, () => {
    const encoder = new VideoEncoder({ codec: 'H264', width: 320, height: 240 });
    const decoder = new VideoDecoder('H264');
    try {
      for (const [i, [w, h]] of [
        [320, 240],
        [320, 240],
        [640, 360],
        [640, 360],
      ].entries()) {
        const [p] = encoder.encode(pattern(w!, h!, i), i * 3000);
        assert.equal(p!.keyframe, i === 0 || i === 2);
        const [frame] = decoder.decode(p!.data, p!.rtpTimestamp).frames;
        assert.deepEqual([frame!.width, frame!.height], [w, h]);
      }
      assert.throws(() => encoder.encode({ width: 320, height: 240, data: new Uint8Array(100) }, 0), /320x240 has 100 bytes, expected 115200/);
      encoder.close();
      encoder.close();
      assert.throws(() => encoder.encode(pattern(320, 240, 0), 0), /closed/);
    } finally {
      encoder.close();
      decoder.close();
    }
  });
});
