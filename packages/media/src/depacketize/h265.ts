/**
 * H.265 RTP depacketizer (RFC 7798) as WebRTC uses it: single NAL unit packets, aggregation packets (AP, type 48) and
 * fragmentation units (FU, type 49), without DONL fields (sprop-max-don-diff is 0, so NAL units arrive in decoding
 * order). PACI (type 50) is counted and dropped. Output is one Annex B access unit.
 */
import { writeAnnexB } from './annex-b.js';
import type { DepacketizedFrame, Depacketizer } from './types.js';

/** NAL unit types (H.265 table 7-1) and the RTP packet types of RFC 7798 this file looks at. */
const NAL = { VPS: 32, SPS: 33, PPS: 34, AUD: 35, END_OF_SEQUENCE: 36, END_OF_BITSTREAM: 37, FILLER: 38, SUFFIX_SEI: 40 } as const;
const IRAP_FIRST = 16; // BLA_W_LP … CRA_NUT: random access points
const IRAP_LAST = 21;
const AP = 48;
const FU = 49;
const HEADER_BYTES = 2;

export interface H265Frame extends DepacketizedFrame {
  /** nal_unit_type of each NAL unit in the access unit, in order. */
  nalTypes: number[];
  /** Parameter sets came with the frame. */
  hasVps: boolean;
  hasSps: boolean;
  hasPps: boolean;
}

/** nal_unit_type: six bits after forbidden_zero_bit in the first of the two header bytes. */
const nalType = (firstHeaderByte: number): number => (firstHeaderByte >> 1) & 0x3f;

/**
 * Whether a NAL unit of `type` whose payload begins with `firstPayloadByte` begins an access unit, as far as it can
 * tell. A VCL NAL unit starts the picture when first_slice_segment_in_pic_flag (its first bit) is set, but an IRAP
 * picture normally follows VPS/SPS/PPS (WebRTC senders repeat them on every keyframe), so for it the answer is "don't
 * know" and the frame is trusted only if the packet before it arrived. AUD and VPS come first; SPS, PPS and prefix
 * SEI may follow others; end of sequence/bitstream, filler data and suffix SEI only follow slices.
 */
function nalStartsAccessUnit(type: number, firstPayloadByte: number | undefined): boolean | undefined {
  if (type <= 31) {
    if (firstPayloadByte === undefined) return undefined;
    if ((firstPayloadByte & 0x80) === 0) return false;
    return type >= IRAP_FIRST && type <= IRAP_LAST ? undefined : true;
  }
  if (type === NAL.AUD || type === NAL.VPS) return true;
  if (type === NAL.END_OF_SEQUENCE || type === NAL.END_OF_BITSTREAM || type === NAL.FILLER || type === NAL.SUFFIX_SEI) return false;
  return undefined;
}

function startsFrame(payload: Uint8Array): boolean | undefined {
  if (payload.length < HEADER_BYTES) return undefined;
  const type = nalType(payload[0]!);
  if (type < AP) return nalStartsAccessUnit(type, payload[2]);
  // AP: the first NAL unit follows the AP header and its 16-bit size.
  if (type === AP) return payload[4] === undefined ? undefined : nalStartsAccessUnit(nalType(payload[4]), payload[6]);
  if (type === FU) {
    const fuHeader = payload[2];
    if (fuHeader === undefined) return undefined;
    if ((fuHeader & 0x80) === 0) return false;
    return nalStartsAccessUnit(fuHeader & 0x3f, payload[3]);
  }
  return undefined;
}

function depacketize(payloads: readonly Uint8Array[]): H265Frame {
  const nalUnits: Uint8Array[][] = [];
  let skippedUnits = 0;
  let problem: string | undefined;
  const fail = (why: string): void => {
    problem ??= why;
  };
  // The NAL unit being rebuilt from FU fragments: its reconstructed two-byte header first, then the fragments.
  let fragments: Uint8Array[] | undefined;

  for (const payload of payloads) {
    if (payload.length === 0) continue;
    if (payload.length < HEADER_BYTES) {
      fail('payload shorter than the two-byte payload header');
      continue;
    }
    const type = nalType(payload[0]!);
    if (type !== FU && fragments) {
      fail('FU not ended before the next packet');
      fragments = undefined;
    }
    if (type < AP) {
      nalUnits.push([payload]);
    } else if (type === AP) {
      // AP: after the two-byte payload header, NAL units each preceded by a 16-bit size (no DONL/DOND fields).
      let offset = HEADER_BYTES;
      while (offset < payload.length) {
        if (offset + 2 > payload.length) {
          fail('AP truncated inside a NAL unit size');
          break;
        }
        const size = (payload[offset]! << 8) | payload[offset + 1]!;
        offset += 2;
        if (size < HEADER_BYTES || offset + size > payload.length) {
          fail('AP NAL unit size runs past the payload');
          break;
        }
        nalUnits.push([payload.subarray(offset, offset + size)]);
        offset += size;
      }
    } else if (type === FU) {
      const fuHeader = payload[2];
      if (fuHeader === undefined) {
        fail('FU without its FU header');
        continue;
      }
      const start = (fuHeader & 0x80) !== 0;
      const end = (fuHeader & 0x40) !== 0;
      if (start) {
        if (fragments) fail('FU restarted before its end fragment');
        // The NAL header is the payload header with its type replaced by FuType (F and LayerId high bit kept).
        fragments = [Uint8Array.of((payload[0]! & 0x81) | ((fuHeader & 0x3f) << 1), payload[1]!)];
      } else if (!fragments) {
        fail('FU fragment without its start fragment');
        continue;
      }
      fragments.push(payload.subarray(3));
      if (end) {
        nalUnits.push(fragments);
        fragments = undefined;
      }
    } else {
      skippedUnits++; // PACI (50) and the unassigned 51..63
    }
  }
  if (fragments) fail('FU fragment without its end fragment');

  const nalTypes = nalUnits.map((pieces) => nalType(pieces[0]![0]!));
  return {
    data: writeAnnexB(nalUnits),
    keyframe: nalTypes.some((t) => t >= IRAP_FIRST && t <= IRAP_LAST),
    complete: problem === undefined,
    skippedUnits,
    ...(problem === undefined ? {} : { problem }),
    nalTypes,
    hasVps: nalTypes.includes(NAL.VPS),
    hasSps: nalTypes.includes(NAL.SPS),
    hasPps: nalTypes.includes(NAL.PPS),
  };
}

export const h265Depacketizer: Depacketizer<H265Frame> = { codec: 'H265', packetIsFrame: false, startsFrame, depacketize };
