import { randomInt } from 'node:crypto';
import { i420Size } from '../codecs/i420-size.js';
import { VIDEO_CLOCK_RATE, type VideoCodec } from '../codecs/video-codec.js';
import type { CodecDevice } from '../codecs/hw-device.js';
import { VideoEncoder, type EncodedVideo } from '../codecs/video-encoder.js';
import type { I420Frame } from '../media-frames.js';
import { packetizerFor, type Packetizer } from '../packetize/index.js';
import { buildSenderReport, parseRtcp } from '../rtp/rtcp.js';
import { serializeRtpPacket } from '../rtp/rtp-packet.js';

/** What the send path needs of an encoder: one I420 frame in, its encoded frame(s) out in the same call. */
export interface FrameEncoder {
  encode(frame: I420Frame, rtpTimestamp: number, options?: { forceKeyframe?: boolean }): EncodedVideo[];
  close(): void;
}

/** An encoder for one picture size (a new one is made when the size changes). */
export type FrameEncoderFactory = (codec: VideoCodec, width: number, height: number, bitrateBps: number) => FrameEncoder;

/** libavcodec in-process (engine/codecs): no lookahead, no B-frames, a keyframe every 10 s or on request. */
export const ffmpegEncoder: FrameEncoderFactory = (codec, width, height, bitrate) => new VideoEncoder({ codec, width, height, bitrate });

/** The same encoders on a codec device (`--codec-device`): its hardware encoder where it has one, else the CPU's. */
export function ffmpegEncoderOn(device: CodecDevice | undefined): FrameEncoderFactory {
  if (device === undefined || device.kind === 'cpu') return ffmpegEncoder;
  return (codec, width, height, bitrate) => new VideoEncoder({ codec, width, height, bitrate, device });
}

export interface VideoSenderOptions {
  codec: VideoCodec;
  payloadType: number;
  ssrc: number;
  /** Whether the track can send now (DTLS done); frames before that are skipped, and the first one sent is a keyframe. */
  isOpen: () => boolean;
  /** Sends one RTP or RTCP packet on the track; false or a throw when it could not. */
  send: (packet: Uint8Array) => boolean;
  createEncoder?: FrameEncoderFactory;
  /** The most the encoder is set to (default 4 Mbps); below it about 5 bits per pixel per second (1.5 Mbps at 640x480). */
  maxBitrateBps?: number;
  /** Largest RTP payload (default 1188 bytes: 1,200-byte packets). */
  maxPayloadSize?: number;
  /** How long sent packets are kept for retransmission on NACK (default 1,000 ms). */
  historyMs?: number;
}

export interface VideoSenderCounters {
  /** Frames given to `send`, and those encoded and sent. */
  framesIn: number;
  framesSent: number;
  /** Frames not sent: the track was not open yet, or the encoder failed. */
  framesSkipped: number;
  encodeErrors: number;
  keyframes: number;
  packetsSent: number;
  /** RTP payload bytes sent (retransmissions not counted), as in the sender report's octet count. */
  bytesSent: number;
  /** NACK messages received for this stream, packets resent for them, and packets asked for that were no longer kept. */
  nacksReceived: number;
  packetsRetransmitted: number;
  retransmitMisses: number;
  plisReceived: number;
  firsReceived: number;
  /** The receiver's latest REMB, bits per second (0 before any); reported, not acted on. */
  rembBps: number;
  /** The encoder's target, bits per second. */
  bitrateBps: number;
  /** Time spent encoding and packetizing, in ms: in total and for the last frame. */
  encodeMs: number;
  lastEncodeMs: number;
}

/** The same counters summed over every sender of the process (for /metrics). */
export const VIDEO_SEND_TOTALS: Pick<
  VideoSenderCounters,
  'framesSent' | 'keyframes' | 'packetsSent' | 'nacksReceived' | 'packetsRetransmitted' | 'plisReceived' | 'firsReceived'
> = { framesSent: 0, keyframes: 0, packetsSent: 0, nacksReceived: 0, packetsRetransmitted: 0, plisReceived: 0, firsReceived: 0 };

const SR_INTERVAL_MS = 1000;
/** A packet asked for twice this soon (the same NACK delivered once per SSRC it names) is sent once. */
const RESEND_MIN_INTERVAL_MS = 10;
const HISTORY_SLOTS = 2048;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** x264 and SVT-AV1 want even sizes for 4:2:0; libvpx takes any. */
const EVEN_SIZE_ONLY: ReadonlySet<VideoCodec> = new Set(['H264', 'H265', 'AV1']);

interface SentPacket {
  seq: number;
  data: Uint8Array;
  sentMs: number;
  resentMs: number;
}

/**
 * The send path of one video track, where libdatachannel has no handler (the receive path shares the track and sends
 * its own RTCP on it): I420 frames → encoder at the frame's size (a new one when the size changes) → RTP payloads
 * from the codec's packetizer (engine/packetize) → RTP packets on the track, timestamped on the 90 kHz clock from the
 * wall clock. Sent packets are kept for a second to answer NACKs (resent as they were: libdatachannel's SRTP allows
 * a repeated index); a PLI or FIR makes the next frame a keyframe; a sender report goes out every second. Encoding is
 * synchronous, on the caller's turn (about 2 ms for 640x480 H.264; `counters.encodeMs`).
 */
