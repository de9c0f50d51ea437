import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ModelInfo, ModelSpec } from './adapters/model-info.js';
import type { StageTimes } from './adapters/onnx-model.js';
import { BatchQueue } from './batch-queue.js';
import type { DecodeParams } from './detections.js';
import type { I420Frame } from './i420.js';
import type { Device, FromWorker, ItemOutput, RunItem, ToWorker, WorkerInit } from './worker-messages.js';

export interface InferencePoolOptions {
  /** Worker threads; default one per core. */
  size?: number;
  models: readonly ModelSpec[];
  /** onnxruntime intra-op threads per worker; default 1. */
  intraOpNumThreads?: number;
  device?: Device;
  /** Largest cross-session batch for models with a dynamic batch dimension; default 8. */
  maxBatch?: number;
  /** How long a request may wait for a batch to fill while a worker is idle; default 0 (never wait). */
  maxDelayMs?: number;
  /** Requests waiting or in flight before `run()` refuses more; default 16 per worker. */
  maxPending?: number;
  /** How long a worker may take to load its models. */
  startTimeoutMs?: number;
  /** Called when a worker dies (and is being replaced), or a replacement fails to start. */
  onWorkerDied?: (error: Error) => void;
}

/** Thrown by `run()` when the pool refuses work (closed, saturated, or without workers). */
export class PoolUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolUnavailableError';
  }
}

export interface RunResult {
  output: ItemOutput;
  /** The whole batch in the worker: preprocessing, model and decoding. */
  inferenceMs: number;
  /** The batch's stages. */
  stages: StageTimes;
  /** How many frames shared the model run. */
  batchSize: number;
}

/** Batch statistics since start. */
export interface BatchStats {
  batches: number;
  frames: number;
  /** batch size → how many batches had it. */
  sizes: Record<number, number>;
}

interface Request {
  item: RunItem;
  resolve: (r: RunResult) => void;
  reject: (err: Error) => void;
  /** When `run` was called (performance.now()). */
  at: number;
}

/** How loaded the pool is, for admission control and metrics. */
export interface PoolLoad {
  /** Requests waiting for a worker. */
  queued: number;
  /** Waiting plus running. */
  pending: number;
  /** Age of the oldest request still waiting for a worker, ms. */
  oldestQueuedMs: number;
  /**
   * Recent time requests spent waiting (in the pool's queues and behind a worker's running batch), ms: an average
   * over the last runs that decays when none finish. Grows when frames arrive faster than the workers run them.
   */
  waitMs: number;
}

interface InFlight {
  model: string;
  requests: Request[];
}

/** One worker thread and its batches: the one running and at most one queued behind it (no idle gap between). */
class PoolWorker {
  readonly inFlight: InFlight[] = [];
  constructor(readonly worker: Worker) {}
}

/** Batches a worker may hold: one running, one waiting in its message queue. */
const WORKER_DEPTH = 2;

/**
 * The worker entry. Built code runs dist/models/inference-worker.js. Running from TypeScript sources (tests, tsx),
 * worker threads do not get tsx's loader, so a tiny ES module registers it first and then imports the .ts entry.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./inference-worker.js', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./inference-worker.ts', import.meta.url).href;
  const src = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}
const workerUrl = workerEntry();

function startWorker(init: WorkerInit, timeoutMs: number): Promise<{ worker: Worker; models: ModelInfo[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: init });
    const timer = setTimeout(() => {
      cleanup();
      void worker.terminate();
      reject(new Error(`inference worker did not load its models within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'ready') {
        cleanup();
        resolve({ worker, models: m.models });
      } else if (m.type === 'init-error') {
        cleanup();
        reject(new Error(`inference worker failed to load models: ${m.message}`));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`inference worker exited with code ${code} while starting`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * Worker threads that each hold every model, and a scheduler in front of them. Requests queue per model and per
 * session; an idle worker takes a batch of up to `maxBatch` (dynamic-batch models) or one request, round-robin
 * across sessions. Frames are transferred, not copied. A worker that dies fails its in-flight batch with an error
 * (never silently) and is replaced.
 */
