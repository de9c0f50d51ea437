/** dBFS floor: digital silence and anything quieter reads this (JSON has no −∞). */
export const MIN_DBFS = -100;

/** 20·log10(x) for amplitudes relative to full scale (1.0), floored at MIN_DBFS. */
export function toDbfs(amplitude: number): number {
  return amplitude > 0 ? Math.max(MIN_DBFS, 20 * Math.log10(amplitude)) : MIN_DBFS;
}

export interface LevelReading {
  /** First frame of the interval (frames since the meter started). */
  startFrame: number;
  rmsDbfs: number;
  peakDbfs: number;
}

/**
 * RMS and peak over fixed intervals of frames, over every channel's samples (Int16, full scale 32768). Pure and
 * sample-exact: an interval may span or split chunks.
 */
export class LevelMeter {
  #frame = 0;
  #start = 0;
  #count = 0;
  #sumSq = 0;
  #peak = 0;

  constructor(readonly intervalFrames: number) {
    if (!(intervalFrames >= 1)) throw new RangeError('intervalFrames must be ≥ 1');
  }

  /** Adds interleaved samples; returns the intervals completed by them. */
  push(samples: Int16Array, channels: number): LevelReading[] {
    const out: LevelReading[] = [];
    const frames = Math.floor(samples.length / channels);
    for (let f = 0, k = 0; f < frames; f++) {
      for (let c = 0; c < channels; c++, k++) {
        const v = samples[k]!;
        this.#sumSq += v * v;
        const a = v < 0 ? -v : v;
        if (a > this.#peak) this.#peak = a;
      }
      this.#count += channels;
      this.#frame++;
      if (this.#frame - this.#start >= this.intervalFrames) {
        out.push({ startFrame: this.#start, rmsDbfs: toDbfs(Math.sqrt(this.#sumSq / this.#count) / 32768), peakDbfs: toDbfs(this.#peak / 32768) });
        this.#start = this.#frame;
        this.#count = this.#sumSq = this.#peak = 0;
      }
    }
    return out;
  }
}
