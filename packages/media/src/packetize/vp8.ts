/**
 * VP8 RTP packetizer (RFC 7741): the frame cut into even slices, each behind a 4-byte payload descriptor
 * X=1|N=0|S|PID=0, then I=1, then a 15-bit PictureID that counts frames. S is set on the first packet only (the whole
 * frame is one run from partition 0; partition boundaries need not be kept).
 */
import { randomInt } from 'node:crypto';
import { DEFAULT_MAX_PAYLOAD_SIZE, evenSplit, type Packetizer, type PacketizerOptions } from './types.js';

const DESCRIPTOR_SIZE = 4;

export class Vp8Packetizer implements Packetizer {
  readonly codec = 'VP8';
  readonly #max: number;
  #pictureId: number;

  constructor(options: PacketizerOptions = {}) {
    this.#max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (this.#max <= DESCRIPTOR_SIZE) throw new RangeError('maxPayloadSize is too small for VP8');
    this.#pictureId = (options.firstPictureId ?? randomInt(0, 0x8000)) & 0x7fff;
  }

  packetize(frame: Uint8Array): Uint8Array[] {
    const pictureId = this.#pictureId;
    this.#pictureId = (pictureId + 1) & 0x7fff;
    const out: Uint8Array[] = [];
    let offset = 0;
    for (const size of evenSplit(frame.length, this.#max - DESCRIPTOR_SIZE)) {
      const payload = new Uint8Array(DESCRIPTOR_SIZE + size);
      payload[0] = 0x80 | (offset === 0 ? 0x10 : 0); // X, S; PID 0
      payload[1] = 0x80; // I: PictureID present
      payload[2] = 0x80 | (pictureId >> 8); // M: 15-bit PictureID
      payload[3] = pictureId & 0xff;
      payload.set(frame.subarray(offset, offset + size), DESCRIPTOR_SIZE);
      offset += size;
      out.push(payload);
    }
    return out;
  }
}
