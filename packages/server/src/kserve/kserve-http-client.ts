/**
 * A client of one model on a KServe v2 (Open Inference Protocol) server over HTTP/REST: Triton, KServe, OpenVINO
 * Model Server, MLServer or `sightline infer-server`. Inference goes as binary tensor data both ways. Each call has a
 * timeout; a failure that may pass (no connection, 502/503/504, a timeout) is retried with backoff; a circuit
 * breaker makes calls fail at once while the server is down, so a session's frames get error results at once rather
 * than waiting out timeouts one by one.
 */
import { CircuitBreaker } from './circuit-breaker.js';
import { HEADER_LENGTH } from './infer-body.js';
import { decodeInferResponse, encodeInferRequest, type InferRequest, type InferResponse } from './infer-messages.js';
import { KserveError, readModelMetadata, type KserveClient, type KserveClientOptions, type ModelMetadata } from './kserve-client.js';
import { TensorDataError } from './tensor-data.js';

// Where they were first defined: importers of this module keep finding them here.
export { KserveError, type ModelMetadata, type TensorMetadata } from './kserve-client.js';

export interface KserveHttpClientOptions extends KserveClientOptions {
  /** `http://host:port` (a path prefix is kept). */
  baseUrl: string;
}

const RETRYABLE = new Set([502, 503, 504]);

export class KserveHttpClient implements KserveClient {
  readonly breaker: CircuitBreaker;
  readonly #opts: Required<Omit<KserveHttpClientOptions, 'version' | 'breaker'>> & { version: string | undefined };
  readonly #modelPath: string;

  constructor(opts: KserveHttpClientOptions) {
    this.#opts = { timeoutMs: 2000, retries: 1, backoffMs: 50, ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, ''), version: opts.version };
    this.breaker = opts.breaker ?? new CircuitBreaker();
    this.#modelPath = `/v2/models/${encodeURIComponent(opts.model)}${opts.version ? `/versions/${encodeURIComponent(opts.version)}` : ''}`;
  }

  /** `GET /v2/health/ready`: true on 200, false on another answer; throws when unreachable. */
  async serverReady(): Promise<boolean> {
    return (await this.#call('GET', '/v2/health/ready')).ok;
  }

  /** `GET /v2/models/{m}/ready`. */
  async modelReady(): Promise<boolean> {
    return (await this.#call('GET', `${this.#modelPath}/ready`)).ok;
  }

  /** `GET /v2/models/{m}`: the model's inputs and outputs. */
  async metadata(): Promise<ModelMetadata> {
    const res = await this.#call('GET', this.#modelPath);
    return readModelMetadata(await this.#json(res), this.#opts.model);
  }

  /** `POST /v2/models/{m}/infer` with binary tensor data, outputs asked as binary data. */
  async infer(req: InferRequest): Promise<InferResponse> {
    const { body, headerLength } = encodeInferRequest({ ...req, binaryOutputs: req.binaryOutputs ?? true }, true);
    const res = await this.#call('POST', `${this.#modelPath}/infer`, body, headerLength);
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      return decodeInferResponse(bytes, res.headers.get(HEADER_LENGTH) ?? undefined);
    } catch (err) {
      throw new KserveError('invalid_response', `inference response: ${err instanceof TensorDataError ? err.message : String(err)}`);
    }
  }

  close(): void {
    // Nothing held: each call is its own request on Node's shared connection pool.
  }

  /**
   * One call: refused at once while the breaker is open; attempts with backoff while the failure may pass. Answers
   * other than 2xx that are not retryable come back for the caller to read (a ready check's 400), except on infer
   * and metadata, which throw `refused` with the server's `{"error": …}` message.
   */
  async #call(method: 'GET' | 'POST', path: string, body?: Uint8Array, headerLength?: number): Promise<Response> {
    if (!this.breaker.allow()) {
      throw new KserveError(
        'unavailable',
        `inference server ${this.#opts.baseUrl} is down (circuit open; next try in ${Math.ceil(this.breaker.retryInMs)} ms)`,
      );
    }
    let last: KserveError | undefined;
    for (let attempt = 0; attempt <= this.#opts.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#opts.backoffMs * 2 ** (attempt - 1)));
      let res: Response;
      try {
        res = await fetch(`${this.#opts.baseUrl}${path}`, {
          method,
          headers: body
            ? {
                'content-type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
                ...(headerLength !== undefined ? { [HEADER_LENGTH]: String(headerLength) } : {}),
              }
            : {},
          ...(body ? { body } : {}),
          signal: AbortSignal.timeout(this.#opts.timeoutMs),
        });
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.#opts.timeoutMs} ms` : 'unreachable';
        last = new KserveError('unavailable', `inference server ${this.#opts.baseUrl}: ${why}`);
        continue;
      }
      if (RETRYABLE.has(res.status)) {
        await res.body?.cancel();
        last = new KserveError('unavailable', `inference server ${this.#opts.baseUrl} answered ${res.status}`, res.status);
        continue;
      }
      this.breaker.succeeded();
      if (!res.ok && (method === 'POST' || !path.endsWith('/ready'))) {
        const msg = ((await res.json().catch(() => null)) as { error?: unknown } | null)?.error;
        throw new KserveError('refused', `inference server answered ${res.status}: ${typeof msg === 'string' ? msg.slice(0, 300) : 'no message'}`, res.status);
      }
      return res;
    }
    this.breaker.failed();
    throw last!;
  }

  async #json(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new KserveError('invalid_response', 'the inference server answered something that is not JSON');
    }
  }
}
