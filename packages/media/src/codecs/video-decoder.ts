/**
 * One received video stream's decoder: libavcodec in-process, synchronous, holding no frame. One access unit goes in
 * (Annex B for H.264/H.265, a VP8/VP9 frame, an AV1 temporal unit in the low-overhead format) with its RTP timestamp,
 * and its frame comes out of the same call as 8-bit I420 carrying that timestamp.
 *
 * No frame is held because: AV_CODEC_FLAG_LOW_DELAY (H.264 outputs a picture as soon as it is decoded instead of
 * waiting to learn the stream's reorder depth; libdav1d sets max_frame_delay 1), and slice threading only, since frame
 * threading keeps one frame in flight per thread. WebRTC senders use no B-frames, so there is nothing to reorder.
 *
 * A decode error never throws: the result says so, the decoder is flushed, and it waits for a keyframe (the caller
 * sends a PLI). Frames that libavcodec outputs but flags as damaged (concealed errors) count as errors too, and are
 * dropped: feeding a vision model smeared macroblocks is worse than skipping frames until the keyframe.
 *
 * On a hardware device (`hw-device.ts`) the same native decoder runs with the device's hwaccel (NVDEC, VA-API) under
 * the same flags: the GPU decodes each picture in the call that sends it, and the surface is downloaded and converted
 * to I420. A codec the device can't decode decodes on the CPU (`device` says which ran).
 */
import { Codec, CodecContext, FFmpegError, Frame, Packet } from 'node-av/lib';
import {
  AV_CODEC_FLAG_LOW_DELAY,
  AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX,
  AV_FRAME_FLAG_CORRUPT,
  AV_PIX_FMT_YUV420P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_DECODER_AV1,
  FF_DECODER_H264,
  FF_DECODER_HEVC,
  FF_DECODER_LIBDAV1D,
  FF_DECODER_VP8,
  FF_DECODER_VP9,
  FF_THREAD_SLICE,
  type FFDecoderCodec,
} from 'node-av/constants';
import type { I420Frame } from '../media-frames.js';
import { inspectAccessUnit } from './access-unit.js';
import './ffmpeg-log.js';
import { FrameToI420 } from './frame-to-i420.js';
import { CPU_CODEC_DEVICE, type CodecDevice, type DecodeAccel, type HardwareKind } from './hw-device.js';
import type { VideoCodec } from './video-codec.js';

/**
 * libavcodec decoders to try on the CPU, best first. AV1: libdav1d; the native `av1` decoder decodes only through a
 * hardware accelerator, so it is the AV1 decoder on a hardware device (below), not a CPU decoder.
 */
const DECODERS: Readonly<Record<VideoCodec, readonly FFDecoderCodec[]>> = {
  H264: [FF_DECODER_H264],
  H265: [FF_DECODER_HEVC],
  VP8: [FF_DECODER_VP8],
  VP9: [FF_DECODER_VP9],
  AV1: [FF_DECODER_LIBDAV1D, FF_DECODER_AV1],
};

/**
 * The decoder on a hardware device: FFmpeg's native one with the device's hwaccel attached (NVDEC for cuda, VA-API for
 * vaapi). It decodes into GPU surfaces, and each picture is downloaded (NV12, P010) to become I420 as usual.
 */
const HW_DECODERS: Readonly<Record<VideoCodec, FFDecoderCodec>> = {
  H264: FF_DECODER_H264,
  H265: FF_DECODER_HEVC,
  VP8: FF_DECODER_VP8,
  VP9: FF_DECODER_VP9,
  AV1: FF_DECODER_AV1,
};

/** The native decoder of `codec` if it has a hwaccel for `accel`'s device type in this build (through hw_device_ctx). */
function hardwareDecoderName(codec: VideoCodec, accel: DecodeAccel): FFDecoderCodec | undefined {
  const name = HW_DECODERS[codec];
  const method = Codec.findDecoderByName(name)?.getHardwareMethod(accel.type) ?? null;
  return method !== null && (method & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) !== 0 ? name : undefined;
}

/** The libavcodec decoder a codec would use in this build (on `device`, default the CPU), or undefined if it has none. */
export function videoDecoderName(codec: VideoCodec, device: CodecDevice = CPU_CODEC_DEVICE): string | undefined {
  const hardware = device.decode ? hardwareDecoderName(codec, device.decode) : undefined;
  if (hardware !== undefined) return hardware;
  for (const name of DECODERS[codec]) if (Codec.findDecoderByName(name)) return name;
  return undefined;
}

