/**
 * H.265 RTP packetizer (RFC 7798) as WebRTC uses it (no DONL: sprop-max-don-diff 0): NAL units that fit go alone or,
 * when several small ones follow each other (VPS, SPS, PPS before an IRAP), together in one aggregation packet (AP);
 * a NAL unit larger than a packet is cut into fragmentation units (FU). Access unit delimiters are dropped.
 */
import { splitAnnexB } from './annex-b.js';
import { DEFAULT_MAX_PAYLOAD_SIZE, evenSplit, type Packetizer, type PacketizerOptions } from './types.js';

const AP = 48;
const FU = 49;
const AUD = 35;

const nalType = (nal: Uint8Array): number => (nal[0]! >> 1) & 0x3f;
const layerId = (nal: Uint8Array): number => ((nal[0]! & 0x01) << 5) | (nal[1]! >> 3);
const temporalIdPlus1 = (nal: Uint8Array): number => nal[1]! & 0x07;

export class H265Packetizer implements Packetizer {
  readonly codec = 'H265';
  readonly #max: number;

  constructor(options: PacketizerOptions = {}) {
    this.#max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (this.#max < 16) throw new RangeError('maxPayloadSize is too small for H.265');
  }

  packetize(accessUnit: Uint8Array): Uint8Array[] {
    const nals = splitAnnexB(accessUnit).filter((nal) => nal.length >= 2 && nalType(nal) !== AUD);
    const out: Uint8Array[] = [];
    let group: Uint8Array[] = [];
    let groupSize = 2; // the AP's payload header
    const flush = (): void => {
      if (group.length === 1) out.push(group[0]!);
      else if (group.length > 1) out.push(aggregate(group));
      group = [];
      groupSize = 2;
    };
    for (const nal of nals) {
      if (nal.length > this.#max) {
        flush();
        out.push(...fragment(nal, this.#max));
        continue;
      }
      if (group.length > 0 && groupSize + 2 + nal.length > this.#max) flush();
      group.push(nal);
      groupSize += 2 + nal.length;
    }
    flush();
    return out;
  }
}

/** An AP: payload header (type 48, the lowest LayerId and TID of its units), then each unit with a 16-bit size. */
function aggregate(nals: readonly Uint8Array[]): Uint8Array {
  let size = 2;
  let layer = 63;
  let tid = 7;
  let forbidden = 0;
  for (const nal of nals) {
    size += 2 + nal.length;
    layer = Math.min(layer, layerId(nal));
    tid = Math.min(tid, temporalIdPlus1(nal));
    forbidden |= nal[0]! & 0x80;
  }
  const out = new Uint8Array(size);
  out[0] = forbidden | (AP << 1) | (layer >> 5);
  out[1] = ((layer & 0x1f) << 3) | tid;
  let offset = 2;
  for (const nal of nals) {
    out[offset] = nal.length >> 8;
    out[offset + 1] = nal.length & 0xff;
    out.set(nal, offset + 2);
    offset += 2 + nal.length;
  }
  return out;
}

/** FUs: payload header (the unit's, with type 49), FU header (S, E, the unit's type), then a slice of its payload. */
function fragment(nal: Uint8Array, max: number): Uint8Array[] {
  const type = nalType(nal);
  const body = nal.subarray(2);
  const sizes = evenSplit(body.length, max - 3);
  const out: Uint8Array[] = [];
  let offset = 0;
  sizes.forEach((size, i) => {
    const fu = new Uint8Array(3 + size);
    fu[0] = (nal[0]! & 0x81) | (FU << 1);
    fu[1] = nal[1]!;
    fu[2] = (i === 0 ? 0x80 : 0) | (i === sizes.length - 1 ? 0x40 : 0) | type;
    fu.set(body.subarray(offset, offset + size), 3);
    offset += size;
    out.push(fu);
  });
  return out;
}
