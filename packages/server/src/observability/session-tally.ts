import type { SessionSummary } from '@sightline/protocol';

/** The session counters exported as Prometheus counters, by processor. */
export const TALLIED_FIELDS = ['frames_received', 'frames_processed', 'frames_dropped', 'frames_rejected', 'results_sent', 'results_undelivered'] as const;
export type TalliedField = (typeof TALLIED_FIELDS)[number];
export type Tallies = Record<TalliedField, number>;

const zero = (): Tallies => ({ frames_received: 0, frames_processed: 0, frames_dropped: 0, frames_rejected: 0, results_sent: 0, results_undelivered: 0 });

/**
 * Per-processor totals of session counters, fed with summaries: live sessions' at scrape time, final ones when they
 * end. Each session's growth since its previous summary goes to the processor its summary names now, so totals never
 * go backwards and, once sessions have ended, equal the sums of their final summaries exactly. (Frames of a session
 * that switched processor between two scrapes are credited to the new one.) Pure: no timers, no I/O.
 */
export class SessionTally {
  readonly #seen = new Map<string, Tallies>();
  readonly #byProcessor = new Map<string, Tallies>();

  /** Adds the session's growth since its last summary; `final` also forgets the session. */
  update(s: SessionSummary, final = false): void {
    const seen = this.#seen.get(s.session_id) ?? zero();
    let total = this.#byProcessor.get(s.processor);
    if (!total) this.#byProcessor.set(s.processor, (total = zero()));
    for (const f of TALLIED_FIELDS) {
      const now = s[f] ?? 0;
      if (now > seen[f]) {
        total[f] += now - seen[f];
        seen[f] = now;
      }
    }
    if (final) this.#seen.delete(s.session_id);
    else this.#seen.set(s.session_id, seen);
  }

  /** Totals by processor (live objects: read, don't keep). */
  get byProcessor(): ReadonlyMap<string, Readonly<Tallies>> {
    return this.#byProcessor;
  }
}
