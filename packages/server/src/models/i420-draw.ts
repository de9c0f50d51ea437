import type { I420Frame } from './i420.js';

/** Box outline colour in YUV (BT.601 limited range). Default: the overlay green #22e07a. */
export interface YuvColour {
  y: number;
  u: number;
  v: number;
}
export const OVERLAY_GREEN: YuvColour = { y: 150, u: 94, v: 61 };

/**
 * Draws rectangle outlines into an I420 frame, in place: luma on every pixel of the outline, chroma on the 2x2
 * blocks it crosses. Boxes are [x, y, w, h] in frame pixels; parts outside the frame are clipped. Pure.
 */
export function drawBoxesI420(frame: I420Frame, boxes: ReadonlyArray<readonly [number, number, number, number]>, colour = OVERLAY_GREEN, thickness = 3): void {
  const { width: W, height: H, data } = frame;
  const cw = (W + 1) >> 1;
  const uOff = W * H;
  const vOff = uOff + cw * ((H + 1) >> 1);
  const fill = (x0: number, y0: number, x1: number, y1: number): void => {
    const xa = Math.max(0, Math.floor(x0));
    const ya = Math.max(0, Math.floor(y0));
    const xb = Math.min(W, Math.ceil(x1));
    const yb = Math.min(H, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      data.fill(colour.y, y * W + xa, y * W + Math.max(xa, xb));
      if ((y & 1) === 0 || y === ya) {
        const cr = (y >> 1) * cw;
        for (let cx = xa >> 1; cx < (xb + 1) >> 1; cx++) {
          data[uOff + cr + cx] = colour.u;
          data[vOff + cr + cx] = colour.v;
        }
      }
    }
  };
  for (const [x, y, w, h] of boxes) {
    if (!(w > 0 && h > 0)) continue;
    fill(x, y, x + w, y + thickness);
    fill(x, y + h - thickness, x + w, y + h);
    fill(x, y, x + thickness, y + h);
    fill(x + w - thickness, y, x + w, y + h);
  }
}
