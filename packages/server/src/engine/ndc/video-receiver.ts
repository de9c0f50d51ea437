import { randomInt } from 'node:crypto';
import {
  buildNack,
  buildPli,
  buildReceiverReport,
  buildRemb,
  concatRtcp,
  depacketizerFor,
  FrameAssembler,
  FrameNumbering,
  isRtcp,
  NackTracker,
  parseRtcp,
  parseRtpPacket,
  ReceiveStats,
  ReorderBuffer,
  unwrapRtx,
  type AssembledFrame,
  type DepacketizedFrame,
  type I420Frame,
  type ReorderOutput,
  type RtpPacket,
} from '@sightline/media';
import type { VideoCodec } from './codec-choice.js';

/** What the receive path needs of a decoder: one access unit in, the frames it gives now out; never throws. */
export interface AccessUnitDecoder {
  /** `keyframe` is the depacketizer's reading: after an error, units before the next keyframe are skipped. */
  decode(accessUnit: Uint8Array, rtpTimestamp: number, keyframe: boolean): { frames: I420Frame[]; error?: string };
  close(): void;
}

export interface VideoReceiverOptions {
  codec: VideoCodec;
  payloadType: number;
  /** The RTX payload type repairing `payloadType`, when negotiated. */
  rtxPayloadType?: number | undefined;
  decoder: AccessUnitDecoder;
  /** Sends an RTCP packet on the track. */
  sendRtcp: (packet: Uint8Array) => void;
  onFrame: (frame: I420Frame) => void;
  /** The REMB the server announces: senders ramp up to it (without feedback Chromium stays near 260 kbps). */
  maxBitrateBps: number;
  /** How long a gap is waited for: about a frame interval plus a retransmission. */
  reorderWaitMs?: number;
}

export interface VideoReceiverCounters {
  packets: number;
  retransmissions: number;
  /** Not RTP/RTCP, or of a payload type this track did not negotiate. */
  ignored: number;
  nacks: number;
  plis: number;
  /** Frames that reached the decoder, and frames it returned. */
  framesIn: number;
  framesDecoded: number;
  /** Frames dropped because packets were lost, or while waiting for a keyframe after that. */
  framesDropped: number;
  decodeErrors: number;
}

/** The same counters summed over every video track of the process since it started (for /metrics). */
export const VIDEO_RECEIVE_TOTALS: VideoReceiverCounters = {
  packets: 0,
  retransmissions: 0,
  ignored: 0,
  nacks: 0,
  plis: 0,
  framesIn: 0,
  framesDecoded: 0,
  framesDropped: 0,
  decodeErrors: 0,
};

const RTCP_INTERVAL_MS = 500;
const PLI_MIN_INTERVAL_MS = 300;

/**
 * The receive path of one video track, where libdatachannel has no handler: RTP (and RTX, unwrapped) → per-SSRC
 * statistics, NACK tracking and a reorder buffer bounded in time → frames by timestamp and marker → the decoder.
 * A frame with a hole that retransmission did not fill is dropped, a keyframe requested (PLI), and nothing is
 * decoded until it comes. RTCP (receiver reports, REMB, NACK, PLI) is built here and sent on the track; `tick`
 * drives the timers (the engine calls it every few ms). Every decoded frame carries its RTP timestamp.
 */
export class VideoReceiver {
  readonly counters: VideoReceiverCounters = {
    packets: 0,
    retransmissions: 0,
    ignored: 0,
    nacks: 0,
    plis: 0,
    framesIn: 0,
    framesDecoded: 0,
    framesDropped: 0,
    decodeErrors: 0,
  };
  readonly #opts: VideoReceiverOptions;
  readonly #senderSsrc = randomInt(1, 0xffffffff);
  readonly #rtx: Map<number, number>;
  readonly #assembler: FrameAssembler<DepacketizedFrame>;
  #mediaSsrc: number | undefined;
  #stats: ReceiveStats | undefined;
  #reorder: ReorderBuffer<RtpPacket>;
  #nack: NackTracker;
  #numbering = new FrameNumbering();
  #waitingForKeyframe = true;
  #lastPliMs = -Infinity;
  #lastRtcpMs = -Infinity;
  #closed = false;

  constructor(opts: VideoReceiverOptions) {
    this.#opts = opts;
    this.#rtx = new Map(opts.rtxPayloadType !== undefined ? [[opts.rtxPayloadType, opts.payloadType]] : []);
    this.#assembler = new FrameAssembler(depacketizerFor(opts.codec) as never);
    this.#reorder = this.#newReorder();
    this.#nack = this.#newNack();
  }

