import { parentPort, workerData, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { Answer, FromWorker, ToWorker, WorkerProtocol } from './worker-protocol.js';

/**
 * The thread's end of a `ManagedWorker`: its workerData, the start handshake, and typed posts. The thread decides
 * how it runs requests (one at a time, batched across streams); this only carries the messages.
 */
export class WorkerPort<P extends WorkerProtocol> {
  readonly init: P['init'];
  readonly #port: MessagePort;

  /** `what` names the module in the error thrown when it is not started as a worker thread. */
  constructor(what: string) {
    if (!parentPort) throw new Error(`${what} must run in a worker thread`);
    this.#port = parentPort;
    this.init = workerData as P['init'];
  }

  /**
   * Loads what the thread needs and reports `ready` with `describe(loaded)`; if loading throws, reports
   * `init-error` and ends the thread (the main thread rejects its start).
   */
  async start<T>(load: () => Promise<T>, describe: (loaded: T) => P['ready']): Promise<T> {
    let loaded: T;
    try {
      loaded = await load();
    } catch (err) {
      this.#post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    }
    this.#post({ type: 'ready', ready: describe(loaded) });
    return loaded;
  }

  /** Messages posted before this is called wait in the port (windows sent while the model loads). */
  onMessage(handler: (msg: ToWorker<P>) => void): void {
    this.#port.on('message', handler);
  }

  answer(id: number, value: P['answer']): void {
    this.answers([{ id, value }]);
  }

  fail(id: number, message: string): void {
    this.answers([{ id, error: message }]);
  }

  /** `event` (the run's statistics) rides along: one message per run, not two. */
  answers(answers: Array<Answer<P['answer']>>, event?: P['event'], transfer?: readonly TransferListItem[]): void {
    this.#post(event === undefined ? { type: 'answers', answers } : { type: 'answers', answers, event }, transfer);
  }

  event(event: P['event']): void {
    this.#post({ type: 'event', event });
  }

  /** Stops listening: with nothing else pending, the thread exits. */
  close(): void {
    this.#port.close();
  }

  #post(msg: FromWorker<P>, transfer?: readonly TransferListItem[]): void {
    this.#port.postMessage(msg, transfer);
  }
}
