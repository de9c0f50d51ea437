import type { AudioEventMessage } from '@sightline/protocol';
import type { z } from 'zod';
import type { AudioChunk } from './audio-chunk.js';

/** What an audio processor sends the client (the protocol's audio messages). */
export type AudioEvent = AudioEventMessage;

export interface AudioProcessorContext {
  sessionId: string;
}

/**
 * Every chunk pushed ends as processed or dropped (invalid, after close, or its analysis lost: backlog, worker
 * failure, still pending at close). After `close()`, `chunks_received = chunks_processed + chunks_dropped`.
 */
export interface AudioStreamCounters {
  chunks_received: number;
  chunks_processed: number;
  chunks_dropped: number;
  events_emitted: number;
  /** Audio received, ms (from sample counts). */
  audio_ms: number;
  /** Model windows analysed, and lost (backlog, worker failure, pending at close), for processors with a model. */
  windows_processed?: number;
  windows_dropped?: number;
}

/** One session's audio through one processor. `push` is cheap; model work happens off the main thread. */
export interface AudioStream {
  /** One chunk (its samples are read during the call only); `receivedAtMs` is the Unix epoch ms of its arrival. */
  push(chunk: AudioChunk, receivedAtMs: number): void;
  onEvent: ((event: AudioEvent) => void) | undefined;
  /** Idempotent; pending work counts as dropped and no event follows. */
  close(): void;
  readonly counters: Readonly<AudioStreamCounters>;
}

/** A named audio processor with a zod params schema (defaults included). */
export interface AudioProcessor<P = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly params: z.ZodType<P>;
  open(params: P, ctx: AudioProcessorContext): AudioStream;
}

/** Type helper: infers P from the schema. */
export function defineAudioProcessor<S extends z.ZodType>(p: AudioProcessor<z.output<S>> & { params: S }): AudioProcessor<z.output<S>> {
  return p;
}

export function newCounters(): AudioStreamCounters {
  return { chunks_received: 0, chunks_processed: 0, chunks_dropped: 0, events_emitted: 0, audio_ms: 0 };
}