export interface VideoDecoderOptions {
  /** Slice (or, for AV1, tile) threads. Default 1: a server decodes many streams, each on the thread that feeds it. */
  threads?: number;
  /**
   * Where to decode (`openCodecDevice`; default the CPU). A codec the device has no hwaccel for decodes on the CPU, and
   * the device's `notice` says so.
   */
  device?: CodecDevice;
}

export type DecodeStatus =
  /** Decoded; `frames` has this access unit's frame (none if it carried no picture, e.g. parameter sets alone). */
  | 'ok'
  /** Decoding failed, the picture came out damaged, or none came out. Nothing is returned; request a keyframe. */
  | 'error'
  /**
   * Nothing to show: after an error the decoder waits for a keyframe, and this unit was dropped (a delta frame, by the
   * caller's `keyframe` flag) or decoded without its references, which gives no frame.
   */
  | 'awaiting-keyframe';

export interface DecodeResult {
  status: DecodeStatus;
  /** 8-bit I420, each with the RTP timestamp of the access unit it came from. */
  frames: I420Frame[];
  /** libavcodec's reason, when status is 'error'. */
  error?: string;
}

export interface VideoDecoderCounters {
  /** Access units given to decode(). */
  accessUnits: number;
  /** Access units with a picture that went into libavcodec. */
  framesIn: number;
  framesOut: number;
  /** Access units that failed, or whose picture came out damaged. */
  errors: number;
  /** Access units dropped while waiting for a keyframe. */
  skipped: number;
  /** Access units that carried no picture (parameter sets, a sequence header alone). */
  noPicture: number;
  /**
   * Pictures inside libavcodec that have not come out: framesIn − framesOut, less those lost to errors. Always 0 with
   * this configuration, where a picture that doesn't come out in its own call counts as an error and is flushed.
   */
  held: number;
  /** Frames that needed swscale (not 8-bit limited-range yuv420p). */
  converted: number;
}

export class VideoDecoder {
  readonly codec: VideoCodec;

  #ctx: CodecContext | undefined;
  #packet: Packet | undefined = new Packet();
  #frame: Frame | undefined = new Frame();
  /** Pictures downloaded from GPU surfaces; only while decoding on a hardware device. */
  #download: Frame | undefined;
  readonly #toI420 = new FrameToI420();
  readonly #codecDevice: CodecDevice;
  readonly #threads: number;
  #name = '';
  #device: 'cpu' | HardwareKind = 'cpu';
  #awaitingKeyframe = false;
  #counters = { accessUnits: 0, framesIn: 0, framesOut: 0, errors: 0, skipped: 0, noPicture: 0, lost: 0 };

