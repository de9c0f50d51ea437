/**
 * VideoDecoder on streams it didn't make: H.264 from the ffmpeg CLI (4:2:0, 4:4:4, full range, 10-bit), checked
 * against ffmpeg's own decode; then its contract: parameter sets alone are fine, corrupt units are an error status
 * (never a throw) and the decoder recovers at the next keyframe, close() is immediate and idempotent, and it decodes
 * on the CPU unless given a hardware device.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { CPU_CODEC_DEVICE } from '../src/codecs/hw-device.js';
import { i420Size } from '../src/codecs/i420-size.js';
import { VideoDecoder, videoDecoderName } from '../src/codecs/video-decoder.js';
import { VideoEncoder, videoEncoderName } from '../src/codecs/video-encoder.js';
import type { I420Frame } from '../src/media-frames.js';

const W = 320;
const H = 240;

function ffmpeg(args: string[], input?: Uint8Array): Uint8Array | undefined {
  const run = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', ...args], { input, maxBuffer: 64 << 20 });
  return run.status === 0 ? new Uint8Array(run.stdout) : undefined;
}

/** 10 frames of testsrc as a raw H.264 stream from the ffmpeg CLI (no B-frames), or undefined without ffmpeg/libx264. */
function cliH264(extra: string[] = []): Uint8Array | undefined {
  return ffmpeg(['-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=30`, '-frames:v', '10', '-c:v', 'libx264', '-bf', '0', ...extra, '-f', 'h264', 'pipe:1']);
}

/** ffmpeg's own decode of an H.264 stream, as 8-bit limited-range I420 frames. */
function cliDecode(stream: Uint8Array): Uint8Array[] {
  const raw = ffmpeg(['-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-color_range', 'tv', 'pipe:1'], stream)!;
  const size = i420Size(W, H);
  return Array.from({ length: raw.length / size }, (_, i) => raw.subarray(i * size, (i + 1) * size));
}

/**
 * Splits an Annex B H.264 stream into access units (H.264 7.4.1.2.3): one starts at an AUD, SEI, SPS or PPS after a
 * slice, or at a slice whose first_mb_in_slice is 0 (first payload bit set) after a slice.
 */
function accessUnits(stream: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i > 0 && stream[i - 1] === 0 ? i - 1 : i);
      i += 2;
    }
  }
  const units: Uint8Array[] = [];
  let unitStart = 0;
  let sawSlice = false;
  for (const start of starts) {
    const headerAt = stream[start + 2] === 1 ? start + 3 : start + 4;
    const type = stream[headerAt]! & 0x1f;
    const slice = type === 1 || type === 5;
    const opens = (type >= 6 && type <= 9) || (slice && (stream[headerAt + 1]! & 0x80) !== 0);
    if (sawSlice && opens) {
      units.push(stream.subarray(unitStart, start));
      unitStart = start;
      sawSlice = false;
    }
    sawSlice ||= slice;
  }
  units.push(stream.subarray(unitStart));
  return units;
}

function planeDiff(a: Uint8Array, b: Uint8Array, from: number, to: number): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let k = from; k < to; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / (to - from), max };
}

/** Decodes each access unit and checks that its frame comes out of that very call. */
function decodeEach(decoder: VideoDecoder, units: Uint8Array[]): I420Frame[] {
  return units.map((unit, i) => {
    const result = decoder.decode(unit, 1000 + i * 3000);
    assert.equal(result.status, 'ok', `access unit ${i}: ${result.error}`);
    assert.equal(result.frames.length, 1, `access unit ${i} gave ${result.frames.length} frames in its own call`);
    assert.equal(result.frames[0]!.rtpTimestamp, 1000 + i * 3000);
    return result.frames[0]!;
  });
}

const noCli = cliH264(['-pix_fmt', 'yuv420p']) === undefined && 'no ffmpeg CLI with libx264';
const noX264 = videoEncoderName('H264') === undefined && 'this FFmpeg build has no H.264 encoder';

