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

// BT.601 limited range in 16.16 fixed point: R = Y' + Rv, G = Y' - Gu - Gv, B = Y' + Bu.
const Y_TAB = new Int32Array(256);
const RV_TAB = new Int32Array(256);
const GU_TAB = new Int32Array(256);
const GV_TAB = new Int32Array(256);
const BU_TAB = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  Y_TAB[i] = Math.round(1.164 * (i - 16) * 65536);
  RV_TAB[i] = Math.round(1.596 * (i - 128) * 65536);
  GU_TAB[i] = Math.round(0.392 * (i - 128) * 65536);
  GV_TAB[i] = Math.round(0.813 * (i - 128) * 65536);
  BU_TAB[i] = Math.round(2.017 * (i - 128) * 65536);
}

/** Per-channel lookup tables 0-255 → (v - mean) / std, cached by statistics. */
const lutCache = new Map<string, [Float32Array, Float32Array, Float32Array]>();
function luts(mean: readonly number[], std: readonly number[]): [Float32Array, Float32Array, Float32Array] {
  const key = `${mean.join()}|${std.join()}`;
  let l = lutCache.get(key);
  if (!l) {
    const mk = (c: number): Float32Array => Float32Array.from({ length: 256 }, (_, v) => (v - mean[c]!) / std[c]!);
    l = [mk(0), mk(1), mk(2)];
    lutCache.set(key, l);
  }
  return l;
}
const IDENTITY = Float32Array.from({ length: 256 }, (_, v) => v);

/** Geometry shared by both writers: column taps, row range, output offsets. */
interface Plan {
  t: FrameTransform;
  x0s: Int32Array;
  x1s: Int32Array;
  fxs: Int32Array;
  cxs: Int32Array;
  oxStart: number;
  oxEnd: number;
  /** Offsets of the R, G, B values of output pixel 0, and the step between pixels. */
  oR: number;
  oG: number;
  oB: number;
  step: number;
}

function plan(frame: I420Frame, spec: InputSpec, batchIndex: number): Plan {
  const { width: W, height: H } = frame;
  const OW = spec.width;
  const t = transformFor(W, H, spec);
  const x0s = new Int32Array(OW);
  const x1s = new Int32Array(OW);
  const fxs = new Int32Array(OW);
  const cxs = new Int32Array(OW);
  let oxStart = OW;
  let oxEnd = 0;
  for (let ox = 0; ox < OW; ox++) {
    const sx = (ox + 0.5 - t.padX) / t.scaleX - 0.5;
    if (sx >= -0.5 && sx <= W - 0.5) {
      oxStart = Math.min(oxStart, ox);
      oxEnd = ox + 1;
    }
    const x0 = Math.max(0, Math.min(W - 1, Math.floor(sx)));
    x0s[ox] = x0;
    x1s[ox] = Math.min(W - 1, x0 + 1);
    fxs[ox] = Math.round(Math.min(1, Math.max(0, sx - x0)) * 256);
    cxs[ox] = Math.min(W - 1, Math.max(0, Math.round(sx))) >> 1;
  }
  const n = OW * spec.height;
  const base = batchIndex * n * 3;
  const nchw = spec.layout === 'nchw';
  const [ri, gi, bi] = spec.channels === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const unit = nchw ? n : 1;
  return { t, x0s, x1s, fxs, cxs, oxStart, oxEnd, oR: base + ri * unit, oG: base + gi * unit, oB: base + bi * unit, step: nchw ? 1 : 3 };
}

/**
 * One pass from an I420 frame into slot `batchIndex` of a model input tensor: resize (bilinear luma, nearest chroma)
 * or letterbox, BT.601 limited-range YUV → RGB in fixed point, channel order, layout, normalisation by table
 * lookup, and dtype. Float and uint8 outputs have their own loop, so each stays monomorphic.
 */
export function i420ToTensor(frame: I420Frame, spec: InputSpec, out: Float32Array | Uint8Array, batchIndex = 0): FrameTransform {
  const p = plan(frame, spec, batchIndex);
  if (spec.dtype === 'uint8') fill(frame, spec, p, out as Uint8Array, IDENTITY, IDENTITY, IDENTITY);
  else {
    const [lr, lg, lb] = luts(spec.mean, spec.std);
    fill(frame, spec, p, out as Float32Array, lr, lg, lb);
  }
  return p.t;
}

/** The pixel loop, written once; called with a Float32Array or a Uint8Array (V8 keeps a version per kind). */
function fill<T extends Float32Array | Uint8Array>(
  frame: I420Frame,
  spec: InputSpec,
  p: Plan,
  out: T,
  lr: Float32Array,
  lg: Float32Array,
  lb: Float32Array,
): void {
  const { width: W, height: H, data } = frame;
  const { width: OW, height: OH } = spec;
  const { t, x0s, x1s, fxs, cxs, oxStart, oxEnd, oR, oG, oB, step } = p;
  const pad = Math.max(0, Math.min(255, Math.round(spec.pad)));
  const padR = lr[pad]!;
  const padG = lg[pad]!;
  const padB = lb[pad]!;
  const cw = (W + 1) >> 1;
  const uOff = W * H;
  const vOff = uOff + cw * ((H + 1) >> 1);
  for (let oy = 0; oy < OH; oy++) {
    const sy = (oy + 0.5 - t.padY) / t.scaleY - 0.5;
    const rowInside = sy >= -0.5 && sy <= H - 0.5 && oxStart < oxEnd;
    const from = rowInside ? oxStart : OW;
    const to = rowInside ? oxEnd : OW;
    let q = oy * OW * step;
    for (let ox = 0; ox < from; ox++, q += step) {
      out[oR + q] = padR;
      out[oG + q] = padG;
      out[oB + q] = padB;
    }
    if (rowInside) {
      const y0 = Math.max(0, Math.min(H - 1, Math.floor(sy)));
      const y1 = Math.min(H - 1, y0 + 1);
      const fy = Math.round(Math.min(1, Math.max(0, sy - y0)) * 256);
      const r0 = y0 * W;
      const r1 = y1 * W;
      const cRow = (Math.min(H - 1, Math.max(0, Math.round(sy))) >> 1) * cw;
      for (let ox = from; ox < to; ox++, q += step) {
        const x0 = x0s[ox]!;
        const x1 = x1s[ox]!;
        const fx = fxs[ox]!;
        const top = data[r0 + x0]! * (256 - fx) + data[r0 + x1]! * fx;
        const bot = data[r1 + x0]! * (256 - fx) + data[r1 + x1]! * fx;
        const yy = Y_TAB[(top * (256 - fy) + bot * fy + 32768) >> 16]!;
        const ci = cRow + cxs[ox]!;
        const u = data[uOff + ci]!;
        const v = data[vOff + ci]!;
        let r = (yy + RV_TAB[v]! + 32768) >> 16;
        let g = (yy - GU_TAB[u]! - GV_TAB[v]! + 32768) >> 16;
        let b = (yy + BU_TAB[u]! + 32768) >> 16;
        r = r < 0 ? 0 : r > 255 ? 255 : r;
        g = g < 0 ? 0 : g > 255 ? 255 : g;
        b = b < 0 ? 0 : b > 255 ? 255 : b;
        out[oR + q] = lr[r]!;
        out[oG + q] = lg[g]!;
        out[oB + q] = lb[b]!;
      }
      for (let ox = to; ox < OW; ox++, q += step) {
        out[oR + q] = padR;
        out[oG + q] = padG;
        out[oB + q] = padB;
      }
    }
  }
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
