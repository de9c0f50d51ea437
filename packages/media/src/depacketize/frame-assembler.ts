/**
 * Groups in-order RTP payloads into frames for one stream and hands each frame to its codec's depacketizer.
 *
 * A frame is the packets of one RTP timestamp; it ends at the marker bit, or when a packet with another timestamp
 * arrives (a sender that doesn't mark, or a lost marker packet). The engine/rtp/ reorderer delivers packets in
 * sequence order, so a sequence number that skips ahead means loss. A frame is complete only when it provably has all
 * its packets: none missing between its first and last, its end marked (or followed without loss by the next
 * frame), and its start either announced by the payload (the codec's startsFrame) or right after a packet that
 * arrived. Incomplete frames are still emitted, flagged, so the caller can drop them, count them and ask for a
 * keyframe.
 */
import type { DepacketizedFrame, Depacketizer, RtpPayload } from './types.js';

/** Why a frame is incomplete. */
export type IncompleteReason =
  /** Sequence numbers missing between the frame's first and last packet. */
  | 'lost-packets'
  /** The first packet isn't known to start the frame, and the packet before it was lost (or this is the first packet). */
  | 'missing-start'
  /** No marker, and packets were lost before the next frame (or the stream was flushed). */
  | 'missing-end'
  /** The frame has more packets than the assembler keeps; the rest of its packets are discarded. */
  | 'too-many-packets'
  /** Every packet arrived but the payloads don't fit together (the depacketizer's `problem` says how). */
  | 'malformed';

/** A depacketized frame with where it came from in the RTP stream. `complete` covers both loss and payload checks. */
export type AssembledFrame<F extends DepacketizedFrame = DepacketizedFrame> = F & {
  /** RTP timestamp (90 kHz for video, 48 kHz for Opus): the frame's presentation time for the decoder. */
  timestamp: number;
  firstSequenceNumber: number;
  lastSequenceNumber: number;
  packetCount: number;
  /** Sequence numbers missing just before this frame's first packet (for audio: packets to conceal). */
  lostBefore: number;
  incompleteReason?: IncompleteReason;
};

export interface FrameAssemblerCounters {
  /** Every packet pushed. */
  packets: number;
  /** Frames emitted, complete or not. */
  frames: number;
  /** Frames emitted with their keyframe flag set, complete or not. */
  keyframes: number;
  incompleteFrames: number;
  /** Duplicates, packets older than the last one, and packets past a frame's packet limit. */
  discardedPackets: number;
  /** Sequence numbers skipped over: packets that never arrived. */
  lostPackets: number;
  /** Packets with an empty payload (padding-only packets that senders use for bandwidth probing). */
  emptyPackets: number;
  /** Packetization units the depacketizer dropped as unsupported (H.264 STAP-B/MTAP/FU-B, H.265 PACI, …). */
  skippedUnits: number;
}

export interface FrameAssemblerOptions {
  /** Packets one frame may have before it is cut off as incomplete (bounds memory on a stream with no marker). */
  maxPacketsPerFrame?: number;
}

interface OpenFrame {
  timestamp: number;
  payloads: Uint8Array[];
  firstSequenceNumber: number;
  lastSequenceNumber: number;
  lostBefore: number;
  startKnown: boolean;
  lostInside: boolean;
}

const NO_FRAMES: readonly never[] = Object.freeze([]);
const DEFAULT_MAX_PACKETS_PER_FRAME = 4096; // about 5 MB at a 1,200-byte MTU: above any 4K keyframe

