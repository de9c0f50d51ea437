/** Byte helpers shared by the depacketizers: joining pieces with one allocation. */

/** Concatenates `pieces` into one new array (one allocation, one copy per piece). */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
