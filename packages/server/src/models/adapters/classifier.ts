import { decodeClassifier } from '../detections.js';
import { Match, type Adapter, type OutputDecoder } from './adapter.js';
import { f32, labelOf } from './decode-helpers.js';

const IMAGENET_MEAN = [123.675, 116.28, 103.53] as const;
const IMAGENET_STD = [58.395, 57.12, 57.375] as const;

/** Image classifiers: one [N, classes] output; stretched RGB with ImageNet statistics. */
export const classifier: Adapter<'classifier'> = {
  name: 'classifier',
  kind: 'classifier',
  detect({ outputs, meta }) {
    if (meta.task === 'classify') return Match.metadata;
    return outputs.length === 1 && outputs[0]!.shape.length === 2 ? Match.outputShape : 0;
  },
  inputSpec(input) {
    return {
      width: input.width ?? 224,
      height: input.height ?? 224,
      layout: input.layout,
      channels: 'rgb',
      dtype: input.dtype,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      resize: 'stretch',
      pad: 0,
    };
  },
  decoder({ outputs, labels }) {
    return classifierDecoder(outputs[0]!.name, labels);
  },
};

function classifierDecoder(outputName: string, labels: string[] | null): OutputDecoder {
  return {
    decode(outputs, b, _t, _frame, p) {
      const out = outputs[outputName];
      const C = out?.dims[1] as number;
      const top = decodeClassifier(f32(out, outputName), b, C, p);
      return { detections: [], labels: top.map((l) => ({ label: labelOf(labels, l.classId), classId: l.classId, score: l.score })) };
    },
  };
}