export class VideoSender {
  readonly counters: VideoSenderCounters = {
    framesIn: 0,
    framesSent: 0,
    framesSkipped: 0,
    encodeErrors: 0,
    keyframes: 0,
    packetsSent: 0,
    bytesSent: 0,
    nacksReceived: 0,
    packetsRetransmitted: 0,
    retransmitMisses: 0,
    plisReceived: 0,
    firsReceived: 0,
    rembBps: 0,
    bitrateBps: 0,
    encodeMs: 0,
    lastEncodeMs: 0,
  };
  readonly #opts: VideoSenderOptions;
  readonly #createEncoder: FrameEncoderFactory;
  readonly #packetizer: Packetizer;
  readonly #history: (SentPacket | undefined)[] = new Array<SentPacket | undefined>(HISTORY_SLOTS);
  readonly #historyMs: number;
  #encoder: FrameEncoder | undefined;
  #width = 0;
  #height = 0;
  #seq = randomInt(0, 0x10000);
  readonly #rtpBase = randomInt(0, 2 ** 32);
  /** The wall clock (performance.now) of RTP timestamp #rtpBase; set by the first frame sent. */
  #clockStartMs: number | undefined;
  /** The last RTP timestamp sent, unwrapped (so that each frame's is later than the one before). */
  #lastRtp = -1;
  #keyframeWanted = true;
  #lastSrMs = -Infinity;
  #closed = false;

  constructor(opts: VideoSenderOptions) {
    this.#opts = opts;
    this.#createEncoder = opts.createEncoder ?? ffmpegEncoder;
    this.#packetizer = packetizerFor(opts.codec, opts.maxPayloadSize !== undefined ? { maxPayloadSize: opts.maxPayloadSize } : {});
    this.#historyMs = opts.historyMs ?? 1000;
  }

  get ssrc(): number {
    return this.#opts.ssrc;
  }

