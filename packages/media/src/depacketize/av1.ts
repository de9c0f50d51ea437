/**
 * AV1 RTP depacketizer (RTP Payload Format for AV1, v1.0.0, AOMedia). Each payload is an aggregation header
 * Z|Y|W|W|N|-|-|- followed by OBU elements; an OBU may be split across packets (Y on the packet it continues from, Z
 * on the one that continues it). All packets of one RTP timestamp are one temporal unit.
 *
 * Output is the temporal unit in the low-overhead bitstream format (AV1 spec 5.2) that libavcodec's av1 decoders
 * (libdav1d, libaom, native) take as one packet: a temporal delimiter, then each OBU with obu_has_size_field set and
 * its size written. RTP OBUs normally omit the size field (the element length says it); one that has it is rewritten
 * the same way. Temporal delimiters and tile list OBUs are not meant for RTP and are dropped if a sender includes them.
 */
import { concatBytes } from './bytes.js';
import { leb128Size, readLeb128, writeLeb128 } from './leb128.js';
import type { DepacketizedFrame, Depacketizer } from './types.js';

/** OBU types (AV1 spec 6.2.2). */
export const OBU = { SEQUENCE_HEADER: 1, TEMPORAL_DELIMITER: 2, FRAME_HEADER: 3, TILE_GROUP: 4, METADATA: 5, FRAME: 6, TILE_LIST: 8, PADDING: 15 } as const;

export interface Av1Frame extends DepacketizedFrame {
  /** obu_type of each OBU written after the temporal delimiter, in order. */
  obuTypes: number[];
  /** N: the first packet says a new coded video sequence starts here. */
  newCodedVideoSequence: boolean;
  /** A sequence header OBU came with the temporal unit. */
  hasSequenceHeader: boolean;
}

const TEMPORAL_DELIMITER = Uint8Array.of((OBU.TEMPORAL_DELIMITER << 3) | 0x02, 0);

const obuType = (header: number): number => (header >> 3) & 0x0f;

interface ObuParts {
  /** The OBU header, one byte or two with the extension (temporal and spatial ids). */
  header: Uint8Array;
  payload: Uint8Array;
}

/**
 * Splits an OBU as carried in RTP into its header and payload. obu_has_size_field is normally 0 there; when it is
 * 1, the size it gives bounds the payload. Undefined when the bytes are too short for what the header says.
 */
function splitObu(obu: Uint8Array): ObuParts | undefined {
  const first = obu[0];
  if (first === undefined) return undefined;
  const headerLength = first & 0x04 ? 2 : 1;
  if (obu.length < headerLength) return undefined;
  const header = obu.subarray(0, headerLength);
  if ((first & 0x02) === 0) return { header, payload: obu.subarray(headerLength) };
  const size = readLeb128(obu, headerLength);
  if (!size || size.next + size.value > obu.length) return undefined;
  return { header, payload: obu.subarray(size.next, size.next + size.value) };
}

/** Reads the OBU elements of one payload: each with a LEB128 length, except the W-th when W is not 0. */
function readElements(payload: Uint8Array): Uint8Array[] | undefined {
  const elementCount = (payload[0]! >> 4) & 0x03; // W: 0 means every element carries its length
  const elements: Uint8Array[] = [];
  let offset = 1;
  while (offset < payload.length) {
    if (elementCount !== 0 && elements.length === elementCount - 1) {
      elements.push(payload.subarray(offset));
      return elements;
    }
    const length = readLeb128(payload, offset);
    if (!length || length.next + length.value > payload.length) return undefined;
    elements.push(payload.subarray(length.next, length.next + length.value));
    offset = length.next + length.value;
  }
  // With W set, fewer elements than W means the payload was cut short.
  return elementCount !== 0 && elements.length !== elementCount ? undefined : elements;
}

