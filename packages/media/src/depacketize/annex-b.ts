/**
 * Annex B byte stream (H.264 and H.265 Annex B): what libavcodec's h264 and hevc parsers and decoders take when no
 * extradata is set. RTP carries bare NAL units; each gets a 4-byte start code.
 */

const START_CODE = Uint8Array.of(0, 0, 0, 1);

/**
 * Writes NAL units as Annex B. A NAL unit is given as its pieces (a header rebuilt from an FU plus its fragments, or
 * one view into a payload), so fragments are copied once, straight into the output.
 */
export function writeAnnexB(nalUnits: readonly (readonly Uint8Array[])[]): Uint8Array {
  let length = 0;
  for (const nal of nalUnits) {
    length += START_CODE.length;
    for (const piece of nal) length += piece.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const nal of nalUnits) {
    out.set(START_CODE, offset);
    offset += START_CODE.length;
    for (const piece of nal) {
      out.set(piece, offset);
      offset += piece.length;
    }
  }
  return out;
}