  /** Encodes and sends one frame (skipped while the track is not open); returns its RTP timestamp, or undefined when it was not sent. Never throws. */
  sendFrame(input: I420Frame, nowMs = performance.now()): number | undefined {
    if (this.#closed) return undefined;
    this.counters.framesIn++;
    if (!this.#opts.isOpen()) {
      this.counters.framesSkipped++;
      this.#keyframeWanted = true;
      return undefined;
    }
    const started = performance.now();
    const frame = EVEN_SIZE_ONLY.has(this.#opts.codec) ? evenSized(input) : input;
    if (frame.width === 0 || frame.height === 0) {
      this.counters.framesSkipped++;
      return undefined;
    }
    let encoded: EncodedVideo[];
    let rtpTimestamp: number;
    try {
      const encoder = this.#encoderFor(frame.width, frame.height);
      rtpTimestamp = this.#rtpTimestamp(nowMs);
      encoded = encoder.encode(frame, rtpTimestamp, { forceKeyframe: this.#keyframeWanted });
      this.#keyframeWanted = false;
    } catch {
      // A failed encoder is made anew for the next frame, which is then a keyframe.
      this.counters.encodeErrors++;
      this.counters.framesSkipped++;
      this.#closeEncoder();
      this.#keyframeWanted = true;
      return undefined;
    }
    for (const e of encoded) this.#sendEncoded(e, frame, nowMs);
    const ms = performance.now() - started;
    this.counters.encodeMs += ms;
    this.counters.lastEncodeMs = ms;
    return rtpTimestamp;
  }

  /** RTCP from the track: NACKs for this stream are answered, PLI/FIR ask for a keyframe, REMB is noted. */
  onRtcp(buf: Uint8Array, nowMs = performance.now()): void {
    if (this.#closed) return;
    const ssrc = this.#opts.ssrc;
    for (const p of parseRtcp(buf) ?? []) {
      if (p.type === 'nack' && p.mediaSsrc === ssrc) {
        this.#count('nacksReceived');
        for (const seq of p.seqs) this.#resend(seq, nowMs);
      } else if (p.type === 'pli' && p.mediaSsrc === ssrc) {
        this.#count('plisReceived');
        this.requestKeyframe();
      } else if (p.type === 'fir' && p.entries.some((e) => e.ssrc === ssrc)) {
        this.#count('firsReceived');
        this.requestKeyframe();
      } else if (p.type === 'remb' && p.ssrcs.includes(ssrc)) {
        this.counters.rembBps = p.bitrateBps;
      }
    }
  }

  /** Makes the next frame a keyframe (requests before it comes are one). */
  requestKeyframe(): void {
    this.#keyframeWanted = true;
  }

  /** Timers: a sender report every second once something was sent. */
  tick(nowMs = performance.now()): void {
    if (this.#closed || this.#clockStartMs === undefined || nowMs - this.#lastSrMs < SR_INTERVAL_MS || !this.#opts.isOpen()) return;
    this.#lastSrMs = nowMs;
    const wallMs = performance.timeOrigin + nowMs;
    const seconds = Math.floor(wallMs / 1000);
    this.#trySend(
      buildSenderReport({
        ssrc: this.#opts.ssrc,
        ntpSeconds: (seconds + NTP_UNIX_OFFSET_S) >>> 0,
        ntpFraction: Math.floor(((wallMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0,
        rtpTimestamp: this.#clockAt(nowMs) >>> 0,
        packetCount: this.counters.packetsSent,
        octetCount: this.counters.bytesSent,
        reports: [],
      }),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeEncoder();
    this.#history.fill(undefined);
  }

  #encoderFor(width: number, height: number): FrameEncoder {
    if (this.#encoder && width === this.#width && height === this.#height) return this.#encoder;
    this.#closeEncoder();
    const bitrate = Math.round(Math.min(this.#opts.maxBitrateBps ?? 4_000_000, Math.max(200_000, width * height * 5)));
    this.#encoder = this.#createEncoder(this.#opts.codec, width, height, bitrate);
    this.#width = width;
    this.#height = height;
    this.counters.bitrateBps = bitrate;
    return this.#encoder;
  }

  #closeEncoder(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    try {
      encoder?.close();
    } catch {
      // nothing to free twice
    }
  }

  /** The 90 kHz clock at `nowMs` (unwrapped), started at a random point by the first frame. */
  #clockAt(nowMs: number): number {
    this.#clockStartMs ??= nowMs;
    return this.#rtpBase + Math.round(((nowMs - this.#clockStartMs) * VIDEO_CLOCK_RATE) / 1000);
  }

  /** The RTP timestamp of a frame captured now, always later than the previous frame's. */
  #rtpTimestamp(nowMs: number): number {
    this.#lastRtp = Math.max(this.#clockAt(nowMs), this.#lastRtp + 1);
    return this.#lastRtp >>> 0;
  }

  #sendEncoded(e: EncodedVideo, frame: I420Frame, nowMs: number): void {
    const payloads = this.#packetizer.packetize(e.data, e.keyframe, { width: frame.width, height: frame.height });
    payloads.forEach((payload, i) => {
      const seq = this.#seq;
      this.#seq = (seq + 1) & 0xffff;
      const packet = serializeRtpPacket({
        marker: i === payloads.length - 1,
        payloadType: this.#opts.payloadType,
        sequenceNumber: seq,
        timestamp: e.rtpTimestamp,
        ssrc: this.#opts.ssrc,
        payload,
      });
      this.#history[seq % HISTORY_SLOTS] = { seq, data: packet, sentMs: nowMs, resentMs: -Infinity };
      this.#trySend(packet);
      this.#count('packetsSent');
      this.counters.bytesSent += payload.length;
    });
    this.#count('framesSent');
    if (e.keyframe) this.#count('keyframes');
  }

  #resend(seq: number, nowMs: number): void {
    const sent = this.#history[seq % HISTORY_SLOTS];
    if (!sent || sent.seq !== seq || nowMs - sent.sentMs > this.#historyMs) {
      this.counters.retransmitMisses++;
      return;
    }
    if (nowMs - sent.resentMs < RESEND_MIN_INTERVAL_MS) return;
    sent.resentMs = nowMs;
    if (this.#trySend(sent.data)) this.#count('packetsRetransmitted');
  }

  #trySend(packet: Uint8Array): boolean {
    try {
      return this.#opts.send(packet);
    } catch {
      return false; // the track closed under us: the peer is going away
    }
  }

  #count(key: keyof typeof VIDEO_SEND_TOTALS): void {
    this.counters[key]++;
    VIDEO_SEND_TOTALS[key]++;
  }
}

/** The frame cropped to even width and height (the last row or column dropped), or itself when already even. */
export function evenSized(frame: I420Frame): I420Frame {
  const width = frame.width & ~1;
  const height = frame.height & ~1;
  if (width === frame.width && height === frame.height) return frame;
  const data = new Uint8Array(i420Size(width, height));
  const srcChromaWidth = Math.ceil(frame.width / 2);
  const srcChromaHeight = Math.ceil(frame.height / 2);
  const chromaWidth = width / 2;
  const chromaHeight = height / 2;
  for (let y = 0; y < height; y++) data.set(frame.data.subarray(y * frame.width, y * frame.width + width), y * width);
  const srcU = frame.width * frame.height;
  const srcV = srcU + srcChromaWidth * srcChromaHeight;
  const dstU = width * height;
  const dstV = dstU + chromaWidth * chromaHeight;
  for (let y = 0; y < chromaHeight; y++) {
    data.set(frame.data.subarray(srcU + y * srcChromaWidth, srcU + y * srcChromaWidth + chromaWidth), dstU + y * chromaWidth);
    data.set(frame.data.subarray(srcV + y * srcChromaWidth, srcV + y * srcChromaWidth + chromaWidth), dstV + y * chromaWidth);
  }
  const { rtpTimestamp, frameNumber } = frame;
  return { width, height, data, ...(rtpTimestamp !== undefined ? { rtpTimestamp } : {}), ...(frameNumber !== undefined ? { frameNumber } : {}) };
}