function startsFrame(payload: Uint8Array): boolean | undefined {
  const aggregation = payload[0];
  if (aggregation === undefined) return undefined;
  if (aggregation & 0x80) return false; // Z: the first element continues an OBU from the previous packet
  if (aggregation & 0x08) return true; // N: first packet of a coded video sequence
  // A sequence header or temporal delimiter can only open a temporal unit; other OBUs can't tell.
  const elements = readElements(payload);
  const first = elements?.[0]?.[0];
  if (first === undefined) return undefined;
  const type = obuType(first);
  return type === OBU.SEQUENCE_HEADER || type === OBU.TEMPORAL_DELIMITER ? true : undefined;
}

function depacketize(payloads: readonly Uint8Array[]): Av1Frame {
  const obus: ObuParts[] = [];
  let skippedUnits = 0;
  let problem: string | undefined;
  const fail = (why: string): void => {
    problem ??= why;
  };
  let fragments: Uint8Array[] | undefined; // pieces of an OBU split across packets
  let newCodedVideoSequence = false;
  let firstSeen = false;

  const addObu = (obu: Uint8Array): void => {
    if (obu.length === 0) return;
    const parts = splitObu(obu);
    if (!parts) return fail('OBU shorter than its header or size field says');
    const type = obuType(parts.header[0]!);
    if (type === OBU.TEMPORAL_DELIMITER) return; // one is written per temporal unit below
    if (type === OBU.TILE_LIST) {
      skippedUnits++; // large-scale tile decoding only; the spec says receivers ignore it
      return;
    }
    obus.push(parts);
  };

  for (const payload of payloads) {
    const aggregation = payload[0];
    if (aggregation === undefined) continue;
    const continues = (aggregation & 0x80) !== 0; // Z
    const continuedLater = (aggregation & 0x40) !== 0; // Y
    if (!firstSeen) {
      firstSeen = true;
      newCodedVideoSequence = (aggregation & 0x08) !== 0;
    }
    const elements = readElements(payload);
    if (!elements) {
      fail('OBU element length runs past the payload');
      fragments = undefined;
      continue;
    }
    elements.forEach((element, i) => {
      const last = i === elements.length - 1;
      if (i === 0 && continues) {
        if (!fragments) return fail('OBU fragment without the packet that starts it');
        fragments.push(element);
        if (last && continuedLater) return; // a middle fragment: the OBU goes on in the next packet
        const whole = concatBytes(fragments);
        fragments = undefined;
        return addObu(whole);
      }
      if (i === 0 && fragments) {
        fail('OBU fragment not continued by the next packet (Z bit clear)');
        fragments = undefined;
      }
      if (last && continuedLater) {
        fragments = [element];
        return;
      }
      addObu(element);
    });
    if (elements.length === 0 && fragments && !continuedLater) {
      fail('OBU fragment not continued by the next packet');
      fragments = undefined;
    }
  }
  if (fragments) fail('OBU fragment without its last packet (Y bit set on the last packet)');

  // Low-overhead format: temporal delimiter, then header (has_size_field set) | LEB128 size | payload per OBU.
  let length = TEMPORAL_DELIMITER.length;
  for (const { header, payload } of obus) length += header.length + leb128Size(payload.length) + payload.length;
  const data = new Uint8Array(length);
  data.set(TEMPORAL_DELIMITER, 0);
  let offset = TEMPORAL_DELIMITER.length;
  for (const { header, payload } of obus) {
    data.set(header, offset);
    data[offset] = header[0]! | 0x02;
    offset = writeLeb128(payload.length, data, offset + header.length);
    data.set(payload, offset);
    offset += payload.length;
  }
  if (obus.length === 0) fail('no OBU in the temporal unit');

  const obuTypes = obus.map((o) => obuType(o.header[0]!));
  const hasSequenceHeader = obuTypes.includes(OBU.SEQUENCE_HEADER);
  return {
    data,
    keyframe: newCodedVideoSequence || hasSequenceHeader,
    complete: problem === undefined,
    skippedUnits,
    ...(problem === undefined ? {} : { problem }),
    obuTypes,
    newCodedVideoSequence,
    hasSequenceHeader,
  };
}

export const av1Depacketizer: Depacketizer<Av1Frame> = { codec: 'AV1', packetIsFrame: false, startsFrame, depacketize };
