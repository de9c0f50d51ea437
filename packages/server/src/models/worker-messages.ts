import type { Device, ModelInfo, ModelSpec } from './adapters/model-info.js';
import type { ItemOutput, RunItem, StageTimes } from './model-io.js';

/** Data an inference worker starts with. */
export interface WorkerInit {
  models: ModelSpec[];
  intraOpNumThreads: number;
  device: Device;
  /** Largest batch for models with a dynamic batch dimension. */
  maxBatch: number;
}

/** One batch for one model; the frames' buffers are transferred. */
export interface RunRequest {
  model: string;
  items: RunItem[];
}

/** A tensor between threads: its bytes are transferred. */
export interface RawTensor {
  name: string;
  /** onnxruntime's element type (`float32`, `uint8`, `int64`…). */
  type: string;
  dims: number[];
  data: ArrayBuffer;
}

/** Client tensors for the graph alone (`sightline infer-server`): no pre-processing, no decoding. */
export interface RawRequest {
  kind: 'raw';
  model: string;
  inputs: RawTensor[];
}

export interface RawAnswer {
  kind: 'raw';
  outputs: RawTensor[];
  inferenceMs: number;
}

/** A batch's outputs, one per item in order, and where its time went. */
export interface RunAnswer {
  outputs: ItemOutput[];
  /** The whole batch in the worker: preprocessing, model and decoding. */
  inferenceMs: number;
  stages: StageTimes;
}

/** The inference worker's messages (see workers/worker-protocol.ts for the envelope). */
export interface InferenceProtocol {
  init: WorkerInit;
  ready: { models: ModelInfo[] };
  request: RunRequest | RawRequest;
  answer: RunAnswer | RawAnswer;
  /** Fault injection for tests and operators: die on the next batch, as an uncaught error would. */
  notice: { type: 'crash' };
  event: never;
}
