/**
 * RTP depacketizers and frame assembly for the libdatachannel engine: RTP payloads in, frames for libavcodec out.
 * One depacketizer per codec (stateless, shared by every stream); one FrameAssembler per received stream.
 */
import { av1Depacketizer } from './av1.js';
import { h264Depacketizer } from './h264.js';
import { h265Depacketizer } from './h265.js';
import { opusDepacketizer } from './opus.js';
import type { DepacketizerCodec } from './types.js';
import { vp8Depacketizer } from './vp8.js';
import { vp9Depacketizer } from './vp9.js';

export type { Av1Frame } from './av1.js';
export type { H264Frame } from './h264.js';
export type { H265Frame } from './h265.js';
export type { Vp8Frame } from './vp8.js';
export type { Vp9Frame } from './vp9.js';
export type { DepacketizedFrame, Depacketizer, DepacketizerCodec, RtpPayload } from './types.js';
export { FrameAssembler, type AssembledFrame, type FrameAssemblerCounters, type FrameAssemblerOptions, type IncompleteReason } from './frame-assembler.js';
export { av1Depacketizer, h264Depacketizer, h265Depacketizer, opusDepacketizer, vp8Depacketizer, vp9Depacketizer };

const DEPACKETIZERS = {
  H264: h264Depacketizer,
  H265: h265Depacketizer,
  VP8: vp8Depacketizer,
  VP9: vp9Depacketizer,
  AV1: av1Depacketizer,
  opus: opusDepacketizer,
} as const;

/** The depacketizer for a codec, typed with that codec's frame details (H264Frame for 'H264', …). */
export function depacketizerFor<C extends DepacketizerCodec>(codec: C): (typeof DEPACKETIZERS)[C] {
  return DEPACKETIZERS[codec];
}

/** The codec for an SDP rtpmap encoding name ('h264', 'VP8', 'OPUS', 'HEVC', …), or undefined without a depacketizer. */
export function depacketizerCodecOf(encodingName: string): DepacketizerCodec | undefined {
  const name = encodingName.toUpperCase();
  if (name === 'HEVC') return 'H265';
  if (name === 'OPUS') return 'opus';
  return name === 'H264' || name === 'H265' || name === 'VP8' || name === 'VP9' || name === 'AV1' ? name : undefined;
}
