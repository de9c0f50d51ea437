import type { Tensor } from 'onnxruntime-node';
import type { RawDetection } from '../detections.js';
import type { Detection } from '../model-io.js';
import { boxToFrame, type FrameTransform } from '../preprocess.js';

/** Shared by the adapters' decoders. */

export const labelOf = (labels: readonly string[] | null, id: number): string => labels?.[id] ?? String(id);

/** Detections in input pixels → frame pixels, with their labels. */
export function toFrame(raw: RawDetection[], labels: readonly string[] | null, t: FrameTransform, frame: { width: number; height: number }): Detection[] {
  return raw.map((d) => ({
    label: labelOf(labels, d.classId),
    classId: d.classId,
    score: d.score,
    ...boxToFrame(d.x1, d.y1, d.x2, d.y2, t, frame.width, frame.height),
  }));
}

/** A float32 output's data; a clear error when it is missing or of another type. */
export function f32(t: Tensor | undefined, what: string): Float32Array {
  if (!t) throw new Error(`model output ${what} missing`);
  if (t.type !== 'float32') throw new Error(`model output ${what} is ${t.type}; float32 expected`);
  return t.data as Float32Array;
}
