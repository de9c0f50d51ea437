/** The VAD worker's messages (see workers/worker-protocol.ts for the envelope). */

export interface VadWorkerInit {
  modelPath: string;
  /** Most windows (of different streams) in one model run. */
  maxBatch: number;
}

export interface VadProtocol {
  init: VadWorkerInit;
  ready: null;
  /** One 512-sample 16 kHz window of `stream` (its buffer transferred); answered in order per stream. */
  request: { stream: number; samples: Float32Array };
  /** The window's speech probability. */
  answer: number;
  /** The stream is gone: drop its state and queued windows (they are not answered). */
  notice: { type: 'end'; stream: number };
  /** One model run: how many windows, and how long it took. */
  event: { windows: number; modelMs: number };
}
