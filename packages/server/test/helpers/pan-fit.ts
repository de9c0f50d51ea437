import { CLIP, faceInClipFrame, onClipFace } from './clip.js';

/**
 * Checking results against the pan clip (test/helpers/clip.ts): whether the box of each result sits where the pan puts
 * the face in the frame its frame_id names, allowing for the frames a browser's camera delivered that its sender skipped.
 */

/** A box centre this far (clip pixels) from the pan position of its frame counts as off the face. */
export const PAN_TOLERANCE_PX = 6;

export type Box = { class: string; score: number; box: [number, number, number, number] };
export type Result = { frame_id: number; boxes: Box[]; width: number; height: number; rtp_timestamp?: number };
/** Centre of a box, in clip pixels (a result's box is in pixels of the frame as received, often scaled down). */
function centre(r: Result): [number, number] {
  const k = CLIP.width / r.width;
  const [x, y, w, h] = r.boxes[0]!.box;
  return [(x + w / 2) * k, (y + h / 2) * k];
}

/** Centre of the face in frame `i` of the looping clip. */
function faceCentre(i: number): [number, number] {
  const f = faceInClipFrame(((i % CLIP.frames) + CLIP.frames) % CLIP.frames);
  return [f.x + f.w / 2, f.y + f.h / 2];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Offsets (clip frames) the boxes are fitted at: the clip loops. */
const OFFSETS = [...Array<number>(CLIP.frames).keys()];
/** Results on each side of a result whose fit it is checked against (half a second). */
const SIDE = 15;

export interface PanFit {
  /** Results with one face box within PAN_TOLERANCE_PX of the pan position of their frame_id (see panFit). */
  onPan: number;
  /** The detector's constant offset from the hand-measured face centre, px. */
  bias: [number, number];
  /** Frames the clip moved past frame_id over the run (the sender skipped them): last fitted offset − first. */
  slip: number;
  /** The same check with one offset for the whole run: its share, and the offset. */
  onPanOneOffset: number;
  oneOffset: number;
}

/**
 * Whether each result's box sits where the pan puts the face in the frame its frame_id names.
 *
 * Chromium's fake camera loops the clip from wherever it was when the track started sending, so frame_id k shows clip
 * frame k + offset (mod 180) for an offset found by fitting. And the offset is not constant: frame_id numbers the
 * frames the sender sent (ndc numbers frames lost in the network too), while the clip advances once per frame the
 * camera delivered, and a loaded Chromium skips some of those before encoding (seen: 18 frames in 15 s in a run
 * where the server lost no frame, so numbered each frame it got +1; one offset for the run then fitted 52 % of the
 * results). So each result is checked against the offset that fits the results just before it, or just after it
 * (SIDE results each way, the result included): a slip between two results is then no error, while a corrupted
 * picture — a box elsewhere, no box, or the box of another frame than frame_id says — fits neither side (checked by
 * hand: 39 results made wrong in a run, boxes moved 15 px or frame_id + 12, took it from 100 % to 92 %).
 * The detector's box centre sits a few pixels off the hand-measured face, the same in every frame: that bias is the
 * median over 1 s chunks of their best fit, and is taken off.
 */
export function panFit(results: Result[]): PanFit {
  const boxed = results.filter((r) => r.boxes.length === 1 && r.boxes[0]!.class === 'face');
  if (boxed.length < 2 * SIDE) return { onPan: 0, bias: [NaN, NaN], slip: NaN, onPanOneOffset: 0, oneOffset: NaN };
  const delta = (r: Result, offset: number): [number, number] => {
    const c = centre(r);
    const f = faceCentre(r.frame_id + offset);
    return [c[0] - f[0], c[1] - f[1]];
  };
  // The bias: each 30-result chunk at its best offset, with its own median.
  const chunkBiases: Array<[number, number]> = [];
  for (let a = 0; a + 30 <= boxed.length; a += 30) {
    const chunk = boxed.slice(a, a + 30);
    let best: { mean: number; bias: [number, number] } = { mean: Infinity, bias: [NaN, NaN] };
    for (const o of OFFSETS) {
      const d = chunk.map((r) => delta(r, o));
      const bias: [number, number] = [median(d.map((e) => e[0])), median(d.map((e) => e[1]))];
      const mean = d.reduce((s, e) => s + Math.hypot(e[0] - bias[0], e[1] - bias[1]), 0) / d.length;
      if (mean < best.mean) best = { mean, bias };
    }
    chunkBiases.push(best.bias);
  }
  const bias: [number, number] = [median(chunkBiases.map((b) => b[0])), median(chunkBiases.map((b) => b[1]))];
  // err[o][i]: result i's distance from the pan at offset o; prefix sums for window means.
  const err = OFFSETS.map((o) =>
    boxed.map((r) => {
      const d = delta(r, o);
      return Math.hypot(d[0] - bias[0], d[1] - bias[1]);
    }),
  );
  const prefix = err.map((row) => row.reduce<number[]>((acc, e) => (acc.push(acc.at(-1)! + e), acc), [0]));
  const bestOffset = (a: number, b: number) => {
    let best = 0;
    for (const o of OFFSETS) if (prefix[o]![b + 1]! - prefix[o]![a]! < prefix[best]![b + 1]! - prefix[best]![a]!) best = o;
    return best;
  };
  let onPan = 0;
  for (let i = 0; i < boxed.length; i++) {
    const before = bestOffset(Math.max(0, i - SIDE), i);
    const after = bestOffset(i, Math.min(boxed.length - 1, i + SIDE));
    if (Math.min(err[before]![i]!, err[after]![i]!) <= PAN_TOLERANCE_PX) onPan++;
  }
  const wrap = (d: number) => ((((d + CLIP.frames / 2) % CLIP.frames) + CLIP.frames) % CLIP.frames) - CLIP.frames / 2;
  let slip = 0;
  let previous = bestOffset(0, 29);
  for (let a = 30; a + 30 <= boxed.length; a += 30) {
    const o = bestOffset(a, a + 29);
    slip += wrap(o - previous);
    previous = o;
  }
  const oneOffset = bestOffset(0, boxed.length - 1);
  return { onPan, bias, slip, onPanOneOffset: err[oneOffset]!.filter((e) => e <= PAN_TOLERANCE_PX).length, oneOffset };
}

export const onFaceCount = (results: Result[]) =>
  results.filter((r) => r.boxes.length === 1 && r.boxes[0]!.class === 'face' && onClipFace(r.boxes[0]!.box, r.width)).length;
