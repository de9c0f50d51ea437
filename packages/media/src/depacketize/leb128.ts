/** LEB128 (AV1 spec 4.10.5): the variable-length unsigned integers of AV1 OBU sizes and RTP OBU element lengths. */

/** A value read at `offset`, and the offset after it; undefined when the bytes run out or it exceeds 8 bytes. */
export function readLeb128(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  // The spec allows up to 8 bytes; values stay below 2^32, and multiplying (not shifting) keeps them exact above 2^31.
  for (let i = 0; i < 8; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return undefined;
}

/** How many bytes the shortest LEB128 encoding of `value` takes. */
export function leb128Size(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes the shortest LEB128 encoding of `value` at `offset`; returns the offset after it. */
export function writeLeb128(value: number, out: Uint8Array, offset: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}
