/**
 * VP9 RTP depacketizer (RFC 9628, formerly draft-ietf-payload-vp9-16). Each payload is a payload descriptor followed
 * by a slice of one frame; B and E mark a frame's first and last packet. All packets of one RTP timestamp are one
 * picture: a single frame without spatial scalability, or one frame per spatial layer with it.
 *
 * Spatial layers: libavcodec's vp9 decoder takes one frame per packet, or a superframe (frames followed by a
 * superframe index, VP9 bitstream spec annex B), which its vp9_superframe_split filter splits. So a picture with
 * several layer frames is returned as a superframe: the frames in order plus an index. The decoder then decodes every
 * layer (the higher ones predict from the lower) and the caller gets the frames it shows.
 */
import { concatBytes } from './bytes.js';
import type { DepacketizedFrame, Depacketizer } from './types.js';

export interface Vp9Frame extends DepacketizedFrame {
  /** PictureID from the first packet (7 or 15 bits), when present. */
  pictureId: number | undefined;
  /** Layer frames in this picture (more than 1 only with spatial scalability; then `data` is a superframe). */
  spatialLayers: number;
  /** Each spatial layer's resolution, from a scalability structure (SS) with its Y bit, when the picture carried one. */
  resolutions: { width: number; height: number }[] | undefined;
}

interface Vp9Descriptor {
  /** Bytes the descriptor takes; the VP9 payload follows. */
  length: number;
  interPredicted: boolean;
  startOfFrame: boolean;
  endOfFrame: boolean;
  /** SID: 0 without layer indices. */
  spatialId: number;
  pictureId: number | undefined;
  resolutions: { width: number; height: number }[] | undefined;
}

const MAX_P_DIFFS = 3;

/**
 * The descriptor (RFC 9628 4.2): I|P|L|F|B|E|V|Z, then PictureID (I; M selects 15 bits), layer indices
 * TID|U|SID|D (L) with TL0PICIDX in non-flexible mode (F=0), up to 3 reference indices P_DIFF|N (P and F), and the
 * scalability structure (V). Undefined when it runs past the payload.
 */
function parseDescriptor(payload: Uint8Array): Vp9Descriptor | undefined {
  const first = payload[0];
  if (first === undefined) return undefined;
  const hasPictureId = (first & 0x80) !== 0;
  const interPredicted = (first & 0x40) !== 0;
  const hasLayerIndices = (first & 0x20) !== 0;
  const flexible = (first & 0x10) !== 0;
  const hasScalabilityStructure = (first & 0x02) !== 0;
  let offset = 1;
  let pictureId: number | undefined;
  let spatialId = 0;
  if (hasPictureId) {
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
  if (hasLayerIndices) {
    const layers = payload[offset++];
    if (layers === undefined) return undefined;
    spatialId = (layers >> 1) & 0x07;
    if (!flexible) offset++; // TL0PICIDX
  }
  if (interPredicted && flexible) {
    // Reference indices: each byte is P_DIFF (7 bits) and N, set when another follows.
    for (let i = 0; ; i++) {
      const reference = payload[offset++];
      if (reference === undefined || i === MAX_P_DIFFS) return undefined;
      if ((reference & 0x01) === 0) break;
    }
  }
  let resolutions: { width: number; height: number }[] | undefined;
  if (hasScalabilityStructure) {
    const ss = parseScalabilityStructure(payload, offset);
    if (!ss) return undefined;
    offset = ss.next;
    resolutions = ss.resolutions;
  }
  if (offset > payload.length) return undefined;
  return {
    length: offset,
    interPredicted,
    startOfFrame: (first & 0x08) !== 0,
    endOfFrame: (first & 0x04) !== 0,
    spatialId,
    pictureId,
    resolutions,
  };
}

/**
 * The scalability structure (RFC 9628 4.2.1): N_S|Y|G|-|-|-, then (N_S+1) × width and height (16 bits each) when Y,
 * then when G a picture group: N_G, and per picture TID|U|R|-|- followed by R reference P_DIFF bytes. Only the
 * resolutions are kept; the rest describes dependencies that a decoder doesn't need.
 */
function parseScalabilityStructure(
  payload: Uint8Array,
  offset: number,
): { next: number; resolutions: { width: number; height: number }[] | undefined } | undefined {
  const header = payload[offset++];
  if (header === undefined) return undefined;
  const spatialLayers = (header >> 5) + 1;
  let resolutions: { width: number; height: number }[] | undefined;
  if (header & 0x10) {
    if (offset + 4 * spatialLayers > payload.length) return undefined;
    resolutions = [];
    for (let i = 0; i < spatialLayers; i++, offset += 4) {
      resolutions.push({ width: (payload[offset]! << 8) | payload[offset + 1]!, height: (payload[offset + 2]! << 8) | payload[offset + 3]! });
    }
  }
  if (header & 0x08) {
    const pictures = payload[offset++];
    if (pictures === undefined) return undefined;
    for (let i = 0; i < pictures; i++) {
      const picture = payload[offset++];
      if (picture === undefined) return undefined;
      offset += (picture >> 2) & 0x03; // R reference indices
    }
  }
  if (offset > payload.length) return undefined;
  return { next: offset, resolutions };
}

function startsFrame(payload: Uint8Array): boolean | undefined {
  const descriptor = parseDescriptor(payload);
  if (!descriptor) return undefined;
  if (!descriptor.startOfFrame) return false;
  // A higher layer's first packet starts a frame but not the picture, unless the picture has no base layer.
  return descriptor.spatialId === 0 ? true : undefined;
}

/**
 * A superframe (VP9 bitstream spec annex B): the frames, then an index of their sizes framed by a marker byte
 * 0b110 | bytes-per-size − 1 (2 bits) | frames − 1 (3 bits) at both ends. Sizes are little-endian.
 */
export function writeSuperframe(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length < 2 || frames.length > 8) throw new RangeError(`a superframe holds 2 to 8 frames, not ${frames.length}`);
  const largest = Math.max(...frames.map((f) => f.length));
  const sizeBytes = largest < 1 << 8 ? 1 : largest < 1 << 16 ? 2 : largest < 1 << 24 ? 3 : 4;
  const marker = 0xc0 | ((sizeBytes - 1) << 3) | (frames.length - 1);
  const index = new Uint8Array(2 + sizeBytes * frames.length);
  index[0] = marker;
  frames.forEach((frame, i) => {
    for (let b = 0; b < sizeBytes; b++) index[1 + i * sizeBytes + b] = (frame.length >>> (8 * b)) & 0xff;
  });
  index[index.length - 1] = marker;
  return concatBytes([...frames, index]);
}

