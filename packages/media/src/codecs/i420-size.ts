/** Bytes of an I420 picture: a full Y plane, then U and V at half width and height, rounded up (odd sizes included). */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}
