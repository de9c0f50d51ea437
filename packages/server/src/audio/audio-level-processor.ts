import { z } from 'zod';
import { chunkFrames, chunkProblem } from './audio-chunk.js';
import { defineAudioProcessor, newCounters, type AudioStream } from './audio-processor.js';
import { LevelMeter } from './level-meter.js';

const Params = z.object({
  interval_ms: z.number().int().min(10).max(10_000).default(100).describe('Length of each level reading, ms'),
});

/** `audio-level`: RMS and peak dBFS of the audio every `interval_ms`, on the main thread (a pass over the samples). */
export const audioLevelProcessor = defineAudioProcessor({
  name: 'audio-level',
  description: 'Audio level meter: RMS and peak in dBFS every interval_ms.',
  params: Params,
  open(params): AudioStream {
    const counters = newCounters();
    let meter: LevelMeter | undefined;
    let rate = 0;
    /** Stream position where the current meter (rate) started, ms. */
    let offsetMs = 0;
    let closed = false;
    const stream: AudioStream = {
      onEvent: undefined,
      counters,
      push(chunk) {
        counters.chunks_received++;
        if (closed || chunkProblem(chunk)) {
          counters.chunks_dropped++;
          return;
        }
        if (chunk.sampleRate !== rate || !meter) {
          // A new rate starts a new meter (the partial interval is not reported).
          offsetMs = counters.audio_ms;
          rate = chunk.sampleRate;
          meter = new LevelMeter(Math.max(1, Math.round((params.interval_ms * rate) / 1000)));
        }
        counters.audio_ms += (chunkFrames(chunk) / rate) * 1000;
        counters.chunks_processed++;
        for (const r of meter.push(chunk.samples, chunk.channels)) {
          counters.events_emitted++;
          stream.onEvent?.({
            type: 'audio_level',
            processor: 'audio-level',
            t_ms: offsetMs + (r.startFrame / rate) * 1000,
            rms_dbfs: r.rmsDbfs,
            peak_dbfs: r.peakDbfs,
          });
        }
      },
      close() {
        closed = true;
        stream.onEvent = undefined;
      },
    };
    return stream;
  },
});
