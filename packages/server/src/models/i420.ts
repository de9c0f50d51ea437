import type { I420Frame } from '@sightline/media';

export type { I420Frame };

/** Size of an I420 buffer for a frame; chroma planes round up for odd sizes. */
export function i420Size(width: number, height: number): number {
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  return width * height + 2 * cw * ch;
}

/**
 * Packed RGB or RGBA pixels (`channels` 3 or 4) to I420: BT.601 limited range in 8.8 fixed point, 2x2 chroma
 * average. The JPEG/WebP frame path (once per frame) and tests use it.
 */
export function rgbToI420(pixels: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): I420Frame {
  const data = new Uint8Array(i420Size(width, height));
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * ch;
  // Coefficients ×256: Y = (66R + 129G + 25B + 128) >> 8 + 16; results always land in 16..235 / 16..240.
  for (let i = 0, p = 0, n = width * height; i < n; i++, p += channels) {
    data[i] = ((66 * pixels[p]! + 129 * pixels[p + 1]! + 25 * pixels[p + 2]! + 128) >> 8) + 16;
  }
  for (let cy = 0; cy < ch; cy++) {
    const y0 = cy * 2;
    const y1 = Math.min(y0 + 1, height - 1);
    for (let cx = 0; cx < cw; cx++) {
      const x0 = cx * 2;
      const x1 = Math.min(x0 + 1, width - 1);
      const a = (y0 * width + x0) * channels;
      const b = (y0 * width + x1) * channels;
      const c = (y1 * width + x0) * channels;
      const d = (y1 * width + x1) * channels;
      const r = pixels[a]! + pixels[b]! + pixels[c]! + pixels[d]!;
      const g = pixels[a + 1]! + pixels[b + 1]! + pixels[c + 1]! + pixels[d + 1]!;
      const bl = pixels[a + 2]! + pixels[b + 2]! + pixels[c + 2]! + pixels[d + 2]!;
      // Sums of four pixels: divide by 4 inside the shift (>> 10 instead of >> 8).
      data[uOff + cy * cw + cx] = ((-38 * r - 74 * g + 112 * bl + 512) >> 10) + 128;
      data[vOff + cy * cw + cx] = ((112 * r - 94 * g - 18 * bl + 512) >> 10) + 128;
    }
  }
  return { width, height, data };
}

/** RGBA pixels to I420 (see rgbToI420). */
export function rgbaToI420(rgba: Uint8Array, width: number, height: number): I420Frame {
  return rgbToI420(rgba, width, height, 4);
}