export class InferencePool {
  readonly #init: WorkerInit;
  readonly #opts: InferencePoolOptions & { maxPending: number; startTimeoutMs: number; maxDelayMs: number };
  readonly #workers: PoolWorker[] = [];
  readonly #queues = new Map<string, BatchQueue<Request>>();
  readonly #models = new Map<string, ModelInfo>();
  readonly #stats: BatchStats = { batches: 0, frames: 0, sizes: {} };
  readonly #target: number;
  #queued = 0;
  #wait = { ms: 0, at: 0 };
  #nextId = 1;
  #closed = false;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(opts: InferencePoolOptions, size: number) {
    this.#init = { models: [...opts.models], intraOpNumThreads: opts.intraOpNumThreads ?? 1, device: opts.device ?? 'cpu', maxBatch: opts.maxBatch ?? 8 };
    this.#target = size;
    this.#opts = { ...opts, maxPending: opts.maxPending ?? size * 16, startTimeoutMs: opts.startTimeoutMs ?? 60_000, maxDelayMs: opts.maxDelayMs ?? 0 };
  }

  /** Starts every worker; resolves once all have loaded their models. */
  static async create(opts: InferencePoolOptions): Promise<InferencePool> {
    const size = Math.max(1, opts.size ?? availableParallelism());
    const pool = new InferencePool(opts, size);
    const started = await Promise.allSettled(Array.from({ length: size }, () => startWorker(pool.#init, pool.#opts.startTimeoutMs)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') await s.value.worker.terminate();
      throw failed.reason;
    }
    for (const s of started) if (s.status === 'fulfilled') pool.#adopt(s.value.worker, s.value.models);
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  /** The loaded models, as the workers report them. */
  get models(): ModelInfo[] {
    return [...this.#models.values()];
  }

  model(name: string): ModelInfo | undefined {
    return this.#models.get(name);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests waiting or in flight. */
  get pending(): number {
    let n = this.#queued;
    for (const w of this.#workers) for (const b of w.inFlight) n += b.requests.length;
    return n;
  }

  /** Workers replaced after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Current load: queue depth and age, and the recent wait (see PoolLoad). */
  load(): PoolLoad {
    const now = performance.now();
    let oldest = Infinity;
    for (const q of this.#queues.values()) oldest = Math.min(oldest, q.oldest() ?? Infinity);
    // The average fades with a 2 s time constant once runs stop finishing (no traffic: no wait).
    const wait = this.#wait.ms * Math.exp(-(now - this.#wait.at) / 2000);
    return { queued: this.#queued, pending: this.pending, oldestQueuedMs: oldest === Infinity ? 0 : now - oldest, waitMs: Math.max(wait, 0) };
  }

  #noteWait(ms: number, now: number): void {
    const decayed = this.#wait.ms * Math.exp(-(now - this.#wait.at) / 2000);
    this.#wait = { ms: decayed + 0.2 * (Math.max(0, ms) - decayed), at: now };
  }

  get batchStats(): BatchStats {
    return { batches: this.#stats.batches, frames: this.#stats.frames, sizes: { ...this.#stats.sizes } };
  }

  /**
   * Runs `model` on `frame` for `session`. The frame's buffer is transferred to a worker: do not use it afterwards.
   */
  run(model: string, frame: I420Frame, params: DecodeParams, session = ''): Promise<RunResult> {
    if (this.#closed) return Promise.reject(new PoolUnavailableError('inference pool is closed'));
    if (!this.#models.has(model)) return Promise.reject(new Error(`model "${model}" is not loaded`));
    if (this.#workers.length === 0) return Promise.reject(new PoolUnavailableError('no inference worker is running'));
    if (this.pending >= this.#opts.maxPending) {
      return Promise.reject(new PoolUnavailableError(`inference pool saturated (${this.pending} runs pending)`));
    }
    return new Promise<RunResult>((resolve, reject) => {
      let q = this.#queues.get(model);
      if (!q) {
        q = new BatchQueue<Request>();
        this.#queues.set(model, q);
      }
      const at = performance.now();
      q.push(session, { item: { frame, params }, resolve, reject, at }, at);
      this.#queued++;
      this.#pump();
    });
  }

  /**
   * Gives workers batches: idle workers first, then a second batch to a busy one so it starts the next run without
   * waiting for the main thread. A batch is due when full, or when `maxDelayMs` has passed for its oldest request.
   */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    let wakeAt = Infinity;
    const nextDue = (): string | undefined => {
      let chosen: string | undefined;
      let chosenAt = Infinity;
      for (const [name, q] of this.#queues) {
        const oldest = q.oldest();
        if (oldest === undefined) continue;
        const max = this.#models.get(name)!.maxBatch;
        const due = q.size >= max || this.#opts.maxDelayMs <= 0 || now - oldest >= this.#opts.maxDelayMs;
        if (!due) {
          wakeAt = Math.min(wakeAt, oldest + this.#opts.maxDelayMs);
          continue;
        }
        if (oldest < chosenAt) {
          chosen = name;
          chosenAt = oldest;
        }
      }
      return chosen;
    };
    outer: for (let depth = 0; depth < WORKER_DEPTH; depth++) {
      for (const w of this.#workers) {
        if (w.inFlight.length !== depth) continue;
        const model = nextDue();
        if (model === undefined) break outer;
        this.#dispatch(w, model);
      }
    }
    if (wakeAt < Infinity && this.#workers.some((w) => w.inFlight.length === 0)) {
      this.#timer = setTimeout(() => this.#pump(), Math.max(0, wakeAt - now));
    }
  }

  #dispatch(w: PoolWorker, model: string): void {
    const q = this.#queues.get(model)!;
    const requests = q.take(this.#models.get(model)!.maxBatch);
    this.#queued -= requests.length;
    const id = this.#nextId++;
    const batch: InFlight = { model, requests };
    w.inFlight.push(batch);
    this.#stats.batches++;
    this.#stats.frames += requests.length;
    this.#stats.sizes[requests.length] = (this.#stats.sizes[requests.length] ?? 0) + 1;
    const items = requests.map((r) => r.item);
    const transfer: ArrayBuffer[] = [];
    for (const it of items) {
      const d = it.frame.data;
      if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer && !transfer.includes(d.buffer))
        transfer.push(d.buffer);
    }
    const msg: ToWorker = { type: 'run', id, model, items };
    try {
      try {
        w.worker.postMessage(msg, transfer);
      } catch {
        // Some native buffers cannot be detached: fall back to copies.
        w.worker.postMessage({ ...msg, items: items.map((it) => ({ ...it, frame: { ...it.frame, data: it.frame.data.slice() } })) });
      }
    } catch (err) {
      w.inFlight.splice(w.inFlight.indexOf(batch), 1);
      for (const r of requests) r.reject(err instanceof Error ? err : new Error(String(err)));
      queueMicrotask(() => this.#pump());
    }
  }

  #adopt(worker: Worker, models: ModelInfo[]): void {
    for (const m of models) this.#models.set(m.name, m);
    const pw = new PoolWorker(worker);
    this.#workers.push(pw);
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      // The worker answers its batches in order.
      const batch = pw.inFlight.shift();
      if (batch) {
        if (m.type === 'result') {
          const now = performance.now();
          for (const r of batch.requests) this.#noteWait(now - r.at - m.inferenceMs, now);
          batch.requests.forEach((r, i) =>
            r.resolve({ output: m.outputs[i]!, inferenceMs: m.inferenceMs, stages: m.stages, batchSize: batch.requests.length }),
          );
        } else {
          for (const r of batch.requests) r.reject(new Error(m.message));
        }
      }
      this.#pump();
    });
    const died = (err: Error): void => {
      const i = this.#workers.indexOf(pw);
      if (i < 0) return;
      this.#workers.splice(i, 1);
      for (const b of pw.inFlight.splice(0)) for (const r of b.requests) r.reject(err);
      if (this.#closed) return;
      this.#restarts++;
      this.#opts.onWorkerDied?.(err);
      if (this.#workers.length === 0) this.#failQueued(new PoolUnavailableError(`no inference worker is running (${err.message})`));
      else this.#pump();
      void this.#replace();
    };
    worker.on('error', (err) => died(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => died(new Error(`inference worker exited with code ${code}`)));
  }

  #failQueued(err: Error): void {
    for (const q of this.#queues.values()) for (const r of q.drain()) r.reject(err);
    this.#queued = 0;
  }

  async #replace(): Promise<void> {
    for (let attempt = 0; !this.#closed && this.#workers.length < this.#target; attempt++) {
      try {
        const { worker, models } = await startWorker(this.#init, this.#opts.startTimeoutMs);
        if (this.#closed) {
          await worker.terminate();
          return;
        }
        this.#adopt(worker, models);
        this.#pump();
        return;
      } catch (err) {
        this.#opts.onWorkerDied?.(err instanceof Error ? err : new Error(String(err)));
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)).unref());
      }
    }
  }

  /** Fault injection for tests and operators: the first worker dies on its next batch, failing that batch. */
  crashOneWorker(): void {
    const w = this.#workers[0];
    if (w) w.worker.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  /**
   * Fails every waiting and in-flight request and stops every worker. Workers are asked to finish their current
   * run and exit: terminating a thread while onnxruntime has a run in flight aborts the process. Idempotent.
   */
  async close(exitTimeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const closedErr = new PoolUnavailableError('inference pool closed');
    this.#failQueued(closedErr);
    const workers = this.#workers.splice(0);
    for (const w of workers) for (const b of w.inFlight.splice(0)) for (const r of b.requests) r.reject(closedErr);
    await Promise.all(
      workers.map(async ({ worker }) => {
        const exited = new Promise<boolean>((resolve) => {
          worker.once('exit', () => resolve(true));
          setTimeout(() => resolve(false), exitTimeoutMs).unref();
        });
        worker.postMessage({ type: 'close' } satisfies ToWorker);
        if (!(await exited)) await worker.terminate();
      }),
    );
  }
}
