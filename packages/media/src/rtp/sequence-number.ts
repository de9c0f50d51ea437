/**
 * 16-bit RTP sequence-number arithmetic, and the one policy for "where does this packet sit in the stream" that the
 * reorder buffer, the NACK tracker and the receive statistics all share (RFC 3550 §A.1, with the deviation noted on
 * SequenceUnwrapper).
 */

/** Signed distance a − b on the 16-bit circle, in [-32768, 32767]: positive when a is newer than b. */
export function seqDelta(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** Whether a comes after b on the 16-bit circle. */
export function isNewerSeq(a: number, b: number): boolean {
  return seqDelta(a, b) > 0;
}

export interface SequenceLimits {
  /** A jump forward larger than this is a new stream, not a loss burst (RFC 3550 §A.1 MAX_DROPOUT). Default 3000. */
  maxDropout?: number;
  /**
   * How far behind the highest sequence number a packet may arrive and still count as reordered or retransmitted.
   * RFC 3550 suggests 100; the default 1000 leaves room for a keyframe burst plus a few retransmission round trips at
   * video packet rates, since a retransmission beyond this window looks like a stray (see SequenceUnwrapper).
   */
  maxMisorder?: number;
}

export const DEFAULT_MAX_DROPOUT = 3000;
export const DEFAULT_MAX_MISORDER = 1000;

/**
 * How one arriving packet relates to the stream so far. `ext` is the extended (unwrapped) sequence number: the 16-bit
 * number plus 65536 per wrap, starting at the first packet's own number (RFC 3550's cycles + seq).
 */
export type SeqArrival =
  /** The stream's first packet. */
  | { kind: 'first'; ext: number }
  /** Newer than every packet so far; `gap` packets between the previous highest and this one are missing. */
  | { kind: 'forward'; ext: number; gap: number }
  /** At or behind the highest, within maxMisorder: reordered, retransmitted or duplicated. */
  | { kind: 'backward'; ext: number }
  /** A new stream: numbering restarts at this packet (ext is its own 16-bit number again). */
  | { kind: 'restart'; ext: number }
  /** Far behind the highest: dropped (a second one that continues it would be a restart). */
  | { kind: 'stray' };

/**
 * Unwraps 16-bit sequence numbers into a growing extended number and classifies each packet.
 *
 * Deviation from RFC 3550 §A.1: a forward jump beyond maxDropout restarts at once instead of waiting for a second
 * packet. A delayed packet can only be behind, never ahead, so a big jump forward is a restarted sender (or an outage
 * so long that nothing before it matters); and SRTP authenticates every packet, so it is not garbage. A big jump
 * backward, by contrast, may be a very late retransmission, so it restarts only when the next packet to arrive continues
 * it (the RFC's bad_seq rule).
 */
export class SequenceUnwrapper {
  private readonly maxDropout: number;
  private readonly maxMisorder: number;
  private highest: number | undefined;
  private badSeq: number | undefined;

  constructor(limits: SequenceLimits = {}) {
    this.maxDropout = limits.maxDropout ?? DEFAULT_MAX_DROPOUT;
    this.maxMisorder = limits.maxMisorder ?? DEFAULT_MAX_MISORDER;
  }

  /** The highest extended sequence number so far, or undefined before the first packet. */
  get highestExt(): number | undefined {
    return this.highest;
  }

  push(seq: number): SeqArrival {
    seq &= 0xffff;
    const highest = this.highest;
    if (highest === undefined) {
      this.highest = seq;
      return { kind: 'first', ext: seq };
    }
    const delta = seqDelta(seq, highest & 0xffff);
    if (delta > this.maxDropout) return this.restart(seq);
    if (delta > 0) {
      this.badSeq = undefined;
      this.highest = highest + delta;
      return { kind: 'forward', ext: highest + delta, gap: delta - 1 };
    }
    if (-delta <= this.maxMisorder) {
      this.badSeq = undefined;
      return { kind: 'backward', ext: highest + delta };
    }
    if (seq === this.badSeq) return this.restart(seq);
    this.badSeq = (seq + 1) & 0xffff;
    return { kind: 'stray' };
  }

  reset(): void {
    this.highest = undefined;
    this.badSeq = undefined;
  }

  private restart(seq: number): SeqArrival {
    this.highest = seq;
    this.badSeq = undefined;
    return { kind: 'restart', ext: seq };
  }
}
