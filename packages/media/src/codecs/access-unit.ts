/**
 * What an access unit holds, looked at before libavcodec sees it:
 * - 'no-picture': well-formed, but only parameter sets, SEI or an AV1 sequence header. A decoder gives no frame for
 *   it, and libavcodec's h264 decoder even reports invalid data ("no frame!") though it has stored the parameter sets.
 *   The decoder calls that fine, and doesn't count it as a frame held back.
 * - 'malformed': not the bitstream format at all (no Annex B start code, an RTP-only NAL unit type left in by a bad
 *   depacketizer, an AV1 OBU chain that doesn't add up). libdav1d skips such data without an error, so this is how
 *   garbage gets noticed.
 * - 'picture': everything else, including what libavcodec will reject; the decoder reports those.
 * Scanning stops at the first picture unit, which comes right after the few small parameter sets.
 */
import { readLeb128 } from '../depacketize/leb128.js';
import type { VideoCodec } from './video-codec.js';

export type AccessUnitKind = 'picture' | 'no-picture' | 'malformed';

type NalClass = 'picture' | 'other' | 'malformed';

/**
 * H.264 nal_unit_type (table 7-1): 1..5 coded slices; 6..23 SEI, parameter sets, delimiters, filler and extension
 * units a base decoder skips; 0 and 24..31 are unspecified (RTP uses them for STAP/FU, never in a byte stream).
 */
function h264Nal(header: number): NalClass {
  const type = header & 0x1f;
  if (header & 0x80 || type === 0 || type >= 24) return 'malformed';
  return type <= 5 ? 'picture' : 'other';
}

/** H.265 nal_unit_type (table 7-1): 0..31 VCL; 32..47 parameter sets, delimiters, SEI, reserved; 48..63 unspecified (RTP AP/FU/PACI). */
function h265Nal(header: number): NalClass {
  const type = (header >> 1) & 0x3f;
  if (header & 0x80 || type >= 48) return 'malformed';
  return type <= 31 ? 'picture' : 'other';
}

/** AV1 OBU types (AV1 spec 6.2.2): frame header and frame begin a frame; 0 and 9..14 are reserved. */
const AV1_FRAME_HEADER = 3;
const AV1_FRAME = 6;
const av1Reserved = (type: number): boolean => type === 0 || (type >= 9 && type <= 14);

export function inspectAccessUnit(codec: VideoCodec, au: Uint8Array): AccessUnitKind {
  if (au.length === 0) return 'malformed';
  switch (codec) {
    case 'H264':
      return inspectAnnexB(au, h264Nal);
    case 'H265':
      return inspectAnnexB(au, h265Nal);
    case 'AV1':
      return inspectAv1(au);
    case 'VP8':
    case 'VP9':
      // Every VP8 frame and VP9 (super)frame codes a picture; their decoders reject garbage themselves.
      return 'picture';
  }
}

/** Walks the NAL units of an Annex B stream (3- or 4-byte start codes). */
function inspectAnnexB(au: Uint8Array, classify: (header: number) => NalClass): AccessUnitKind {
  let units = 0;
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      units++;
      const nal = classify(au[i + 3]!);
      if (nal !== 'other') return nal;
      i += 2;
    }
  }
  return units === 0 ? 'malformed' : 'no-picture';
}

/** Walks a temporal unit in the low-overhead format (AV1 spec 5.2). */
function inspectAv1(tu: Uint8Array): AccessUnitKind {
  let offset = 0;
  let picture = false;
  while (offset < tu.length) {
    const header = tu[offset]!;
    const type = (header >> 3) & 0x0f;
    if (header & 0x80 || av1Reserved(type)) return 'malformed';
    picture ||= type === AV1_FRAME_HEADER || type === AV1_FRAME;
    const hasExtension = (header & 0x04) !== 0;
    // The low-overhead format requires obu_has_size_field on every OBU (AV1 spec 5.2); the depacketizer writes them.
    if ((header & 0x02) === 0) return 'malformed';
    const size = readLeb128(tu, offset + 1 + (hasExtension ? 1 : 0));
    if (size === undefined || size.next + size.value > tu.length) return 'malformed';
    offset = size.next + size.value;
  }
  return picture ? 'picture' : 'no-picture';
}
