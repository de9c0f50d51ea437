/**
 * Cross-request batching of client tensors (`sightline infer-server`), pure: no threads, no timers. Requests whose
 * tensors can share a run (same model, a dynamic batch dimension, the same input names, element types and dims but
 * the first) get the same key; the requests of one key are concatenated along dim 0 up to `maxRows` rows, run once,
 * and the outputs split back by row. A request that cannot share a run gets a key of its own model's "alone" group,
 * taken one at a time, so that it still waits in the pool (counted, at most two batches per worker) like the others.
 */
import { planDue, type QueueView } from './batch-plan.js';
import type { ValueInfo } from './adapters/adapter.js';
import type { RawTensor } from './worker-messages.js';

/** Bytes per element of the types a run can be split on (BYTES, strings, have no fixed size). */
const ELEMENT_BYTES: Record<string, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  int64: 8,
};

/**
 * Whether a model's runs can hold several requests: every input and output is a tensor whose dim 0 is dynamic, and
 * the same dynamic dim (one symbol, or unnamed everywhere). An output whose dim 0 is another symbol (a detection
 * count…) is not one row per input row and cannot be split.
 */
export function rowsSplittable(model: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] }): boolean {
  const all = [...model.inputs, ...model.outputs];
  if (model.inputs.length === 0 || model.outputs.length === 0) return false;
  const first = all[0]!.shape[0];
  return all.every((v) => {
    const d = v.shape[0];
    const dynamic = typeof d === 'string' || (typeof d === 'number' && d < 0);
    return v.type !== 'non-tensor' && v.shape.length >= 1 && dynamic && (typeof d === 'number' ? typeof first === 'number' : d === first);
  });
}

/** The group of requests of `model` that each run alone. */
export const aloneKey = (model: string): string => `${model}\0alone`;

/**
 * Which requests `inputs` may share a run with, and its rows; undefined when it must run alone: inputs without one
 * common dim 0, repeated names, a type without a fixed size, or data that is not exactly its shape (its error then
 * stays its own). `model` must be `rowsSplittable`.
 */
