/**
 * A moving average of samples (each moves it `weight` of the way) that fades toward 0 with time constant `tauMs`
 * while no samples come: an idle pool reports no wait, not the last busy one. Pure: the caller passes the time.
 */
export class DecayingAverage {
  #value = 0;
  #at = 0;

  constructor(
    readonly weight = 0.2,
    readonly tauMs = 2000,
  ) {}

  /** Adds a sample (negative ones count as 0) taken at `now`, ms. */
  add(sample: number, now: number): void {
    const decayed = this.value(now);
    this.#value = decayed + this.weight * (Math.max(0, sample) - decayed);
    this.#at = now;
  }

  value(now: number): number {
    return Math.max(0, this.#value * Math.exp(-(now - this.#at) / this.tauMs));
  }
}
