/**
 * Codecs bench (the libdatachannel engine's codec layer, node-av in-process): for each video codec this FFmpeg build
 * can encode and decode, a synthetic 2 s clip is encoded with the engine's VideoEncoder, then decoded over and over
 * with VideoDecoder — one thread, holding no frame, I420 copy included, as the engine runs it. Encode time is the
 * clip's encoding, per frame. Opus: one 20 ms packet each way.
 */
import {
  i420Size,
  OpusDecoder,
  OpusEncoder,
  VIDEO_CODECS,
  VideoDecoder,
  videoDecoderName,
  VideoEncoder,
  videoEncoderName,
  type EncodedVideo,
  type I420Frame,
  type VideoCodec,
} from '@sightline/media';

const SECONDS = Number(process.env.BENCH_CODECS_SECONDS ?? 2);
const CLIP_FRAMES = 60;
const SIZES: Array<[number, number, number]> = [
  [640, 480, 1_500_000],
  [1280, 720, 2_500_000],
];

/** A moving picture with edges, gradients and some texture, so that encoders spend bits as on a camera. */
function clipFrame(width: number, height: number, i: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const square = ((x + i * 4) >> 5) % 2 === ((y + i * 2) >> 5) % 2 ? 60 : 0;
      data[y * width + x] = (40 + square + ((x * 3 + y * 2 + i * 5) % 120) + ((x * 7919 + y * 104729) % 13)) & 0xff;
    }
  }
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  for (let k = 0; k < cw * ch; k++) {
    data[width * height + k] = 128 + Math.round(30 * Math.sin((k % cw) / 20 + i / 10));
    data[width * height + cw * ch + k] = 128 + Math.round(30 * Math.cos(Math.floor(k / cw) / 15));
  }
  return { width, height, data };
}

const clips = new Map<string, I420Frame[]>();

function encodeClip(codec: VideoCodec, width: number, height: number, bitrate: number): { packets: EncodedVideo[]; msPerFrame: number } {
  const key = `${width}x${height}`;
  const frames = clips.get(key) ?? Array.from({ length: CLIP_FRAMES }, (_, i) => clipFrame(width, height, i));
  clips.set(key, frames);
  const encoder = new VideoEncoder({ codec, width, height, bitrate });
  const packets: EncodedVideo[] = [];
  const t0 = performance.now();
  frames.forEach((frame, i) => packets.push(...encoder.encode(frame, i * 3000)));
  const msPerFrame = (performance.now() - t0) / CLIP_FRAMES;
  encoder.close();
  return { packets, msPerFrame };
}

/**
 * ms per decoded frame: the clip is decoded again and again (it starts with a keyframe) for SECONDS, and the median
 * pass is reported, so that a burst of other work on a shared machine doesn't skew it.
 */
function decodeMsPerFrame(codec: VideoCodec, packets: EncodedVideo[]): number {
  const decoder = new VideoDecoder(codec);
  const pass = (): number => {
    let frames = 0;
    for (const p of packets) {
      const result = decoder.decode(p.data, p.rtpTimestamp, p.keyframe);
      if (result.status !== 'ok' || result.frames.length !== 1)
        throw new Error(`${codec}: ${result.status} ${result.error ?? ''} (${result.frames.length} frames)`);
      frames++;
    }
    return frames;
  };
  pass(); // warm-up
  const perFrame: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const p0 = performance.now();
    const frames = pass();
    perFrame.push((performance.now() - p0) / frames);
  }
  decoder.close();
  perFrame.sort((a, b) => a - b);
  return perFrame[perFrame.length >> 1]!;
}

export async function runCodecsBench(): Promise<void> {
  console.log(`\nSightline codecs bench — libavcodec via node-av, 1 thread, ${CLIP_FRAMES}-frame synthetic clip, median of ${SECONDS} s of decoding passes\n`);
  console.log(
    '| codec | decoder | 640x480 decode ms/frame | 1280x720 decode ms/frame | encoder | 640x480 encode ms/frame | 1280x720 encode ms/frame | kbit/s (640x480, 720p) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const codec of VIDEO_CODECS) {
    const decoderName = videoDecoderName(codec);
    const encoderName = videoEncoderName(codec);
    if (decoderName === undefined || encoderName === undefined) {
      console.log(`| ${codec} | ${decoderName ?? '—'} | — | — | ${encoderName ?? '—'} | — | — | — |`);
      continue;
    }
    const decode: string[] = [];
    const encode: string[] = [];
    const rates: string[] = [];
    for (const [width, height, bitrate] of SIZES) {
      const { packets, msPerFrame } = encodeClip(codec, width, height, bitrate);
      const bytes = packets.reduce((n, p) => n + p.data.length, 0);
      rates.push(((bytes * 8) / (CLIP_FRAMES / 30) / 1000).toFixed(0));
      encode.push(msPerFrame.toFixed(2));
      decode.push(decodeMsPerFrame(codec, packets).toFixed(2));
    }
    console.log(`| ${codec} | ${decoderName} | ${decode[0]} | ${decode[1]} | ${encoderName} | ${encode[0]} | ${encode[1]} | ${rates.join(', ')} |`);
  }

  const pcm = { samples: Int16Array.from({ length: 960 }, (_, i) => Math.round(6000 * Math.sin(i / 7))), sampleRate: 48_000, channels: 1 };
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  let n = 0;
  let encodeMs = 0;
  let decodeMs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const e0 = performance.now();
    const [packet] = encoder.encode(pcm, n * 960);
    const d0 = performance.now();
    decoder.decode(packet!.data);
    decodeMs += performance.now() - d0;
    encodeMs += d0 - e0;
    n++;
  }
  encoder.close();
  decoder.close();
  console.log(
    `\nOpus (libopus, 48 kHz mono, 20 ms packets, 32 kbit/s): encode ${((encodeMs / n) * 1000).toFixed(0)} µs, decode ${((decodeMs / n) * 1000).toFixed(0)} µs per packet\n`,
  );
}
