import type { DecodeParams } from './detections.js';
import type { I420Frame } from './i420.js';
import type { ModelInfo, ModelSpec } from './adapters/model-info.js';
import type { StageTimes } from './adapters/onnx-model.js';

/** Data a worker starts with. */
export interface WorkerInit {
  models: ModelSpec[];
  intraOpNumThreads: number;
  device: Device;
  /** Largest batch for models with a dynamic batch dimension. */
  maxBatch: number;
}

export type Device = 'cpu' | 'cuda' | 'tensorrt';

/** A detection in frame pixels. */
export interface Detection {
  label: string;
  classId: number;
  score: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What a model returns for one frame. */
export interface ItemOutput {
  detections: Detection[];
  /** Classifiers: top-k labels. */
  labels?: Array<{ label: string; classId: number; score: number }>;
}

export interface RunItem {
  frame: I420Frame;
  params: DecodeParams;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: 'run'; id: number; model: string; items: RunItem[] }
  /** Finish the current run, release the models, exit. */
  | { type: 'close' }
  /** Fault injection for tests and operators: die on the next batch, as an uncaught error would. */
  | { type: 'crash' };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready'; models: ModelInfo[] }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; outputs: ItemOutput[]; inferenceMs: number; stages: StageTimes }
  | { type: 'error'; id: number; message: string };
