/**
 * The encoder for the processed video sent back to a peer: I420 in, one encoded access unit out in the same call
 * (Annex B for H.264/H.265, a frame for VP8/VP9, a temporal unit for AV1), stamped with the frame's RTP timestamp.
 *
 * Nothing is buffered: every encoder is set for real time with no lookahead and no B-frames (x264 zerolatency, libvpx
 * lag-in-frames 0, SVT-AV1 low-delay prediction with lookahead 0), so a frame's packet is ready before encode()
 * returns. Keyframes come on a PLI (`forceKeyframe`) and every `keyframeInterval` frames; H.264/H.265 repeat their
 * parameter sets before each, so a receiver can start at any keyframe.
 *
 * On a hardware device (`hw-device.ts`) the codec's hardware encoder runs with the same rules (NVENC ultra-low-latency
 * with no delay; VA-API and QSV with an async depth of 1): NVENC takes the I420 frame and uploads it itself, QSV takes
 * it as NV12, and for VA-API it is converted to NV12 and uploaded to a surface of the encoder's frames context here. A
 * codec the device has no encoder for, or whose hardware encoder fails to open (a GPU without NVENC, a size it
 * refuses), is encoded on the CPU instead; `device` says which ran, and the device's `notice` says why.
 */
import { Codec, CodecContext, FFmpegError, Frame, HardwareFramesContext, Packet, Rational } from 'node-av/lib';
import {
  AV_CODEC_FLAG_CLOSED_GOP,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_NV12,
  AV_PIX_FMT_VAAPI,
  AV_PIX_FMT_YUV420P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_ENCODER_AV1_NVENC,
  FF_ENCODER_AV1_QSV,
  FF_ENCODER_AV1_VAAPI,
  FF_ENCODER_H264_NVENC,
  FF_ENCODER_H264_QSV,
  FF_ENCODER_H264_VAAPI,
  FF_ENCODER_HEVC_NVENC,
  FF_ENCODER_HEVC_QSV,
  FF_ENCODER_HEVC_VAAPI,
  FF_ENCODER_LIBAOM_AV1,
  FF_ENCODER_LIBOPENH264,
  FF_ENCODER_LIBSVTAV1,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBVPX_VP9,
  FF_ENCODER_LIBX264,
  FF_ENCODER_LIBX265,
  FF_ENCODER_VP8_VAAPI,
  FF_ENCODER_VP9_QSV,
  FF_ENCODER_VP9_VAAPI,
  type FFEncoderCodec,
} from 'node-av/constants';
import type { I420Frame } from '../media-frames.js';
import './ffmpeg-log.js';
import { CPU_CODEC_DEVICE, type CodecDevice, type HardwareKind } from './hw-device.js';
import { i420Size } from './i420-size.js';
import { VIDEO_CLOCK_RATE, type VideoCodec } from './video-codec.js';

