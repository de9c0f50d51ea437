/**
 * AV1 RTP packetizer (RTP Payload Format for AV1, v1.0.0, AOMedia). The encoder's temporal unit (low-overhead format:
 * every OBU with its size field) becomes OBU elements without size fields, each behind its LEB128 length (W = 0), as
 * many per packet as fit; an OBU that does not fit is split, the packet it starts in marked Y and the next one Z.
 * Temporal delimiters, tile lists and padding are not sent (the format says so). N marks the first packet of a
 * keyframe that carries a sequence header: a new coded video sequence.
 */
import { leb128Size, readLeb128, writeLeb128 } from '../depacketize/leb128.js';
import { DEFAULT_MAX_PAYLOAD_SIZE, type Packetizer, type PacketizerOptions } from './types.js';

const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;
const OBU_TILE_LIST = 8;
const OBU_PADDING = 15;

/** The OBUs of a temporal unit as RTP carries them (header without obu_has_size_field, then the payload). */
export function av1ObuElements(temporalUnit: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < temporalUnit.length) {
    const header = temporalUnit[offset]!;
    const headerSize = header & 0x04 ? 2 : 1;
    if (offset + headerSize > temporalUnit.length) throw new Error('AV1 OBU header runs past the temporal unit');
    let payloadStart = offset + headerSize;
    let payloadEnd = temporalUnit.length;
    if (header & 0x02) {
      const size = readLeb128(temporalUnit, payloadStart);
      if (!size || size.next + size.value > temporalUnit.length) throw new Error('AV1 OBU size runs past the temporal unit');
      payloadStart = size.next;
      payloadEnd = size.next + size.value;
    }
    const type = (header >> 3) & 0x0f;
    if (type !== OBU_TEMPORAL_DELIMITER && type !== OBU_TILE_LIST && type !== OBU_PADDING) {
      const element = new Uint8Array(headerSize + payloadEnd - payloadStart);
      element[0] = header & ~0x02;
      if (headerSize === 2) element[1] = temporalUnit[offset + 1]!;
      element.set(temporalUnit.subarray(payloadStart, payloadEnd), headerSize);
      out.push(element);
    }
    offset = payloadEnd;
  }
  return out;
}

export class Av1Packetizer implements Packetizer {
  readonly codec = 'AV1';
  readonly #max: number;

  constructor(options: PacketizerOptions = {}) {
    this.#max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (this.#max < 8) throw new RangeError('maxPayloadSize is too small for AV1');
  }

  packetize(temporalUnit: Uint8Array, keyframe: boolean): Uint8Array[] {
    const elements = av1ObuElements(temporalUnit);
    const newSequence = keyframe && elements.some((e) => ((e[0]! >> 3) & 0x0f) === OBU_SEQUENCE_HEADER);
    const packets: { z: boolean; y: boolean; pieces: Uint8Array[]; size: number }[] = [];
    let current = { z: false, y: false, pieces: [] as Uint8Array[], size: 1 };
    for (const element of elements) {
      let rest = element;
      let continued = false;
      for (;;) {
        const room = this.#max - current.size;
        if (leb128Size(rest.length) + rest.length <= room) {
          current.pieces.push(rest);
          current.size += leb128Size(rest.length) + rest.length;
          break;
        }
        // Split when at least a few bytes fit; otherwise the element starts in the next packet.
        let take = room - leb128Size(room);
        if (take + leb128Size(take) > room) take--;
        if (take >= 1 && (take >= 16 || current.pieces.length === 0 || continued)) {
          current.pieces.push(rest.subarray(0, take));
          current.size += leb128Size(take) + take;
          current.y = true;
          packets.push(current);
          current = { z: true, y: false, pieces: [], size: 1 };
          rest = rest.subarray(take);
          continued = true;
        } else {
          packets.push(current);
          current = { z: false, y: false, pieces: [], size: 1 };
        }
      }
    }
    if (current.pieces.length > 0 || packets.length === 0) packets.push(current);
    return packets.map((p, i) => {
      const payload = new Uint8Array(p.size);
      payload[0] = (p.z ? 0x80 : 0) | (p.y ? 0x40 : 0) | (i === 0 && newSequence ? 0x08 : 0);
      let offset = 1;
      for (const piece of p.pieces) {
        offset = writeLeb128(piece.length, payload, offset);
        payload.set(piece, offset);
        offset += piece.length;
      }
      return payload;
    });
  }
}
