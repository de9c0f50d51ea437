/**
 * VP8 RTP depacketizer (RFC 7741). Each payload is a payload descriptor followed by a slice of the frame; the frame
 * is the slices concatenated. The descriptor's S bit and partition index mark where the frame starts.
 */
import { concatBytes } from './bytes.js';
import type { DepacketizedFrame, Depacketizer } from './types.js';

export interface Vp8Frame extends DepacketizedFrame {
  /** PictureID from the first packet's descriptor (7 or 15 bits), when the sender includes it. */
  pictureId: number | undefined;
}

interface Vp8Descriptor {
  /** Bytes the descriptor takes; the VP8 payload follows. */
  length: number;
  /** S: the payload begins a partition. */
  startOfPartition: boolean;
  /** PID: which partition (0 is the first, holding the frame header). */
  partitionIndex: number;
  pictureId: number | undefined;
}

/**
 * The descriptor (RFC 7741 4.2): X|R|N|S|R|PID, then when X is set I|L|T|K|RSV, then an optional PictureID (M bit
 * selects 15 bits), TL0PICIDX, and one byte TID|Y|KEYIDX shared by T and K. Undefined when it runs past the payload.
 */
function parseDescriptor(payload: Uint8Array): Vp8Descriptor | undefined {
  const first = payload[0];
  if (first === undefined) return undefined;
  let offset = 1;
  let pictureId: number | undefined;
  if (first & 0x80) {
    const extension = payload[offset++];
    if (extension === undefined) return undefined;
    if (extension & 0x80) {
      const high = payload[offset++];
      if (high === undefined) return undefined;
      if (high & 0x80) {
        const low = payload[offset++];
        if (low === undefined) return undefined;
        pictureId = ((high & 0x7f) << 8) | low;
      } else {
        pictureId = high;
      }
    }
    if (extension & 0x40) offset++; // TL0PICIDX
    if (extension & 0x30) offset++; // TID|Y|KEYIDX, present when T or K is set
  }
  if (offset > payload.length) return undefined;
  return { length: offset, startOfPartition: (first & 0x10) !== 0, partitionIndex: first & 0x07, pictureId };
}

function startsFrame(payload: Uint8Array): boolean | undefined {
  const descriptor = parseDescriptor(payload);
  if (!descriptor) return undefined;
  return descriptor.startOfPartition && descriptor.partitionIndex === 0;
}

function depacketize(payloads: readonly Uint8Array[]): Vp8Frame {
  const pieces: Uint8Array[] = [];
  let problem: string | undefined;
  let first: Vp8Descriptor | undefined;
  for (const payload of payloads) {
    if (payload.length === 0) continue;
    const descriptor = parseDescriptor(payload);
    if (!descriptor) {
      problem ??= 'payload descriptor runs past the payload';
      continue;
    }
    if (!first) {
      first = descriptor;
      if (!(descriptor.startOfPartition && descriptor.partitionIndex === 0)) problem ??= 'first packet does not start partition 0';
    }
    pieces.push(payload.subarray(descriptor.length));
  }
  const data = concatBytes(pieces);
  if (data.length === 0) problem ??= 'no VP8 payload';
  return {
    data,
    // The frame tag's first bit is P, the inverse key frame flag (RFC 7741 4.3, RFC 6386 9.1).
    keyframe: first !== undefined && first.startOfPartition && first.partitionIndex === 0 && data.length > 0 && (data[0]! & 0x01) === 0,
    complete: problem === undefined,
    skippedUnits: 0,
    ...(problem === undefined ? {} : { problem }),
    pictureId: first?.pictureId,
  };
}

export const vp8Depacketizer: Depacketizer<Vp8Frame> = { codec: 'VP8', packetIsFrame: false, startsFrame, depacketize };
