/** A decoded video frame in I420 (Y plane, then U and V planes at half resolution). */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Size of an I420 buffer for a frame; chroma planes round up for odd sizes. */
export function i420Size(width: number, height: number): number {
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  return width * height + 2 * cw * ch;
}

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** RGBA pixels to I420 (BT.601 limited range, 2x2 chroma average). Used by tests and the JPEG paths. */
export function rgbaToI420(rgba: Uint8Array, width: number, height: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * ch;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data[y * width + x] = clamp255(Math.round(0.257 * rgba[p]! + 0.504 * rgba[p + 1]! + 0.098 * rgba[p + 2]! + 16));
    }
  }
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const x = cx * 2 + dx;
          const y = cy * 2 + dy;
          if (x >= width || y >= height) continue;
          const p = (y * width + x) * 4;
          r += rgba[p]!;
          g += rgba[p + 1]!;
          b += rgba[p + 2]!;
          n++;
        }
      }
      r /= n;
      g /= n;
      b /= n;
      data[uOff + cy * cw + cx] = clamp255(Math.round(-0.148 * r - 0.291 * g + 0.439 * b + 128));
      data[vOff + cy * cw + cx] = clamp255(Math.round(0.439 * r - 0.368 * g - 0.071 * b + 128));
    }
  }
  return { width, height, data };
}
