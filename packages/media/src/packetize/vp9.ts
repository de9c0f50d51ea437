/**
 * VP9 RTP packetizer (RFC 9628), one spatial and one temporal layer in non-flexible mode without layer indices: each
 * packet has the descriptor I|P|L=0|F=0|B|E|V|Z=0 and a 15-bit PictureID that counts frames. P is clear on keyframes;
 * B marks the frame's first packet, E its last. A keyframe's first packet also carries the scalability structure
 * (V) with the picture's size (one layer, Y=1, no picture group), as receivers expect one at every keyframe.
 */
import { randomInt } from 'node:crypto';
import { DEFAULT_MAX_PAYLOAD_SIZE, evenSplit, type Packetizer, type PacketizerOptions } from './types.js';

const DESCRIPTOR_SIZE = 3;
const SS_SIZE = 5;

export class Vp9Packetizer implements Packetizer {
  readonly codec = 'VP9';
  readonly #max: number;
  #pictureId: number;

  constructor(options: PacketizerOptions = {}) {
    this.#max = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    if (this.#max <= DESCRIPTOR_SIZE + SS_SIZE) throw new RangeError('maxPayloadSize is too small for VP9');
    this.#pictureId = (options.firstPictureId ?? randomInt(0, 0x8000)) & 0x7fff;
  }

  /** `size` (the frame's width and height) goes into the scalability structure of a keyframe. */
  packetize(frame: Uint8Array, keyframe: boolean, size?: { width: number; height: number }): Uint8Array[] {
    const pictureId = this.#pictureId;
    this.#pictureId = (pictureId + 1) & 0x7fff;
    const ss = keyframe && size !== undefined;
    // The first packet gives up room for the SS; the rest is split evenly over the packets after it.
    const firstRoom = this.#max - DESCRIPTOR_SIZE - (ss ? SS_SIZE : 0);
    const sizes = frame.length <= firstRoom ? [frame.length] : [firstRoom, ...evenSplit(frame.length - firstRoom, this.#max - DESCRIPTOR_SIZE)];
    const out: Uint8Array[] = [];
    let offset = 0;
    sizes.forEach((n, i) => {
      const first = i === 0;
      const header = DESCRIPTOR_SIZE + (first && ss ? SS_SIZE : 0);
      const payload = new Uint8Array(header + n);
      payload[0] = 0x80 | (keyframe ? 0 : 0x40) | (first ? 0x08 : 0) | (i === sizes.length - 1 ? 0x04 : 0) | (first && ss ? 0x02 : 0);
      payload[1] = 0x80 | (pictureId >> 8);
      payload[2] = pictureId & 0xff;
      if (first && ss) {
        payload[3] = 0x10; // N_S = 0 (one spatial layer), Y = 1, G = 0
        payload[4] = size.width >> 8;
        payload[5] = size.width & 0xff;
        payload[6] = size.height >> 8;
        payload[7] = size.height & 0xff;
      }
      payload.set(frame.subarray(offset, offset + n), header);
      offset += n;
      out.push(payload);
    });
    return out;
  }
}
