/**
 * The video codecs the engine decodes and encodes, spelled as in SDP rtpmap lines and as the depacketizers name them
 * (`depacketize/types.ts`), so a negotiated codec passes straight through.
 */
export type VideoCodec = 'H264' | 'H265' | 'VP8' | 'VP9' | 'AV1';

export const VIDEO_CODECS: readonly VideoCodec[] = ['H264', 'H265', 'VP8', 'VP9', 'AV1'];

/** RTP clock rate of every video payload format (RFC 3551 and the codecs' payload specs). */
export const VIDEO_CLOCK_RATE = 90_000;
