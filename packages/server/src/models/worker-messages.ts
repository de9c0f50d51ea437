import type { I420Frame } from './i420.js';
import type { ModelSpec } from './model-catalog.js';

/** Data a worker starts with. */
export interface WorkerInit {
  models: ModelSpec[];
  intraOpNumThreads: number;
}

/** What a model run returns: detections in frame pixels. */
export interface Detection {
  label: string;
  score: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface RunOutput {
  detections: Detection[];
  inferenceMs: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: 'run'; id: number; model: string; frame: I420Frame; minScore: number }
  /** Finish the current run, release the models, exit. */
  | { type: 'close' }
  /** Fault injection for tests and operators: fail as an uncaught error would, between runs. */
  | { type: 'crash' };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready'; models: string[] }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; output: RunOutput }
  | { type: 'error'; id: number; message: string };
