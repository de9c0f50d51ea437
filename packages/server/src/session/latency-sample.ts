import { percentileOfSorted } from '@sightline/protocol';
import type { SessionLatency } from './session-observer.js';

/** The latest 512 results' inference and total times of one session, for its percentiles (bounded memory). */
export class LatencySample {
  static readonly SIZE = 512;
  readonly #inference = new Float64Array(LatencySample.SIZE);
  readonly #total = new Float64Array(LatencySample.SIZE);
  #n = 0;

  add(inferenceMs: number, totalMs: number): void {
    const i = this.#n % LatencySample.SIZE;
    this.#inference[i] = inferenceMs;
    this.#total[i] = totalMs;
    this.#n++;
  }

  percentiles(): SessionLatency {
    const n = Math.min(this.#n, LatencySample.SIZE);
    if (n === 0) return { inferenceMsP50: null, inferenceMsP95: null, totalMsP50: null, totalMsP95: null };
    const inf = this.#inference.slice(0, n).sort();
    const tot = this.#total.slice(0, n).sort();
    const at = (a: Float64Array, p: number): number => Math.round(percentileOfSorted(a, p * 100)! * 100) / 100;
    return { inferenceMsP50: at(inf, 0.5), inferenceMsP95: at(inf, 0.95), totalMsP50: at(tot, 0.5), totalMsP95: at(tot, 0.95) };
  }
}
