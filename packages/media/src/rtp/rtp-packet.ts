/**
 * RTP fixed header (RFC 3550 §5.1): parse a packet as it comes out of node-datachannel's `track.onMessage` (already
 * SRTP-decrypted), and serialize one (tests, RTX wrapping). The payload is a view into the input, never a copy.
 */

/** The header extension block (RFC 3550 §5.3.1), undecoded: profile 0xBEDE is RFC 8285's one-byte form, 0x100x two-byte. */
export interface RtpHeaderExtension {
  profile: number;
  /** The extension words, without the 4-byte profile/length preamble. */
  data: Uint8Array;
}

/** A parsed RTP packet. The version is always 2 (anything else is rejected). */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: RtpHeaderExtension | undefined;
  /** The payload with padding removed; a subarray of the parsed buffer. Empty for padding-only (probing) packets. */
  payload: Uint8Array;
  /** Padding bytes that followed the payload (0 when the P bit was clear). */
  paddingSize: number;
}

const FIXED_HEADER = 12;

/**
 * RFC 5761 §4 demultiplexing on a shared port: the second byte of RTCP is its packet type 192..223 (SR 200, RR 201,
 * feedback 205/206...), which as RTP would be the marker bit plus payload types 64..95, kept free for that reason.
 */
export function isRtcp(buf: Uint8Array): boolean {
  if (buf.length < 2) return false;
  const pt = buf[1] as number;
  return pt >= 192 && pt <= 223;
}

/** Parses an RTP packet, or returns undefined if it is malformed: network input never throws. */
export function parseRtpPacket(buf: Uint8Array): RtpPacket | undefined {
  if (buf.length < FIXED_HEADER) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = view.getUint8(0);
  if (b0 >> 6 !== 2) return undefined;
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = view.getUint8(1);

  let offset = FIXED_HEADER + csrcCount * 4;
  if (offset > buf.length) return undefined;
  const csrcs: number[] = [];
  for (let i = FIXED_HEADER; i < offset; i += 4) csrcs.push(view.getUint32(i));

  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (offset + 4 > buf.length) return undefined;
    const profile = view.getUint16(offset);
    const end = offset + 4 + view.getUint16(offset + 2) * 4;
    if (end > buf.length) return undefined;
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }

  let paddingSize = 0;
  if (hasPadding) {
    // The last byte counts the padding, itself included: 0 is impossible, and it must not reach into the header.
    paddingSize = view.getUint8(buf.length - 1);
    if (paddingSize === 0 || offset + paddingSize > buf.length) return undefined;
  }

  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    extension,
    payload: buf.subarray(offset, buf.length - paddingSize),
    paddingSize,
  };
}

/** What serializeRtpPacket needs; an RtpPacket fits. */
export interface RtpPacketInit {
  marker?: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  extension?: RtpHeaderExtension | undefined;
  payload: Uint8Array;
  /** Padding to append (1..255); the last padding byte holds the count. */
  paddingSize?: number;
}

/** Builds the wire bytes of an RTP packet. Throws on values that do not fit the header (a programming error). */
export function serializeRtpPacket(p: RtpPacketInit): Uint8Array {
  const csrcs = p.csrcs ?? [];
  const ext = p.extension;
  const padding = p.paddingSize ?? 0;
  if (csrcs.length > 15) throw new RangeError('an RTP packet carries at most 15 CSRCs');
  if (ext !== undefined && ext.data.length % 4 !== 0) throw new RangeError('an RTP header extension is a whole number of 32-bit words');
  if (padding < 0 || padding > 255) throw new RangeError('RTP padding is 0..255 bytes');
  if (p.payloadType < 0 || p.payloadType > 127) throw new RangeError('RTP payload type is 0..127');

  const extBytes = ext === undefined ? 0 : 4 + ext.data.length;
  const headerSize = FIXED_HEADER + csrcs.length * 4 + extBytes;
  const out = new Uint8Array(headerSize + p.payload.length + padding);
  const view = new DataView(out.buffer);
  view.setUint8(0, 0x80 | (padding > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | csrcs.length);
  view.setUint8(1, (p.marker === true ? 0x80 : 0) | p.payloadType);
  view.setUint16(2, p.sequenceNumber & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  let offset = FIXED_HEADER;
  for (const csrc of csrcs) {
    view.setUint32(offset, csrc >>> 0);
    offset += 4;
  }
  if (ext !== undefined) {
    view.setUint16(offset, ext.profile);
    view.setUint16(offset + 2, ext.data.length / 4);
    out.set(ext.data, offset + 4);
    offset += extBytes;
  }
  out.set(p.payload, offset);
  if (padding > 0) out[out.length - 1] = padding;
  return out;
}
