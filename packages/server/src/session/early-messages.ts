import type { ServerMessage } from '@sightline/protocol';

/** A message kept for a reader that is not there yet, already serialised. */
export interface HeldMessage {
  msg: ServerMessage;
  text: string;
  isResult: boolean;
}

/**
 * Messages a session produced before anyone could read them — its DataChannel not open yet (a client with
 * `bundle-policy` none/max-compat connects its media before its SCTP transport), no event stream attached — kept
 * until a reader appears. Bounded: beyond `max`, the oldest is evicted and handed back so the caller counts it as
 * undelivered. Pure: no timers, no I/O.
 */
export class EarlyMessages {
  readonly #max: number;
  #items: HeldMessage[] = [];

  constructor(max: number) {
    this.#max = Math.max(0, max);
  }

  get size(): number {
    return this.#items.length;
  }

  /** Keeps `m`; returns what no longer fits (the oldest, or `m` itself when nothing may be held). */
  hold(m: HeldMessage): HeldMessage | undefined {
    if (this.#max === 0) return m;
    this.#items.push(m);
    return this.#items.length > this.#max ? this.#items.shift() : undefined;
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  takeAll(): HeldMessage[] {
    const out = this.#items;
    this.#items = [];
    return out;
  }
}
