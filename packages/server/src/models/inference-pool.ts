import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { I420Frame } from './i420.js';
import type { ModelSpec } from './model-catalog.js';
import type { FromWorker, RunOutput, ToWorker, WorkerInit } from './worker-messages.js';

export interface InferencePoolOptions {
  /** Worker threads; default one per core. */
  size?: number;
  models: readonly ModelSpec[];
  /** onnxruntime intra-op threads per worker; default 1. */
  intraOpNumThreads?: number;
  /** Runs waiting or in flight across the pool before `run()` refuses more; default 8 per worker. */
  maxPending?: number;
  /** How long a worker may take to load its models. */
  startTimeoutMs?: number;
  /** Called when a worker dies and is replaced. */
  onWorkerDied?: (error: Error) => void;
}

/** Thrown by `run()` when the pool refuses work (closed, or saturated). */
export class PoolUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolUnavailableError';
  }
}

interface Pending {
  resolve: (out: RunOutput) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the requests it owes answers to. */
class PoolWorker {
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

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

function startWorker(init: WorkerInit, timeoutMs: number): Promise<Worker> {
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
        resolve(worker);
      } else if (m.type === 'init-error') {
        cleanup();
        void worker.terminate();
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
 * A fixed set of worker threads, each holding every model. `run()` goes to the least-loaded worker; frames are
 * transferred, not copied, when their buffer allows it. A worker that dies fails its pending runs with an error
 * (never silently) and is replaced.
 */
export class InferencePool {
  readonly #init: WorkerInit;
  readonly #opts: Required<Pick<InferencePoolOptions, 'size' | 'maxPending' | 'startTimeoutMs'>> & InferencePoolOptions;
  readonly #workers: PoolWorker[] = [];
  #nextId = 1;
  #closed = false;
  #restarts = 0;

  private constructor(opts: InferencePoolOptions, size: number) {
    this.#init = { models: [...opts.models], intraOpNumThreads: opts.intraOpNumThreads ?? 1 };
    this.#opts = { ...opts, size, maxPending: opts.maxPending ?? size * 8, startTimeoutMs: opts.startTimeoutMs ?? 30_000 };
  }

  /** Starts every worker and resolves once all have loaded their models. */
  static async create(opts: InferencePoolOptions): Promise<InferencePool> {
    const size = Math.max(1, opts.size ?? availableParallelism());
    const pool = new InferencePool(opts, size);
    const workers = await Promise.all(Array.from({ length: size }, () => startWorker(pool.#init, pool.#opts.startTimeoutMs)));
    for (const w of workers) pool.#adopt(w);
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  get models(): string[] {
    return this.#init.models.map((m) => m.name);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs waiting or in flight. */
  get pending(): number {
    let n = 0;
    for (const w of this.#workers) n += w.pending.size;
    return n;
  }

  /** Workers replaced after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Runs `model` on `frame`. The frame's buffer may be transferred to the worker: do not use it afterwards. */
  run(model: string, frame: I420Frame, minScore: number): Promise<RunOutput> {
    if (this.#closed) return Promise.reject(new PoolUnavailableError('inference pool is closed'));
    if (this.#workers.length === 0) return Promise.reject(new PoolUnavailableError('no inference worker is running'));
    if (this.pending >= this.#opts.maxPending) {
      return Promise.reject(new PoolUnavailableError(`inference pool saturated (${this.pending} runs pending)`));
    }
    let target = this.#workers[0]!;
    for (const w of this.#workers) if (w.pending.size < target.pending.size) target = w;
    const id = this.#nextId++;
    const data = frame.data;
    const transferable = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const msg: ToWorker = { type: 'run', id, model, frame: { width: frame.width, height: frame.height, data }, minScore };
    return new Promise<RunOutput>((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      try {
        target.worker.postMessage(msg, transferable ? [data.buffer as ArrayBuffer] : []);
      } catch {
        // Some native buffers cannot be detached: fall back to a copy.
        target.worker.postMessage({ ...msg, frame: { ...msg.frame, data: data.slice() } });
      }
    });
  }

  #adopt(worker: Worker): void {
    const pw = new PoolWorker(worker);
    this.#workers.push(pw);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'result' || m.type === 'error') {
        const p = pw.pending.get(m.id);
        if (!p) return;
        pw.pending.delete(m.id);
        if (m.type === 'result') p.resolve(m.output);
        else p.reject(new Error(m.message));
      }
    });
    const died = (err: Error): void => {
      const i = this.#workers.indexOf(pw);
      if (i < 0) return;
      this.#workers.splice(i, 1);
      for (const p of pw.pending.values()) p.reject(err);
      pw.pending.clear();
      if (this.#closed) return;
      this.#restarts++;
      this.#opts.onWorkerDied?.(err);
      void this.#replace();
    };
    worker.on('error', (err) => died(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => died(new Error(`inference worker exited with code ${code}`)));
  }

  async #replace(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const w = await startWorker(this.#init, this.#opts.startTimeoutMs);
        if (this.#closed) {
          await w.terminate();
          return;
        }
        this.#adopt(w);
        return;
      } catch (err) {
        this.#opts.onWorkerDied?.(err instanceof Error ? err : new Error(String(err)));
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
  }

  /** Fault injection for tests and operators: makes one worker fail as an uncaught error would. */
  crashOneWorker(): void {
    const w = this.#workers[0];
    if (w) w.worker.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  /**
   * Fails every pending run and stops every worker. Workers are asked to finish their current run and exit:
   * terminating a thread while onnxruntime has a run in flight aborts the process. Idempotent.
   */
  async close(exitTimeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const workers = this.#workers.splice(0);
    for (const w of workers) {
      for (const p of w.pending.values()) p.reject(new PoolUnavailableError('inference pool closed'));
      w.pending.clear();
    }
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
