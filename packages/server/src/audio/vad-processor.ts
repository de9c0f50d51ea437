import { z } from 'zod';
import type { AudioChunk } from './audio-chunk.js';
import { chunkFrames, chunkProblem } from './audio-chunk.js';
import { defineAudioProcessor, newCounters, type AudioEvent, type AudioProcessor, type AudioStream, type AudioStreamCounters } from './audio-processor.js';
import { downmix, Resampler16k } from './resample.js';
import { VAD_WINDOW } from './silero-vad.js';
import type { VadRunner } from './vad-runner.js';
import { VadStateMachine, type VadDecisionParams } from './vad-state.js';

const Params = z.object({
  threshold: z.number().min(0.05).max(0.95).default(0.5).describe('Speech probability that starts speech (it ends below threshold − 0.15)'),
  min_speech_ms: z.number().int().min(0).max(5000).default(250).describe('Speech needed before speech_start is sent, ms'),
  min_silence_ms: z.number().int().min(32).max(10_000).default(500).describe('Silence that ends speech, ms (shorter pauses do not split it)'),
  pad_ms: z.number().int().min(0).max(1000).default(100).describe('How much earlier than the first speech window speech_start is placed, ms'),
});
export type VadParams = z.output<typeof Params>;

export interface VadProcessorOptions {
  runner: VadRunner;
  /** Windows of one stream waiting for the worker before new ones are dropped; default 64 (2 s of audio). */
  maxPendingWindows?: number;
}

/** Samples per ms at 16 kHz. */
const PER_MS = 16;

interface Window {
  start: number;
  status: 'pending' | 'done' | 'dropped';
  /** The latest chunk when the window completed: its arrival (epoch ms) and end position (16 kHz samples). */
  anchorWall: number;
  anchorPos: number;
}

/**
 * One session's `vad`: chunks → mono 16 kHz → 512-sample windows → the shared worker (Silero) → the decision state
 * machine → speech_start / speech_end. Accounting: a chunk is processed once every window holding its samples was
 * analysed, dropped if any of them was lost or it was still pending at close.
 */
class VadStream implements AudioStream {
  onEvent: AudioStream['onEvent'];
  readonly counters: AudioStreamCounters = { ...newCounters(), windows_processed: 0, windows_dropped: 0 };
  readonly #runner: VadRunner;
  readonly #id: number;
  readonly #maxPending: number;
  readonly #machine: VadStateMachine;
  readonly #resampler = new Resampler16k();
  #buf = new Float32Array(VAD_WINDOW);
  #fill = 0;
  /** 16 kHz samples produced so far (the next sample's position). */
  #pos = 0;
  #inFlight = 0;
  #anchorWall = 0;
  #anchorPos = 0;
  #lastDecided = -1;
  readonly #windows: Window[] = [];
  readonly #chunks: Array<{ start: number; end: number; dropped: boolean }> = [];
  #closed = false;

  constructor(runner: VadRunner, params: VadParams, maxPending: number) {
    this.#runner = runner;
    this.#id = runner.openStream();
    this.#maxPending = maxPending;
    const d: VadDecisionParams = {
      threshold: params.threshold,
      minSpeech: params.min_speech_ms * PER_MS,
      minSilence: params.min_silence_ms * PER_MS,
      pad: params.pad_ms * PER_MS,
    };
    this.#machine = new VadStateMachine(d);
  }

  push(chunk: AudioChunk, receivedAtMs: number): void {
    const c = this.counters;
    c.chunks_received++;
    if (this.#closed || chunkProblem(chunk)) {
      c.chunks_dropped++;
      return;
    }
    const out = this.#resampler.process(downmix(chunk), chunk.sampleRate);
    c.audio_ms += (chunkFrames(chunk) / chunk.sampleRate) * 1000;
    this.#anchorWall = receivedAtMs;
    this.#anchorPos = c.audio_ms * PER_MS;
    if (out.length === 0) c.chunks_processed++;
    else this.#chunks.push({ start: this.#pos, end: this.#pos + out.length, dropped: false });
    for (let i = 0; i < out.length;) {
      const n = Math.min(out.length - i, VAD_WINDOW - this.#fill);
      this.#buf.set(out.subarray(i, i + n), this.#fill);
      this.#fill += n;
      i += n;
      if (this.#fill === VAD_WINDOW) this.#emitWindow(this.#pos + i - VAD_WINDOW);
    }
    this.#pos += out.length;
  }

  #emitWindow(start: number): void {
    const w: Window = { start, status: 'pending', anchorWall: this.#anchorWall, anchorPos: this.#anchorPos };
    this.#windows.push(w);
    const samples = this.#buf;
    this.#buf = new Float32Array(VAD_WINDOW);
    this.#fill = 0;
    if (this.#inFlight >= this.#maxPending) {
      this.#lose(w);
      return;
    }
    this.#inFlight++;
    this.#runner.infer(this.#id, samples).then(
      (prob) => {
        this.#inFlight--;
        if (this.#closed) return;
        w.status = 'done';
        this.counters.windows_processed!++;
        this.#decide(w, prob);
        this.#settle();
      },
      () => {
        this.#inFlight--;
        if (!this.#closed) this.#lose(w);
      },
    );
  }

  #lose(w: Window): void {
    w.status = 'dropped';
    this.counters.windows_dropped!++;
    this.#settle();
  }

  #decide(w: Window, prob: number): void {
    if (w.start <= this.#lastDecided) return;
    this.#lastDecided = w.start;
    const d = this.#machine.window(w.start, VAD_WINDOW, prob);
    if (!d) return;
    const atMs = w.anchorWall - (w.anchorPos - d.pos) / PER_MS;
    const e: AudioEvent =
      d.type === 'start'
        ? { type: 'speech_start', processor: 'vad', t_ms: d.pos / PER_MS, at_ms: atMs }
        : { type: 'speech_end', processor: 'vad', t_ms: d.pos / PER_MS, at_ms: atMs, duration_ms: (d.pos - d.start) / PER_MS };
    this.counters.events_emitted++;
    this.onEvent?.(e);
  }

  /** Settles windows in order, and with them the chunks whose samples they hold. */
  #settle(): void {
    while (this.#windows[0] && this.#windows[0].status !== 'pending') {
      const w = this.#windows.shift()!;
      const end = w.start + VAD_WINDOW;
      while (this.#chunks[0] && this.#chunks[0].start < end) {
        const ch = this.#chunks[0];
        if (w.status === 'dropped') ch.dropped = true;
        if (ch.end > end) break;
        this.#chunks.shift();
        if (ch.dropped) this.counters.chunks_dropped++;
        else this.counters.chunks_processed++;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onEvent = undefined;
    this.#runner.endStream(this.#id);
    for (const w of this.#windows) if (w.status === 'pending') this.counters.windows_dropped!++;
    this.#windows.length = 0;
    this.counters.chunks_dropped += this.#chunks.length;
    this.#chunks.length = 0;
  }
}

/** `vad`: Silero voice activity detection in the shared VAD worker; speech_start / speech_end events. */
export function vadProcessor(opts: VadProcessorOptions): AudioProcessor<VadParams> {
  return defineAudioProcessor({
    name: 'vad',
    description: 'Voice activity detection (Silero VAD): speech_start and speech_end with their positions in the audio.',
    params: Params,
    open: (params) => new VadStream(opts.runner, params, opts.maxPendingWindows ?? 64),
  });
}