interface EncoderSetup {
  name: FFEncoderCodec;
  /** Private options of the libavcodec wrapper, set by name before opening. */
  options: Record<string, string>;
  /** libvpx picks CBR only when min = max = target rate. */
  cbrByMinRate?: boolean;
  /**
   * What frames it takes (default I420, which NVENC uploads itself): NV12 in memory (QSV uploads it), or VA-API
   * surfaces, filled here from NV12.
   */
  input?: 'nv12' | 'vaapi';
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

/** NVENC at its lowest latency: fastest preset, ultra-low-latency tuning, no reordering, no output delay, CBR. */
const NVENC = { preset: 'p1', tune: 'ull', zerolatency: '1', delay: '0', rc: 'cbr', 'forced-idr': '1' };
/** VA-API: a frame's packet comes out before the next frame goes in (async_depth 1); every I frame is an IDR. */
const VAAPI = { async_depth: '1', rc_mode: 'CBR', idr_interval: '0' };
/** QSV: the same async depth, its fastest preset; a forced keyframe is an IDR. */
const QSV = { async_depth: '1', preset: 'veryfast', forced_idr: '1' };

/** The hardware encoder of each codec on each device, where FFmpeg has one. */
const HW_ENCODERS: Readonly<Record<HardwareKind, Partial<Record<VideoCodec, EncoderSetup>>>> = {
  cuda: {
    H264: { name: FF_ENCODER_H264_NVENC, options: { ...NVENC, profile: 'baseline' } },
    H265: { name: FF_ENCODER_HEVC_NVENC, options: NVENC },
    AV1: { name: FF_ENCODER_AV1_NVENC, options: NVENC },
  },
  vaapi: {
    H264: { name: FF_ENCODER_H264_VAAPI, options: { ...VAAPI, profile: 'constrained_baseline' }, input: 'vaapi' },
    H265: { name: FF_ENCODER_HEVC_VAAPI, options: VAAPI, input: 'vaapi' },
    VP8: { name: FF_ENCODER_VP8_VAAPI, options: VAAPI, input: 'vaapi' },
    VP9: { name: FF_ENCODER_VP9_VAAPI, options: VAAPI, input: 'vaapi' },
    AV1: { name: FF_ENCODER_AV1_VAAPI, options: VAAPI, input: 'vaapi' },
  },
  qsv: {
    // low_delay_brc: frame-level rate control for low delay; look_ahead 0: no lookahead.
    H264: { name: FF_ENCODER_H264_QSV, options: { ...QSV, low_delay_brc: '1', look_ahead: '0', profile: 'baseline' }, input: 'nv12' },
    H265: { name: FF_ENCODER_HEVC_QSV, options: { ...QSV, low_delay_brc: '1' }, input: 'nv12' },
    VP9: { name: FF_ENCODER_VP9_QSV, options: QSV, input: 'nv12' },
    AV1: { name: FF_ENCODER_AV1_QSV, options: { ...QSV, low_delay_brc: '1' }, input: 'nv12' },
  },
};

function encoderSetup(codec: VideoCodec): EncoderSetup | undefined {
  return ENCODERS[codec].find((setup) => Codec.findEncoderByName(setup.name) !== null);
}

/** The hardware encoder setup of `codec` on `device`, if this build has one. */
function hardwareSetup(codec: VideoCodec, device: CodecDevice): EncoderSetup | undefined {
  if (device.kind === 'cpu' || device.context === undefined) return undefined;
  const setup = HW_ENCODERS[device.kind][codec];
  return setup !== undefined && Codec.findEncoderByName(setup.name) !== null ? setup : undefined;
}

/**
 * The libavcodec encoder a codec would use in this build (on `device`, default the CPU: its hardware encoder if it has
 * one, else the CPU's), or undefined if it has none.
 */
export function videoEncoderName(codec: VideoCodec, device: CodecDevice = CPU_CODEC_DEVICE): string | undefined {
  return (hardwareSetup(codec, device) ?? encoderSetup(codec))?.name;
}

/**
 * I420 (Y, U, V planes, no padding) → NV12 (Y, then U and V interleaved), into `out` (same size). Chroma planes are
 * half size rounded up, as `i420Size` counts them.
 */
export function i420ToNv12(i420: Uint8Array, width: number, height: number, out: Uint8Array): Uint8Array {
  const ySize = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  if (i420.length !== ySize + 2 * chroma || out.length !== i420.length) {
    throw new Error(`I420 → NV12 ${width}x${height}: ${i420.length} bytes in, ${out.length} out, expected ${ySize + 2 * chroma}`);
  }
  out.set(i420.subarray(0, ySize));
  const u = i420.subarray(ySize, ySize + chroma);
  const v = i420.subarray(ySize + chroma);
  for (let i = 0, o = ySize; i < chroma; i++, o += 2) {
    out[o] = u[i]!;
    out[o + 1] = v[i]!;
  }
  return out;
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
  /**
   * Where to encode (`openCodecDevice`; default the CPU). A codec the device has no encoder for, or whose hardware
   * encoder does not open, is encoded on the CPU, and the device's `notice` says so.
   */
  device?: CodecDevice;
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
  #setup: EncoderSetup;
  /** The CPU encoder, to fall back on when a hardware one doesn't open (undefined if this build has none). */
  readonly #cpuSetup: EncoderSetup | undefined;
  readonly #codecDevice: CodecDevice;
  #device: 'cpu' | HardwareKind;
  readonly #options: Required<Omit<VideoEncoderOptions, 'codec' | 'device'>>;
  #ctx: CodecContext | undefined;
  /** The VA-API encoder's input surfaces, at the encoder's size. */
  #surfaces: HardwareFramesContext | undefined;
  #surface: Frame | undefined;
  /** The NV12 copy of the frame being encoded (QSV, VA-API). */
  #nv12: Uint8Array | undefined;
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
    const device = options.device ?? CPU_CODEC_DEVICE;
    const cpu = encoderSetup(options.codec);
    const hardware = hardwareSetup(options.codec, device);
    const setup = hardware ?? cpu;
    if (setup === undefined) throw new Error(`this FFmpeg build has no ${options.codec} encoder`);
    this.codec = options.codec;
    this.#setup = setup;
    this.#cpuSetup = cpu;
    this.#codecDevice = device;
    this.#device = hardware !== undefined && device.kind !== 'cpu' ? device.kind : 'cpu';
    if (device.kind !== 'cpu' && hardware === undefined) {
      device.notice(`FFmpeg has no ${device.kind} encoder for ${options.codec}; encoding ${options.codec} on the CPU (${setup.name})`);
    }
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

  /** The libavcodec encoder in use ('libx264', 'libvpx', 'h264_nvenc', …). */
  get encoderName(): string {
    return this.#setup.name;
  }

  /** Where this encoder encodes: 'cpu', or the hardware device whose encoder it uses. */
  get device(): 'cpu' | HardwareKind {
    return this.#device;
  }

  get counters(): VideoEncoderCounters {
    const c = this.#counters;
    return { ...c, held: c.framesIn - c.packetsOut };
  }

  /** Opens the encoder at this size; a hardware encoder that fails to open gives way to the CPU's, for good. */
  #open(width: number, height: number): void {
    if (this.#device === 'cpu' || this.#cpuSetup === undefined) {
      this.#openWith(width, height);
      return;
    }
    try {
      this.#openWith(width, height);
    } catch (err) {
      const failed = this.#setup.name;
      this.#setup = this.#cpuSetup;
      this.#device = 'cpu';
      this.#openWith(width, height);
      const reason = err instanceof Error ? err.message : String(err);
      this.#codecDevice.notice(
        `${failed} did not open on ${this.#codecDevice.description} (${reason}); encoding ${this.codec} on the CPU (${this.#setup.name})`,
      );
    }
  }

  #openWith(width: number, height: number): void {
    const encoder = Codec.findEncoderByName(this.#setup.name);
    if (encoder === null) throw new Error(`this FFmpeg build has no ${this.#setup.name} encoder`);
    const o = this.#options;
    const input = this.#device === 'cpu' ? undefined : this.#setup.input;
    const ctx = new CodecContext();
    let surfaces: HardwareFramesContext | undefined;
    try {
      ctx.allocContext3(encoder);
      ctx.width = width;
      ctx.height = height;
      ctx.pixelFormat = input === 'vaapi' ? AV_PIX_FMT_VAAPI : input === 'nv12' ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P;
      if (this.#device !== 'cpu') {
        const context = this.#codecDevice.context!;
        if (input === 'vaapi') {
          // VA-API encoders take surfaces of a frames context (NV12 inside), which encode() fills from the I420 frame.
          surfaces = new HardwareFramesContext();
          surfaces.alloc(context);
          surfaces.format = AV_PIX_FMT_VAAPI;
          surfaces.swFormat = AV_PIX_FMT_NV12;
          surfaces.width = width;
          surfaces.height = height;
          FFmpegError.throwIfError(surfaces.init(), `VA-API surfaces ${width}x${height}`);
          ctx.hwFramesCtx = surfaces;
        } else {
          // NVENC and QSV take frames in memory and upload them on the device they are given.
          ctx.hwDeviceCtx = context;
        }
      }
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
      surfaces?.free();
      throw err;
    }
    this.#ctx = ctx;
    this.#surfaces = surfaces;
    if (surfaces !== undefined && this.#surface === undefined) {
      this.#surface = new Frame();
      this.#surface.alloc();
    }
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
    const input = this.#device === 'cpu' ? undefined : this.#setup.input;
    let data = frame.data;
    if (input === undefined) {
      avFrame.format = AV_PIX_FMT_YUV420P;
    } else {
      avFrame.format = AV_PIX_FMT_NV12;
      if (this.#nv12?.length !== data.length) this.#nv12 = new Uint8Array(data.length);
      data = i420ToNv12(data, frame.width, frame.height, this.#nv12);
    }
    FFmpegError.throwIfError(avFrame.getBuffer(), 'allocate frame');
    FFmpegError.throwIfError(avFrame.fromBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), 'copy picture into frame');
    let sent = avFrame;
    if (input === 'vaapi') {
      const surface = this.#surface!;
      surface.unref();
      FFmpegError.throwIfError(this.#surfaces!.getBuffer(surface, 0), 'allocate VA-API surface');
      FFmpegError.throwIfError(avFrame.hwframeTransferDataSync(surface, 0), 'upload frame to VA-API surface');
      avFrame.unref();
      sent = surface;
    }
    sent.pts = this.#pts;
    sent.duration = duration;
    sent.pictType = options.forceKeyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    this.#counters.framesIn++;
    FFmpegError.throwIfError(ctx.sendFrameSync(sent), `${this.encoderName} encode`);
    sent.unref();
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
    this.#surfaces?.free();
    this.#surfaces = undefined;
  }

  /** Frees the encoder's native memory now (not at garbage collection). Safe to call twice. */
  close(): void {
    this.#closeContext();
    this.#surface?.free();
    this.#surface = undefined;
    this.#frame?.free();
    this.#packet?.free();
    this.#frame = undefined;
    this.#packet = undefined;
    this.#rtpOfPts.clear();
  }
}
