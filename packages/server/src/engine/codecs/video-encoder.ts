/**
 * The encoder for the processed video sent back to a peer: I420 in, one encoded access unit out in the same call
 * (Annex B for H.264/H.265, a frame for VP8/VP9, a temporal unit for AV1), stamped with the frame's RTP timestamp.
 *
 * Nothing is buffered: every encoder is set for real time with no lookahead and no B-frames (x264 zerolatency, libvpx
 * lag-in-frames 0, SVT-AV1 low-delay prediction with lookahead 0), so a frame's packet is ready before encode()
 * returns. Keyframes come on a PLI (`forceKeyframe`) and every `keyframeInterval` frames; H.264/H.265 repeat their
 * parameter sets before each, so a receiver can start at any keyframe.
 */
import { Codec, CodecContext, FFmpegError, Frame, Packet, Rational } from 'node-av/lib';
import {
  AV_CODEC_FLAG_CLOSED_GOP,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_YUV420P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_ENCODER_LIBAOM_AV1,
  FF_ENCODER_LIBOPENH264,
  FF_ENCODER_LIBSVTAV1,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBVPX_VP9,
  FF_ENCODER_LIBX264,
  FF_ENCODER_LIBX265,
  type FFEncoderCodec,
} from 'node-av/constants';
import type { I420Frame } from '../media-frames.js';
import './ffmpeg-log.js';
import { i420Size } from './i420-size.js';
import { VIDEO_CLOCK_RATE, type VideoCodec } from './video-codec.js';

interface EncoderSetup {
  name: FFEncoderCodec;
  /** Private options of the libavcodec wrapper, set by name before opening. */
  options: Record<string, string>;
  /** libvpx picks CBR only when min = max = target rate. */
  cbrByMinRate?: boolean;
}

