/**
 * Puts one RTP stream (one SSRC; keep one buffer per SSRC) back in sequence-number order before depacketizing, since
 * libdatachannel hands packets over in arrival order. A missing packet is waited for at most maxWaitMs, measured from
 * the arrival of the oldest packet held behind it; then the gap is skipped and reported as lost, so the depacketizer
 * can drop the broken frame. No timers: the caller passes the time, and polls at nextDeadlineMs().
 */
import { SequenceUnwrapper, type SequenceLimits, DEFAULT_MAX_MISORDER } from './sequence-number.js';

export interface ReorderBufferOptions extends SequenceLimits {
  /** Longest hold for a missing packet: about one frame interval plus one retransmission round trip. */
  maxWaitMs: number;
  /**
   * Sequence numbers held, counted from the oldest missing one (a keyframe burst behind one gap must fit): a packet
   * further ahead makes the buffer skip its oldest gaps at once. Default 512.
   */
  capacity?: number;
}

/** What the buffer releases, in sequence order. */
export type ReorderOutput<T> =
  | { type: 'packet'; seq: number; item: T }
  /** `count` packets from `firstSeq` on (wrapping past 65535) were given up on. */
  | { type: 'lost'; firstSeq: number; count: number }
  /** The sender started a new sequence (a jump, see SequenceUnwrapper): everything before it has been released. */
  | { type: 'reset' };

export interface ReorderCounters {
  released: number;
  /** Already held or already released. */
  duplicates: number;
  /** Dropped: arrived after their gap was skipped (so also counted in lost), or too far behind to place at all. */
  late: number;
  lost: number;
  resets: number;
}

interface Held<T> {
  ext: number;
  item: T;
  arrivalMs: number;
}

export class ReorderBuffer<T> {
  readonly counters: ReorderCounters = { released: 0, duplicates: 0, late: 0, lost: 0, resets: 0 };
  private readonly maxWaitMs: number;
  private readonly capacity: number;
  private readonly seqs: SequenceUnwrapper;
  /** Held packets by extended sequence number modulo capacity (all held ones lie in [next, next + capacity)). */
  private readonly slots: (Held<T> | undefined)[];
  /** Extended numbers of recently released packets, by ext modulo its length: tells a duplicate from a late packet. */
  private readonly releasedRing: Float64Array;
  /** The extended sequence number to release next; undefined before the first packet. */
  private next: number | undefined;
  private held = 0;
  private highestHeld = -Infinity;

  constructor(options: ReorderBufferOptions) {
    this.maxWaitMs = options.maxWaitMs;
    this.capacity = options.capacity ?? 512;
    if (!(this.capacity >= 1)) throw new RangeError('capacity must be at least 1');
    this.seqs = new SequenceUnwrapper(options);
    this.slots = new Array<Held<T> | undefined>(this.capacity).fill(undefined);
    this.releasedRing = new Float64Array((options.maxMisorder ?? DEFAULT_MAX_MISORDER) + 2).fill(NaN);
  }

  /** Packets currently held behind a gap. */
  get size(): number {
    return this.held;
  }

  /** Adds a packet; returns what is released now (including anything whose wait ran out by nowMs). */
  push(seq: number, item: T, nowMs: number): ReorderOutput<T>[] {
    const out: ReorderOutput<T>[] = [];
    const arrival = this.seqs.push(seq);
    switch (arrival.kind) {
      case 'stray':
        this.counters.late++;
        break;
      case 'restart':
        this.counters.resets++;
        this.release(out, Infinity);
        this.highestHeld = -Infinity;
        this.releasedRing.fill(NaN);
        out.push({ type: 'reset' });
        this.next = arrival.ext;
        this.hold(arrival.ext, item, nowMs, out);
        break;
      case 'first':
        this.next = arrival.ext;
        this.hold(arrival.ext, item, nowMs, out);
        break;
      case 'forward':
      case 'backward':
        this.hold(arrival.ext, item, nowMs, out);
        break;
    }
    this.expire(nowMs, out);
    return out;
  }

  /** Skips the gaps whose wait has run out by nowMs; returns what that releases. */
  poll(nowMs: number): ReorderOutput<T>[] {
    const out: ReorderOutput<T>[] = [];
    this.expire(nowMs, out);
    return out;
  }

