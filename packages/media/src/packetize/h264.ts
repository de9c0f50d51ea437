/**
 * H.264 RTP packetizer (RFC 6184), packetization-mode 1 as WebRTC negotiates it: NAL units that fit go alone (single
 * NAL unit packets) or, when several small ones follow each other (SPS, PPS before an IDR), together in one STAP-A;
 * a NAL unit larger than a packet is cut into FU-A fragments. Access unit delimiters are dropped (RTP marks frames).
 */
import { splitAnnexB } from './annex-b.js';
import { DEFAULT_MAX_PAYLOAD_SIZE, evenSplit, type Packetizer, type PacketizerOptions } from './types.js';

const STAP_A = 24;
const FU_A = 28;
const AUD = 9;

export class H264Packetizer implements Packetizer {
  readonly codec = 'H264';
  readonly #max: number;

  constructor(options: PacketizerOptions = {}) {
    this.#max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (this.#max < 16) throw new RangeError('maxPayloadSize is too small for H.264');
  }

  packetize(accessUnit: Uint8Array): Uint8Array[] {
    const nals = splitAnnexB(accessUnit).filter((nal) => (nal[0]! & 0x1f) !== AUD);
    const out: Uint8Array[] = [];
    let group: Uint8Array[] = [];
    let groupSize = 1; // the STAP-A header
    const flush = (): void => {
      if (group.length === 1) out.push(group[0]!);
      else if (group.length > 1) out.push(stapA(group));
      group = [];
      groupSize = 1;
    };
    for (const nal of nals) {
      if (nal.length > this.#max) {
        flush();
        out.push(...fuA(nal, this.#max));
        continue;
      }
      // A NAL unit that fits alone but not in the open aggregate starts a new one.
      if (group.length > 0 && groupSize + 2 + nal.length > this.#max) flush();
      group.push(nal);
      groupSize += 2 + nal.length;
    }
    flush();
    return out;
  }
}

/** One STAP-A: its header (F and the highest NRI of the units, type 24), then each unit with a 16-bit size. */
function stapA(nals: readonly Uint8Array[]): Uint8Array {
  let size = 1;
  let nri = 0;
  for (const nal of nals) {
    size += 2 + nal.length;
    nri = Math.max(nri, nal[0]! & 0x60);
  }
  const out = new Uint8Array(size);
  out[0] = nri | STAP_A;
  let offset = 1;
  for (const nal of nals) {
    out[offset] = nal.length >> 8;
    out[offset + 1] = nal.length & 0xff;
    out.set(nal, offset + 2);
    offset += 2 + nal.length;
  }
  return out;
}

/** FU-A fragments: indicator (F, NRI, type 28) and header (S, E, the unit's type), then a slice of the unit's payload. */
function fuA(nal: Uint8Array, max: number): Uint8Array[] {
  const header = nal[0]!;
  const body = nal.subarray(1);
  const sizes = evenSplit(body.length, max - 2);
  const out: Uint8Array[] = [];
  let offset = 0;
  sizes.forEach((size, i) => {
    const fragment = new Uint8Array(2 + size);
    fragment[0] = (header & 0xe0) | FU_A;
    fragment[1] = (i === 0 ? 0x80 : 0) | (i === sizes.length - 1 ? 0x40 : 0) | (header & 0x1f);
    fragment.set(body.subarray(offset, offset + size), 2);
    offset += size;
    out.push(fragment);
  });
  return out;
}