/** Encoders to try for each codec, preferred first. libopenh264 and libaom-av1 are fallbacks for other FFmpeg builds. */
const ENCODERS: Readonly<Record<VideoCodec, readonly EncoderSetup[]>> = {
  H264: [
    // forced-idr: a forced keyframe is an IDR (not an open-GOP I frame) that a receiver can start from.
    { name: FF_ENCODER_LIBX264, options: { preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline', 'forced-idr': '1' } },
    { name: FF_ENCODER_LIBOPENH264, options: { profile: 'constrained_baseline', allow_skip_frames: '0' } },
  ],
  H265: [
    {
      name: FF_ENCODER_LIBX265,
      options: { preset: 'ultrafast', tune: 'zerolatency', 'forced-idr': '1', 'x265-params': 'log-level=error:open-gop=0:repeat-headers=1' },
    },
  ],
  VP8: [{ name: FF_ENCODER_LIBVPX_VP8, options: { deadline: 'realtime', 'cpu-used': '8', 'lag-in-frames': '0' }, cbrByMinRate: true }],
  VP9: [
    {
      name: FF_ENCODER_LIBVPX_VP9,
      // aq-mode 3: cyclic refresh, libvpx's real-time adaptive quantisation (what WebRTC uses).
      options: { deadline: 'realtime', 'cpu-used': '8', 'lag-in-frames': '0', 'row-mt': '1', 'aq-mode': '3' },
      cbrByMinRate: true,
    },
  ],
  AV1: [
    // pred-struct=1: low delay (no reordering), which also makes SVT-AV1's get_packet block until the frame's packet
    // is out, so it comes out of the same call; rc=2: CBR, the only rate control allowed with it; lp=1: fewer
    // threads (SVT runs a thread per pipeline stage: about 47 per encoder at 640x480 by default, 16 with lp=1).
    { name: FF_ENCODER_LIBSVTAV1, options: { preset: '10', 'svtav1-params': 'pred-struct=1:lookahead=0:rc=2:lp=1' } },
    { name: FF_ENCODER_LIBAOM_AV1, options: { usage: 'realtime', 'cpu-used': '10', 'lag-in-frames': '0', 'row-mt': '1' } },
  ],
};

function encoderSetup(codec: VideoCodec): EncoderSetup | undefined {
  return ENCODERS[codec].find((setup) => Codec.findEncoderByName(setup.name) !== null);
}

/** The libavcodec encoder a codec would use in this build, or undefined if it has none. */
export function videoEncoderName(codec: VideoCodec): string | undefined {
  return encoderSetup(codec)?.name;
}

export interface VideoEncoderOptions {
  codec: VideoCodec;
  /** Initial size; a frame of another size reopens the encoder (its first packet is then a keyframe). */
  width: number;
  height: number;
  /** Target bit rate, bits per second (default 1 Mbps), held to it with a 1 s buffer. */
  bitrate?: number;
  /** Expected frame rate, for rate control before timestamps say otherwise (default 30). */
  framerate?: number;
  /** Frames between periodic keyframes (default 10 s of frames); PLIs force others. */
  keyframeInterval?: number;
  /** Encoder threads (default 1). x264 uses sliced threads under zerolatency, which add no delay. */
  threads?: number;
}

export interface EncodedVideo {
  data: Uint8Array;
  keyframe: boolean;
  rtpTimestamp: number;
}

export interface VideoEncoderCounters {
  framesIn: number;
  packetsOut: number;
  keyframes: number;
  /** Frames in − packets out: 0 unless an encoder buffers or drops frames. */
  held: number;
}

export class VideoEncoder {
  readonly codec: VideoCodec;
  /** The libavcodec encoder in use ('libx264', 'libvpx', …). */
  readonly encoderName: string;
  readonly #setup: EncoderSetup;
  readonly #options: Required<Omit<VideoEncoderOptions, 'codec'>>;
  #ctx: CodecContext | undefined;
  #packet: Packet | undefined = new Packet();
  #frame: Frame | undefined = new Frame();
  #width = 0;
  #height = 0;
  /** RTP timestamps unwrapped to 64 bits and kept strictly increasing, as encoders require of pts. */
  #pts = 0n;
  #lastRtp: number | undefined;
  /** pts → the caller's RTP timestamp, for the packets to carry. */
  readonly #rtpOfPts = new Map<bigint, number>();
  #counters = { framesIn: 0, packetsOut: 0, keyframes: 0 };

  constructor(options: VideoEncoderOptions) {
    const setup = encoderSetup(options.codec);
    if (setup === undefined) throw new Error(`this FFmpeg build has no ${options.codec} encoder`);
    this.codec = options.codec;
    this.encoderName = setup.name;
    this.#setup = setup;
    const framerate = options.framerate ?? 30;
    this.#options = {
      width: options.width,
      height: options.height,
      bitrate: options.bitrate ?? 1_000_000,
      framerate,
      keyframeInterval: options.keyframeInterval ?? Math.round(framerate * 10),
      threads: options.threads ?? 1,
    };
    try {
      this.#packet!.alloc();
      this.#frame!.alloc();
      this.#open(options.width, options.height);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get counters(): VideoEncoderCounters {
    const c = this.#counters;
    return { ...c, held: c.framesIn - c.packetsOut };
  }

  #open(width: number, height: number): void {
    const encoder = Codec.findEncoderByName(this.#setup.name);
    if (encoder === null) throw new Error(`this FFmpeg build has no ${this.#setup.name} encoder`);
    const o = this.#options;
    const ctx = new CodecContext();
    try {
      ctx.allocContext3(encoder);
      ctx.width = width;
      ctx.height = height;
      ctx.pixelFormat = AV_PIX_FMT_YUV420P;
      // pts is the RTP timestamp itself: no conversion in or out.
      ctx.timeBase = new Rational(1, VIDEO_CLOCK_RATE);
      ctx.framerate = new Rational(Math.round(o.framerate), 1);
      ctx.gopSize = o.keyframeInterval;
      ctx.maxBFrames = 0;
      ctx.threadCount = o.threads;
      const bitrate = BigInt(Math.round(o.bitrate));
      ctx.bitRate = bitrate;
      ctx.rcBufferSize = Math.round(o.bitrate);
      ctx.rcMaxRate = bitrate;
      if (this.#setup.cbrByMinRate) ctx.rcMinRate = bitrate;
      // Periodic keyframes are IDR/key frames a receiver can start from (SVT-AV1 makes open-GOP ones otherwise).
      ctx.setFlags(AV_CODEC_FLAG_CLOSED_GOP);
      // Options go on the context one by one: passing an AVDictionary to open2 through node-av 6.1.1 frees it twice.
      for (const [key, value] of Object.entries(this.#setup.options)) {
        FFmpegError.throwIfError(ctx.setOption(key, value), `${this.#setup.name} option ${key}=${value}`);
      }
      FFmpegError.throwIfError(ctx.open2Sync(encoder, null), `open ${this.#setup.name} encoder`);
    } catch (err) {
      ctx.freeContext();
      throw err;
    }
    this.#ctx = ctx;
    this.#width = width;
    this.#height = height;
  }

  /**
   * Encodes one frame and returns its packet (normally exactly one). `forceKeyframe` makes it a keyframe (answer to a
   * PLI). Throws on a malformed frame or an encoder failure.
   */
  encode(frame: I420Frame, rtpTimestamp: number, options: { forceKeyframe?: boolean } = {}): EncodedVideo[] {
    const packet = this.#packet;
    const avFrame = this.#frame;
    if (packet === undefined || avFrame === undefined) throw new Error(`${this.codec} encoder is closed`);
    const expected = i420Size(frame.width, frame.height);
    if (frame.data.length !== expected) {
      throw new Error(`I420 frame ${frame.width}x${frame.height} has ${frame.data.length} bytes, expected ${expected}`);
    }
    if (this.#ctx === undefined || frame.width !== this.#width || frame.height !== this.#height) {
      this.#closeContext();
      this.#open(frame.width, frame.height);
    }
    const ctx = this.#ctx!;
    const rtp = rtpTimestamp >>> 0;
    const duration = this.#advance(rtp);
    this.#rtpOfPts.set(this.#pts, rtp);
    if (this.#rtpOfPts.size > 64) this.#rtpOfPts.delete(this.#rtpOfPts.keys().next().value!);

    // The encoder may keep a reference to the last frame's buffers; unref drops only ours, and fresh ones are taken.
    avFrame.unref();
    avFrame.width = frame.width;
    avFrame.height = frame.height;
    avFrame.format = AV_PIX_FMT_YUV420P;
    FFmpegError.throwIfError(avFrame.getBuffer(), 'allocate frame');
    FFmpegError.throwIfError(avFrame.fromBuffer(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength)), 'copy I420 into frame');
    avFrame.pts = this.#pts;
    avFrame.duration = duration;
    avFrame.pictType = options.forceKeyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    this.#counters.framesIn++;
    FFmpegError.throwIfError(ctx.sendFrameSync(avFrame), `${this.encoderName} encode`);
    avFrame.unref();
    return this.#drain(ctx, packet, rtp);
  }

  /** Moves pts on by the RTP timestamp's (wrapping) step; returns the step, the frame's duration. */
  #advance(rtp: number): bigint {
    const nominal = Math.round(VIDEO_CLOCK_RATE / this.#options.framerate);
    if (this.#lastRtp === undefined) {
      this.#pts = BigInt(rtp);
      this.#lastRtp = rtp;
      return BigInt(nominal);
    }
    // The signed 32-bit difference: forward across a wrap; a repeated or earlier timestamp still moves pts on by 1.
    const step = Math.max(1, (rtp - this.#lastRtp) | 0);
    this.#lastRtp = rtp;
    this.#pts += BigInt(step);
    return BigInt(step);
  }

  #drain(ctx: CodecContext, packet: Packet, fallbackRtp: number): EncodedVideo[] {
    const out: EncodedVideo[] = [];
    for (;;) {
      const received = ctx.receivePacketSync(packet);
      if (received === AVERROR_EAGAIN || received === AVERROR_EOF) break;
      FFmpegError.throwIfError(received, `${this.encoderName} receive packet`);
      try {
        const data = packet.data;
        if (data === null || data.length === 0) continue;
        const rtp = this.#rtpOfPts.get(packet.pts) ?? fallbackRtp;
        this.#rtpOfPts.delete(packet.pts);
        // Copied: the packet's buffer is reused for the next one.
        out.push({ data: new Uint8Array(data), keyframe: packet.isKeyframe, rtpTimestamp: rtp });
        this.#counters.packetsOut++;
        if (packet.isKeyframe) this.#counters.keyframes++;
      } finally {
        packet.unref();
      }
    }
    return out;
  }

  /** Ends the stream (SVT-AV1 complains if it is torn down without one) and frees the codec context. */
  #closeContext(): void {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    this.#ctx = undefined;
    try {
      if (ctx.isOpen && this.#packet !== undefined && ctx.sendFrameSync(null) >= 0) {
        while (ctx.receivePacketSync(this.#packet) >= 0) this.#packet.unref();
      }
    } catch {
      // a failed flush only loses packets nobody will send
    }
    ctx.freeContext();
  }

  /** Frees the encoder's native memory now (not at garbage collection). Safe to call twice. */
  close(): void {
    this.#closeContext();
    this.#frame?.free();
    this.#packet?.free();
    this.#frame = undefined;
    this.#packet = undefined;
    this.#rtpOfPts.clear();
  }
}
