/**
 * RTX, the RTP retransmission payload format (RFC 4588), in SSRC-multiplexed mode as browsers use it: a retransmission
 * travels on its own SSRC and payload type, with its own sequence numbers, and carries the original sequence number
 * (OSN) in the first two payload bytes. Without RTX, Chromium's retransmissions repeat the original SSRC and sequence
 * number and never reached JS in the spike (SRTP replay protection, most likely), so retransmission needs RTX.
 */
import { type RtpPacket } from './rtp-packet.js';

/**
 * The original packet inside an RTX packet: sequence number from the OSN, payload type from the `apt` of the RTX
 * payload type, SSRC of the media stream; marker, timestamp, CSRCs and header extension are the RTX packet's (the sender
 * copies them). Undefined when the payload type is not RTX or the payload has no OSN: Chromium sends padding-only
 * packets on the RTX SSRC to probe bandwidth, and those carry no original packet.
 */
export function unwrapRtx(rtx: RtpPacket, aptByRtxPt: ReadonlyMap<number, number>, mediaSsrc: number): RtpPacket | undefined {
  const apt = aptByRtxPt.get(rtx.payloadType);
  if (apt === undefined || rtx.payload.length < 2) return undefined;
  const osn = ((rtx.payload[0] as number) << 8) | (rtx.payload[1] as number);
  return { ...rtx, payloadType: apt, sequenceNumber: osn, ssrc: mediaSsrc >>> 0, payload: rtx.payload.subarray(2), paddingSize: 0 };
}

/** The RTX packet that retransmits `original` (the send path); the payload is a new buffer: OSN then the original payload. */
export function wrapRtx(original: RtpPacket, rtxPayloadType: number, rtxSsrc: number, rtxSequenceNumber: number): RtpPacket {
  const payload = new Uint8Array(2 + original.payload.length);
  payload[0] = original.sequenceNumber >> 8;
  payload[1] = original.sequenceNumber & 0xff;
  payload.set(original.payload, 2);
  return { ...original, payloadType: rtxPayloadType, sequenceNumber: rtxSequenceNumber & 0xffff, ssrc: rtxSsrc >>> 0, payload, paddingSize: 0 };
}

/**
 * RTX payload type → associated payload type, from `a=rtpmap:<pt> rtx/<clock>` plus `a=fmtp:<pt> apt=<apt>` lines.
 * Pass one media section: payload types are only unique per m= section.
 */
export function parseRtxPayloadTypes(sdp: string): Map<number, number> {
  const rtx = new Set<number>();
  for (const m of sdp.matchAll(/^a=rtpmap:(\d+) rtx\/\d+/gim)) rtx.add(Number(m[1]));
  const map = new Map<number, number>();
  for (const m of sdp.matchAll(/^a=fmtp:(\d+) (.*)$/gm)) {
    const pt = Number(m[1]);
    if (!rtx.has(pt)) continue;
    const apt = /(?:^|;)\s*apt=(\d+)/.exec(m[2] as string);
    if (apt !== null) map.set(pt, Number(apt[1]));
  }
  return map;
}

/** RTX SSRC → media SSRC, from `a=ssrc-group:FID <media> <rtx>` (RFC 4588 §8.2; Chromium writes one per video track). */
export function parseRtxSsrcs(sdp: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const m of sdp.matchAll(/^a=ssrc-group:FID (\d+) (\d+)\s*$/gm)) map.set(Number(m[2]), Number(m[1]));
  return map;
}