  /** When poll() next has something to do, or undefined while nothing is held. */
  nextDeadlineMs(): number | undefined {
    return this.held === 0 ? undefined : this.oldestHeld().arrivalMs + this.maxWaitMs;
  }

  /** Releases everything held, gaps reported as lost (at teardown, or to drain on demand). */
  flush(): ReorderOutput<T>[] {
    const out: ReorderOutput<T>[] = [];
    this.release(out, Infinity);
    return out;
  }

  private hold(ext: number, item: T, nowMs: number, out: ReorderOutput<T>[]): void {
    const next = this.next as number;
    if (ext < next) {
      if (this.releasedRing[mod(ext, this.releasedRing.length)] === ext) this.counters.duplicates++;
      else this.counters.late++;
      return;
    }
    // Too far ahead to fit: give up on the oldest gap now rather than grow.
    if (ext - next >= this.capacity) this.release(out, ext - this.capacity + 1);
    const i = mod(ext, this.capacity);
    if (this.slots[i] !== undefined) {
      this.counters.duplicates++;
      return;
    }
    this.slots[i] = { ext, item, arrivalMs: nowMs };
    this.held++;
    if (ext > this.highestHeld) this.highestHeld = ext;
    this.releaseInOrder(out);
  }

  /** Releases the run of held packets that starts at `next`. */
  private releaseInOrder(out: ReorderOutput<T>[]): void {
    let next = this.next as number;
    for (;;) {
      const i = mod(next, this.capacity);
      const slot = this.slots[i];
      if (slot === undefined) break;
      this.slots[i] = undefined;
      this.held--;
      this.emit(slot, out);
      next++;
    }
    this.next = next;
  }

  /** Moves `next` up to `until` (exclusive; Infinity: past everything held), releasing held packets and reporting gaps. */
  private release(out: ReorderOutput<T>[], until: number): void {
    if (this.next === undefined) return;
    let next = this.next;
    if (until === Infinity) until = this.held === 0 ? next : this.highestHeld + 1;
    let gapStart: number | undefined;
    while (next < until) {
      if (this.held === 0) {
        gapStart ??= next;
        next = until;
        break;
      }
      const i = mod(next, this.capacity);
      const slot = this.slots[i];
      if (slot === undefined) {
        gapStart ??= next;
      } else {
        if (gapStart !== undefined) this.lost(gapStart, next, out);
        gapStart = undefined;
        this.slots[i] = undefined;
        this.held--;
        this.emit(slot, out);
      }
      next++;
    }
    if (gapStart !== undefined) this.lost(gapStart, next, out);
    this.next = next;
    this.releaseInOrder(out);
  }

  /** While the oldest packet held behind the head gap has waited maxWaitMs, skips to the first held packet. */
  private expire(nowMs: number, out: ReorderOutput<T>[]): void {
    while (this.held > 0) {
      const oldest = this.oldestHeld();
      if (oldest.arrivalMs + this.maxWaitMs > nowMs) return;
      this.release(out, oldest.lowestExt);
    }
  }

  /** Earliest arrival among held packets, and the lowest held extended number (packets are held only behind a gap). */
  private oldestHeld(): { arrivalMs: number; lowestExt: number } {
    let arrivalMs = Infinity;
    let lowestExt = Infinity;
    for (let ext = this.next as number; ext <= this.highestHeld; ext++) {
      const slot = this.slots[mod(ext, this.capacity)];
      if (slot === undefined) continue;
      if (lowestExt === Infinity) lowestExt = ext;
      if (slot.arrivalMs < arrivalMs) arrivalMs = slot.arrivalMs;
    }
    return { arrivalMs, lowestExt };
  }

  private emit(slot: Held<T>, out: ReorderOutput<T>[]): void {
    this.releasedRing[mod(slot.ext, this.releasedRing.length)] = slot.ext;
    this.counters.released++;
    out.push({ type: 'packet', seq: slot.ext & 0xffff, item: slot.item });
  }

  private lost(fromExt: number, untilExt: number, out: ReorderOutput<T>[]): void {
    this.counters.lost += untilExt - fromExt;
    out.push({ type: 'lost', firstSeq: fromExt & 0xffff, count: untilExt - fromExt });
  }
}

/** Non-negative modulo: extended numbers can be negative (a packet reordered before the very first one). */
function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
