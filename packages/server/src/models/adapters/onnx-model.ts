import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import { parseClassNames, readOnnxMetadata } from '../onnx-metadata.js';
import { i420ToTensor, type InputSpec } from '../preprocess.js';
import type { Device, ItemOutput, RunItem } from '../worker-messages.js';
import type { AdapterName, ModelInfo, ModelSpec, ValueInfo } from './model-info.js';
import { blazeFaceDecoder, classifierDecoder, ssdDecoder, yoloDecoder, type OutputDecoder } from './output-decoders.js';

/** Where a batch's time went. */
export interface StageTimes {
  preprocessMs: number;
  modelMs: number;
  decodeMs: number;
}

export interface LoadOptions {
  device: Device;
  intraOpNumThreads: number;
  maxBatch: number;
}

const IMAGENET_MEAN = [123.675, 116.28, 103.53] as const;
const IMAGENET_STD = [58.395, 57.12, 57.375] as const;

/**
 * One ONNX model in one worker: its session, the input spec and output decoder its adapter chose, and a reusable
 * input buffer sized for its largest batch. `run` preprocesses every frame straight into the batch tensor.
 */
export class OnnxModel {
  readonly info: ModelInfo;
  readonly #session: ort.InferenceSession;
  readonly #spec: InputSpec;
  readonly #decoder: OutputDecoder;
  readonly #inputName: string;
  readonly #buffer: Float32Array | Uint8Array;

  private constructor(info: ModelInfo, session: ort.InferenceSession, spec: InputSpec, decoder: OutputDecoder) {
    this.info = info;
    this.#session = session;
    this.#spec = spec;
    this.#decoder = decoder;
    this.#inputName = info.inputs[0]!.name;
    const n = info.maxBatch * spec.width * spec.height * 3;
    this.#buffer = spec.dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
  }

  static async load(spec: ModelSpec, opts: LoadOptions): Promise<OnnxModel> {
    const bytes = await readFile(spec.file);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: opts.device === 'cpu' ? ['cpu'] : [opts.device === 'tensorrt' ? 'tensorrt' : 'cuda', 'cpu'],
      intraOpNumThreads: opts.intraOpNumThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    const meta = readOnnxMetadata(bytes);
    const inputs = session.inputMetadata.map(valueInfo);
    const outputs = session.outputMetadata.map(valueInfo);
    const adapter = spec.adapter ?? detectAdapter(inputs, outputs, meta, spec.file);
    const labels = spec.labels ?? (meta.names ? parseClassNames(meta.names) : null);
    const input = inputs[0];
    if (!input || input.shape.length !== 4) {
      throw new Error(`${spec.file}: expected one image input of rank 4, found ${JSON.stringify(inputs)}`);
    }
    const dynamicBatch = typeof input.shape[0] !== 'number' || input.shape[0] < 1;
    const maxBatch = dynamicBatch ? Math.max(1, opts.maxBatch) : Number(input.shape[0]);
    const inputSpec = inputSpecFor(adapter, input, meta);
    const decoder = decoderFor(adapter, outputs, labels, inputSpec, spec.file);
    const info: ModelInfo = {
      name: spec.name,
      adapter,
      kind: adapter === 'classifier' ? 'classifier' : 'detector',
      file: basename(spec.file),
      inputs,
      outputs,
      input: {
        width: inputSpec.width,
        height: inputSpec.height,
        layout: inputSpec.layout,
        channels: inputSpec.channels,
        dtype: inputSpec.dtype,
        resize: inputSpec.resize,
      },
      labels: adapter === 'blazeface' ? ['face'] : labels,
      dynamicBatch,
      maxBatch,
      device: opts.device,
    };
    return new OnnxModel(info, session, inputSpec, decoder);
  }

  /** Time spent in each stage of the last `run`, ms. */
  lastStages: StageTimes = { preprocessMs: 0, modelMs: 0, decodeMs: 0 };

