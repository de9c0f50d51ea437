/**
 * `--codec-device`: the device is opened for real through node-av (FFmpeg's av_hwdevice_ctx_create), never assumed.
 * `cpu` touches no hardware; `auto` takes the first of cuda, vaapi, qsv that opens, else the CPU; an explicit device
 * that does not open is an Error naming it, what failed and the way out, and never turns into the CPU. Then the codecs
 * on the device `auto` gives (the CPU on a machine without a GPU): encode → decode still works, in the same call.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AUTO_ORDER, CPU_CODEC_DEVICE, openCodecDevice, type CodecDevice, type HardwareKind } from '../src/codecs/hw-device.js';
import { i420Size } from '../src/codecs/i420-size.js';
import { VIDEO_CODECS, type VideoCodec } from '../src/codecs/video-codec.js';
import { VideoDecoder, videoDecoderName } from '../src/codecs/video-decoder.js';
import { i420ToNv12, VideoEncoder, videoEncoderName } from '../src/codecs/video-encoder.js';
import type { I420Frame } from '../src/media-frames.js';

/** The DRM render nodes this machine has (none: no VAAPI or QSV device can open). */
const renderNodes = ((): string[] => {
  try {
    return readdirSync('/dev/dri').filter((n) => n.startsWith('renderD'));
  } catch {
    return [];
  }
})();
/** Whether the machine shows an NVIDIA device at all (without one, CUDA cannot open). */
const nvidia = existsSync('/dev/nvidiactl');

/** Opens `kind` for real: the device, or the Error's message. */
async function attempt(kind: HardwareKind, env: NodeJS.ProcessEnv = {}): Promise<CodecDevice | string> {
  try {
    return await openCodecDevice(kind, { env });
  } catch (err) {
    return (err as Error).message;
  }
}

/** A moving pattern with chroma that varies too. */
function pattern(width: number, height: number, i: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = Math.round(128 + 80 * Math.sin(x / 17 + i / 6) * Math.cos(y / 13));
  }
  data.fill(100, width * height, width * height + (data.length - width * height) / 2);
  data.fill(150, width * height + (data.length - width * height) / 2);
  return { width, height, data };
}

describe('openCodecDevice', () => {
  test('cpu: the CPU, without touching hardware', async () => {
    const device = await openCodecDevice('cpu', { log: () => assert.fail('cpu logs nothing') });
    assert.equal(device, CPU_CODEC_DEVICE);
    assert.equal(device.kind, 'cpu');
    assert.equal(device.context, undefined);
    assert.equal(device.decode, undefined);
  });

  test('auto: the first hardware kind that opens (cuda, vaapi, qsv), else the CPU, saying what it chose', async () => {
    const opened: HardwareKind[] = [];
    for (const kind of AUTO_ORDER) {
      const a = await attempt(kind);
      if (typeof a !== 'string') {
        opened.push(kind);
        a.close();
      }
    }
    const logged: string[] = [];
    const device = await openCodecDevice('auto', { env: {}, log: (m) => logged.push(m) });
    try {
      if (opened.length === 0) {
        // This machine (no GPU): the CPU, and the log says why each kind was passed over.
        assert.equal(device, CPU_CODEC_DEVICE);
        assert.equal(logged.length, 1);
        assert.match(logged[0]!, /^codec device: cpu \(--codec-device auto found no hardware device; cuda: .+; vaapi: .+; qsv: .+\)$/);
      } else {
        assert.equal(device.kind, opened[0]);
        assert.notEqual(device.context, undefined);
        assert.match(logged[0]!, new RegExp(`^codec device: ${opened[0]!}`));
      }
    } finally {
      device.close();
    }
  });

  test(
    'vaapi without a render node: an Error naming the node it tried and the way out, never the CPU',
    { skip: renderNodes.length > 0 && 'this machine has /dev/dri render nodes' },
    async () => {
      const a = await attempt('vaapi');
      assert.equal(typeof a, 'string', 'vaapi opened a device on a machine without /dev/dri');
      assert.match(a as string, /^--codec-device vaapi: could not open a VAAPI device: \/dev\/dri\/renderD128 does not exist\. /);
      assert.match(a as string, /--device \/dev\/dri/);
      assert.match(a as string, /SIGHTLINE_VAAPI_DEVICE/);
      assert.match(a as string, /use --codec-device cpu/);
    },
  );

  test('vaapi on a node that is no GPU (SIGHTLINE_VAAPI_DEVICE=/dev/null): libva refuses it, and the Error says so', async () => {
    const a = await attempt('vaapi', { SIGHTLINE_VAAPI_DEVICE: '/dev/null' });
    assert.equal(typeof a, 'string', '/dev/null opened as a VAAPI device');
    // FFmpeg's own failure (its error code's text, and what libva said), not a guess made before trying.
    assert.match(a as string, /^--codec-device vaapi: could not open a VAAPI device \(SIGHTLINE_VAAPI_DEVICE\): \/dev\/null: [^.]+/);
    assert.match(a as string, /use --codec-device cpu/);
  });

  test(
    "cuda without an NVIDIA device: an Error with FFmpeg's reason and the way out, never the CPU",
    { skip: nvidia && 'this machine has an NVIDIA device' },
    async () => {
      const a = await attempt('cuda');
      assert.equal(typeof a, 'string', 'cuda opened a device on a machine without /dev/nvidiactl');
      assert.match(a as string, /^--codec-device cuda: could not open the CUDA device: .+\. CUDA needs an NVIDIA GPU/);
      assert.match(a as string, /--gpus all/);
      assert.match(a as string, /use --codec-device cpu/);
    },
  );

  test(
    'qsv without a render node: an Error with the way out, never the CPU',
    { skip: renderNodes.length > 0 && 'this machine has /dev/dri render nodes' },
    async () => {
      const a = await attempt('qsv');
      assert.equal(typeof a, 'string', 'qsv opened a device on a machine without /dev/dri');
      assert.match(a as string, /^--codec-device qsv: could not open the Intel Quick Sync \(QSV\) device: .+\. QSV needs an Intel GPU/);
      assert.match(a as string, /use --codec-device cpu/);
    },
  );

  test('a hardware device that opens is that device (with its FFmpeg context), never the CPU', async (t) => {
    let any = false;
    for (const kind of AUTO_ORDER) {
      const a = await attempt(kind);
      if (typeof a === 'string') continue;
      any = true;
      assert.equal(a.kind, kind);
      assert.notEqual(a.context, undefined);
      a.close();
      a.close();
    }
    if (!any) t.skip('no hardware device opens on this machine');
  });
});