describe('VideoDecoder', () => {
  test('decoders this build uses: h264, hevc, vp8, vp9, and libdav1d for AV1', () => {
    assert.equal(videoDecoderName('H264'), 'h264');
    assert.equal(videoDecoderName('H265'), 'hevc');
    assert.equal(videoDecoderName('VP8'), 'vp8');
    assert.equal(videoDecoderName('VP9'), 'vp9');
    // The native av1 decoder needs a hardware accelerator; libdav1d is the CPU decoder.
    assert.ok(['libdav1d', 'av1'].includes(videoDecoderName('AV1')!));
    const decoder = new VideoDecoder('AV1');
    assert.equal(decoder.decoderName, videoDecoderName('AV1'));
    decoder.close();
  });

  describe('H.264 from the ffmpeg CLI', { skip: noCli }, () => {
    test('4:2:0: every access unit gives its frame in the same call, identical to ffmpeg’s decode', () => {
      const stream = cliH264(['-pix_fmt', 'yuv420p'])!;
      const units = accessUnits(stream);
      assert.equal(units.length, 10);
      const decoder = new VideoDecoder('H264');
      const frames = decodeEach(decoder, units);
      const reference = cliDecode(stream);
      frames.forEach((frame, i) => {
        assert.deepEqual([frame.width, frame.height, frame.data.length], [W, H, i420Size(W, H)]);
        assert.ok(Buffer.from(frame.data).equals(reference[i]!), `frame ${i} differs from ffmpeg's decode`);
      });
      assert.deepEqual({ ...decoder.counters }, { accessUnits: 10, framesIn: 10, framesOut: 10, errors: 0, skipped: 0, noPicture: 0, held: 0, converted: 0 });
      decoder.close();
    });

    test('with 4 threads (slice threading only) no frame is held either', () => {
      const stream = cliH264(['-pix_fmt', 'yuv420p', '-x264-params', 'slices=4'])!;
      for (const codecThreads of [2, 4]) {
        const decoder = new VideoDecoder('H264', { threads: codecThreads });
        assert.equal(decodeEach(decoder, accessUnits(stream)).length, 10);
        assert.equal(decoder.counters.held, 0);
        decoder.close();
      }
    });

    test('the plain command (testsrc → libx264 picks 4:4:4): converted to I420 by swscale', () => {
      const stream = cliH264()!;
      const decoder = new VideoDecoder('H264');
      const frames = decodeEach(decoder, accessUnits(stream));
      assert.equal(frames.length, 10);
      assert.equal(decoder.counters.converted, 10);
      const reference = cliDecode(stream);
      frames.forEach((frame, i) => {
        // Luma passes through unchanged; chroma is subsampled (filters may differ by a level between swscale versions).
        assert.ok(Buffer.from(frame.data.subarray(0, W * H)).equals(reference[i]!.subarray(0, W * H)), `frame ${i}: luma differs`);
        assert.ok(planeDiff(frame.data, reference[i]!, W * H, frame.data.length).mean < 1.5);
      });
      decoder.close();
    });

    const fullRangeStream = cliH264(['-pix_fmt', 'yuvj420p']);
    test(
      'full range (yuvj420p): copied as it is, not squeezed into 16..235 (senders mark the same picture differently by codec)',
      { skip: fullRangeStream === undefined && "ffmpeg's libx264 can't encode yuvj420p" },
      () => {
        const decoder = new VideoDecoder('H264');
        const frames = decodeEach(decoder, accessUnits(fullRangeStream!));
        assert.equal(frames.length, 10);
        assert.equal(decoder.counters.converted, 0);
        const y = frames[0]!.data.subarray(0, W * H);
        // testsrc's black and white stay near 0 and 255.
        assert.ok(Math.min(...y) < 16 && Math.max(...y) > 235, `luma ${Math.min(...y)}..${Math.max(...y)}`);
        decoder.close();
      },
    );

    for (const [name, args, fullRange] of [['10-bit (yuv420p10le)', ['-pix_fmt', 'yuv420p10le', '-profile:v', 'high10'], false]] as const) {
      const stream = cliH264([...args]);
      test(
        `${name}: converted to 8-bit limited range, as ffmpeg converts it`,
        { skip: stream === undefined && `ffmpeg's libx264 can't encode ${name}` },
        () => {
          const decoder = new VideoDecoder('H264');
          const frames = decodeEach(decoder, accessUnits(stream!));
          assert.equal(decoder.counters.converted, 10);
          const reference = cliDecode(stream!);
          frames.forEach((frame, i) => {
            const luma = planeDiff(frame.data, reference[i]!, 0, W * H);
            assert.ok(luma.mean < 1 && luma.max <= 3, `frame ${i}: luma differs from ffmpeg's by ${luma.mean.toFixed(2)} (max ${luma.max})`);
            // Full range squeezed into 16..235 (testsrc's black and white were 0 and 255 before).
            const y = frame.data.subarray(0, W * H);
            if (fullRange) assert.ok(Math.min(...y) >= 16 && Math.max(...y) <= 235, `luma ${Math.min(...y)}..${Math.max(...y)}`);
          });
          decoder.close();
        },
      );
    }
  });

  describe('errors and recovery (H.264 from the encoder here)', { skip: noX264 }, () => {
    const packets = (() => {
      if (noX264) return [];
      const encoder = new VideoEncoder({ codec: 'H264', width: W, height: H });
      const out = Array.from({ length: 8 }, (_, i) => {
        const data = new Uint8Array(i420Size(W, H)).fill(128);
        for (let k = 0; k < W * H; k++) data[k] = (k % W) + i * 3;
        return encoder.encode({ width: W, height: H, data }, i * 3000, { forceKeyframe: i === 5 })[0]!;
      });
      encoder.close();
      return out;
    })();

    test('parameter sets alone: no frame, no error; the IDR after them decodes', () => {
      const key = packets[0]!.data;
      const decoder = new VideoDecoder('H264');
      // The first slice NAL unit (IDR, type 5) ends the parameter sets.
      let idr = 0;
      for (let i = 0; i + 4 < key.length; i++) if (key[i] === 0 && key[i + 1] === 0 && key[i + 2] === 1 && (key[i + 3]! & 0x1f) === 5) idr = i - 1;
      assert.ok(idr > 0);
      const parameterSets = decoder.decode(key.subarray(0, idr), 0, true);
      assert.deepEqual(parameterSets, { status: 'ok', frames: [] });
      const picture = decoder.decode(key.subarray(idr), 0, true);
      assert.equal(picture.status, 'ok');
      assert.equal(picture.frames.length, 1);
      assert.equal(decoder.counters.noPicture, 1);
      assert.equal(decoder.counters.errors, 0);
      assert.equal(decoder.counters.held, 0);
      decoder.close();
    });

    test('a truncated unit, garbage and an empty unit are error statuses; the decoder waits for the next keyframe', () => {
      const decoder = new VideoDecoder('H264');
      const statuses: string[] = [];
      const feed = (data: Uint8Array, i: number, keyframe?: boolean): void => {
        const result = decoder.decode(data, i * 3000, keyframe);
        statuses.push(`${result.status}:${result.frames.length}`);
        if (result.status === 'error') assert.ok(result.error && result.error.length > 0);
      };
      feed(packets[0]!.data, 0, true);
      feed(packets[1]!.data.subarray(0, packets[1]!.data.length >> 1), 1, false); // truncated
      assert.equal(decoder.needsKeyframe, true);
      feed(packets[2]!.data, 2, false); // dropped unseen
      feed(packets[3]!.data, 3); // no keyframe flag: decoded without its reference, gives nothing
      let seed = 7;
      feed(
        Uint8Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff),
        4,
      ); // garbage
      feed(Uint8Array.of(0, 0, 0, 1, 0x41, ...Array(64).fill(0xa5)), 4); // a "slice" of garbage
      feed(new Uint8Array(0), 4); // empty (must not put libavcodec into draining mode)
      feed(packets[5]!.data, 5, true); // the forced keyframe
      assert.equal(decoder.needsKeyframe, false);
      feed(packets[6]!.data, 6, false);
      feed(packets[7]!.data, 7, false);
      assert.deepEqual(statuses, ['ok:1', 'error:0', 'awaiting-keyframe:0', 'awaiting-keyframe:0', 'error:0', 'error:0', 'error:0', 'ok:1', 'ok:1', 'ok:1']);
      const c = decoder.counters;
      assert.deepEqual([c.accessUnits, c.framesOut, c.errors, c.skipped, c.held], [10, 4, 4, 2, 0]);
      decoder.close();
    });

    test('a truncated keyframe is an error too', () => {
      const decoder = new VideoDecoder('H264');
      const key = packets[0]!.data;
      assert.equal(decoder.decode(key.subarray(0, key.length - 200), 0, true).status, 'error');
      assert.equal(decoder.decode(key, 0, true).frames.length, 1);
      decoder.close();
    });
  });

  for (const codec of ['H265', 'AV1'] as const) {
    test(`${codec}: parameter sets (a sequence header) alone give no frame and no error`, { skip: !videoEncoderName(codec) && `no ${codec} encoder` }, () => {
      const encoder = new VideoEncoder({ codec, width: 160, height: 120 });
      const key = encoder.encode({ width: 160, height: 120, data: new Uint8Array(i420Size(160, 120)).fill(100) }, 0)[0]!.data;
      encoder.close();
      const split =
        codec === 'H265'
          ? firstNal(
              key,
              (header) => (header >> 1) & 0x3f,
              (type) => type < 32,
            )
          : firstObu(key, (type) => type === 3 || type === 6);
      assert.ok(split > 0);
      const decoder = new VideoDecoder(codec);
      assert.deepEqual(decoder.decode(key.subarray(0, split), 0, true), { status: 'ok', frames: [] });
      const picture = decoder.decode(key.subarray(split), 0, true);
      assert.equal(picture.frames.length, 1, `${picture.status} ${picture.error ?? ''}`);
      assert.deepEqual([decoder.counters.noPicture, decoder.counters.errors], [1, 0]);
      decoder.close();
    });
  }

  for (const codec of ['H264', 'H265', 'VP8', 'VP9', 'AV1'] as const) {
    test(
      `${codec}: garbage is an error status, not a throw, and the next keyframe decodes`,
      { skip: !videoEncoderName(codec) && `no ${codec} encoder` },
      () => {
        const encoder = new VideoEncoder({ codec, width: 160, height: 120 });
        const frame = { width: 160, height: 120, data: new Uint8Array(i420Size(160, 120)).fill(90) };
        const [first, second] = [encoder.encode(frame, 0)[0]!, encoder.encode(frame, 3000, { forceKeyframe: true })[0]!];
        encoder.close();
        const decoder = new VideoDecoder(codec);
        assert.equal(decoder.decode(first.data, 0, true).frames.length, 1);
        let seed = 11;
        for (let n = 0; n < 20; n++) {
          const garbage = Uint8Array.from({ length: 50 + n * 13 }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16);
          const result = decoder.decode(garbage, 1500);
          assert.equal(result.status, 'error', `garbage #${n} gave ${result.status}`);
        }
        assert.equal(decoder.needsKeyframe, true);
        assert.equal(decoder.decode(second.data, 3000, true).frames.length, 1);
        decoder.close();
      },
    );
  }

  test('close() frees at once and twice is safe; decode after close throws', () => {
    const decoder = new VideoDecoder('VP8');
    decoder.close();
    decoder.close();
    assert.throws(() => decoder.decode(Uint8Array.of(1, 2, 3), 0), /VP8 decoder is closed/);
  });

  test('device: the CPU device (the default) decodes on the CPU (hardware devices: codecs-hw-device.test.ts)', () => {
    for (const decoder of [new VideoDecoder('H264', { device: CPU_CODEC_DEVICE }), new VideoDecoder('H264')]) {
      assert.equal(decoder.device, 'cpu');
      assert.equal(decoder.decoderName, 'h264');
      decoder.close();
    }
  });
});

/** Offset of the start code (with its leading zero byte, if any) of the first NAL unit whose type passes `test`. */
function firstNal(au: Uint8Array, typeOf: (header: number) => number, test: (type: number) => boolean): number {
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && test(typeOf(au[i + 3]!))) return i > 0 && au[i - 1] === 0 ? i - 1 : i;
  }
  return -1;
}

/** Offset of the first OBU (low-overhead format, one-byte header, no extension) whose type passes `test`. */
function firstObu(tu: Uint8Array, test: (type: number) => boolean): number {
  for (let offset = 0; offset < tu.length;) {
    if (test((tu[offset]! >> 3) & 0x0f)) return offset;
    let size = 0;
    let i = offset + 1;
    for (let shift = 0; ; shift += 7, i++) {
      size += (tu[i]! & 0x7f) * 2 ** shift;
      if ((tu[i]! & 0x80) === 0) break;
    }
    offset = i + 1 + size;
  }
  return -1;
}
