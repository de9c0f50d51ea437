/**
 * H.264 RTP depacketizer (RFC 6184) for packetization-mode 1, the one WebRTC negotiates: single NAL unit packets,
 * STAP-A and FU-A. STAP-B, MTAP16/24 and FU-B belong to the interleaved mode (2), which is never negotiated here, so
 * they are counted and dropped rather than reordered by DON. Output is one Annex B access unit.
 */
import { writeAnnexB } from './annex-b.js';
import type { DepacketizedFrame, Depacketizer } from './types.js';

/** NAL unit types (H.264 table 7-1) and RTP packet types (RFC 6184 table 1) this file looks at. */
const NAL = { SLICE: 1, IDR: 5, SPS: 7, PPS: 8, AUD: 9, END_OF_SEQUENCE: 10, END_OF_STREAM: 11, FILLER: 12 } as const;
const STAP_A = 24;
const FU_A = 28;

export interface H264Frame extends DepacketizedFrame {
  /** nal_unit_type of each NAL unit in the access unit, in order. */
  nalTypes: number[];
  /** Parameter sets came with the frame (a decoder needs them before the first IDR, and after a resolution change). */
  hasSps: boolean;
  hasPps: boolean;
}

const nalType = (header: number): number => header & 0x1f;

/**
 * Whether a NAL unit that begins with `header` and then `firstPayloadByte` begins an access unit, as far as it can
 * tell. A non-IDR slice with first_mb_in_slice 0 (its ue(v) code is the single bit 1) starts the picture; a later
 * slice never starts one. An IDR slice is normally preceded by SPS and PPS (WebRTC senders repeat them on every
 * keyframe), so when it comes first the answer is "don't know", and the frame is trusted only if the packet before it
 * arrived. AUD and SPS come first in an access unit; PPS and SEI may follow an SPS; end of sequence/stream and filler
 * data only follow slices.
 */
function nalStartsAccessUnit(header: number, firstPayloadByte: number | undefined): boolean | undefined {
  const type = nalType(header);
  if (type === NAL.SLICE || type === NAL.IDR) {
    if (firstPayloadByte === undefined) return undefined;
    if ((firstPayloadByte & 0x80) === 0) return false;
    return type === NAL.SLICE ? true : undefined;
  }
  if (type === NAL.AUD || type === NAL.SPS) return true;
  if (type === NAL.END_OF_SEQUENCE || type === NAL.END_OF_STREAM || type === NAL.FILLER) return false;
  return undefined;
}

function startsFrame(payload: Uint8Array): boolean | undefined {
  const header = payload[0];
  if (header === undefined) return undefined;
  const type = nalType(header);
  if (type >= 1 && type <= 23) return nalStartsAccessUnit(header, payload[1]);
  // STAP-A: the first aggregated NAL unit starts after the STAP header and its 16-bit size.
  if (type === STAP_A) return payload[3] === undefined ? undefined : nalStartsAccessUnit(payload[3], payload[4]);
  if (type === FU_A) {
    const fuHeader = payload[1];
    if (fuHeader === undefined) return undefined;
    if ((fuHeader & 0x80) === 0) return false; // a middle or end fragment never starts anything
    return nalStartsAccessUnit((header & 0xe0) | (fuHeader & 0x1f), payload[2]);
  }
  return undefined;
}

function depacketize(payloads: readonly Uint8Array[]): H264Frame {
  const nalUnits: Uint8Array[][] = [];
  let skippedUnits = 0;
  let problem: string | undefined;
  const fail = (why: string): void => {
    problem ??= why;
  };
  // The NAL unit being rebuilt from FU-A fragments: its reconstructed header first, then each fragment's bytes.
  let fragments: Uint8Array[] | undefined;

  for (const payload of payloads) {
    const header = payload[0];
    if (header === undefined) continue; // empty payloads (padding) carry nothing
    const type = nalType(header);
    if (type !== FU_A && fragments) {
      fail('FU-A fragment not ended before the next packet');
      fragments = undefined;
    }
    if (type >= 1 && type <= 23) {
      nalUnits.push([payload]);
    } else if (type === STAP_A) {
      // STAP-A: after its one-byte header, NAL units each preceded by a 16-bit big-endian size.
      let offset = 1;
      while (offset < payload.length) {
        if (offset + 2 > payload.length) {
          fail('STAP-A truncated inside a NAL unit size');
          break;
        }
        const size = (payload[offset]! << 8) | payload[offset + 1]!;
        offset += 2;
        if (size === 0 || offset + size > payload.length) {
          fail('STAP-A NAL unit size runs past the payload');
          break;
        }
        nalUnits.push([payload.subarray(offset, offset + size)]);
        offset += size;
      }
    } else if (type === FU_A) {
      const fuHeader = payload[1];
      if (fuHeader === undefined) {
        fail('FU-A without its FU header');
        continue;
      }
      const start = (fuHeader & 0x80) !== 0;
      const end = (fuHeader & 0x40) !== 0;
      if (start) {
        if (fragments) fail('FU-A restarted before its end fragment');
        // The NAL header is not sent: F and NRI come from the FU indicator, the type from the FU header.
        fragments = [Uint8Array.of((header & 0xe0) | (fuHeader & 0x1f))];
      } else if (!fragments) {
        fail('FU-A fragment without its start fragment');
        continue;
      }
      fragments.push(payload.subarray(2));
      if (end) {
        nalUnits.push(fragments);
        fragments = undefined;
      }
    } else {
      // STAP-B (25), MTAP16/24 (26, 27) and FU-B (29) exist only in interleaved mode; 0, 30 and 31 are unassigned.
      skippedUnits++;
    }
  }
  if (fragments) fail('FU-A fragment without its end fragment');

  const nalTypes = nalUnits.map((pieces) => nalType(pieces[0]![0]!));
  return {
    data: writeAnnexB(nalUnits),
    keyframe: nalTypes.includes(NAL.IDR),
    complete: problem === undefined,
    skippedUnits,
    ...(problem === undefined ? {} : { problem }),
    nalTypes,
    hasSps: nalTypes.includes(NAL.SPS),
    hasPps: nalTypes.includes(NAL.PPS),
  };
}

export const h264Depacketizer: Depacketizer<H264Frame> = { codec: 'H264', packetIsFrame: false, startsFrame, depacketize };