describe('codecs on a codec device', () => {
  test('a codec the device cannot run runs on the CPU, and the device says so once', () => {
    // Stands in for a device whose hardware has neither a VP8 encoder nor decoding (NVENC has no VP8; QSV without a
    // VAAPI device to decode on): no hardware context is needed to take the CPU path.
    const notices: string[] = [];
    const said = new Set<string>();
    const device: CodecDevice = {
      kind: 'cuda',
      description: 'cuda',
      context: undefined,
      decode: undefined,
      notice: (m) => {
        if (!said.has(m)) notices.push(m);
        said.add(m);
      },
      close: () => undefined,
    };
    for (let i = 0; i < 2; i++) {
      const encoder = new VideoEncoder({ codec: 'VP8', width: 64, height: 48, device });
      const decoder = new VideoDecoder('VP8', { device });
      assert.equal(encoder.device, 'cpu');
      assert.equal(encoder.encoderName, 'libvpx');
      assert.equal(decoder.device, 'cpu');
      assert.equal(decoder.decoderName, 'vp8');
      const [packet] = encoder.encode(pattern(64, 48, 0), 0);
      assert.equal(decoder.decode(packet!.data, 0, true).frames.length, 1);
      encoder.close();
      decoder.close();
    }
    assert.deepEqual(notices, [
      'FFmpeg has no cuda encoder for VP8; encoding VP8 on the CPU (libvpx)',
      'cuda has no hardware decoding here; decoding VP8 on the CPU (vp8)',
    ]);
  });

  test('I420 → NV12 (the layout QSV and VA-API take): Y as it is, then U and V interleaved; odd sizes round up', () => {
    // 3x3: Y 9 bytes, chroma 2x2 per plane.
    const i420 = Uint8Array.from([...Array.from({ length: 9 }, (_, k) => k), 10, 11, 12, 13, 20, 21, 22, 23]);
    const nv12 = i420ToNv12(i420, 3, 3, new Uint8Array(i420.length));
    assert.deepEqual([...nv12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 11, 21, 12, 22, 13, 23]);
    assert.throws(() => i420ToNv12(i420, 4, 4, new Uint8Array(i420.length)), /expected 24/);
  });

  const both = VIDEO_CODECS.filter((c) => videoEncoderName(c) !== undefined && videoDecoderName(c) !== undefined);
  for (const codec of VIDEO_CODECS) {
    test(
      `${codec} on the device auto opens (the CPU here): one packet and one picture per frame, in the same call`,
      { skip: !both.includes(codec) && `this FFmpeg build can't encode and decode ${codec}` },
      async () => {
        const device = await openCodecDevice('auto', { env: {} });
        const width = 320;
        const height = 240;
        const encoder = new VideoEncoder({ codec, width, height, device });
        const decoder = new VideoDecoder(codec, { device });
        try {
          if (device.kind === 'cpu') {
            assert.equal(encoder.device, 'cpu');
            assert.equal(decoder.device, 'cpu');
            assert.equal(encoder.encoderName, videoEncoderName(codec as VideoCodec));
            assert.equal(decoder.decoderName, videoDecoderName(codec as VideoCodec));
          }
          for (let i = 0; i < 12; i++) {
            const source = pattern(width, height, i);
            const packets = encoder.encode(source, i * 3000, { forceKeyframe: i === 8 });
            assert.equal(packets.length, 1, `frame ${i}: ${packets.length} packets from ${encoder.encoderName} (${encoder.device})`);
            if (i === 0 || i === 8) assert.equal(packets[0]!.keyframe, true, `frame ${i} is a keyframe`);
            const result = decoder.decode(packets[0]!.data, packets[0]!.rtpTimestamp, packets[0]!.keyframe);
            assert.equal(result.status, 'ok', `frame ${i}: ${result.error}`);
            assert.equal(result.frames.length, 1, `frame ${i}: ${result.frames.length} pictures from ${decoder.decoderName} (${decoder.device})`);
            const out = result.frames[0]!;
            assert.equal(out.width, width);
            assert.equal(out.height, height);
            assert.equal(out.rtpTimestamp, i * 3000);
            assert.equal(out.data.length, i420Size(width, height));
            // The picture survives (whatever the device): mean luma error over every 7th sample.
            let diff = 0;
            for (let k = 0; k < width * height; k += 7) diff += Math.abs(out.data[k]! - source.data[k]!);
            assert.ok(diff / Math.ceil((width * height) / 7) < 12, `frame ${i}: mean luma error ${diff / Math.ceil((width * height) / 7)}`);
          }
          assert.equal(decoder.counters.held, 0);
        } finally {
          encoder.close();
          decoder.close();
          device.close();
        }
      },
    );
  }
});
