/**
 * `@sightline/protocol/wire`: the part of the contract a client needs at run time, without zod — the encoded-frame
 * chunk format and its ack-window sender — plus every message and body type (types only: erased at build time).
 * Browser code (the SDK) imports this entry, so bundles carry no schema library. Servers validate with the zod
 * schemas of the main entry; the types here are inferred from those same schemas.
 */
export {
  DEFAULT_FRAME_CHUNK_BYTES,
  FRAME_CHUNK_HEADER_BYTES,
  FRAME_CHUNK_MAGIC,
  FRAME_CHUNK_VERSION,
  MAX_FRAME_ID,
  encodeFrameChunks,
  parseFrameChunk,
  type FrameChunk,
  type FrameChunkHeader,
} from './frame-chunks.js';
export { percentile, percentileOfSorted } from './percentile.js';
export { EncodedFrameSender, type EncodedFrameSenderOptions, type EncodedFrameSenderStats } from './encoded-frame-sender.js';
export type * from './messages.js';
export type * from './http.js';
export type * from './audio.js';
export type * from './errors.js';
