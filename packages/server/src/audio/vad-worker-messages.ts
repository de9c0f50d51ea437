/** Messages between the VAD worker thread and `VadRunner`. */

export interface VadWorkerInit {
  modelPath: string;
  /** Most windows (of different streams) in one model run. */
  maxBatch: number;
}

export type ToVadWorker =
  /** One 512-sample window of `stream` (its buffer transferred); answered in order per stream. */
  | { type: 'window'; stream: number; seq: number; samples: Float32Array }
  /** The stream is gone: drop its state and queued windows (they are not answered). */
  | { type: 'end'; stream: number }
  /** Finish the current run, release the model, exit. */
  | { type: 'close' };

export type FromVadWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  /** One model run: a probability per window, and how long the run took. */
  | { type: 'probs'; results: Array<{ stream: number; seq: number; prob: number }>; modelMs: number }
  | { type: 'error'; results: Array<{ stream: number; seq: number }>; message: string };
