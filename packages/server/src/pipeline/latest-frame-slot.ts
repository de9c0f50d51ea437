/**
 * The per-session latest-frame rule as a pure state machine (no timers, no I/O): at most one item in process and
 * one waiting. An item offered while one is in process replaces the waiting one, which is returned as dropped.
 */
export class LatestFrameSlot<T> {
  #busy = false;
  #waiting: T | undefined;
  #dropped = 0;

  /** Items replaced before they were processed. */
  get dropped(): number {
    return this.#dropped;
  }

  get busy(): boolean {
    return this.#busy;
  }

  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  /**
   * Offers a new item. Returns `{ start }` when it should be processed now, or `{ dropped }` with the item it
   * replaced (if any) when it has to wait.
   */
  offer(item: T): { start?: T; dropped?: T } {
    if (!this.#busy) {
      this.#busy = true;
      return { start: item };
    }
    const dropped = this.#waiting;
    this.#waiting = item;
    if (dropped !== undefined) this.#dropped++;
    return dropped === undefined ? {} : { dropped };
  }

  /** Marks the current item done; returns the next one to process, if one is waiting. */
  complete(): T | undefined {
    const next = this.#waiting;
    this.#waiting = undefined;
    this.#busy = next !== undefined;
    return next;
  }

  /** Empties the slot (on close); the waiting item, if any, counts as dropped and is returned. */
  clear(): T | undefined {
    const w = this.#waiting;
    this.#waiting = undefined;
    this.#busy = false;
    if (w !== undefined) this.#dropped++;
    return w;
  }
}
