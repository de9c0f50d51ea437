import { Worker, type TransferListItem } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerProtocol } from './worker-protocol.js';

export interface ManagedWorkerOptions<P extends WorkerProtocol> {
  /** How messages name it: "inference worker". */
  name: string;
  /** What it loads, for start errors: "its models". */
  loads: string;
  /** See `workerEntry()`. */
  entry: URL;
  init: P['init'];
  /** How long the thread may take to report `ready`; after that it is terminated and `ready` rejects. */
  startTimeoutMs: number;
  /** Makes the Error a request is rejected with, from a message (default: `Error`). Not used for `close(_, reason)`. */
  error?: (message: string) => Error;
  /** The thread died after it was ready, not by `close()`. Its pending requests are already rejected. */
  onDeath?: (error: Error) => void;
  onEvent?: (event: P['event']) => void;
}

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  group: number | string | undefined;
}

type State = 'starting' | 'ready' | 'dead' | 'closed';

/**
 * One worker thread and its requests. Starts the thread and waits for its `ready` (or `init-error`, or a timeout);
 * sends requests and settles each with the answer carrying its id. Every request settles: answered, or rejected when
 * the thread dies (at any time, starting included), when it is closed, or when its group is cancelled. `close()`
 * asks the thread to finish and exit, and terminates it only after a timeout: terminating a thread while
 * onnxruntime runs aborts the process.
 */
export class ManagedWorker<P extends WorkerProtocol> {
  /** Resolves with what the thread reported once started; rejects if it dies, times out or is closed first. */
  readonly ready: Promise<P['ready']>;
  /** Resolves with the thread's exit code once it has exited, however it ended. */
  readonly exited: Promise<number>;
  readonly #opts: ManagedWorkerOptions<P>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending<P['answer']>>();
  readonly #startTimer: NodeJS.Timeout;
  #settleReady!: { resolve: (ready: P['ready']) => void; reject: (error: Error) => void };
  #state: State = 'starting';
  /** Why requests are refused once the thread is dead or closed. */
  #ended: Error | undefined;
  #closing: Promise<void> | undefined;
  #nextId = 1;

  constructor(opts: ManagedWorkerOptions<P>) {
    this.#opts = opts;
    this.ready = new Promise((resolve, reject) => (this.#settleReady = { resolve, reject }));
    // A start failure is also reported through the requests it rejects; whoever awaits `ready` still sees it.
    this.ready.catch(() => {});
    this.#worker = new Worker(opts.entry, { workerData: opts.init });
    this.exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#startTimer = setTimeout(() => this.#died(new Error(`${opts.name} did not load ${opts.loads} within ${opts.startTimeoutMs} ms`)), opts.startTimeoutMs);
    this.#startTimer.unref();
    this.#worker.on('message', (m: FromWorker<P>) => this.#receive(m));
    this.#worker.on('error', (err) => this.#died(err instanceof Error ? err : new Error(String(err))));
    this.#worker.on('exit', (code) => this.#died(new Error(`${opts.name} exited with code ${code}${this.#state === 'starting' ? ' while starting' : ''}`)));
  }

  /** Starting or ready: requests are sent (before `ready` they wait in the thread's queue). */
  get running(): boolean {
    return this.#state === 'starting' || this.#state === 'ready';
  }

  /** Requests sent and not yet settled. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Sends `request` (moving `transfer`) and resolves with its answer. Throws, with nothing pending, when the message
   * cannot be posted (a buffer that cannot be transferred); rejects at once when the thread is dead or closed.
   * `group` lets `cancel` reject a caller's requests together (the VAD's streams).
   */
  request(request: P['request'], transfer?: readonly TransferListItem[], group?: number | string): Promise<P['answer']> {
    if (!this.running) return Promise.reject(this.#ended ?? new Error(`${this.#opts.name} is not running`));
    const id = this.#nextId++;
    this.#post({ type: 'request', id, request }, transfer);
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, group }));
  }

  /** A one-way message; dropped when the thread is dead or closed. */
  notify(notice: P['notice']): void {
    if (this.running) this.#post({ type: 'notice', notice });
  }

  /** Rejects `group`'s pending requests with `reason` now; answers that still come for them are ignored. */
  cancel(group: number | string, reason: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.group !== group) continue;
      this.#pending.delete(id);
      p.reject(reason);
    }
  }

  /**
   * Rejects every pending request (and a `ready` still awaited) with `reason`, asks the thread to finish and exit,
   * and terminates it if it has not exited after `exitTimeoutMs`. Idempotent; resolves once the thread is gone.
   */
  close(exitTimeoutMs = 5000, reason: Error = this.#error(`${this.#opts.name} closed`)): Promise<void> {
    if (this.#closing) return this.#closing;
    const wasRunning = this.running;
    this.#end('closed', reason);
    this.#closing = wasRunning ? this.#stop(exitTimeoutMs) : this.exited.then(() => undefined);
    return this.#closing;
  }

  async #stop(exitTimeoutMs: number): Promise<void> {
    try {
      this.#post({ type: 'close' });
    } catch {
      // The port is already gone; terminate below.
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), exitTimeoutMs).unref())),
    ]);
    clearTimeout(timer);
    if (timedOut) await this.#worker.terminate();
  }

  #receive(m: FromWorker<P>): void {
    switch (m.type) {
      case 'ready':
        if (this.#state !== 'starting') return;
        this.#state = 'ready';
        clearTimeout(this.#startTimer);
        this.#settleReady.resolve(m.ready);
        return;
      case 'init-error':
        this.#died(new Error(`${this.#opts.name} failed to load ${this.#opts.loads}: ${m.message}`));
        return;
      case 'answers':
        // The event first: a caller reading statistics when its answer resolves sees this run in them.
        if (m.event !== undefined) this.#opts.onEvent?.(m.event);
        for (const a of m.answers) {
          const p = this.#pending.get(a.id);
          if (!p) continue;
          this.#pending.delete(a.id);
          if ('error' in a) p.reject(this.#error(a.error));
          else p.resolve(a.value);
        }
        return;
      case 'event':
        this.#opts.onEvent?.(m.event);
        return;
    }
  }

  /** The first of error, exit, init-error or start timeout; later ones (exit follows error) change nothing. */
  #died(err: Error): void {
    if (!this.running) return;
    const wasReady = this.#state === 'ready';
    this.#end('dead', this.#error(err.message));
    // A thread that failed to start may still be loading: stop it (no onnxruntime run is in flight yet).
    if (!wasReady) void this.#worker.terminate();
    else this.#opts.onDeath?.(err);
  }

  #end(state: 'dead' | 'closed', reason: Error): void {
    if (this.#state === 'starting') this.#settleReady.reject(reason);
    this.#state = state;
    this.#ended = reason;
    clearTimeout(this.#startTimer);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(reason);
  }

  #post(msg: ToWorker<P>, transfer?: readonly TransferListItem[]): void {
    this.#worker.postMessage(msg, transfer);
  }

  #error(message: string): Error {
    return this.#opts.error ? this.#opts.error(message) : new Error(message);
  }
}
