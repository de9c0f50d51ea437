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

/** Where a frame lands inside a square model input when it is letterboxed (scaled to fit, centred). */
export interface Letterbox {
  scale: number;
  padX: number;
  padY: number;
}

export function letterboxFor(width: number, height: number, size: number): Letterbox {
  const scale = size / Math.max(width, height);
  return { scale, padX: (size - width * scale) / 2, padY: (size - height * scale) / 2 };
}

/**
 * One pass from I420 to a letterboxed NHWC float32 RGB tensor scaled to [lo, hi]: bilinear luma, nearest chroma,
 * BT.601 limited-range conversion. Padding is `padValue` (already in tensor units).
 */
export function i420ToNhwcLetterboxed(
  frame: I420Frame,
  size: number,
  out: Float32Array,
  lo = -1,
  hi = 1,
  padValue = 0,
): Letterbox {
  const { width: W, height: H, data } = frame;
  const lb = letterboxFor(W, H, size);
  const cw = (W + 1) >> 1;
  const uOff = W * H;
  const vOff = uOff + cw * ((H + 1) >> 1);
  const k = (hi - lo) / 255;
  const inv = 1 / lb.scale;
  for (let oy = 0; oy < size; oy++) {
    const sy = (oy + 0.5 - lb.padY) * inv - 0.5;
    const rowOut = oy * size * 3;
    if (sy < -0.5 || sy > H - 0.5) {
      out.fill(padValue, rowOut, rowOut + size * 3);
      continue;
    }
    const y0 = Math.max(0, Math.floor(sy));
    const y1 = Math.min(H - 1, y0 + 1);
    const fy = Math.min(1, Math.max(0, sy - y0));
    const cRow = Math.min(H - 1, Math.max(0, Math.round(sy))) >> 1;
    for (let ox = 0; ox < size; ox++) {
      const o = rowOut + ox * 3;
      const sx = (ox + 0.5 - lb.padX) * inv - 0.5;
      if (sx < -0.5 || sx > W - 0.5) {
        out[o] = padValue;
        out[o + 1] = padValue;
        out[o + 2] = padValue;
        continue;
      }
      const x0 = Math.max(0, Math.floor(sx));
      const x1 = Math.min(W - 1, x0 + 1);
      const fx = Math.min(1, Math.max(0, sx - x0));
      const top = data[y0 * W + x0]! * (1 - fx) + data[y0 * W + x1]! * fx;
      const bot = data[y1 * W + x0]! * (1 - fx) + data[y1 * W + x1]! * fx;
      const yv = 1.164 * (top * (1 - fy) + bot * fy - 16);
      const ci = cRow * cw + (Math.min(W - 1, Math.max(0, Math.round(sx))) >> 1);
      const u = data[uOff + ci]! - 128;
      const v = data[vOff + ci]! - 128;
      out[o] = clamp255(yv + 1.596 * v) * k + lo;
      out[o + 1] = clamp255(yv - 0.392 * u - 0.813 * v) * k + lo;
      out[o + 2] = clamp255(yv + 2.017 * u) * k + lo;
    }
  }
  return lb;
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
