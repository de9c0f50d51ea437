import { planDue, type QueueView } from './batch-plan.js';
import { BatchQueue } from './batch-queue.js';
import { DecayingAverage } from './decaying-average.js';

export interface BatchSchedulerOptions {
  /** Largest batch of a model: its `maxBatch` (1 for a fixed batch dimension). */
  maxBatch: (model: string) => number;
  /** How long a request may wait for its batch to fill while a worker is idle; 0 never waits. */
  maxDelayMs: number;
  /** Batches a worker may hold: one running, the rest waiting in its message queue (no idle gap between runs). */
  workerDepth?: number;
}

/** A batch to send: which worker (its index in the `inFlight` given to `plan`), which model, which requests. */
export interface Assignment<T> {
  worker: number;
  model: string;
  items: T[];
}

export interface Plan<T> {
  batches: Array<Assignment<T>>;
  /** When to plan again if nothing else happens first (a waiting batch becomes due); undefined: no need. */
  wakeAt: number | undefined;
}

/** Batch statistics since start. */
export interface BatchStats {
  batches: number;
  frames: number;
  /** batch size → how many batches had it. */
  sizes: Record<number, number>;
}

/** How loaded the queues are; times in ms. */
export interface QueueLoad {
  queued: number;
  /** Age of the oldest waiting request. */
  oldestQueuedMs: number;
  /** Recent time requests waited before their run started (see `noteWait`); fades when runs stop finishing. */
  waitMs: number;
}

/**
 * The inference pool's decisions, without threads or timers: requests queue per model (round-robin across sessions,
 * see BatchQueue); `plan` says which batches go to which workers now and when to look again. Idle workers get a
 * batch first, then busy ones a second, so a worker starts its next run without waiting for the main thread. A batch
 * is due when full, when `maxDelayMs` is 0, or when its oldest request has waited `maxDelayMs`; among due models the
 * one with the oldest request goes first. The caller passes the time (performance.now()).
 */
export class BatchScheduler<T> {
  readonly #opts: Required<BatchSchedulerOptions>;
  readonly #queues = new Map<string, BatchQueue<T>>();
  readonly #stats: BatchStats = { batches: 0, frames: 0, sizes: {} };
  readonly #wait = new DecayingAverage();
  #queued = 0;

  constructor(opts: BatchSchedulerOptions) {
    this.#opts = { ...opts, workerDepth: opts.workerDepth ?? 2 };
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.#queued;
  }

  get stats(): BatchStats {
    return { batches: this.#stats.batches, frames: this.#stats.frames, sizes: { ...this.#stats.sizes } };
  }

  push(model: string, session: string, item: T, at: number): void {
    let q = this.#queues.get(model);
    if (!q) {
      q = new BatchQueue<T>();
      this.#queues.set(model, q);
    }
    q.push(session, item, at);
    this.#queued++;
  }

  /**
   * Takes the batches to send now. `inFlight[i]` is how many batches worker i holds; the returned assignments are
   * already counted in the stats and gone from the queues.
   */
  plan(inFlight: readonly number[], now: number): Plan<T> {
    return planDue(
      () => this.#queues,
      this.#view,
      inFlight,
      this.#opts,
      now,
      (model, worker) => ({ worker, model, items: this.#take(model) }),
    );
  }

  readonly #view: QueueView<string, BatchQueue<T>> = {
    oldest: (q) => q.oldest(),
    full: (model, q) => q.size >= this.#opts.maxBatch(model),
  };

  /** A request waited `ms` (in the queues and behind its worker's running batch) before its run; finished at `now`. */
  noteWait(ms: number, now: number): void {
    this.#wait.add(ms, now);
  }

  load(now: number): QueueLoad {
    let oldest = Infinity;
    for (const q of this.#queues.values()) oldest = Math.min(oldest, q.oldest() ?? Infinity);
    return { queued: this.#queued, oldestQueuedMs: oldest === Infinity ? 0 : now - oldest, waitMs: this.#wait.value(now) };
  }

  /** Removes and returns every waiting request (the pool fails them: closed, or no worker left). */
  drain(): T[] {
    const out: T[] = [];
    for (const q of this.#queues.values()) out.push(...q.drain());
    this.#queued = 0;
    return out;
  }

  #take(model: string): T[] {
    const items = this.#queues.get(model)!.take(this.#opts.maxBatch(model));
    this.#queued -= items.length;
    this.#stats.batches++;
    this.#stats.frames += items.length;
    this.#stats.sizes[items.length] = (this.#stats.sizes[items.length] ?? 0) + 1;
    return items;
  }
}
