import type { I420Frame } from './i420.js';

/**
 * Sobel edge magnitude of the luma plane, in place: Y becomes 255 where the gradient exceeds `threshold`, else 0;
 * chroma goes neutral (a black-and-white edge map). Pure apart from writing `frame`.
 */
export function sobelEdgesI420(frame: I420Frame, threshold: number): number {
  const { width: W, height: H, data } = frame;
  const src = data.slice(0, W * H);
  const limit = threshold * 4;
  let edges = 0;
  data.fill(0, 0, W);
  data.fill(0, (H - 1) * W, H * W);
  for (let y = 1; y < H - 1; y++) {
    const r0 = (y - 1) * W;
    const r1 = y * W;
    const r2 = (y + 1) * W;
    // A sliding 3x3 window: columns x-1 (a0/b0/c0), x (a1/b1/c1), x+1 (a2/b2/c2) of rows y-1, y, y+1.
    let a0 = src[r0]!;
    let a1 = src[r0 + 1]!;
    let b0 = src[r1]!;
    let b1 = src[r1 + 1]!;
    let c0 = src[r2]!;
    let c1 = src[r2 + 1]!;
    data[r1] = 0;
    for (let x = 1; x < W - 1; x++) {
      const a2 = src[r0 + x + 1]!;
      const b2 = src[r1 + x + 1]!;
      const c2 = src[r2 + x + 1]!;
      const gx = a2 + 2 * b2 + c2 - a0 - 2 * b0 - c0;
      const gy = c0 + 2 * c1 + c2 - a0 - 2 * a1 - a2;
      if ((gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy) > limit) {
        data[r1 + x] = 255;
        edges++;
      } else data[r1 + x] = 16;
      a0 = a1;
      a1 = a2;
      b0 = b1;
      b1 = b2;
      c0 = c1;
      c1 = c2;
    }
    data[r1 + W - 1] = 0;
  }
  data.fill(128, W * H);
  return edges / (W * H);
}

/** Strong box blur of rectangles in all three planes, in place (privacy: faces unreadable). */
export function blurRegionsI420(frame: I420Frame, boxes: ReadonlyArray<readonly [number, number, number, number]>, radius = 12): void {
  const { width: W, height: H, data } = frame;
  const cw = (W + 1) >> 1;
  const ch = (H + 1) >> 1;
  const planes: Array<[number, number, number, number]> = [
    [0, W, H, 1],
    [W * H, cw, ch, 2],
    [W * H + cw * ch, cw, ch, 2],
  ];
  for (const [x, y, w, h] of boxes) {
    for (const [off, pw, ph, sub] of planes) {
      const x0 = Math.max(0, Math.floor(x / sub));
      const y0 = Math.max(0, Math.floor(y / sub));
      const x1 = Math.min(pw, Math.ceil((x + w) / sub));
      const y1 = Math.min(ph, Math.ceil((y + h) / sub));
      const r = Math.max(1, Math.round(radius / sub));
      // Two passes (rows, then columns) of a running-sum box filter over the region.
      for (let pass = 0; pass < 2; pass++) {
        const horizontal = pass === 0;
        const outer = horizontal ? [y0, y1] : [x0, x1];
        const inner = horizontal ? [x0, x1] : [y0, y1];
        const line = new Uint8Array(inner[1]! - inner[0]!);
        for (let o = outer[0]!; o < outer[1]!; o++) {
          const at = (i: number): number => off + (horizontal ? o * pw + i : i * pw + o);
          for (let i = inner[0]!; i < inner[1]!; i++) line[i - inner[0]!] = data[at(i)]!;
          for (let i = inner[0]!; i < inner[1]!; i++) {
            let sum = 0;
            let n = 0;
            for (let k = Math.max(inner[0]!, i - r); k <= Math.min(inner[1]! - 1, i + r); k++) {
              sum += line[k - inner[0]!]!;
              n++;
            }
            data[at(i)] = sum / n;
          }
        }
      }
    }
  }
}