function depacketize(payloads: readonly Uint8Array[]): Vp9Frame {
  const layerFrames: Uint8Array[][] = [];
  let current: Uint8Array[] | undefined; // pieces of the layer frame between its B and E packets
  let problem: string | undefined;
  let keyframe = false;
  let pictureId: number | undefined;
  let resolutions: { width: number; height: number }[] | undefined;
  let firstSeen = false;
  for (const payload of payloads) {
    if (payload.length === 0) continue;
    const descriptor = parseDescriptor(payload);
    if (!descriptor) {
      problem ??= 'payload descriptor runs past the payload';
      continue;
    }
    if (!firstSeen) {
      firstSeen = true;
      pictureId = descriptor.pictureId;
      if (!descriptor.startOfFrame) problem ??= 'first packet does not start a frame (B bit clear)';
    }
    resolutions ??= descriptor.resolutions;
    if (descriptor.startOfFrame) {
      if (current) problem ??= 'frame started again before its end (E bit) packet'; // its partial frame is dropped
      current = [];
      if (descriptor.spatialId === 0 && !descriptor.interPredicted) keyframe = true;
    }
    if (!current) continue; // the rest of a frame whose start was missing
    current.push(payload.subarray(descriptor.length));
    if (descriptor.endOfFrame) {
      layerFrames.push(current);
      current = undefined;
    }
  }
  if (current) problem ??= 'last frame has no end (E bit) packet';
  if (layerFrames.length > 8) problem ??= `${layerFrames.length} layer frames: a superframe holds at most 8`;
  const frames = layerFrames.slice(0, 8).map((pieces) => concatBytes(pieces));
  const data = frames.length === 0 ? new Uint8Array(0) : frames.length === 1 ? frames[0]! : writeSuperframe(frames);
  if (data.length === 0) problem ??= 'no VP9 payload';
  return {
    data,
    keyframe,
    complete: problem === undefined,
    skippedUnits: 0,
    ...(problem === undefined ? {} : { problem }),
    pictureId,
    spatialLayers: frames.length,
    resolutions,
  };
}

export const vp9Depacketizer: Depacketizer<Vp9Frame> = { codec: 'VP9', packetIsFrame: false, startsFrame, depacketize };
