/** How the planner reads a queue: when its oldest request arrived (undefined: empty), and whether it fills a batch. */
export interface QueueView<K, Q> {
  oldest(queue: Q): number | undefined;
  full(key: K, queue: Q): boolean;
}

/**
 * The batching rule of the frame scheduler and the raw-request batcher alike. A queue is due when it fills a batch,
 * when its oldest request has waited `maxDelayMs`, or always with `maxDelayMs` 0. Idle workers get the due queue whose
 * oldest request is oldest first, then workers holding one batch, up to `workerDepth` each. `take(key, worker)` makes
 * the batch (and empties the queue by that much); `queues()` is read again after each take. `wakeAt`: when a filling
 * queue becomes due, asked for only while a worker sits idle (a busy worker's answer replans anyway).
 */
export function planDue<K, Q, B>(
  queues: () => Iterable<[K, Q]>,
  view: QueueView<K, Q>,
  inFlight: readonly number[],
  opts: { maxDelayMs: number; workerDepth: number },
  now: number,
  take: (key: K, worker: number) => B,
): { batches: B[]; wakeAt: number | undefined } {
  const held = [...inFlight];
  const batches: B[] = [];
  let wakeAt = Infinity;
  const nextDue = (): K | undefined => {
    let chosen: K | undefined;
    let chosenAt = Infinity;
    for (const [key, q] of queues()) {
      const oldest = view.oldest(q);
      if (oldest === undefined) continue;
      if (!(view.full(key, q) || opts.maxDelayMs <= 0 || now - oldest >= opts.maxDelayMs)) {
        wakeAt = Math.min(wakeAt, oldest + opts.maxDelayMs);
        continue;
      }
      if (oldest < chosenAt) {
        chosen = key;
        chosenAt = oldest;
      }
    }
    return chosen;
  };
  outer: for (let depth = 0; depth < opts.workerDepth; depth++) {
    for (let w = 0; w < held.length; w++) {
      if (held[w] !== depth) continue;
      const key = nextDue();
      if (key === undefined) break outer;
      batches.push(take(key, w));
      held[w]!++;
    }
  }
  return { batches, wakeAt: wakeAt < Infinity && held.some((n) => n === 0) ? wakeAt : undefined };
}
