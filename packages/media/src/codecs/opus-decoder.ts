/**
 * Opus RTP payloads (RFC 7587: one Opus packet each) → 48 kHz interleaved 16-bit PCM, with libopus through libavcodec,
 * synchronously: a packet's samples come out of the call that decodes it. libopus gives S16 interleaved by default,
 * so no resampling or conversion runs. Opus always decodes at 48 kHz; the output has as many channels as asked for
 * (libopus downmixes or upmixes whatever the sender coded).
 *
 * A bad packet never throws: the result says so and the next packet decodes normally (Opus has no inter-packet
 * dependency a receiver must repair by request).
 */
import { Codec, CodecContext, FFmpegError, Frame, Packet } from 'node-av/lib';
import { AV_CHANNEL_LAYOUT_MONO, AV_CHANNEL_LAYOUT_STEREO, AV_SAMPLE_FMT_S16, AVERROR_EAGAIN, AVERROR_EOF, FF_DECODER_LIBOPUS } from 'node-av/constants';
import type { AudioChunk } from '../media-frames.js';
import './ffmpeg-log.js';

export const OPUS_SAMPLE_RATE = 48_000;

export interface OpusDecoderOptions {
  /** Channels of the PCM out (default 1: the models take mono; a stereo sender is downmixed by libopus). */
  channels?: 1 | 2;
}

export interface OpusDecodeResult {
  status: 'ok' | 'error';
  /** Normally one chunk per packet (its 10–60 ms of audio). */
  chunks: AudioChunk[];
  error?: string;
}

export interface OpusDecoderCounters {
  packets: number;
  errors: number;
  samplesOut: number;
}

export class OpusDecoder {
  readonly channels: 1 | 2;
  #ctx: CodecContext | undefined = new CodecContext();
  #packet: Packet | undefined = new Packet();
  #frame: Frame | undefined = new Frame();
  #counters = { packets: 0, errors: 0, samplesOut: 0 };

  constructor(options: OpusDecoderOptions = {}) {
    this.channels = options.channels ?? 1;
    const decoder = Codec.findDecoderByName(FF_DECODER_LIBOPUS);
    if (decoder === null) throw new Error('this FFmpeg build has no libopus decoder');
    const ctx = this.#ctx!;
    try {
      ctx.allocContext3(decoder);
      ctx.sampleRate = OPUS_SAMPLE_RATE;
      ctx.channelLayout = this.channels === 1 ? AV_CHANNEL_LAYOUT_MONO : AV_CHANNEL_LAYOUT_STEREO;
      FFmpegError.throwIfError(ctx.open2Sync(decoder, null), 'open libopus decoder');
      if (ctx.sampleFormat !== AV_SAMPLE_FMT_S16) throw new Error(`libopus decoder gives sample format ${ctx.sampleFormat}, not S16`);
      this.#packet!.alloc();
      this.#frame!.alloc();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get counters(): OpusDecoderCounters {
    return { ...this.#counters };
  }

  /** Decodes one Opus packet. Never throws once constructed (except after close()). */
  decode(payload: Uint8Array): OpusDecodeResult {
    const ctx = this.#ctx;
    const packet = this.#packet;
    const frame = this.#frame;
    if (ctx === undefined || packet === undefined || frame === undefined) throw new Error('Opus decoder is closed');
    this.#counters.packets++;
    if (payload.length === 0) {
      // An empty packet would put libavcodec into draining mode for good.
      this.#counters.errors++;
      return { status: 'error', chunks: [], error: 'empty packet' };
    }
    const chunks: AudioChunk[] = [];
    let error: string | undefined;
    try {
      packet.data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      const sent = ctx.sendPacketSync(packet);
      packet.unref();
      if (sent < 0 && sent !== AVERROR_EAGAIN) error = FFmpegError.strerror(sent);
      for (;;) {
        const received = ctx.receiveFrameSync(frame);
        if (received === AVERROR_EAGAIN || received === AVERROR_EOF) break;
        if (received < 0) {
          error ??= FFmpegError.strerror(received);
          break;
        }
        try {
          chunks.push({ samples: toInt16(frame.toBuffer()), sampleRate: OPUS_SAMPLE_RATE, channels: this.channels });
          this.#counters.samplesOut += frame.nbSamples;
        } finally {
          frame.unref();
        }
      }
    } catch (err) {
      error ??= err instanceof Error ? err.message : String(err);
    }
    if (error !== undefined) {
      this.#counters.errors++;
      return { status: 'error', chunks, error };
    }
    return { status: 'ok', chunks };
  }

  /** Frees the decoder's native memory now. Safe to call twice. */
  close(): void {
    this.#frame?.free();
    this.#packet?.free();
    this.#ctx?.freeContext();
    this.#frame = undefined;
    this.#packet = undefined;
    this.#ctx = undefined;
  }
}

/**
 * Interleaved S16 bytes as an Int16Array. node-av's toBuffer() returns a Buffer that owns its whole ArrayBuffer, so
 * a view is safe to keep or transfer; anything else (a slice of a shared pool) is copied.
 */
function toInt16(bytes: Buffer): Int16Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return new Int16Array(bytes.buffer, 0, bytes.byteLength >> 1);
  const copy = new Int16Array(bytes.byteLength >> 1);
  new Uint8Array(copy.buffer).set(bytes.subarray(0, copy.byteLength));
  return copy;
}
