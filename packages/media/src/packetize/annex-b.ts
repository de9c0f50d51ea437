/** Annex B byte streams (H.264/H.265 encoder output) split into their NAL units, for the packetizers. */

/**
 * The NAL units of an Annex B stream (3- or 4-byte start codes), as views into it. The zero bytes before a start code
 * (trailing_zero_8bits, or the first byte of a 4-byte start code) belong to no NAL unit and are dropped; bytes before
 * the first start code are ignored.
 */
export function splitAnnexB(stream: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i + 2]! > 1) {
      i += 2; // no start code can begin at i, i+1 or i+2
      continue;
    }
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  const units: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]!;
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : stream.length;
    while (end > begin && stream[end - 1] === 0) end--;
    if (end > begin) units.push(stream.subarray(begin, end));
  }
  return units;
}
