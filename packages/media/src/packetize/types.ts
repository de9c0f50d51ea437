/**
 * The shapes of the packetizers: one encoded frame in, RTP payloads out. The RTP header (sequence number, timestamp,
 * marker on the last payload) is the sender's; a packetizer only cuts the frame into payloads of its format.
 */
import type { VideoCodec } from '../codecs/video-codec.js';

/** A packetizer of one outgoing stream (VP8/VP9 count picture IDs, so one object per stream). */
export interface Packetizer {
  readonly codec: VideoCodec;
  /**
   * The payloads of one frame (Annex B access unit for H.264/H.265, temporal unit in the low-overhead format for AV1,
   * one frame for VP8/VP9), in order; the last one carries the marker bit. Each is at most `maxPayloadSize` bytes.
   * `size` is the picture's (VP9 writes it into a keyframe's scalability structure).
   */
  packetize(frame: Uint8Array, keyframe: boolean, size?: { width: number; height: number }): Uint8Array[];
}

export interface PacketizerOptions {
  /** Largest RTP payload (default 1188: a 1,200-byte RTP packet with a 12-byte header, as libwebrtc sends). */
  maxPayloadSize?: number;
  /** VP8/VP9: the first picture ID (15 bits; random by default). */
  firstPictureId?: number;
}

export const DEFAULT_MAX_PAYLOAD_SIZE = 1188;

/** Sizes that split `length` bytes into the fewest pieces of at most `max`, as even as possible (no runt last packet). */
export function evenSplit(length: number, max: number): number[] {
  if (max < 1) throw new RangeError('a packet must have room for at least one byte of payload');
  const count = Math.max(1, Math.ceil(length / max));
  const base = Math.floor(length / count);
  const extra = length % count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}
