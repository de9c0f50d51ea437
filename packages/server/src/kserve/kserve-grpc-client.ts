/**
 * A client of one model on a KServe v2 (Open Inference Protocol) server over gRPC (`inference.GRPCInferenceService`):
 * Triton, KServe, OpenVINO Model Server, MLServer or `sightline infer-server --grpc-port`. The same surface and the
 * same failure behaviour as `KserveHttpClient`: tensors go as raw contents both ways, each call has a deadline, a
 * call answered UNAVAILABLE (no connection, or the server says it cannot serve now) is retried with backoff, and a
 * circuit breaker makes calls fail at once while the server is down. One channel (one HTTP/2 connection) carries
 * every call; `close()` lets it go.
 */
import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { CircuitBreaker } from './circuit-breaker.js';
import {
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  type GrpcInferRequest,
  type GrpcInferResponse,
  type GrpcModelMetadata,
  type GrpcTensorMetadata,
} from './grpc-messages.js';
import { inferenceService, type InferenceMethod } from './grpc-proto.js';
import type { InferRequest, InferResponse } from './infer-messages.js';
import { KserveError, readModelMetadata, type KserveClient, type KserveClientOptions, type ModelMetadata } from './kserve-client.js';
import { TensorDataError } from './tensor-data.js';

export interface KserveGrpcClientOptions extends KserveClientOptions {
  /** `host:port`, as grpc-js takes a target (no scheme). */
  target: string;
  /** Largest message sent or received (default 64 MiB, the infer-server's HTTP body limit; gRPC's own is 4 MiB). */
  maxMessageBytes?: number;
}

export class KserveGrpcClient implements KserveClient {
  readonly breaker: CircuitBreaker;
  readonly #opts: Required<Omit<KserveGrpcClientOptions, 'version' | 'breaker'>> & { version: string | undefined };
  readonly #client: Client;

  constructor(opts: KserveGrpcClientOptions) {
    this.#opts = { timeoutMs: 2000, retries: 1, backoffMs: 50, maxMessageBytes: 64 * 1024 * 1024, ...opts, version: opts.version };
    this.breaker = opts.breaker ?? new CircuitBreaker();
    this.#client = new Client(opts.target, credentials.createInsecure(), {
      'grpc.max_send_message_length': this.#opts.maxMessageBytes,
      'grpc.max_receive_message_length': this.#opts.maxMessageBytes,
      // grpc-js waits up to 2 minutes between reconnections to a server that went away, failing every call meanwhile:
      // the breaker's probes (a few seconds apart at most) would not see a restarted server for that long. Keep the
      // wait under theirs.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** `ServerReady`: the server's answer; false when it refuses the call; throws when unreachable. */
  async serverReady(): Promise<boolean> {
    return this.#ready('ServerReady', {});
  }

  /** `ModelReady`: false for a model the server does not have (NOT_FOUND), as HTTP's 404 is. */
  async modelReady(): Promise<boolean> {
    return this.#ready('ModelReady', { name: this.#opts.model, version: this.#opts.version ?? '' });
  }

  /** `ModelMetadata`: the model's inputs and outputs. */
  async metadata(): Promise<ModelMetadata> {
    const md = await this.#call<object, Partial<GrpcModelMetadata>>('ModelMetadata', { name: this.#opts.model, version: this.#opts.version ?? '' });
    // int64 dimensions arrive as decimal strings (grpc-proto.ts): numbers, as the HTTP client's JSON gives them.
    const numeric = (list: GrpcTensorMetadata[] | undefined) => list?.map((t) => ({ ...t, shape: t.shape?.map(Number) }));
    return readModelMetadata({ ...md, inputs: numeric(md.inputs), outputs: numeric(md.outputs) }, this.#opts.model);
  }

  /** `ModelInfer`, inputs as raw contents. */
  async infer(req: InferRequest): Promise<InferResponse> {
    const res = await this.#call<GrpcInferRequest, GrpcInferResponse>('ModelInfer', encodeGrpcInferRequest(req, this.#opts.model, this.#opts.version));
    try {
      return decodeGrpcInferResponse(res);
    } catch (err) {
      throw new KserveError('invalid_response', `inference response: ${err instanceof TensorDataError ? err.message : String(err)}`);
    }
  }

  close(): void {
    this.#client.close();
  }

  /** A readiness call: an error answer that is not UNAVAILABLE means "not ready", as a non-2xx does over HTTP. */
  async #ready(method: 'ServerReady' | 'ModelReady', req: object): Promise<boolean> {
    try {
      return (await this.#call<object, { ready?: boolean }>(method, req)).ready === true;
    } catch (err) {
      if (err instanceof KserveError && err.kind === 'refused') return false;
      throw err;
    }
  }

  /**
   * One call: refused at once while the breaker is open; attempts with backoff while the answer is UNAVAILABLE. A
   * passed deadline is `unavailable` (and counts against the breaker) but is not retried: the server may be running
   * the request still, and a second one would only add to its queue past the caller's own wait. Any other error
   * answer is `refused`, with the server's message.
   */
  async #call<Req extends object, Res>(method: InferenceMethod, req: Req): Promise<Res> {
    const target = this.#opts.target;
    if (!this.breaker.allow()) {
      throw new KserveError('unavailable', `inference server ${target} is down (circuit open; next try in ${Math.ceil(this.breaker.retryInMs)} ms)`);
    }
    const def = inferenceService()[method] as MethodDefinition<Req, Res>;
    let last: KserveError | undefined;
    for (let attempt = 0; attempt <= this.#opts.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#opts.backoffMs * 2 ** (attempt - 1)));
      let res: Res;
      try {
        res = await new Promise<Res>((resolve, reject) => {
          this.#client.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            req,
            new Metadata(),
            { deadline: Date.now() + this.#opts.timeoutMs },
            (err, value) => (err ? reject(err) : resolve(value!)),
          );
        });
      } catch (e) {
        const err = e as Partial<ServiceError>;
        if (typeof err.code !== 'number') {
          // Not an answer: grpc-js refused to start the call (the client was closed).
          last = new KserveError('unavailable', `inference server ${target}: ${err.message ?? String(e)}`);
          break;
        }
        if (err.code === status.UNAVAILABLE) {
          last = new KserveError('unavailable', `inference server ${target}: unavailable (${err.details || 'no connection'})`, undefined, err.code);
          continue;
        }
        if (err.code === status.DEADLINE_EXCEEDED) {
          last = new KserveError('unavailable', `inference server ${target}: no answer within ${this.#opts.timeoutMs} ms`, undefined, err.code);
          break;
        }
        // It answered: the server is up, whatever it thought of this call.
        this.breaker.succeeded();
        const name = status[err.code] ?? String(err.code);
        throw new KserveError('refused', `inference server answered ${name}: ${(err.details || 'no message').slice(0, 300)}`, undefined, err.code);
      }
      this.breaker.succeeded();
      return res;
    }
    this.breaker.failed();
    throw last!;
  }
}
