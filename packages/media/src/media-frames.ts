/**
 * The media an engine delivers, as plain data: the lowest layer's types, so that the engine depends on nothing above
 * it. `models/` and `audio/` build on them (`models/i420.ts`, `audio/audio-chunk.ts`).
 */

/** A decoded video frame: 8-bit I420 (Y plane, then U and V at half resolution, rounded up). */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
  /** The RTP timestamp of the packets it was decoded from (90 kHz), where the engine knows it. */
  rtpTimestamp?: number;
  /**
   * The sender's frame number (0 for its first frame), counting frames lost on the way, where the engine knows it
   * (engine/rtp/frame-numbering.ts). Results use it as `frame_id`.
   */
  frameNumber?: number;
}

/** Decoded PCM as the engine delivers it (one chunk per Opus frame), interleaved when `channels` > 1. */
export interface AudioChunk {
  samples: Int16Array;
  sampleRate: number;
  channels: number;
}
