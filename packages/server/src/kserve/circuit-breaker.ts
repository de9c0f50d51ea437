/**
 * A circuit breaker for a remote inference backend: after `failures` failures in a row it opens, and calls fail at
 * once (no waiting on a dead server, every frame gets its error result now) for `openMs`; then one call is let
 * through (half-open): its success closes the breaker, its failure opens it again for twice as long (at most
 * `maxOpenMs`). Pure: time comes from `now()`.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Failures in a row that open it (default 3). */
  failures?: number;
  /** How long it stays open the first time (default 1000 ms); doubled on each failed probe. */
  openMs?: number;
  /**
   * The longest it stays open (default 2000 ms): a backend that comes back is tried within this, so sessions get
   * results again within about 2 s of its return; a probe every 2 s costs a dead backend nothing.
   */
  maxOpenMs?: number;
  now?: () => number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #baseOpenMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openUntil = 0;
  #openMs: number;
  #probing = false;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.#threshold = opts.failures ?? 3;
    this.#baseOpenMs = opts.openMs ?? 1000;
    this.#maxOpenMs = opts.maxOpenMs ?? 2000;
    this.#openMs = this.#baseOpenMs;
    this.#now = opts.now ?? (() => performance.now());
  }

  get state(): BreakerState {
    if (this.#failures < this.#threshold) return 'closed';
    return this.#now() < this.#openUntil ? 'open' : 'half-open';
  }

  /** Milliseconds until a call may be tried again (0 when one may now). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.#openUntil - this.#now()) : 0;
  }

  /**
   * Whether a call may go ahead now. Half-open lets one through at a time (its outcome must be reported); closed,
   * every one.
   */
  allow(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openMs = this.#baseOpenMs;
    this.#probing = false;
  }

  failed(): void {
    const wasProbe = this.#probing;
    this.#probing = false;
    this.#failures++;
    if (this.#failures < this.#threshold) return;
    if (wasProbe) this.#openMs = Math.min(this.#maxOpenMs, this.#openMs * 2);
    this.#openUntil = this.#now() + this.#openMs;
  }
}