  /** Runs a batch (at most `info.maxBatch` items); one output per item, in order. */
  async run(items: RunItem[]): Promise<ItemOutput[]> {
    const n = items.length;
    if (n === 0) return [];
    const t0 = performance.now();
    if (n > this.info.maxBatch) throw new Error(`batch of ${n} exceeds max ${this.info.maxBatch}`);
    const { width, height, layout } = this.#spec;
    const per = width * height * 3;
    const transforms = items.map((it, b) => i420ToTensor(it.frame, this.#spec, this.#buffer, b));
    const dims = layout === 'nchw' ? [n, 3, height, width] : [n, height, width, 3];
    const data = this.#buffer.subarray(0, n * per);
    const tensor = this.#spec.dtype === 'uint8' ? new ort.Tensor('uint8', data as Uint8Array, dims) : new ort.Tensor('float32', data as Float32Array, dims);
    const t1 = performance.now();
    const outputs = await this.#session.run({ [this.#inputName]: tensor });
    const t2 = performance.now();
    const decoded = items.map((it, b) => this.#decoder.decode(outputs, b, transforms[b]!, it.frame, it.params));
    this.lastStages = { preprocessMs: t1 - t0, modelMs: t2 - t1, decodeMs: performance.now() - t2 };
    return decoded;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

function valueInfo(m: ort.InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor ? { name: m.name, shape: [...m.shape], type: m.type } : { name: m.name, shape: [], type: 'non-tensor' };
}

/** Picks an adapter from the model's inputs, outputs and metadata; explains itself when it cannot. */
export function detectAdapter(inputs: ValueInfo[], outputs: ValueInfo[], meta: Record<string, string>, file = 'model'): AdapterName {
  const names = outputs.map((o) => o.name);
  if (outputs.length === 4 && names.includes('Identity_3:0') && inputs[0]?.name === 'input:0') return 'blazeface';
  if (meta.task === 'classify') return 'classifier';
  if (meta.task === 'detect') return 'yolo';
  if (names.some((n) => /box/i.test(n)) && names.some((n) => /score/i.test(n))) return 'ssd';
  if (outputs.length === 1 && outputs[0]!.shape.length === 2) return 'classifier';
  if (outputs.length === 1 && outputs[0]!.shape.length === 3) return 'yolo';
  throw new Error(
    `${file}: cannot tell which adapter fits (outputs ${JSON.stringify(outputs.map((o) => [o.name, o.shape]))}); pass --adapter yolo|ssd|classifier|blazeface`,
  );
}

const dim = (v: number | string | undefined, fallback: number): number => (typeof v === 'number' && v > 0 ? v : fallback);

function imgsz(meta: Record<string, string>): [number, number] | undefined {
  const m = meta.imgsz ? /(\d+)\D+(\d+)/.exec(meta.imgsz) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function inputSpecFor(adapter: AdapterName, input: ValueInfo, meta: Record<string, string>): InputSpec {
  const s = input.shape;
  const nhwc = s[3] === 3 || (s[1] !== 3 && s[3] !== undefined && typeof s[1] !== 'number');
  const layout = nhwc ? 'nhwc' : 'nchw';
  const [hDim, wDim] = nhwc ? [s[1], s[2]] : [s[2], s[3]];
  const dtype = input.type === 'uint8' ? 'uint8' : 'float32';
  if (input.type !== 'uint8' && input.type !== 'float32') throw new Error(`input ${input.name} is ${input.type}; float32 or uint8 supported`);
  switch (adapter) {
    case 'yolo': {
      const [ih, iw] = imgsz(meta) ?? [640, 640];
      return {
        width: dim(wDim, iw),
        height: dim(hDim, ih),
        layout,
        channels: 'rgb',
        dtype,
        mean: [0, 0, 0],
        std: dtype === 'uint8' ? [1, 1, 1] : [255, 255, 255],
        resize: 'letterbox',
        pad: 114,
      };
    }
    case 'ssd':
      return {
        width: dim(wDim, 300),
        height: dim(hDim, 300),
        layout,
        channels: 'rgb',
        dtype,
        mean: [127.5, 127.5, 127.5],
        std: [127.5, 127.5, 127.5],
        resize: 'stretch',
        pad: 0,
      };
    case 'classifier':
      return {
        width: dim(wDim, 224),
        height: dim(hDim, 224),
        layout,
        channels: 'rgb',
        dtype,
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
        resize: 'stretch',
        pad: 0,
      };
    case 'blazeface':
      return {
        width: dim(wDim, 128),
        height: dim(hDim, 128),
        layout: 'nhwc',
        channels: 'rgb',
        dtype: 'float32',
        mean: [127.5, 127.5, 127.5],
        std: [127.5, 127.5, 127.5],
        resize: 'letterbox',
        pad: 127.5,
      };
  }
}

function decoderFor(adapter: AdapterName, outputs: ValueInfo[], labels: string[] | null, spec: InputSpec, file: string): OutputDecoder {
  switch (adapter) {
    case 'yolo':
      if (outputs.length < 1) throw new Error(`${file}: no outputs`);
      return yoloDecoder(outputs[0]!.name, labels);
    case 'classifier':
      return classifierDecoder(outputs[0]!.name, labels);
    case 'blazeface':
      return blazeFaceDecoder(spec.width);
    case 'ssd': {
      const find = (re: RegExp): string | undefined => outputs.find((o) => re.test(o.name))?.name;
      const boxes = find(/box/i);
      const scores = find(/score/i);
      const classes = find(/class|label/i);
      if (!boxes || !scores || !classes) {
        throw new Error(`${file}: the ssd adapter needs outputs named like boxes, scores and classes (found ${outputs.map((o) => o.name).join(', ')})`);
      }
      return ssdDecoder({ boxes, scores, classes, count: find(/num/i) }, labels, spec);
    }
  }
}
