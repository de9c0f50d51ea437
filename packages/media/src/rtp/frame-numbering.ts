/**
 * Seed-compatible frame numbers for a video track: a sender that sends frames in order gets 0, 1, 2, …, and a frame
 * lost on the way leaves its number unused instead of shifting every later number by one (as numbering decoded
 * frames would). Every frame the receiver assembles is numbered, decodable or not. Between two frames with no packet
 * lost in between, the number advances by one, and that timestamp distance teaches the frame interval (the median of
 * recent clean distances, so a rate change is learned within a few frames). After a loss, whole frames may be
 * missing: the number advances by the distance in frame intervals, rounded, at least one.
 */
const RECENT = 7;

export class FrameNumbering {
  #lastTs: number | undefined;
  #last = 0;
  readonly #clean: number[] = [];

  /** The number of the frame with this RTP timestamp; `lossBefore`: packets were lost since the previous frame. */
  numberFor(rtpTimestamp: number, lossBefore: boolean): number {
    const ts = rtpTimestamp >>> 0;
    if (this.#lastTs === undefined) {
      this.#lastTs = ts;
      return 0;
    }
    const delta = (ts - this.#lastTs) >>> 0;
    if (delta === 0) return this.#last;
    this.#lastTs = ts;
    // More than half the 32-bit range ahead is behind: a sender that restarted its clock. Count on from here.
    if (delta > 0x7fffffff) return ++this.#last;
    if (!lossBefore) {
      this.#clean.push(delta);
      if (this.#clean.length > RECENT) this.#clean.shift();
      return ++this.#last;
    }
    const interval = this.#interval();
    this.#last += interval === undefined ? 1 : Math.max(1, Math.round(delta / interval));
    return this.#last;
  }

  #interval(): number | undefined {
    if (this.#clean.length === 0) return undefined;
    const sorted = [...this.#clean].sort((a, b) => a - b);
    return sorted[sorted.length >> 1]!;
  }
}
