import type { I420Frame } from './i420.js';

/** How a model wants its input tensor. Pixel statistics are in 0-255 units: value = (pixel - mean) / std. */
export interface InputSpec {
  width: number;
  height: number;
  layout: 'nchw' | 'nhwc';
  channels: 'rgb' | 'bgr';
  dtype: 'float32' | 'uint8';
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** letterbox keeps the aspect ratio and pads; stretch fills the input. */
  resize: 'letterbox' | 'stretch';
  /** Letterbox padding as a pixel value (0-255), e.g. 114 for Ultralytics. */
  pad: number;
}

/** Where the frame landed in the input: input = frame · scale + pad. Undo it to get frame pixels back. */
export interface FrameTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

export function transformFor(width: number, height: number, spec: Pick<InputSpec, 'width' | 'height' | 'resize'>): FrameTransform {
  if (spec.resize === 'stretch') return { scaleX: spec.width / width, scaleY: spec.height / height, padX: 0, padY: 0 };
  const s = Math.min(spec.width / width, spec.height / height);
  return { scaleX: s, scaleY: s, padX: (spec.width - width * s) / 2, padY: (spec.height - height * s) / 2 };
}

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * One pass from an I420 frame into slot `batchIndex` of a model input tensor: resize (bilinear luma, nearest chroma)
 * or letterbox, BT.601 limited-range YUV → RGB, channel order, layout, normalisation and dtype.
 */
export function i420ToTensor(frame: I420Frame, spec: InputSpec, out: Float32Array | Uint8Array, batchIndex = 0): FrameTransform {
  const { width: W, height: H, data } = frame;
  const { width: OW, height: OH } = spec;
  const t = transformFor(W, H, spec);
  const plane = OW * OH;
  const base = batchIndex * plane * 3;
  const nchw = spec.layout === 'nchw';
  // Destination offsets of R, G, B for pixel 0 and the step between pixels.
  const [ri, gi, bi] = spec.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const cOff = nchw ? [ri * plane, gi * plane, bi * plane] : [ri, gi, bi];
  const step = nchw ? 1 : 3;
  const isFloat = spec.dtype === 'float32';
  const k0 = isFloat ? 1 / spec.std[0] : 1;
  const k1 = isFloat ? 1 / spec.std[1] : 1;
  const k2 = isFloat ? 1 / spec.std[2] : 1;
  const m0 = isFloat ? spec.mean[0] : 0;
  const m1 = isFloat ? spec.mean[1] : 0;
  const m2 = isFloat ? spec.mean[2] : 0;
  // Per channel in R, G, B order: where it goes and how it is normalised.
  const o0 = base + cOff[0]!;
  const o1 = base + cOff[1]!;
  const o2 = base + cOff[2]!;
  const padR = (spec.pad - m0) * k0;
  const padG = (spec.pad - m1) * k1;
  const padB = (spec.pad - m2) * k2;

  // Column tables, computed once per call (OW entries).
  const x0s = new Int32Array(OW);
  const x1s = new Int32Array(OW);
  const fxs = new Float32Array(OW);
  const cxs = new Int32Array(OW);
  const inside = new Uint8Array(OW);
  for (let ox = 0; ox < OW; ox++) {
    const sx = (ox + 0.5 - t.padX) / t.scaleX - 0.5;
    inside[ox] = sx >= -0.5 && sx <= W - 0.5 ? 1 : 0;
    const x0 = Math.max(0, Math.min(W - 1, Math.floor(sx)));
    x0s[ox] = x0;
    x1s[ox] = Math.min(W - 1, x0 + 1);
    fxs[ox] = Math.min(1, Math.max(0, sx - x0));
    cxs[ox] = Math.min(W - 1, Math.max(0, Math.round(sx))) >> 1;
  }
  const cw = (W + 1) >> 1;
  const uOff = W * H;
  const vOff = uOff + cw * ((H + 1) >> 1);

  for (let oy = 0; oy < OH; oy++) {
    const sy = (oy + 0.5 - t.padY) / t.scaleY - 0.5;
    const rowInside = sy >= -0.5 && sy <= H - 0.5;
    const y0 = Math.max(0, Math.min(H - 1, Math.floor(sy)));
    const y1 = Math.min(H - 1, y0 + 1);
    const fy = Math.min(1, Math.max(0, sy - y0));
    const r0 = y0 * W;
    const r1 = y1 * W;
    const cRow = (Math.min(H - 1, Math.max(0, Math.round(sy))) >> 1) * cw;
    let p = oy * OW * step;
    for (let ox = 0; ox < OW; ox++, p += step) {
      if (!rowInside || inside[ox] === 0) {
        out[o0 + p] = padR;
        out[o1 + p] = padG;
        out[o2 + p] = padB;
        continue;
      }
      const x0 = x0s[ox]!;
      const x1 = x1s[ox]!;
      const fx = fxs[ox]!;
      const top = data[r0 + x0]! + (data[r0 + x1]! - data[r0 + x0]!) * fx;
      const bot = data[r1 + x0]! + (data[r1 + x1]! - data[r1 + x0]!) * fx;
      const yv = 1.164 * (top + (bot - top) * fy - 16);
      const ci = cRow + cxs[ox]!;
      const u = data[uOff + ci]! - 128;
      const v = data[vOff + ci]! - 128;
      out[o0 + p] = (clamp255(yv + 1.596 * v) - m0) * k0;
      out[o1 + p] = (clamp255(yv - 0.392 * u - 0.813 * v) - m1) * k1;
      out[o2 + p] = (clamp255(yv + 2.017 * u) - m2) * k2;
    }
  }
  return t;
}

/** Frame pixels of a box given in input pixels, clamped to the frame. */
export function boxToFrame(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  t: FrameTransform,
  frameWidth: number,
  frameHeight: number,
): { x: number; y: number; w: number; h: number } {
  const fx1 = clamp((x1 - t.padX) / t.scaleX, 0, frameWidth);
  const fy1 = clamp((y1 - t.padY) / t.scaleY, 0, frameHeight);
  const fx2 = clamp((x2 - t.padX) / t.scaleX, 0, frameWidth);
  const fy2 = clamp((y2 - t.padY) / t.scaleY, 0, frameHeight);
  return { x: fx1, y: fy1, w: fx2 - fx1, h: fy2 - fy1 };
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