export class FrameAssembler<F extends DepacketizedFrame = DepacketizedFrame> {
  readonly #depacketizer: Depacketizer<F>;
  readonly #maxPacketsPerFrame: number;
  #open: OpenFrame | undefined;
  #lastSequenceNumber: number | undefined;
  /** The timestamp of a frame cut off at the packet limit: its remaining packets are discarded. */
  #discardTimestamp: number | undefined;
  readonly #counters: FrameAssemblerCounters = {
    packets: 0,
    frames: 0,
    keyframes: 0,
    incompleteFrames: 0,
    discardedPackets: 0,
    lostPackets: 0,
    emptyPackets: 0,
    skippedUnits: 0,
  };

  constructor(depacketizer: Depacketizer<F>, options: FrameAssemblerOptions = {}) {
    this.#depacketizer = depacketizer;
    this.#maxPacketsPerFrame = options.maxPacketsPerFrame ?? DEFAULT_MAX_PACKETS_PER_FRAME;
  }

  /** A copy of the counters. */
  get counters(): FrameAssemblerCounters {
    return { ...this.#counters };
  }

  /**
   * Takes the next packet in sequence order and returns the frames it finishes: none, one, or two (a frame left open
   * without a marker, then this packet's own frame when it is a whole frame by itself).
   */
  push(packet: RtpPayload): readonly AssembledFrame<F>[] {
    this.#counters.packets++;
    const sequenceNumber = packet.sequenceNumber & 0xffff;
    let lost = 0;
    if (this.#lastSequenceNumber !== undefined) {
      // Distance forward modulo 2^16: 0 is a duplicate, the upper half of the range is an older packet.
      const delta = (sequenceNumber - this.#lastSequenceNumber) & 0xffff;
      if (delta === 0 || delta >= 0x8000) {
        this.#counters.discardedPackets++;
        return NO_FRAMES;
      }
      lost = delta - 1;
    }
    const previousArrived = this.#lastSequenceNumber !== undefined && lost === 0;
    this.#lastSequenceNumber = sequenceNumber;
    this.#counters.lostPackets += lost;

    let out: AssembledFrame<F>[] | undefined;
    const open = this.#open;
    if (open && packet.timestamp !== open.timestamp) {
      // No marker ended it: the frame is whole only if nothing was lost before this next frame began.
      out = [this.#close(open, lost === 0 ? undefined : 'missing-end')];
    }
    if (packet.payload.length === 0) {
      this.#counters.emptyPackets++;
      return out ?? NO_FRAMES;
    }
    if (packet.timestamp === this.#discardTimestamp) {
      this.#counters.discardedPackets++;
      return out ?? NO_FRAMES;
    }
    this.#discardTimestamp = undefined;

    let frame = this.#open;
    if (!frame) {
      const starts = this.#depacketizer.startsFrame(packet.payload);
      frame = {
        timestamp: packet.timestamp,
        payloads: [],
        firstSequenceNumber: sequenceNumber,
        lastSequenceNumber: sequenceNumber,
        lostBefore: lost,
        startKnown: starts ?? previousArrived,
        lostInside: false,
      };
      this.#open = frame;
    } else if (lost > 0) {
      frame.lostInside = true;
    }
    frame.payloads.push(packet.payload);
    frame.lastSequenceNumber = sequenceNumber;

    let finished: AssembledFrame<F> | undefined;
    if (frame.payloads.length >= this.#maxPacketsPerFrame && !packet.marker && !this.#depacketizer.packetIsFrame) {
      this.#discardTimestamp = frame.timestamp;
      finished = this.#close(frame, 'too-many-packets');
    } else if (packet.marker || this.#depacketizer.packetIsFrame) {
      finished = this.#close(frame, undefined);
    }
    if (!finished) return out ?? NO_FRAMES;
    if (!out) return [finished];
    out.push(finished);
    return out;
  }

  /** Emits the open frame, if any, as incomplete (its end never came): for the end of a stream. */
  flush(): AssembledFrame<F> | undefined {
    return this.#open && this.#close(this.#open, 'missing-end');
  }

  /** Forgets the open frame and the sequence position (a new SSRC, or a sender restart); keeps the counters. */
  reset(): void {
    this.#open = undefined;
    this.#lastSequenceNumber = undefined;
    this.#discardTimestamp = undefined;
  }

  #close(open: OpenFrame, endReason: 'missing-end' | 'too-many-packets' | undefined): AssembledFrame<F> {
    this.#open = undefined;
    const frame = this.#depacketizer.depacketize(open.payloads);
    const incompleteReason: IncompleteReason | undefined = open.lostInside
      ? 'lost-packets'
      : !open.startKnown
        ? 'missing-start'
        : (endReason ?? (frame.complete ? undefined : 'malformed'));
    const counters = this.#counters;
    counters.frames++;
    if (frame.keyframe) counters.keyframes++;
    if (incompleteReason) counters.incompleteFrames++;
    counters.skippedUnits += frame.skippedUnits;
    return {
      ...frame,
      complete: incompleteReason === undefined,
      timestamp: open.timestamp,
      firstSequenceNumber: open.firstSequenceNumber,
      lastSequenceNumber: open.lastSequenceNumber,
      packetCount: open.payloads.length,
      lostBefore: open.lostBefore,
      ...(incompleteReason === undefined ? {} : { incompleteReason }),
    };
  }
}
