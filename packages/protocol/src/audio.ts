import { z } from 'zod';

/*
 * Audio processors' messages, server → client on the DataChannel. Times:
 * - `t_ms`: position in the audio this session's server received (from sample counts, 0 = first sample);
 * - `at_ms`: the Unix epoch ms at which that position reached the server (arrival time of the audio minus what came
 *   after it in the same delivery).
 * Speech events carry where speech began (minus a small pad) and ended (where the silence that ended it began) in
 * the audio, not when the detector decided: they arrive up to `min_speech_ms` / `min_silence_ms` later.
 */

/** Speech began at `t_ms` (confirmed after the processor's `min_speech_ms` of speech). */
export const SpeechStartMessage = z.object({
  type: z.literal('speech_start'),
  processor: z.string(),
  t_ms: z.number().nonnegative(),
  at_ms: z.number(),
});
export type SpeechStartMessage = z.infer<typeof SpeechStartMessage>;

/** Speech that began at `t_ms - duration_ms` ended at `t_ms` (followed by `min_silence_ms` of silence). */
export const SpeechEndMessage = z.object({
  type: z.literal('speech_end'),
  processor: z.string(),
  t_ms: z.number().nonnegative(),
  at_ms: z.number(),
  duration_ms: z.number().nonnegative(),
});
export type SpeechEndMessage = z.infer<typeof SpeechEndMessage>;

/**
 * Level of the audio in [t_ms, t_ms + interval): RMS and peak of every channel's samples in dB relative to full
 * scale (a full-scale sine is −3.01 dBFS RMS, 0 dBFS peak). Digital silence reads −100, the floor.
 */
export const AudioLevelMessage = z.object({
  type: z.literal('audio_level'),
  processor: z.string(),
  t_ms: z.number().nonnegative(),
  rms_dbfs: z.number(),
  peak_dbfs: z.number(),
});
export type AudioLevelMessage = z.infer<typeof AudioLevelMessage>;

/** Any audio processor message. */
export const AudioEventMessage = z.discriminatedUnion('type', [SpeechStartMessage, SpeechEndMessage, AudioLevelMessage]);
export type AudioEventMessage = z.infer<typeof AudioEventMessage>;
