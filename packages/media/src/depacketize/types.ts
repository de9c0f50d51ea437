/**
 * The shapes shared by the depacketizers and the frame assembler. The RTP parser and reorderer (engine/rtp/) is
 * written separately, so this folder declares the few header fields it needs instead of importing its packet type.
 */

/** One RTP packet as depacketizing needs it: payload (no header, no padding) plus three header fields. */
export interface RtpPayload {
  payload: Uint8Array;
  marker: boolean;
  timestamp: number;
  sequenceNumber: number;
}

/** The codecs there is a depacketizer for, spelled as in SDP rtpmap lines (opus is lower case there). */
export type DepacketizerCodec = 'H264' | 'H265' | 'VP8' | 'VP9' | 'AV1' | 'opus';

/** What a depacketizer makes of the payloads of one frame. */
export interface DepacketizedFrame {
  /** The bitstream libavcodec takes as one packet: Annex B for H.264/H.265, a temporal unit for AV1, a frame for VPx. */
  data: Uint8Array;
  /** The frame can be decoded without earlier frames (IDR, IRAP, VPx key frame, new AV1 sequence; every Opus packet). */
  keyframe: boolean;
  /** The payloads fit together (no fragment without its start or end, no truncated structure). */
  complete: boolean;
  /** Packetization units dropped because this receiver doesn't implement them (H.264 STAP-B/MTAP/FU-B, H.265 PACI, …). */
  skippedUnits: number;
  /** When `complete` is false: the first thing that didn't fit, for logs. */
  problem?: string;
}

/**
 * One codec's payload format. Stateless: everything it needs about a frame is in that frame's payloads, so one object
 * serves every stream.
 */
export interface Depacketizer<F extends DepacketizedFrame = DepacketizedFrame> {
  readonly codec: DepacketizerCodec;
  /** Every packet is a whole frame (audio): the assembler emits each at once instead of waiting for a marker. */
  readonly packetIsFrame: boolean;
  /**
   * Whether this payload begins a frame, from the payload alone: true or false where the format says so, undefined
   * where it can't tell. The assembler then trusts a frame's start only if the packet before it arrived.
   */
  startsFrame(payload: Uint8Array): boolean | undefined;
  /** The frame made of these payloads, in sequence order. */
  depacketize(payloads: readonly Uint8Array[]): F;
}