export function rawBatchKey(model: string, inputs: readonly RawTensor[]): { key: string; rows: number } | undefined {
  if (inputs.length === 0) return undefined;
  const rows = inputs[0]!.dims[0];
  if (rows === undefined || !Number.isInteger(rows) || rows < 1) return undefined;
  if (new Set(inputs.map((t) => t.name)).size !== inputs.length) return undefined;
  const parts: string[] = [];
  for (const t of [...inputs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const size = ELEMENT_BYTES[t.type];
    if (size === undefined || t.dims[0] !== rows || t.dims.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
    if (t.data.byteLength !== t.dims.reduce((a, b) => a * b, size)) return undefined;
    parts.push(`${t.name}\0${t.type}\0${t.dims.slice(1).join(',')}`);
  }
  return { key: `${model}\0${parts.join('\0')}`, rows };
}

/** The requests' tensors (same key) as one batch: each input's rows, request after request, in the first's order. */
export function concatRows(requests: ReadonlyArray<readonly RawTensor[]>): RawTensor[] {
  return requests[0]!.map((t0) => {
    const parts = requests.map((inputs) => inputs.find((t) => t.name === t0.name)!);
    const data = new Uint8Array(parts.reduce((n, t) => n + t.data.byteLength, 0));
    let at = 0;
    for (const t of parts) {
      data.set(new Uint8Array(t.data), at);
      at += t.data.byteLength;
    }
    return { name: t0.name, type: t0.type, dims: [parts.reduce((n, t) => n + t.dims[0]!, 0), ...t0.dims.slice(1)], data: data.buffer };
  });
}

/** A batch's outputs back per request, `rows[i]` rows each; throws when an output does not have one row per input row. */
export function splitRows(outputs: readonly RawTensor[], rows: readonly number[]): RawTensor[][] {
  const total = rows.reduce((a, b) => a + b, 0);
  for (const o of outputs) {
    if (o.dims[0] !== total || o.data.byteLength % total !== 0) {
      throw new Error(`output "${o.name}" has shape [${o.dims.join(', ')}], not ${total} rows: it cannot be split per request`);
    }
  }
  let row = 0;
  return rows.map((n) => {
    const from = row;
    row += n;
    return outputs.map((o) => {
      const rowBytes = o.data.byteLength / total;
      return { name: o.name, type: o.type, dims: [n, ...o.dims.slice(1)], data: o.data.slice(from * rowBytes, row * rowBytes) };
    });
  });
}

export interface RawBatcherOptions {
  /** How long a request may wait for its batch to fill while a worker is idle; 0 never waits. */
  maxDelayMs: number;
  /** Batches a worker may hold (as BatchScheduler's `workerDepth`). */
  workerDepth?: number;
}

/** A batch to send: which worker (its index in `inFlight`), which group, which requests (oldest first). */
export interface RawAssignment<T> {
  worker: number;
  key: string;
  items: T[];
}

/** Raw batches since start: `batches` is the worker runs, `requests` and `rows` what they held. */
export interface RawBatchStats {
  batches: number;
  requests: number;
  rows: number;
}

interface Group<T> {
  maxRows: number;
  rows: number;
  items: Array<{ item: T; rows: number; at: number }>;
}

/** How the batch planner reads a group. */
const RAW_VIEW: QueueView<string, Group<unknown>> = { oldest: (g) => g.items[0]?.at, full: (_key, g) => g.rows >= g.maxRows };

/**
 * The raw requests' queues, one per key, first in first out, and BatchScheduler's rules over them: idle workers
 * first, then a second batch per worker; a group is due when it holds `maxRows` rows, when `maxDelayMs` is 0, or
 * when its oldest request has waited `maxDelayMs`; the due group with the oldest request goes first. A batch takes
 * requests in order while their rows fit (the first always: a request of `maxRows` rows or more runs alone). Empty
 * groups are forgotten, so keys made of client shapes do not pile up. The caller passes the time.
 */
export class RawBatcher<T> {
  readonly #opts: Required<RawBatcherOptions>;
  readonly #groups = new Map<string, Group<T>>();
  readonly #stats: RawBatchStats = { batches: 0, requests: 0, rows: 0 };
  #queued = 0;

  constructor(opts: RawBatcherOptions) {
    this.#opts = { ...opts, workerDepth: opts.workerDepth ?? 2 };
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.#queued;
  }

  get stats(): RawBatchStats {
    return { ...this.#stats };
  }

  /** `maxRows`: the group's largest batch in rows (1 for a group whose requests run alone). */
  push(key: string, maxRows: number, item: T, rows: number, at: number): void {
    let g = this.#groups.get(key);
    if (!g) {
      g = { maxRows, rows: 0, items: [] };
      this.#groups.set(key, g);
    }
    g.items.push({ item, rows, at });
    g.rows += rows;
    this.#queued++;
  }

  /** The batches to send now (gone from the queues, counted in the stats) and when to look again (see BatchScheduler). */
  plan(inFlight: readonly number[], now: number): { batches: Array<RawAssignment<T>>; wakeAt: number | undefined } {
    return planDue(
      () => this.#groups,
      RAW_VIEW,
      inFlight,
      this.#opts,
      now,
      (key, worker) => ({ worker, key, items: this.#take(key) }),
    );
  }

  /** Age of the oldest waiting request, ms (0 when none waits). */
  oldestQueuedMs(now: number): number {
    let oldest = Infinity;
    for (const g of this.#groups.values()) oldest = Math.min(oldest, g.items[0]!.at);
    return oldest === Infinity ? 0 : now - oldest;
  }

  /** Removes and returns every waiting request. */
  drain(): T[] {
    const out: T[] = [];
    for (const g of this.#groups.values()) for (const e of g.items) out.push(e.item);
    this.#groups.clear();
    this.#queued = 0;
    return out;
  }

  #take(key: string): T[] {
    const g = this.#groups.get(key)!;
    const out: T[] = [];
    let rows = 0;
    while (g.items.length > 0 && (out.length === 0 || rows + g.items[0]!.rows <= g.maxRows)) {
      const e = g.items.shift()!;
      out.push(e.item);
      rows += e.rows;
    }
    g.rows -= rows;
    if (g.items.length === 0) this.#groups.delete(key);
    this.#queued -= out.length;
    this.#stats.batches++;
    this.#stats.requests += out.length;
    this.#stats.rows += rows;
    return out;
  }
}
