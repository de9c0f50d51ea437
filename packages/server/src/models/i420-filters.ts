import type { I420Frame } from './i420.js';

/**
 * Sobel edge magnitude of the luma plane, in place: Y becomes 255 where the gradient exceeds `threshold`, else 0;
 * chroma goes neutral (a black-and-white edge map). Pure apart from writing `frame`.
 */
export function sobelEdgesI420(frame: I420Frame, threshold: number): number {
  const { width: W, height: H, data } = frame;
  const src = data.slice(0, W * H);
  let edges = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (x === 0 || y === 0 || x === W - 1 || y === H - 1) {
        data[y * W + x] = 0;
        continue;
      }
      const i = y * W + x;
      const gx = src[i - W + 1]! + 2 * src[i + 1]! + src[i + W + 1]! - src[i - W - 1]! - 2 * src[i - 1]! - src[i + W - 1]!;
      const gy = src[i + W - 1]! + 2 * src[i + W]! + src[i + W + 1]! - src[i - W - 1]! - 2 * src[i - W]! - src[i - W + 1]!;
      const edge = Math.abs(gx) + Math.abs(gy) > threshold * 4;
      data[i] = edge ? 255 : 16;
      if (edge) edges++;
    }
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
