import { availableParallelism } from 'node:os';
import { ManagedWorker } from '../workers/managed-worker.js';
import { workerEntry } from '../workers/worker-entry.js';
import type { Device, ModelInfo, ModelSpec } from './adapters/model-info.js';
import { BatchScheduler, type BatchStats } from './batch-scheduler.js';
import type { DecodeParams } from './detections.js';
import type { I420Frame } from './i420.js';
import type { ItemOutput, RunItem, StageTimes } from './model-io.js';
import { aloneKey, concatRows, RawBatcher, rawBatchKey, rowsSplittable, splitRows, type RawBatchStats } from './raw-batcher.js';
import type { InferenceProtocol, RawAnswer, RawTensor, RunAnswer, WorkerInit } from './worker-messages.js';

export type { BatchStats } from './batch-scheduler.js';
export type { RawBatchStats } from './raw-batcher.js';

export interface InferencePoolOptions {
  /** Worker threads; default one per core. */
  size?: number;
  models: readonly ModelSpec[];
  /** onnxruntime intra-op threads per worker; default 1. */
  intraOpNumThreads?: number;
  device?: Device;
  /**
   * Largest cross-session batch for models with a dynamic batch dimension, and the most rows of client tensors
   * (`runRaw`) concatenated into one run; default 8.
   */
  maxBatch?: number;
  /** How long a request (frame or client tensors) may wait for a batch to fill while a worker is idle; default 0 (never wait). */
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

/** What `runRaw` gives: the model's outputs for the request's rows. */
export interface RawRunResult {
  outputs: RawTensor[];
  /** The whole run in the worker. */
  inferenceMs: number;
  /** How many requests shared the run (1: it ran alone). */
  batchSize: number;
}

/** How loaded the pool is, for admission control and metrics. */
export interface PoolLoad {
  /** Requests waiting for a worker (frames and client tensors). */
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

interface FrameRequest {
  kind: 'frame';
  item: RunItem;
  resolve: (r: RunResult) => void;
  reject: (err: Error) => void;
  /** When `run` was called (performance.now()). */
  at: number;
}

/** Client tensors (`runRaw`); `rows`: their dim 0. */
interface RawRequest {
  kind: 'raw';
  model: string;
  inputs: RawTensor[];
  rows: number;
  resolve: (r: RawRunResult) => void;
  reject: (err: Error) => void;
  at: number;
}

type Request = FrameRequest | RawRequest;

/** One worker thread and the batches it holds (see BatchScheduler's `workerDepth`). */
interface PoolWorker {
  readonly worker: ManagedWorker<InferenceProtocol>;
  readonly inFlight: Request[][];
}

const INFERENCE_WORKER = workerEntry(import.meta.url, './inference-worker');

/**
 * Worker threads that each hold every model, and a scheduler in front of them (BatchScheduler: per-model queues,
 * cross-session batches, round-robin across sessions). Frames are transferred, not copied. Client tensors
 * (`runRaw`) queue beside the frames in a RawBatcher (requests that fit one run concatenated by row); frames are
 * planned first, the raw batches get the workers left. A worker that dies fails its in-flight batches with an error
 * (never silently) and is replaced.
 */
export class InferencePool {
  readonly #init: WorkerInit;
  readonly #opts: InferencePoolOptions & { maxPending: number; startTimeoutMs: number };
  readonly #workers: PoolWorker[] = [];
  readonly #models = new Map<string, ModelInfo>();
  readonly #scheduler: BatchScheduler<FrameRequest>;
  readonly #raw: RawBatcher<RawRequest>;
  /** Models whose outputs once did not split by row: their requests run alone from then on. */
  readonly #rawAlone = new Set<string>();
  readonly #target: number;
  #closed = false;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(opts: InferencePoolOptions, size: number) {
    this.#init = { models: [...opts.models], intraOpNumThreads: opts.intraOpNumThreads ?? 1, device: opts.device ?? 'cpu', maxBatch: opts.maxBatch ?? 8 };
    this.#target = size;
    this.#opts = { ...opts, maxPending: opts.maxPending ?? size * 16, startTimeoutMs: opts.startTimeoutMs ?? 60_000 };
    this.#scheduler = new BatchScheduler({ maxBatch: (model) => this.#models.get(model)!.maxBatch, maxDelayMs: opts.maxDelayMs ?? 0 });
    this.#raw = new RawBatcher({ maxDelayMs: opts.maxDelayMs ?? 0 });
  }

