/**
 * Requests waiting for one model, grouped by session, taken round-robin: a batch takes one request from each
 * session in turn, so a session with many requests waiting cannot crowd out the others. Pure (no timers, no I/O);
 * the pool decides when to take.
 */
export class BatchQueue<T> {
  readonly #bySession = new Map<string, Array<{ item: T; at: number }>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(session: string, item: T, at: number): void {
    let q = this.#bySession.get(session);
    if (!q) {
      q = [];
      this.#bySession.set(session, q);
    }
    q.push({ item, at });
    this.#size++;
  }

  /** Arrival time of the oldest waiting request, or undefined when empty. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const q of this.#bySession.values()) if (q[0] && (min === undefined || q[0].at < min)) min = q[0].at;
    return min;
  }

  /**
   * Takes up to `max` requests: one per session per round, sessions in order of their oldest waiting request.
   * A session served is moved to the back, so the next batch starts with the others.
   */
  take(max: number): T[] {
    const out: T[] = [];
    while (out.length < max && this.#size > 0) {
      const order = [...this.#bySession.entries()].sort((a, b) => a[1][0]!.at - b[1][0]!.at);
      for (const [session, q] of order) {
        if (out.length >= max) break;
        out.push(q.shift()!.item);
        this.#size--;
        this.#bySession.delete(session);
        if (q.length > 0) this.#bySession.set(session, q);
      }
    }
    return out;
  }

  /** Removes and returns everything (on close). */
  drain(): T[] {
    const out: T[] = [];
    for (const q of this.#bySession.values()) for (const e of q) out.push(e.item);
    this.#bySession.clear();
    this.#size = 0;
    return out;
  }
}
