/**
 * Receiver statistics for one SSRC, as a receiver report block needs them (RFC 3550 §6.4.1, algorithms of §A.1, A.3
 * and A.8): extended highest sequence number, cumulative and interval loss, interarrival jitter, and the LSR/DLSR pair
 * that lets the sender measure the round trip. Pure bookkeeping: the caller passes arrival times.
 */
import { ntpMiddle32, type ReportBlock } from './rtcp.js';
import { SequenceUnwrapper, type SequenceLimits } from './sequence-number.js';

export class ReceiveStats {
  private readonly seqs: SequenceUnwrapper;
  private started = false;
  private baseExt = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Interarrival jitter in timestamp units, as a float (RFC 3550 keeps it scaled by 16 to stay in integers). */
  private jitterUnits = 0;
  private lastTransit: { arrivalMs: number; rtpTimestamp: number } | undefined;
  private lastSr: { middle32: number; arrivalMs: number } | undefined;

  /**
   * @param ssrc the media SSRC reported on.
   * @param clockRate the payload format's RTP clock (90000 for video), to convert arrival times to timestamp units.
   */
  constructor(
    readonly ssrc: number,
    readonly clockRate: number,
    limits: SequenceLimits = {},
  ) {
    this.seqs = new SequenceUnwrapper(limits);
  }

  /**
   * Counts one received packet. A retransmission (unwrapped RTX) counts as received, so the loss reported is what
   * stayed lost after repair, but it does not feed the jitter: it arrives a round trip late by design.
   */
  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number, retransmission = false): void {
    const arrival = this.seqs.push(seq);
    if (arrival.kind === 'stray') return;
    if (arrival.kind === 'first' || arrival.kind === 'restart') {
      // RFC 3550 §A.1 init_seq: a new sequence starts the counts afresh.
      this.started = true;
      this.baseExt = arrival.ext;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.lastTransit = undefined;
    }
    this.received++;
    if (!retransmission) this.updateJitter(rtpTimestamp, arrivalMs);
  }

  /** Remembers the last sender report from this source, for LSR and DLSR. */
  onSenderReport(sr: { ntpSeconds: number; ntpFraction: number }, arrivalMs: number): void {
    this.lastSr = { middle32: ntpMiddle32(sr.ntpSeconds, sr.ntpFraction), arrivalMs };
  }

  /** Highest sequence number received, with the wrap count in the upper 16 bits (0 before any packet). */
  get extendedHighestSeq(): number {
    return (this.seqs.highestExt ?? 0) >>> 0;
  }

  /** Packets expected (from the first sequence number to the highest) minus packets received; negative with duplicates. */
  get cumulativeLost(): number {
    return this.expected() - this.received;
  }

  /** Interarrival jitter in RTP timestamp units. */
  get jitter(): number {
    return Math.round(this.jitterUnits);
  }

  get packetsReceived(): number {
    return this.received;
  }

  /**
   * The report block for an RR sent at nowMs, or undefined before the first packet. It closes the interval that
   * fraction lost covers (RFC 3550 §A.3), so call it once per report sent.
   */
  reportBlock(nowMs: number): ReportBlock | undefined {
    if (!this.started) return undefined;
    const expected = this.expected();
    const expectedInterval = expected - this.expectedPrior;
    const lostInterval = expectedInterval - (this.received - this.receivedPrior);
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    const sr = this.lastSr;
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      cumulativeLost: expected - this.received,
      extendedHighestSeq: this.extendedHighestSeq,
      jitter: this.jitter,
      lastSr: sr?.middle32 ?? 0,
      // DLSR is in 1/65536 s.
      delaySinceLastSr: sr === undefined ? 0 : Math.min(0xffffffff, Math.max(0, Math.round(((nowMs - sr.arrivalMs) * 65536) / 1000))),
    };
  }

  private expected(): number {
    return this.started ? (this.seqs.highestExt as number) - this.baseExt + 1 : 0;
  }

  /**
   * RFC 3550 §A.8: D = (Rj − Ri) − (Sj − Si) in timestamp units, J += (|D| − J) / 16. Timestamps are compared as a
   * signed 32-bit difference, so the 2^32 wrap and random initial timestamps do not matter.
   */
  private updateJitter(rtpTimestamp: number, arrivalMs: number): void {
    const last = this.lastTransit;
    this.lastTransit = { arrivalMs, rtpTimestamp };
    if (last === undefined) return;
    const arrivalDelta = ((arrivalMs - last.arrivalMs) * this.clockRate) / 1000;
    const timestampDelta = (rtpTimestamp - last.rtpTimestamp) | 0;
    const d = Math.abs(arrivalDelta - timestampDelta);
    this.jitterUnits += (d - this.jitterUnits) / 16;
  }
}
