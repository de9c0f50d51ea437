import type { Anchor } from './anchors.js';

/** A face in normalised input coordinates (0..1 of the square model input). */
export interface NormalisedFace {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

/** Raw BlazeFace outputs: score logits and 16-value regressions for each of the two anchor groups. */
export interface BlazeFaceOutputs {
  scores: [Float32Array, Float32Array];
  boxes: [Float32Array, Float32Array];
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, v))));

/**
 * Turns raw outputs into faces: sigmoid scores above `minScore`, boxes decoded against the anchors
 * (MediaPipe's TensorsToDetections with x/y/w/h scale = input size), then weighted NMS.
 */
export function decodeBlazeFace(out: BlazeFaceOutputs, anchors: readonly Anchor[], inputSize: number, minScore: number, iouThreshold = 0.3): NormalisedFace[] {
  const candidates: NormalisedFace[] = [];
  let base = 0;
  for (let g = 0; g < 2; g++) {
    const scores = out.scores[g]!;
    const regs = out.boxes[g]!;
    for (let i = 0; i < scores.length; i++) {
      const score = sigmoid(scores[i]!);
      if (score < minScore) continue;
      const a = anchors[base + i]!;
      const r = i * 16;
      const cx = regs[r]! / inputSize + a.cx;
      const cy = regs[r + 1]! / inputSize + a.cy;
      const w = regs[r + 2]! / inputSize;
      const h = regs[r + 3]! / inputSize;
      if (!(w > 0 && h > 0)) continue;
      candidates.push({ x: cx - w / 2, y: cy - h / 2, w, h, score });
    }
    base += scores.length;
  }
  return weightedNms(candidates, iouThreshold);
}

export function iou(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MediaPipe's WEIGHTED non-max suppression: each cluster of boxes overlapping the best remaining one by more than
 * `iouThreshold` becomes one box, the score-weighted mean of the cluster, with the best score.
 */
export function weightedNms(faces: NormalisedFace[], iouThreshold: number): NormalisedFace[] {
  const remaining = [...faces].sort((a, b) => b.score - a.score);
  const kept: NormalisedFace[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const cluster: NormalisedFace[] = [];
    const rest: NormalisedFace[] = [];
    for (const f of remaining) (iou(best, f) > iouThreshold ? cluster : rest).push(f);
    let sw = 0;
    let x = 0;
    let y = 0;
    let w = 0;
    let h = 0;
    for (const f of cluster) {
      sw += f.score;
      x += f.x * f.score;
      y += f.y * f.score;
      w += f.w * f.score;
      h += f.h * f.score;
    }
    kept.push({ x: x / sw, y: y / sw, w: w / sw, h: h / sw, score: best.score });
    remaining.length = 0;
    remaining.push(...rest);
  }
  return kept;
}
