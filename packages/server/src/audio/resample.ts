/**
 * Downmix to mono and streaming resampling to the 16 kHz float32 that speech models take. Pure, per-stream state.
 */
import type { AudioChunk } from './audio-chunk.js';

export const VAD_SAMPLE_RATE = 16_000;

/** Interleaved Int16 → mono float32 in [-1, 1): the mean of the channels. */
export function downmix(chunk: AudioChunk): Float32Array {
  const { samples, channels } = chunk;
  const frames = Math.floor(samples.length / channels);
  const out = new Float32Array(frames);
  const scale = 1 / (32768 * channels);
  for (let i = 0, k = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[k++]!;
    out[i] = sum * scale;
  }
  return out;
}

/** Half-width of the low-pass filter in input samples per unit of ratio (zero crossings each side). */
const ZERO_CROSSINGS = 8;

/**
 * Streaming resampler from any rate to 16 kHz: a Blackman-windowed sinc low-pass at the input rate (cutoff 7.2 kHz,
 * or 0.45 of the input rate when lower), evaluated only where output samples fall, with linear interpolation between
 * neighbouring input positions for non-integer ratios (exact for 48, 32 kHz). Output sample n is input time
 * n / 16000 s, so positions stay exact over any number of chunks. A new input rate restarts the filter.
 */
export class Resampler16k {
  #rate = 0;
  #step = 1;
  #taps: Float32Array = new Float32Array(1);
  #half = 0;
  /** Recent input, enough for the filter's history. */
  #hist: Float32Array = new Float32Array(0);
  /** Input samples consumed at this rate, and output samples produced at it. */
  #inCount = 0;
  #outCount = 0;

  /** Appends mono samples at `rate` and returns the 16 kHz samples now computable. */
  process(input: Float32Array, rate: number): Float32Array {
    if (rate !== this.#rate) this.#reset(rate);
    if (rate === VAD_SAMPLE_RATE) return input.slice();
    // Window of input: history followed by the new samples; hist[0] is input index inCount - hist.length.
    const buf = new Float32Array(this.#hist.length + input.length);
    buf.set(this.#hist);
    buf.set(input, this.#hist.length);
    const base = this.#inCount - this.#hist.length;
    this.#inCount += input.length;
    const out = new Float32Array(Math.ceil(input.length / this.#step) + 2);
    let n = 0;
    for (;;) {
      const t = this.#outCount * this.#step; // input position of this output sample
      const i0 = Math.floor(t);
      const frac = t - i0;
      const need = frac > 1e-9 ? i0 + 1 : i0;
      if (need + this.#half >= this.#inCount) break; // its filter reaches past the input we have
      let y = this.#filterAt(buf, i0 - base);
      if (frac > 1e-9) y += frac * (this.#filterAt(buf, i0 + 1 - base) - y);
      out[n++] = y;
      this.#outCount++;
    }
    const keep = Math.min(buf.length, 2 * this.#half + 2);
    this.#hist = buf.slice(buf.length - keep);
    return out.subarray(0, n);
  }

  /** The filtered value at buffer index i (the history starts as zeros, so i - half ≥ 0). */
  #filterAt(buf: Float32Array, i: number): number {
    const taps = this.#taps;
    const n = taps.length;
    let acc = 0;
    for (let k = 0, j = i - this.#half; k < n; k++, j++) acc += taps[k]! * buf[j]!;
    return acc;
  }

  #reset(rate: number): void {
    this.#rate = rate;
    this.#step = rate / VAD_SAMPLE_RATE;
    this.#inCount = this.#outCount = 0;
    const cutoff = Math.min(7200, 0.45 * rate) / rate; // cycles per input sample
    this.#half = Math.ceil(ZERO_CROSSINGS * Math.max(1, this.#step));
    const n = 2 * this.#half + 1;
    const taps = new Float32Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const x = k - this.#half;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (n - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (n - 1));
      taps[k] = sinc * w;
      sum += taps[k]!;
    }
    for (let k = 0; k < n; k++) taps[k]! /= sum;
    this.#taps = taps;
    this.#hist = new Float32Array(2 * this.#half + 2); // silence before the stream's start
  }
}
