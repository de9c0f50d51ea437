/**
 * What a media node needs of a KServe v2 (Open Inference Protocol) server, whichever way it is spoken: over HTTP/REST
 * (`KserveHttpClient`) or gRPC (`KserveGrpcClient`). `KserveRunner` holds one of these; both clients give the same
 * answers, the same `KserveError`s and the same breaker behaviour, so a model moves from one protocol to the other by
 * its `--model` URL alone.
 */
import type { CircuitBreaker } from './circuit-breaker.js';
import type { InferRequest, InferResponse } from './infer-messages.js';
import { isDatatype, type Datatype } from './tensor-data.js';

/**
 * `unavailable`: the server could not be reached or is down (retried, or the breaker is open); `refused`: it answered
 * with an error; `invalid_response`: it answered something that is not the protocol. `status` is the HTTP status
 * (HTTP client), `grpcCode` the gRPC status code (gRPC client), of the answer that made the error.
 */
export class KserveError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'refused' | 'invalid_response',
    message: string,
    readonly status?: number,
    readonly grpcCode?: number,
  ) {
    super(message);
    this.name = 'KserveError';
  }
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** Options both clients take. */
export interface KserveClientOptions {
  model: string;
  version?: string | undefined;
  /** Per attempt (default 2000 ms). */
  timeoutMs?: number;
  /** Attempts after the first for failures that may pass (default 1). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default 50 ms). */
  backoffMs?: number;
  breaker?: CircuitBreaker;
}

/** One model on one KServe v2 server. */
export interface KserveClient {
  readonly breaker: CircuitBreaker;
  /** Whether the server is ready; throws (`unavailable`) when it cannot be reached. */
  serverReady(): Promise<boolean>;
  /** Whether the model is ready: false for a model the server does not have. */
  modelReady(): Promise<boolean>;
  /** The model's inputs and outputs. */
  metadata(): Promise<ModelMetadata>;
  /** One inference, inputs and outputs as binary data (HTTP's extension, gRPC's raw contents). */
  infer(req: InferRequest): Promise<InferResponse>;
  /** Lets go of what the client holds (a gRPC channel); calls after it fail. */
  close(): void;
}

/**
 * A model metadata answer, checked: each tensor a `{name, datatype, shape}` with integer dimensions. Shared by both
 * clients so that a server's odd metadata is refused the same way over either protocol.
 */
export function readModelMetadata(body: unknown, model: string): ModelMetadata {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<Record<keyof ModelMetadata, unknown>>;
  const tensors = (list: unknown, what: string): TensorMetadata[] => {
    if (!Array.isArray(list)) throw new KserveError('invalid_response', `model metadata has no ${what} list`);
    return list.map((t: { name?: unknown; datatype?: unknown; shape?: unknown } | null, i) => {
      if (typeof t?.name !== 'string' || !isDatatype(t.datatype) || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d))) {
        throw new KserveError('invalid_response', `model metadata ${what}[${i}] is not {name, datatype, shape}`);
      }
      return { name: t.name, datatype: t.datatype, shape: t.shape as number[] };
    });
  };
  return {
    name: typeof b.name === 'string' && b.name !== '' ? b.name : model,
    versions: Array.isArray(b.versions) ? b.versions.map(String) : [],
    platform: typeof b.platform === 'string' ? b.platform : '',
    inputs: tensors(b.inputs, 'inputs'),
    outputs: tensors(b.outputs, 'outputs'),
  };
}
