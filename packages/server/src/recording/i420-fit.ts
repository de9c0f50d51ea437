import type { I420Frame } from '../models/i420.js';

/**
 * Nearest-neighbour resize of an I420 frame into a `width`×`height` I420 buffer (`out`, at `offset`), keeping the
 * aspect ratio: the picture is centred and the bars are black. Cheap (one read per output byte), for the frames of a
 * stream whose resolution changed; pure apart from writing `out`.
 */
export function fitI420Into(src: I420Frame, out: Uint8Array, offset: number, width: number, height: number): void {
  const scale = Math.min(width / src.width, height / src.height);
  const rw = Math.max(2, Math.min(width, Math.round((src.width * scale) / 2) * 2));
  const rh = Math.max(2, Math.min(height, Math.round((src.height * scale) / 2) * 2));
  const rx = ((width - rw) >> 2) << 1;
  const ry = ((height - rh) >> 2) << 1;
  const letterbox = rw !== width || rh !== height;
  const scw = (src.width + 1) >> 1;
  const sch = (src.height + 1) >> 1;
  const dcw = (width + 1) >> 1;
  const dch = (height + 1) >> 1;
  const planes = [
    { s: 0, sw: src.width, sh: src.height, d: offset, dw: width, dh: height, x: rx, y: ry, w: rw, h: rh, black: 16 },
    { s: src.width * src.height, sw: scw, sh: sch, d: offset + width * height, dw: dcw, dh: dch, x: rx >> 1, y: ry >> 1, w: rw >> 1, h: rh >> 1, black: 128 },
    {
      s: src.width * src.height + scw * sch,
      sw: scw,
      sh: sch,
      d: offset + width * height + dcw * dch,
      dw: dcw,
      dh: dch,
      x: rx >> 1,
      y: ry >> 1,
      w: rw >> 1,
      h: rh >> 1,
      black: 128,
    },
  ];
  for (const p of planes) {
    if (letterbox) out.fill(p.black, p.d, p.d + p.dw * p.dh);
    const xs = new Int32Array(p.w);
    for (let x = 0; x < p.w; x++) xs[x] = Math.min(p.sw - 1, Math.floor(((x + 0.5) * p.sw) / p.w));
    for (let y = 0; y < p.h; y++) {
      const srow = p.s + Math.min(p.sh - 1, Math.floor(((y + 0.5) * p.sh) / p.h)) * p.sw;
      const drow = p.d + (p.y + y) * p.dw + p.x;
      for (let x = 0; x < p.w; x++) out[drow + x] = src.data[srow + xs[x]!]!;
    }
  }
}
