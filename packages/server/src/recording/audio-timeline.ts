/** Interleaved s16 PCM (the shape of audio/audio-chunk.ts's AudioChunk, kept local so recording stands alone). */
export interface PcmChunk {
  samples: Int16Array;
  sampleRate: number;
  channels: number;
}

/** Whether a chunk can be recorded: whole frames, 1-8 channels, 8-192 kHz. */
export function validChunk(c: PcmChunk): boolean {
  return (
    c.samples instanceof Int16Array &&
    Number.isInteger(c.channels) &&
    c.channels >= 1 &&
    c.channels <= 8 &&
    Number.isInteger(c.sampleRate) &&
    c.sampleRate >= 8000 &&
    c.sampleRate <= 192_000 &&
    c.samples.length % c.channels === 0
  );
}

/** PCM for the recording's audio track: interleaved s16 at the track's rate and channels, at `timestampMs`. */
export interface PcmBlock {
  timestampMs: number;
  /** May be a view of the pushed chunk's samples: copy it before the chunk can change. */
  pcm: Int16Array;
  /** True for silence the timeline inserted. */
  silence: boolean;
}

/** Longest silence block (ms); longer gaps become several blocks. */
const MAX_SILENCE_BLOCK_MS = 1000;

/**
 * One contiguous audio track on the recording's clock (ms since its zero), as a pure state machine. Samples are
 * placed back to back, so the track never has holes or overlaps; when a chunk starts more than `gapMs` after the
 * samples so far end (the audio stopped, chunks were dropped, or it began late), silence fills the gap first, and
 * `fillTo` lets the video clock extend the track when no audio comes at all. Chunks in another format are converted
 * (channels mixed, rate changed by linear interpolation).
 */
export class AudioTimeline {
  #frames = 0;
  #silenceFrames = 0;
  /** Fractional output frames carried between resampled chunks. */
  #carry = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    readonly gapMs = 100,
  ) {}

  /** Where the track ends now (ms). */
  get endMs(): number {
    return (this.#frames * 1000) / this.sampleRate;
  }

  /** Silence inserted so far (ms). */
  get silenceMs(): number {
    return Math.round((this.#silenceFrames * 1000) / this.sampleRate);
  }

  /** Blocks for a chunk that arrived at `atMs` on the recording's clock: silence for a gap, then the chunk. */
  push(chunk: PcmChunk, atMs: number): PcmBlock[] {
    const pcm = this.#convert(chunk);
    const frames = pcm.length / this.channels;
    const startMs = atMs - (frames * 1000) / this.sampleRate;
    const blocks = startMs - this.endMs > this.gapMs ? this.fillTo(startMs) : [];
    blocks.push({ timestampMs: Math.round(this.endMs), pcm, silence: false });
    this.#frames += frames;
    return blocks;
  }

  /** Silence blocks that extend the track to `ms` (none when it already reaches it). */
  fillTo(ms: number): PcmBlock[] {
    const blocks: PcmBlock[] = [];
    let missing = Math.floor(((ms - this.endMs) * this.sampleRate) / 1000);
    const most = (MAX_SILENCE_BLOCK_MS * this.sampleRate) / 1000;
    while (missing > 0) {
      const n = Math.min(missing, most);
      blocks.push({ timestampMs: Math.round(this.endMs), pcm: new Int16Array(n * this.channels), silence: true });
      this.#frames += n;
      this.#silenceFrames += n;
      missing -= n;
    }
    return blocks;
  }

  #convert(chunk: PcmChunk): Int16Array {
    const inCh = chunk.channels;
    const inFrames = Math.floor(chunk.samples.length / inCh);
    if (inCh === this.channels && chunk.sampleRate === this.sampleRate) return chunk.samples.subarray(0, inFrames * inCh);
    const exact = (inFrames * this.sampleRate) / chunk.sampleRate + this.#carry;
    const outFrames = Math.floor(exact);
    this.#carry = exact - outFrames;
    const out = new Int16Array(outFrames * this.channels);
    const step = outFrames > 1 ? (inFrames - 1) / (outFrames - 1) : 0;
    const s = chunk.samples;
    for (let i = 0; i < outFrames; i++) {
      const pos = i * step;
      const i0 = Math.floor(pos);
      const i1 = Math.min(inFrames - 1, i0 + 1);
      const f = pos - i0;
      for (let c = 0; c < this.channels; c++) {
        let v: number;
        if (this.channels === 1 && inCh > 1) {
          let a = 0;
          let b = 0;
          for (let k = 0; k < inCh; k++) {
            a += s[i0 * inCh + k]!;
            b += s[i1 * inCh + k]!;
          }
          v = (a + (b - a) * f) / inCh;
        } else {
          const k = Math.min(c, inCh - 1);
          const a = s[i0 * inCh + k]!;
          v = a + (s[i1 * inCh + k]! - a) * f;
        }
        out[i * this.channels + c] = Math.round(v);
      }
    }
    return out;
  }
}
