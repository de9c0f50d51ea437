/** A detection in input pixels (corners), before mapping back to the frame. */
export interface RawDetection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

/** Decode parameters a session chooses (validated by its processor's schema). */
export interface DecodeParams {
  minScore: number;
  /** IoU above which NMS suppresses a box of the same class. */
  iou: number;
  maxDet: number;
  /** Keep only these class ids (undefined: all). */
  classIds?: readonly number[] | undefined;
  /** Classifiers: how many labels. */
  topK: number;
}

export const DEFAULT_DECODE: DecodeParams = { minScore: 0.25, iou: 0.45, maxDet: 100, topK: 5 };

export function iouCorners(a: RawDetection, b: RawDetection): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy per-class NMS, best first, at most `maxDet` kept. */
export function nmsPerClass(dets: RawDetection[], iou: number, maxDet: number): RawDetection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: RawDetection[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDet) break;
    let suppressed = false;
    for (const k of kept) {
      if (k.classId === d.classId && iouCorners(k, d) > iou) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(d);
  }
  return kept;
}

const classAllowed = (p: DecodeParams, c: number): boolean => p.classIds === undefined || p.classIds.includes(c);

/**
 * Ultralytics YOLOv8/11 detect head: `[N, 4+C, A]`, class-major, rows cx, cy, w, h (input pixels) then C class
 * scores, no objectness. `data` is the whole output; `b` the batch index.
 */
export function decodeYoloV8(data: Float32Array, b: number, channels: number, anchors: number, p: DecodeParams): RawDetection[] {
  const C = channels - 4;
  const base = b * channels * anchors;
  const out: RawDetection[] = [];
  for (let a = 0; a < anchors; a++) {
    let best = -Infinity;
    let cls = -1;
    for (let c = 0; c < C; c++) {
      const s = data[base + (4 + c) * anchors + a]!;
      if (s > best && classAllowed(p, c)) {
        best = s;
        cls = c;
      }
    }
    if (cls < 0 || best < p.minScore) continue;
    const cx = data[base + a]!;
    const cy = data[base + anchors + a]!;
    const w = data[base + 2 * anchors + a]!;
    const h = data[base + 3 * anchors + a]!;
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: best, classId: cls });
  }
  return nmsPerClass(out, p.iou, p.maxDet);
}

/** YOLOv5 head: `[N, A, 5+C]`, rows cx, cy, w, h, objectness, C class scores; score = objectness · class. */
export function decodeYoloV5(data: Float32Array, b: number, anchors: number, width: number, p: DecodeParams): RawDetection[] {
  const C = width - 5;
  const base = b * anchors * width;
  const out: RawDetection[] = [];
  for (let a = 0; a < anchors; a++) {
    const r = base + a * width;
    const obj = data[r + 4]!;
    if (obj < p.minScore) continue;
    let best = -Infinity;
    let cls = -1;
    for (let c = 0; c < C; c++) {
      const s = data[r + 5 + c]! * obj;
      if (s > best && classAllowed(p, c)) {
        best = s;
        cls = c;
      }
    }
    if (cls < 0 || best < p.minScore) continue;
    const cx = data[r]!;
    const cy = data[r + 1]!;
    const w = data[r + 2]!;
    const h = data[r + 3]!;
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: best, classId: cls });
  }
  return nmsPerClass(out, p.iou, p.maxDet);
}

/** End-to-end exports (YOLOv10/26, `nms=True`): `[N, K, 6]` rows x1, y1, x2, y2, score, class; no NMS needed. */
export function decodeYoloEndToEnd(data: Float32Array, b: number, k: number, p: DecodeParams): RawDetection[] {
  const base = b * k * 6;
  const out: RawDetection[] = [];
  for (let i = 0; i < k && out.length < p.maxDet; i++) {
    const r = base + i * 6;
    const score = data[r + 4]!;
    const cls = Math.round(data[r + 5]!);
    if (score < p.minScore || !classAllowed(p, cls)) continue;
    out.push({ x1: data[r]!, y1: data[r + 1]!, x2: data[r + 2]!, y2: data[r + 3]!, score, classId: cls });
  }
  return out.sort((x, y) => y.score - x.score);
}

/**
 * SSD (TF/ONNX model-zoo style): boxes `[N, K, 4]` as normalised ymin, xmin, ymax, xmax; scores `[N, K]`;
 * classes `[N, K]`; optional count `[N]`. Returned in input pixels of an `inW` x `inH` input.
 */
export function decodeSsd(
  boxes: Float32Array,
  scores: Float32Array,
  classes: Float32Array | Int32Array | BigInt64Array,
  count: number | undefined,
  b: number,
  k: number,
  inW: number,
  inH: number,
  p: DecodeParams,
): RawDetection[] {
  const n = Math.min(k, count ?? k);
  const out: RawDetection[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores[b * k + i]!;
    const cls = Number(classes[b * k + i]!);
    if (score < p.minScore || !classAllowed(p, cls)) continue;
    const r = (b * k + i) * 4;
    out.push({ x1: boxes[r + 1]! * inW, y1: boxes[r]! * inH, x2: boxes[r + 3]! * inW, y2: boxes[r + 2]! * inH, score, classId: cls });
  }
  return nmsPerClass(out, p.iou, p.maxDet);
}

/** Classifier `[N, C]`: softmax unless the row already is a distribution; top-k above `minScore`. */
export function decodeClassifier(data: Float32Array, b: number, C: number, p: DecodeParams): Array<{ classId: number; score: number }> {
  const row = data.subarray(b * C, (b + 1) * C);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of row) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const isDistribution = min >= 0 && max <= 1 && Math.abs(sum - 1) < 1e-3;
  const probs = new Float32Array(C);
  if (isDistribution) probs.set(row);
  else {
    let z = 0;
    for (let c = 0; c < C; c++) z += probs[c] = Math.exp(row[c]! - max);
    for (let c = 0; c < C; c++) probs[c]! /= z;
  }
  const idx = Array.from({ length: C }, (_, c) => c).filter((c) => classAllowed(p, c) && probs[c]! >= p.minScore);
  idx.sort((a, b2) => probs[b2]! - probs[a]!);
  return idx.slice(0, p.topK).map((c) => ({ classId: c, score: probs[c]! }));
}
