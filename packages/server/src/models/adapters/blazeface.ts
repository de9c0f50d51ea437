import { blazeFaceAnchors } from '../blazeface/anchors.js';
import { decodeBlazeFace } from '../blazeface/decode.js';
import { Match, type Adapter, type OutputDecoder } from './adapter.js';
import { f32, toFrame } from './decode-helpers.js';

/** MediaPipe BlazeFace as converted by PINTO0309/keijiro: NHWC float input in [-1, 1], four Identity outputs. */
export const blazeface: Adapter<'blazeface'> = {
  name: 'blazeface',
  kind: 'detector',
  labels: ['face'],
  detect({ inputs, outputs }) {
    const names = outputs.map((o) => o.name);
    return outputs.length === 4 && names.includes('Identity_3:0') && inputs[0]?.name === 'input:0' ? Match.signature : 0;
  },
  inputSpec(input) {
    return {
      width: input.width ?? 128,
      height: input.height ?? 128,
      layout: 'nhwc',
      channels: 'rgb',
      dtype: 'float32',
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      resize: 'letterbox',
      pad: 127.5,
    };
  },
  decoder({ input }) {
    return blazeFaceDecoder(input.width);
  },
};

/** Sigmoid scores over 896 anchors, weighted NMS; boxes normalised to the square input. */
function blazeFaceDecoder(size: number): OutputDecoder {
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
