import type { Tensor } from 'onnxruntime-node';
import { blazeFaceAnchors } from '../blazeface/anchors.js';
import { decodeBlazeFace } from '../blazeface/decode.js';
import { decodeClassifier, decodeSsd, decodeYoloEndToEnd, decodeYoloV5, decodeYoloV8, type DecodeParams, type RawDetection } from '../detections.js';
import { boxToFrame, type FrameTransform, type InputSpec } from '../preprocess.js';
import type { Detection, ItemOutput } from '../worker-messages.js';

/** Turns one batch item's outputs into detections (frame pixels) or labels. */
export interface OutputDecoder {
  decode(outputs: Record<string, Tensor>, b: number, t: FrameTransform, frame: { width: number; height: number }, p: DecodeParams): ItemOutput;
}

const labelOf = (labels: readonly string[] | null, id: number): string => labels?.[id] ?? String(id);

function toFrame(raw: RawDetection[], labels: readonly string[] | null, t: FrameTransform, frame: { width: number; height: number }): Detection[] {
  return raw.map((d) => ({
    label: labelOf(labels, d.classId),
    classId: d.classId,
    score: d.score,
    ...boxToFrame(d.x1, d.y1, d.x2, d.y2, t, frame.width, frame.height),
  }));
}

const f32 = (t: Tensor | undefined, what: string): Float32Array => {
  if (!t) throw new Error(`model output ${what} missing`);
  if (t.type !== 'float32') throw new Error(`model output ${what} is ${t.type}; float32 expected`);
  return t.data as Float32Array;
};

/** YOLO: the layout is read from the output's actual dims at each run (exports may leave them symbolic). */
export function yoloDecoder(outputName: string, labels: string[] | null): OutputDecoder {
  return {
    decode(outputs, b, t, frame, p) {
      const out = outputs[outputName];
      const data = f32(out, outputName);
      const [, d1, d2] = out!.dims as [number, number, number];
      let raw: RawDetection[];
      if (d2 === 6 && d1 <= 1000 && d1 !== 6) raw = decodeYoloEndToEnd(data, b, d1, p);
      else if (d1 < d2) raw = decodeYoloV8(data, b, d1, d2, p);
      else raw = decodeYoloV5(data, b, d1, d2, p);
      return { detections: toFrame(raw, labels, t, frame) };
    },
  };
}

export interface SsdOutputs {
  boxes: string;
  scores: string;
  classes: string;
  count?: string | undefined;
}

export function ssdDecoder(names: SsdOutputs, labels: string[] | null, input: Pick<InputSpec, 'width' | 'height'>): OutputDecoder {
  return {
    decode(outputs, b, t, frame, p) {
      const boxes = outputs[names.boxes];
      const k = (boxes?.dims[1] as number | undefined) ?? 0;
      const classes = outputs[names.classes];
      if (!classes) throw new Error(`model output ${names.classes} missing`);
      const count = names.count ? Number((outputs[names.count]?.data as ArrayLike<number | bigint> | undefined)?.[b] ?? k) : undefined;
      const raw = decodeSsd(
        f32(boxes, names.boxes),
        f32(outputs[names.scores], names.scores),
        classes.data as Float32Array | Int32Array | BigInt64Array,
        count,
        b,
        k,
        input.width,
        input.height,
        p,
      );
      return { detections: toFrame(raw, labels, t, frame) };
    },
  };
}

export function classifierDecoder(outputName: string, labels: string[] | null): OutputDecoder {
  return {
    decode(outputs, b, _t, _frame, p) {
      const out = outputs[outputName];
      const C = out?.dims[1] as number;
      const top = decodeClassifier(f32(out, outputName), b, C, p);
      return { detections: [], labels: top.map((l) => ({ label: labelOf(labels, l.classId), classId: l.classId, score: l.score })) };
    },
  };
}

/** BlazeFace: sigmoid scores over 896 anchors, weighted NMS; boxes normalised to the square input. */
export function blazeFaceDecoder(size: number): OutputDecoder {
  const anchors = blazeFaceAnchors();
  return {
    decode(outputs, b, t, frame, p) {
      if (b !== 0) throw new Error('BlazeFace runs one frame at a time');
      const faces = decodeBlazeFace(
        {
          scores: [f32(outputs['Identity:0'], 'Identity:0'), f32(outputs['Identity_1:0'], 'Identity_1:0')],
          boxes: [f32(outputs['Identity_2:0'], 'Identity_2:0'), f32(outputs['Identity_3:0'], 'Identity_3:0')],
        },
        anchors,
        size,
        p.minScore,
      );
      const raw = faces
        .slice(0, p.maxDet)
        .map((f) => ({ x1: f.x * size, y1: f.y * size, x2: (f.x + f.w) * size, y2: (f.y + f.h) * size, score: f.score, classId: 0 }));
      return { detections: toFrame(raw, ['face'], t, frame) };
    },
  };
}
