import type { Tensor } from 'onnxruntime-node';
import type { DecodeParams } from '../detections.js';
import type { ItemOutput } from '../model-io.js';
import type { FrameTransform, InputSpec } from '../preprocess.js';

/** A model input or output as onnxruntime describes it. */
export interface ValueInfo {
  name: string;
  shape: Array<number | string>;
  type: string;
}

/** What adapter detection looks at. */
export interface ModelFacts {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** The model's metadata_props (Ultralytics: task, imgsz, names). */
  meta: Record<string, string>;
}

/** How surely a model is an adapter's, strongest first; `detect` returns 0 for "not mine". */
export const Match = {
  /** Input and output names no other layout has. */
  signature: 4,
  /** The model says what it is (Ultralytics' `task`). */
  metadata: 3,
  /** Output names suggest it. */
  outputNames: 2,
  /** Only the output count and rank fit. */
  outputShape: 1,
} as const;

/** The image input, read from its shape: layout, fixed size (undefined where symbolic), element type. */
export interface ImageInput {
  name: string;
  layout: 'nchw' | 'nhwc';
  width: number | undefined;
  height: number | undefined;
  dtype: 'float32' | 'uint8';
}

/** Turns one batch item's outputs into detections (frame pixels) or labels. */
export interface OutputDecoder {
  decode(outputs: Record<string, Tensor>, b: number, t: FrameTransform, frame: { width: number; height: number }, p: DecodeParams): ItemOutput;
}

/** What a decoder is made from. */
export interface DecoderSource {
  outputs: ValueInfo[];
  /** From `--labels` or the model's metadata. */
  labels: string[] | null;
  input: InputSpec;
  /** For errors. */
  file: string;
}

/**
 * One output format. A new one is a file exporting an `Adapter`, listed in `registry.ts`; everything else (loading,
 * batching, preprocessing) is shared by OnnxModel.
 */
export interface Adapter<Name extends string = string> {
  readonly name: Name;
  readonly kind: 'detector' | 'classifier';
  /** How surely this model is this adapter's: a `Match` rank, or 0. The highest rank among adapters wins. */
  detect(model: ModelFacts): number;
  /** The input tensor it feeds: the model's size where fixed (else its default), normalisation, resize. */
  inputSpec(input: ImageInput, meta: Record<string, string>): InputSpec;
  /** Its decoder for this model's outputs; throws, naming the file, when they do not fit. */
  decoder(source: DecoderSource): OutputDecoder;
  /** Labels it reports whatever the model says (BlazeFace: face). */
  readonly labels?: string[];
}

/** Reads the image input (rank 4, float32 or uint8); NHWC when the last dimension is 3 or the shape says so. */
export function readImageInput(input: ValueInfo): ImageInput {
  const s = input.shape;
  const nhwc = s[3] === 3 || (s[1] !== 3 && s[3] !== undefined && typeof s[1] !== 'number');
  const [h, w] = nhwc ? [s[1], s[2]] : [s[2], s[3]];
  if (input.type !== 'uint8' && input.type !== 'float32') throw new Error(`input ${input.name} is ${input.type}; float32 or uint8 supported`);
  return { name: input.name, layout: nhwc ? 'nhwc' : 'nchw', width: fixed(w), height: fixed(h), dtype: input.type };
}

const fixed = (v: number | string | undefined): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
