import { decodeSsd } from '../detections.js';
import type { InputSpec } from '../preprocess.js';
import { Match, type Adapter, type OutputDecoder } from './adapter.js';
import { f32, toFrame } from './decode-helpers.js';

/** TensorFlow-style SSD: outputs named like boxes, scores, classes (and a count); stretched RGB in [-1, 1]. */
export const ssd: Adapter<'ssd'> = {
  name: 'ssd',
  kind: 'detector',
  detect({ outputs }) {
    const names = outputs.map((o) => o.name);
    return names.some((n) => /box/i.test(n)) && names.some((n) => /score/i.test(n)) ? Match.outputNames : 0;
  },
  inputSpec(input) {
    return {
      width: input.width ?? 300,
      height: input.height ?? 300,
      layout: input.layout,
      channels: 'rgb',
      dtype: input.dtype,
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      resize: 'stretch',
      pad: 0,
    };
  },
  decoder({ outputs, labels, input, file }) {
    const find = (re: RegExp): string | undefined => outputs.find((o) => re.test(o.name))?.name;
    const boxes = find(/box/i);
    const scores = find(/score/i);
    const classes = find(/class|label/i);
    if (!boxes || !scores || !classes) {
      throw new Error(`${file}: the ssd adapter needs outputs named like boxes, scores and classes (found ${outputs.map((o) => o.name).join(', ')})`);
    }
    return ssdDecoder({ boxes, scores, classes, count: find(/num/i) }, labels, input);
  },
};

interface SsdOutputs {
  boxes: string;
  scores: string;
  classes: string;
  count?: string | undefined;
}

function ssdDecoder(names: SsdOutputs, labels: string[] | null, input: Pick<InputSpec, 'width' | 'height'>): OutputDecoder {
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