  /** Starts every worker; resolves once all have loaded their models. */
  static async create(opts: InferencePoolOptions): Promise<InferencePool> {
    const size = Math.max(1, opts.size ?? availableParallelism());
    const pool = new InferencePool(opts, size);
    const starting = Array.from({ length: size }, () => pool.#startWorker());
    const started = await Promise.allSettled(starting.map((w) => w.worker.ready));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(starting.map((w) => w.worker.close()));
      throw failed.reason;
    }
    started.forEach((s, i) => {
      if (s.status === 'fulfilled') pool.#adopt(starting[i]!, s.value.models);
    });
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
    let n = this.#scheduler.queued + this.#raw.queued;
    for (const w of this.#workers) for (const b of w.inFlight) n += b.length;
    return n;
  }

  /** Workers replaced after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Current load: queue depth and age, and the recent wait (see PoolLoad). */
  load(): PoolLoad {
    const now = performance.now();
    const { queued, oldestQueuedMs, waitMs } = this.#scheduler.load(now);
    return { queued: queued + this.#raw.queued, pending: this.pending, oldestQueuedMs: Math.max(oldestQueuedMs, this.#raw.oldestQueuedMs(now)), waitMs };
  }

  /** Frame batches (`run`). */
  get batchStats(): BatchStats {
    return this.#scheduler.stats;
  }

  /** Client tensor runs (`runRaw`): worker runs against the requests and rows they held. */
  get rawBatchStats(): RawBatchStats {
    return this.#raw.stats;
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
      const at = performance.now();
      this.#scheduler.push(model, session, { kind: 'frame', item: { frame, params }, resolve, reject, at }, at);
      this.#pump();
    });
  }

