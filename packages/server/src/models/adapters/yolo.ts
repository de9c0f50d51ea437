import { decodeYoloEndToEnd, decodeYoloV5, decodeYoloV8, type RawDetection } from '../detections.js';
import { Match, type Adapter, type OutputDecoder } from './adapter.js';
import { f32, toFrame } from './decode-helpers.js';

/** Ultralytics YOLO (v5, v8 and later, end-to-end): one output, letterboxed RGB input scaled to 0-1. */
export const yolo: Adapter<'yolo'> = {
  name: 'yolo',
  kind: 'detector',
  detect({ outputs, meta }) {
    if (meta.task === 'detect') return Match.metadata;
    return outputs.length === 1 && outputs[0]!.shape.length === 3 ? Match.outputShape : 0;
  },
  inputSpec(input, meta) {
    const [ih, iw] = imgsz(meta) ?? [640, 640];
    return {
      width: input.width ?? iw,
      height: input.height ?? ih,
      layout: input.layout,
      channels: 'rgb',
      dtype: input.dtype,
      mean: [0, 0, 0],
      std: input.dtype === 'uint8' ? [1, 1, 1] : [255, 255, 255],
      resize: 'letterbox',
      pad: 114,
    };
  },
  decoder({ outputs, labels, file }) {
    if (outputs.length < 1) throw new Error(`${file}: no outputs`);
    return yoloDecoder(outputs[0]!.name, labels);
  },
};

/** Ultralytics' `imgsz` metadata: "[640, 480]" → [640, 480] (height, width). */
function imgsz(meta: Record<string, string>): [number, number] | undefined {
  const m = meta.imgsz ? /(\d+)\D+(\d+)/.exec(meta.imgsz) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The layout is read from the output's actual dims at each run (exports may leave them symbolic). */
function yoloDecoder(outputName: string, labels: string[] | null): OutputDecoder {
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
