/**
 * The messages between a `ManagedWorker` and its thread. The envelope is shared (start handshake, requests and
 * answers matched by id, one-way notices and events, close); each kind of worker fills in its own payload types.
 */

/** The payload types of one kind of worker. */
export interface WorkerProtocol {
  /** The thread's workerData. */
  init: unknown;
  /** What the thread reports once started (the inference worker: its loaded models). */
  ready: unknown;
  request: unknown;
  /** What a request resolves with. */
  answer: unknown;
  /** Main thread → worker, answered by nothing. */
  notice: unknown;
  /** Worker → main thread, answering nothing (run statistics). */
  event: unknown;
}

/** Main thread → worker. */
export type ToWorker<P extends WorkerProtocol> =
  | { type: 'request'; id: number; request: P['request'] }
  | { type: 'notice'; notice: P['notice'] }
  /** Finish the work in hand, release what was loaded, exit. */
  | { type: 'close' };

/** One request's outcome. */
export type Answer<T> = { id: number; value: T } | { id: number; error: string };

/** Worker → main thread. */
export type FromWorker<P extends WorkerProtocol> =
  | { type: 'ready'; ready: P['ready'] }
  | { type: 'init-error'; message: string }
  /** One message may answer several requests (a batch run answers all of its windows), with an event about the run. */
  | { type: 'answers'; answers: Array<Answer<P['answer']>>; event?: P['event'] }
  | { type: 'event'; event: P['event'] };