  constructor(codec: VideoCodec, options: VideoDecoderOptions = {}) {
    this.codec = codec;
    this.#threads = options.threads ?? 1;
    const device = options.device ?? CPU_CODEC_DEVICE;
    this.#codecDevice = device;
    const accel = device.decode;
    const hardware = accel ? hardwareDecoderName(codec, accel) : undefined;
    try {
      this.#packet!.alloc();
      this.#frame!.alloc();
      if (accel !== undefined && hardware !== undefined) {
        try {
          this.#open(hardware, accel);
        } catch (err) {
          this.#onCpu(`${device.description} could not open its ${codec} decoder (${err instanceof Error ? err.message : String(err)})`);
        }
      } else if (device.kind !== 'cpu') {
        this.#onCpu(accel ? `FFmpeg has no ${accel.kind} hwaccel for ${codec}` : `${device.description} has no hardware decoding here`);
      } else {
        this.#open(cpuDecoderName(codec));
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The libavcodec decoder in use ('h264', 'libdav1d', …; 'av1' only with a hardware device). */
  get decoderName(): string {
    return this.#name;
  }

  /** Where this decoder decodes: 'cpu', or the hardware device whose hwaccel it uses. */
  get device(): 'cpu' | HardwareKind {
    return this.#device;
  }

  /** Opens `name`, on `accel`'s device when given (hw_device_ctx, hardware surfaces out), else on the CPU. */
  #open(name: FFDecoderCodec, accel?: DecodeAccel): void {
    const decoder = Codec.findDecoderByName(name);
    if (decoder === null) throw new Error(`this FFmpeg build has no ${this.codec} decoder`);
    const ctx = new CodecContext();
    try {
      ctx.allocContext3(decoder);
      ctx.threadCount = this.#threads;
      ctx.threadType = FF_THREAD_SLICE;
      ctx.setFlags(AV_CODEC_FLAG_LOW_DELAY);
      if (accel !== undefined) {
        ctx.hwDeviceCtx = accel.context;
        // The hardware format when its hwaccel initialises; FFmpeg falls back to software decoding if it doesn't.
        ctx.setHardwarePixelFormat(accel.pixelFormat, AV_PIX_FMT_YUV420P);
      }
      FFmpegError.throwIfError(ctx.open2Sync(decoder, null), `open ${name} decoder${accel ? ` (${accel.kind})` : ''}`);
    } catch (err) {
      ctx.freeContext();
      throw err;
    }
    this.#ctx = ctx;
    this.#name = name;
    this.#device = accel ? this.#codecDevice.kind : 'cpu';
    if (accel !== undefined && this.#download === undefined) {
      this.#download = new Frame();
      this.#download.alloc();
    }
  }

  /** Opens the CPU decoder instead of a hardware one, and says why (once per message). */
  #onCpu(reason: string): void {
    const name = cpuDecoderName(this.codec);
    this.#ctx?.freeContext();
    this.#ctx = undefined;
    this.#download?.free();
    this.#download = undefined;
    this.#open(name);
    this.#codecDevice.notice(`${reason}; decoding ${this.codec} on the CPU (${name})`);
  }

  /** True after an error until a keyframe decodes: the caller should have asked the sender for one. */
  get needsKeyframe(): boolean {
    return this.#awaitingKeyframe;
  }

  get counters(): VideoDecoderCounters {
    const c = this.#counters;
    return {
      accessUnits: c.accessUnits,
      framesIn: c.framesIn,
      framesOut: c.framesOut,
      errors: c.errors,
      skipped: c.skipped,
      noPicture: c.noPicture,
      held: c.framesIn - c.framesOut - c.lost,
      converted: this.#toI420.converted,
    };
  }

  /**
   * Decodes one access unit. `keyframe` is the depacketizer's verdict; when given, delta frames after an error are
   * dropped until a keyframe instead of being decoded against missing references. Never throws once constructed
   * (except after close()).
   */
  decode(accessUnit: Uint8Array, rtpTimestamp: number, keyframe?: boolean): DecodeResult {
    if (this.#ctx === undefined) throw new Error(`${this.codec} decoder is closed`);
    const c = this.#counters;
    c.accessUnits++;
    if (this.#awaitingKeyframe && keyframe === false) {
      c.skipped++;
      return { status: 'awaiting-keyframe', frames: [] };
    }
    // Also keeps empty units away from libavcodec: an empty packet would put it into draining mode for good.
    const kind = inspectAccessUnit(this.codec, accessUnit);
    if (kind === 'malformed') return this.#failed(accessUnit.length === 0 ? 'empty access unit' : `malformed ${this.codec} access unit`);
    if (kind === 'no-picture') {
      // Parameter sets alone: libavcodec stores them, and its h264 decoder still says "no frame!" (invalid data).
      this.#send(accessUnit, rtpTimestamp);
      c.noPicture++;
      return { status: 'ok', frames: [] };
    }
    c.framesIn++;
    let { frames, error } = this.#send(accessUnit, rtpTimestamp);
    if ((error !== undefined || frames.length === 0) && this.#hardwareOnly() && c.framesOut === 0 && keyframe !== false) {
      // The native AV1 decoder has no software path: a GPU without AV1 decoding fails every unit. libdav1d takes over.
      this.#onCpu(`${this.#codecDevice.description} could not decode ${this.codec} (${error ?? 'no picture came out'})`);
      ({ frames, error } = this.#send(accessUnit, rtpTimestamp));
    }
    if (error === undefined && frames.length > 0) {
      c.framesOut += frames.length;
      this.#awaitingKeyframe = false;
      return { status: 'ok', frames };
    }
    c.lost++;
    if (error !== undefined) return this.#failed(error);
    if (this.#awaitingKeyframe) {
      // Decoded without its references (after a flush): libavcodec outputs nothing until a keyframe recovers it.
      c.skipped++;
      return { status: 'awaiting-keyframe', frames: [] };
    }
    // Nothing is held here, so a picture that didn't come out was dropped: hevc skips a slice whose PPS it lacks,
    // libdav1d a frame it can't use, both without an error code.
    return this.#failed('no picture came out (missing references or parameter sets?)');
  }

  /** libavcodec's part: the packet in, every frame it gives out as I420, and the first error on the way. */
  #send(accessUnit: Uint8Array, rtpTimestamp: number): { frames: I420Frame[]; error?: string } {
    const ctx = this.#ctx!;
    const packet = this.#packet!;
    const frame = this.#frame!;
    const frames: I420Frame[] = [];
    let error: string | undefined;
    try {
      // The setter copies into a padded AVPacket buffer, as libavcodec requires.
      packet.data = Buffer.from(accessUnit.buffer, accessUnit.byteOffset, accessUnit.byteLength);
      packet.pts = BigInt(rtpTimestamp);
      packet.dts = BigInt(rtpTimestamp);
      let sent: number;
      try {
        sent = ctx.sendPacketSync(packet);
      } finally {
        packet.unref();
      }
      // EAGAIN would mean output is waiting to be read first; output is always read below, so it doesn't happen.
      if (sent < 0 && sent !== AVERROR_EAGAIN) error = FFmpegError.strerror(sent);
      for (;;) {
        const received = ctx.receiveFrameSync(frame);
        if (received === AVERROR_EAGAIN || received === AVERROR_EOF) break;
        if (received < 0) {
          error ??= FFmpegError.strerror(received);
          break;
        }
        try {
          if (frame.hasFlags(AV_FRAME_FLAG_CORRUPT) || frame.decodeErrorFlags !== 0) {
            error ??= `damaged picture (decode error flags ${frame.decodeErrorFlags})`;
          } else {
            frames.push(this.#toI420.toI420(this.#inMemory(frame), framePts(frame, rtpTimestamp)));
          }
        } finally {
          frame.unref();
          this.#download?.unref();
        }
      }
    } catch (err) {
      error ??= err instanceof Error ? err.message : String(err);
    }
    return error === undefined ? { frames } : { frames, error };
  }

  /**
   * The picture in memory: a GPU surface is downloaded (NV12, or P010 for 10-bit; FrameToI420 converts it), anything
   * else is returned as it is (also what a hwaccel that failed to initialise gives: FFmpeg decodes in software then).
   * The download carries no colour range (FFmpeg copies no frame properties in a transfer), so swscale keeps the
   * samples as they were coded, as the CPU path does with 8-bit 4:2:0.
   */
  #inMemory(frame: Frame): Frame {
    if (this.#download === undefined || !frame.isHwFrame()) return frame;
    const out = this.#download;
    out.unref();
    FFmpegError.throwIfError(frame.hwframeTransferDataSync(out, 0), `download ${this.codec} picture from ${this.#device}`);
    return out;
  }

  /** Whether the decoder in use decodes only through hardware (the native AV1 decoder). */
  #hardwareOnly(): boolean {
    return this.#device !== 'cpu' && this.#name === FF_DECODER_AV1;
  }

  /** Counts the error, drops whatever the decoder had in flight, and waits for a keyframe. */
  #failed(error: string): DecodeResult {
    this.#counters.errors++;
    try {
      this.#ctx?.flushBuffers();
    } catch {
      // flushing only drops state; if it fails the next keyframe still resets the decoder
    }
    this.#awaitingKeyframe = true;
    return { status: 'error', frames: [], error };
  }

  /** Frees the decoder's native memory now (not at garbage collection). Safe to call twice. */
  close(): void {
    this.#download?.free();
    this.#download = undefined;
    this.#frame?.free();
    this.#packet?.free();
    this.#ctx?.freeContext();
    this.#toI420.close();
    this.#frame = undefined;
    this.#packet = undefined;
    this.#ctx = undefined;
  }
}

/** The CPU decoder of `codec` in this build; throws if it has none. */
function cpuDecoderName(codec: VideoCodec): FFDecoderCodec {
  const name = DECODERS[codec].find((n) => Codec.findDecoderByName(n) !== null);
  if (name === undefined) throw new Error(`this FFmpeg build has no ${codec} decoder`);
  return name;
}

/** The frame's RTP timestamp: the pts libavcodec carried over from the packet, else the access unit's own. */
function framePts(frame: Frame, fallback: number): number {
  const pts = frame.pts;
  // AV_NOPTS_VALUE is INT64_MIN; RTP timestamps are 32-bit unsigned.
  return pts >= 0n && pts <= 0xffffffffn ? Number(pts) : fallback;
}
