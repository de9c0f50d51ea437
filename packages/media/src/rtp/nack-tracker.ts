/**
 * Decides which packets of one RTP stream to ask for again with generic NACK (RFC 4585 §6.2.1): libdatachannel's
 * RtcpReceivingSession blocks NACKs sent from JS, so the engine runs without it and generates its own. A missing
 * packet is asked for once a short reorder delay has passed (most "gaps" are reordering), then again every retry
 * interval (about one RTT) up to maxRetries times; then it is given up on, and the caller should request a keyframe
 * (PLI), since the frame it belonged to can no longer be decoded. Memory is bounded by maxTracked. No timers: the caller
 * passes the time and polls at nextDeadlineMs().
 */
import { SequenceUnwrapper, type SequenceLimits } from './sequence-number.js';

export interface NackTrackerOptions extends SequenceLimits {
  /** Wait this long after a gap shows before the first NACK, so plain reordering costs nothing. Default 10. */
  reorderDelayMs?: number;
  /** Time between NACKs for the same packet: about one round trip. Default 100; update with setRetryIntervalMs(). */
  retryIntervalMs?: number;
  /** NACKs per packet before giving up (the last one is still waited on for one interval). Default 10. */
  maxRetries?: number;
  /**
   * Give up on a packet missing for this long whatever the retries: set it to the reorder buffer's maxWaitMs, since
   * a packet arriving later is dropped there as late. Default 1000.
   */
  maxAgeMs?: number;
  /** Most missing packets tracked; the oldest are given up on beyond. Default 1000. */
  maxTracked?: number;
}

export interface NackPoll {
  /** Sequence numbers to put in a NACK now, oldest first (possibly across the 65535→0 wrap). */
  nack: number[];
  /** Sequence numbers given up on since the last poll, oldest first. */
  gaveUp: number[];
  /** gaveUp is not empty: the stream cannot be repaired by retransmission, so ask for a keyframe. */
  requestKeyframe: boolean;
}

export interface NackCounters {
  /** Sequence numbers put in NACKs, retries included. */
  requested: number;
  /** Tracked missing packets that arrived (reordered or retransmitted). */
  recovered: number;
  gaveUp: number;
  resets: number;
}

interface Missing {
  firstMissingMs: number;
  sendAtMs: number;
  retries: number;
}

export class NackTracker {
  readonly counters: NackCounters = { requested: 0, recovered: 0, gaveUp: 0, resets: 0 };
  private readonly reorderDelayMs: number;
  private retryIntervalMs: number;
  private readonly maxRetries: number;
  private readonly maxAgeMs: number;
  private readonly maxTracked: number;
  private readonly seqs: SequenceUnwrapper;
  /** Missing packets by extended sequence number; gaps are added above the highest, so insertion order is ascending. */
  private readonly missing = new Map<number, Missing>();
  /** Given up on outside poll() (overflow), delivered by the next poll. */
  private pendingGaveUp: number[] = [];
  private pendingSinceMs = Infinity;

  constructor(options: NackTrackerOptions = {}) {
    this.reorderDelayMs = options.reorderDelayMs ?? 10;
    this.retryIntervalMs = options.retryIntervalMs ?? 100;
    this.maxRetries = options.maxRetries ?? 10;
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.maxTracked = options.maxTracked ?? 1000;
    this.seqs = new SequenceUnwrapper(options);
  }

  /** Packets currently missing and tracked. */
  get size(): number {
    return this.missing.size;
  }

  /** Sets the time between NACKs for one packet, from a fresh RTT estimate. */
  setRetryIntervalMs(ms: number): void {
    this.retryIntervalMs = ms;
  }

  /**
   * Records an arrived packet (originals and unwrapped retransmissions alike). Returns true when it filled a tracked
   * gap.
   */
  onPacket(seq: number, nowMs: number): boolean {
    const arrival = this.seqs.push(seq);
    switch (arrival.kind) {
      case 'forward':
        if (arrival.gap > 0) this.addGap(arrival.ext - arrival.gap, arrival.ext, nowMs);
        return false;
      case 'backward':
        if (!this.missing.delete(arrival.ext)) return false;
        this.counters.recovered++;
        return true;
      case 'restart':
        // A new sequence: nothing before it can be asked for any more. It starts with a keyframe in practice.
        this.counters.resets++;
        this.missing.clear();
        return false;
      case 'first':
      case 'stray':
        return false;
    }
  }

  /** What to NACK now, and what to give up on. */
  poll(nowMs: number): NackPoll {
    const nack: number[] = [];
    const gaveUp = this.pendingGaveUp;
    this.pendingGaveUp = [];
    this.pendingSinceMs = Infinity;
    for (const [ext, m] of this.missing) {
      if (nowMs - m.firstMissingMs >= this.maxAgeMs || (nowMs >= m.sendAtMs && m.retries >= this.maxRetries)) {
        this.missing.delete(ext);
        gaveUp.push(ext & 0xffff);
      } else if (nowMs >= m.sendAtMs) {
        m.retries++;
        m.sendAtMs = nowMs + this.retryIntervalMs;
        nack.push(ext & 0xffff);
      }
    }
    this.counters.requested += nack.length;
    this.counters.gaveUp += gaveUp.length;
    return { nack, gaveUp, requestKeyframe: gaveUp.length > 0 };
  }

  /** When poll() next has something to do, or undefined while nothing is missing. */
  nextDeadlineMs(): number | undefined {
    let at = this.pendingSinceMs;
    for (const m of this.missing.values()) at = Math.min(at, m.sendAtMs, m.firstMissingMs + this.maxAgeMs);
    return at === Infinity ? undefined : at;
  }

  /** Forgets everything (a new stream on the same SSRC, or teardown). */
  reset(): void {
    this.seqs.reset();
    this.missing.clear();
    this.pendingGaveUp = [];
    this.pendingSinceMs = Infinity;
  }

  /** Tracks [fromExt, untilExt) as missing, keeping at most maxTracked: the oldest are given up on. */
  private addGap(fromExt: number, untilExt: number, nowMs: number): void {
    const giveUp = (ext: number): void => {
      this.pendingGaveUp.push(ext & 0xffff);
      this.pendingSinceMs = Math.min(this.pendingSinceMs, nowMs);
    };
    // A gap wider than the whole budget: its oldest part is given up on without being tracked.
    const trackFrom = Math.max(fromExt, untilExt - this.maxTracked);
    for (let ext = fromExt; ext < trackFrom; ext++) giveUp(ext);
    for (let ext = trackFrom; ext < untilExt; ext++) {
      this.missing.set(ext, { firstMissingMs: nowMs, sendAtMs: nowMs + this.reorderDelayMs, retries: 0 });
    }
    for (const ext of this.missing.keys()) {
      if (this.missing.size <= this.maxTracked) break;
      this.missing.delete(ext);
      giveUp(ext);
    }
  }
}