  /**
   * Client tensors through one model's graph (`sightline infer-server`), counted against `maxPending` like frames.
   * Requests of a model whose dim 0 is a dynamic batch dimension (every input and output), with the same input
   * names, types and other dims, are concatenated along dim 0 up to `maxBatch` rows (on the same `maxDelayMs` rule
   * as frames) and each gets its own rows of the outputs; any other request runs alone. The input buffers are
   * transferred to a worker when the request runs alone: do not use them afterwards.
   */
  runRaw(model: string, inputs: RawTensor[]): Promise<RawRunResult> {
    if (this.#closed) return Promise.reject(new PoolUnavailableError('inference pool is closed'));
    const info = this.#models.get(model);
    if (!info) return Promise.reject(new Error(`model "${model}" is not loaded`));
    if (this.#workers.length === 0) return Promise.reject(new PoolUnavailableError('no inference worker is running'));
    if (this.pending >= this.#opts.maxPending) {
      return Promise.reject(new PoolUnavailableError(`inference pool saturated (${this.pending} runs pending)`));
    }
    const batchable = this.#init.maxBatch > 1 && !this.#rawAlone.has(model) && rowsSplittable(info);
    const key = batchable ? rawBatchKey(model, inputs) : undefined;
    return new Promise<RawRunResult>((resolve, reject) => {
      const at = performance.now();
      const rows = key?.rows ?? Math.max(1, Number(inputs[0]?.dims[0]) || 1);
      const request: RawRequest = { kind: 'raw', model, inputs, rows, resolve, reject, at };
      if (key) this.#raw.push(key.key, this.#init.maxBatch, request, rows, at);
      else this.#raw.push(aloneKey(model), 1, request, rows, at);
      this.#pump();
    });
  }

  /** Sends the batches the scheduler says are due, and wakes up when a filling batch will be. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    const workers = [...this.#workers];
    const plan = this.#scheduler.plan(
      workers.map((w) => w.inFlight.length),
      now,
    );
    for (const b of plan.batches) this.#dispatch(workers[b.worker]!, b.model, b.items);
    // Client tensors get the room the frames left (a pool serves one or the other in practice: a media server
    // frames, an infer-server client tensors).
    const raw = this.#raw.plan(
      workers.map((w) => w.inFlight.length),
      now,
    );
    for (const b of raw.batches) this.#dispatchRaw(workers[b.worker]!, b.items);
    const wakeAt = Math.min(plan.wakeAt ?? Infinity, raw.wakeAt ?? Infinity);
    if (wakeAt < Infinity) this.#timer = setTimeout(() => this.#pump(), Math.max(0, wakeAt - now));
  }

  #dispatch(w: PoolWorker, model: string, requests: FrameRequest[]): void {
    w.inFlight.push(requests);
    const items = requests.map((r) => r.item);
    let answer: Promise<RunAnswer>;
    try {
      try {
        answer = w.worker.request({ model, items }, transferList(items)) as Promise<RunAnswer>;
      } catch {
        // Some native buffers cannot be detached: fall back to copies.
        answer = w.worker.request({ model, items: items.map((it) => ({ ...it, frame: { ...it.frame, data: it.frame.data.slice() } })) }) as Promise<RunAnswer>;
      }
    } catch (err) {
      settle(w, requests);
      for (const r of requests) r.reject(err instanceof Error ? err : new Error(String(err)));
      queueMicrotask(() => this.#pump());
      return;
    }
    answer.then(
      (a) => {
        settle(w, requests);
        const now = performance.now();
        for (const r of requests) this.#scheduler.noteWait(now - r.at - a.inferenceMs, now);
        requests.forEach((r, i) => r.resolve({ output: a.outputs[i]!, inferenceMs: a.inferenceMs, stages: a.stages, batchSize: requests.length }));
        this.#pump();
      },
      (err: Error) => {
        // An error answer, the worker's death, or close: the batch fails, the others go on.
        settle(w, requests);
        for (const r of requests) r.reject(err);
        this.#pump();
      },
    );
  }

  /**
   * One request's tensors as they are (transferred), or several concatenated by row (a copy: the originals stay, in
   * case the outputs do not split and each must run again alone).
   */
  #dispatchRaw(w: PoolWorker, requests: RawRequest[]): void {
    w.inFlight.push(requests);
    const model = requests[0]!.model;
    const alone = requests.length === 1;
    const fail = (err: Error): void => {
      settle(w, requests);
      for (const r of requests) r.reject(err);
    };
    let answer: Promise<RawAnswer>;
    try {
      const inputs = alone ? requests[0]!.inputs : concatRows(requests.map((r) => r.inputs));
      answer = w.worker.request({ kind: 'raw', model, inputs }, [...new Set(inputs.map((t) => t.data))]) as Promise<RawAnswer>;
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
      queueMicrotask(() => this.#pump());
      return;
    }
    answer.then(
      (a) => {
        settle(w, requests);
        let parts: RawTensor[][];
        try {
          parts = alone
            ? [a.outputs]
            : splitRows(
                a.outputs,
                requests.map((r) => r.rows),
              );
        } catch {
          // An output without one row per input row although the model's metadata said so: these requests run
          // again one by one, and so does every later request of the model.
          this.#rawAlone.add(model);
          if (this.#closed) for (const r of requests) r.reject(new PoolUnavailableError('inference pool closed'));
          else for (const r of requests) this.#raw.push(aloneKey(model), 1, r, r.rows, r.at);
          this.#pump();
          return;
        }
        const now = performance.now();
        for (const r of requests) this.#scheduler.noteWait(now - r.at - a.inferenceMs, now);
        requests.forEach((r, i) => r.resolve({ outputs: parts[i]!, inferenceMs: a.inferenceMs, batchSize: requests.length }));
        this.#pump();
      },
      (err: Error) => {
        // An error answer (the run's, so each of its requests'), the worker's death, or close.
        fail(err);
        this.#pump();
      },
    );
  }

  #startWorker(): PoolWorker {
    const pw: PoolWorker = {
      inFlight: [],
      worker: new ManagedWorker<InferenceProtocol>({
        name: 'inference worker',
        loads: 'its models',
        entry: INFERENCE_WORKER,
        init: this.#init,
        startTimeoutMs: this.#opts.startTimeoutMs,
        onDeath: (err) => this.#died(pw, err),
      }),
    };
    return pw;
  }

  #adopt(w: PoolWorker, models: ModelInfo[]): void {
    for (const m of models) this.#models.set(m.name, m);
    this.#workers.push(w);
  }

  /** Its in-flight batches are rejected by the ManagedWorker (see #dispatch). */
  #died(w: PoolWorker, err: Error): void {
    const i = this.#workers.indexOf(w);
    if (i < 0) return;
    this.#workers.splice(i, 1);
    if (this.#closed) return;
    this.#restarts++;
    this.#opts.onWorkerDied?.(err);
    if (this.#workers.length === 0) this.#failQueued(new PoolUnavailableError(`no inference worker is running (${err.message})`));
    else this.#pump();
    void this.#replace();
  }

  #failQueued(err: Error): void {
    for (const r of this.#scheduler.drain()) r.reject(err);
    for (const r of this.#raw.drain()) r.reject(err);
  }

  async #replace(): Promise<void> {
    for (let attempt = 0; !this.#closed && this.#workers.length < this.#target; attempt++) {
      const w = this.#startWorker();
      try {
        const { models } = await w.worker.ready;
        if (this.#closed) {
          await w.worker.close();
          return;
        }
        this.#adopt(w, models);
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
    this.#workers[0]?.worker.notify({ type: 'crash' });
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
    await Promise.all(workers.map((w) => w.worker.close(exitTimeoutMs, closedErr)));
  }
}

/** Forgets a batch the worker no longer holds (answered, failed, or never sent). */
function settle(w: PoolWorker, batch: Request[]): void {
  const i = w.inFlight.indexOf(batch);
  if (i >= 0) w.inFlight.splice(i, 1);
}

/** The frames' buffers, each once, where a frame owns its whole buffer (a view into a larger one is copied). */
function transferList(items: RunItem[]): ArrayBuffer[] {
  const transfer: ArrayBuffer[] = [];
  for (const it of items) {
    const d = it.frame.data;
    if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer && !transfer.includes(d.buffer)) transfer.push(d.buffer);
  }
  return transfer;
}
