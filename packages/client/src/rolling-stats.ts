import { percentile } from '@sightline/protocol/wire';

/** Rolling figures over the last `windowMs`: RTT percentiles and event rates. Pure; time is passed in. */
export class RollingStats {
  readonly #rtts: Array<[number, number]> = [];
  readonly #results: number[] = [];
  constructor(readonly windowMs = 5000) {}

  addResult(now: number, rttMs: number | undefined): void {
    this.#results.push(now);
    if (rttMs !== undefined) this.#rtts.push([now, rttMs]);
    this.#trim(now);
  }

  #trim(now: number): void {
    const cut = now - this.windowMs;
    while (this.#results.length > 0 && this.#results[0]! < cut) this.#results.shift();
    while (this.#rtts.length > 0 && this.#rtts[0]![0] < cut) this.#rtts.shift();
  }

  /** Percentile `p` (0-100) of the RTTs in the window, or undefined when none. */
  rtt(p: number, now: number): number | undefined {
    this.#trim(now);
    return percentile(
      this.#rtts.map(([, v]) => v),
      p,
    );
  }

  /** Results per second over the window. */
  resultsPerSecond(now: number): number {
    this.#trim(now);
    return this.#results.length / (this.windowMs / 1000);
  }
}
