import type { AudioChunk } from '@sightline/media';

export type { AudioChunk };

/** Frames (samples per channel) in a chunk. */
export function chunkFrames(chunk: AudioChunk): number {
  return Math.floor(chunk.samples.length / chunk.channels);
}

/** Why a chunk cannot be used, or undefined when it can. */
export function chunkProblem(chunk: AudioChunk): string | undefined {
  if (!(chunk.samples instanceof Int16Array)) return 'samples are not an Int16Array';
  if (!Number.isInteger(chunk.channels) || chunk.channels < 1 || chunk.channels > 8) return `bad channel count ${chunk.channels}`;
  if (!Number.isInteger(chunk.sampleRate) || chunk.sampleRate < 8000 || chunk.sampleRate > 192_000) return `bad sample rate ${chunk.sampleRate}`;
  if (chunk.samples.length % chunk.channels !== 0) return 'sample count is not a multiple of the channel count';
  return undefined;
}
