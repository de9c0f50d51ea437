/**
 * 48 kHz interleaved 16-bit PCM → Opus packets (one RTP payload each, RFC 7587), with libopus through libavcodec.
 * Opus codes fixed-length frames (20 ms by default), so PCM is gathered until a frame is full; each full frame is
 * encoded in the call that completes it, and its packet carries the RTP timestamp (48 kHz clock) of its first sample.
 */
import { Codec, CodecContext, FFmpegError, Frame, Packet, Rational } from 'node-av/lib';
import { AV_CHANNEL_LAYOUT_MONO, AV_CHANNEL_LAYOUT_STEREO, AV_SAMPLE_FMT_S16, AVERROR_EAGAIN, AVERROR_EOF, FF_ENCODER_LIBOPUS } from 'node-av/constants';
import type { AudioChunk } from '../media-frames.js';
import './ffmpeg-log.js';
import { OPUS_SAMPLE_RATE } from './opus-decoder.js';

export interface OpusEncoderOptions {
  /** Channels of the PCM in (default 1). */
  channels?: 1 | 2;
  /** Bits per second (default 32 kbps). */
  bitrate?: number;
  /** Frame length in ms (default 20, WebRTC's usual packet time). */
  frameDurationMs?: 10 | 20 | 40 | 60;
  /** libopus tuning: 'voip' (speech, default), 'audio' (music) or 'lowdelay' (CELT only, lowest algorithmic delay). */
  application?: 'voip' | 'audio' | 'lowdelay';
}

export interface EncodedAudio {
  data: Uint8Array;
  /** 48 kHz RTP timestamp of the packet's first sample. */
  rtpTimestamp: number;
}

export class OpusEncoder {
  readonly channels: 1 | 2;
  /** Samples per channel in one Opus frame. */
  readonly frameSize: number;
  #ctx: CodecContext | undefined = new CodecContext();
  #packet: Packet | undefined = new Packet();
  /** The frame being filled, interleaved; `#filled` samples per channel so far, the first at `#firstTimestamp`. */
  readonly #pending: Int16Array;
  #filled = 0;
  #firstTimestamp = 0;
  #pts = 0n;

  constructor(options: OpusEncoderOptions = {}) {
    this.channels = options.channels ?? 1;
    const durationMs = options.frameDurationMs ?? 20;
    this.frameSize = (OPUS_SAMPLE_RATE * durationMs) / 1000;
    this.#pending = new Int16Array(this.frameSize * this.channels);
    const encoder = Codec.findEncoderByName(FF_ENCODER_LIBOPUS);
    if (encoder === null) throw new Error('this FFmpeg build has no libopus encoder');
    const ctx = this.#ctx!;
    try {
      ctx.allocContext3(encoder);
      ctx.sampleRate = OPUS_SAMPLE_RATE;
      ctx.sampleFormat = AV_SAMPLE_FMT_S16;
      ctx.channelLayout = this.channels === 1 ? AV_CHANNEL_LAYOUT_MONO : AV_CHANNEL_LAYOUT_STEREO;
      ctx.timeBase = new Rational(1, OPUS_SAMPLE_RATE);
      ctx.bitRate = BigInt(Math.round(options.bitrate ?? 32_000));
      // Set one by one, not as an AVDictionary to open2 (node-av 6.1.1 frees that twice).
      for (const [key, value] of Object.entries({ application: options.application ?? 'voip', frame_duration: String(durationMs) })) {
        FFmpegError.throwIfError(ctx.setOption(key, value), `libopus option ${key}=${value}`);
      }
      FFmpegError.throwIfError(ctx.open2Sync(encoder, null), 'open libopus encoder');
      if (ctx.frameSize !== this.frameSize) throw new Error(`libopus frame size ${ctx.frameSize}, expected ${this.frameSize}`);
      this.#packet!.alloc();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Adds a chunk whose first sample has RTP timestamp `rtpTimestamp` (48 kHz); returns the packets of the frames it
   * completed. Throws for PCM that is not 48 kHz with this encoder's channel count, or an encoder failure.
   */
  encode(chunk: AudioChunk, rtpTimestamp: number): EncodedAudio[] {
    if (this.#ctx === undefined) throw new Error('Opus encoder is closed');
    if (chunk.sampleRate !== OPUS_SAMPLE_RATE || chunk.channels !== this.channels) {
      throw new Error(`Opus encoder takes ${OPUS_SAMPLE_RATE} Hz, ${this.channels} channel(s); got ${chunk.sampleRate} Hz, ${chunk.channels}`);
    }
    const out: EncodedAudio[] = [];
    const samples = chunk.samples;
    const total = Math.floor(samples.length / this.channels);
    let used = 0;
    while (used < total) {
      if (this.#filled === 0) this.#firstTimestamp = (rtpTimestamp + used) >>> 0;
      const take = Math.min(total - used, this.frameSize - this.#filled);
      this.#pending.set(samples.subarray(used * this.channels, (used + take) * this.channels), this.#filled * this.channels);
      this.#filled += take;
      used += take;
      if (this.#filled === this.frameSize) {
        out.push(...this.#encodeFrame());
        this.#filled = 0;
      }
    }
    return out;
  }

  #encodeFrame(): EncodedAudio[] {
    const ctx = this.#ctx!;
    const packet = this.#packet!;
    const frame = Frame.fromAudioBuffer(Buffer.from(this.#pending.buffer, this.#pending.byteOffset, this.#pending.byteLength), {
      nbSamples: this.frameSize,
      format: AV_SAMPLE_FMT_S16,
      sampleRate: OPUS_SAMPLE_RATE,
      channelLayout: this.channels === 1 ? AV_CHANNEL_LAYOUT_MONO : AV_CHANNEL_LAYOUT_STEREO,
      timeBase: { num: 1, den: OPUS_SAMPLE_RATE },
      pts: this.#pts,
    });
    this.#pts += BigInt(this.frameSize);
    try {
      FFmpegError.throwIfError(ctx.sendFrameSync(frame), 'libopus encode');
    } finally {
      frame.free();
    }
    const out: EncodedAudio[] = [];
    for (;;) {
      const received = ctx.receivePacketSync(packet);
      if (received === AVERROR_EAGAIN || received === AVERROR_EOF) break;
      FFmpegError.throwIfError(received, 'libopus receive packet');
      const data = packet.data;
      if (data !== null && data.length > 0) out.push({ data: new Uint8Array(data), rtpTimestamp: this.#firstTimestamp });
      packet.unref();
    }
    return out;
  }

  /** Frees the encoder's native memory now. Safe to call twice. PCM of an unfinished frame is dropped. */
  close(): void {
    this.#packet?.free();
    this.#ctx?.freeContext();
    this.#packet = undefined;
    this.#ctx = undefined;
  }
}