  /** One packet from the track: RTP, RTX or RTCP. */
  onPacket(buf: Uint8Array, nowMs = performance.now()): void {
    if (this.#closed) return;
    if (isRtcp(buf)) return this.#onRtcp(buf, nowMs);
    let p = parseRtpPacket(buf);
    if (!p) return void this.#count('ignored');
    let retransmission = false;
    if (this.#rtx.has(p.payloadType)) {
      if (this.#mediaSsrc === undefined || p.payload.length < 2) return void this.#count('ignored'); // padding probes
      p = unwrapRtx(p, this.#rtx, this.#mediaSsrc);
      if (!p) return void this.#count('ignored');
      retransmission = true;
      this.#count('retransmissions');
    } else if (p.payloadType !== this.#opts.payloadType) return void this.#count('ignored');
    if (p.ssrc !== this.#mediaSsrc) this.#newSource(p.ssrc);
    this.#count('packets');
    this.#stats!.onPacket(p.sequenceNumber, p.timestamp, nowMs, retransmission);
    this.#nack.onPacket(p.sequenceNumber, nowMs);
    for (const out of this.#reorder.push(p.sequenceNumber, p, nowMs)) this.#release(out);
  }

  /** Timers: packets whose gap timed out, NACK retries, and the periodic receiver report + REMB. */
  tick(nowMs = performance.now()): void {
    if (this.#closed || this.#mediaSsrc === undefined) return;
    for (const out of this.#reorder.poll(nowMs)) this.#release(out);
    const n = this.#nack.poll(nowMs);
    if (n.nack.length > 0) {
      this.#count('nacks');
      this.#opts.sendRtcp(buildNack({ senderSsrc: this.#senderSsrc, mediaSsrc: this.#mediaSsrc, seqs: n.nack }));
    }
    if (n.requestKeyframe) this.requestKeyframe(nowMs);
    if (nowMs - this.#lastRtcpMs >= RTCP_INTERVAL_MS) {
      this.#lastRtcpMs = nowMs;
      const block = this.#stats!.reportBlock(nowMs);
      this.#opts.sendRtcp(
        concatRtcp([
          buildReceiverReport({ ssrc: this.#senderSsrc, reports: block ? [block] : [] }),
          buildRemb({ senderSsrc: this.#senderSsrc, bitrateBps: this.#opts.maxBitrateBps, ssrcs: [this.#mediaSsrc] }),
        ]),
      );
    }
  }

  /** Asks the sender for a keyframe (PLI), at most every 300 ms; decoding waits for it. */
  requestKeyframe(nowMs = performance.now()): void {
    this.#waitingForKeyframe = true;
    if (this.#mediaSsrc === undefined || nowMs - this.#lastPliMs < PLI_MIN_INTERVAL_MS) return;
    this.#lastPliMs = nowMs;
    this.#count('plis');
    this.#opts.sendRtcp(buildPli({ senderSsrc: this.#senderSsrc, mediaSsrc: this.#mediaSsrc }));
  }

  #count(key: keyof VideoReceiverCounters): void {
    this.counters[key]++;
    VIDEO_RECEIVE_TOTALS[key]++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.decoder.close();
  }

  #newReorder(): ReorderBuffer<RtpPacket> {
    return new ReorderBuffer<RtpPacket>({ maxWaitMs: this.#opts.reorderWaitMs ?? 60 });
  }

  #newNack(): NackTracker {
    const wait = this.#opts.reorderWaitMs ?? 60;
    return new NackTracker({ reorderDelayMs: 5, retryIntervalMs: Math.max(10, wait / 3), maxAgeMs: wait });
  }

  /** A new sender SSRC (the first, or a restarted sender): fresh statistics and sequence state; wait for a keyframe. */
  #newSource(ssrc: number): void {
    if (this.#mediaSsrc !== undefined) {
      this.#reorder = this.#newReorder();
      this.#nack = this.#newNack();
      this.#assembler.reset();
      this.#numbering = new FrameNumbering();
    }
    this.#mediaSsrc = ssrc;
    this.#stats = new ReceiveStats(ssrc, 90_000);
    this.#waitingForKeyframe = true;
  }

  #onRtcp(buf: Uint8Array, nowMs: number): void {
    for (const p of parseRtcp(buf) ?? []) {
      if (p.type === 'sr' && p.ssrc === this.#mediaSsrc) this.#stats?.onSenderReport(p, nowMs);
    }
  }

  #release(out: ReorderOutput<RtpPacket>): void {
    if (out.type === 'reset') {
      this.#assembler.reset();
      this.#waitingForKeyframe = true;
      return;
    }
    if (out.type !== 'packet') return; // a lost range: the assembler sees the hole in the sequence numbers
    const p = out.item;
    for (const frame of this.#assembler.push({ payload: p.payload, marker: p.marker, timestamp: p.timestamp, sequenceNumber: p.sequenceNumber })) {
      this.#onAssembled(frame);
    }
  }

  #onAssembled(frame: AssembledFrame<DepacketizedFrame>): void {
    // Every frame is numbered, decodable or not, so that the numbers of later frames stay the sender's.
    const frameNumber = this.#numbering.numberFor(frame.timestamp, frame.lostBefore > 0);
    if (!frame.complete) {
      this.#count('framesDropped');
      this.requestKeyframe();
      return;
    }
    if (this.#waitingForKeyframe && !frame.keyframe) {
      this.#count('framesDropped');
      this.requestKeyframe();
      return;
    }
    this.#waitingForKeyframe = false;
    this.#count('framesIn');
    const r = this.#opts.decoder.decode(frame.data, frame.timestamp, frame.keyframe);
    if (r.error !== undefined) {
      this.#count('decodeErrors');
      this.requestKeyframe();
    }
    for (const f of r.frames) {
      this.#count('framesDecoded');
      this.#opts.onFrame({ ...f, rtpTimestamp: frame.timestamp, frameNumber });
    }
  }
}
